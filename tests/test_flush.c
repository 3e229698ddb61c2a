/* test_flush.c -- the flush (tracer/evt_flush.c): draining the rings, the
 * buffers of exited threads (reaped: unlisted, their drops kept, kept as
 * the spare or freed), what a final flush does and does not, and the
 * SIGINT/SIGTERM handlers' install, restore and final flush.
 *
 * Rings are the smallest there are (64 events) so that overflow is cheap to
 * cause; the tracer is opened with no flush thread where the test drives
 * the flushes itself (evt_flush: a non-final flush; evt_close: the final
 * one). The library's insides are read (evt_internal.h) where the only
 * visible effect is on them: which buffers are listed, which is the spare. */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "evt_encode.h"
#include "evt_format.h"
#include "evt_internal.h"
#include "evtrace.h"
#include "trace_check.h"

#define RING_EVENTS 64   /* the smallest ring (evtrace.h: at least 64 events) */
#define RING_BYTES (RING_EVENTS * sizeof(struct evt__raw))

struct fx {
    struct evt__memsink sink;
    struct tc_trace tr;
    evt_tracer *t;            /* closed by teardown if a failed assertion left it open */
    char path[64];            /* a temp file, unlinked by teardown */
    struct sigaction saved[2];/* SIGINT, SIGTERM as they were: teardown puts them back */
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    sigaction(SIGINT, NULL, &f->saved[0]);
    sigaction(SIGTERM, NULL, &f->saved[1]);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    if (f->t)
        evt_close(f->t);
    sigaction(SIGINT, &f->saved[0], NULL);
    sigaction(SIGTERM, &f->saved[1], NULL);
    if (f->path[0])
        unlink(f->path);
    free(f->sink.data);
    tc_free(&f->tr);
    free(f);
    return 0;
}

/* A tracer into memory; flushes only when the test asks (no_flush_thread). */
static evt_tracer *open_mem(struct fx *f)
{
    struct evt_options o = {.sink = evt__memsink_write, .sink_ctx = &f->sink, .no_flush_thread = 1,
                            .buffer_bytes = RING_BYTES, .process_name = "flush"};
    assert_int_equal(evt_open(&f->t, &o), 0);
    return f->t;
}

/* Closes the tracer (the final flush) and decodes what it wrote. */
static void close_and_decode(struct fx *f)
{
    evt_tracer *t = f->t;
    f->t = NULL;
    assert_int_equal(evt_close(t), 0);
    if (tc_decode(&f->tr, f->sink.data, f->sink.len))
        fail_msg("decode: %s", f->tr.error);
}

static int64_t mark_value(const struct tc_rec *r) { return evt__unzigzag(r->f[1]); }

/* Marks in the file with value in [lo, hi). */
static size_t marks_between(const struct tc_trace *tr, int64_t lo, int64_t hi)
{
    size_t n = 0;
    for (size_t i = 0; i < tr->n; i++)
        n += tr->recs[i].type == EVT_REC_MARK && mark_value(&tr->recs[i]) >= lo && mark_value(&tr->recs[i]) < hi;
    return n;
}

static size_t n_threads(evt_tracer *t)
{
    pthread_mutex_lock(&t->threads_mu);
    size_t n = t->n_threads;
    pthread_mutex_unlock(&t->threads_mu);
    return n;
}

static struct evt__tbuf *listed(evt_tracer *t, size_t i)
{
    pthread_mutex_lock(&t->threads_mu);
    struct evt__tbuf *b = i < t->n_threads ? t->threads[i] : NULL;
    pthread_mutex_unlock(&t->threads_mu);
    return b;
}

static struct evt__tbuf *spare(evt_tracer *t)
{
    pthread_mutex_lock(&t->threads_mu);
    struct evt__tbuf *b = t->spare;
    pthread_mutex_unlock(&t->threads_mu);
    return b;
}

/* A thread that records marks first .. first + count - 1, then exits. */
struct marker {
    evt_tracer *t;
    uint32_t name;
    int64_t first, count;
    pthread_barrier_t *pause;   /* if set: waits twice after the first half */
};

static void *run_marker(void *arg)
{
    struct marker *k = arg;
    int64_t half = k->pause ? k->count / 2 : k->count;
    for (int64_t i = 0; i < half; i++)
        evt_mark(k->t, k->name, k->first + i);
    if (k->pause) {
        pthread_barrier_wait(k->pause);   /* the main thread flushes while we live */
        pthread_barrier_wait(k->pause);
        for (int64_t i = half; i < k->count; i++)
            evt_mark(k->t, k->name, k->first + i);
    }
    return NULL;
}

static void marker_thread(struct marker *k)
{
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, run_marker, k), 0);
    assert_int_equal(pthread_join(th, NULL), 0);   /* exited: its key destructor marked it dead */
}

/* ---- the drain ----------------------------------------------------------- */

/* Three rounds of 40 events through a 64-event ring, a flush after each:
 * the second and third rounds wrap around the ring's end. The drain reads
 * every event once, in order, and gives the slots back, so nothing is
 * dropped. */
static void drain_wraps_around_the_ring(void **state)
{
    struct fx *f = *state;
    evt_tracer *t = open_mem(f);
    uint32_t name = evt_intern(t, "m");
    int64_t v = 0;
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 40; i++)
            evt_mark(t, name, v++);
        assert_int_equal(evt_flush(t), 0);
    }
    assert_int_equal(evt_lost(t), 0);
    close_and_decode(f);
    assert_int_equal(tc_lost(&f->tr), 0);
    int64_t expect = 0;
    for (size_t i = 0; i < f->tr.n; i++)
        if (f->tr.recs[i].type == EVT_REC_MARK)
            assert_int_equal(mark_value(&f->tr.recs[i]), expect++);
    assert_int_equal(expect, v);
}

/* A thread overflows its ring and exits with the drops still pending (no
 * room ever came back for its own LOST event). The flush that reaps it
 * writes them (drain_thread: final or dead), and evt_lost keeps counting
 * them after its buffer is gone (lost_freed). */
static void exited_thread_drops_written_when_reaped(void **state)
{
    struct fx *f = *state;
    evt_tracer *t = open_mem(f);
    struct marker k = {.t = t, .name = evt_intern(t, "m"), .first = 0, .count = 100};
    marker_thread(&k);
    uint64_t lost = evt_lost(t);
    assert_true(lost > 0 && lost < 100);   /* the ring held some, dropped the rest */
    assert_int_equal(evt_flush(t), 0);      /* reaps the exited thread */
    assert_int_equal(n_threads(t), 0);
    assert_int_equal(evt_lost(t), lost);
    close_and_decode(f);
    assert_int_equal(tc_lost(&f->tr), lost);
    assert_int_equal(marks_between(&f->tr, 0, 100) + tc_lost(&f->tr), 100);
}

/* A live thread's pending drops are not taken by a periodic flush: the
 * thread itself writes its LOST event when it next has room (evt_ring.h),
 * so the record sits at that time, not at the flush's. */
static void live_thread_drops_written_where_they_happened(void **state)
{
    struct fx *f = *state;
    evt_tracer *t = open_mem(f);
    uint32_t name = evt_intern(t, "m");
    for (int i = 0; i < 100; i++)
        evt_mark(t, name, i);
    uint64_t lost = evt_lost(t);
    assert_true(lost > 0);
    assert_int_equal(evt_flush(t), 0);
    usleep(5000);                      /* well apart from the flush's time */
    uint64_t after = evt__mono_ns();
    evt_mark(t, name, 100);            /* room again: LOST, then this mark */
    close_and_decode(f);
    assert_int_equal(tc_count(&f->tr, EVT_REC_LOST), 1);
    for (size_t i = 0; i < f->tr.n; i++) {
        const struct tc_rec *r = &f->tr.recs[i];
        if (r->type != EVT_REC_LOST)
            continue;
        assert_int_equal(r->f[0], lost);
        /* 200 us of slack for the TSC-to-ns conversion; the flush was 5 ms before */
        assert_true(r->ts + 200000 >= after);
    }
    assert_int_equal(marks_between(&f->tr, 0, 101) + lost, 101);
}

/* ---- exited threads' buffers ---------------------------------------------- */

/* With no spare, a reaped buffer becomes the spare and the next new thread
 * gets it, as good as new: its own THREAD record, no drops of the thread
 * before (evt_lost counts those once), alive (a flush while it records
 * does not reap it), and everything it records is in the file. */
static void reaped_buffer_becomes_the_spare(void **state)
{
    struct fx *f = *state;
    evt_tracer *t = open_mem(f);
    uint32_t name = evt_intern(t, "m");
    evt_mark(t, name, -1);                  /* main takes the spare made at open */
    assert_null(spare(t));
    struct marker a = {.t = t, .name = name, .first = 0, .count = 100};   /* overflows */
    marker_thread(&a);
    struct evt__tbuf *a_buf = listed(t, 1);
    assert_non_null(a_buf);
    uint64_t lost = evt_lost(t);
    assert_true(lost > 0);
    assert_int_equal(evt_flush(t), 0);
    assert_int_equal(n_threads(t), 1);
    assert_ptr_equal(spare(t), a_buf);

    pthread_barrier_t pause;
    pthread_barrier_init(&pause, NULL, 2);
    struct marker b = {.t = t, .name = name, .first = 1000, .count = 20, .pause = &pause};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, run_marker, &b), 0);
    pthread_barrier_wait(&pause);           /* b has recorded its first half */
    assert_ptr_equal(listed(t, 1), a_buf);  /* ... into the spare */
    assert_null(spare(t));
    assert_int_equal(evt_flush(t), 0);      /* b is alive: drained, not reaped */
    assert_int_equal(n_threads(t), 2);
    pthread_barrier_wait(&pause);
    assert_int_equal(pthread_join(th, NULL), 0);
    pthread_barrier_destroy(&pause);
    assert_int_equal(evt_lost(t), lost);    /* b dropped nothing */

    close_and_decode(f);
    assert_int_equal(tc_count(&f->tr, EVT_REC_THREAD), 3);   /* main, a, b */
    assert_int_equal(marks_between(&f->tr, 1000, 1020), 20);
    assert_int_equal(tc_lost(&f->tr), lost);
}

/* With a spare already there, a reaped buffer is freed and the spare stays
 * (valgrind sees that nothing leaks). */
static void reaped_buffer_freed_when_spare_exists(void **state)
{
    struct fx *f = *state;
    evt_tracer *t = open_mem(f);
    uint32_t name = evt_intern(t, "m");
    evt_mark(t, name, 0);                   /* main takes the spare made at open */
    struct marker a = {.t = t, .name = name, .first = 1, .count = 10};
    marker_thread(&a);
    evt__spare_refill(t);                   /* a second thread recorded: a spare again */
    struct evt__tbuf *s = spare(t);
    assert_non_null(s);
    assert_int_equal(evt_flush(t), 0);
    assert_int_equal(n_threads(t), 1);
    assert_ptr_equal(spare(t), s);
    close_and_decode(f);
    assert_int_equal(marks_between(&f->tr, 0, 11), 11);
}

/* The exited thread is listed before a live one: reaping it unlists it and
 * only it, so the live thread's later events are still drained. */
static void exited_thread_before_live_one_unlisted(void **state)
{
    struct fx *f = *state;
    evt_tracer *t = open_mem(f);
    uint32_t name = evt_intern(t, "m");
    struct marker a = {.t = t, .name = name, .first = 0, .count = 10};
    marker_thread(&a);                      /* listed first */
    evt_mark(t, name, 100);                 /* main: listed second */
    struct evt__tbuf *main_buf = listed(t, 1);
    assert_non_null(main_buf);
    assert_int_equal(evt_flush(t), 0);
    assert_int_equal(n_threads(t), 1);
    assert_ptr_equal(listed(t, 0), main_buf);
    for (int i = 1; i < 10; i++)
        evt_mark(t, name, 100 + i);
    close_and_decode(f);
    assert_int_equal(marks_between(&f->tr, 0, 10), 10);
    assert_int_equal(marks_between(&f->tr, 100, 110), 10);
}

/* A final flush frees no buffer (evt_flush.c: evt_close frees them all
 * after it): an exited thread's buffer is still listed after it. */
static void final_flush_frees_nothing(void **state)
{
    struct fx *f = *state;
    evt_tracer *t = open_mem(f);
    uint32_t name = evt_intern(t, "m");
    struct marker a = {.t = t, .name = name, .first = 0, .count = 10};
    marker_thread(&a);
    evt_mark(t, name, 10);
    pthread_mutex_lock(&t->flush_mu);
    int rc = evt__flush_locked(t, EVT__FLUSH_FINAL);
    pthread_mutex_unlock(&t->flush_mu);
    assert_int_equal(rc, 0);
    assert_int_equal(n_threads(t), 2);
    close_and_decode(f);
    assert_int_equal(marks_between(&f->tr, 0, 11), 11);
}

/* ---- SIGINT / SIGTERM ----------------------------------------------------- */

static void program_handler(int sig) { (void)sig; }

static void set_handler(int sig, void (*h)(int))
{
    struct sigaction sa = {.sa_handler = h};
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(sig, &sa, NULL), 0);
}

static void (*handler_of(int sig))(int)
{
    struct sigaction cur;
    assert_int_equal(sigaction(sig, NULL, &cur), 0);
    return cur.sa_handler;
}

/* A tracer with the flush thread (so the signal flush applies) into memory. */
static evt_tracer *open_threaded(struct fx *f)
{
    struct evt_options o = {.sink = evt__memsink_write, .sink_ctx = &f->sink, .buffer_bytes = RING_BYTES,
                            .flush_interval_ms = 1000};
    assert_int_equal(evt_open(&f->t, &o), 0);
    return f->t;
}

/* Where both are SIG_DFL, open installs a handler for each, and close puts
 * SIG_DFL back. */
static void signal_handlers_installed_and_restored(void **state)
{
    struct fx *f = *state;
    set_handler(SIGINT, SIG_DFL);
    set_handler(SIGTERM, SIG_DFL);
    evt_tracer *t = open_threaded(f);
    assert_true(handler_of(SIGINT) != SIG_DFL);
    assert_true(handler_of(SIGTERM) != SIG_DFL);
    f->t = NULL;
    assert_int_equal(evt_close(t), 0);
    assert_true(handler_of(SIGINT) == SIG_DFL);
    assert_true(handler_of(SIGTERM) == SIG_DFL);
}

/* A handler the program sets while the tracer is open is the program's
 * choice: close leaves it in place (and restores only what it installed). */
static void handler_set_after_open_is_kept(void **state)
{
    struct fx *f = *state;
    set_handler(SIGINT, SIG_DFL);
    set_handler(SIGTERM, SIG_DFL);
    evt_tracer *t = open_threaded(f);
    set_handler(SIGTERM, program_handler);
    f->t = NULL;
    assert_int_equal(evt_close(t), 0);
    assert_true(handler_of(SIGTERM) == program_handler);
    assert_true(handler_of(SIGINT) == SIG_DFL);
}

/* A program with its own handler or SIG_IGN is left alone, open to close. */
static void handlers_of_the_program_left_alone(void **state)
{
    struct fx *f = *state;
    set_handler(SIGINT, SIG_IGN);
    set_handler(SIGTERM, program_handler);
    evt_tracer *t = open_threaded(f);
    assert_true(handler_of(SIGINT) == SIG_IGN);
    assert_true(handler_of(SIGTERM) == program_handler);
    f->t = NULL;
    assert_int_equal(evt_close(t), 0);
    assert_true(handler_of(SIGINT) == SIG_IGN);
    assert_true(handler_of(SIGTERM) == program_handler);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* In a child: a flush thread that never wakes by itself (1 min interval),
 * a ring overflowed by 100 marks, then wait for the signal. */
static void sigterm_child(const char *path, int ready)
{
    alarm(20);   /* never outlive a broken test */
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigemptyset(&dfl.sa_mask);
    sigaction(SIGTERM, &dfl, NULL);
    struct evt_options o = {.path = path, .flush_thread = 1, .flush_interval_ms = 60000, .buffer_bytes = RING_BYTES};
    evt_tracer *t;
    if (evt_open(&t, &o) < 0)
        _exit(3);
    uint32_t name = evt_intern(t, "m");
    for (int i = 0; i < 100; i++)
        evt_mark(t, name, i);
    if (write(ready, "r", 1) != 1)
        _exit(4);
    for (;;)
        pause();
}

/* SIGTERM with no handler of the program's: the flush thread does the final
 * flush (every recorded mark, the pending drops, the closing CLOCK), the
 * handler returns as soon as it is done -- well before its 2 s limit -- and
 * the process still dies of SIGTERM. */
static void sigterm_final_flush_then_death(void **state)
{
    struct fx *f = *state;
    snprintf(f->path, sizeof f->path, "/tmp/evt_test_flush_XXXXXX");
    close(mkstemp(f->path));
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        sigterm_child(f->path, p[1]);
    }
    close(p[1]);
    char c;
    ssize_t got = read(p[0], &c, 1);
    close(p[0]);
    assert_int_equal(got, 1);
    uint64_t t0 = now_ns();
    kill(pid, SIGTERM);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    uint64_t took = now_ns() - t0;
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGTERM);
    assert_true(took < 1500000000ull);
    if (tc_decode_file(&f->tr, f->path))
        fail_msg("decode: %s", f->tr.error);
    assert_true(tc_lost(&f->tr) > 0);
    assert_int_equal(marks_between(&f->tr, 0, 100) + tc_lost(&f->tr), 100);
    assert_int_equal(tc_count(&f->tr, EVT_REC_CLOCK), 2);   /* at open, and the final flush's */
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(drain_wraps_around_the_ring),
        T(exited_thread_drops_written_when_reaped),
        T(live_thread_drops_written_where_they_happened),
        T(reaped_buffer_becomes_the_spare),
        T(reaped_buffer_freed_when_spare_exists),
        T(exited_thread_before_live_one_unlisted),
        T(final_flush_frees_nothing),
        T(signal_handlers_installed_and_restored),
        T(handler_set_after_open_is_kept),
        T(handlers_of_the_program_left_alone),
        T(sigterm_final_flush_then_death),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
