/* test_samples_async.c -- async_server: overlap, bad input, keep-alive, shutdown. */
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_samples_util.h"


/* 20 requests, each delayed 200 ms, all in flight at once: they overlap. */
static void test_async_overlap(void **state)
{
    struct ts_fixture *f = *state;
    const char *args[] = {"--delay-ms", "200", "--trace", f->trace, NULL};
    assert_int_equal(ts_server_start(&f->server, "async_server", args), 0);
    double wall = ts_fire(f, "/", 20, 20);
    assert_true(wall >= 0.19 && wall < 2.0);   /* serial would take 4 s */
    assert_int_equal(ts_child_stop(&f->server, SIGTERM, 10000), 0);

    struct evt_model m;
    assert_int_equal(evt_model_load_file(&m, f->trace, NULL, NULL), 0);
    assert_int_equal(m.n_requests, 20);
    for (size_t i = 0; i < m.n_requests; i++) {
        assert_int_equal(m.requests[i].status, 200);
        assert_string_equal(m.requests[i].name, "GET /");
        assert_true(m.requests[i].t1 - m.requests[i].t0 >= 190000000u);
    }
    assert_true(ts_max_concurrency(&m) >= 15);
    assert_true(ts_max_phase_overlap(&m, "process") >= 15);
    evt_model_free(&m);
}

static void test_async_bad_input(void **state)
{
    const char *failed = ts_page_server_bad_inputs(*state, "async_server");
    if (failed)
        fail_msg("bad-input case failed: %s", failed);
}

/* Two pipelined requests on one keep-alive connection: two answers, in order. */
static void test_async_keepalive_pipelined(void **state)
{
    struct ts_fixture *f = *state;
    const char *args[] = {"--delay-ms", "50", NULL};
    assert_int_equal(ts_server_start(&f->server, "async_server", args), 0);
    int fd = ts_connect(f->server.port, 5000);
    assert_true(fd >= 0);
    assert_int_equal(ts_send(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
    assert_int_equal(ts_read_status(fd), 200);
    assert_int_equal(ts_read_status(fd), 404);
    assert_int_equal(ts_send(fd, "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
    assert_int_equal(ts_read_status(fd), 200);
    close(fd);
    assert_int_equal(ts_child_stop(&f->server, SIGTERM, 10000), 0);
}

/* Three requests on one keep-alive connection, each waiting 50 ms: every
 * wait is a callback of the connection's own "delay" timer (evs_conn_after),
 * defined once for the connection, and starts inside its request's span
 * once the wait is over (the request ends inside it, with the response). */
static void test_async_delay_timer_per_connection(void **state)
{
    struct ts_fixture *f = *state;
    const char *args[] = {"--delay-ms", "50", "--trace", f->trace, NULL};
    assert_int_equal(ts_server_start(&f->server, "async_server", args), 0);
    int fd = ts_connect(f->server.port, 5000);
    assert_true(fd >= 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ts_send(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
        assert_int_equal(ts_read_status(fd), 200);
    }
    close(fd);
    assert_int_equal(ts_child_stop(&f->server, SIGTERM, 10000), 0);

    struct evt_model m;
    assert_int_equal(evt_model_load_file(&m, f->trace, NULL, NULL), 0);
    assert_int_equal(m.n_requests, 3);
    size_t delay_watchers = 0, delay_cbs = 0;
    for (size_t i = 1; i < m.n_watchers; i++)
        delay_watchers += strcmp(m.watchers[i].name, "delay") == 0 && m.watchers[i].kind == EVT_KIND_TIMER;
    assert_int_equal(delay_watchers, 1);
    for (size_t i = 0; i < m.n_callbacks; i++) {
        const struct evt_m_callback *cb = &m.callbacks[i];
        if (strcmp(m.watchers[cb->watcher].name, "delay") != 0)
            continue;
        size_t inside = 0;   /* 25 of the 50 ms: the timer counts from the loop's cached time */
        for (size_t j = 0; j < m.n_requests; j++)
            inside += cb->t0 >= m.requests[j].t0 + 25000000u && cb->t0 <= m.requests[j].t1;
        assert_int_equal(inside, 1);
        delay_cbs++;
    }
    assert_int_equal(delay_cbs, 3);
    evt_model_free(&m);
}

/* SIGTERM while requests wait for their delay: they are still answered,
 * the server exits 0 and the trace is complete. */
static void test_async_shutdown_finishes_requests(void **state)
{
    struct ts_fixture *f = *state;
    const char *args[] = {"--delay-ms", "500", "--trace", f->trace, NULL};
    assert_int_equal(ts_server_start(&f->server, "async_server", args), 0);
    int fds[3];
    for (int i = 0; i < 3; i++) {
        fds[i] = ts_connect(f->server.port, 5000);
        assert_true(fds[i] >= 0);
        assert_int_equal(ts_send(fds[i], "GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
    }
    usleep(200000);
    kill(f->server.pid, SIGTERM);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ts_read_status(fds[i]), 200);
        close(fds[i]);
    }
    assert_int_equal(ts_child_stop(&f->server, 0, 10000), 0);
    struct evt_model m;
    assert_int_equal(evt_model_load_file(&m, f->trace, NULL, NULL), 0);
    assert_int_equal(m.damaged, 0);
    assert_int_equal(m.n_requests, 3);
    for (size_t i = 0; i < m.n_requests; i++)
        assert_true(m.requests[i].complete && m.requests[i].status == 200);
    evt_model_free(&m);
}

/* A request trickled in a few bytes at a time still gets its deadline: the
 * 408 comes about --idle-timeout-ms after its first byte, not after the
 * trickle stops (2 s of it here). */
static void test_async_trickle_times_out(void **state)
{
    struct ts_fixture *f = *state;
    const char *args[] = {"--idle-timeout-ms", "300", NULL};
    assert_int_equal(ts_server_start(&f->server, "async_server", args), 0);
    int fd = ts_connect(f->server.port, 5000);
    assert_true(fd >= 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ts_send(fd, "GET / HTTP/1.1\r\nHost: x\r\n");
    struct pollfd p = {.fd = fd, .events = POLLIN};
    for (int i = 0; i < 20 && poll(&p, 1, 100) == 0; i++)
        ts_send(fd, "X-Slow: 1\r\n");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double elapsed = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_int_equal(ts_read_status(fd), 408);
    assert_true(elapsed < 1.5);
    close(fd);
    assert_int_equal(ts_http(f->server.port, "GET", "/", NULL, NULL), 200);
    assert_int_equal(ts_child_stop(&f->server, SIGTERM, 10000), 0);
}

/* A few thousand connections at once: every one is served. */
static void test_async_many_connections(void **state)
{
    struct ts_fixture *f = *state;
    const char *args[] = {"--delay-ms", "500", NULL};
    assert_int_equal(ts_server_start(&f->server, "async_server", args), 0);
    assert_true(ts_fire(f, "/", 2000, 2000) >= 0);
    assert_int_equal(ts_child_stop(&f->server, SIGTERM, 10000), 0);
}

/* loadgen's crud scenario against a server that is not the API: it must
 * notice and fail; and plain mode counts 404s as errors. */
static void test_loadgen_detects_wrong_answers(void **state)
{
    struct ts_fixture *f = *state;
    const char *args[] = {"--delay-ms", "0", NULL};
    assert_int_equal(ts_server_start(&f->server, "async_server", args), 0);
    char url[64], out[4096];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", f->server.port);
    const char *crud[] = {"--scenario", "crud", "-n", "4", url, NULL};
    assert_int_equal(ts_loadgen(crud, out, sizeof out), 1);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/missing", f->server.port);
    const char *plain[] = {"-n", "6", "-c", "3", "--json", url, NULL};
    assert_int_equal(ts_loadgen(plain, out, sizeof out), 1);
    assert_true(ts_json_number(out, "errors") == 6);
    assert_int_equal(ts_child_stop(&f->server, SIGTERM, 10000), 0);
}

/* Bad arguments: a one-line message and status 2, for every program. */
static void test_bad_arguments(void **state)
{
    char out[256];
    const char *bad_port[] = {"--port", "70000", NULL};
    const char *bad_delay[] = {"--delay-ms", "soon", NULL};
    const char *bad_mode[] = {"--db-mode", "sideways", NULL};
    const char *bad_n[] = {"-n", "0", NULL};
    const char *bad_url[] = {"not a url", NULL};
    assert_int_equal(ts_run("async_server", bad_port, out, sizeof out), 2);
    assert_int_equal(ts_run("sync_server", bad_delay, out, sizeof out), 2);
    assert_int_equal(ts_run("crud_api", bad_mode, out, sizeof out), 2);
    assert_int_equal(ts_run("loadgen", bad_n, out, sizeof out), 2);
    assert_int_equal(ts_run("loadgen", bad_url, out, sizeof out), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_async_overlap, ts_fixture_setup, ts_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_async_bad_input, ts_fixture_setup, ts_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_async_keepalive_pipelined, ts_fixture_setup, ts_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_async_delay_timer_per_connection, ts_fixture_setup, ts_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_async_shutdown_finishes_requests, ts_fixture_setup, ts_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_async_trickle_times_out, ts_fixture_setup, ts_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_async_many_connections, ts_fixture_setup, ts_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_loadgen_detects_wrong_answers, ts_fixture_setup, ts_fixture_teardown),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
