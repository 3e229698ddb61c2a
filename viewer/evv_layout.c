/* evv_layout.c -- greedy interval partitioning (see evv_layout.h). */
#define _GNU_SOURCE   /* qsort_r */
#include <stdlib.h>
#include <string.h>

#include "evt_mem.h"
#include "evv_layout.h"
#include "evv_lod.h"

struct evv__slot {       /* a row and the time it becomes free */
    uint64_t end;
    uint32_t row;
};

/* The intervals as evv_layout_pack_stride sees them: n records of
 * `stride` bytes, each holding a uint64_t t0 then t1 at `base`. */
struct evv__src {
    const char *base;
    size_t stride;
};

static struct evv_interval evv__at(const struct evv__src *src, size_t i)
{
    struct evv_interval v;
    memcpy(&v, src->base + i * src->stride, sizeof v);   /* no aliasing games */
    return v;
}

static uint64_t evv__end(const struct evv_interval *iv)
{
    return iv->t1 > iv->t0 ? iv->t1 : iv->t0 + 1;
}

/* Min-heap on (end, row). */
static int evv__less(const struct evv__slot *a, const struct evv__slot *b)
{
    return a->end < b->end || (a->end == b->end && a->row < b->row);
}

static void evv__sift_down(struct evv__slot *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && evv__less(&h[l], &h[m]))
            m = l;
        if (l + 1 < n && evv__less(&h[l + 1], &h[m]))
            m = l + 1;
        if (m == i)
            return;
        struct evv__slot tmp = h[i];
        h[i] = h[m], h[m] = tmp;
        i = m;
    }
}

static void evv__push(struct evv__slot *h, size_t *n, struct evv__slot s)
{
    size_t i = (*n)++;
    h[i] = s;
    while (i > 0 && evv__less(&h[i], &h[(i - 1) / 2])) {
        struct evv__slot tmp = h[i];
        h[i] = h[(i - 1) / 2], h[(i - 1) / 2] = tmp;
        i = (i - 1) / 2;
    }
}

static int evv__by_start(const void *a, const void *b, void *ctx)
{
    struct evv_interval x = evv__at(ctx, *(const size_t *)a), y = evv__at(ctx, *(const size_t *)b);
    if (x.t0 != y.t0)
        return x.t0 < y.t0 ? -1 : 1;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    return i < j ? -1 : i > j;   /* stable: equal starts keep input order */
}

static struct evv__slot evv__pop(struct evv__slot *h, size_t *n)
{
    struct evv__slot top = h[0];
    h[0] = h[--*n];
    evv__sift_down(h, *n, 0);
    return top;
}

/* Rows whose request ended by t move from the busy heap to the free heap
 * (keyed by row alone, so the lowest free row comes out first). */
static void evv__release(struct evv__slot *busy, size_t *nbusy, struct evv__slot *free_, size_t *nfree,
                         uint64_t t)
{
    while (*nbusy > 0 && busy[0].end <= t) {
        struct evv__slot s = evv__pop(busy, nbusy);
        evv__push(free_, nfree, (struct evv__slot){ 0, s.row });
    }
}

/* Whether the intervals already come by start (the model's requests do). */
static int evv__sorted(const struct evv__src *src, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (evv__at(src, i - 1).t0 > evv__at(src, i).t0)
            return 0;
    return 1;
}

/* The order to take intervals in: NULL when it is the input order (no
 * n log n sort, no index array), else a sorted index array; *oom on failure. */
static size_t *evv__order(const struct evv__src *src, size_t n, int *oom)
{
    *oom = 0;
    if (evv__sorted(src, n))
        return NULL;
    size_t *order = evv_big_alloc(n * sizeof *order);
    if (!order) {
        *oom = 1;
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    qsort_r(order, n, sizeof *order, evv__by_start, (void *)src);
    return order;
}

size_t evv_layout_pack(const struct evv_interval *iv, size_t n, uint32_t *row)
{
    return evv_layout_pack_stride(iv, sizeof *iv, n, row);
}

/* The heaps hold at most one slot per row (the peak concurrency, usually a
 * handful), but may need n: lazily faulted capacity costs only the pages
 * actually used, where a prefaulted n-sized heap cleared megabytes. */
size_t evv_layout_pack_stride(const void *t0, size_t stride, size_t n, uint32_t *row)
{
    int oom;
    struct evv__src src = { t0, stride };
    size_t *order = evv__order(&src, n, &oom);
    struct evv__slot *busy = evt__big_lazy((n ? n : 1) * sizeof *busy);
    struct evv__slot *free_ = evt__big_lazy((n ? n : 1) * sizeof *free_);
    size_t nbusy = 0, nfree = 0, rows = 0;
    if (oom || !busy || !free_) {
        free(order), free(busy), free(free_);
        return (size_t)-1;
    }
    for (size_t k = 0; k < n; k++) {
        size_t i = order ? order[k] : k;
        struct evv_interval cur = evv__at(&src, i);
        evv__release(busy, &nbusy, free_, &nfree, cur.t0);
        uint32_t r = nfree > 0 ? evv__pop(free_, &nfree).row : (uint32_t)rows++;
        evv__push(busy, &nbusy, (struct evv__slot){ evv__end(&cur), r });
        row[i] = r;
    }
    free(order), free(busy), free(free_);
    return rows;
}
