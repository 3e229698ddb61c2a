/* test_samples_crud.c -- crud_api: round trips, inline vs offload, bad input,
 * durability across restart, SIGTERM and SIGKILL. */
#include <jansson.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_samples_util.h"


/* idle: the server's --idle-timeout-ms. 300 makes the half-sent request
 * cases quick; the latency runs need more, because the inline server's
 * 500 ms stall counts as idle time for the connections waiting behind it:
 * on a loaded machine, where their bytes arrive after the stall began, it
 * closed 3-4 of them (5 runs in 40 with two busy loops beside). */
static void start_crud_idle(struct ts_fixture *f, const char *mode, const char *latency, int traced,
                            const char *idle)
{
    const char *args[] = {"--db", f->db, "--db-mode", mode, "--db-latency-ms", latency,
                          "--idle-timeout-ms", idle, traced ? "--trace" : NULL, f->trace, NULL};
    assert_int_equal(ts_server_start(&f->server, "crud_api", args), 0);
}

static void start_crud(struct ts_fixture *f, const char *mode, const char *latency, int traced)
{
    start_crud_idle(f, mode, latency, traced, "300");
}

static void run_scenario(void **state, const char *mode)
{
    struct ts_fixture *f = *state;
    start_crud(f, mode, "0", 0);
    char url[64], out[4096];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", f->server.port);
    const char *lg[] = {"--scenario", "crud", "-n", "40", "-c", "8", "--json", url, NULL};
    assert_int_equal(ts_loadgen(lg, out, sizeof out), 0);
    assert_true(ts_json_number(out, "requests") == 4 * 40 + 2);
    assert_true(ts_json_number(out, "errors") == 0);
    assert_int_equal(ts_child_stop(&f->server, SIGTERM, 10000), 0);
}

static void test_crud_roundtrip_offload(void **state) { run_scenario(state, "offload"); }
static void test_crud_roundtrip_inline(void **state) { run_scenario(state, "inline"); }

/* 10 concurrent requests, 50 ms per database call. Returns loadgen's wall
 * time; loads the trace into m. */
static double run_latency(struct ts_fixture *f, const char *mode, struct evt_model *m)
{
    start_crud_idle(f, mode, "50", 1, "5000");
    char url[64], out[4096];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/books", f->server.port);
    const char *lg[] = {"-n", "10", "-c", "10", "--json", url, NULL};
    int rc = ts_loadgen(lg, out, sizeof out);
    if (rc != 0 || ts_json_number(out, "errors") != 0)
        fail_msg("loadgen (status %d): %s", rc, out);
    assert_int_equal(ts_child_stop(&f->server, SIGTERM, 10000), 0);
    assert_int_equal(evt_model_load_file(m, f->trace, NULL, NULL), 0);
    assert_int_equal(m->n_requests, 10);
    return ts_json_number(out, "wall_time_s");
}

static void test_crud_inline_stalls(void **state)
{
    struct evt_model m;
    double wall = run_latency(*state, "inline", &m);
    assert_true(wall >= 0.49);                          /* ten 50 ms calls, one after the other */
    assert_true(ts_stalls(&m, 40000000u) >= 10);        /* each one a blocking callback */
    assert_int_equal(ts_max_phase_overlap(&m, "process"), 1);
    evt_model_free(&m);
}

static void test_crud_offload_overlaps(void **state)
{
    struct evt_model m;
    double wall = run_latency(*state, "offload", &m);
    assert_true(wall < 0.45);                           /* 4 workers: about 3 rounds of 50 ms */
    /* No stalls; one is tolerated because on a loaded 2-core machine a
     * short callback can be preempted for 40 ms (inline has ten). */
    assert_true(ts_stalls(&m, 40000000u) <= 1);
    assert_true(ts_max_phase_overlap(&m, "process") >= 3);
    assert_true(m.n_threads >= 2);                      /* the workers named themselves */
    evt_model_free(&m);
}

static void expect_error(int port, const char *method, const char *path, const char *body, int status)
{
    char *resp = NULL;
    assert_int_equal(ts_http(port, method, path, body, &resp), status);
    json_t *j = json_loads(resp, 0, NULL);
    assert_true(json_is_string(json_object_get(j, "error")));
    json_decref(j);
    free(resp);
}

static void test_crud_bad_input(void **state)
{
    struct ts_fixture *f = *state;
    start_crud(f, "offload", "0", 0);
    int port = f->server.port;
    expect_error(port, "POST", "/books", "{not json", 400);
    expect_error(port, "POST", "/books", "[1, 2]", 400);
    expect_error(port, "POST", "/books", "{\"title\": \"t\", \"author\": \"a\"}", 400);
    expect_error(port, "POST", "/movies", "{\"title\": \"t\", \"director\": \"d\", \"year\": \"1999\"}", 400);
    expect_error(port, "GET", "/books/999999", NULL, 404);
    expect_error(port, "DELETE", "/movies/999999", NULL, 404);
    expect_error(port, "GET", "/books/abc", NULL, 404);
    expect_error(port, "PUT", "/books", NULL, 405);
    const char *failed = ts_bad_inputs(port, "/books", 300);
    if (failed)
        fail_msg("bad-input case failed: %s", failed);
    assert_int_equal(ts_child_stop(&f->server, SIGTERM, 10000), 0);
}

static void test_crud_restart_keeps_data(void **state)
{
    struct ts_fixture *f = *state;
    start_crud(f, "offload", "0", 0);
    char *created = NULL, *again = NULL;
    assert_int_equal(ts_http(f->server.port, "POST", "/movies",
                             "{\"title\": \"Stalker\", \"director\": \"Tarkovsky\", \"year\": 1979}", &created), 201);
    json_t *obj = json_loads(created, 0, NULL);
    char path[64];
    snprintf(path, sizeof path, "/movies/%lld", (long long)json_integer_value(json_object_get(obj, "id")));
    assert_int_equal(ts_child_stop(&f->server, SIGTERM, 10000), 0);
    start_crud(f, "inline", "0", 0);
    assert_int_equal(ts_http(f->server.port, "GET", path, NULL, &again), 200);
    json_t *back = json_loads(again, 0, NULL);
    assert_true(json_equal(obj, back));
    json_decref(obj);
    json_decref(back);
    free(created);
    free(again);
}

/* ---- durability under load ---------------------------------------------------- */

#define WRITERS 4
#define MAX_ACKS 20000

struct acks {
    pthread_mutex_t mu;
    int port;
    long long ids[MAX_ACKS];
    size_t n;
};

/* POSTs until the server stops answering; records the ids it acknowledged. */
static void *writer(void *p)
{
    struct acks *a = p;
    for (int i = 0; i < MAX_ACKS / WRITERS; i++) {
        char *resp = NULL;
        int status = ts_http(a->port, "POST", "/books", "{\"title\": \"t\", \"author\": \"a\", \"year\": 2000}", &resp);
        json_t *j = status == 201 ? json_loads(resp, 0, NULL) : NULL;
        free(resp);
        if (!j)
            break;
        pthread_mutex_lock(&a->mu);
        a->ids[a->n++] = json_integer_value(json_object_get(j, "id"));
        pthread_mutex_unlock(&a->mu);
        json_decref(j);
    }
    return NULL;
}

static void kill_under_load(void **state, int sig)
{
    struct ts_fixture *f = *state;
    start_crud(f, "offload", "5", 0);
    struct acks *a = calloc(1, sizeof *a);
    pthread_mutex_init(&a->mu, NULL);
    a->port = f->server.port;
    pthread_t th[WRITERS];
    for (int i = 0; i < WRITERS; i++)
        pthread_create(&th[i], NULL, writer, a);
    /* Mid-load: once some writes were acknowledged (ten seconds at most). */
    for (int i = 0; i < 1000; i++) {
        pthread_mutex_lock(&a->mu);
        size_t n = a->n;
        pthread_mutex_unlock(&a->mu);
        if (n >= 20)
            break;
        usleep(10000);
    }
    ts_child_stop(&f->server, sig, 10000);
    for (int i = 0; i < WRITERS; i++)
        pthread_join(th[i], NULL);
    assert_true(a->n > 0);
    start_crud(f, "inline", "0", 0);
    for (size_t i = 0; i < a->n; i++) {
        char path[64];
        snprintf(path, sizeof path, "/books/%lld", a->ids[i]);
        assert_int_equal(ts_http(f->server.port, "GET", path, NULL, NULL), 200);
    }
    pthread_mutex_destroy(&a->mu);
    free(a);
}

static void test_crud_sigterm_keeps_acked(void **state) { kill_under_load(state, SIGTERM); }
static void test_crud_sigkill_keeps_acked(void **state) { kill_under_load(state, SIGKILL); }

/* --trace naming the database (the same path, or a link to it): refused
 * with status 2 before anything is opened, the database untouched (a new
 * trace replaces its file). */
static void test_crud_trace_is_db(void **state)
{
    struct ts_fixture *f = *state;
    start_crud_idle(f, "inline", "0", 0, "300");
    assert_int_equal(ts_http(f->server.port, "POST", "/books", "{\"title\":\"T\",\"author\":\"A\",\"year\":1}", NULL),
                     201);
    assert_int_equal(ts_child_stop(&f->server, SIGTERM, 10000), 0);
    struct stat before, after;
    assert_int_equal(stat(f->db, &before), 0);
    char link[160], out[256];
    snprintf(link, sizeof link, "%s/db-link.evtrace", f->dir);
    assert_int_equal(symlink(f->db, link), 0);
    const char *same[] = {"--port", "0", "--db", f->db, "--trace", f->db, NULL};
    const char *linked[] = {"--port", "0", "--db", f->db, "--trace", link, NULL};
    assert_int_equal(ts_run("crud_api", same, out, sizeof out), 2);
    assert_int_equal(ts_run("crud_api", linked, out, sizeof out), 2);
    assert_int_equal(stat(f->db, &after), 0);
    assert_int_equal(after.st_size, before.st_size);
    assert_int_equal(after.st_ino, before.st_ino);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_crud_roundtrip_offload, ts_fixture_setup, ts_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_crud_roundtrip_inline, ts_fixture_setup, ts_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_crud_inline_stalls, ts_fixture_setup, ts_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_crud_offload_overlaps, ts_fixture_setup, ts_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_crud_bad_input, ts_fixture_setup, ts_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_crud_restart_keeps_data, ts_fixture_setup, ts_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_crud_sigterm_keeps_acked, ts_fixture_setup, ts_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_crud_sigkill_keeps_acked, ts_fixture_setup, ts_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_crud_trace_is_db, ts_fixture_setup, ts_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
