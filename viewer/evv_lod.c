/* evv_lod.c -- tracks and the max pyramid (see evv_lod.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "evt_mem.h"
#include "evtrace.h"
#include "evv_lod.h"

/* Building a scene writes ~100 MB of fresh memory for a 10M-event trace;
 * faulted in one 4 KiB page at a time that is most of the build's time (on
 * a VM every fault traps to the hypervisor). The tracer's evt__big_alloc
 * (evt_mem.h: 2 MiB-aligned huge pages, populated in one call) is shared
 * with the model; this name stays for the viewer's callers. */
void *evv_big_alloc(size_t bytes) { return evt__big_alloc(bytes); }

int evv_track_init(struct evv_track *tr, struct evv_block *b, size_t n)
{
    tr->b = b;
    tr->n = n;
    tr->busy = evv_big_alloc((n + 1) * sizeof *tr->busy);
    if (!tr->busy) {
        free(b);
        tr->b = NULL, tr->n = 0;
        return EVT_ENOMEM;
    }
    tr->busy[0] = 0;
    for (size_t i = 0; i < n; i++)
        tr->busy[i + 1] = tr->busy[i] + (b[i].t1 - b[i].t0);
    tr->n_groups = (n + EVV_GROUP - 1) / EVV_GROUP;
    tr->group_t1 = malloc((tr->n_groups + 1) * sizeof *tr->group_t1);
    if (!tr->group_t1) {
        evv_track_free(tr);
        return EVT_ENOMEM;
    }
    for (size_t g = 0; g < tr->n_groups; g++) {
        size_t last = (g + 1) * EVV_GROUP - 1;
        tr->group_t1[g] = b[last < n ? last : n - 1].t1;
    }
    return 0;
}

void evv_track_free(struct evv_track *tr)
{
    free(tr->b);
    free(tr->busy);
    free(tr->group_t1);
    memset(tr, 0, sizeof *tr);
}

/* Key of block i for the searches below: its end or its start. */
static double evv__key(const struct evv_track *tr, size_t i, int by_end)
{
    return by_end ? (double)tr->b[i].t1 : (double)tr->b[i].t0;
}

/* First index in [lo, hi) whose key passes t (end > t, or start >= t). */
static size_t evv__bsearch(const struct evv_track *tr, size_t lo, size_t hi, double t, int by_end)
{
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        double k = evv__key(tr, mid, by_end);
        if (by_end ? k > t : k >= t)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* Galloping search from `from`: probe from+1, +2, +4, ... then bisect the
 * last gap. The answer is usually a few blocks away (the next pixel), so
 * this touches a few neighbouring cache lines instead of ~log2(n) random
 * ones: on 10M-event tracks that is most of a frame's time. */
static size_t evv__gallop(const struct evv_track *tr, size_t from, double t, int by_end)
{
    size_t lo = from, step = 1;
    while (lo < tr->n) {
        double k = evv__key(tr, lo, by_end);
        if (by_end ? k > t : k >= t)
            return lo == from ? lo : evv__bsearch(tr, lo - step / 2, lo, t, by_end);
        step *= 2;
        size_t next = from + step - 1;
        if (next >= tr->n)
            return evv__bsearch(tr, lo + 1, tr->n, t, by_end);
        lo = next;
    }
    return tr->n;
}

size_t evv_track_first_ending_after(const struct evv_track *tr, double t)
{
    return evv__bsearch(tr, 0, tr->n, t, 1);
}

/* First group at or after g whose last block ends after t (galloping). */
static size_t evv__group_after(const struct evv_track *tr, size_t g, double t)
{
    size_t lo = g, hi = g, step = 1, n = tr->n_groups;
    while (hi < n && (double)tr->group_t1[hi] <= t) {
        lo = hi + 1;
        hi += step;
        step *= 2;
    }
    hi = hi < n ? hi : n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if ((double)tr->group_t1[mid] > t)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

size_t evv_track_seek_end(const struct evv_track *tr, size_t from, double t)
{
    /* Near answers (the common case when zoomed in) stay local. */
    if (from + EVV_GROUP / 4 >= tr->n || (double)tr->b[from + EVV_GROUP / 4].t1 > t)
        return evv__gallop(tr, from, t, 1);
    size_t g = evv__group_after(tr, from / EVV_GROUP, t);
    if (g >= tr->n_groups)
        return tr->n;
    size_t lo = g * EVV_GROUP > from ? g * EVV_GROUP : from, hi = g * EVV_GROUP + EVV_GROUP;
    return evv__bsearch(tr, lo, hi < tr->n ? hi : tr->n, t, 1);
}

size_t evv_track_first_starting_at(const struct evv_track *tr, size_t from, double t)
{
    return evv__gallop(tr, from, t, 0);
}

long evv_track_find(const struct evv_track *tr, double t, double slack)
{
    size_t i = evv_track_first_ending_after(tr, t - slack);
    long best = -1;
    double best_d = slack + 1;
    /* The block containing t, else the closer of its two neighbours. */
    for (size_t k = i; k < tr->n && k < i + 3; k++) {
        const struct evv_block *b = &tr->b[k];
        double d = t < b->t0 ? b->t0 - t : t >= b->t1 ? t - b->t1 : 0;
        if (d <= slack && d < best_d)
            best = (long)k, best_d = d;
        if ((double)b->t0 > t + slack)
            break;
    }
    return best;
}

double evv_track_busy_before(const struct evv_track *tr, size_t *cursor, double t)
{
    size_t i = evv_track_seek_end(tr, *cursor, t);
    *cursor = i;
    double sum = (double)tr->busy[i];
    if (i < tr->n && (double)tr->b[i].t0 < t)
        sum += t - (double)tr->b[i].t0;
    return sum;
}

double evv_track_busy(const struct evv_track *tr, double t0, double t1)
{
    size_t c = 0;
    if (!(t1 > t0) || tr->n == 0)
        return 0;
    double a = evv_track_busy_before(tr, &c, t0);
    return evv_track_busy_before(tr, &c, t1) - a;
}

int evv_maxpyr_init(struct evv_maxpyr *p, const uint32_t *values, size_t n)
{
    uint32_t *v = evv_big_alloc((n ? n : 1) * sizeof(uint32_t));   /* megabytes: see above */
    if (!v) {
        memset(p, 0, sizeof *p);
        return EVT_ENOMEM;
    }
    if (n)
        memcpy(v, values, n * sizeof(uint32_t));
    return evv_maxpyr_adopt(p, v, n);
}

int evv_maxpyr_adopt(struct evv_maxpyr *p, uint32_t *values, size_t n)
{
    memset(p, 0, sizeof *p);
    p->lv[0] = values;
    p->n[0] = n;
    p->levels = 1;
    while (p->levels < EVV_PYR_LEVELS && p->n[p->levels - 1] > EVV_PYR_FAN) {
        int k = p->levels;
        size_t m = (p->n[k - 1] + EVV_PYR_FAN - 1) / EVV_PYR_FAN;
        p->lv[k] = calloc(m, sizeof(uint32_t));
        if (!p->lv[k]) {
            evv_maxpyr_free(p);
            return EVT_ENOMEM;
        }
        for (size_t i = 0; i < p->n[k - 1]; i++)
            if (p->lv[k - 1][i] > p->lv[k][i / EVV_PYR_FAN])
                p->lv[k][i / EVV_PYR_FAN] = p->lv[k - 1][i];
        p->n[k] = m;
        p->levels++;
    }
    return 0;
}

void evv_maxpyr_free(struct evv_maxpyr *p)
{
    for (int k = 0; k < EVV_PYR_LEVELS; k++)
        free(p->lv[k]);
    memset(p, 0, sizeof *p);
}

uint32_t evv_maxpyr_query(const struct evv_maxpyr *p, size_t i, size_t j)
{
    uint32_t best = 0;
    if (j > p->n[0])
        j = p->n[0];
    /* Climb: take single entries at the ragged ends until i and j are
     * aligned to the next level's blocks, then go up one level. */
    for (int k = 0; k < p->levels && i < j; k++) {
        const uint32_t *v = p->lv[k];
        int last = k + 1 == p->levels;
        while (i < j && (last || i % EVV_PYR_FAN))
            best = v[i] > best ? v[i] : best, i++;
        while (i < j && (last || j % EVV_PYR_FAN))
            j--, best = v[j] > best ? v[j] : best;
        i /= EVV_PYR_FAN, j /= EVV_PYR_FAN;
    }
    return best;
}
