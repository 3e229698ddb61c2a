/* evv_cli.h -- evview's command line.
 *
 *   evview [--stall-ms N] [--range T0:T1] FILE [FILE...]      open the window
 *   evview --png OUT.png [--size WxH] [--range T0:T1] [--stall-ms N] FILE [FILE...]
 *
 * Several files (up to EVV_MAX_FILES) are drawn one above the other on one
 * time axis. A file may be given as LABEL=FILE ("client=out/lg.evtrace"):
 * its section is titled "LABEL: process (pid)". An argument that names an
 * existing file is always a file, '=' or not.
 *
 * --range takes times since the (earliest) trace start; a bare number is in ms, or
 * give a unit: ns, us (or µs), ms, s ("1.5s:3s", "200:450", "10us:2ms").
 * Either side may be empty: ":2s" is from the start, "1s:" to the end.
 * --size defaults to 1600x900. Parsing never prints; it returns a one-line
 * message for the caller to print (exit status 2).
 */
#ifndef EVV_CLI_H
#define EVV_CLI_H

#include <stddef.h>

#include "evv_scene.h"   /* EVV_MAX_FILES */

struct evv_opts {
    const char *files[EVV_MAX_FILES];
    char labels[EVV_MAX_FILES][32];   /* "" when none was given */
    size_t n_files;
    const char *png;        /* NULL: open the window */
    int width, height;
    int has_range;
    double range_t0, range_t1;   /* ns since trace start; t1 < 0: to the end */
    unsigned stall_ms;
    int help;
};

/* Returns 0, or -1 with a message in err. */
int evv_cli_parse(struct evv_opts *o, int argc, char **argv, char *err, size_t errlen);

/* "1.5s" -> 1.5e9; bare numbers are ms. Returns 0 or -1. */
int evv_parse_time(const char *s, double *ns);

/* "T0:T1" (sides may be empty: t0 = 0, t1 = -1). Returns 0 or -1. */
int evv_parse_range(const char *s, double *t0, double *t1);

extern const char evv_cli_usage[];

#endif /* EVV_CLI_H */
