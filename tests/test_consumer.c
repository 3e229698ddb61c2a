/* test_consumer.c -- the consumer process (evt_consumer.c): a file trace is
 * written by a copy of the process, and the program stays as it was.
 *
 * Each test opens a tracer on a temp file, checks one promise, closes the
 * tracer and decodes the file with the independent decoder (trace_check.c).
 * The promises: the program keeps one thread and sees no child of ours
 * (no SIGCHLD, nothing for waitpid(-1)); evt_flush means written, and so
 * does every flush interval; the consumer holds none of the program's
 * descriptors; a fork child neither records into the parent's trace nor
 * delays its end; a killed consumer costs the program an error code, not
 * its life; threads that come and go reuse the shared region's rings; with
 * a second thread at evt_open, more than EVT__CONSUMER_MAX_ANON of memory,
 * or flush_thread = 1, the flusher thread is used instead. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "evt_internal.h"
#include "trace_check.h"

struct fixture {
    char path[64];
    evt_tracer *t;   /* closed by teardown if a test left it open */
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    snprintf(f->path, sizeof f->path, "/tmp/evt_test_consumer_XXXXXX");
    close(mkstemp(f->path));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f->t)
        evt_close(f->t);
    unlink(f->path);
    free(f);
    return 0;
}

static evt_tracer *open_file(struct fixture *f, int flush_thread)
{
    struct evt_options o = {.path = f->path, .flush_thread = flush_thread, .no_signal_handlers = 1};
    assert_int_equal(evt_open(&f->t, &o), 0);
    return f->t;
}

static void close_file(struct fixture *f)
{
    assert_int_equal(evt_close(f->t), 0);
    f->t = NULL;
}

static size_t count_tasks(void)
{
    DIR *d = opendir("/proc/self/task");
    size_t n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

/* Marks in the file at path; whole: the file must decode to its end (else
 * the count is of its good prefix: it may be in the middle of a write). */
static size_t count_marks(const char *path, int whole)
{
    struct tc_trace tr;
    tc_decode_file(&tr, path);
    if (whole && tr.error[0])
        fail_msg("decode: %s", tr.error);
    size_t n = tc_count(&tr, EVT_REC_MARK);
    tc_free(&tr);
    return n;
}

static size_t marks_in(const char *path) { return count_marks(path, 1); }

static void record_marks(evt_tracer *t, int n)
{
    uint32_t name = evt_intern(t, "m");
    for (int i = 0; i < n; i++)
        evt_mark(t, name, i);
}

static volatile sig_atomic_t g_sigchld;
static void on_sigchld(int sig) { g_sigchld++; }

static void test_single_threaded_no_child_seen(void **state)
{
    struct fixture *f = *state;
    struct sigaction sa = {.sa_handler = on_sigchld}, old;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGCHLD, &sa, &old);
    g_sigchld = 0;
    evt_tracer *t = open_file(f, 0);
    assert_true(t->consumer_pid > 0);
    assert_int_equal(count_tasks(), 1);          /* no thread in the program */
    record_marks(t, 1000);
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);   /* no child it can see */
    assert_int_equal(errno, ECHILD);
    close_file(f);
    assert_int_equal(g_sigchld, 0);              /* and no SIGCHLD when it ends */
    sigaction(SIGCHLD, &old, NULL);
    assert_int_equal(marks_in(f->path), 1000);
}

static void test_flush_means_written(void **state)
{
    struct fixture *f = *state;
    evt_tracer *t = open_file(f, 0);
    record_marks(t, 300);
    assert_int_equal(evt_flush(t), 0);
    assert_int_equal(marks_in(f->path), 300);   /* before any interval passed */
    close_file(f);
}

/* Without being asked, the consumer writes every flush interval. */
static void test_periodic_flush(void **state)
{
    struct fixture *f = *state;
    struct evt_options o = {.path = f->path, .flush_interval_ms = 10, .no_signal_handlers = 1};
    assert_int_equal(evt_open(&f->t, &o), 0);
    assert_true(f->t->consumer_pid > 0);
    record_marks(f->t, 100);
    size_t n = 0;
    for (int i = 0; i < 100 && n < 100; i++) {   /* 10 intervals, up to 1 s on a busy machine */
        usleep(10000);
        n = count_marks(f->path, 0);
    }
    assert_int_equal(n, 100);
    close_file(f);
}

/* A pipe made before evt_open: once the program closes the write end, the
 * read end sees EOF -- the consumer kept no copy. */
static void test_consumer_keeps_no_program_fd(void **state)
{
    struct fixture *f = *state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    evt_tracer *t = open_file(f, 0);
    assert_true(t->consumer_pid > 0);
    close(p[1]);
    struct pollfd pf = {.fd = p[0], .events = POLLIN};
    assert_int_equal(poll(&pf, 1, 2000), 1);
    char c;
    assert_int_equal(read(p[0], &c, 1), 0);
    close(p[0]);
    close_file(f);
}

/* A traced process P forks a child C and then dies by SIGKILL while C
 * lives on. C records too, and holds copies of P's descriptors: if
 * it kept P's end of the pipe to the consumer, the consumer would see EOF
 * only when C ends, 10 s later. The consumer must finish right after P, and the trace
 * holds only P's marks. This test process is a subreaper (main), so P's
 * orphaned consumer and C become its children. */
static void test_fork_child_stays_out(void **state)
{
    struct fixture *f = *state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t parent = fork();
    assert_true(parent >= 0);
    if (parent == 0) {
        evt_tracer *t = open_file(f, 0);
        record_marks(t, 10);
        int pids[2] = {t->consumer_pid, fork()};
        if (pids[1] == 0) {
            record_marks(t, 500);
            evt_flush(t);
            sleep(10);
            _exit(0);
        }
        if (write(p[1], pids, sizeof pids) != sizeof pids)
            _exit(1);
        kill(getpid(), SIGKILL);
    }
    int pids[2] = {0, 0};
    assert_int_equal(read(p[0], pids, sizeof pids), sizeof pids);
    close(p[0]);
    close(p[1]);
    waitpid(parent, NULL, 0);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    assert_true(pids[0] > 0);
    assert_int_equal(waitpid(pids[0], NULL, __WALL), pids[0]);
    clock_gettime(CLOCK_MONOTONIC, &b);
    kill(pids[1], SIGKILL);
    waitpid(pids[1], NULL, 0);
    assert_true(b.tv_sec - a.tv_sec < 5);   /* valgrind: ~2 s (its leak scan) */
    assert_int_equal(marks_in(f->path), 10);
}

/* The consumer is killed (by hand, by the OOM killer): the program goes on.
 * A flush request fails with EVT_EIO rather than a SIGPIPE killing the
 * program, and so does the close; recording goes on without a crash. */
static void test_consumer_killed_program_survives(void **state)
{
    struct fixture *f = *state;
    evt_tracer *t = open_file(f, 0);
    record_marks(t, 10);
    assert_int_equal(evt_flush(t), 0);
    kill(t->consumer_pid, SIGKILL);
    usleep(100000);
    record_marks(t, 10);
    assert_int_equal(evt_flush(t), EVT_EIO);
    assert_int_equal(evt_close(t), EVT_EIO);
    f->t = NULL;
    assert_int_equal(marks_in(f->path), 10);   /* what was written stays */
}

static void *marking_thread(void *arg)
{
    record_marks(arg, 10);
    return NULL;
}

/* 200 rounds of 4 threads at once, each recording 10 marks and exiting,
 * with 1 MiB of buffer (a 768 KiB ring): over 500 MiB of new rings without
 * reuse (one in three threads finds the spare), more than the shared
 * region holds (room for 256 rings and 64 MiB more: 321 MiB). The consumer keeps one exited
 * thread's buffer as the spare and gives the others' back to the region,
 * and the next round reuses them; without that, later threads would get no
 * buffer and their marks would be missing. In a fork, so that this
 * process stays single-threaded. */
static void test_threads_come_and_go(void **state)
{
    struct fixture *f = *state;
    enum { THREADS = 800 };
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct evt_options o = {.path = f->path, .buffer_bytes = 1u << 20, .flush_interval_ms = 2,
                                .no_signal_handlers = 1};
        evt_tracer *t;
        int ok = evt_open(&t, &o) == 0 && t->consumer_pid > 0;
        for (int i = 0; ok && i < THREADS; i += 4) {
            pthread_t th[4];
            for (int j = 0; j < 4; j++)
                ok = pthread_create(&th[j], NULL, marking_thread, t) == 0 && ok;
            for (int j = 0; j < 4; j++)
                pthread_join(th[j], NULL);
            usleep(8000);   /* the consumer frees the exited threads' buffers */
        }
        ok = evt_lost(t) == 0 && ok;   /* a thread without a buffer would count here */
        ok = evt_close(t) == 0 && ok;
        _exit(ok ? 0 : 1);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(marks_in(f->path), THREADS * 10);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void *idle_thread(void *arg)
{
    int *fd = arg;
    char c;
    return read(*fd, &c, 1) < 0 ? NULL : arg;
}

/* A copy made while another thread runs could hold a lock of that thread's
 * forever: with a second thread at evt_open, the flusher thread is used. */
static void test_threads_at_open_use_the_flusher(void **state)
{
    struct fixture *f = *state;
    int p[2];
    pthread_t th;
    assert_int_equal(pipe(p), 0);
    assert_int_equal(pthread_create(&th, NULL, idle_thread, &p[0]), 0);
    evt_tracer *t = open_file(f, 0);
    assert_int_equal(t->consumer_pid, 0);
    assert_true(t->has_flusher);
    record_marks(t, 200);
    close_file(f);
    close(p[1]);
    pthread_join(th, NULL);
    close(p[0]);
    assert_int_equal(marks_in(f->path), 200);
}

/* Run in a fork, so that this process is still single-threaded after it
 * (the flusher thread would make it multi-threaded for good). */
static void test_flush_thread_option(void **state)
{
    struct fixture *f = *state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct evt_options o = {.path = f->path, .flush_thread = 1, .no_signal_handlers = 1};
        evt_tracer *t;
        int ok = evt_open(&t, &o) == 0 && t->consumer_pid == 0 && t->has_flusher && count_tasks() == 2;
        record_marks(t, 200);
        ok = evt_close(t) == 0 && ok;
        _exit(ok ? 0 : 1);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(marks_in(f->path), 200);
}

/* In a fork: fills twice EVT__CONSUMER_MAX_ANON, opens a trace with
 * EVTRACE_FLUSH=flush_env (NULL: unset), records 300 marks, fills the
 * memory again and closes. Exits 0 if the writer was the consumer
 * (want_consumer) or the thread (!want_consumer), and all went well. */
static void big_program(const char *path, const char *flush_env, int want_consumer)
{
    size_t n = EVT__CONSUMER_MAX_ANON * 2;
    char *big = malloc(n);
    evt_tracer *t;
    struct evt_options o = {.path = path, .no_signal_handlers = 1};
    int ok = big && evt__consumer_suits(0);        /* small before */
    if (big)
        memset(big, 1, n);
    /* the memory must really be there: without this clang -O2 drops the
     * malloc and both memsets (it can tell what big[n / 2] reads) */
    __asm__ volatile("" : : "r"(big) : "memory");
    if (flush_env)
        setenv("EVTRACE_FLUSH", flush_env, 1);
    ok = ok && !evt__consumer_suits(0) && evt_open(&t, &o) == 0;
    if (want_consumer)
        ok = ok && t->consumer_pid > 0 && !t->has_flusher && count_tasks() == 1;
    else
        ok = ok && t->consumer_pid == 0 && t->has_flusher && count_tasks() == 2;
    if (ok) {
        record_marks(t, 300);
        memset(big, 2, n);
        __asm__ volatile("" : : "r"(big) : "memory");
        ok = evt_close(t) == 0 && big[n / 2] == 2;
    }
    free(big);
    _exit(ok ? 0 : 1);
}

static void run_big_program(struct fixture *f, const char *flush_env, int want_consumer)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        big_program(f->path, flush_env, want_consumer);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(marks_in(f->path), 300);
}

/* A copy of a big program would cost it a page fault for every page it
 * writes after evt_open, and keep the old pages: with more than
 * EVT__CONSUMER_MAX_ANON of anonymous memory at open, the flusher thread
 * writes the trace; EVTRACE_FLUSH=process still gets the copy. In forks,
 * as the thread makes the process multi-threaded for good. */
static void test_big_program_uses_the_flusher(void **state)
{
    if (tc_under_valgrind())
        skip();   /* its own memory would count as the test's */
    run_big_program(*state, NULL, 0);
    run_big_program(*state, "process", 1);   /* unless asked for the copy */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_single_threaded_no_child_seen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flush_means_written, setup, teardown),
        cmocka_unit_test_setup_teardown(test_periodic_flush, setup, teardown),
        cmocka_unit_test_setup_teardown(test_consumer_keeps_no_program_fd, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fork_child_stays_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_consumer_killed_program_survives, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flush_thread_option, setup, teardown),
        cmocka_unit_test_setup_teardown(test_big_program_uses_the_flusher, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads_come_and_go, setup, teardown),
        /* last: once a thread was created, glibc calls the process
         * multi-threaded for good, and no later evt_open forks a consumer */
        cmocka_unit_test_setup_teardown(test_threads_at_open_use_the_flusher, setup, teardown),
    };
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    if (tc_under_valgrind())   /* valgrind's tens of MiB would make this test look big */
        setenv("EVTRACE_FLUSH", "process", 1);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
