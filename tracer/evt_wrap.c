/* evt_wrap.c -- wrapped watcher callbacks: the trampolines and the table,
 * and the evt_watch family (see evt_loop.c for the why).
 *
 * A wrapped watcher's callback is a trampoline that records the call and
 * calls the original. Which original: each distinct callback gets a pooled
 * trampoline of its own (up to EVT__TRAMPS), which finds it at a fixed
 * place, next to the open tracer's pointer (evt__g_hot). Past the pool, the
 * generic trampoline looks the watcher's address up in the table.
 *
 * The table maps every wrapped watcher's address to its original callback
 * (and the kind and fd it was wrapped with): evt_unwatch and a
 * --follow-fork child's definitions read it, and the generic trampoline.
 * Readers (the trampoline, on the loop's thread) take no lock: they load
 * the table pointer and the slot keys with acquire. Writers (evt_watch,
 * evt_unwatch) hold g_wrap_mu: a new entry's callback is stored before its
 * key is published; a removed key becomes a tombstone. When live +
 * tombstones pass half the capacity, a writer builds a fresh table (room
 * for four times the live entries) and publishes it; the old one joins a
 * retired list and is never freed, since a reader on another thread may
 * still be inside it. Growth is geometric, so the retired tables sum to
 * less than the live one.
 *
 * Limits: a pool slot, once given to a callback, stays with it (callbacks
 * are code: they do not come and go, short of a dlclose). A copy of a
 * wrapped watcher made with memcpy or struct assignment carries the
 * trampoline: with a pooled one it calls the right callback (and is
 * recorded under the copy's address, undefined: no name); with the generic
 * one, past the pool, it has no entry under its own address and its
 * callback is not called. Call evt_watch on the copy (after ev_set_cb back
 * to the real callback), or copy before evt_watch. Entries of watchers
 * freed without evt_unwatch stay until the address is watched again; the
 * table holds at most the peak number of watched addresses.
 */
#include <stdlib.h>
#include <string.h>

#include "evt_internal.h"

#define WRAP_TOMB ((uintptr_t)1)
#define WRAP_MIN_CAP 1024

typedef void (*watcher_cb)(struct ev_loop *, ev_watcher *, int);

struct wrap_slot {
    _Atomic uintptr_t key;     /* watcher address; 0 empty; WRAP_TOMB removed */
    _Atomic uintptr_t cb;      /* its original callback */
    uint64_t def;              /* kind << 32 | fd, as wrapped (under g_wrap_mu) */
};

struct wrap_table {
    struct wrap_table *retired_next;
    size_t cap, used;          /* used: live + tombstones */
    struct wrap_slot slots[];
};

static _Atomic(struct wrap_table *) g_wrap;
static struct wrap_table *g_wrap_retired;
static pthread_mutex_t g_wrap_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t g_wrap_atfork = PTHREAD_ONCE_INIT;

/* fork(2) copies the lock in whatever state it is in, but not the thread
 * that may hold it: a child that then wraps a watcher (one traced with
 * --follow-fork, or any that runs an evt_watch'ed loop) would wait forever
 * (test_threads forks while another thread churns: 3 children in 100
 * hung). So the lock is taken around fork and released on both sides.
 * Registered at the first wrap; the consumer process is made with a raw
 * clone(2), which runs no fork handlers. */
static void wrap_lock(void)
{
    pthread_mutex_lock(&g_wrap_mu);
}

static void wrap_unlock(void)
{
    pthread_mutex_unlock(&g_wrap_mu);
}

static void wrap_register_atfork(void)
{
    pthread_atfork(wrap_lock, wrap_unlock, wrap_unlock);
}

static size_t wrap_hash(uintptr_t key, size_t cap)
{
    return (size_t)((key >> 4) * 0x9E3779B97F4A7C15ull >> 17) & (cap - 1);
}

/* The original callback of w, or 0. Lock-free. */
static uintptr_t wrap_find(uintptr_t key)
{
    struct wrap_table *t = atomic_load_explicit(&g_wrap, memory_order_acquire);
    if (!t)
        return 0;
    for (size_t j = wrap_hash(key, t->cap);; j = (j + 1) & (t->cap - 1)) {
        uintptr_t k = atomic_load_explicit(&t->slots[j].key, memory_order_acquire);
        if (k == key)
            return atomic_load_explicit(&t->slots[j].cb, memory_order_relaxed);
        if (k == 0)
            return 0;
    }
}

/* The callback call, recorded. w may be freed by the time cb returns, and
 * the tracer closed: the end is recorded into whichever tracer is current
 * then, and w is only its id. */
static inline __attribute__((always_inline)) void tramp_call(watcher_cb cb, struct ev_loop *loop, ev_watcher *w,
                                                             int revents)
{
    evt__record_inline(evt__current(), EVT_REC_CB_BEGIN, 0, (uintptr_t)w, (uint32_t)revents);
    if (EVT_LIKELY(cb != NULL))
        cb(loop, w, revents);
    evt__record_inline(evt__current(), EVT_REC_CB_END, 0, (uintptr_t)w, 0);
}

/* The trampolines live in their own section, evt_tramps (evt__is_tramp).
 *
 * Pooled: one trampoline per distinct original callback, up to EVT__TRAMPS
 * of them. Pooled trampoline i calls evt__g_hot.tramp_cb[i], which sits in
 * the same page as the open tracer's pointer, so a call needs no lookup by
 * the watcher's address. That lookup (the table above) was a page and a
 * cache line of their own on every callback: 43 % of the trampoline's
 * samples in a perf profile of the busy async_server, ~40 ns a callback.
 * A program has few distinct callbacks (async_server: 5), however many
 * watchers share them; and a copy of a watcher wrapped this way still
 * calls its callback. */
#define TRAMP_SECTION __attribute__((section("evt_tramps"), noinline))

static TRAMP_SECTION void tramp_pooled(struct ev_loop *loop, ev_watcher *w, int revents, unsigned i)
{
    tramp_call((watcher_cb)atomic_load_explicit(&evt__g_hot.tramp_cb[i], memory_order_acquire), loop, w, revents);
}

/* The generic one, for callbacks past the pool: looks w up in the table. */
static TRAMP_SECTION void wrap_trampoline(struct ev_loop *loop, ev_watcher *w, int revents)
{
    tramp_call((watcher_cb)wrap_find((uintptr_t)w), loop, w, revents);
}

#define TRAMP(i)                                                                          \
    static TRAMP_SECTION void tramp_##i(struct ev_loop *loop, ev_watcher *w, int revents) \
    {                                                                                     \
        tramp_pooled(loop, w, revents, i);                                                \
    }
TRAMP(0) TRAMP(1) TRAMP(2) TRAMP(3) TRAMP(4) TRAMP(5) TRAMP(6) TRAMP(7)
TRAMP(8) TRAMP(9) TRAMP(10) TRAMP(11) TRAMP(12) TRAMP(13) TRAMP(14) TRAMP(15)
TRAMP(16) TRAMP(17) TRAMP(18) TRAMP(19) TRAMP(20) TRAMP(21) TRAMP(22) TRAMP(23)
TRAMP(24) TRAMP(25) TRAMP(26) TRAMP(27) TRAMP(28) TRAMP(29) TRAMP(30) TRAMP(31)
TRAMP(32) TRAMP(33) TRAMP(34) TRAMP(35) TRAMP(36) TRAMP(37) TRAMP(38) TRAMP(39)
TRAMP(40) TRAMP(41) TRAMP(42) TRAMP(43) TRAMP(44) TRAMP(45) TRAMP(46) TRAMP(47)
TRAMP(48) TRAMP(49) TRAMP(50) TRAMP(51) TRAMP(52) TRAMP(53) TRAMP(54) TRAMP(55)
TRAMP(56) TRAMP(57) TRAMP(58) TRAMP(59) TRAMP(60) TRAMP(61) TRAMP(62) TRAMP(63)
#undef TRAMP

static const watcher_cb g_tramps[EVT__TRAMPS] = {
    tramp_0,  tramp_1,  tramp_2,  tramp_3,  tramp_4,  tramp_5,  tramp_6,  tramp_7,  tramp_8,  tramp_9,
    tramp_10, tramp_11, tramp_12, tramp_13, tramp_14, tramp_15, tramp_16, tramp_17, tramp_18, tramp_19,
    tramp_20, tramp_21, tramp_22, tramp_23, tramp_24, tramp_25, tramp_26, tramp_27, tramp_28, tramp_29,
    tramp_30, tramp_31, tramp_32, tramp_33, tramp_34, tramp_35, tramp_36, tramp_37, tramp_38, tramp_39,
    tramp_40, tramp_41, tramp_42, tramp_43, tramp_44, tramp_45, tramp_46, tramp_47, tramp_48, tramp_49,
    tramp_50, tramp_51, tramp_52, tramp_53, tramp_54, tramp_55, tramp_56, tramp_57, tramp_58, tramp_59,
    tramp_60, tramp_61, tramp_62, tramp_63,
};
static unsigned g_n_pooled;   /* tramp_cb[0, g_n_pooled) are taken; under g_wrap_mu */

/* The trampoline for callback cb: its pooled one (taken now if the pool has
 * room), else the generic one. g_wrap_mu held. */
static watcher_cb tramp_for(uintptr_t cb)
{
    for (unsigned i = 0; i < g_n_pooled; i++)
        if (atomic_load_explicit(&evt__g_hot.tramp_cb[i], memory_order_relaxed) == cb)
            return g_tramps[i];
    if (g_n_pooled == EVT__TRAMPS)
        return wrap_trampoline;
    atomic_store_explicit(&evt__g_hot.tramp_cb[g_n_pooled], cb, memory_order_release);
    return g_tramps[g_n_pooled++];
}

/* Slot for key in t: its own, else the first free or removed one. */
static struct wrap_slot *wrap_slot_for(struct wrap_table *t, uintptr_t key)
{
    struct wrap_slot *spare = NULL;
    for (size_t j = wrap_hash(key, t->cap);; j = (j + 1) & (t->cap - 1)) {
        uintptr_t k = atomic_load_explicit(&t->slots[j].key, memory_order_relaxed);
        if (k == key)
            return &t->slots[j];
        if (k == WRAP_TOMB && !spare)
            spare = &t->slots[j];
        if (k == 0)
            return spare ? spare : &t->slots[j];
    }
}

/* Replaces the table by one with room to spare; g_wrap_mu held. */
static int wrap_rebuild(void)
{
    struct wrap_table *old = atomic_load_explicit(&g_wrap, memory_order_relaxed);
    size_t live = 0;
    for (size_t i = 0; old && i < old->cap; i++)
        live += atomic_load_explicit(&old->slots[i].key, memory_order_relaxed) > WRAP_TOMB;
    size_t cap = WRAP_MIN_CAP;
    while (cap < (live + 1) * 4)
        cap *= 2;
    struct wrap_table *t = calloc(1, sizeof *t + cap * sizeof t->slots[0]);
    if (!t)
        return EVT_ENOMEM;
    t->cap = cap;
    for (size_t i = 0; old && i < old->cap; i++) {
        uintptr_t k = atomic_load_explicit(&old->slots[i].key, memory_order_relaxed);
        if (k <= WRAP_TOMB)
            continue;
        struct wrap_slot *s = wrap_slot_for(t, k);
        atomic_store_explicit(&s->cb, atomic_load_explicit(&old->slots[i].cb, memory_order_relaxed),
                              memory_order_relaxed);
        s->def = old->slots[i].def;
        atomic_store_explicit(&s->key, k, memory_order_relaxed);
        t->used++;
    }
    atomic_store_explicit(&g_wrap, t, memory_order_release);
    if (old) {
        old->retired_next = g_wrap_retired;
        g_wrap_retired = old;
    }
    return 0;
}

int evt__wrap(ev_watcher *w, int kind, int fd)
{
    int rc = 0;
    pthread_once(&g_wrap_atfork, wrap_register_atfork);
    pthread_mutex_lock(&g_wrap_mu);
    if (!evt__is_tramp((const void *)w->cb)) {
        struct wrap_table *t = atomic_load_explicit(&g_wrap, memory_order_relaxed);
        if (!t || (t->used + 1) * 2 > t->cap)
            rc = wrap_rebuild();
        t = atomic_load_explicit(&g_wrap, memory_order_relaxed);
        if (rc == 0) {
            struct wrap_slot *s = wrap_slot_for(t, (uintptr_t)w);
            uintptr_t k = atomic_load_explicit(&s->key, memory_order_relaxed);
            atomic_store_explicit(&s->cb, (uintptr_t)w->cb, memory_order_relaxed);
            s->def = (uint64_t)(uint32_t)kind << 32 | (uint32_t)fd;
            atomic_store_explicit(&s->key, (uintptr_t)w, memory_order_release);
            t->used += (k == 0);
            ev_set_cb(w, tramp_for((uintptr_t)w->cb));
        }
    }
    pthread_mutex_unlock(&g_wrap_mu);
    return rc;
}

void evt__unwrap(ev_watcher *w)
{
    pthread_mutex_lock(&g_wrap_mu);
    struct wrap_table *t = atomic_load_explicit(&g_wrap, memory_order_relaxed);
    struct wrap_slot *s = t ? wrap_slot_for(t, (uintptr_t)w) : NULL;
    if (s && atomic_load_explicit(&s->key, memory_order_relaxed) == (uintptr_t)w) {
        /* if the program replaced the callback since, keep its choice */
        if (evt__is_tramp((const void *)w->cb))
            ev_set_cb(w, (watcher_cb)atomic_load_explicit(&s->cb, memory_order_relaxed));
        atomic_store_explicit(&s->key, WRAP_TOMB, memory_order_release);
    }
    pthread_mutex_unlock(&g_wrap_mu);
}

int evt__is_wrapped(const ev_watcher *w)
{
    return evt__is_tramp((const void *)w->cb);
}

size_t evt__wrapped(struct evt__wrapped **out)
{
    *out = NULL;
    pthread_mutex_lock(&g_wrap_mu);
    struct wrap_table *t = atomic_load_explicit(&g_wrap, memory_order_relaxed);
    size_t n = 0, cap = t ? t->used : 0;
    struct evt__wrapped *v = cap ? malloc(cap * sizeof *v) : NULL;
    for (size_t i = 0; v && i < t->cap; i++) {
        uintptr_t k = atomic_load_explicit(&t->slots[i].key, memory_order_relaxed);
        if (k <= WRAP_TOMB)
            continue;
        v[n++] = (struct evt__wrapped){(ev_watcher *)k, (const void *)atomic_load(&t->slots[i].cb),
                                       (int)(t->slots[i].def >> 32), (int)(int32_t)t->slots[i].def};
    }
    pthread_mutex_unlock(&g_wrap_mu);
    *out = v;
    return n;
}

/* ---- evtrace.h ------------------------------------------------------------ */

int evt_watch_id(evt_tracer *t, struct ev_loop *loop, ev_watcher *w, int kind, int fd, uint32_t name)
{
    if (!t)
        return 0;
    if (!w || kind < 0 || kind >= EVT_KIND_COUNT)
        return EVT_EINVAL;
    int rc = evt__wrap(w, kind, fd);
    if (rc == 0)
        evt__record_watcher(t, w, kind, fd, name, loop);
    return rc;
}

int evt_watch(evt_tracer *t, struct ev_loop *loop, ev_watcher *w, int kind, int fd, const char *name)
{
    if (!t)
        return 0;
    return evt_watch_id(t, loop, w, kind, fd, name ? evt_intern(t, name) : 0);
}

int evt_watch_io(evt_tracer *t, struct ev_loop *loop, ev_io *w, const char *name)
{
    return evt_watch(t, loop, (ev_watcher *)w, EVT_KIND_IO, w ? w->fd : -1, name);
}

int evt_watch_timer(evt_tracer *t, struct ev_loop *loop, ev_timer *w, const char *name)
{
    return evt_watch(t, loop, (ev_watcher *)w, EVT_KIND_TIMER, -1, name);
}

int evt_watch_signal(evt_tracer *t, struct ev_loop *loop, ev_signal *w, const char *name)
{
    return evt_watch(t, loop, (ev_watcher *)w, EVT_KIND_SIGNAL, w ? w->signum : -1, name);
}

int evt_watch_async(evt_tracer *t, struct ev_loop *loop, ev_async *w, const char *name)
{
    return evt_watch(t, loop, (ev_watcher *)w, EVT_KIND_ASYNC, -1, name);
}

void evt_unwatch(evt_tracer *t, struct ev_loop *loop, ev_watcher *w)
{
    if (w)
        evt__unwrap(w);
}
