/* test_lod.c -- LOD tracks and the max pyramid against brute force: the
 * searches a frame relies on (first block ending after t, galloping and
 * coarse-index seeks, busy time of any range) and "largest value in
 * [i, j)" of the concurrency pyramid. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "evv_lod.h"

/* n non-overlapping blocks with random lengths and gaps (some zero). */
static void make_track(struct evv_track *tr, size_t n, unsigned *seed)
{
    struct evv_block *b = malloc((n + 1) * sizeof *b);
    uint64_t t = (uint64_t)rand_r(seed) % 1000;
    for (size_t i = 0; i < n; i++) {
        t += (uint64_t)(rand_r(seed) % 4 == 0 ? 0 : rand_r(seed) % 500);
        b[i].t0 = t;
        t += (uint64_t)(rand_r(seed) % 8 == 0 ? 0 : rand_r(seed) % 300);
        b[i].t1 = t;
        b[i].item = (uint32_t)i, b[i].rgb = 0;
    }
    assert_int_equal(evv_track_init(tr, b, n), 0);
}

static double brute_busy(const struct evv_track *tr, double a, double z)
{
    double sum = 0;
    for (size_t i = 0; i < tr->n; i++) {
        double lo = (double)tr->b[i].t0 > a ? (double)tr->b[i].t0 : a;
        double hi = (double)tr->b[i].t1 < z ? (double)tr->b[i].t1 : z;
        sum += hi > lo ? hi - lo : 0;
    }
    return sum;
}

static size_t brute_end_after(const struct evv_track *tr, size_t from, double t)
{
    while (from < tr->n && !((double)tr->b[from].t1 > t))
        from++;
    return from;
}

static void test_searches_and_busy(void **state)
{
    for (unsigned seed = 1; seed <= 60; seed++) {
        unsigned s = seed;
        struct evv_track tr;
        size_t n = (size_t)rand_r(&s) % 3000;
        make_track(&tr, n, &s);
        double end = n ? (double)tr.b[n - 1].t1 + 100 : 100;
        for (int q = 0; q < 300; q++) {
            double t = end * (rand_r(&s) / (double)RAND_MAX);
            size_t from = n ? (size_t)rand_r(&s) % (n + 1) : 0;
            size_t want = brute_end_after(&tr, 0, t);
            assert_int_equal(evv_track_first_ending_after(&tr, t), want);
            assert_int_equal(evv_track_seek_end(&tr, from < want ? from : want, t), want);
            size_t k = evv_track_first_starting_at(&tr, from, t), w2 = from;
            while (w2 < n && (double)tr.b[w2].t0 < t)
                w2++;
            assert_int_equal(k, w2);
            double a = end * (rand_r(&s) / (double)RAND_MAX), z = a + end * (rand_r(&s) / (double)RAND_MAX) / 4;
            assert_true(abs((int)(evv_track_busy(&tr, a, z) - brute_busy(&tr, a, z))) <= 1);
        }
        evv_track_free(&tr);
    }
}

/* A left-to-right sweep with one cursor gives the same busy times as
 * independent queries (the cursor only moves forward). */
static void test_sweep_cursor(void **state)
{
    unsigned s = 42;
    struct evv_track tr;
    make_track(&tr, 100000, &s);
    double end = (double)tr.b[tr.n - 1].t1, step = end / 1500;
    size_t cur = 0;
    double prev = evv_track_busy_before(&tr, &cur, 0);
    for (double t = step; t < end; t += step) {
        double next = evv_track_busy_before(&tr, &cur, t);
        assert_true(abs((int)((next - prev) - brute_busy(&tr, t - step, t))) <= 1);
        prev = next;
    }
    evv_track_free(&tr);
}

static void test_max_pyramid(void **state)
{
    unsigned s = 9;
    for (int round = 0; round < 20; round++) {
        size_t n = 1 + (size_t)rand_r(&s) % 5000;
        uint32_t *v = malloc(n * sizeof *v);
        for (size_t i = 0; i < n; i++)
            v[i] = (uint32_t)rand_r(&s) % 1000;
        struct evv_maxpyr p;
        assert_int_equal(evv_maxpyr_init(&p, v, n), 0);
        for (int q = 0; q < 500; q++) {
            size_t i = (size_t)rand_r(&s) % n, j = i + (size_t)rand_r(&s) % (n - i + 1);
            uint32_t want = 0;
            for (size_t k = i; k < j; k++)
                want = v[k] > want ? v[k] : want;
            assert_int_equal(evv_maxpyr_query(&p, i, j), want);
        }
        assert_int_equal(evv_maxpyr_query(&p, 3, 3), 0);
        evv_maxpyr_free(&p);
        free(v);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_searches_and_busy),
        cmocka_unit_test(test_sweep_cursor),
        cmocka_unit_test(test_max_pyramid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
