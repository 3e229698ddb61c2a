/* test_args_fuzz.c -- every program's command line, mutated.
 *
 * The standard (README): a bad argument gets a one-line message and exit
 * status 2; nothing crashes. The hand-written cases live with each tool
 * (test_cli, test_render_png, the sample tests); this sweeps further: good
 * command lines of evtrace (stats, export, record, help), evview --png and
 * every sample program have arguments dropped, repeated, swapped, or
 * replaced by tokens that trip parsers (empty, "-", "--", huge, negative,
 * NaN, hex, format directives, a 5,000-character word, unknown options).
 * Each run happens in a fresh directory holding a copy of a good trace, so
 * whatever a mutated -o overwrites is a copy. What must hold:
 *   - no run is ended by a signal it did not get from us;
 *   - the status is one the program documents: 0, 1 (a runtime failure)
 *     or 2 (bad arguments); record also 126 and 127, for a program it
 *     cannot run;
 *   - status 2 comes with exactly one line on stderr;
 *   - a tool finishes within 20 s; a server that starts ("listening on")
 *     stops with status 0 on SIGTERM.
 * A failing command line is printed. Deterministic (a fixed seed);
 * EVT_FUZZ_RUNS=N makes N picks per test instead of 400/500, EVT_FUZZ_SEED=S
 * another sequence (ts_rng, test_samples_util.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_samples_util.h"

#define MAX_ARGS 24
#define TOOL_MS 20000
#define LONG_WORD 5000

/* What kind of program, for what its status may be. */
enum prog_kind { PK_TOOL, PK_RECORD, PK_SERVER, PK_CLIENT };

struct base {
    enum prog_kind kind;
    const char *prog;              /* under EVT_BUILD_DIR */
    const char *args[MAX_ARGS];    /* NULL-terminated */
};

static const struct base bases[] = {
    {PK_TOOL, "tracer/evtrace", {"stats", "good.evtrace", NULL}},
    {PK_TOOL, "tracer/evtrace", {"stats", "--json", "--stall-ms", "20", "good.evtrace", NULL}},
    {PK_TOOL, "tracer/evtrace", {"export", "--format", "chrome", "-o", "out.json", "good.evtrace", NULL}},
    {PK_TOOL, "tracer/evtrace", {"export", "-o", "-", "good.evtrace", "good.evtrace", NULL}},
    {PK_TOOL, "tracer/evtrace", {"help", "record", NULL}},
    {PK_RECORD, "tracer/evtrace", {"record", "-o", "rec.evtrace", "--stall-ms", "5", "--", "/bin/true", NULL}},
    {PK_TOOL, "viewer/evview", {"--png", "out.png", "--size", "320x200", "good.evtrace", NULL}},
    {PK_TOOL, "viewer/evview",
     {"--png", "out.png", "--size", "300x200", "--range", "1ms:2ms", "--stall-ms", "5", "a=good.evtrace", NULL}},
    {PK_SERVER, "samples/async_server", {"--port", "0", "--delay-ms", "0", "--idle-timeout-ms", "100", NULL}},
    {PK_SERVER, "samples/sync_server", {"--port", "0", "--bind", "127.0.0.1", "--delay-ms", "1", NULL}},
    {PK_SERVER, "samples/crud_api",
     {"--port", "0", "--db", "x.db", "--db-mode", "offload", "--workers", "2", "--db-latency-ms", "0", NULL}},
    {PK_CLIENT, "samples/loadgen", {"-n", "2", "-c", "2", "--timeout-ms", "300", "http://127.0.0.1:1/", NULL}},
    {PK_CLIENT, "samples/loadgen", {"--scenario", "crud", "--json", "--timeout-ms", "300", "http://127.0.0.1:1/", NULL}},
};

static const char *const tokens[] = {
    "", "-", "--", "-1", "0", "99999999999999999999", "1e309", "nan", "0x10", "%s%n%x", "--bogus", "-o",
    "--png", "--stall-ms", "1:", ":2", "5x", "16385x10", "/nonexistent/dir/file", "good.evtrace", NULL /* long */,
};

struct cmdline {
    const char *argv[MAX_ARGS + 2];
    int argc;
};

static void mutate(struct cmdline *c, struct ts_rng *r, const char *long_word)
{
    int at = (int)ts_rng_below(r, (uint32_t)c->argc - 1) + 1;   /* never argv[0] */
    size_t nt = sizeof tokens / sizeof tokens[0];
    switch (ts_rng_below(r, 4)) {
    case 0:   /* drop */
        if (c->argc > 1) {
            memmove(&c->argv[at], &c->argv[at + 1], (size_t)(c->argc - at) * sizeof c->argv[0]);
            c->argc--;
        }
        break;
    case 1:   /* repeat (there must be one: at may be argc when all were dropped) */
        if (c->argc < MAX_ARGS && at < c->argc) {
            memmove(&c->argv[at + 1], &c->argv[at], (size_t)(c->argc - at + 1) * sizeof c->argv[0]);
            c->argc++;
        }
        break;
    case 2: { /* swap with the next */
        if (at + 1 < c->argc) {
            const char *t = c->argv[at];
            c->argv[at] = c->argv[at + 1];
            c->argv[at + 1] = t;
        }
        break;
    }
    default: { /* replace by a token */
        const char *t = tokens[ts_rng_below(r, (uint32_t)nt)];
        if (at < c->argc)
            c->argv[at] = t ? t : long_word;
    }
    }
}

static void make_cmdline(struct cmdline *c, const struct base *b, const char *path, struct ts_rng *r,
                         const char *long_word)
{
    c->argv[0] = path;
    c->argc = 1;
    for (int i = 0; b->args[i]; i++)
        c->argv[c->argc++] = b->args[i];
    c->argv[c->argc] = NULL;
    for (uint32_t k = 1 + ts_rng_below(r, 3); k > 0; k--)
        mutate(c, r, long_word);
    c->argv[c->argc] = NULL;
}

static long ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static int file_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    int n = 0, ch;
    while (f && (ch = fgetc(f)) != EOF)
        n += ch == '\n';
    if (f)
        fclose(f);
    return n;
}

static int file_has(const char *path, const char *needle)
{
    char buf[4096] = "";
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
    return strstr(buf, needle) != NULL;
}

static pid_t spawn(const struct cmdline *c, const char *dir)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (chdir(dir) < 0)
            _exit(120);
        int in = open("/dev/null", O_RDONLY), out = open("out.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644),
            err = open("err.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(in, 0), dup2(out, 1), dup2(err, 2);
        unsetenv("DISPLAY");
        unsetenv("WAYLAND_DISPLAY");
        execv(c->argv[0], (char *const *)c->argv);
        _exit(121);
    }
    return pid;
}

/* Waits for pid until the deadline; a server that announces itself gets
 * SIGTERM (once). Returns the wait status, or -1 on timeout (killed). */
static int wait_run(pid_t pid, const char *dir, int server, int *stopped)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char out[512];
    snprintf(out, sizeof out, "%s/out.txt", dir);
    *stopped = 0;
    for (;;) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid)
            return st;
        if (server && !*stopped && file_has(out, "listening on")) {
            kill(pid, SIGTERM);
            *stopped = 1;
        }
        if (ms_since(&t0) > TOOL_MS) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            return -1;
        }
        usleep(2000);
    }
}

/* 0 done, 1 a runtime failure (a damaged trace, a port in use, a database
 * that cannot be opened, requests that failed), 2 bad arguments; record
 * passes on its program's status, and the shell's 126/127 when it cannot
 * run it. */
static int status_allowed(enum prog_kind k, int status)
{
    return status <= 2 || (k == PK_RECORD && (status == 126 || status == 127));
}

/* Runs one command line; NULL if it behaved, else why. */
static const char *run_one(const struct cmdline *c, const struct base *b, const char *dir)
{
    static char why[256];
    pid_t pid = spawn(c, dir);
    if (pid < 0)
        return "fork failed";
    int stopped;
    int st = wait_run(pid, dir, b->kind == PK_SERVER, &stopped);
    char err[512];
    snprintf(err, sizeof err, "%s/err.txt", dir);
    if (st == -1)
        return stopped ? "did not stop on SIGTERM" : "did not finish in 20 s";
    if (WIFSIGNALED(st)) {
        snprintf(why, sizeof why, "killed by signal %d", WTERMSIG(st));
        return why;
    }
    int status = WEXITSTATUS(st);
    if (stopped && status != 0) {
        snprintf(why, sizeof why, "status %d after SIGTERM", status);
        return why;
    }
    enum prog_kind kind = b->kind;
    if (kind == PK_TOOL && c->argc > 1 && strcmp(c->argv[1], "record") == 0)
        kind = PK_RECORD;   /* a mutation made it one ("help record" -> "record help") */
    if (!status_allowed(kind, status)) {
        snprintf(why, sizeof why, "status %d", status);
        return why;
    }
    if (status == 2 && file_lines(err) != 1) {
        snprintf(why, sizeof why, "status 2 with %d lines on stderr", file_lines(err));
        return why;
    }
    return NULL;
}

static void fresh_dir(const char *dir, const uint8_t *trace, size_t len)
{
    char cmd[600], path[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", dir, dir);
    assert_int_equal(system(cmd), 0);
    snprintf(path, sizeof path, "%s/good.evtrace", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(trace, 1, len, f), len);
    fclose(f);
}

/* A small real trace: async_server, three requests. */
static uint8_t *good_trace(const char *dir, size_t *len)
{
    char trace[600];
    snprintf(trace, sizeof trace, "%s/seed.evtrace", dir);
    struct ts_child srv;
    const char *args[] = {"--delay-ms", "1", "--trace", trace, NULL};
    assert_int_equal(ts_server_start(&srv, "async_server", args), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(ts_http(srv.port, "GET", "/", NULL, NULL), 200);
    assert_int_equal(ts_child_stop(&srv, SIGTERM, 10000), 0);
    FILE *f = fopen(trace, "rb");
    assert_non_null(f);
    static uint8_t buf[1 << 20];
    *len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    assert_true(*len > 100);
    return buf;
}

static void sweep(const char *name, int runs, uint64_t seed)
{
    char top[64], dir[128], path[600];
    ts_tmp_dir(top, sizeof top);
    size_t len;
    const uint8_t *trace = good_trace(top, &len);
    snprintf(dir, sizeof dir, "%s/run", top);
    static char long_word[LONG_WORD + 1];
    memset(long_word, 'a', LONG_WORD);
    struct ts_rng r;
    ts_rng_init(&r, seed);
    char here[4096];
    const char *build = getenv("EVT_BUILD_DIR");   /* ctest sets it; else the cwd, made absolute */
    if (!build)
        build = getcwd(here, sizeof here);
    int bad = 0;
    runs = ts_fuzz_runs(runs);
    for (int i = 0; i < runs && !bad; i++) {
        const struct base *b = &bases[ts_rng_below(&r, sizeof bases / sizeof bases[0])];
        if (strcmp(name, "samples") == 0 ? b->kind < PK_SERVER : b->kind >= PK_SERVER)
            continue;
        snprintf(path, sizeof path, "%s/%s", build ? build : ".", b->prog);
        if (access(path, X_OK) != 0)
            continue;   /* not built (evview with -DEVT_VIEWER=OFF) */
        struct cmdline c;
        make_cmdline(&c, b, path, &r, long_word);
        fresh_dir(dir, trace, len);
        const char *why = run_one(&c, b, dir);
        if (why) {
            fprintf(stderr, "run %d: %s:", i, why);
            for (int k = 0; k < c.argc; k++)
                fprintf(stderr, " '%.60s'", c.argv[k]);
            fprintf(stderr, "\n");
            bad = 1;
        }
    }
    ts_tmp_cleanup(top);
    assert_false(bad);
}

static void tools_mutated(void **state)
{
    sweep("tools", 400, 0xC2B2AE3D27D4EB4Full);
}

static void samples_mutated(void **state)
{
    sweep("samples", 500, 0x165667B19E3779F9ull);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tools_mutated),
        cmocka_unit_test(samples_mutated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
