/* test_axis.c -- tick steps (1-2-5, minimal, far enough apart), tick
 * positions, labels with units that tell ticks apart, durations. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "evv_axis.h"

static int is_125(double step)
{
    double d = pow(10, floor(log10(step) + 1e-9));
    double m = step / d;
    return fabs(m - 1) < 1e-9 || fabs(m - 2) < 1e-9 || fabs(m - 5) < 1e-9;
}

/* The 1-2-5 step just below. */
static double prev_125(double step)
{
    double d = pow(10, floor(log10(step) + 1e-9)), m = step / d;
    return m > 4 ? 2 * d : m > 1.5 ? d : d / 2;
}

static void test_step_is_minimal_125(void **state)
{
    unsigned seed = 7;
    for (int i = 0; i < 20000; i++) {
        double npp = pow(10, -2 + 14 * (rand_r(&seed) / (double)RAND_MAX));
        double min_px = 40 + rand_r(&seed) % 100;
        double step = evv_axis_step(npp, min_px);
        assert_true(step >= 1);
        assert_true(is_125(step));
        if (npp * min_px > 1) {
            assert_true(step / npp >= min_px * (1 - 1e-12));
            assert_true(prev_125(step) / npp < min_px);   /* no smaller step would do */
        }
    }
    assert_true(evv_axis_step(0.001, 50) == 1);   /* never below 1 ns */
    assert_true(evv_axis_step(1e6, 100) == 1e8);
    assert_true(evv_axis_step(1e6, 101) == 2e8);
}

static void test_ticks(void **state)
{
    unsigned seed = 99;
    double ticks[256];
    for (int i = 0; i < 2000; i++) {
        struct evv_viewport vp;
        double t0 = -1e6 + 1e10 * (rand_r(&seed) / (double)RAND_MAX);
        double span = pow(10, 2 + 9 * (rand_r(&seed) / (double)RAND_MAX));
        evv_viewport_set(&vp, t0, t0 + span, 1500);
        double step = evv_axis_step(vp.ns_per_px, 90);
        size_t n = evv_axis_ticks(&vp, step, ticks, 256);
        long first = (long)ceil(vp.t0 / step), last = (long)floor(vp.t1 / step);
        assert_int_equal(n, (size_t)(last - first + 1));
        for (size_t k = 0; k < n; k++) {
            assert_true(ticks[k] >= vp.t0 && ticks[k] <= vp.t1);
            assert_true(fabs(ticks[k] - (double)(first + (long)k) * step) < 1e-6 * step);
        }
        assert_true(n <= 1500 / 90 + 1);
    }
}

static void test_labels(void **state)
{
    char b[64];
    evv_axis_label(1.5e6, 5e5, b, sizeof b), assert_string_equal(b, "1.5 ms");
    evv_axis_label(0, 1e6, b, sizeof b), assert_string_equal(b, "0 ms");
    evv_axis_label(2e9, 1e9, b, sizeof b), assert_string_equal(b, "2 s");
    evv_axis_label(750, 250, b, sizeof b), assert_string_equal(b, "750 ns");
    evv_axis_label(1.5e9, 5e8, b, sizeof b), assert_string_equal(b, "1.5 s");
    evv_axis_label(1.4e6, 2e5, b, sizeof b), assert_string_equal(b, "1400 \xc2\xb5s");
    evv_axis_label(-2e6, 1e6, b, sizeof b), assert_string_equal(b, "-2 ms");
    evv_axis_label(12e3, 2e3, b, sizeof b), assert_string_equal(b, "12 \xc2\xb5s");
    evv_axis_label(0.25e9, 0.05e9, b, sizeof b), assert_string_equal(b, "250 ms");
}

static void test_labels_distinct_on_screen(void **state)
{
    unsigned seed = 5;
    double ticks[64];
    for (int i = 0; i < 3000; i++) {
        struct evv_viewport vp;
        double t0 = 1e10 * (rand_r(&seed) / (double)RAND_MAX);
        double span = pow(10, 1 + 11 * (rand_r(&seed) / (double)RAND_MAX));
        evv_viewport_set(&vp, t0, t0 + span, 1600);
        double step = evv_axis_step(vp.ns_per_px, 90);
        size_t n = evv_axis_ticks(&vp, step, ticks, 64);
        char prev[64] = "", cur[64];
        for (size_t k = 0; k < n; k++) {
            evv_axis_label(ticks[k], step, cur, sizeof cur);
            assert_true(strstr(cur, " ns") || strstr(cur, " \xc2\xb5s") || strstr(cur, " ms") || strstr(cur, " s"));
            assert_true(strcmp(prev, cur) != 0);
            strcpy(prev, cur);
        }
    }
}

static void test_durations(void **state)
{
    char b[64];
    evv_format_duration(512e6, b, sizeof b), assert_string_equal(b, "512 ms");
    evv_format_duration(1.25e9, b, sizeof b), assert_string_equal(b, "1.25 s");
    evv_format_duration(3400, b, sizeof b), assert_string_equal(b, "3.40 \xc2\xb5s");
    evv_format_duration(17, b, sizeof b), assert_string_equal(b, "17 ns");
    evv_format_duration(999.7e3, b, sizeof b), assert_string_equal(b, "1.00 ms");
    evv_format_duration(45.67e6, b, sizeof b), assert_string_equal(b, "45.7 ms");
    evv_format_duration(0, b, sizeof b), assert_string_equal(b, "0 ns");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_step_is_minimal_125), cmocka_unit_test(test_ticks),
        cmocka_unit_test(test_labels),              cmocka_unit_test(test_labels_distinct_on_screen),
        cmocka_unit_test(test_durations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
