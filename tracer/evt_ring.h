/* evt_ring.h -- a thread's event buffer: single-producer single-consumer ring.
 *
 * The producer is the traced thread, the consumer the flusher. Events are
 * fixed-size (24 bytes) raw records: the hot path copies four values and a
 * timestamp, and all the compression happens later in the encoder. The ring
 * holds a power of two of them, indexed by free-running 64-bit counters:
 * head (next slot to fill, written by the producer) and tail (next slot to
 * read, written by the consumer). head - tail is the fill level.
 *
 * Memory ordering: the producer fills a slot with plain stores and then
 * publishes it with a release store of head; the consumer reads head with
 * acquire, reads the slots, and gives them back with a release store of
 * tail, which the producer reads with acquire before reusing them. The
 * producer keeps a private copy of tail (tail_cache), refreshed only when
 * the ring looks full, so the common case touches no cache line the
 * consumer writes.
 *
 * Overflow: when the ring is full the event is dropped and counted. The
 * drops are not silent: as soon as there is room again, the producer first
 * writes an EVT_REC_LOST event (count, time of the first drop) so the gap
 * sits exactly where it happened in the thread's timeline, then the event it
 * was asked to record. Drops still pending when the thread stops are taken
 * by the flusher at close (evt__ring_take_lost). The count is exact: every
 * call that does not store its event adds one.
 */
#ifndef EVT_RING_H
#define EVT_RING_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "evt_clock.h"

#define EVT_LIKELY(x) __builtin_expect(!!(x), 1)
#define EVT_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* One raw event. type is an enum evt_rec_type (or EVT__RAW_CONT); what obj,
 * arg, arg2 and kind hold depends on it, see evt_internal.h. */
struct evt__raw {
    uint64_t ts;    /* ticks (evt_clock.h) */
    uint64_t obj;   /* watcher/loop pointer, request id, value, count */
    uint32_t arg;   /* name id, revents, status, fd */
    uint16_t arg2;  /* spare (0) */
    uint8_t type;
    uint8_t kind;
};
_Static_assert(sizeof(struct evt__raw) == 24, "raw events are 24 bytes");

/* Second half of a two-slot event (WATCHER, LOST); never in a file. */
#define EVT__RAW_CONT 0xFF
/* The loop at obj was destroyed: its address may next hold another loop,
 * which must get a new id. Never in a file. */
#define EVT__RAW_LOOP_GONE 0xFE

struct evt__ring {
    /* Producer's cache line: only the producer writes these. */
    struct evt__raw *slots;
    uint64_t mask;                 /* capacity - 1 */
    uint64_t tail_cache;           /* tail as last seen */
    uint64_t limit;                /* capacity; 0 while drops are pending */
    int clock_source;              /* copy of the tracer's, for the hot path */
    _Atomic uint64_t lost_pending; /* drops not yet covered by a LOST event */
    _Atomic uint64_t lost_since;   /* ticks of the first of those */
    _Atomic uint64_t lost_total;   /* every drop (evt_lost reads it) */
    _Atomic uint64_t head;         /* only the producer stores it */
    /* Consumer's cache line. */
    alignas(64) _Atomic uint64_t tail;
};

/* Allocates room for the largest power of two of events that fits in
 * bytes (at least 64); warm = 1 writes every page once, so that the hot
 * path never takes a page fault (slow: do it off the hot path). Returns 0
 * or EVT_ENOMEM (-12). */
int evt__ring_init(struct evt__ring *r, size_t bytes, int clock_source, int warm);
void evt__ring_free(struct evt__ring *r);
/* The same, with the slots in a shared region (evt_shm.h; NULL: private). */
struct evt__shm;
int evt__ring_init_in(struct evt__ring *r, size_t bytes, int clock_source, int warm, struct evt__shm *shm);
void evt__ring_free_in(struct evt__ring *r, struct evt__shm *shm);
/* Empties a ring no thread is using any more, keeping its (warm) memory. */
void evt__ring_reset(struct evt__ring *r);

static inline uint64_t evt__ring_capacity(const struct evt__ring *r) { return r->mask + 1; }

/* Slow path, producer: makes room for n slots starting at head, writing a
 * pending LOST event first. Returns 1 (fill n slots and commit them) or 0
 * (the event was dropped and counted). */
int evt__ring_make_room(struct evt__ring *r, unsigned n);

/* Producer: 1 if one event fits without the slow path (the ring has room
 * and no drops are waiting to be reported). */
static inline int evt__ring_has_room(const struct evt__ring *r)
{
    return atomic_load_explicit(&r->head, memory_order_relaxed) - r->tail_cache < r->limit;
}

/* The i-th slot after head (producer). */
static inline struct evt__raw *evt__ring_slot(struct evt__ring *r, unsigned i)
{
    return &r->slots[(atomic_load_explicit(&r->head, memory_order_relaxed) + i) & r->mask];
}

/* Publishes n filled slots (producer). */
static inline void evt__ring_commit(struct evt__ring *r, unsigned n)
{
    uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
    atomic_store_explicit(&r->head, h + n, memory_order_release);
}

/* Producer: stores one event with timestamp ts in a slot known to be free;
 * returns the slot. */
static inline struct evt__raw *evt__ring_push_ts(struct evt__ring *r, uint64_t ts, uint8_t type, uint8_t kind,
                                                 uint64_t obj, uint32_t arg)
{
    uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
    struct evt__raw *e = &r->slots[h & r->mask];
    e->ts = ts;
    e->obj = obj;
    e->arg = arg;
    e->arg2 = 0;
    e->type = type;
    e->kind = kind;
    atomic_store_explicit(&r->head, h + 1, memory_order_release);
    return e;
}

/* Producer: stores one event, timestamped now, in a slot known to be free. */
static inline void evt__ring_push(struct evt__ring *r, uint8_t type, uint8_t kind, uint64_t obj, uint32_t arg)
{
    evt__ring_push_ts(r, evt__clock_ticks(r->clock_source), type, kind, obj, arg);
}

/* One event, with the slow path when full. */
static inline void evt__ring_put(struct evt__ring *r, uint8_t type, uint8_t kind, uint64_t obj, uint32_t arg)
{
    if (EVT_LIKELY(evt__ring_has_room(r)) || evt__ring_make_room(r, 1))
        evt__ring_push(r, type, kind, obj, arg);
}

/* Consumer: events published and not yet released are [*tail, return). */
static inline uint64_t evt__ring_readable(struct evt__ring *r, uint64_t *tail)
{
    *tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    return atomic_load_explicit(&r->head, memory_order_acquire);
}

/* Consumer: gives slots before new_tail back to the producer. */
static inline void evt__ring_release(struct evt__ring *r, uint64_t new_tail)
{
    atomic_store_explicit(&r->tail, new_tail, memory_order_release);
}

/* Consumer, once the producer has stopped: takes the drops no LOST event
 * covers yet. Returns the count (0 if none) and their first tick. */
uint64_t evt__ring_take_lost(struct evt__ring *r, uint64_t *since_ticks);

#endif /* EVT_RING_H */
