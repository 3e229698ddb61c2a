/* evt_clock.h -- the hot path's clock: raw ticks now, nanoseconds later.
 *
 * Recording takes a timestamp per event, so the clock is most of the cost of
 * an event. On x86-64 with an invariant TSC (cpuid 0x80000007 EDX bit 8:
 * constant rate, does not stop in deep C-states) rdtsc is read directly
 * (~12 ns here, against ~30 ns for clock_gettime through kvm-clock). The
 * ticks are converted to CLOCK_MONOTONIC nanoseconds off the hot path, by
 * the flusher, with a linear map calibrated against CLOCK_MONOTONIC: the
 * base pair (tsc_base, ns_base) is sampled at open and the rate is refined
 * at every flush from the ever longer interval since the base, so its error
 * shrinks as 1/elapsed and the absolute error of a converted time stays
 * around the jitter of one clock_gettime (well under a microsecond).
 *
 * Elsewhere (other CPUs, no invariant TSC, or EVTRACE_CLOCK=monotonic in the
 * environment) ticks ARE CLOCK_MONOTONIC nanoseconds and the map is the
 * identity.
 *
 * Limits: rdtsc is not serialising, so a timestamp may be taken a few dozen
 * cycles early or late relative to neighbouring instructions; that is far
 * below what a trace resolves. TSCs of different sockets are assumed to be
 * synchronised (true on anything with invariant TSC in practice); the
 * encoder clamps per-thread time so it never runs backwards anyway.
 */
#ifndef EVT_CLOCK_H
#define EVT_CLOCK_H

#include <stdint.h>
#include <time.h>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

enum evt__clock_source { EVT__CLOCK_MONOTONIC = 0, EVT__CLOCK_TSC = 1 };

struct evt__clock {
    int source;            /* enum evt__clock_source */
    uint64_t tsc_base;     /* ticks at the base sample */
    uint64_t ns_base;      /* CLOCK_MONOTONIC ns at the base sample */
    uint64_t ticks_per_s;  /* 1e9 for the monotonic source */
    uint64_t ns_per_tick_q32; /* ns per tick as a 32.32 fixed-point number */
};

/* CLOCK_MONOTONIC in ns. */
static inline uint64_t evt__mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Ticks of the given source: the hot path's timestamp. */
static inline uint64_t evt__clock_ticks(int source)
{
#if defined(__x86_64__)
    if (__builtin_expect(source == EVT__CLOCK_TSC, 1))
        return __rdtsc();
#endif
    (void)source;
    return evt__mono_ns();
}

/* 1 if this CPU has an invariant TSC (always 0 off x86-64). */
int evt__clock_has_invariant_tsc(void);

/* Picks the source (TSC if invariant and EVTRACE_CLOCK is not "monotonic";
 * "tsc", unset or empty: the default; anything else: the default, and a
 * line on stderr, evt__env_choice) and samples the base pair. Rate: a
 * first estimate over ~1 ms. */
void evt__clock_init(struct evt__clock *c);

/* Forces a source (tests). Falls back to monotonic if TSC is unavailable. */
void evt__clock_init_source(struct evt__clock *c, int source);

/* Re-estimates the rate over [base, now]. Called by the flusher. */
void evt__clock_refine(struct evt__clock *c);

/* Ticks -> CLOCK_MONOTONIC ns with the current map. Ticks before the base
 * map to ns_base minus the difference (never below 0). */
static inline uint64_t evt__clock_to_ns(const struct evt__clock *c, uint64_t ticks)
{
    if (c->source != EVT__CLOCK_TSC)
        return ticks;
    if (ticks >= c->tsc_base) {
        unsigned __int128 d = (unsigned __int128)(ticks - c->tsc_base) * c->ns_per_tick_q32;
        return c->ns_base + (uint64_t)(d >> 32);
    }
    unsigned __int128 d = (unsigned __int128)(c->tsc_base - ticks) * c->ns_per_tick_q32;
    uint64_t back = (uint64_t)(d >> 32);
    return back < c->ns_base ? c->ns_base - back : 0;
}

#endif /* EVT_CLOCK_H */
