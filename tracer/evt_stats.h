/* evt_stats.h -- the numbers `evtrace stats` prints, computed from a model.
 *
 * Definitions (the same in the text and the JSON output):
 *   duration_ns      t_max - t_min: first to last event of the trace.
 *   bytes_per_event  file bytes / events (header and strings included).
 *   loop.iterations  loop iterations recorded (all loops, all threads).
 *   loop.poll_ratio  time blocked in poll / wall, where
 *                    wall = duration_ns x loop_threads (threads that ran at
 *                    least one iteration), so 1.0 means every loop thread
 *                    slept in poll for the whole trace.
 *   loop.busy_ratio  time inside iterations but not in poll / wall: the
 *                    share of the loops' time spent running callbacks and
 *                    libev's own work. busy + poll <= 1; the rest is time
 *                    outside any iteration (before the first, after the
 *                    last, or the program not in ev_run at all).
 *   percentiles      nearest rank: pXX = the value at rank ceil(XX/100 * n)
 *                    of the sorted durations (1-based); computed over
 *                    complete spans only (an unfinished span's length is
 *                    not known).
 *   stalls           callbacks lasting >= the stall threshold (default
 *                    100 ms), unfinished ones included (complete = 0): a
 *                    callback still blocking when the trace ends is the
 *                    worst stall of all.
 *   start_ns         relative to t_min.
 */
#ifndef EVT_STATS_H
#define EVT_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "evt_model.h"

#define EVT_STATS_DEFAULT_STALL_NS 100000000ull  /* 100 ms */
#define EVT_STATS_SLOWEST 5

struct evt_stats_span {          /* a slow callback or a stall */
    const char *name;            /* points into the model */
    uint64_t start_ns;           /* since t_min */
    uint64_t duration_ns;
    uint32_t thread;
    int complete;
};

struct evt_stats_dist {          /* durations of complete spans */
    uint64_t count;              /* all spans, complete or not */
    uint64_t p50_ns, p90_ns, p99_ns, max_ns;
};

struct evt_stats_reqname {       /* requests grouped by name */
    const char *name;
    struct evt_stats_dist dist;
};

struct evt_stats {
    const char *file;            /* as given (may be NULL) */
    uint64_t events, lost, orphans, duration_ns;
    size_t file_bytes;
    double bytes_per_event;
    size_t threads, loop_threads;
    int damaged;
    const char *error;           /* "" unless damaged; points into the model */
    uint64_t stall_threshold_ns;

    uint64_t iterations, polls;
    uint64_t iter_ns, poll_ns, busy_ns;   /* sums over all loop threads */
    double busy_ratio, poll_ratio;

    struct evt_stats_dist callbacks;
    struct evt_stats_span slowest[EVT_STATS_SLOWEST];
    size_t n_slowest;
    struct evt_stats_span *stalls;        /* owned */
    size_t n_stalls;

    struct evt_stats_dist requests;
    uint32_t max_concurrency;
    struct evt_stats_reqname *by_name;    /* owned, sorted by name */
    size_t n_by_name;
};

/* Fills s from m (which must outlive s). Returns 0 or EVT_ENOMEM. */
int evt_stats_compute(struct evt_stats *s, const struct evt_model *m, uint64_t stall_ns);
void evt_stats_free(struct evt_stats *s);

/* The nearest-rank percentile of sorted[0..n) (see above); 0 when n == 0. */
uint64_t evt_stats_percentile(const uint64_t *sorted, size_t n, double pct);

/* Human-readable report, aligned columns. Returns 0 or EVT_EIO. */
int evt_stats_print_text(const struct evt_stats *s, FILE *out);

/* One JSON object (jansson), keys as documented in docs. Returns 0,
 * EVT_ENOMEM or EVT_EIO. */
int evt_stats_print_json(const struct evt_stats *s, FILE *out);

#endif /* EVT_STATS_H */
