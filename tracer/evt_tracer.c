/* evt_tracer.c -- the tracer's life (open, close, flush) and the recording
 * functions of evtrace.h.
 *
 * A traced thread finds its buffer through evt__tls. Its first event takes
 * the slow path once: allocate the ring, name the thread, register the
 * buffer in the tracer's list under threads_mu and in a pthread key whose
 * destructor marks it dead when the thread exits (the flusher frees it after
 * draining it). Every later event is evt__record_inline (evt_internal.h):
 * three compares, rdtsc, four stores and a release store, no call.
 *
 * One tracer per process: the thread-local pointer can only serve one, and
 * the atexit, signal and fork handlers must find it; evt__g_hot.current holds it.
 * Generations (g_generation) tell a thread's buffer of this tracer from one
 * of an earlier tracer, already freed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "evt_internal.h"

__thread struct evt__tls evt__tls __attribute__((tls_model("initial-exec"), visibility("hidden")));

struct evt__hot evt__g_hot __attribute__((aligned(1024)));   /* evt__current() reads .current */
static _Atomic uint64_t g_generation;    /* makes every tracer's gen unique */
static uint64_t g_fork_gen;               /* tracers up to this gen came by fork: the parent's */
/* evt__fork_follow: who opens a fork child's own tracer (the preload's
 * --follow-fork), and whether this process is a child that has not asked
 * it yet. Process-wide like the fork itself; set once at start-up, and in
 * the child by its fork handler, when it is the only thread. */
static evt_tracer *(*g_fork_follow)(void);
static int g_fork_follow_pending;
/* A fork child's copy of the tracer its parent had open. Never freed (its
 * locks may have been held by threads the child does not have); kept here
 * so that it stays reachable once the child opens a tracer of its own. */
static evt_tracer *volatile g_inherited;   /* volatile: written, never read */
static pthread_once_t g_atexit_once = PTHREAD_ONCE_INIT;

/* t is this process's copy of its parent's tracer (it came by fork, as
 * memory: the parent's file, rings and lock, not ours to touch). */
static int tracer_inherited(const evt_tracer *t)
{
    uint64_t gen = atomic_load_explicit(&t->gen, memory_order_relaxed);
    return gen != EVT__GEN_CLOSED && gen <= g_fork_gen;
}

/* Nothing may be recorded into t: closed, or inherited. */
static int tracer_dead(const evt_tracer *t)
{
    return atomic_load_explicit(&t->gen, memory_order_relaxed) == EVT__GEN_CLOSED || tracer_inherited(t);
}

/* ---- per-thread buffers ------------------------------------------------- */

/* pthread key destructor: the thread is exiting. The flusher frees b. */
static void tbuf_thread_exit(void *p)
{
    struct evt__tbuf *b = p;
    if (evt__tls.buf == b) {
        evt__tls.buf = NULL;
        evt__tls.gen = 0;
    }
    atomic_store_explicit(&b->dead, 1, memory_order_release);
}

static int threads_append(evt_tracer *t, struct evt__tbuf *b)
{
    if (t->n_threads == t->cap_threads) {
        size_t cap = t->cap_threads ? t->cap_threads * 2 : 16;
        struct evt__tbuf **v = evt__shm_realloc(t->shm, t->threads, t->cap_threads * sizeof *v, cap * sizeof *v);
        if (!v)
            return -1;
        t->threads = v;
        t->cap_threads = cap;
    }
    t->threads[t->n_threads++] = b;
    b->enc.index = t->next_index++;
    return 0;
}

static struct evt__tbuf *tbuf_alloc(evt_tracer *t, int warm)
{
    struct evt__tbuf *b = evt__shm_calloc(t->shm, sizeof *b);
    if (b && evt__ring_init_in(&b->ring, t->ring_bytes, t->clock.source, warm, t->shm) < 0) {
        evt__shm_free(t->shm, b, sizeof *b);
        b = NULL;
    }
    return b;
}

static void tbuf_free(evt_tracer *t, struct evt__tbuf *b)
{
    evt__ring_free_in(&b->ring, t->shm);
    evt__shm_free(t->shm, b, sizeof *b);
}

/* The spare buffer: written once off the hot path (at open, then by the
 * flusher after each use), so a thread's first event takes it instead of
 * touching a fresh ring itself, which can take milliseconds (evt_ring.c).
 * Threads that start in a burst may find no spare: they get an untouched
 * ring, whose first lap is slower. Costs one more buffer of memory.
 *
 * When: at open (for the first thread that records), and after a thread
 * took it only once a second thread has recorded. Most libev programs
 * record from one thread; for them a second warm ring would be memory
 * never used, and touching it costs its page faults (15-70 ms of a core
 * for 4 MiB on this VM) right when the program starts working. So the
 * second thread of a program gets an untouched ring; the third and later
 * ones find a warm spare again. */
void evt__spare_refill(evt_tracer *t)
{
    pthread_mutex_lock(&t->threads_mu);
    int need = t->spare == NULL && t->next_index != 1;
    pthread_mutex_unlock(&t->threads_mu);
    struct evt__tbuf *b = need ? tbuf_alloc(t, 1) : NULL;
    if (!b)
        return;
    pthread_mutex_lock(&t->threads_mu);
    if (!t->spare) {
        t->spare = b;
        b = NULL;
    }
    pthread_mutex_unlock(&t->threads_mu);
    if (b)
        tbuf_free(t, b);
}

/* A buffer for the calling thread: the spare if there is one. */
static struct evt__tbuf *tbuf_new(evt_tracer *t)
{
    pthread_mutex_lock(&t->threads_mu);
    struct evt__tbuf *b = t->spare;
    t->spare = NULL;
    pthread_mutex_unlock(&t->threads_mu);
    if (!b && !(b = tbuf_alloc(t, 0)))
        return NULL;
    char name[17] = {0};
    prctl(PR_GET_NAME, name, 0, 0, 0);
    b->enc.tid = (uint32_t)gettid();
    b->enc.name = evt__strings_intern(&t->strings, name);
    return b;
}

struct evt__tbuf *evt__tbuf_get(evt_tracer *t)
{
    uint64_t gen = atomic_load_explicit(&t->gen, memory_order_acquire);
    if (gen == EVT__GEN_CLOSED || gen <= g_fork_gen)
        return NULL;
    if (evt__tls.gen == gen)
        return evt__tls.buf;
    struct evt__tbuf *b = tbuf_new(t);
    if (!b)
        return NULL;
    pthread_mutex_lock(&t->threads_mu);
    int ok = atomic_load_explicit(&t->gen, memory_order_relaxed) == gen && threads_append(t, b) == 0;
    pthread_mutex_unlock(&t->threads_mu);
    if (!ok) {
        tbuf_free(t, b);
        return NULL;
    }
    pthread_setspecific(t->key, b);
    evt__tls.buf = b;
    evt__tls.gen = gen;
    return b;
}

/* ---- recording ---------------------------------------------------------- */

/* The first event of a fork child that follows forks, recorded into the
 * inherited (dead) tracer: the opener makes the child's own tracer, and the
 * event goes there -- unless it ends something (a callback, an iteration, a
 * poll) whose beginning the parent's trace holds: the child was forked
 * inside it, and its trace starts after. */
static __attribute__((noinline)) void record_forked(uint8_t type, uint8_t kind, uint64_t obj, uint32_t arg)
{
    g_fork_follow_pending = 0;
    evt_tracer *n = g_fork_follow();
    if (!n || type == EVT_REC_CB_END || type == EVT_REC_LOOP_END || type == EVT_REC_POLL_END)
        return;
    evt__record_inline(n, type, kind, obj, arg);
}

/* A thread that could get no buffer (out of memory; with a consumer, the
 * shared region full: more than ~256 threads recording at once) records
 * nothing, but its events are counted (evt_lost). They are not in the file:
 * a LOST record belongs to a thread's chunk, and this thread has none. */
void evt__record_slow(evt_tracer *t, uint8_t type, uint8_t kind, uint64_t obj, uint32_t arg)
{
    struct evt__tbuf *b = evt__tbuf_get(t);
    if (b)
        evt__ring_put(&b->ring, type, kind, obj, arg);
    else if (!tracer_dead(t))
        atomic_fetch_add_explicit(&t->lost_nobuf, 1, memory_order_relaxed);
    else if (EVT_UNLIKELY(g_fork_follow_pending))
        record_forked(type, kind, obj, arg);
}

void evt__fork_follow(evt_tracer *(*open_child)(void))
{
    g_fork_follow = open_child;
}

void evt__record(evt_tracer *t, int type, int kind, uint64_t obj, uint32_t arg)
{
    evt__record_inline(t, (uint8_t)type, (uint8_t)kind, obj, arg);
}

void evt__record_watcher(evt_tracer *t, const void *w, int kind, int fd, uint32_t name, const void *loop)
{
    struct evt__tbuf *b = t ? evt__tbuf_get(t) : NULL;
    if (!b || !evt__ring_make_room(&b->ring, 2))
        return;
    struct evt__raw *r = evt__ring_slot(&b->ring, 0);
    struct evt__raw *c = evt__ring_slot(&b->ring, 1);
    *r = (struct evt__raw){.ts = evt__clock_ticks(b->ring.clock_source), .obj = (uintptr_t)w,
                           .arg = (uint32_t)fd, .type = EVT_REC_WATCHER, .kind = (uint8_t)kind};
    *c = (struct evt__raw){.ts = r->ts, .obj = (uintptr_t)loop, .arg = name, .type = EVT__RAW_CONT};
    evt__ring_commit(&b->ring, 2);
}

void evt_request_begin(evt_tracer *t, uint64_t id, uint32_t name)
{
    evt__record_inline(t, EVT_REC_REQ_BEGIN, 0, id, name);
}

void evt_request_phase(evt_tracer *t, uint64_t id, uint32_t phase)
{
    evt__record_inline(t, EVT_REC_REQ_PHASE, 0, id, phase);
}

void evt_request_end(evt_tracer *t, uint64_t id, uint32_t status)
{
    evt__record_inline(t, EVT_REC_REQ_END, 0, id, status);
}

void evt_mark(evt_tracer *t, uint32_t name, int64_t value)
{
    evt__record_inline(t, EVT_REC_MARK, 0, (uint64_t)value, name);
}

void evt_counter(evt_tracer *t, uint32_t name, int64_t value)
{
    evt__record_inline(t, EVT_REC_COUNTER, 0, (uint64_t)value, name);
}

uint32_t evt_intern(evt_tracer *t, const char *name)
{
    /* closed (or a fork child's copy, whose lock may be held forever by a
     * thread that did not come along): no lock, no id */
    if (!t || tracer_dead(t))
        return 0;
    return evt__strings_intern(&t->strings, name);
}

void evt_thread_name(evt_tracer *t, const char *name)
{
    uint32_t id = evt_intern(t, name);
    if (id)
        evt__record_inline(t, EVT_REC_THREAD, 0, (uint64_t)gettid(), id);
}

uint64_t evt_lost(const evt_tracer *t)
{
    if (!t)
        return 0;
    evt_tracer *m = (evt_tracer *)t;   /* the lock is not part of the value */
    uint64_t n = atomic_load(&m->lost_freed) + atomic_load(&m->lost_nobuf);
    pthread_mutex_lock(&m->threads_mu);
    for (size_t i = 0; i < m->n_threads; i++)
        n += atomic_load_explicit(&m->threads[i]->ring.lost_total, memory_order_relaxed);
    pthread_mutex_unlock(&m->threads_mu);
    return n;
}

/* ---- open and close ----------------------------------------------------- */

/* The file sink: write(2) straight to the fd, so what a flush wrote survives
 * a SIGKILL of the process a moment later. */
static int fd_sink(void *ctx, const void *data, size_t len)
{
    int fd = *(const int *)ctx;
    const char *p = data;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : EVT_EIO;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* /proc/self/comm, interned; 0 if unreadable. */
static uint32_t intern_comm(evt_tracer *t)
{
    char name[64] = {0};
    FILE *f = fopen("/proc/self/comm", "r");
    if (!f)
        return 0;
    if (!fgets(name, sizeof name, f))
        name[0] = 0;
    fclose(f);
    name[strcspn(name, "\n")] = 0;
    return evt_intern(t, name);
}

/* Header and the first meta chunk (strings so far, process, clock), so that
 * even a trace killed before its first flush says what it is. */
static int write_preamble(evt_tracer *t, const struct evt_options *opt)
{
    uint32_t pname = opt->process_name ? evt_intern(t, opt->process_name) : intern_comm(t);
    uint64_t now = evt__mono_ns();
    uint32_t flags = t->clock.source == EVT__CLOCK_TSC ? EVT_FILE_FLAG_TSC : 0;
    evt__enc_file_header(t->enc, t->pid, flags, t->clock.ns_base);
    evt__strings_encode(&t->strings, t->enc, now, 0);
    evt__enc_process(t->enc, now, t->pid, pname);
    evt__enc_clock(t->enc, now);
    return evt__enc_commit(t->enc);
}

static int tracer_finish(evt_tracer *t);

/* exit() with the tracer still open: write everything, free nothing. */
static void atexit_close(void)
{
    evt_tracer *t = evt__current();
    if (t && !tracer_dead(t))
        tracer_finish(t);
}

/* fork() child: the tracer belongs to the parent (its flusher did not come
 * along, its file is the parent's). The child records nothing and never
 * writes; its atexit does nothing. With a consumer the tracer is shared
 * memory, still the parent's: the child changes only what is its own (its
 * descriptors, its globals, its thread's TLS), and its copy of the socket
 * to the consumer must go, or the consumer would wait for this child's end
 * too before its final flush. Only plain stores and close here. */
static void fork_child(void)
{
    g_fork_gen = atomic_load(&g_generation);   /* every tracer so far is the parent's */
    evt_tracer *t = evt__current();
    if (!t)
        return;
    evt__tls.buf = NULL;
    evt__tls.gen = 0;
    g_inherited = t;
    /* Following forks, the inherited tracer stays current: the child's
     * first event, wherever it comes from (a callback's trampoline, the
     * loop's hooks), then reaches evt__record_slow, which has the child's
     * own tracer opened (evt_open replaces an inherited one). */
    g_fork_follow_pending = g_fork_follow != NULL;
    if (!g_fork_follow_pending)
        atomic_store(&evt__g_hot.current, NULL);
    if (t->shm) {
        if (t->ctl_fd >= 0)
            close(t->ctl_fd);
        if (t->fd >= 0)
            close(t->fd);
        return;
    }
    atomic_store(&t->gen, EVT__GEN_CLOSED);
    atomic_store(&t->stop, 1);
    t->has_flusher = 0;
    if (t->fd >= 0)
        close(t->fd);
    t->fd = -1;
}

static void register_atexit(void)
{
    atexit(atexit_close);
    pthread_atfork(NULL, NULL, fork_child);
}

/* See evt_internal.h. On stderr, since the trace the choice is about does
 * not exist yet; evt_open is off the hot path. The value is printed as
 * given, unquoted (as the user typed it): a trailing blank will not show. */
int evt__env_choice(const char *var, const char *a, const char *b)
{
    const char *v = getenv(var);
    if (!v || !*v)
        return 0;
    if (strcmp(v, a) == 0)
        return 1;
    if (strcmp(v, b) == 0)
        return 2;
    fprintf(stderr, "evtrace: %s=%s not understood (%s or %s); using the default\n", var, v, a, b);
    return 0;
}

/* A consumer process (evt_consumer.c) writes a file trace unless told not
 * to (flush_thread, EVTRACE_FLUSH=thread) or unsuited: sinks are called in
 * the program, a copy made while other threads run could inherit a lock
 * one of them holds, and copying a big program costs it a page fault for
 * each page it writes afterwards. */
static int want_consumer(const struct evt_options *opt)
{
    /* read first, so a bad value is reported whatever the options */
    int env = evt__env_choice("EVTRACE_FLUSH", "thread", "process");
    if (!opt->path || opt->no_flush_thread || opt->flush_thread || env == 1)
        return 0;
    return evt__consumer_suits(env == 2);
}

/* The shared region: room for 16 to 256 rings (fewer for big rings, so the
 * reservation stays under ~64 GiB of address space; only written pages
 * cost memory) plus 64 MiB for the rest. */
static size_t shm_size(size_t ring_bytes)
{
    size_t per = ring_bytes + 4096;
    size_t rings = ((size_t)64 << 30) / per;
    rings = rings < 16 ? 16 : rings > 256 ? 256 : rings;
    return rings * per + ((size_t)64 << 20);
}

/* Creates the trace file. An existing regular file of that name is
 * replaced, not truncated: a reader of the old trace (evview, evtrace
 * stats, an export) keeps all of it -- running the traced program again
 * while looking at its last trace is the usual way to get there -- where
 * truncating would cut it under the reader (and end any reader that maps
 * files with SIGBUS). Unlinked, the old file lives on until its readers
 * close it. Anything else (a FIFO, /dev/stdout, a
 * symlink's target) is opened as it is. Returns the fd or -errno. */
static int create_trace_file(const char *path)
{
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && unlink(path) == 0) {
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd >= 0 || errno != EEXIST)
            return fd >= 0 ? fd : -errno;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    return fd >= 0 ? fd : -errno;
}

static int tracer_init(evt_tracer *t, const struct evt_options *opt)
{
    t->pid = (uint32_t)getpid();
    t->flush_ms = opt->flush_interval_ms ? opt->flush_interval_ms : EVT__DEFAULT_FLUSH_MS;
    evt__mutex_init(&t->threads_mu, t->shm != NULL);
    pthread_mutex_init(&t->flush_mu, NULL);
    if (evt__strings_init(&t->strings, t->shm) < 0 || pthread_key_create(&t->key, tbuf_thread_exit) != 0)
        return EVT_ENOMEM;
    t->has_key = 1;
    evt__clock_init(&t->clock);
    if (opt->path) {
        t->fd = create_trace_file(opt->path);
        if (t->fd < 0)
            return t->fd;
        t->sink = fd_sink;
        t->sink_ctx = &t->fd;
    } else {
        t->sink = opt->sink;
        t->sink_ctx = opt->sink_ctx;
    }
    t->enc = evt__enc_new(t->sink, t->sink_ctx, &t->clock);
    if (!t->enc)
        return EVT_ENOMEM;
    int rc = write_preamble(t, opt);
    if (rc < 0)
        return rc;
    evt__spare_refill(t);   /* for the first thread that records */
    if (!t->spare)
        return EVT_ENOMEM;  /* buffer_bytes cannot be had: say so now */
    int consumer = t->shm && evt__consumer_start(t) == 0;
    if (!consumer && !opt->no_flush_thread && (rc = evt__flusher_start(t)) < 0)
        return rc;
    if (!opt->no_signal_handlers && (t->has_flusher || t->consumer_pid))
        evt__signals_install(t);
    return 0;
}

/* Frees what tracer_init and the threads built. With a shared region, all
 * of it goes with the region (t included); enc and snap are then the
 * consumer's, and ours were freed or never made. */
static void tracer_free(evt_tracer *t)
{
    if (!t->had_consumer)   /* else freed when the consumer started */
        evt__enc_free(t->enc);
    if (t->has_key)
        pthread_key_delete(t->key);
    if (t->fd >= 0)
        close(t->fd);
    if (t->shm) {
        if (!t->had_consumer)
            free(t->snap);
        evt__shm_destroy(t->shm);
        return;
    }
    for (size_t i = 0; i < t->n_threads; i++)
        tbuf_free(t, t->threads[i]);
    if (t->spare)
        tbuf_free(t, t->spare);
    free(t->threads);
    free(t->snap);
    evt__strings_free(&t->strings);
    pthread_mutex_destroy(&t->threads_mu);
    pthread_mutex_destroy(&t->flush_mu);
    free(t);
}

/* A zeroed tracer: in a new shared region when a consumer will write it
 * (or in the heap if the region cannot be had). */
static evt_tracer *tracer_alloc(const struct evt_options *opt)
{
    size_t ring_bytes = opt->buffer_bytes ? opt->buffer_bytes : EVT__DEFAULT_BUFFER;
    struct evt__shm *shm = want_consumer(opt) ? evt__shm_create(shm_size(ring_bytes)) : NULL;
    evt_tracer *t = evt__shm_calloc(shm, sizeof *t);
    if (!t) {
        evt__shm_destroy(shm);
        return NULL;
    }
    t->shm = shm;
    t->ring_bytes = ring_bytes;
    t->fd = t->ctl_fd = t->wake[0] = t->wake[1] = -1;
    return t;
}

int evt_open(evt_tracer **out, const struct evt_options *opt)
{
    if (!out || !opt || (!opt->path == !opt->sink))
        return EVT_EINVAL;
    *out = NULL;
    evt_tracer *expected = NULL;
    evt_tracer *t = tracer_alloc(opt);
    if (!t)
        return EVT_ENOMEM;
    while (!atomic_compare_exchange_strong(&evt__g_hot.current, &expected, t)) {
        if (!tracer_dead(expected)) {   /* a dead one (a fork child's copy of its parent's) is replaced */
            tracer_free(t);
            return EVT_EBUSY;
        }
    }
    atomic_store(&t->gen, atomic_fetch_add(&g_generation, 1) + 1);
    int rc = tracer_init(t, opt);
    if (rc < 0) {
        evt__signals_restore(t);
        evt__flusher_stop(t);
        atomic_store(&evt__g_hot.current, NULL);
        tracer_free(t);
        return rc;
    }
    pthread_once(&g_atexit_once, register_atexit);
    *out = t;
    return 0;
}

int evt_open_file(evt_tracer **out, const char *path)
{
    struct evt_options opt = {.path = path};
    return evt_open(out, &opt);
}

int evt_flush(evt_tracer *t)
{
    if (!t || tracer_dead(t))
        return 0;
    pthread_mutex_lock(&t->flush_mu);
    int rc = 0;
    if (atomic_load(&t->gen) != EVT__GEN_CLOSED)
        rc = t->consumer_pid ? evt__consumer_request(t, 'f') : evt__flush_locked(t, 0);
    pthread_mutex_unlock(&t->flush_mu);
    return rc;
}

/* Everything evt_close does except freeing: the final flush and closing the
 * file. At exit() other threads may still be running and recording, so the
 * atexit path stops here: they see a closed tracer, not freed memory (which
 * stays reachable through evt__g_hot.current until the process is gone). */
static int tracer_finish(evt_tracer *t)
{
    evt__signals_restore(t);
    evt__flusher_stop(t);
    evt__loops_forget(t);
    int rc = 0;
    if (atomic_exchange(&t->gen, EVT__GEN_CLOSED) != EVT__GEN_CLOSED) {   /* not a fork child's */
        pthread_mutex_lock(&t->flush_mu);
        rc = t->consumer_pid ? evt__consumer_request(t, 'c') : evt__flush_locked(t, EVT__FLUSH_FINAL);
        pthread_mutex_unlock(&t->flush_mu);
    }
    if (t->ctl_fd >= 0)
        close(t->ctl_fd);
    t->ctl_fd = -1;
    if (t->fd >= 0 && close(t->fd) < 0 && rc == 0)
        rc = EVT_EIO;
    t->fd = -1;
    return rc;
}

int evt_close(evt_tracer *t)
{
    if (!t || tracer_inherited(t))   /* a fork child's copy is its parent's */
        return 0;
    int rc = tracer_finish(t);
    atomic_store(&evt__g_hot.current, NULL);
    tracer_free(t);
    return rc;
}
