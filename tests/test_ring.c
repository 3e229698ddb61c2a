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
}

/* Fill to the brim, overflow by 10, drain, record again: the ring first
 * writes LOST(10) with the time of the first drop, then the new event. */
static void test_drop_and_lost(void **state)
{
    struct evt__ring r;
    uint64_t vals[256], lost = 0, since = 0;
    evt__ring_init(&r, 24 * 64, EVT__CLOCK_MONOTONIC, 1);
    for (uint64_t i = 0; i < 64; i++)
        put(&r, i);
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
    evt__ring_init(&r, 24 * 64, EVT__CLOCK_MONOTONIC, 1);
    for (uint64_t i = 0; i < 70; i++)
        put(&r, i);
    uint64_t since;
    assert_int_equal(evt__ring_take_lost(&r, &since), 6);
    assert_true(since > 0);
    assert_int_equal(evt__ring_take_lost(&r, &since), 0);
    evt__ring_free(&r);
}

/* A two-slot reservation needs room for both. */
static void test_make_room(void **state)
{
    struct evt__ring r;
    evt__ring_init(&r, 24 * 64, EVT__CLOCK_MONOTONIC, 1);
    for (uint64_t i = 0; i < 63; i++)
        put(&r, i);
    assert_int_equal(evt__ring_make_room(&r, 2), 0);
    assert_int_equal(atomic_load(&r.lost_total), 1);
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
