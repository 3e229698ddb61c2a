/* evt_internal.h -- libevtrace's insides, shared by its modules and by the
 * LD_PRELOAD shim (evt_preload.c). Not for programs: use evtrace.h.
 *
 * Raw events (evt_ring.h, struct evt__raw), by type -- what the hot path
 * stores and the encoder (evt_encode.c) expects:
 *
 *   THREAD                obj = tid, arg = name id           (evt_thread_name)
 *   LOOP_BEGIN/END, POLL_BEGIN/END   obj = loop address
 *   WATCHER + CONT        obj = watcher, kind, arg = fd (int32);
 *                         CONT: obj = loop address, arg = name id
 *   WSTART, WSTOP         obj = watcher, kind (0 = unknown), arg = fd
 *   CB_BEGIN              obj = watcher, arg = revents
 *   CB_END                obj = watcher
 *   REQ_BEGIN/PHASE       obj = request id, arg = name / phase id
 *   REQ_END               obj = request id, arg = status
 *   MARK, COUNTER         obj = value (int64 as uint64), arg = name id
 *   LOST + CONT           obj = count; CONT: obj = ticks of the first drop
 *   EVT__RAW_LOOP_GONE    obj = loop address (ev_loop_destroy; writes nothing)
 *
 * The one piece of thread-local state is evt__tls: the calling thread's
 * buffer and the generation of the tracer it belongs to. A tracer's
 * generation is unique per evt_open and becomes EVT__GEN_CLOSED at close, so
 * one compare tells the hot path both "this thread has a buffer for this
 * tracer" and "the tracer is still open"; a stale buffer pointer from an
 * earlier tracer is never dereferenced.
 *
 * Process-wide state (the documented exceptions to "no global mutable
 * state"): the open tracer, a generation counter and a "this process is a
 * fork of a traced one" flag (evt_tracer.c; one tracer per process: the
 * thread-local buffers and the atexit, signal and fork handlers need to
 * find it, and a fork child must leave the shared tracer to its parent),
 * the table of wrapped watcher callbacks (evt_wrap.c) and the per-loop hook registry (evt_loop.c), which must
 * outlive any one tracer because libev keeps calling what was installed.
 */
#ifndef EVT_INTERNAL_H
#define EVT_INTERNAL_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>

#include "evt_clock.h"
#include "evt_encode.h"
#include "evt_format.h"
#include "evt_ring.h"
#include "evt_shm.h"
#include "evtrace.h"

#define EVT__GEN_CLOSED UINT64_MAX
#define EVT__DEFAULT_BUFFER (4u << 20)
#define EVT__DEFAULT_FLUSH_MS 50u
#define EVT__SIGNAL_WAIT_MS 2000u

/* One traced thread. ring is the producer's; the rest is the flusher's. */
struct evt__tbuf {
    struct evt__ring ring;
    struct evt__enc_thread enc;
    _Atomic int dead;              /* the thread exited (pthread key destructor) */
};

struct evt__tls {
    uint64_t gen;
    struct evt__tbuf *buf;
    const void *next;   /* where the next event likely goes: a prefetch hint, never dereferenced */
};
extern __thread struct evt__tls evt__tls __attribute__((tls_model("initial-exec"), visibility("hidden")));

/* Interned strings: id = index + 1. */
struct evt__strings {
    pthread_mutex_t mu;            /* process-shared when shm is set */
    struct evt__shm *shm;          /* where the table lives; NULL: the heap */
    char **text;
    size_t n, cap;
    uint32_t *hash;                /* open addressing over ids, 0 = empty */
    size_t hash_cap;
    uint32_t written;              /* ids <= written are in the file */
};

/* With a consumer process (evt_consumer.c) the tracer itself and all it
 * points to live in the shared region shm, except enc and snap, which only
 * the consumer uses after the fork (each side has its own heap copy). */
struct evt_tracer {
    _Atomic uint64_t gen;          /* hot path: read on every event */
    struct evt__shm *shm;          /* NULL: no consumer process, all private */
    struct evt__clock clock;
    size_t ring_bytes;
    unsigned flush_ms;
    pthread_key_t key;
    int has_key;

    pthread_mutex_t threads_mu;    /* guards threads[] and next_index */
    struct evt__tbuf **threads;
    size_t n_threads, cap_threads;
    uint32_t next_index;
    struct evt__tbuf *spare;       /* a warm buffer for the next new thread */

    struct evt__strings strings;

    pthread_mutex_t flush_mu;      /* one flush at a time; guards enc, snap, sink */
    evt__enc *enc;
    struct evt__tbuf **snap;
    size_t cap_snap;
    _Atomic uint64_t lost_freed;   /* lost totals of buffers already freed */
    _Atomic uint64_t lost_nobuf;   /* events of threads that could get no buffer */
    int fd;                        /* file, or -1 with a sink */
    evt_sink_fn sink;
    void *sink_ctx;
    uint32_t pid;

    int consumer_pid;              /* the consumer process, 0: none */
    int had_consumer;              /* one was started (snap is its memory) */
    int ctl_fd;                    /* program's end of the socket to the consumer */

    pthread_t flusher;
    int has_flusher;
    int wake[2];                   /* pipe: anything written wakes the flusher */
    _Atomic int stop;
    _Atomic int sig_request;       /* a signal handler asks for the final flush */
    _Atomic int sig_done;          /* ...and the flusher did it */
    int sig_installed[2];          /* SIGINT, SIGTERM */
    struct sigaction sig_old[2];
};

/* evt_strings.c: the intern table. */
int evt__strings_init(struct evt__strings *s, struct evt__shm *shm);
void evt__strings_free(struct evt__strings *s);
uint32_t evt__strings_intern(struct evt__strings *s, const char *name);
/* Encodes the strings not yet in the file as meta records (flusher). */
void evt__strings_encode(struct evt__strings *s, evt__enc *e, uint64_t now_ns, int peer_dead);

/* evt_flush.c: draining, the flusher thread, the SIGINT/SIGTERM flush.
 * final: 0, or EVT__FLUSH_FINAL (lost counts, last clock), or'ed with
 * EVT__FLUSH_ORPHAN when the program is gone (consumer: locks it may have
 * died holding are not waited for). */
#define EVT__FLUSH_FINAL 1
#define EVT__FLUSH_ORPHAN 2
int evt__flush_locked(evt_tracer *t, int final);   /* caller holds flush_mu */
int evt__flusher_start(evt_tracer *t);
void evt__flusher_stop(evt_tracer *t);
void evt__signals_install(evt_tracer *t);
void evt__signals_restore(evt_tracer *t);

/* What a wrapped callback reads on every call, kept in one place: the open
 * tracer and the original callbacks of the pooled trampolines (evt_wrap.c).
 * Why together: on a machine whose system calls flush the TLB (kernel page
 * table isolation without PCID, as on this project's VM), the first touch
 * of each page after a system call costs a page walk (~15 ns here), and a
 * callback runs right after epoll_wait. One page for both, not two.
 * 1024-aligned, so that its 520 bytes never straddle a page boundary. */
#define EVT__TRAMPS 64
struct evt__hot {
    _Atomic(evt_tracer *) current;     /* written by evt_open, evt_close and the fork handler */
    _Atomic uintptr_t tramp_cb[EVT__TRAMPS];   /* pooled trampoline i calls tramp_cb[i] */
};
extern struct evt__hot evt__g_hot __attribute__((visibility("hidden")));

/* The open tracer, or NULL: one load, inlined (the trampoline asks twice
 * per callback). */
static inline evt_tracer *evt__current(void)
{
    return atomic_load_explicit(&evt__g_hot.current, memory_order_acquire);
}

/* The trampolines (evt_wrap.c) are all in one section of their own, so "is
 * cb a trampoline" is a range check; the linker defines its bounds. */
extern const char __start_evt_tramps[] __attribute__((visibility("hidden")));
extern const char __stop_evt_tramps[] __attribute__((visibility("hidden")));
static inline int evt__is_tramp(const void *cb)
{
    return (uintptr_t)cb - (uintptr_t)__start_evt_tramps < (uintptr_t)(__stop_evt_tramps - __start_evt_tramps);
}

/* evt_consumer.c: the consumer process. suits says whether a copy of the
 * process can write the trace (one thread, and unless any_size at most
 * EVT__CONSUMER_MAX_ANON of anonymous memory: evt_consumer.c says why);
 * start forks it (the caller must be the only thread); request asks it to
 * flush now and waits (cmd 'f'), or to do the final flush and exit (cmd
 * 'c'; also reaps it). */
#define EVT__CONSUMER_MAX_ANON ((size_t)16 << 20)
int evt__consumer_suits(int any_size);
int evt__consumer_start(evt_tracer *t);
int evt__consumer_request(evt_tracer *t, char cmd);

/* The environment's say in evt_open (EVTRACE_FLUSH, EVTRACE_CLOCK): 1 if
 * variable var is a, 2 if it is b, 0 if it is unset or empty (the default;
 * empty counts as unset, so that VAR= on a command line clears it). Any
 * other value gives 0 too, and one line on stderr naming the variable and
 * the value: a typo must not give the default silently, and evt_open
 * cannot fail over it. Not quiet for a program that re-opens: each evt_open
 * says it again (so does each fork child that record --follow-fork traces). */
int evt__env_choice(const char *var, const char *a, const char *b);

/* Makes a warm spare buffer if there is none (flusher, open; slow). */
void evt__spare_refill(evt_tracer *t);

/* The calling thread's buffer for t, created on its first event; NULL when
 * t is closed or memory ran out (the event is then not recorded). */
struct evt__tbuf *evt__tbuf_get(evt_tracer *t);

/* Everything off the fast path: a thread's first event, a closed tracer, a
 * full ring. Never inlined, so the fast path needs no stack frame. */
void evt__record_slow(evt_tracer *t, uint8_t type, uint8_t kind, uint64_t obj, uint32_t arg)
    __attribute__((noinline, visibility("hidden")));

/* Fork children that follow: open_child is called in a child forked while a
 * tracer was open, at the child's first event, once; it opens the child's
 * own tracer (evt_open) and returns it, or NULL. Until then the inherited
 * tracer stays current (dead: nothing goes into it). Without it (the
 * default) a child never traces with its parent's tracer and nothing opens
 * one for it. Set once, before the first fork (the preload does, for
 * record --follow-fork). */
void evt__fork_follow(evt_tracer *(*open_child)(void));

/* The hot path's test: this thread's buffer for t if it is current (the
 * thread has one for this open tracer), has room for one event and stamps
 * with the TSC; else NULL, and the event takes the slow path. One compare
 * each, no call. */
static inline struct evt__tbuf *evt__fast_buf(const evt_tracer *t)
{
    struct evt__tbuf *b = evt__tls.buf;
    if (EVT_UNLIKELY(evt__tls.gen != atomic_load_explicit(&t->gen, memory_order_relaxed)) ||
        EVT_UNLIKELY(!evt__ring_has_room(&b->ring)) || EVT_UNLIKELY(b->ring.clock_source != EVT__CLOCK_TSC))
        return NULL;
    return b;
}

/* One event into a buffer evt__fast_buf gave: rdtsc, four stores and a
 * release store of head; then the slot after it becomes the thread's
 * prefetch hint (evt__tls.next). */
static inline void evt__fast_push(struct evt__tbuf *b, uint8_t type, uint8_t kind, uint64_t obj, uint32_t arg)
{
#if defined(__x86_64__)
    /* past the ring's last slot the hint points past its end: a wasted
     * prefetch once a lap, not worth a branch on every event */
    evt__tls.next = evt__ring_push_ts(&b->ring, __rdtsc(), type, kind, obj, arg) + 1;
#else
    (void)b, (void)type, (void)kind, (void)obj, (void)arg;   /* not reached: no TSC, no fast buffer */
#endif
}

/* The hot path, inlined into every recording function of the library: the
 * fast buffer's three compares, then the push. No call, so no stack frame:
 * the monotonic clock (a call to clock_gettime) takes the slow path.
 * It starts with a prefetch of the slot the event will most likely take,
 * an address the thread's own TLS holds: where system calls empty the TLB,
 * the slot's page walk then starts at once, in parallel with the walks for
 * the tracer and the buffer header, instead of after them (a trampoline's
 * event found its slot only after three dependent loads: the open tracer,
 * the buffer, the ring). Measured with perf on the busy async_server:
 * libevtrace.so's samples over the program's own user-space samples, 0.210
 * without (seven runs, 0.178-0.236), 0.186 with (seven, 0.172-0.203). A
 * stale hint (another path wrote the last event, the buffer is gone) costs
 * nothing: a prefetch never faults and nothing reads through it. */
static inline void evt__record_inline(evt_tracer *t, uint8_t type, uint8_t kind, uint64_t obj, uint32_t arg)
{
    if (EVT_UNLIKELY(!t))
        return;
    __builtin_prefetch(evt__tls.next, 1);
    struct evt__tbuf *b = evt__fast_buf(t);
    if (EVT_UNLIKELY(!b)) {
        evt__record_slow(t, type, kind, obj, arg);
        return;
    }
    evt__fast_push(b, type, kind, obj, arg);
}

/* ---- for the preload shim (and the rest of the library) -----------------
 * All accept t == NULL. None allocates except on a thread's first event. */

/* Records one raw event of the table above for the calling thread. */
void evt__record(evt_tracer *t, int type, int kind, uint64_t obj, uint32_t arg);

/* Records a watcher definition (WATCHER + CONT): kind (enum evt_kind), fd or
 * signum or -1, name id (0 = none), loop (may be NULL). */
void evt__record_watcher(evt_tracer *t, const void *w, int kind, int fd, uint32_t name, const void *loop);

/* evt_wrap.c: wraps w's callback so each call records CB_BEGIN/CB_END into
 * the open tracer (whichever it is at call time). Safe to call again for the
 * same w (re-reads w->cb unless it is already the trampoline). Returns 0 or
 * EVT_ENOMEM. Does not record the definition: evt_watch does both. */
int evt__wrap(ev_watcher *w, int kind, int fd);
/* Puts the original callback back and forgets w. */
void evt__unwrap(ev_watcher *w);
/* 1 if w's callback is currently wrapped (one of the trampolines). */
int evt__is_wrapped(const ev_watcher *w);
/* Every watcher wrapped now: its address, original callback, and the kind
 * and fd it was wrapped with. *out is malloc'ed (the caller frees it; NULL
 * if none or out of memory); returns the count. A fork child traced with
 * --follow-fork defines its parent's watchers in its own trace with it. */
struct evt__wrapped {
    ev_watcher *w;
    const void *cb;
    int kind, fd;
};
size_t evt__wrapped(struct evt__wrapped **out);

/* evt_loop.c: installs / removes the loop hooks for t. evt_close calls
 * evt__loops_forget(t), which stops recording without touching any loop
 * (they may be running in other threads). */
int evt__loop_attach(evt_tracer *t, struct ev_loop *loop);
int evt__loop_detach(evt_tracer *t, struct ev_loop *loop);
void evt__loops_forget(evt_tracer *t);
/* In a forked child that traces on its own: every loop that recorded into
 * the parent's tracer records into t (their hooks are in place already).
 * Takes the loops' lock: a parent thread holding it at the fork would hang
 * the child here -- it is taken only to attach, detach or destroy a loop. */
void evt__loops_adopt(evt_tracer *t);
/* libev's definition of name: the next one after the caller's object in
 * the lookup order, else the one in an already loaded libev.so.4 that is
 * not in the global scope (a library dlopen'ed with RTLD_LOCAL that links
 * libev, as Python loads gevent's extension); NULL if libev is not loaded. */
void *evt__libev_sym(const char *name);
/* The tracer loop is attached to (recording into), or NULL. Lock-free. */
evt_tracer *evt__loop_tracer(struct ev_loop *loop);
/* 1 if w is one of libevtrace's own watchers (the per-loop prepare watcher
 * that marks iterations): a shim that records watcher starts should skip it. */
int evt__is_own_watcher(const void *w);

#endif /* EVT_INTERNAL_H */
