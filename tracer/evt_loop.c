/* evt_loop.c -- what a libev loop does: iterations, poll waits, callbacks.
 *
 * Iterations and polls. libev calls three hooks we can use: release/acquire
 * around the backend's blocking call (ev_set_loop_release_cb), and the
 * invoke-pending callback that runs the queued watcher callbacks
 * (ev_set_invoke_pending_cb). An attached loop gets ours:
 *   prepare watcher at EV_MAXPRI (ev_unref'd)  -> LOOP_BEGIN
 *   release (just before epoll_wait)           -> POLL_BEGIN
 *   acquire (just after it returns)            -> POLL_END
 *   end of the first invoke_pending after that -> LOOP_END
 * Nested ev_run calls (a callback running the loop) are told apart by
 * ev_depth(), so an inner iteration does not end the outer one. An
 * iteration whose LOOP_BEGIN was not recorded -- a loop attached, or
 * adopted by a --follow-fork child, after its prepare watchers ran -- gets
 * no LOOP_END either (its poll is recorded, a pair on its own).
 *
 * The program's own hooks keep working: libev has no getters for them, so
 * libevtrace INTERPOSES ev_set_loop_release_cb, ev_set_invoke_pending_cb and
 * ev_loop_destroy (defines them; the originals are found with dlsym). It
 * remembers the program's hooks per loop, whether or not a tracer is open,
 * and ours call them. This works when libevtrace comes before libev in the
 * program's link order (target_link_libraries(prog evtrace) does that; so
 * does LD_PRELOAD). A program that links libev first and sets these hooks
 * itself bypasses us: an attach then replaces its hooks.
 *
 * Callbacks. evt_watch swaps w->cb for a trampoline and keeps the original
 * (evt_wrap.c: one pooled trampoline per distinct callback, and a
 * process-wide open-addressing table keyed by the watcher's address).
 * The trampoline records CB_BEGIN, calls the original, records CB_END, and
 * never touches w after the call (the callback may have freed it). Lookups
 * are lock-free; inserts take a mutex and, when the table is half full,
 * build a doubled copy and publish it atomically; the old copy is kept (a
 * reader may still be in it) and freed at unload. The table outlives
 * tracers on purpose: a wrapped watcher keeps its trampoline after
 * evt_close (detaching cannot safely write to watchers the program may have
 * freed), and the trampoline then just calls the original.
 *
 * ev_loop_destroy also tells the encoder that the loop's address is free, so
 * a loop created later at the same address gets a new loop id (this works
 * within a thread; across threads the order of the two is not known).
 *
 * Limits: at most EVT__MAX_LOOPS loops with remembered hooks per process
 * (beyond that, hooks are forwarded but not chained and attach fails with
 * EVT_ENOMEM). All loop calls here must come from the loop's own thread or
 * while the loop is not running, as libev requires.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "evt_internal.h"

#define EVT__MAX_LOOPS 256

typedef void (*loop_fn)(struct ev_loop *);
typedef void (*watcher_cb)(struct ev_loop *, ev_watcher *, int);

/* ---- the originals -------------------------------------------------------- */

void *evt__libev_sym(const char *name)
{
    void *f = dlsym(RTLD_NEXT, name);
    if (!f) {
        void *h = dlopen("libev.so.4", RTLD_LAZY | RTLD_NOLOAD);
        if (h) {
            f = dlsym(h, name);
            dlclose(h);
        }
    }
    return f;
}

/* libev's own. The hooks call ev_invoke_pending and ev_depth through
 * these too: in the preload shim those names are the shim's forwarders,
 * one call more on every iteration. The hooks run only once a loop is
 * attached, which resolved them (real_set_release). */
static struct {
    void (*set_release)(struct ev_loop *, loop_fn, loop_fn);
    void (*set_invoke)(struct ev_loop *, loop_fn);
    void (*destroy)(struct ev_loop *);
    loop_fn invoke;
    unsigned (*depth)(struct ev_loop *);
} g_real;
static pthread_once_t g_real_once = PTHREAD_ONCE_INIT;

static void real_resolve(void)
{
    *(void **)&g_real.set_release = evt__libev_sym("ev_set_loop_release_cb");
    *(void **)&g_real.set_invoke = evt__libev_sym("ev_set_invoke_pending_cb");
    *(void **)&g_real.destroy = evt__libev_sym("ev_loop_destroy");
    *(void **)&g_real.invoke = evt__libev_sym("ev_invoke_pending");
    *(void **)&g_real.depth = evt__libev_sym("ev_depth");
}

static void real_set_release(struct ev_loop *loop, loop_fn rel, loop_fn acq)
{
    pthread_once(&g_real_once, real_resolve);
    if (g_real.set_release)
        g_real.set_release(loop, rel, acq);
}

static void real_set_invoke(struct ev_loop *loop, loop_fn cb)
{
    pthread_once(&g_real_once, real_resolve);
    if (g_real.set_invoke)
        g_real.set_invoke(loop, cb);
}

static void real_destroy(struct ev_loop *loop)
{
    pthread_once(&g_real_once, real_resolve);
    if (g_real.destroy)
        g_real.destroy(loop);
}

/* ---- per-loop state ------------------------------------------------------ */

struct loop_state {
    _Atomic(struct ev_loop *) loop;   /* NULL: free slot */
    loop_fn prog_release, prog_acquire;
    loop_fn prog_invoke;              /* NULL: ev_invoke_pending */
    _Atomic(evt_tracer *) tracer;     /* recording into; NULL: not recording */
    int hooked;                       /* our hooks and prepare are installed */
    uint64_t begun;                   /* bit d: depth d's LOOP_BEGIN was recorded */
    uint64_t polled;                  /* bit d: depth d polled, iteration open */
    ev_prepare prepare;
};

static struct loop_state g_loops[EVT__MAX_LOOPS];
static _Atomic int g_nloops;          /* slots ever used */
static pthread_mutex_t g_loops_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t g_loops_atfork = PTHREAD_ONCE_INIT;

/* Held around fork(2), for the reason evt_wrap.c gives for its lock: a
 * child copies a lock another thread held, without that thread. */
static void loops_lock(void)
{
    pthread_mutex_lock(&g_loops_mu);
}

static void loops_unlock(void)
{
    pthread_mutex_unlock(&g_loops_mu);
}

static void loops_register_atfork(void)
{
    pthread_atfork(loops_lock, loops_unlock, loops_unlock);
}

static struct loop_state *loop_find(struct ev_loop *loop)
{
    int n = atomic_load_explicit(&g_nloops, memory_order_acquire);
    for (int i = 0; i < n; i++)
        if (atomic_load_explicit(&g_loops[i].loop, memory_order_acquire) == loop)
            return &g_loops[i];
    return NULL;
}

/* Finds or makes loop's slot; g_loops_mu held. NULL if all are taken. */
static struct loop_state *loop_get(struct ev_loop *loop)
{
    pthread_once(&g_loops_atfork, loops_register_atfork);
    struct loop_state *st = loop_find(loop);
    if (st)
        return st;
    int n = atomic_load(&g_nloops);
    for (int i = 0; i <= n && i < EVT__MAX_LOOPS; i++) {
        if (i < n && atomic_load(&g_loops[i].loop))
            continue;
        st = &g_loops[i];
        st->prog_release = st->prog_acquire = st->prog_invoke = NULL;
        atomic_store(&st->tracer, NULL);
        st->hooked = 0;
        st->begun = st->polled = 0;
        atomic_store_explicit(&st->loop, loop, memory_order_release);
        if (i == n)
            atomic_store_explicit(&g_nloops, n + 1, memory_order_release);
        return st;
    }
    return NULL;
}

static uint64_t depth_bit(struct ev_loop *loop)
{
    unsigned d = g_real.depth ? g_real.depth(loop) : ev_depth(loop);
    return 1ull << (d < 63 ? d : 63);
}

/* ---- our hooks ----------------------------------------------------------- */

static void hook_release(struct ev_loop *loop)
{
    struct loop_state *st = loop_find(loop);
    if (!st)
        return;
    if (st->prog_release)
        st->prog_release(loop);
    evt__record_inline(atomic_load_explicit(&st->tracer, memory_order_acquire), EVT_REC_POLL_BEGIN, 0,
                       (uintptr_t)loop, 0);
}

static void hook_acquire(struct ev_loop *loop)
{
    struct loop_state *st = loop_find(loop);
    if (!st)
        return;
    evt_tracer *t = atomic_load_explicit(&st->tracer, memory_order_acquire);
    evt__record_inline(t, EVT_REC_POLL_END, 0, (uintptr_t)loop, 0);
    uint64_t bit = t && st->begun ? depth_bit(loop) : 0;
    if (st->begun & bit)   /* an iteration with no LOOP_BEGIN gets no LOOP_END */
        st->polled |= bit;
    if (st->prog_acquire)
        st->prog_acquire(loop);
}

static void hook_invoke(struct ev_loop *loop)
{
    struct loop_state *st = loop_find(loop);
    if (!st || !st->prog_invoke)
        (g_real.invoke ? g_real.invoke : ev_invoke_pending)(loop);
    else
        st->prog_invoke(loop);
    uint64_t bit = st && st->polled ? depth_bit(loop) : 0;   /* ev_depth is a call: only when it matters */
    if (st && (st->polled & bit)) {
        st->polled &= ~bit;
        st->begun &= ~bit;
        evt__record_inline(atomic_load_explicit(&st->tracer, memory_order_acquire), EVT_REC_LOOP_END, 0,
                           (uintptr_t)loop, 0);
    }
}

static void on_prepare(struct ev_loop *loop, ev_prepare *w, int revents)
{
    struct loop_state *st = (struct loop_state *)((char *)w - offsetof(struct loop_state, prepare));
    evt_tracer *t = atomic_load_explicit(&st->tracer, memory_order_acquire);
    evt__record_inline(t, EVT_REC_LOOP_BEGIN, 0, (uintptr_t)loop, 0);
    if (t)
        st->begun |= depth_bit(loop);
}

/* ---- interposed libev functions ------------------------------------------ */

void ev_set_loop_release_cb(struct ev_loop *loop, void (*release)(struct ev_loop *),
                            void (*acquire)(struct ev_loop *))
{
    pthread_mutex_lock(&g_loops_mu);
    struct loop_state *st = loop_get(loop);
    if (st) {
        st->prog_release = release;
        st->prog_acquire = acquire;
    }
    if (!st || !st->hooked)
        real_set_release(loop, release, acquire);
    pthread_mutex_unlock(&g_loops_mu);
}

void ev_set_invoke_pending_cb(struct ev_loop *loop, ev_loop_callback invoke_pending_cb)
{
    pthread_mutex_lock(&g_loops_mu);
    struct loop_state *st = loop_get(loop);
    if (st)
        st->prog_invoke = invoke_pending_cb == ev_invoke_pending ? NULL : invoke_pending_cb;
    if (!st || !st->hooked)
        real_set_invoke(loop, invoke_pending_cb);
    pthread_mutex_unlock(&g_loops_mu);
}

/* Puts the program's hooks back and stops our prepare; g_loops_mu held. */
static void loop_unhook(struct ev_loop *loop, struct loop_state *st)
{
    if (!st->hooked)
        return;
    real_set_release(loop, st->prog_release, st->prog_acquire);
    real_set_invoke(loop, st->prog_invoke ? st->prog_invoke : ev_invoke_pending);
    ev_ref(loop);
    ev_prepare_stop(loop, &st->prepare);
    st->hooked = 0;
    st->begun = st->polled = 0;
}

void ev_loop_destroy(struct ev_loop *loop)
{
    pthread_mutex_lock(&g_loops_mu);
    struct loop_state *st = loop_find(loop);
    if (st) {
        loop_unhook(loop, st);
        atomic_store(&st->tracer, NULL);
        atomic_store_explicit(&st->loop, NULL, memory_order_release);
    }
    pthread_mutex_unlock(&g_loops_mu);
    /* Only a thread that recorded something can have given the loop an id;
     * others must not get a buffer just for this. */
    evt_tracer *t = evt__current();
    if (t && evt__tls.gen == atomic_load(&t->gen))
        evt__record_inline(t, EVT__RAW_LOOP_GONE, 0, (uintptr_t)loop, 0);
    real_destroy(loop);
}

/* ---- attach / detach ----------------------------------------------------- */

int evt__loop_attach(evt_tracer *t, struct ev_loop *loop)
{
    pthread_mutex_lock(&g_loops_mu);
    struct loop_state *st = loop_get(loop);
    if (st) {
        atomic_store_explicit(&st->tracer, t, memory_order_release);
        if (!st->hooked) {
            real_set_release(loop, hook_release, hook_acquire);
            real_set_invoke(loop, hook_invoke);
            ev_prepare_init(&st->prepare, on_prepare);
            ev_set_priority(&st->prepare, EV_MAXPRI);
            ev_prepare_start(loop, &st->prepare);
            ev_unref(loop);   /* our prepare must not keep ev_run alive */
            st->hooked = 1;
        }
    }
    pthread_mutex_unlock(&g_loops_mu);
    return st ? 0 : EVT_ENOMEM;
}

int evt__loop_detach(evt_tracer *t, struct ev_loop *loop)
{
    pthread_mutex_lock(&g_loops_mu);
    struct loop_state *st = loop_find(loop);
    if (st && atomic_load(&st->tracer) == t) {
        if (st->polled & depth_bit(loop))   /* detached from a callback: end the iteration */
            evt__record_inline(t, EVT_REC_LOOP_END, 0, (uintptr_t)loop, 0);
        loop_unhook(loop, st);
        atomic_store(&st->tracer, NULL);
    }
    pthread_mutex_unlock(&g_loops_mu);
    return st ? 0 : EVT_EINVAL;
}

void evt__loops_forget(evt_tracer *t)
{
    pthread_mutex_lock(&g_loops_mu);
    int n = atomic_load(&g_nloops);
    for (int i = 0; i < n; i++) {
        evt_tracer *expected = t;
        atomic_compare_exchange_strong(&g_loops[i].tracer, &expected, NULL);
    }
    pthread_mutex_unlock(&g_loops_mu);
}

void evt__loops_adopt(evt_tracer *t)
{
    pthread_mutex_lock(&g_loops_mu);
    int n = atomic_load(&g_nloops);
    for (int i = 0; i < n; i++) {
        struct loop_state *st = &g_loops[i];
        if (atomic_load(&st->loop) && atomic_load(&st->tracer)) {
            st->begun = st->polled = 0;   /* this iteration's LOOP_BEGIN went to the parent's */
            atomic_store_explicit(&st->tracer, t, memory_order_release);
        }
    }
    pthread_mutex_unlock(&g_loops_mu);
}

evt_tracer *evt__loop_tracer(struct ev_loop *loop)
{
    struct loop_state *st = loop_find(loop);
    return st ? atomic_load_explicit(&st->tracer, memory_order_acquire) : NULL;
}

int evt__is_own_watcher(const void *w)
{
    const char *p = w, *lo = (const char *)g_loops, *hi = (const char *)(g_loops + EVT__MAX_LOOPS);
    return p >= lo && p < hi;
}

int evt_attach_loop(evt_tracer *t, struct ev_loop *loop)
{
    if (!t)
        return 0;
    return loop ? evt__loop_attach(t, loop) : EVT_EINVAL;
}

int evt_detach_loop(evt_tracer *t, struct ev_loop *loop)
{
    if (!t)
        return 0;
    return loop ? evt__loop_detach(t, loop) : EVT_EINVAL;
}
