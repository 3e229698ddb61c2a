/* test_samples_sync.c -- sync_server: one request at a time, and bad input. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_samples_util.h"


/* 10 requests, each delayed 100 ms, 10 sent at once: served one by one. */
static void test_sync_serial(void **state)
{
    struct ts_fixture *f = *state;
    const char *args[] = {"--delay-ms", "100", "--trace", f->trace, NULL};
    assert_int_equal(ts_server_start(&f->server, "sync_server", args), 0);
    assert_true(ts_fire(f, "/index.html", 10, 10) >= 0.999);
    assert_int_equal(ts_child_stop(&f->server, SIGTERM, 10000), 0);

    struct evt_model m;
    assert_int_equal(evt_model_load_file(&m, f->trace, NULL, NULL), 0);
    assert_int_equal(m.n_requests, 10);
    for (size_t i = 0; i < m.n_requests; i++) {
        assert_int_equal(m.requests[i].status, 200);
        assert_string_equal(m.requests[i].name, "GET /index.html");
    }
    assert_int_equal(ts_max_concurrency(&m), 1);
    /* The blocking sleep is inside the accept callback: ten stalls. */
    assert_true(ts_stalls(&m, 90000000u) >= 10);
    evt_model_free(&m);
}

static void test_sync_bad_input(void **state)
{
    const char *failed = ts_page_server_bad_inputs(*state, "sync_server");
    if (failed)
        fail_msg("bad-input case failed: %s", failed);
}

/* Clients beyond the one being served wait in the backlog, not refused. */
static void test_sync_backlog(void **state)
{
    struct ts_fixture *f = *state;
    const char *args[] = {"--delay-ms", "0", NULL};
    assert_int_equal(ts_server_start(&f->server, "sync_server", args), 0);
    assert_true(ts_fire(f, "/", 400, 200) >= 0);
    assert_int_equal(ts_child_stop(&f->server, SIGTERM, 10000), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sync_serial, ts_fixture_setup, ts_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_sync_bad_input, ts_fixture_setup, ts_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_sync_backlog, ts_fixture_setup, ts_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
