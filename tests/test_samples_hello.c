/* test_samples_hello.c -- hello_loop, the smallest traced program: what
 * its header comment promises is in its trace, and its command line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_samples_util.h"

/* Callbacks of the watcher named name. */
static size_t callbacks_of(const struct evt_model *m, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < m->n_callbacks; i++)
        n += strcmp(m->watchers[m->callbacks[i].watcher].name, name) == 0;
    return n;
}

/* Each message is a request "message": read, then process, then 200. */
static void check_messages(const struct evt_model *m, unsigned long long messages)
{
    assert_int_equal(m->n_requests, messages);
    for (size_t i = 0; i < m->n_requests; i++) {
        const struct evt_m_request *r = &m->requests[i];
        assert_string_equal(r->name, "message");
        assert_true(r->complete);
        assert_int_equal(r->status, 200);
        assert_int_equal(r->phase_count, 2);
        assert_string_equal(m->phases[r->phase_first].name, "read");
        assert_string_equal(m->phases[r->phase_first + 1].name, "process");
    }
}

/* About a second of a tick every 50 ms, a message every 100 ms, one 20 ms
 * wall ("slow"), a byte counter and a start mark. */
static void test_hello_trace(void **state)
{
    struct ts_fixture *f = *state;
    static char out[4096];
    const char *args[] = {"--trace", f->trace, NULL};
    assert_int_equal(ts_run("hello_loop", args, out, sizeof out), 0);
    unsigned long long messages = 0;
    assert_int_equal(sscanf(out, "hello_loop: %llu messages", &messages), 1);
    assert_true(messages >= 5 && messages <= 10);   /* timers run late on a loaded machine */

    struct evt_model m;
    assert_int_equal(evt_model_load_file(&m, f->trace, NULL, NULL), 0);
    check_messages(&m, messages);
    assert_int_equal(callbacks_of(&m, "writer"), messages);
    assert_int_equal(callbacks_of(&m, "reader"), messages);
    assert_int_equal(callbacks_of(&m, "slow"), 1);
    assert_int_equal(callbacks_of(&m, "stop"), 1);
    assert_true(callbacks_of(&m, "tick") >= 10);
    assert_int_equal(ts_stalls(&m, 15000000u), 1);   /* the slow timer's wall, and only it */
    assert_int_equal(m.n_marks, 1);
    assert_string_equal(m.marks[0].name, "started");
    assert_int_equal(m.n_counters, messages);
    assert_string_equal(m.counters[m.n_counters - 1].name, "bytes read");
    assert_int_equal(m.counters[m.n_counters - 1].value, 8 * messages);
    assert_int_equal(m.lost, 0);
    evt_model_free(&m);
}

static void test_hello_command_line(void **state)
{
    static char out[4096];
    assert_int_equal(ts_run("hello_loop", (const char *[]){"--help", NULL}, out, sizeof out), 0);
    assert_non_null(strstr(out, "usage: "));
    assert_int_equal(ts_run("hello_loop", (const char *[]){"--bogus", NULL}, out, sizeof out), 2);
    assert_int_equal(ts_run("hello_loop", (const char *[]){"--trace", "/nonexistent/dir/t.evtrace", NULL}, out,
                            sizeof out), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hello_trace, ts_fixture_setup, ts_fixture_teardown),
        cmocka_unit_test(test_hello_command_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
