/* evt_preload_hooks.c -- libev's exported functions, as the shim defines
 * them: record, then forward to the real one (evt_preload.h says how the
 * hooks tell the program's calls from libev's own).
 *
 * Watchers. What is recorded is what libev does, not what was asked:
 * starting an active watcher or stopping an inactive one records nothing,
 * ev_timer_again records a WSTART or a WSTOP only when it changes the
 * timer's state. Every ev_TYPE_start and ev_TYPE_stop goes through
 * hook_state(), which knows the outcome from ev_is_active() before the call
 * and records before it jumps to libev; ev_timer_again and
 * ev_periodic_again go through hook_again(), which compares the state
 * before and after. A started watcher's callback is wrapped (evt_wrap.c)
 * unless it already is; a fresh wrap also writes the watcher's definition
 * (kind, fd, loop, name). Re-checking at every start is what handles heap
 * watchers freed and reused for another watcher (ev_init wrote a new
 * callback: it is wrapped and defined again) and ev_set_cb (the new
 * callback is wrapped at the next start; until then it runs unrecorded).
 * Wrapping around the real start is safe: callbacks only run from ev_run
 * on this same thread.
 *
 * A watcher is never unwrapped at stop: libev stops a one-shot timer before
 * it calls its callback, so the trampoline must stay.
 *
 * Names: a callback exported from the program or a library (dladdr finds
 * it) names its watchers, e.g. "on_read"; static callbacks stay unnamed
 * and readers show "io fd 7". dladdr is slow, so names are cached by
 * callback address in a small lock-free table.
 *
 * Loops: ev_default_loop and ev_loop_new attach the new loop (the first one
 * opens the trace). ev_loop_destroy, ev_set_loop_release_cb and
 * ev_set_invoke_pending_cb are evt_loop.c's, which this library contains:
 * exactly one definition each. The default loop carries an ev_cleanup
 * watcher of the shim's, so that a destroyed and re-created default loop
 * (same address) is attached again.
 *
 * Not hooked, on purpose: ev_run, ev_invoke, ev_feed_event. Every callback
 * is recorded by its trampoline however it is invoked, and a watcher never
 * started has an unwrapped callback, so feeding or invoking it records
 * nothing and behaves as before; hooking them would only add a call to
 * libev's hottest paths (libev calls ev_feed_event once per event).
 * ev_once is hooked on its own (below): libev's own watchers call its
 * callback, so the shim hands libev a callback of its own instead.
 *
 * Forwarders: ev_invoke_pending, ev_depth, ev_ref and ev_unref only call
 * libev's. The writer (evt_loop.c) uses them, and the shim must not leave
 * them undefined: it does not link libev (evt_preload.h), and evt_loop.c
 * takes ev_invoke_pending's address, a relocation the dynamic linker
 * resolves at load time even in programs that never load libev (it failed
 * /usr/bin/env with "undefined symbol"). Defined here, they resolve to the
 * shim, which forwards to libev when there is one. ev_ref and ev_unref are
 * not exported (evt_preload.map): libev calls them for every watcher start
 * and stop, and those calls go straight to libev's own.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>

#include "evt_internal.h"
#include "evt_preload.h"

#define NAME_CACHE 512      /* distinct callbacks remembered; more are looked up each time */

struct name_slot {
    _Atomic uintptr_t cb;
    _Atomic uint32_t name;  /* string id + 1 once known (0 = being filled) */
};

static struct name_slot g_names[NAME_CACHE];   /* process-wide, see evt_preload.h */

/* The interned name of cb's symbol, or 0. */
static uint32_t name_lookup(evt_tracer *t, const void *cb)
{
    Dl_info info;
    if (!dladdr(cb, &info) || !info.dli_sname || info.dli_saddr != cb)
        return 0;
    return evt_intern(t, info.dli_sname);
}

static uint32_t name_of(evt_tracer *t, const void *cb)
{
    uintptr_t key = (uintptr_t)cb;
    size_t i = (size_t)((key >> 4) * 0x9E3779B97F4A7C15ull >> 40) & (NAME_CACHE - 1);
    for (size_t n = 0; n < NAME_CACHE; n++, i = (i + 1) & (NAME_CACHE - 1)) {
        uintptr_t k = atomic_load_explicit(&g_names[i].cb, memory_order_acquire);
        if (k == key) {
            uint32_t v = atomic_load_explicit(&g_names[i].name, memory_order_acquire);
            return v ? v - 1 : name_lookup(t, cb);
        }
        if (k == 0 && atomic_compare_exchange_strong(&g_names[i].cb, &k, key)) {
            uint32_t id = name_lookup(t, cb);
            atomic_store_explicit(&g_names[i].name, id + 1, memory_order_release);
            return id;
        }
    }
    return name_lookup(t, cb);
}

/* A name id belongs to the tracer that interned it: a child traced with
 * --follow-fork opens a tracer of its own, whose string table starts
 * afresh, and the ids the parent cached would name its watchers wrongly.
 * Called before a tracer is published, when no hook can be naming. */
void evt__preload_names_forget(void)
{
    for (size_t i = 0; i < NAME_CACHE; i++) {
        atomic_store_explicit(&g_names[i].cb, 0, memory_order_relaxed);
        atomic_store_explicit(&g_names[i].name, 0, memory_order_relaxed);
    }
}

/* The wrap table also holds watchers freed since (their entries stay until
 * the address is watched again), so a big server's table can be large; two
 * events a definition, the cap keeps them well inside one ring (4 MiB,
 * ~170,000 events). Watchers past it show as unnamed if they run. */
#define DEFINE_WRAPPED_MAX 16384

void evt__preload_define_wrapped(evt_tracer *t)
{
    int saved = errno;
    struct evt__wrapped *v;
    size_t n = evt__wrapped(&v);
    for (size_t i = 0; i < n && i < DEFINE_WRAPPED_MAX; i++)
        evt__record_watcher(t, v[i].w, v[i].kind, v[i].fd, name_of(t, v[i].cb), NULL);
    free(v);
    errno = saved;
}

/* w is active: make sure its current callback is the wrapped one, and
 * define the watcher when the wrap is new (a new watcher, or a new cb).
 * The slow path (a lock, maybe dladdr and an intern): errno is kept. */
static __attribute__((noinline)) void watcher_wrap(evt_tracer *t, struct ev_loop *loop, ev_watcher *w, int kind, int fd)
{
    int saved = errno;
    const void *cb = (const void *)w->cb;
    if (evt__wrap(w, kind, fd) == 0)
        evt__record_watcher(t, w, kind, fd, name_of(t, cb), loop);
    errno = saved;
}

/* The tracer a hook records w's change into, or NULL if it only forwards:
 * no trace open (in a fork child, its first hook opens one if no event has
 * yet), a call from inside a hook's real call, a watcher of libev's or the
 * shim's own, or one with no callback. */
static evt_tracer *hook_tracer(struct evt__preload *p, const ev_watcher *w)
{
    evt_tracer *t = atomic_load_explicit(&p->tracer, memory_order_acquire);
    const void *cb = (const void *)w->cb;
    if (EVT_UNLIKELY(!t) && EVT_UNLIKELY(p->forked))
        t = evt__preload_forked(p);
    if (EVT_UNLIKELY(!t || evt__preload_depth || !cb || evt__preload_internal_cb(p, cb)))
        return NULL;
    return t;
}

/* Start and stop. What libev will do is known before the call: a start
 * makes an inactive watcher active (or fails an assertion: a negative fd,
 * a bad signal number), a stop makes an active one inactive, and on a
 * watcher already in that state neither changes anything. So the hook
 * records first and then jumps to the real function, a tail call: libev
 * runs with no frame of the shim's around it, and depth is not raised --
 * what a real start or stop calls back into the shim is libev starting its
 * own watchers (the signal pipe, an embed's prepare, a stat's timer),
 * whose callbacks are internal and only forwarded (hook_tracer). A
 * start wraps the callback even of an active watcher: ev_set_cb on a
 * running watcher followed by a start is how a program changes it.
 *
 * hook_state_slow is the whole of it; hook_state, inlined into each hook
 * with kind and start constant, is the common case alone -- libev known,
 * tracing, a wrapped watcher, the thread's buffer ready, a connection lane
 * with nothing new -- with no call but the jumps to libev or to the slow
 * path, so it needs no stack frame: about 40-50 instructions with the event
 * (callgrind, plain_server), against 70-90 when every hook called libev in
 * the middle and compared the state after. */
static __attribute__((noinline)) void hook_state_slow(struct ev_loop *loop, ev_watcher *w, int kind, int fd,
                                                      int start)
{
    struct evt__preload *p = evt__preload_ev();
    evt__start_fn real = start ? p->real.start[kind] : p->real.stop[kind];
    evt_tracer *t = hook_tracer(p, w);
    if (!t) {
        real(loop, w);
        return;
    }
    const void *cb = (const void *)w->cb;
    int active = ev_is_active(w) != 0;
    if (start && EVT_UNLIKELY(!evt__is_tramp(cb)))
        watcher_wrap(t, loop, w, kind, fd);
    if (active != start) {
        evt__record_inline(t, start ? EVT_REC_WSTART : EVT_REC_WSTOP, (uint8_t)kind, (uintptr_t)w, (uint32_t)fd);
        if (start && kind == EVT_KIND_IO && EVT_UNLIKELY(!evt__conn_settled(p, fd)))
            evt__conn_io_start(p, t, fd);
    }
    real(loop, w);
}

static inline __attribute__((always_inline)) void hook_state(struct ev_loop *loop, ev_watcher *w, int kind, int fd,
                                                             int start)
{
    if (EVT_UNLIKELY(atomic_load_explicit(&evt__preload_ready, memory_order_acquire) != EVT__PRELOAD_LIBEV)) {
        hook_state_slow(loop, w, kind, fd, start);
        return;
    }
    struct evt__preload *p = &evt__preload_g;
    evt__start_fn real = start ? p->real.start[kind] : p->real.stop[kind];
    evt_tracer *t = atomic_load_explicit(&p->tracer, memory_order_acquire);
    struct evt__tbuf *b;
    if (EVT_UNLIKELY(!t) && EVT_LIKELY(!p->forked)) {   /* not tracing: only forward */
        real(loop, w);
        return;
    }
    /* the trampoline as callback: a program's watcher, wrapped already */
    if (EVT_UNLIKELY(!t || evt__preload_depth || !evt__is_tramp((const void *)w->cb)) ||
        EVT_UNLIKELY(start && kind == EVT_KIND_IO && !evt__conn_settled(p, fd)) ||
        EVT_UNLIKELY(!(b = evt__fast_buf(t)))) {
        hook_state_slow(loop, w, kind, fd, start);
        return;
    }
    if ((ev_is_active(w) != 0) != start)
        evt__fast_push(b, start ? EVT_REC_WSTART : EVT_REC_WSTOP, (uint8_t)kind, (uintptr_t)w, (uint32_t)fd);
    real(loop, w);
}

/* ev_timer_again and ev_periodic_again may start, stop or just move the
 * timer, and call ev_timer_start/stop themselves: the hook raises depth
 * around the real call (those inner calls then only forward) and records
 * the change it sees in ev_is_active before and after -- a WSTART or a
 * WSTOP only when the state changed. */
static void hook_again(struct ev_loop *loop, ev_watcher *w, int kind, evt__start_fn real)
{
    struct evt__preload *p = evt__preload_ev();
    evt_tracer *t = hook_tracer(p, w);
    if (!t) {
        real(loop, w);
        return;
    }
    int was = ev_is_active(w);
    evt__preload_depth++;
    real(loop, w);
    evt__preload_depth--;
    int now = ev_is_active(w);
    if (now && EVT_UNLIKELY(!evt__is_tramp((const void *)w->cb)))
        watcher_wrap(t, loop, w, kind, -1);
    if (now != was)
        evt__record_inline(t, now ? EVT_REC_WSTART : EVT_REC_WSTOP, (uint8_t)kind, (uintptr_t)w, (uint32_t)-1);
}

/* ---- the watcher hooks: one start and one stop per kind ------------------ */

#define EVT_PRELOAD_HOOK(type, KIND, fd)                                                           \
    void ev_##type##_start(struct ev_loop *loop, ev_##type *w)                                     \
    {                                                                                              \
        hook_state(loop, (ev_watcher *)w, EVT_KIND_##KIND, (fd), 1);                               \
    }                                                                                              \
    void ev_##type##_stop(struct ev_loop *loop, ev_##type *w)                                      \
    {                                                                                              \
        hook_state(loop, (ev_watcher *)w, EVT_KIND_##KIND, (fd), 0);                               \
    }

EVT_PRELOAD_HOOK(io, IO, w->fd)
EVT_PRELOAD_HOOK(timer, TIMER, -1)
EVT_PRELOAD_HOOK(periodic, PERIODIC, -1)
EVT_PRELOAD_HOOK(signal, SIGNAL, w->signum)
EVT_PRELOAD_HOOK(child, CHILD, -1)
EVT_PRELOAD_HOOK(stat, STAT, -1)
EVT_PRELOAD_HOOK(idle, IDLE, -1)
EVT_PRELOAD_HOOK(prepare, PREPARE, -1)
EVT_PRELOAD_HOOK(check, CHECK, -1)
EVT_PRELOAD_HOOK(embed, EMBED, -1)
EVT_PRELOAD_HOOK(fork, FORK, -1)
EVT_PRELOAD_HOOK(cleanup, CLEANUP, -1)
EVT_PRELOAD_HOOK(async, ASYNC, -1)

/* The common use, a timeout pushed back on every request, is an active
 * timer with a repeat: libev only moves it in its heap and calls nothing,
 * so there is nothing to record and the hook jumps straight there. */
void ev_timer_again(struct ev_loop *loop, ev_timer *w)
{
    struct evt__preload *p = evt__preload_ev();
    if (EVT_LIKELY(ev_is_active(w) && w->repeat != 0.0 && evt__is_tramp((const void *)w->cb))) {
        p->real.timer_again(loop, w);
        return;
    }
    hook_again(loop, (ev_watcher *)w, EVT_KIND_TIMER, p->real.timer_again);
}

void ev_periodic_again(struct ev_loop *loop, ev_periodic *w)
{
    hook_again(loop, (ev_watcher *)w, EVT_KIND_PERIODIC, evt__preload_ev()->real.periodic_again);
}

/* ---- ev_once ----------------------------------------------------------------
 * libev implements ev_once with an io and a timer watcher of its own (their
 * callback is inside libev: internal, never wrapped), so the program's
 * callback would run unseen. The hook gives libev once_trampoline and a
 * small heap record of the program's callback and argument instead; the
 * record's address stands for the once as a watcher: kind io if an fd is
 * watched, else timer, named after the program's callback. It is recorded
 * like a one-shot timer: WSTART at ev_once, WSTOP just before the callback
 * (libev has stopped its watchers by then), the callback, and the record is
 * freed after. libev mallocs for every ev_once anyway; this adds one malloc
 * beside it, outside the recording itself. Without a tracer, or if the
 * malloc fails, the call goes to libev unchanged. Limit: like libev's own
 * record, ours is never freed if the loop is destroyed before the once
 * fires. */
struct once_call {
    void (*cb)(int revents, void *arg);
    void *arg;
    int kind, fd;
};

static void once_trampoline(int revents, void *arg)
{
    struct once_call *c = arg;
    evt_tracer *t = atomic_load_explicit(&evt__preload_ev()->tracer, memory_order_acquire);
    evt__record_inline(t, EVT_REC_WSTOP, (uint8_t)c->kind, (uintptr_t)c, (uint32_t)c->fd);
    evt__record_inline(t, EVT_REC_CB_BEGIN, 0, (uintptr_t)c, (uint32_t)revents);
    c->cb(revents, c->arg);
    evt__record_inline(t, EVT_REC_CB_END, 0, (uintptr_t)c, 0);
    free(c);
}

void ev_once(struct ev_loop *loop, int fd, int events, ev_tstamp timeout, void (*cb)(int revents, void *arg),
             void *arg)
{
    struct evt__preload *p = evt__preload_ev();
    evt_tracer *t = atomic_load_explicit(&p->tracer, memory_order_acquire);
    int saved = errno;
    struct once_call *c = t && cb && !evt__preload_depth ? malloc(sizeof *c) : NULL;
    errno = saved;
    if (!c) {
        p->real.once(loop, fd, events, timeout, cb, arg);
        return;
    }
    *c = (struct once_call){.cb = cb, .arg = arg, .kind = fd >= 0 ? EVT_KIND_IO : EVT_KIND_TIMER, .fd = fd};
    evt__record_watcher(t, c, c->kind, fd, name_of(t, (const void *)cb), loop);
    errno = saved;
    evt__record_inline(t, EVT_REC_WSTART, (uint8_t)c->kind, (uintptr_t)c, (uint32_t)fd);
    p->real.once(loop, fd, events, timeout, once_trampoline, c);
}

/* ---- loops ----------------------------------------------------------------- */

static void attach(struct evt__preload *p, struct ev_loop *loop)
{
    int saved = errno;
    evt_tracer *t = p->forked ? evt__preload_forked(p) : evt__preload_tracer(p);
    if (t) {
        evt__preload_depth++;
        evt_attach_loop(t, loop);
        evt__preload_depth--;
    }
    errno = saved;
}

/* libev calls this from ev_loop_destroy(default loop): forget it, so the
 * next default loop is attached even if it lands at the same address. */
static void default_loop_gone(struct ev_loop *loop, ev_cleanup *w, int revents)
{
    struct ev_loop *expected = loop;
    atomic_compare_exchange_strong(&evt__preload_ev()->default_loop, &expected, NULL);
}

struct ev_loop *ev_default_loop(unsigned int flags)
{
    struct evt__preload *p = evt__preload_ev();
    struct ev_loop *loop = p->real.default_loop(flags);
    if (!loop || evt__preload_depth || atomic_load_explicit(&p->default_loop, memory_order_acquire) == loop)
        return loop;
    atomic_store(&p->default_loop, loop);
    ev_cleanup_init(&p->default_cleanup, default_loop_gone);
    p->real.start[EVT_KIND_CLEANUP](loop, &p->default_cleanup);
    attach(p, loop);
    return loop;
}

struct ev_loop *ev_loop_new(unsigned int flags)
{
    struct evt__preload *p = evt__preload_ev();
    struct ev_loop *loop = p->real.loop_new(flags);
    if (loop && !evt__preload_depth)
        attach(p, loop);
    return loop;
}

/* ---- forwarders (see the top of the file) ---------------------------------- */

void ev_invoke_pending(struct ev_loop *loop)
{
    evt__preload_ev()->real.invoke_pending(loop);
}

unsigned int ev_depth(struct ev_loop *loop)
{
    return evt__preload_ev()->real.depth(loop);
}

void ev_ref(struct ev_loop *loop)
{
    evt__preload_ev()->real.ref(loop);
}

void ev_unref(struct ev_loop *loop)
{
    evt__preload_ev()->real.unref(loop);
}
