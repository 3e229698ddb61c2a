/* test_threads.c -- four threads, four loops, one file. */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "evt_format.h"
#include "evtrace.h"
#include "trace_check.h"

#define N_THREADS 4
#define TICKS 20
#define MARKS_PER_TICK 50

struct worker {
    evt_tracer *t;
    int index;
    uint32_t mark;
    int64_t seq;
    int ticks;
};

static void on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct worker *k = w->data;
    for (int i = 0; i < MARKS_PER_TICK; i++)
        evt_mark(k->t, k->mark, k->seq++);
    evt_request_begin(k->t, (uint64_t)k->index << 32 | (uint64_t)k->ticks, k->mark);
    evt_request_end(k->t, (uint64_t)k->index << 32 | (uint64_t)k->ticks, 200);
    if (++k->ticks == TICKS)
        ev_timer_stop(loop, w);
}

/* A temp file per test, removed by teardown whether the test passed. */
static int setup_path(void **state)
{
    char *path = malloc(64);
    snprintf(path, 64, "/tmp/evt_test_threads_XXXXXX");
    close(mkstemp(path));
    *state = path;
    return 0;
}

static int teardown_path(void **state)
{
    unlink(*state);
    free(*state);
    return 0;
}

static void *worker_main(void *arg)
{
    struct worker *k = arg;
    char name[32];
    snprintf(name, sizeof name, "worker-%d", k->index);
    evt_thread_name(k->t, name);
    k->mark = evt_intern(k->t, name);
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    evt_attach_loop(k->t, loop);
    ev_timer tick;
    ev_timer_init(&tick, on_tick, 0.001, 0.002);
    tick.data = k;
    evt_watch_timer(k->t, loop, &tick, "tick");
    ev_timer_start(loop, &tick);
    ev_run(loop, 0);
    evt_detach_loop(k->t, loop);
    ev_loop_destroy(loop);
    return NULL;
}

/* Thread index of the thread named name (by its last THREAD record). */
static int64_t thread_of(const struct tc_trace *tr, const char *name)
{
    int64_t idx = -1;
    for (size_t i = 0; i < tr->n; i++) {
        const struct tc_rec *r = &tr->recs[i];
        const char *s = r->type == EVT_REC_THREAD ? tc_string(tr, r->f[2]) : NULL;
        if (s && strcmp(s, name) == 0)
            idx = (int64_t)r->f[0];
    }
    return idx;
}

/* Per thread: all marks, in order, time never backwards. */
static void check_thread(const struct tc_trace *tr, uint32_t idx)
{
    int64_t expect = 0;
    uint64_t last_ts = 0;
    for (size_t i = 0; i < tr->n; i++) {
        const struct tc_rec *r = &tr->recs[i];
        if (r->thread != idx)
            continue;
        assert_true(r->ts >= last_ts);
        last_ts = r->ts;
        if (r->type == EVT_REC_MARK)
            assert_int_equal(evt__unzigzag(r->f[1]), expect++);
    }
    assert_int_equal(expect, TICKS * MARKS_PER_TICK);
    assert_int_equal(tc_count_thread(tr, EVT_REC_CB_BEGIN, idx), TICKS);
    assert_int_equal(tc_count_thread(tr, EVT_REC_REQ_END, idx), TICKS);
    assert_true(tc_count_thread(tr, EVT_REC_LOOP_BEGIN, idx) >= TICKS);
}

static void test_four_loops(void **state)
{
    const char *path = *state;
    struct evt_options o = {.path = path, .flush_interval_ms = 10};
    evt_tracer *t;
    assert_int_equal(evt_open(&t, &o), 0);
    pthread_t th[N_THREADS];
    struct worker k[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        k[i] = (struct worker){.t = t, .index = i};
        pthread_create(&th[i], NULL, worker_main, &k[i]);
    }
    for (int i = 0; i < N_THREADS; i++)
        pthread_join(th[i], NULL);
    usleep(50000);   /* the flusher frees the exited threads' buffers */
    assert_int_equal(evt_lost(t), 0);
    assert_int_equal(evt_close(t), 0);
    struct tc_trace tr;
    int rc = tc_decode_file(&tr, path);
    if (rc)
        fail_msg("decode: %s", tr.error);
    uint64_t loops[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        char name[32];
        snprintf(name, sizeof name, "worker-%d", i);
        int64_t idx = thread_of(&tr, name);
        assert_true(idx >= 0);
        check_thread(&tr, (uint32_t)idx);
        loops[i] = 0;
        for (size_t j = 0; j < tr.n && !loops[i]; j++)
            if (tr.recs[j].thread == idx && tr.recs[j].type == EVT_REC_LOOP_BEGIN)
                loops[i] = tr.recs[j].f[0];
        for (int p = 0; p < i; p++)
            assert_int_not_equal(loops[p], loops[i]);   /* one loop id each */
    }
    assert_int_equal(tc_lost(&tr), 0);
    tc_free(&tr);
}

static void *short_lived(void *arg)
{
    struct worker *k = arg;
    for (int i = 0; i < 100; i++)
        evt_mark(k->t, k->mark, i);
    return NULL;
}

/* Threads come and go (their buffers are drained, then recycled as the
 * spare or freed): each one's events are all there, under its own index. */
static void test_thread_churn(void **state)
{
    const char *path = *state;
    struct evt_options o = {.path = path, .flush_interval_ms = 5};
    evt_tracer *t;
    assert_int_equal(evt_open(&t, &o), 0);
    struct worker k = {.t = t, .mark = evt_intern(t, "m")};
    for (int i = 0; i < 20; i++) {
        pthread_t th;
        pthread_create(&th, NULL, short_lived, &k);
        pthread_join(th, NULL);
        if (i % 4 == 0)
            usleep(20000);   /* let the flusher reap some of them */
    }
    assert_int_equal(evt_close(t), 0);
    struct tc_trace tr;
    int rc = tc_decode_file(&tr, path);
    if (rc)
        fail_msg("decode: %s", tr.error);
    assert_int_equal(tc_count(&tr, EVT_REC_MARK), 20 * 100);
    for (uint32_t idx = 0; idx < 20; idx++)
        assert_int_equal(tc_count_thread(&tr, EVT_REC_MARK, idx), 100);
    assert_int_equal(tc_count(&tr, EVT_REC_THREAD), 20);
    tc_free(&tr);
}

/* ---- fork while another thread holds the library's locks ----------------- */

/* Each fork has a few percent chance of landing while the churner holds a
 * lock (3 in 100 measured without the fix): 300 forks miss them all with
 * probability well under 1 %. */
#define FORKS 300

struct churner {
    evt_tracer *t;
    _Atomic int stop;
};

/* Takes the wrap table's lock and the loops' lock, over and over. */
static void *churn_locks(void *arg)
{
    struct churner *c = arg;
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    ev_timer w;
    ev_timer_init(&w, NULL, 1., 0.);
    while (!atomic_load(&c->stop)) {
        evt_watch_timer(c->t, loop, &w, "churn");   /* g_wrap_mu */
        evt_unwatch(c->t, loop, (ev_watcher *)&w);
        evt_attach_loop(c->t, loop);                /* g_loops_mu */
        evt_detach_loop(c->t, loop);
    }
    ev_loop_destroy(loop);
    return NULL;
}

/* In a fork child: what a program that forks and then uses libev does. */
static void child_uses_libev(evt_tracer *t)
{
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    ev_timer w;
    ev_timer_init(&w, NULL, 1., 0.);
    evt_watch_timer(t, loop, &w, "child");
    evt_attach_loop(t, loop);
    _exit(0);
}

/* 0 if pid exited 0 within a second; else kills it. */
static int wait_child(pid_t pid)
{
    int status = 0;
    for (int i = 0; i < 1000; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

/* A thread forks while another holds the wrap table's or the loops' lock:
 * the child must still be able to watch and attach (the locks are taken
 * around fork and released in both; a child used to wait forever on a
 * lock whose holder was not copied). */
static void test_fork_while_locked(void **state)
{
    const char *path = *state;
    struct evt_options o = {.path = path, .flush_thread = 1};
    struct churner c = {0};
    assert_int_equal(evt_open(&c.t, &o), 0);
    pthread_t th;
    pthread_create(&th, NULL, churn_locks, &c);
    int hung = 0;
    usleep(10000);   /* the churner at full speed */
    for (int i = 0; i < FORKS; i++) {
        pid_t pid = fork();
        if (pid == 0)
            child_uses_libev(c.t);
        hung += wait_child(pid) != 0;
    }
    atomic_store(&c.stop, 1);
    pthread_join(th, NULL);
    assert_int_equal(evt_close(c.t), 0);
    assert_int_equal(hung, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_four_loops, setup_path, teardown_path),
        cmocka_unit_test_setup_teardown(test_thread_churn, setup_path, teardown_path),
        cmocka_unit_test_setup_teardown(test_fork_while_locked, setup_path, teardown_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
