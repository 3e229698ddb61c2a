/* test_cli.c -- the evtrace binary: exit codes 0/1/2, one-line errors.
 * Runs $EVT_BUILD_DIR/tracer/evtrace (set by evt_add_test). */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "evtrace.h"
#include "trace_gen.h"

struct fixture {
    char bin[512];
    char good[64], damaged[64], junk[64], out[64], err[64], json[64];
};

struct run {
    int status;
    char *out, *err;
};

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = NULL;
    size_t cap = 0, len = 0, n;
    do {
        buf = realloc(buf, cap += 65536);
        n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
    } while (n > 0);
    buf[len] = '\0';
    fclose(f);
    return buf;
}

/* Runs "evtrace ARGS" (a shell fragment), capturing stdout and stderr. */
static struct run run(struct fixture *fx, const char *fmt, ...)
{
    char args[1024], cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "%s %s >%s 2>%s </dev/null", fx->bin, args, fx->out, fx->err);
    int st = system(cmd);
    assert_true(WIFEXITED(st));
    return (struct run){ WEXITSTATUS(st), slurp(fx->out), slurp(fx->err) };
}

static void run_free(struct run *r)
{
    free(r->out);
    free(r->err);
}

static int lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void build(struct tg *g)
{
    tg_init(g, 55, 0);
    tg_chunk(g, EVT_THREAD_META, 0);
    tg_string(g, 0, 1, "slow_cb");
    tg_chunk(g, 0, 1000);
    tg_watcher(g, 1000, 1, EVT_KIND_IO, 3, 1, 1);
    tg_simple(g, EVT_REC_LOOP_BEGIN, 1000, 1);
    tg_cb_begin(g, 2000, 1, 1);
    tg_simple(g, EVT_REC_CB_END, 2600, 1); /* 600 ns */
    tg_cb_begin(g, 3000, 1, 1);
    tg_simple(g, EVT_REC_CB_END, 3400, 1); /* 400 ns */
    tg_simple(g, EVT_REC_LOOP_END, 4000, 1);
    tg_chunk(g, 0, 5000);
    tg_simple(g, EVT_REC_LOOP_BEGIN, 5000, 1);
    tg_simple(g, EVT_REC_LOOP_END, 6000, 1);
    tg_finish(g);
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    const char *dir = getenv("EVT_BUILD_DIR");
    snprintf(fx->bin, sizeof fx->bin, "%s/tracer/evtrace", dir ? dir : ".");
    struct tg g;
    build(&g);
    assert_int_equal(tg_write_tmp(g.buf, g.len, fx->good, sizeof fx->good), 0);
    assert_int_equal(tg_write_tmp(g.buf, g.len - 2, fx->damaged, sizeof fx->damaged), 0);
    assert_int_equal(tg_write_tmp("#!/bin/sh\necho not a trace\n", 27, fx->junk, sizeof fx->junk), 0);
    assert_int_equal(tg_write_tmp("", 0, fx->out, sizeof fx->out), 0);
    assert_int_equal(tg_write_tmp("", 0, fx->err, sizeof fx->err), 0);
    assert_int_equal(tg_write_tmp("", 0, fx->json, sizeof fx->json), 0);
    tg_free(&g);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    unlink(fx->good);
    unlink(fx->damaged);
    unlink(fx->junk);
    unlink(fx->out);
    unlink(fx->err);
    unlink(fx->json);
    free(fx);
    return 0;
}

static void help_and_version(void **state)
{
    struct fixture *fx = *state;
    struct run r = run(fx, "--version");
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "evtrace "));
    run_free(&r);
    r = run(fx, "--help");
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "usage: evtrace"));
    assert_string_equal(r.err, "");
    run_free(&r);
    r = run(fx, "help");
    assert_int_equal(r.status, 0);
    run_free(&r);
}

/* Each command's own help, however asked, on stdout with status 0; record's
 * --help after "--" belongs to the program. */
static void command_help(void **state)
{
    struct fixture *fx = *state;
    const struct { const char *args, *first; } cases[] = {
        { "stats --help", "usage: evtrace stats [--json]" },
        { "stats -h %s", "usage: evtrace stats [--json]" },
        { "export --help", "usage: evtrace export --format chrome" },
        { "export -o x.json -h", "usage: evtrace export --format chrome" },
        { "record --help", "usage: evtrace record [-o FILE]" },
        { "record -o x.evtrace -h -- /bin/true", "usage: evtrace record [-o FILE]" },
        { "help stats", "usage: evtrace stats [--json]" },
        { "help export", "usage: evtrace export --format chrome" },
        { "help record", "usage: evtrace record [-o FILE]" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct run r = run(fx, cases[i].args, fx->good);
        assert_int_equal(r.status, 0);
        assert_ptr_equal(strstr(r.out, cases[i].first), r.out);   /* first, and nothing before it */
        assert_string_equal(r.err, "");
        run_free(&r);
    }
    struct run r = run(fx, "record -- /bin/echo --help");
    assert_null(strstr(r.out, "usage: evtrace"));
    run_free(&r);
    r = run(fx, "help frobnicate");
    assert_int_equal(r.status, 2);
    assert_int_equal(lines(r.err), 1);
    assert_string_equal(r.out, "");
    run_free(&r);
}

static void bad_arguments(void **state)
{
    struct fixture *fx = *state;
    const char *bad[] = {
        "", "frobnicate", "stats", "stats --stall-ms abc %s", "stats --stall-ms -1 %s", "stats --bogus %s",
        "stats %s %s", "stats --stall-ms", "export %s", "export --format svg -o x.json %s", "export -o",
        "export -o %s/../no/such/dir/x.json %s",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char args[512];
        snprintf(args, sizeof args, bad[i], fx->good, fx->good);
        struct run r = run(fx, "%s", args);
        if (r.status != 2 || lines(r.err) != 1 || strlen(r.out) != 0)
            fail_msg("'%s': status %d, stderr '%s'", args, r.status, r.err);
        run_free(&r);
    }
}

static void unreadable_files(void **state)
{
    struct fixture *fx = *state;
    struct run r = run(fx, "stats /nonexistent/trace.evtrace");
    assert_int_equal(r.status, 2);
    assert_int_equal(lines(r.err), 1);
    assert_non_null(strstr(r.err, "No such file"));
    run_free(&r);
    r = run(fx, "stats %s", fx->junk);
    assert_int_equal(r.status, 2);
    assert_int_equal(lines(r.err), 1);
    assert_non_null(strstr(r.err, "not an evtrace file"));
    run_free(&r);
    r = run(fx, "export -o %s %s", fx->json, fx->junk);
    assert_int_equal(r.status, 2);
    run_free(&r);
}

static void stats_ok(void **state)
{
    struct fixture *fx = *state;
    struct run r = run(fx, "stats %s", fx->good);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.err, "");
    assert_non_null(strstr(r.out, "slow_cb"));
    run_free(&r);
    r = run(fx, "stats --json --stall-ms 0.0005 %s", fx->good); /* 500 ns */
    assert_int_equal(r.status, 0);
    json_t *j = json_loads(r.out, 0, NULL);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "events")), 8);
    json_t *stalls = json_object_get(j, "stalls");
    assert_int_equal(json_array_size(stalls), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(stalls, 0), "duration_ns")), 600);
    json_decref(j);
    run_free(&r);
}

static void damaged_exit_1(void **state)
{
    struct fixture *fx = *state;
    struct run r = run(fx, "stats --json %s", fx->damaged);
    assert_int_equal(r.status, 1);
    assert_int_equal(lines(r.err), 1);
    assert_non_null(strstr(r.err, "damaged"));
    json_t *j = json_loads(r.out, 0, NULL);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "events")), 6); /* the first chunk */
    assert_true(json_is_true(json_object_get(j, "damaged")));
    json_decref(j);
    run_free(&r);
    r = run(fx, "export --format chrome -o %s %s", fx->json, fx->damaged);
    assert_int_equal(r.status, 1);
    assert_int_equal(lines(r.err), 1);
    run_free(&r);
    json_t *x = json_load_file(fx->json, 0, NULL);
    assert_non_null(x);
    assert_true(json_is_true(json_object_get(json_object_get(x, "otherData"), "damaged")));
    json_decref(x);
}

static void export_ok(void **state)
{
    struct fixture *fx = *state;
    struct run r = run(fx, "export --format chrome -o %s %s", fx->json, fx->good);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.err, "");
    run_free(&r);
    json_t *x = json_load_file(fx->json, 0, NULL);
    assert_non_null(x);
    assert_int_equal(json_array_size(json_object_get(x, "traceEvents")), 4); /* 4 complete events */
    json_decref(x);
    r = run(fx, "export -o - %s", fx->good);
    assert_int_equal(r.status, 0);
    x = json_loads(r.out, 0, NULL);
    assert_non_null(x);
    json_decref(x);
    run_free(&r);
}

/* -o naming an input (itself, or through a symlink): refused with status
 * 2 and one line, and the trace is untouched. It used to be truncated
 * under the reader (then mapping it: SIGBUS), and the trace gone. */
static void export_onto_input(void **state)
{
    struct fixture *fx = *state;
    char *before = slurp(fx->good), link[80];
    struct run r = run(fx, "export -o %s %s", fx->good, fx->good);
    assert_int_equal(r.status, 2);
    assert_int_equal(lines(r.err), 1);
    assert_non_null(strstr(r.err, "also an input"));
    run_free(&r);
    snprintf(link, sizeof link, "%s.link", fx->good);
    assert_int_equal(symlink(fx->good, link), 0);
    r = run(fx, "export -o %s %s %s", link, fx->damaged, fx->good);
    assert_int_equal(r.status, 2);
    run_free(&r);
    unlink(link);
    char *after = slurp(fx->good);
    assert_memory_equal(before, after, strlen(before) + 1);
    free(before);
    free(after);
}

/* Output that cannot be written (a full disk: /dev/full) is an error,
 * status 2 with the reason, and a device given as -o is never removed
 * (the failure path deleted /dev/full once, as root). */
static void output_errors(void **state)
{
    struct fixture *fx = *state;
    struct stat st;
    if (stat("/dev/full", &st) != 0 || !S_ISCHR(st.st_mode))
        skip();   /* no /dev/full in this environment */
    const char *cmds[] = {"stats %s >/dev/full", "stats --json %s >/dev/full", "export -o - %s >/dev/full",
                          "export -o /dev/full %s >/dev/null"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        char args[256], cmd[1024];
        snprintf(args, sizeof args, cmds[i], fx->good);
        snprintf(cmd, sizeof cmd, "%s %s 2>%s", fx->bin, args, fx->err);
        int status = system(cmd);
        char *err = slurp(fx->err);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 2 || lines(err) != 1 || !strstr(err, "No space left"))
            fail_msg("'%s': status %d, stderr '%s'", args, WEXITSTATUS(status), err);
        free(err);
    }
    assert_int_equal(stat("/dev/full", &st), 0);
    assert_true(S_ISCHR(st.st_mode));
}

/* Several files into one document; a damaged one among them gets its
 * warning (naming it), status 1, and the others are whole; one that cannot
 * be opened stops it all with status 2. */
static void export_several(void **state)
{
    struct fixture *fx = *state;
    struct run r = run(fx, "export -o %s %s %s", fx->json, fx->good, fx->good);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.err, "");
    run_free(&r);
    json_t *x = json_load_file(fx->json, 0, NULL);
    assert_non_null(x);
    assert_int_equal(json_array_size(json_object_get(x, "traceEvents")), 8);
    assert_int_equal(json_array_size(json_object_get(json_object_get(x, "otherData"), "traces")), 2);
    json_decref(x);
    r = run(fx, "export -o %s %s %s", fx->json, fx->good, fx->damaged);
    assert_int_equal(r.status, 1);
    assert_int_equal(lines(r.err), 1);
    assert_non_null(strstr(r.err, fx->damaged));
    run_free(&r);
    x = json_load_file(fx->json, 0, NULL);
    assert_non_null(x);
    assert_true(json_array_size(json_object_get(x, "traceEvents")) >= 4);
    json_decref(x);
    r = run(fx, "export -o %s %s /nonexistent/trace.evtrace", fx->json, fx->good);
    assert_int_equal(r.status, 2);
    assert_int_equal(lines(r.err), 1);
    assert_non_null(strstr(r.err, "/nonexistent/trace.evtrace"));
    run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(help_and_version),
        cmocka_unit_test(command_help),
        cmocka_unit_test(bad_arguments),
        cmocka_unit_test(unreadable_files),
        cmocka_unit_test(stats_ok),
        cmocka_unit_test(damaged_exit_1),
        cmocka_unit_test(export_ok),
        cmocka_unit_test(export_several),
        cmocka_unit_test(export_onto_input),
        cmocka_unit_test(output_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
