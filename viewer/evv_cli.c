/* evv_cli.c -- argument parsing for evview (see evv_cli.h). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "evv_cli.h"
#include "evv_scene.h"

const char evv_cli_usage[] =
    "usage: evview [--stall-ms N] [--range T0:T1] FILE.evtrace [FILE.evtrace...]\n"
    "       evview --png OUT.png [--size WxH] [--range T0:T1] [--stall-ms N] FILE.evtrace [...]\n"
    "  several files are stacked, first on top, on one time axis (CLOCK_MONOTONIC: the\n"
    "  same clock in every process); up to 8. LABEL=FILE titles a section, e.g.\n"
    "  evview client=out/sync-loadgen.evtrace server=out/sync.evtrace\n"
    "  --range T0:T1  time since the (earliest) trace start; bare numbers are ms,\n"
    "                 units ns us ms s (1.5s:3s)\n"
    "  --stall-ms N   callbacks at least N ms long are stalls (default 100)\n"
    "  --size WxH     PNG size (default 1600x900)\n"
    "exit status: 0 ok, 1 a trace is damaged (what it holds is shown), 2 bad arguments or unreadable file\n";

int evv_parse_time(const char *s, double *ns)
{
    static const struct { const char *unit; double mul; } units[] = {
        { "ns", 1 }, { "us", 1e3 }, { "\xc2\xb5s", 1e3 }, { "ms", 1e6 }, { "s", 1e9 }, { "", 1e6 },
    };
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !isfinite(v) || v < 0)
        return -1;
    while (*end == ' ')
        end++;
    for (size_t i = 0; i < sizeof units / sizeof *units; i++)
        if (strcmp(end, units[i].unit) == 0) {
            *ns = v * units[i].mul;
            return 0;
        }
    return -1;
}

int evv_parse_range(const char *s, double *t0, double *t1)
{
    const char *colon = strchr(s, ':');
    char a[64];
    if (!colon || (size_t)(colon - s) >= sizeof a)
        return -1;
    memcpy(a, s, (size_t)(colon - s));
    a[colon - s] = 0;
    *t0 = 0, *t1 = -1;
    if (a[0] && evv_parse_time(a, t0) < 0)
        return -1;
    if (colon[1] && evv_parse_time(colon + 1, t1) < 0)
        return -1;
    return *t1 < 0 || *t1 > *t0 ? 0 : -1;
}

static int evv__parse_size(const char *s, int *w, int *h)
{
    char x;
    int n = 0;
    if (sscanf(s, "%d%c%d%n", w, &x, h, &n) != 3 || s[n] || (x != 'x' && x != 'X'))
        return -1;
    return *w >= 200 && *h >= 150 && *w <= 16384 && *h <= 16384 ? 0 : -1;
}

static int evv__parse_uint(const char *s, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (end == s || *end || errno || v > 86400000ul || s[0] == '-')
        return -1;
    *out = (unsigned)v;
    return 0;
}

static int evv__option(struct evv_opts *o, int c, const char *arg, char *err, size_t errlen)
{
    switch (c) {
    case 'p': o->png = arg; return 0;
    case 'z':
        if (evv__parse_size(arg, &o->width, &o->height) == 0)
            return 0;
        snprintf(err, errlen, "bad --size '%s' (want WxH, e.g. 1600x900, 200x150 to 16384x16384)", arg);
        return -1;
    case 'r':
        if (evv_parse_range(arg, &o->range_t0, &o->range_t1) == 0)
            return o->has_range = 1, 0;
        snprintf(err, errlen, "bad --range '%s' (want T0:T1 with T1 > T0, e.g. 200:450 (ms) or 1.5s:3s)", arg);
        return -1;
    case 's':
        if (evv__parse_uint(arg, &o->stall_ms) == 0 && o->stall_ms > 0)
            return 0;
        snprintf(err, errlen, "bad --stall-ms '%s' (want a positive number of ms)", arg);
        return -1;
    case 'h': o->help = 1; return 0;
    default: return -1;   /* '?' and ':', which the caller words */
    }
}

/* getopt_long's complaint in words: opt is the argument it stopped at. */
static void evv__bad_option(int c, const char *opt, char *err, size_t errlen)
{
    if (c == ':')
        snprintf(err, errlen, "%s needs a value (see evview --help)", opt);
    else if (optopt > 0 && optopt < 128 && opt[0] == '-' && opt[1] != '-')
        snprintf(err, errlen, "unknown option '-%c' (see evview --help)", optopt);
    else
        snprintf(err, errlen, "unknown option '%s' (see evview --help)", opt);
}

/* FILE or LABEL=FILE; an existing file named "a=b" stays a file. */
static void evv__file_arg(struct evv_opts *o, const char *arg)
{
    const char *eq = strchr(arg, '=');
    size_t n = o->n_files++;
    o->files[n] = arg;
    o->labels[n][0] = 0;
    if (!eq || eq == arg || eq[1] == 0 || (size_t)(eq - arg) >= sizeof o->labels[n] ||
        memchr(arg, '/', (size_t)(eq - arg)) || access(arg, F_OK) == 0)
        return;
    memcpy(o->labels[n], arg, (size_t)(eq - arg));
    o->labels[n][eq - arg] = 0;
    o->files[n] = eq + 1;
}

int evv_cli_parse(struct evv_opts *o, int argc, char **argv, char *err, size_t errlen)
{
    static const struct option longs[] = {
        { "png", required_argument, NULL, 'p' },    { "size", required_argument, NULL, 'z' },
        { "range", required_argument, NULL, 'r' },  { "stall-ms", required_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },         { NULL, 0, NULL, 0 },
    };
    int c;
    memset(o, 0, sizeof *o);
    o->width = 1600, o->height = 900, o->stall_ms = EVV_STALL_MS_DEFAULT;
    optind = 0;   /* glibc: full reset, so tests may parse several times */
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longs, NULL)) != -1)
        if (evv__option(o, c, optarg, err, errlen) < 0) {
            if (c == '?' || c == ':')
                evv__bad_option(c, argv[optind - 1], err, errlen);
            return -1;
        }
    if (o->help)
        return 0;
    if (optind >= argc || argc - optind > EVV_MAX_FILES) {
        snprintf(err, errlen, optind >= argc ? "no trace file given (see evview --help)"
                                             : "more than 8 trace files given");
        return -1;
    }
    for (; optind < argc; optind++)
        evv__file_arg(o, argv[optind]);
    for (size_t i = 0; o->png && i < o->n_files; i++)
        if (evt_same_file(o->png, o->files[i])) {
            snprintf(err, errlen, "--png %s is also a trace to draw: writing it would destroy that trace", o->png);
            return -1;
        }
    return 0;
}
