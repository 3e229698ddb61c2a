/* test_layout.c -- lane packing: overlapping requests never share a row,
 * the row count equals the largest overlap (checked by brute force over
 * many random sets), rows do not change as later requests arrive, and the
 * scene gives every request the row the packer chose. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "evv_layout.h"
#include "evv_scene.h"
#include "evv_synth.h"

static uint64_t end_of(const struct evv_interval *iv)
{
    return iv->t1 > iv->t0 ? iv->t1 : iv->t0 + 1;
}

static int overlap(const struct evv_interval *a, const struct evv_interval *b)
{
    return a->t0 < end_of(b) && b->t0 < end_of(a);
}

/* Largest number of intervals alive at one instant: the maximum is
 * reached at some interval's start. */
static size_t brute_max_overlap(const struct evv_interval *iv, size_t n)
{
    size_t best = 0;
    for (size_t i = 0; i < n; i++) {
        size_t c = 0;
        for (size_t j = 0; j < n; j++)
            c += iv[j].t0 <= iv[i].t0 && iv[i].t0 < end_of(&iv[j]);
        best = c > best ? c : best;
    }
    return best;
}

static void random_set(struct evv_interval *iv, size_t n, unsigned *seed, uint64_t horizon, uint64_t maxlen)
{
    for (size_t i = 0; i < n; i++) {
        iv[i].t0 = (uint64_t)rand_r(seed) % horizon;
        iv[i].t1 = iv[i].t0 + (rand_r(seed) % 8 == 0 ? 0 : (uint64_t)rand_r(seed) % maxlen);
    }
}

static void test_random_vs_brute_force(void **state)
{
    struct evv_interval iv[300];
    uint32_t row[300];
    for (unsigned seed = 1; seed <= 400; seed++) {
        unsigned s = seed;
        size_t n = 1 + (size_t)rand_r(&s) % 300;
        random_set(iv, n, &s, 1000 + (uint64_t)rand_r(&s) % 100000, 1 + (uint64_t)rand_r(&s) % 20000);
        size_t rows = evv_layout_pack(iv, n, row);
        assert_int_equal(rows, brute_max_overlap(iv, n));
        for (size_t i = 0; i < n; i++) {
            assert_true(row[i] < rows);
            for (size_t j = i + 1; j < n; j++)
                if (overlap(&iv[i], &iv[j]))
                    assert_int_not_equal(row[i], row[j]);
        }
    }
}

static int by_start(const void *a, const void *b)
{
    const struct evv_interval *x = a, *y = b;
    return (x->t0 > y->t0) - (x->t0 < y->t0);
}

/* A request keeps its row: packing the requests that started so far gives
 * the same rows as packing everything (later arrivals move nothing). */
static void test_rows_stable_as_requests_arrive(void **state)
{
    struct evv_interval iv[200];
    uint32_t all[200], part[200];
    for (unsigned seed = 1; seed <= 50; seed++) {
        unsigned s = seed;
        random_set(iv, 200, &s, 50000, 5000);
        for (size_t i = 0; i < 200; i++)
            iv[i].t0 = iv[i].t0 * 200 + i, iv[i].t1 = iv[i].t1 * 200 + i;   /* distinct starts */
        qsort(iv, 200, sizeof *iv, by_start);
        evv_layout_pack(iv, 200, all);
        for (size_t k = 1; k <= 200; k += 13) {
            evv_layout_pack(iv, k, part);
            assert_memory_equal(part, all, k * sizeof *part);
        }
    }
}

static void test_edges(void **state)
{
    uint32_t row[8];
    struct evv_interval touch[] = { { 0, 5 }, { 5, 10 }, { 10, 15 } };
    assert_int_equal(evv_layout_pack(touch, 3, row), 1);            /* staircase of 1: sequential */
    struct evv_interval same[] = { { 3, 9 }, { 3, 9 }, { 3, 9 }, { 3, 9 } };
    assert_int_equal(evv_layout_pack(same, 4, row), 4);
    assert_true(row[0] != row[1] && row[1] != row[2] && row[2] != row[3] && row[0] != row[3]);
    struct evv_interval zero[] = { { 4, 4 }, { 4, 4 }, { 5, 5 } };
    assert_int_equal(evv_layout_pack(zero, 3, row), 2);             /* [4,5) twice, then [5,6) */
    assert_int_equal(evv_layout_pack(NULL, 0, row), 0);
    /* Unsorted input: the result must not depend on order. */
    struct evv_interval un[] = { { 50, 60 }, { 0, 100 }, { 10, 20 }, { 15, 55 } };
    assert_int_equal(evv_layout_pack(un, 4, row), 3);
    assert_int_equal(row[1], 0);   /* the earliest start gets row 0 */
}

static void test_scene_rows(void **state)
{
    struct evt_model m;
    struct evv_scene s;
    assert_int_equal(evv_synth_scene(&m, EVV_SYNTH_ASYNC, 300, 11), 0);
    assert_int_equal(evv_scene_build(&s, &m, "x", 100000000ull), 0);
    size_t seen = 0;
    for (size_t r = 0; r < s.n_rows; r++)
        for (size_t k = 0; k < s.rows[r].n; k++, seen++) {
            const struct evv_block *b = &s.rows[r].b[k];
            assert_int_equal(s.req_row[b->item], r);
            assert_true(b->t0 == m.requests[b->item].t0 - m.t_min);
            if (k > 0)
                assert_true(s.rows[r].b[k - 1].t1 <= b->t0);       /* a row never overlaps */
        }
    assert_int_equal(seen, m.n_requests);
    assert_int_equal(s.conc_max, s.n_rows);   /* rows == the most requests in flight */
    evv_scene_free(&s);
    evv_synth_free(&m);
}

/* The scene packs the model's requests in place (a stride over bigger
 * records): the rows must be exactly those of the plain packer. */
static void test_stride_matches_plain(void **state)
{
    struct rec { uint64_t id; uint64_t t0, t1; char pad[24]; } recs[200];
    struct evv_interval iv[200];
    uint32_t a[200], b[200];
    for (unsigned seed = 1; seed <= 50; seed++) {
        unsigned s = seed;
        size_t n = 1 + (size_t)rand_r(&s) % 200;
        random_set(iv, n, &s, 50000, 5000);
        for (size_t i = 0; i < n; i++)
            recs[i] = (struct rec){ .id = i, .t0 = iv[i].t0, .t1 = iv[i].t1 };
        size_t rows = evv_layout_pack(iv, n, a);
        assert_int_equal(evv_layout_pack_stride(&recs[0].t0, sizeof recs[0], n, b), rows);
        assert_memory_equal(a, b, n * sizeof a[0]);
    }
}

/* A trace with more polls than EVV_THREAD_MIN builds its poll tracks on a
 * second thread: every poll must still land in its thread's idle track, in
 * order, with the busy prefix sums adding up (run under ASan in CI). */
static void test_scene_two_threads(void **state)
{
    struct evv_synth b;
    evv_synth_init(&b);
    enum { THREADS = 2, POLLS = 6000 };
    uint64_t total[THREADS] = { 0 };
    for (uint32_t t = 0; t < THREADS; t++) {
        evv_synth_thread(&b, t, 100 + t, "loop");
        uint32_t w = evv_synth_watcher(&b, "cb", 1, 3, t);
        for (uint64_t i = 0; i < POLLS; i++) {
            uint64_t t0 = 1000 + i * 100 + t;
            evv_synth_poll(&b, t, t0, t0 + 60);
            evv_synth_callback(&b, t, w, t0 + 70, t0 + 90);
            total[t] += 60;
        }
    }
    assert_int_equal(evv_synth_finish(&b), 0);
    struct evv_scene s;
    assert_int_equal(evv_scene_build(&s, &b.m, "x", 100000000ull), 0);
    assert_int_equal(s.n_loops, THREADS);
    for (size_t l = 0; l < s.n_loops; l++) {
        const struct evv_track *p = &s.loops[l].polls;
        assert_int_equal(p->n, POLLS);
        for (size_t k = 1; k < p->n; k++)
            assert_true(p->b[k - 1].t1 <= p->b[k].t0);
        assert_int_equal(p->busy[p->n], total[s.loops[l].thread]);
        assert_int_equal(s.loops[l].cbs.n, POLLS);
    }
    evv_scene_free(&s);
    evv_synth_free(&b.m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_vs_brute_force), cmocka_unit_test(test_rows_stable_as_requests_arrive),
        cmocka_unit_test(test_edges),                 cmocka_unit_test(test_scene_rows),
        cmocka_unit_test(test_stride_matches_plain),  cmocka_unit_test(test_scene_two_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
