/* evtrace_main.c -- the `evtrace` command: stats, export, record.
 *
 * Exit status: 0 success; 1 the trace is damaged (the output is still
 * produced from everything before the damage, and a warning goes to
 * stderr); 2 nothing useful could be done: a bad argument, an unreadable
 * or foreign file, an output that cannot be written. Every error is one
 * line on stderr.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "evt_export.h"
#include "evt_model.h"
#include "evt_record.h"
#include "evt_stats.h"
#include "evtrace.h"

#define EVTRACE_VERSION "0.1.0"

static const char usage[] =
    "usage: evtrace <command> [options]\n"
    "\n"
    "commands:\n"
    "  stats [--json] [--stall-ms N] FILE     summary: loop busy/poll time, callback and\n"
    "                                         request latencies, stalls (callbacks >= N ms,\n"
    "                                         default 100)\n"
    "  export --format chrome -o OUT FILE...  Chrome Trace Event JSON for Perfetto or\n"
    "                                         chrome://tracing (-o - writes to stdout)\n"
    "  record [options] -- PROGRAM [ARGS...]  run PROGRAM with the tracer preloaded\n"
    "  help, --help                           this text\n"
    "  help COMMAND, COMMAND --help           what COMMAND does, and its options\n"
    "  --version                              print the version\n"
    "\n"
    "exit status: 0 ok, 1 damaged trace (output still written), 2 error\n";

static const char usage_stats[] =
    "usage: evtrace stats [--json] [--stall-ms N] FILE\n"
    "\n"
    "Sums up a trace: its loops (iterations, busy and poll time), its callbacks\n"
    "and requests (count, latency percentiles, most requests in flight at once),\n"
    "the slowest callbacks, and the stalls: callbacks that held the loop for N ms\n"
    "or more. A damaged trace is summed up to its last good record (status 1).\n"
    "\n"
    "  --json          one JSON object instead of text (its keys: docs/READER.md)\n"
    "  --stall-ms N    what counts as a stall, in ms (default 100)\n";

static const char usage_export[] =
    "usage: evtrace export --format chrome -o OUT FILE...\n"
    "\n"
    "Writes the trace as Chrome Trace Event JSON, which Perfetto (ui.perfetto.dev)\n"
    "and chrome://tracing open: callbacks and poll waits as complete events,\n"
    "requests and connection lanes as async events that overlap as lanes, the\n"
    "requests in flight as a counter, and the threads' names. Streams: memory\n"
    "does not grow with the trace. A damaged trace is exported up to its last\n"
    "good record (status 1). Several traces (a program and the children\n"
    "record --follow-fork traced) go into one document, a process each, on one\n"
    "time axis.\n"
    "\n"
    "  -f, --format chrome   the format (chrome is the one there is)\n"
    "  -o, --output OUT      the file to write; - writes to stdout\n";

/* One line on stderr, exit status 2. */
static int bad(const char *cmd, const char *fmt, const char *arg)
{
    fprintf(stderr, "evtrace%s%s: ", cmd ? " " : "", cmd ? cmd : "");
    fprintf(stderr, fmt, arg);
    fputs(" (see evtrace --help)\n", stderr);
    return 2;
}

static int open_reader(const char *cmd, const char *path, evt_reader **r)
{
    char msg[256];
    int rc = evt_reader_open_msg(r, path, msg, sizeof msg);
    if (rc < 0)
        fprintf(stderr, "evtrace %s: %s: %s\n", cmd, path, msg[0] ? msg : evt_strerror(rc));
    return rc;
}

static int damaged_status(const char *path, const char *error)
{
    fprintf(stderr, "evtrace: warning: %s is damaged, showing what comes before: %s\n", path, error);
    return 1;
}

/* ---- stats ------------------------------------------------------------- */

struct stats_args {
    int json;
    double stall_ms;
    const char *file;
};

static int parse_stats(int argc, char **argv, struct stats_args *a)
{
    static const struct option opts[] = {
        { "json", no_argument, NULL, 'j' },
        { "stall-ms", required_argument, NULL, 's' },
        { NULL, 0, NULL, 0 },
    };
    a->stall_ms = EVT_STATS_DEFAULT_STALL_NS / 1e6;
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        if (c == 'j') {
            a->json = 1;
        } else if (c == 's') {
            a->stall_ms = strtod(optarg, &end);
            if (end == optarg || *end || !isfinite(a->stall_ms) || a->stall_ms < 0 || a->stall_ms > 1e9)
                return bad("stats", "--stall-ms wants milliseconds (a number >= 0), not '%s'", optarg);
        } else if (c == ':') {
            return bad("stats", "%s needs a value", argv[optind - 1]);
        } else {
            return bad("stats", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return bad("stats", "%s", optind == argc ? "which trace file?" : "give exactly one trace file");
    a->file = argv[optind];
    return 0;
}

/* Flushes f and tells whether every write to it worked: fflush alone says
 * 0 when the failed writes already emptied the buffer (stdout on a full
 * disk, /dev/full), so the stream's error flag counts too. On failure,
 * says so on stderr, with errno's reason when the failure set one. */
static int output_ok(const char *cmd, FILE *f, const char *what)
{
    errno = 0;
    if (fflush(f) == 0 && !ferror(f))
        return 1;
    fprintf(stderr, "evtrace %s: writing %s: %s\n", cmd, what, errno ? strerror(errno) : "write error");
    return 0;
}

static int cmd_stats(int argc, char **argv)
{
    struct stats_args a = { 0 };
    if (parse_stats(argc, argv, &a))
        return 2;
    evt_reader *r;
    if (open_reader("stats", a.file, &r) < 0)
        return 2;
    struct evt_model m;
    int rc = evt_model_load(&m, r, NULL, NULL);
    evt_reader_close(r);
    if (rc < 0 && !m.damaged) {
        fprintf(stderr, "evtrace stats: %s: %s\n", a.file, evt_strerror(rc));
        return 2;
    }
    struct evt_stats s;
    rc = evt_stats_compute(&s, &m, (uint64_t)(a.stall_ms * 1e6 + 0.5));
    if (rc == 0) {
        s.file = a.file;
        rc = a.json ? evt_stats_print_json(&s, stdout) : evt_stats_print_text(&s, stdout);
        evt_stats_free(&s);
    }
    int status = rc < 0 ? 2 : m.damaged ? damaged_status(a.file, m.error) : 0;
    if (rc < 0)
        fprintf(stderr, "evtrace stats: %s\n", evt_strerror(rc));
    else if (!output_ok("stats", stdout, "the standard output"))
        status = 2;
    evt_model_free(&m);
    return status;
}

/* ---- export ------------------------------------------------------------ */

static int parse_export(int argc, char **argv, const char **outp)
{
    static const struct option opts[] = {
        { "format", required_argument, NULL, 'f' },
        { "output", required_argument, NULL, 'o' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, ":f:o:", opts, NULL)) != -1) {
        if (c == 'f') {
            if (strcmp(optarg, "chrome") != 0)
                return bad("export", "unknown format '%s' (there is: chrome)", optarg);
        } else if (c == 'o') {
            *outp = optarg;
        } else if (c == ':') {
            return bad("export", "%s needs a value", argv[optind - 1]);
        } else {
            return bad("export", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (!*outp)
        return bad("export", "%s", "where to? give -o OUT.json (or -o - for stdout)");
    if (optind == argc)
        return bad("export", "%s", "which trace file?");
    for (int i = optind; i < argc; i++)
        if (strcmp(*outp, "-") != 0 && evt_same_file(*outp, argv[i]))
            return bad("export", "-o %s is also an input: writing it would destroy that trace", *outp);
    return 0;
}

/* Opens files[0..n) into rs; on failure closes those opened and returns -1
 * (the error said). */
static int open_readers(char **files, int n, evt_reader **rs)
{
    for (int i = 0; i < n; i++) {
        if (open_reader("export", files[i], &rs[i]) < 0) {
            while (i-- > 0)
                evt_reader_close(rs[i]);
            return -1;
        }
    }
    return 0;
}

/* Each damaged trace gets its warning; 1 if any was. */
static int damaged_any(char **files, int n, evt_reader **rs)
{
    int status = 0;
    for (int i = 0; i < n; i++)
        if (evt_reader_error(rs[i])[0])
            status = damaged_status(files[i], evt_reader_error(rs[i]));
    return status;
}

static int cmd_export(int argc, char **argv)
{
    const char *outp = NULL;
    if (parse_export(argc, argv, &outp))
        return 2;
    char **files = argv + optind;
    int n = argc - optind;
    evt_reader **rs = calloc((size_t)n, sizeof *rs);
    if (!rs || open_readers(files, n, rs) < 0) {
        if (!rs)
            fprintf(stderr, "evtrace export: %s\n", evt_strerror(EVT_ENOMEM));
        free(rs);
        return 2;
    }
    int to_stdout = strcmp(outp, "-") == 0;
    FILE *out = to_stdout ? stdout : fopen(outp, "w");
    int written = 0;
    if (!out) {
        fprintf(stderr, "evtrace export: %s: %s\n", outp, strerror(errno));
    } else {
        errno = 0;
        int rc = evt_export_chrome_files(rs, (size_t)n, out);
        written = rc == 0 || rc == EVT_ETRUNC || rc == EVT_EFORMAT;
        if (!written && rc == EVT_EIO && errno)   /* the write's own reason: ENOSPC, EPIPE... */
            fprintf(stderr, "evtrace export: writing %s: %s\n", to_stdout ? "the standard output" : outp,
                    strerror(errno));
        else if (!written)
            fprintf(stderr, "evtrace export: %s: %s\n", outp, evt_strerror(rc));
        else if (!output_ok("export", out, to_stdout ? "the standard output" : outp))
            written = 0;
        if (!to_stdout && fclose(out) != 0 && written) {
            fprintf(stderr, "evtrace export: %s: %s\n", outp, strerror(errno));
            written = 0;
        }
        struct stat st;   /* no half document left behind; but -o /dev/... is not ours to remove */
        if (!written && !to_stdout && lstat(outp, &st) == 0 && S_ISREG(st.st_mode))
            unlink(outp);
    }
    int status = written ? damaged_any(files, n, rs) : 2;
    for (int i = 0; i < n; i++)
        evt_reader_close(rs[i]);
    free(rs);
    return status;
}

static int is_help(const char *a)
{
    return !strcmp(a, "--help") || !strcmp(a, "-h");
}

/* `evtrace help [COMMAND]`, `evtrace --help`: to stdout, status 0. */
static int cmd_help(const char *cmd)
{
    if (!cmd)
        fputs(usage, stdout);
    else if (!strcmp(cmd, "stats"))
        fputs(usage_stats, stdout);
    else if (!strcmp(cmd, "export"))
        fputs(usage_export, stdout);
    else if (!strcmp(cmd, "record"))
        fputs(evt__record_usage, stdout);
    else
        return bad("help", "no command '%s': there are stats, export and record", cmd);
    return 0;
}

/* stats or export with --help among its arguments: its help. (record
 * looks for it itself: the program it runs may take --help.) */
static int wants_help(int argc, char **argv)
{
    for (int i = 2; i < argc; i++)
        if (is_help(argv[i]))
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    opterr = 0;
    if (argc < 2)
        return bad(NULL, "%s", "which command? stats, export or record");
    const char *cmd = argv[1];
    if (!strcmp(cmd, "help") || is_help(cmd))
        return argc > 2 && !strcmp(cmd, "help") ? cmd_help(argv[2]) : cmd_help(NULL);
    if ((!strcmp(cmd, "stats") || !strcmp(cmd, "export")) && wants_help(argc, argv))
        return cmd_help(cmd);
    if (!strcmp(cmd, "stats"))
        return cmd_stats(argc - 1, argv + 1);
    if (!strcmp(cmd, "export"))
        return cmd_export(argc - 1, argv + 1);
    if (!strcmp(cmd, "record"))
        return evt__record_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "--version")) {
        printf("evtrace %s (format %d.%d)\n", EVTRACE_VERSION, EVT_VERSION_MAJOR, EVT_VERSION_MINOR);
        return 0;
    }
    return bad(NULL, "unknown command '%s'", cmd);
}
