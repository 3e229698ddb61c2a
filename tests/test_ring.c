/* test_ring.c -- the SPSC ring: order, fill, exact drop counting, LOST. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "evt_format.h"
#include "evt_ring.h"

static void put(struct evt__ring *r, uint64_t v)
{
    evt__ring_put(r, EVT_REC_MARK, 0, v, 1);
}

/* r: a warm 64-slot ring (monotonic clock) with events 0..n-1 put into
 * it; those past 64 are drops. */
static void ring_with(struct evt__ring *r, uint64_t n)
{
    evt__ring_init(r, 24 * 64, EVT__CLOCK_MONOTONIC, 1);
    for (uint64_t i = 0; i < n; i++)
        put(r, i);
}

/* Reads everything published; appends marks' values to out, counts LOST. */
static size_t drain(struct evt__ring *r, uint64_t *out, uint64_t *lost, uint64_t *lost_since)
{
    uint64_t tail, head = evt__ring_readable(r, &tail);
    size_t n = 0;
    for (; tail != head; tail++) {
        const struct evt__raw *e = &r->slots[tail & r->mask];
        if (e->type == EVT_REC_MARK)
            out[n++] = e->obj;
        if (e->type == EVT_REC_LOST) {
            *lost += e->obj;
            const struct evt__raw *c = &r->slots[(tail + 1) & r->mask];
            assert_int_equal(c->type, EVT__RAW_CONT);
            *lost_since = c->obj;
        }
    }
    evt__ring_release(r, head);
    return n;
}

static void test_capacity(void **state)
{
    struct evt__ring r;
    assert_int_equal(evt__ring_init(&r, 0, EVT__CLOCK_MONOTONIC, 1), 0);
    assert_int_equal(evt__ring_capacity(&r), 64);
    evt__ring_free(&r);
    assert_int_equal(evt__ring_init(&r, 24 * 1000, EVT__CLOCK_MONOTONIC, 1), 0);
    assert_int_equal(evt__ring_capacity(&r), 512);
    evt__ring_free(&r);
    /* bytes for exactly a power of two of events: all of them, not half;
     * one byte less: the next power of two down */
    assert_int_equal(evt__ring_init(&r, 24 * 256, EVT__CLOCK_MONOTONIC, 0), 0);
    assert_int_equal(evt__ring_capacity(&r), 256);
    evt__ring_free(&r);
    assert_int_equal(evt__ring_init(&r, 24 * 256 - 1, EVT__CLOCK_MONOTONIC, 0), 0);
    assert_int_equal(evt__ring_capacity(&r), 128);
    evt__ring_free(&r);
}

/* Fill to the brim, overflow by 10, drain, record again: the ring first
 * writes LOST(10) with the time of the first drop, then the new event. */
static void test_drop_and_lost(void **state)
{
    struct evt__ring r;
    uint64_t vals[256], lost = 0, since = 0;
    ring_with(&r, 64);
    uint64_t t0 = evt__mono_ns();
    for (uint64_t i = 64; i < 74; i++)
        put(&r, i);
    uint64_t t1 = evt__mono_ns();
    assert_int_equal(atomic_load(&r.lost_total), 10);
    size_t n = drain(&r, vals, &lost, &since);
    assert_int_equal(n, 64);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(vals[i], i);
    assert_int_equal(lost, 0);
    put(&r, 100);
    n = drain(&r, vals, &lost, &since);
    assert_int_equal(n, 1);
    assert_int_equal(vals[0], 100);
    assert_int_equal(lost, 10);
    assert_in_range(since, t0, t1);
    uint64_t s;
    assert_int_equal(evt__ring_take_lost(&r, &s), 0);
    evt__ring_free(&r);
}

/* Drops with no room for the LOST event stay pending; take_lost gets them. */
static void test_take_lost(void **state)
{
    struct evt__ring r;
    ring_with(&r, 70);
    uint64_t since;
    assert_int_equal(evt__ring_take_lost(&r, &since), 6);
    assert_true(since > 0);
    assert_int_equal(evt__ring_take_lost(&r, &since), 0);
    evt__ring_free(&r);
}

/* A two-slot reservation needs room for both. Once it has dropped, a
 * one-slot event does not take the slot left either: the LOST event must
 * come first, and there is no room for it. */
static void test_make_room(void **state)
{
    struct evt__ring r;
    ring_with(&r, 63);
    assert_int_equal(evt__ring_make_room(&r, 2), 0);
    assert_int_equal(atomic_load(&r.lost_total), 1);
    put(&r, 63);
    assert_int_equal(atomic_load(&r.lost_total), 2);
    uint64_t tail, head = evt__ring_readable(&r, &tail);
    assert_int_equal(head - tail, 63);
    evt__ring_free(&r);
}

/* Waits until the monotonic clock has moved past t. */
static void clock_past(uint64_t t)
{
    while (evt__mono_ns() <= t)
        ;
}

/* The LOST event carries the time of the FIRST drop of a run, not of a
 * later one: the gap starts where the first event went missing. */
static void test_lost_since_first_drop(void **state)
{
    struct evt__ring r;
    uint64_t vals[64], lost = 0, since = 0;
    ring_with(&r, 64);
    uint64_t t0 = evt__mono_ns();
    put(&r, 64);                     /* first drop */
    uint64_t t1 = evt__mono_ns();
    clock_past(t1);
    put(&r, 65);                     /* second drop, strictly later */
    clock_past(evt__mono_ns());
    put(&r, 66);                     /* third */
    assert_int_equal(drain(&r, vals, &lost, &since), 64);
    put(&r, 100);
    assert_int_equal(drain(&r, vals, &lost, &since), 1);
    assert_int_equal(lost, 3);
    assert_in_range(since, t0, t1);
    evt__ring_free(&r);
}

/* Releases the k oldest published slots (a consumer that read only those). */
static void release_some(struct evt__ring *r, uint64_t k)
{
    uint64_t tail;
    evt__ring_readable(r, &tail);
    evt__ring_release(r, tail + k);
}

/* make_room's bounds are exact: a slot freed in a full ring takes the next
 * event (no drop), and pending drops need exactly two more free slots, for
 * the LOST event and its continuation, before the next event is stored. */
static void test_room_exact(void **state)
{
    struct evt__ring r;
    uint64_t vals[64], lost = 0, since = 0;
    ring_with(&r, 64);
    release_some(&r, 1);             /* one free slot: the producer's copy of tail says none */
    put(&r, 64);
    assert_int_equal(atomic_load(&r.lost_total), 0);
    put(&r, 65);                     /* full again: dropped */
    assert_int_equal(atomic_load(&r.lost_total), 1);
    release_some(&r, 2);             /* two free: not enough for LOST + CONT + event */
    put(&r, 66);
    assert_int_equal(atomic_load(&r.lost_total), 2);
    release_some(&r, 1);             /* three free: exactly enough */
    put(&r, 67);
    assert_int_equal(atomic_load(&r.lost_total), 2);
    uint64_t s;
    assert_int_equal(evt__ring_take_lost(&r, &s), 0);   /* the LOST event covers them */
    size_t n = drain(&r, vals, &lost, &since);
    assert_int_equal(lost, 2);
    assert_int_equal(vals[n - 1], 67);
    assert_int_equal(vals[n - 2], 64);
    evt__ring_free(&r);
}

/* A reset ring (an exited thread's, kept as the spare) is empty and has
 * forgotten its drops: the next thread must not report the old thread's
 * losses or replay its events, and it gets the whole capacity. */
static void test_reset(void **state)
{
    struct evt__ring r;
    uint64_t vals[64], lost = 0, since = 0;
    ring_with(&r, 70);   /* 6 dropped, still pending */
    release_some(&r, 10);                /* a consumer in the middle of the ring */
    evt__ring_reset(&r);
    uint64_t tail, head = evt__ring_readable(&r, &tail);
    assert_int_equal(head, tail);
    assert_int_equal(atomic_load(&r.lost_total), 0);
    uint64_t s;
    assert_int_equal(evt__ring_take_lost(&r, &s), 0);
    for (uint64_t i = 0; i < 64; i++)
        put(&r, 1000 + i);
    assert_int_equal(atomic_load(&r.lost_total), 0);
    assert_int_equal(drain(&r, vals, &lost, &since), 64);
    for (size_t i = 0; i < 64; i++)
        assert_int_equal(vals[i], 1000 + i);
    assert_int_equal(lost, 0);
    evt__ring_free(&r);
}

struct prod {
    struct evt__ring *r;
    uint64_t n;
    atomic_int done;
};

static void *producer(void *arg)
{
    struct prod *p = arg;
    for (uint64_t i = 0; i < p->n; i++)
        put(p->r, i);
    atomic_store(&p->done, 1);
    return NULL;
}

/* A producer thread against a consumer: values come out in order, and
 * delivered + lost == produced exactly. */
static void test_concurrent(void **state)
{
    struct evt__ring r;
    evt__ring_init(&r, 24 * 1024, EVT__CLOCK_MONOTONIC, 1);
    struct prod p = {&r, 2000000, 0};
    pthread_t th;
    pthread_create(&th, NULL, producer, &p);
    uint64_t *vals = malloc(1024 * sizeof *vals);
    uint64_t got = 0, lost = 0, since = 0, last = 0;
    int done = 0, first = 1;
    while (!done) {
        done = atomic_load(&p.done);
        size_t n = drain(&r, vals, &lost, &since);
        for (size_t i = 0; i < n; i++) {
            if (!first)
                assert_true(vals[i] > last);
            first = 0;
            last = vals[i];
        }
        got += n;
    }
    pthread_join(th, NULL);
    uint64_t s;
    lost += evt__ring_take_lost(&r, &s);
    assert_int_equal(got + lost, p.n);
    assert_int_equal(lost, atomic_load(&r.lost_total));
    free(vals);
    evt__ring_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capacity),
        cmocka_unit_test(test_drop_and_lost),
        cmocka_unit_test(test_take_lost),
        cmocka_unit_test(test_make_room),
        cmocka_unit_test(test_concurrent),
        cmocka_unit_test(test_lost_since_first_drop),
        cmocka_unit_test(test_room_exact),
        cmocka_unit_test(test_reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
