/* evv_lod.h -- level of detail: draw O(pixels), not O(events).
 *
 * A 10-million-event trace zoomed out puts hundreds of blocks in every
 * pixel column. Drawing each would cost O(events) per frame; instead every
 * lane is a *track*: blocks sorted by start that never overlap, so their
 * ends are sorted too and any time maps to a block by binary search. The
 * renderer walks a track from the first visible block; a block at least a
 * couple of pixels wide is drawn as itself, and where blocks are narrower
 * it sweeps pixel columns, as Tracy merges zones: each column is drawn
 * once, shaded by how busy it really was. That needs the busy time of a
 * column, which each track's prefix sums of block durations (built once at
 * load) give from the index of the first block ending after the column's
 * edge. A cursor moves that index forward from column to column by
 * galloping (1, 2, 4, ... blocks ahead, then bisecting), so a frame costs
 * O(pixels * log(blocks per pixel)) per track whatever the zoom.
 *
 * Zoomed far out a pixel holds hundreds of blocks and a search through
 * them would miss the cache at every probe; a coarse index (the end time
 * of every 64th block, 1/24 of the track's size, small enough to stay in
 * cache) takes such long jumps, and only the last 64 blocks are searched
 * in the track itself. Limit: a frame of the whole 10M-event trace still
 * costs ~10 ms on a busy 2-core VM, mostly those last cache misses; a
 * pyramid of per-bucket busy sums would remove them at the price of
 * approximate column heights.
 *
 * The concurrency graph needs "largest value within this pixel"; a max
 * pyramid (each level the max of 16 entries of the level below) answers
 * that in O(log n) per pixel column, with 1/15 extra memory.
 */
#ifndef EVV_LOD_H
#define EVV_LOD_H

#include <stddef.h>
#include <stdint.h>

struct evv_block {
    uint64_t t0, t1;      /* ns since the trace origin, t1 >= t0 */
    uint32_t item;        /* index into the model array the track was built from */
    uint32_t rgb;         /* colour (0xRRGGBB) */
};

#define EVV_GROUP 64      /* blocks per entry of the coarse index */

struct evv_track {
    struct evv_block *b;
    size_t n;
    uint64_t *busy;       /* n + 1 prefix sums: busy[i] = sum of durations of b[0..i) */
    uint64_t *group_t1;   /* end of the last block of each group of EVV_GROUP blocks */
    size_t n_groups;
};

/* malloc for big arrays that are written right away: asks for huge pages
 * and prefaults them in one call (see evv_lod.c). Free with free(). */
void *evv_big_alloc(size_t bytes);

/* Takes ownership of b (malloc'ed, n blocks sorted by t0, not overlapping)
 * and builds the prefix sums. Returns 0 or EVT_ENOMEM (b is then freed). */
int evv_track_init(struct evv_track *tr, struct evv_block *b, size_t n);
void evv_track_free(struct evv_track *tr);

/* Index of the first block with t1 > t (n if none). */
size_t evv_track_first_ending_after(const struct evv_track *tr, double t);

/* Index of the first block at or after `from` with t0 >= t (n if none).
 * Gallops from `from`: cheap when the answer is near. */
size_t evv_track_first_starting_at(const struct evv_track *tr, size_t from, double t);

/* Index of the first block at or after `from` with t1 > t, galloping. */
size_t evv_track_seek_end(const struct evv_track *tr, size_t from, double t);

/* Busy ns of [0, t). *cursor (start at 0) must only move forward: calls
 * with increasing t reuse it, so a left-to-right sweep costs O(n) total. */
double evv_track_busy_before(const struct evv_track *tr, size_t *cursor, double t);

/* The block containing time t, or the nearest one within slack ns; -1 if none. */
long evv_track_find(const struct evv_track *tr, double t, double slack);

/* Nanoseconds of [t0, t1) covered by blocks. */
double evv_track_busy(const struct evv_track *tr, double t0, double t1);

/* Max pyramid over a value array (see above). */
#define EVV_PYR_FAN 16
#define EVV_PYR_LEVELS 8      /* 16^8 = 4e9 entries: enough for any trace */

struct evv_maxpyr {
    uint32_t *lv[EVV_PYR_LEVELS];   /* lv[0] is a copy of the values */
    size_t n[EVV_PYR_LEVELS];
    int levels;
};

int evv_maxpyr_init(struct evv_maxpyr *p, const uint32_t *values, size_t n);
/* The same, taking ownership of values (malloc'ed, at least one entry even
 * when n is 0) instead of copying them: freed by evv_maxpyr_free, also when
 * this fails (EVT_ENOMEM). */
int evv_maxpyr_adopt(struct evv_maxpyr *p, uint32_t *values, size_t n);
void evv_maxpyr_free(struct evv_maxpyr *p);

/* Largest value in [i, j); 0 if the range is empty. */
uint32_t evv_maxpyr_query(const struct evv_maxpyr *p, size_t i, size_t j);

#endif /* EVV_LOD_H */
