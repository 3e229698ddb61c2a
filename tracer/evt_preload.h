/* evt_preload.h -- the LD_PRELOAD shim's insides (libevtrace_preload.so).
 *
 * The shim defines libev's exported functions (ev_io_start, ev_loop_new...)
 * and accept/accept4/close. A program linked with libev.so.4 resolves those
 * names to the shim first, because LD_PRELOAD puts it before libev in the
 * lookup order; each hook records what happened and calls the real function,
 * found with dlsym(RTLD_NEXT). libev also calls its own exported functions
 * through the PLT (ev_timer_again calls ev_timer_start, ev_run stops one-shot
 * timers, ev_signal_start starts libev's own pipe watcher...), so the hooks
 * see libev's calls as well as the program's; two rules sort them out:
 *
 *   - depth: a thread-local counter raised while a hook runs the real
 *     function; a hook entered at depth > 0 is libev (or the tracer)
 *     calling itself and just forwards. This is what keeps ev_timer_again
 *     from also recording the start/stop it does inside.
 *   - internal callbacks: a watcher whose callback lies inside libev or
 *     inside the shim is libev's (or the tracer's) own -- the signal pipe,
 *     the child watcher, an embed's prepare watcher, ev_once's watchers --
 *     and is never recorded or wrapped.
 * What libev does at depth 0 on the program's watchers is recorded: ev_run
 * stopping a one-shot timer before its callback is a real WSTOP.
 *
 * Files: evt_preload.c (constructor, environment, status socket, the lazy
 * tracer, fork), evt_preload_hooks.c (the libev hooks), evt_preload_conn.c
 * (accept/close: one request lane per connection).
 *
 * Process-wide state: the shim has no context parameter to carry state in
 * (its callers are unmodified programs), so it keeps one struct, written
 * once under pthread_once and read-only afterwards except for the atomics
 * it documents -- the same exception evt_internal.h makes for the open
 * tracer.
 */
#ifndef EVT_PRELOAD_H
#define EVT_PRELOAD_H

#include <ev.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>

#include "evt_format.h"
#include "evt_internal.h"
#include "evtrace.h"

typedef void (*evt__start_fn)(struct ev_loop *loop, void *w);

/* The real functions (libev's and libc's), resolved once. */
struct evt__preload_real {
    evt__start_fn start[EVT_KIND_COUNT];   /* indexed by enum evt_kind */
    evt__start_fn stop[EVT_KIND_COUNT];
    evt__start_fn timer_again, periodic_again;
    struct ev_loop *(*default_loop)(unsigned flags);
    struct ev_loop *(*loop_new)(unsigned flags);
    void (*invoke_pending)(struct ev_loop *loop);
    unsigned (*depth)(struct ev_loop *loop);
    void (*ref)(struct ev_loop *loop);
    void (*unref)(struct ev_loop *loop);
    int (*accept)(int fd, struct sockaddr *addr, socklen_t *len);
    int (*accept4)(int fd, struct sockaddr *addr, socklen_t *len, int flags);
    int (*close)(int fd);
    void (*once)(struct ev_loop *loop, int fd, int events, ev_tstamp timeout, void (*cb)(int revents, void *arg),
                 void *arg);
};

/* Names the shim records, interned when the tracer opens. */
struct evt__preload_names {
    uint32_t conn, open, active;
};

/* Address range [lo, hi) of a loaded object's segments. */
struct evt__range {
    uintptr_t lo, hi;
};

struct evt__preload {
    struct evt__preload_real real;
    struct evt__range libev, self;   /* callbacks in here are internal */
    int status_fd;                   /* EVTRACE_STATUS_FD, or -1 */
    int libev_present;               /* libev's functions are resolved */
    int builtin_said;                /* "builtin PATH" sent (evt_preload.c) */
    char output[4096];               /* trace path for the process record started */
    int output_pid;                  /* ...which is this pid (0: not this one) */
    char dir[4096];                  /* where the others' NAME.PID.evtrace go */
    _Atomic(evt_tracer *) tracer;    /* set once the trace is open */
    _Atomic int open_failed;
    int follow_fork;                 /* EVTRACE_FOLLOW_FORK=1 (record --follow-fork) */
    int forked_from;                 /* in such a child: its parent's pid */
    int forked;                      /* enum evt__forked: in a child forked with
                                        the trace open, what its first event or
                                        hook does */
    struct evt__preload_names names;
    _Atomic(struct ev_loop *) default_loop;   /* attached default loop */
    ev_cleanup default_cleanup;      /* on it: forgets it at ev_loop_destroy */
    _Atomic uint64_t *fds;           /* evt_preload_conn.c: state per fd */
    int n_fds;
    _Atomic uint64_t next_conn;      /* request ids of connection lanes */
};

/* Thread-local: > 0 while a hook is inside a real libev function. */
extern __thread int evt__preload_depth __attribute__((tls_model("initial-exec"), visibility("hidden")));

/* The shim's state, initialised on first use (the constructor, or a hook
 * called before it by another library's constructor). The fast path is a
 * load of a flag: every hook starts here. */
extern struct evt__preload evt__preload_g __attribute__((visibility("hidden")));
extern _Atomic int evt__preload_ready __attribute__((visibility("hidden")));
#define EVT__PRELOAD_READY 1    /* initialised: the libc hooks can run */
#define EVT__PRELOAD_LIBEV 2    /* and libev's functions are known */
struct evt__preload *evt__preload_init(void);
struct evt__preload *evt__preload_libev(void);

/* For the libc hooks (accept, close), which run in any program. */
static inline struct evt__preload *evt__preload_get(void)
{
    if (__builtin_expect(atomic_load_explicit(&evt__preload_ready, memory_order_acquire) != 0, 1))
        return &evt__preload_g;
    return evt__preload_init();
}

/* For libev's hooks. A program may load libev after start-up, through
 * dlopen: Python does, for gevent's extension, with RTLD_LOCAL, so libev is
 * not even in the global scope. The first libev hook called then finds
 * libev's functions where the extension's libev is (evt__libev_sym). */
static inline struct evt__preload *evt__preload_ev(void)
{
    if (__builtin_expect(atomic_load_explicit(&evt__preload_ready, memory_order_acquire) == EVT__PRELOAD_LIBEV, 1))
        return &evt__preload_g;
    return evt__preload_libev();
}

/* The open tracer, opening it on the first call (the first loop). NULL if
 * the trace could not be opened (the status socket says why). */
evt_tracer *evt__preload_tracer(struct evt__preload *p);

/* A child forked while the trace was open does not trace in it (the
 * writer shut the copy, evt_tracer.c). Its first hook reports that,
 * "untraced-fork PID" on the status socket; with --follow-fork its first
 * event (a callback's, its loop's, a hook's: evt__fork_follow) opens a
 * trace of the child's own and moves the loops it inherited into it. */
enum evt__forked { EVT__FORKED_NO, EVT__FORKED_REPORT, EVT__FORKED_FOLLOW };
/* Does what p->forked says, once; returns the child's tracer or NULL. */
evt_tracer *evt__preload_forked(struct evt__preload *p);

/* Writes one line ("libev", "trace PATH"...) to the status socket. */
void evt__preload_status(const struct evt__preload *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* cb lies in libev or in the shim, and is not a trampoline (they are in
 * the shim too, and mark a program's watcher). */
static inline int evt__preload_internal_cb(const struct evt__preload *p, const void *cb)
{
    uintptr_t a = (uintptr_t)cb;
    return !evt__is_tramp(cb) &&
           ((a >= p->libev.lo && a < p->libev.hi) || (a >= p->self.lo && a < p->self.hi));
}

/* evt_preload_hooks.c: empties the cache of callback names (their ids
 * are the old tracer's) before a new tracer opens. */
void evt__preload_names_forget(void);
/* evt_preload_hooks.c: writes into t the definition (kind, fd, name) of
 * every watcher wrapped so far: a --follow-fork child's watchers were
 * wrapped in its parent, and defined in the parent's trace only. */
void evt__preload_define_wrapped(evt_tracer *t);

/* evt_preload_conn.c */
int evt__conn_init(struct evt__preload *p);
void evt__conn_accepted(struct evt__preload *p, evt_tracer *t, int fd);
void evt__conn_io_start(struct evt__preload *p, evt_tracer *t, int fd);
/* 1 if an io start on fd has nothing new to tell the connection lanes
 * (fd is not a connection, or its lane is already active): the hooks' fast
 * check, so that evt__conn_io_start is called only when it has work. The
 * encoding of the per-fd word is evt_preload_conn.c's: odd = settled. */
static inline int evt__conn_settled(const struct evt__preload *p, int fd)
{
    return fd < 0 || fd >= p->n_fds || (atomic_load_explicit(&p->fds[fd], memory_order_relaxed) & 1u);
}
void evt__conn_closed(struct evt__preload *p, evt_tracer *t, int fd);

#endif /* EVT_PRELOAD_H */
