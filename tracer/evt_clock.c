/* evt_clock.c -- TSC detection and calibration (see evt_clock.h). */
#include "evt_clock.h"
#include "evt_internal.h"   /* evt__env_choice */

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

int evt__clock_has_invariant_tsc(void)
{
#if defined(__x86_64__)
    unsigned a, b, c, d;
    if (!__get_cpuid(0x80000000u, &a, &b, &c, &d) || a < 0x80000007u)
        return 0;
    __get_cpuid(0x80000007u, &a, &b, &c, &d);
    return (d >> 8) & 1;
#else
    return 0;
#endif
}

/* Sets the rate and the fixed-point factor from two samples. */
static void clock_set_rate(struct evt__clock *c, uint64_t dticks, uint64_t dns)
{
    if (dticks == 0 || dns == 0)
        return;
    c->ticks_per_s = (uint64_t)((unsigned __int128)dticks * 1000000000u / dns);
    c->ns_per_tick_q32 = (uint64_t)(((unsigned __int128)dns << 32) / dticks);
}

/* One (ticks, ns) pair taken as close together as possible: the ns read is
 * bracketed by two TSC reads and the narrowest of a few tries wins, so the
 * pair is off by at most half a clock_gettime. */
static void clock_sample(uint64_t *ticks, uint64_t *ns)
{
    uint64_t best = UINT64_MAX;
    for (int i = 0; i < 5; i++) {
        uint64_t t0 = evt__clock_ticks(EVT__CLOCK_TSC);
        uint64_t n = evt__mono_ns();
        uint64_t t1 = evt__clock_ticks(EVT__CLOCK_TSC);
        if (t1 - t0 < best) {
            best = t1 - t0;
            *ticks = t0 + (t1 - t0) / 2;
            *ns = n;
        }
    }
}

void evt__clock_init_source(struct evt__clock *c, int source)
{
    memset(c, 0, sizeof *c);
    if (source == EVT__CLOCK_TSC && !evt__clock_has_invariant_tsc())
        source = EVT__CLOCK_MONOTONIC;
    c->source = source;
    c->ticks_per_s = 1000000000u;
    c->ns_per_tick_q32 = 1ull << 32;
    if (source != EVT__CLOCK_TSC) {
        c->ns_base = evt__mono_ns();
        c->tsc_base = c->ns_base;
        return;
    }
    clock_sample(&c->tsc_base, &c->ns_base);
    /* A first estimate of the rate over ~1 ms, so a flush right after the
     * open already converts sensibly; evt__clock_refine improves it. */
    uint64_t t, n;
    do {
        clock_sample(&t, &n);
    } while (n - c->ns_base < 1000000u);
    clock_set_rate(c, t - c->tsc_base, n - c->ns_base);
}

void evt__clock_init(struct evt__clock *c)
{
    /* "tsc" names the default, for scripts that want to say so */
    int env = evt__env_choice("EVTRACE_CLOCK", "monotonic", "tsc");
    evt__clock_init_source(c, env == 1 ? EVT__CLOCK_MONOTONIC : EVT__CLOCK_TSC);
}

void evt__clock_refine(struct evt__clock *c)
{
    if (c->source != EVT__CLOCK_TSC)
        return;
    uint64_t t, n;
    clock_sample(&t, &n);
    /* Below ~1 ms the first estimate is as good as it gets. */
    if (n - c->ns_base >= 1000000u && t > c->tsc_base)
        clock_set_rate(c, t - c->tsc_base, n - c->ns_base);
}
