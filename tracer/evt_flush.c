/* evt_flush.c -- from rings to the sink: the drain, the flusher thread and
 * the SIGINT/SIGTERM flush.
 *
 * A flush is run by whoever writes the file: the consumer process
 * (evt_consumer.c, the default for a file) or the flusher thread below.
 *
 * A flush, in this order (flush_mu held, or the consumer's, so it is the
 * only one):
 *   1. refine the clock's rate (evt_clock.h);
 *   2. drain every registered ring into its thread chunk, giving the slots
 *      back as soon as they are encoded;
 *   3. encode the strings interned so far: every id a drained event holds
 *      was interned before the event was recorded, so it is among them;
 *   4. commit: the meta chunk (strings) goes out before the thread chunks,
 *      so a reader never meets an id before its string;
 *   5. free the buffers of threads that exited (drained to the end above),
 *      or keep one as the spare for the next new thread (evt_tracer.c).
 * A final flush (close, signal, the program's end) also writes each
 * thread's pending lost count and a last CLOCK record, and frees nothing.
 *
 * The flusher wakes every flush_interval_ms (poll on a pipe with a timeout;
 * the pipe wakes it early at close and on a signal) and writes with write(2),
 * so a process killed with SIGKILL loses at most one interval of events
 * (the consumer process loses none: it outlives the program).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "evt_internal.h"

/* Copies the thread list so the drain runs without threads_mu. Buffers are
 * freed only by the flush itself, so the copies stay valid. */
static size_t snapshot_threads(evt_tracer *t, int orphan)
{
    int locked = evt__mutex_lock(&t->threads_mu, orphan);
    size_t n = t->n_threads;
    if (n > t->cap_snap) {
        struct evt__tbuf **v = realloc(t->snap, n * sizeof *v);
        if (v) {
            t->snap = v;
            t->cap_snap = n;
        } else {
            n = 0;
        }
    }
    if (n)
        memcpy(t->snap, t->threads, n * sizeof *t->snap);
    if (locked)
        pthread_mutex_unlock(&t->threads_mu);
    return n;
}

/* Encodes b's published events (and, if final or dead, its pending drops).
 * Returns 1 if the thread is dead and now fully drained. */
static int drain_thread(evt_tracer *t, struct evt__tbuf *b, int final)
{
    struct evt__ring *r = &b->ring;
    int dead = atomic_load_explicit(&b->dead, memory_order_acquire);
    uint64_t tail;
    uint64_t head = evt__ring_readable(r, &tail);
    while (tail != head) {
        uint64_t off = tail & r->mask;
        uint64_t run = head - tail;
        if (run > evt__ring_capacity(r) - off)
            run = evt__ring_capacity(r) - off;
        evt__enc_events(t->enc, &b->enc, &r->slots[off], (size_t)run);
        tail += run;
    }
    evt__ring_release(r, tail);
    if (final || dead) {
        uint64_t since;
        uint64_t count = evt__ring_take_lost(r, &since);
        evt__enc_lost(t->enc, &b->enc, count, since, evt__clock_ticks(t->clock.source));
    }
    evt__enc_thread_end(t->enc, &b->enc);
    return dead;
}

/* Unlists the buffer of an exited thread; keeps it as the spare or frees it. */
static void free_dead(evt_tracer *t, struct evt__tbuf *b)
{
    pthread_mutex_lock(&t->threads_mu);
    for (size_t i = 0; i < t->n_threads; i++) {
        if (t->threads[i] == b) {
            t->threads[i] = t->threads[--t->n_threads];
            break;
        }
    }
    atomic_fetch_add(&t->lost_freed, atomic_load(&b->ring.lost_total));
    if (!t->spare) {   /* still warm: the next new thread can have it */
        evt__ring_reset(&b->ring);
        memset(&b->enc, 0, sizeof b->enc);
        atomic_store(&b->dead, 0);
        t->spare = b;
        b = NULL;
    }
    pthread_mutex_unlock(&t->threads_mu);
    if (b) {
        evt__ring_free_in(&b->ring, t->shm);
        evt__shm_free(t->shm, b, sizeof *b);
    }
}

/* A final flush frees no buffer: evt_close frees them all after it, and a
 * consumer whose program died exits right after it. */
int evt__flush_locked(evt_tracer *t, int final)
{
    int orphan = (final & EVT__FLUSH_ORPHAN) != 0;
    evt__clock_refine(&t->clock);
    size_t n = snapshot_threads(t, orphan);
    for (size_t i = 0; i < n; i++)
        if (!drain_thread(t, t->snap[i], final))
            t->snap[i] = NULL;
    uint64_t now = evt__mono_ns();
    evt__strings_encode(&t->strings, t->enc, now, orphan);
    if (final)
        evt__enc_clock(t->enc, now);
    int rc = evt__enc_commit(t->enc);
    for (size_t i = 0; i < n && !final; i++)
        if (t->snap[i])
            free_dead(t, t->snap[i]);
    return rc;
}

/* ---- the flusher thread ------------------------------------------------- */

static void drain_pipe(int fd)
{
    char buf[64];
    while (read(fd, buf, sizeof buf) > 0)
        ;
}

/* The flusher is background work: SCHED_BATCH keeps its fair share of CPU
 * (so it keeps up and the rings do not overflow) but stops it from
 * preempting the program's threads when its timer wakes it. Done on
 * principle: on this project's noisy 2-core VM the effect on
 * bench_server.sh was below what it can measure. If the policy cannot be
 * set (seccomp...), the flusher keeps the default one. */
static void flusher_sched_batch(void)
{
    struct sched_param sp = {.sched_priority = 0};
    (void)pthread_setschedparam(pthread_self(), SCHED_BATCH, &sp);
}

static void *flusher_main(void *arg)
{
    evt_tracer *t = arg;
    struct pollfd p = {.fd = t->wake[0], .events = POLLIN};
    flusher_sched_batch();
    while (!atomic_load(&t->stop)) {
        poll(&p, 1, (int)t->flush_ms);
        drain_pipe(t->wake[0]);
        int sig = atomic_load(&t->sig_request);
        if (atomic_load(&t->stop) && !sig)
            break;                      /* evt_close does the final flush */
        pthread_mutex_lock(&t->flush_mu);
        evt__flush_locked(t, sig);
        pthread_mutex_unlock(&t->flush_mu);
        if (sig) {                      /* the process is about to die */
            atomic_store(&t->sig_request, 0);
            atomic_store(&t->sig_done, 1);
            continue;
        }
        evt__spare_refill(t);
    }
    return NULL;
}

int evt__flusher_start(evt_tracer *t)
{
    if (pipe2(t->wake, O_CLOEXEC | O_NONBLOCK) < 0)
        return -errno;
    /* The flusher must never run a signal handler (the handler waits for
     * it): it inherits a fully blocked mask. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&t->flusher, NULL, flusher_main, t);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        return -rc;
    t->has_flusher = 1;
    return 0;
}

void evt__flusher_stop(evt_tracer *t)
{
    if (t->has_flusher) {
        atomic_store(&t->stop, 1);
        char c = 1;
        if (write(t->wake[1], &c, 1) < 0) {
            /* full pipe: the flusher is awake anyway */
        }
        pthread_join(t->flusher, NULL);
        t->has_flusher = 0;
    }
    for (int i = 0; i < 2; i++) {
        if (t->wake[i] >= 0)
            close(t->wake[i]);
        t->wake[i] = -1;
    }
}

/* ---- SIGINT / SIGTERM ----------------------------------------------------
 * Installed only where the disposition was SIG_DFL (the process would have
 * died without running atexit): the handler wakes the flusher for a final
 * flush, waits for it (at most EVT__SIGNAL_WAIT_MS, async-signal-safe
 * nanosleep polling of an atomic), restores SIG_DFL and re-raises, so the
 * process still dies of the signal with the trace complete. A program with
 * its own handler (or SIG_IGN) is left alone: if it exits, atexit flushes.
 * Limit: if the signal lands on a thread that holds flush_mu (inside
 * evt_flush), the wait times out and the last interval is lost. */

static const int g_signals[2] = {SIGINT, SIGTERM};

static void on_signal(int sig)
{
    int saved = errno;
    evt_tracer *t = evt__current();
    if (t && t->consumer_pid && atomic_load(&t->gen) != EVT__GEN_CLOSED) {
        /* the consumer does the final flush; send and recv are
         * async-signal-safe, and its answer means the file is complete */
        char c = 'c';
        if (send(t->ctl_fd, &c, 1, MSG_NOSIGNAL) == 1 && recv(t->ctl_fd, &c, 1, 0) < 0) {
            /* interrupted: the consumer still finishes once we are gone */
        }
    } else if (t && !atomic_load(&t->stop) && t->wake[1] >= 0) {
        atomic_store(&t->sig_request, 1);
        char c = 1;
        if (write(t->wake[1], &c, 1) < 0) {
            /* full pipe: already awake */
        }
        struct timespec ms = {0, 1000000};
        for (unsigned i = 0; i < EVT__SIGNAL_WAIT_MS && !atomic_load(&t->sig_done); i++)
            nanosleep(&ms, NULL);
    }
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
    raise(sig);                         /* delivered when the handler returns */
    errno = saved;
}

void evt__signals_install(evt_tracer *t)
{
    for (int i = 0; i < 2; i++) {
        struct sigaction old;
        if (sigaction(g_signals[i], NULL, &old) < 0 || (old.sa_flags & SA_SIGINFO) ||
            old.sa_handler != SIG_DFL)
            continue;
        struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART};
        sigfillset(&sa.sa_mask);
        if (sigaction(g_signals[i], &sa, NULL) == 0) {
            t->sig_installed[i] = 1;
            t->sig_old[i] = old;
        }
    }
}

void evt__signals_restore(evt_tracer *t)
{
    for (int i = 0; i < 2; i++) {
        struct sigaction cur;
        if (!t->sig_installed[i])
            continue;
        t->sig_installed[i] = 0;
        if (sigaction(g_signals[i], NULL, &cur) == 0 && cur.sa_handler == on_signal)
            sigaction(g_signals[i], &t->sig_old[i], NULL);
    }
}
