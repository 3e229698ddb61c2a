/* test_kill.c -- what a killed process leaves in its trace.
 *
 * A child records one mark per millisecond (value = its index) and
 * publishes in shared memory how many it has recorded; the parent kills it
 * after ~300 ms. Each case runs with both writers (evt_consumer.c):
 *  - the consumer process (the default): after SIGKILL, once the consumer
 *    has finished (this test is a subreaper, so it can wait for it), the
 *    file holds every mark;
 *  - the flusher thread (flush_thread = 1): after SIGKILL the file holds
 *    every mark older than the flush interval (plus slack for a loaded
 *    machine), as a clean prefix.
 * SIGTERM (no handler in the child, so libevtrace's is installed): the file
 * holds all of them as soon as the child is gone, and it still dies of
 * SIGTERM. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "evt_format.h"
#include "evtrace.h"
#include "trace_check.h"

#define FLUSH_MS 50

struct shared {
    _Atomic uint64_t recorded;
    _Atomic uint64_t last_ts;     /* CLOCK_MONOTONIC ns of the last mark */
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void exit_on_signal(int sig)
{
    exit(0);   /* not async-signal-safe in general; fine for this loop */
}

static void child(const char *path, struct shared *sh)
{
    if (getenv("EVT_TEST_OWN_HANDLER"))
        signal(SIGTERM, exit_on_signal);
    struct evt_options o = {.path = path, .flush_interval_ms = FLUSH_MS,
                            .flush_thread = getenv("EVT_TEST_FLUSH_THREAD") != NULL};
    evt_tracer *t;
    if (evt_open(&t, &o) < 0)
        _exit(3);
    uint32_t name = evt_intern(t, "tick");
    for (uint64_t i = 0;; i++) {
        evt_mark(t, name, (int64_t)i);
        atomic_store(&sh->last_ts, now_ns());
        atomic_store(&sh->recorded, i + 1);
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
}

/* Runs the child for ~300 ms, kills it with sig, decodes the file. Returns
 * the kill time; *recorded = marks the child had recorded. */
static uint64_t run_and_kill(int sig, const char *path, struct tc_trace *tr, uint64_t *recorded)
{
    struct shared *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(sh != MAP_FAILED);
    memset(sh, 0, sizeof *sh);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        child(path, sh);
    /* started (under valgrind that takes a while), then ~300 ms more */
    for (int i = 0; i < 1000 && atomic_load(&sh->recorded) < 20; i++)
        usleep(10000);
    usleep(300000);
    uint64_t killed_at = now_ns();
    kill(pid, sig);
    int status;
    waitpid(pid, &status, 0);
    if (getenv("EVT_TEST_OWN_HANDLER")) {
        /* 0, not a leak checker's code: exiting with the tracer open must
         * leave nothing only the shared region points to */
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    } else {
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), sig);
    }
    *recorded = atomic_load(&sh->recorded);
    munmap(sh, sizeof *sh);
    /* the child's consumer, now ours (subreaper, set in main): wait until
     * it has written the end of the trace */
    while (waitpid(-1, NULL, __WALL) > 0 || errno == EINTR)
        ;
    tc_decode_file(tr, path);   /* may end damaged after SIGKILL: use the prefix */
    return killed_at;
}

/* A temp file per test, removed by teardown whether the test passed. */
static int setup_path(void **state)
{
    char *path = malloc(64);
    snprintf(path, 64, "/tmp/evt_test_kill_XXXXXX");
    close(mkstemp(path));
    *state = path;
    return 0;
}

static int teardown_path(void **state)
{
    unlink(*state);
    free(*state);
    unsetenv("EVT_TEST_OWN_HANDLER");
    unsetenv("EVT_TEST_FLUSH_THREAD");
    return 0;
}

/* Marks in the file are 0..n-1 without a gap; returns n and the last ts. */
static uint64_t marks_prefix(const struct tc_trace *tr, uint64_t *last_ts)
{
    uint64_t n = 0;
    for (size_t i = 0; i < tr->n; i++) {
        if (tr->recs[i].type != EVT_REC_MARK)
            continue;
        assert_int_equal(evt__unzigzag(tr->recs[i].f[1]), (int64_t)n);
        *last_ts = tr->recs[i].ts;
        n++;
    }
    return n;
}

/* Flusher thread: what is older than one interval is there. */
static void test_sigkill_thread(void **state)
{
    setenv("EVT_TEST_FLUSH_THREAD", "1", 1);   /* teardown unsets it */
    const char *path = *state;
    struct tc_trace tr;
    uint64_t recorded, last_ts = 0;
    uint64_t killed_at = run_and_kill(SIGKILL, path, &tr, &recorded);
    uint64_t n = marks_prefix(&tr, &last_ts);
    assert_true(recorded > 50);
    assert_true(n <= recorded);
    /* older than one interval (+250 ms slack for a busy machine) is there */
    assert_true(last_ts + (FLUSH_MS + 250) * 1000000ull >= killed_at);
    assert_true(n > 0);
    tc_free(&tr);
}

/* Consumer process: nothing is lost, and the final flush ran. */
static void test_sigkill(void **state)
{
    const char *path = *state;
    struct tc_trace tr;
    uint64_t recorded, last_ts = 0;
    run_and_kill(SIGKILL, path, &tr, &recorded);
    if (tr.error[0])
        fail_msg("decode: %s", tr.error);
    uint64_t n = marks_prefix(&tr, &last_ts);
    assert_true(recorded > 50);
    /* the kill may land between evt_mark and the counter update */
    assert_in_range(n, recorded, recorded + 1);
    assert_int_equal(tc_count(&tr, EVT_REC_CLOCK), 2);
    tc_free(&tr);
}

static void test_sigterm(void **state)
{
    const char *path = *state;
    struct tc_trace tr;
    uint64_t recorded, last_ts = 0;
    run_and_kill(SIGTERM, path, &tr, &recorded);
    if (tr.error[0])
        fail_msg("decode: %s", tr.error);
    uint64_t n = marks_prefix(&tr, &last_ts);
    /* the signal may land between evt_mark and the counter update */
    assert_in_range(n, recorded, recorded + 1);
    assert_int_equal(tc_count(&tr, EVT_REC_CLOCK), 2);   /* the final flush ran */
    tc_free(&tr);
}

/* The program has its own SIGTERM handler that exits: libevtrace leaves it
 * alone and its atexit handler writes everything. */
static void test_own_handler_then_exit(void **state)
{
    setenv("EVT_TEST_OWN_HANDLER", "1", 1);   /* teardown unsets it */
    test_sigterm(state);
}

static void test_sigterm_thread(void **state)
{
    setenv("EVT_TEST_FLUSH_THREAD", "1", 1);
    test_sigterm(state);
}

static void test_own_handler_then_exit_thread(void **state)
{
    setenv("EVT_TEST_FLUSH_THREAD", "1", 1);
    test_own_handler_then_exit(state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sigkill, setup_path, teardown_path),
        cmocka_unit_test_setup_teardown(test_sigkill_thread, setup_path, teardown_path),
        cmocka_unit_test_setup_teardown(test_sigterm, setup_path, teardown_path),
        cmocka_unit_test_setup_teardown(test_sigterm_thread, setup_path, teardown_path),
        cmocka_unit_test_setup_teardown(test_own_handler_then_exit, setup_path, teardown_path),
        cmocka_unit_test_setup_teardown(test_own_handler_then_exit_thread, setup_path, teardown_path),
    };
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    if (tc_under_valgrind())   /* the consumer variants want a consumer */
        setenv("EVTRACE_FLUSH", "process", 1);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
