/* test_clock.c -- ticks to CLOCK_MONOTONIC ns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <cmocka.h>

#include "evt_clock.h"

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* Converted ticks agree with clock_gettime taken at the same moment. */
static void check_agrees(struct evt__clock *c, uint64_t tolerance_ns)
{
    for (int i = 0; i < 5; i++) {
        uint64_t n0 = evt__mono_ns();
        uint64_t t = evt__clock_ticks(c->source);
        uint64_t n1 = evt__mono_ns();
        uint64_t ns = evt__clock_to_ns(c, t);
        assert_in_range(ns, n0 - tolerance_ns, n1 + tolerance_ns);
        sleep_ms(3);
    }
}

static void test_monotonic_identity(void **state)
{
    struct evt__clock c;
    evt__clock_init_source(&c, EVT__CLOCK_MONOTONIC);
    assert_int_equal(c.source, EVT__CLOCK_MONOTONIC);
    assert_int_equal(evt__clock_to_ns(&c, 123456789), 123456789);
    check_agrees(&c, 0);
}

static void test_tsc(void **state)
{
    struct evt__clock c;
    evt__clock_init_source(&c, EVT__CLOCK_TSC);
    if (!evt__clock_has_invariant_tsc()) {
        assert_int_equal(c.source, EVT__CLOCK_MONOTONIC);
        skip();
    }
    assert_int_equal(c.source, EVT__CLOCK_TSC);
    assert_in_range(c.ticks_per_s, 100000000ull, 10000000000ull);
    /* the 1 ms first estimate: within 50 us over the next 15 ms */
    check_agrees(&c, 50000);
    sleep_ms(100);
    evt__clock_refine(&c);
    check_agrees(&c, 20000);
    /* ticks before the base map before ns_base */
    assert_true(evt__clock_to_ns(&c, c.tsc_base - 1000000) < c.ns_base);
}

static void test_env_forces_monotonic(void **state)
{
    struct evt__clock c;
    setenv("EVTRACE_CLOCK", "monotonic", 1);
    evt__clock_init(&c);
    unsetenv("EVTRACE_CLOCK");
    assert_int_equal(c.source, EVT__CLOCK_MONOTONIC);
    int dflt = evt__clock_has_invariant_tsc() ? EVT__CLOCK_TSC : EVT__CLOCK_MONOTONIC;
    evt__clock_init(&c);
    assert_int_equal(c.source, dflt);
    setenv("EVTRACE_CLOCK", "tsc", 1);   /* the default, by name */
    evt__clock_init(&c);
    unsetenv("EVTRACE_CLOCK");
    assert_int_equal(c.source, dflt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_monotonic_identity),
        cmocka_unit_test(test_tsc),
        cmocka_unit_test(test_env_forces_monotonic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
