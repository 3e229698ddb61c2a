/* evv_layout.h -- pack overlapping intervals into as few rows as possible.
 *
 * Each request becomes a bar; bars that overlap in time must not share a
 * row, and a request keeps its row for its whole life (so the eye can
 * follow it). The classic greedy interval partitioning does exactly that
 * with the minimum number of rows: take intervals by start time, put each
 * into the lowest-numbered row that is free at its start (a min-heap of
 * busy rows by end time feeds a min-heap of free rows by number), or open
 * a new row when none is free. Lowest-row-first keeps the picture compact:
 * row 0 is the busiest, upper rows only fill under load. The number of rows equals the
 * largest number of intervals alive at one instant, which is optimal since
 * those all need distinct rows.
 *
 * Intervals are half-open [t0, t1): a request that ends at t and one that
 * begins at t may share a row. A zero-length interval counts as [t0, t0+1)
 * so that it still gets a row of its own. Cost: O(n log n) time, O(n)
 * memory, done once at load.
 */
#ifndef EVV_LAYOUT_H
#define EVV_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

struct evv_interval {
    uint64_t t0, t1;
};

/* Writes row[i] for each of the n intervals (any order) and returns the
 * number of rows; returns 0 with n == 0, or (size_t)-1 when out of memory. */
size_t evv_layout_pack(const struct evv_interval *iv, size_t n, uint32_t *row);

/* The same over intervals inside bigger records, without copying them out:
 * record i's t0 and t1 (two uint64_t, in that order) are at
 * (const char *)t0 + i * stride. The scene packs the model's requests so. */
size_t evv_layout_pack_stride(const void *t0, size_t stride, size_t n, uint32_t *row);

#endif /* EVV_LAYOUT_H */
