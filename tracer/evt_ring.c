/* evt_ring.c -- the ring's slow paths (see evt_ring.h). */
#include "evt_ring.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "evt_format.h"
#include "evt_shm.h"

/* Writes one byte in each page of [p, p + size). volatile: the compiler
 * must not drop stores to memory nobody has read yet. */
static void ring_touch(void *p, size_t size)
{
    long page = sysconf(_SC_PAGESIZE);
    size_t step = page > 0 ? (size_t)page : 4096;
    for (size_t off = 0; off < size; off += step)
        ((volatile uint8_t *)p)[off] = 0;
}

int evt__ring_init(struct evt__ring *r, size_t bytes, int clock_source, int warm)
{
    return evt__ring_init_in(r, bytes, clock_source, warm, NULL);
}

int evt__ring_init_in(struct evt__ring *r, size_t bytes, int clock_source, int warm, struct evt__shm *shm)
{
    memset(r, 0, sizeof *r);
    size_t want = bytes / sizeof(struct evt__raw);
    size_t cap = 64;
    while (cap * 2 <= want)
        cap *= 2;
    size_t size = cap * sizeof(struct evt__raw);
    void *p = evt__shm_pages(shm, size);
    if (!p)
        return -12;
    /* Only a write makes a page cheap to write: MAP_POPULATE and
     * MADV_POPULATE_WRITE still leave the first user write slow in a VM
     * whose host backs guest memory lazily (measured here: a 4 MiB ring
     * costs 15-70 ms to touch; untouched, events cost 60-120 ns instead of
     * 11 ns on the first lap). One write per page is enough: the page is
     * then present and zero-filled, and the ring's slots need no initial
     * value. (A memset of the whole ring did the same with ~3M more
     * instructions per ring.) */
    if (warm)
        ring_touch(p, size);
    r->slots = p;
    r->mask = cap - 1;
    r->limit = cap;
    r->clock_source = clock_source;
    return 0;
}

void evt__ring_reset(struct evt__ring *r)
{
    r->tail_cache = 0;
    r->limit = evt__ring_capacity(r);
    atomic_store(&r->lost_pending, 0);
    atomic_store(&r->lost_since, 0);
    atomic_store(&r->lost_total, 0);
    atomic_store(&r->head, 0);
    atomic_store(&r->tail, 0);
}

void evt__ring_free(struct evt__ring *r)
{
    evt__ring_free_in(r, NULL);
}

void evt__ring_free_in(struct evt__ring *r, struct evt__shm *shm)
{
    if (r->slots)
        evt__shm_free_pages(shm, r->slots, evt__ring_capacity(r) * sizeof(struct evt__raw));
    r->slots = NULL;
}

/* Counts one dropped event and sends the producer down the slow path until
 * the drops are reported. */
static void ring_drop(struct evt__ring *r)
{
    if (atomic_load_explicit(&r->lost_pending, memory_order_relaxed) == 0)
        atomic_store_explicit(&r->lost_since, evt__clock_ticks(r->clock_source), memory_order_relaxed);
    atomic_store_explicit(&r->lost_pending, atomic_load_explicit(&r->lost_pending, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    atomic_store_explicit(&r->lost_total, atomic_load_explicit(&r->lost_total, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    r->limit = 0;
}

/* Writes the LOST event (+ its continuation) for the pending drops. */
static void ring_put_lost(struct evt__ring *r)
{
    struct evt__raw *e = evt__ring_slot(r, 0);
    struct evt__raw *c = evt__ring_slot(r, 1);
    memset(e, 0, sizeof *e);
    memset(c, 0, sizeof *c);
    e->ts = evt__clock_ticks(r->clock_source);
    e->type = EVT_REC_LOST;
    e->obj = atomic_load_explicit(&r->lost_pending, memory_order_relaxed);
    c->ts = e->ts;
    c->type = EVT__RAW_CONT;
    c->obj = atomic_load_explicit(&r->lost_since, memory_order_relaxed);
    atomic_store_explicit(&r->lost_pending, 0, memory_order_relaxed);
    evt__ring_commit(r, 2);
}

int evt__ring_make_room(struct evt__ring *r, unsigned n)
{
    uint64_t cap = evt__ring_capacity(r);
    r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
    uint64_t room = cap - (atomic_load_explicit(&r->head, memory_order_relaxed) - r->tail_cache);
    if (atomic_load_explicit(&r->lost_pending, memory_order_relaxed)) {
        if (room < (uint64_t)n + 2) {
            ring_drop(r);
            return 0;
        }
        ring_put_lost(r);
        room -= 2;
    }
    if (room < n) {
        ring_drop(r);
        return 0;
    }
    r->limit = cap;
    return 1;
}

uint64_t evt__ring_take_lost(struct evt__ring *r, uint64_t *since_ticks)
{
    uint64_t n = atomic_exchange_explicit(&r->lost_pending, 0, memory_order_relaxed);
    *since_ticks = atomic_load_explicit(&r->lost_since, memory_order_relaxed);
    return n;
}
