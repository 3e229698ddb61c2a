/* evv_synth.c -- in-memory models (see evv_synth.h). */
#include <stdlib.h>
#include <string.h>

#include "evtrace.h"
#include "evv_synth.h"

/* Grows *arr (of elem-sized items, *n used, *cap allocated) for one more. */
static void *evv__grow(struct evv_synth *b, void **arr, size_t n, size_t *cap, size_t elem)
{
    if (n < *cap)
        return (char *)*arr + n * elem;
    size_t nc = *cap ? *cap * 2 : 16;
    void *p = realloc(*arr, nc * elem);
    if (!p) {
        b->oom = 1;
        return NULL;
    }
    *arr = p, *cap = nc;
    return (char *)p + n * elem;
}

void evv_synth_init(struct evv_synth *b)
{
    memset(b, 0, sizeof *b);
    b->m.process_name = "synthetic";
    b->m.pid = 4242;
    evv_synth_watcher(b, "(none)", EVT_KIND_UNKNOWN, -1, 0);   /* id 0 is unused */
}

void evv_synth_thread(struct evv_synth *b, uint32_t index, uint32_t tid, const char *name)
{
    struct evt_m_thread *t = evv__grow(b, (void **)&b->m.threads, b->m.n_threads, &b->cap_threads, sizeof *t);
    if (t) {
        *t = (struct evt_m_thread){ index, tid, name };
        b->m.n_threads++;
    }
}

uint32_t evv_synth_watcher(struct evv_synth *b, const char *name, int kind, int fd, uint32_t thread)
{
    uint32_t id = (uint32_t)b->m.n_watchers;
    struct evt_m_watcher *w = evv__grow(b, (void **)&b->m.watchers, b->m.n_watchers, &b->cap_watchers, sizeof *w);
    if (w) {
        *w = (struct evt_m_watcher){ id, 1, thread, fd, (uint8_t)kind, name };
        b->m.n_watchers++;
    }
    return id;
}

void evv_synth_poll(struct evv_synth *b, uint32_t thread, uint64_t t0, uint64_t t1)
{
    struct evt_m_span *p = evv__grow(b, (void **)&b->m.polls, b->m.n_polls, &b->cap_polls, sizeof *p);
    if (p) {
        *p = (struct evt_m_span){ t0, t1, thread, 1, 1 };
        b->m.n_polls++;
    }
}

void evv_synth_callback(struct evv_synth *b, uint32_t thread, uint32_t watcher, uint64_t t0, uint64_t t1)
{
    struct evt_m_callback *c = evv__grow(b, (void **)&b->m.callbacks, b->m.n_callbacks, &b->cap_cbs, sizeof *c);
    if (c) {
        *c = (struct evt_m_callback){ t0, t1, thread, watcher, 1, 0, 1 };
        b->m.n_callbacks++;
    }
}

void evv_synth_request(struct evv_synth *b, uint64_t id, const char *name, uint32_t thread, uint64_t t0,
                       uint64_t t1, const char *const *names, const uint64_t *phase_t0, size_t n)
{
    uint32_t first = (uint32_t)b->m.n_phases;
    for (size_t k = 0; k < n; k++) {
        struct evt_m_phase *p = evv__grow(b, (void **)&b->m.phases, b->m.n_phases, &b->cap_phases, sizeof *p);
        if (!p)
            return;
        *p = (struct evt_m_phase){ phase_t0[k], names[k] };
        b->m.n_phases++;
    }
    struct evt_m_request *q = evv__grow(b, (void **)&b->m.requests, b->m.n_requests, &b->cap_reqs, sizeof *q);
    if (q) {
        *q = (struct evt_m_request){ id, t0, t1, name, 200, thread, first, (uint32_t)n, 1 };
        b->m.n_requests++;
    }
}

/* Appends a sample to *arr (a marks or counters array of *n). */
static void evv__sample(struct evv_synth *b, struct evt_m_sample **arr, size_t *n, size_t *cap,
                        struct evt_m_sample v)
{
    struct evt_m_sample *k = evv__grow(b, (void **)arr, *n, cap, sizeof *k);
    if (k) {
        *k = v;
        ++*n;
    }
}

void evv_synth_mark(struct evv_synth *b, uint32_t thread, uint64_t ts, const char *name, int64_t value)
{
    evv__sample(b, &b->m.marks, &b->m.n_marks, &b->cap_marks, (struct evt_m_sample){ ts, value, name, thread });
}

void evv_synth_counter(struct evv_synth *b, uint32_t thread, uint64_t ts, const char *name, int64_t value)
{
    evv__sample(b, &b->m.counters, &b->m.n_counters, &b->cap_counters,
                (struct evt_m_sample){ ts, value, name, thread });
}

void evv_synth_lost(struct evv_synth *b, uint32_t thread, uint64_t t0, uint64_t t1, uint64_t count)
{
    struct evt_m_lost *l = evv__grow(b, (void **)&b->m.lost_ranges, b->m.n_lost_ranges, &b->cap_lost, sizeof *l);
    if (l) {
        *l = (struct evt_m_lost){ t0, t1, count, thread };
        b->m.n_lost_ranges++;
        b->m.lost += count;
    }
}

static int evv__cmp_t0(uint64_t a, uint64_t b)
{
    return (a > b) - (a < b);
}

static int evv__cmp_span(const void *a, const void *b)
{
    return evv__cmp_t0(((const struct evt_m_span *)a)->t0, ((const struct evt_m_span *)b)->t0);
}

static int evv__cmp_cb(const void *a, const void *b)
{
    return evv__cmp_t0(((const struct evt_m_callback *)a)->t0, ((const struct evt_m_callback *)b)->t0);
}

static int evv__cmp_sample(const void *a, const void *b)
{
    return evv__cmp_t0(((const struct evt_m_sample *)a)->ts, ((const struct evt_m_sample *)b)->ts);
}

static int evv__cmp_req(const void *a, const void *b)
{
    return evv__cmp_t0(((const struct evt_m_request *)a)->t0, ((const struct evt_m_request *)b)->t0);
}

struct evv__delta {
    uint64_t ts;
    int d;
};

static int evv__cmp_delta(const void *a, const void *b)
{
    const struct evv__delta *x = a, *y = b;
    return x->ts != y->ts ? evv__cmp_t0(x->ts, y->ts) : x->d - y->d;   /* ends first */
}

/* Requests in flight: +1 at each begin, -1 at each end, one step per time. */
static int evv__concurrency(struct evt_model *m)
{
    size_t n = 2 * m->n_requests, k = 0;
    struct evv__delta *d = malloc((n + 1) * sizeof *d);
    m->concurrency = malloc((n + 1) * sizeof *m->concurrency);
    if (!d || !m->concurrency) {
        free(d);
        return EVT_ENOMEM;
    }
    for (size_t i = 0; i < m->n_requests; i++) {
        d[2 * i] = (struct evv__delta){ m->requests[i].t0, 1 };
        d[2 * i + 1] = (struct evv__delta){ m->requests[i].t1, -1 };
    }
    qsort(d, n, sizeof *d, evv__cmp_delta);
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        v += d[i].d;
        if (k > 0 && m->concurrency[k - 1].ts == d[i].ts)
            m->concurrency[k - 1].value = (uint32_t)v;
        else
            m->concurrency[k++] = (struct evt_m_step){ d[i].ts, (uint32_t)v };
    }
    m->n_concurrency = k;
    free(d);
    return 0;
}

static void evv__extent(struct evt_model *m, uint64_t t0, uint64_t t1)
{
    if (t0 < m->t_min)
        m->t_min = t0;
    if (t1 > m->t_max)
        m->t_max = t1;
}

int evv_synth_finish(struct evv_synth *b)
{
    struct evt_model *m = &b->m;
    if (b->oom)
        return EVT_ENOMEM;
    if (m->n_polls)
        qsort(m->polls, m->n_polls, sizeof *m->polls, evv__cmp_span);
    if (m->n_callbacks)
        qsort(m->callbacks, m->n_callbacks, sizeof *m->callbacks, evv__cmp_cb);
    if (m->n_requests)
        qsort(m->requests, m->n_requests, sizeof *m->requests, evv__cmp_req);
    if (m->n_marks)
        qsort(m->marks, m->n_marks, sizeof *m->marks, evv__cmp_sample);
    if (m->n_counters)
        qsort(m->counters, m->n_counters, sizeof *m->counters, evv__cmp_sample);
    m->t_min = UINT64_MAX, m->t_max = 0;
    for (size_t i = 0; i < m->n_polls; i++)
        evv__extent(m, m->polls[i].t0, m->polls[i].t1);
    for (size_t i = 0; i < m->n_callbacks; i++)
        evv__extent(m, m->callbacks[i].t0, m->callbacks[i].t1);
    for (size_t i = 0; i < m->n_requests; i++)
        evv__extent(m, m->requests[i].t0, m->requests[i].t1);
    for (size_t i = 0; i < m->n_marks; i++)
        evv__extent(m, m->marks[i].ts, m->marks[i].ts);
    for (size_t i = 0; i < m->n_counters; i++)
        evv__extent(m, m->counters[i].ts, m->counters[i].ts);
    if (m->t_min > m->t_max)
        m->t_min = m->t_max = 0;
    m->events = 2 * (m->n_polls + m->n_callbacks + m->n_requests) + m->n_phases + m->n_marks + m->n_counters;
    return evv__concurrency(m);
}

void evv_synth_free(struct evt_model *m)
{
    free(m->threads), free(m->iterations), free(m->polls), free(m->watchers), free(m->callbacks);
    free(m->requests), free(m->phases), free(m->counters), free(m->marks), free(m->lost_ranges);
    free(m->concurrency);
    memset(m, 0, sizeof *m);
}

/* ---- canned scenes ---------------------------------------------------- */

#define EVV_MS 1000000ull
#define EVV_US 1000ull
#define EVV_ORIGIN 5000000000000ull   /* ~1.4 h of uptime: times are not small */

static const char *const evv__ph[] = { "accept", "read", "process", "respond", "close" };
static const char *const evv__ph_wait[] = { "accept", "wait", "read", "process", "respond", "close" };

static uint64_t evv__rand(uint64_t *s)
{
    *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;   /* xorshift64 */
    return *s;
}

/* Polls fill the gaps between consecutive callbacks of thread 0. */
static void evv__fill_polls(struct evv_synth *b, uint64_t from, uint64_t to)
{
    struct evt_model *m = &b->m;
    if (m->n_callbacks)
        qsort(m->callbacks, m->n_callbacks, sizeof *m->callbacks, evv__cmp_cb);
    uint64_t t = from;
    size_t n = m->n_callbacks;
    for (size_t i = 0; i < n; i++) {
        if (m->callbacks[i].t0 > t + 20 * EVV_US)
            evv_synth_poll(b, 0, t + 5 * EVV_US, m->callbacks[i].t0 - 5 * EVV_US);
        if (m->callbacks[i].t1 > t)
            t = m->callbacks[i].t1;
    }
    if (to > t + 20 * EVV_US)
        evv_synth_poll(b, 0, t + 5 * EVV_US, to);
}

/* Sync server: clients arrive together, the loop serves one at a time, so
 * each request waits for all before it: a staircase. */
static void evv__scene_sync(struct evv_synth *b, unsigned n, uint64_t *seed)
{
    uint32_t acc = evv_synth_watcher(b, "on_accept", EVT_KIND_IO, 3, 0);
    uint32_t cli = evv_synth_watcher(b, "on_client", EVT_KIND_IO, 5, 0);
    uint64_t t = EVV_ORIGIN + 1 * EVV_MS;
    for (unsigned i = 0; i < n; i++) {
        uint64_t arrive = EVV_ORIGIN + i * 3 * EVV_MS, start = t > arrive ? t : arrive;
        uint64_t work = 6 * EVV_MS + evv__rand(seed) % (4 * EVV_MS);
        uint64_t pt[6] = { arrive, arrive + 100 * EVV_US, start + 300 * EVV_US, start + 1300 * EVV_US,
                           start + 1300 * EVV_US + work, start + 2300 * EVV_US + work };
        evv_synth_callback(b, 0, acc, start, start + 200 * EVV_US);
        evv_synth_callback(b, 0, cli, start + 300 * EVV_US, start + 2300 * EVV_US + work);
        evv_synth_request(b, i + 1, "GET /page", 0, arrive, pt[5] + 200 * EVV_US, evv__ph_wait, pt, 6);
        t = pt[5] + 300 * EVV_US;
    }
    evv__fill_polls(b, EVV_ORIGIN, t + 2 * EVV_MS);
}

/* When the loop is blocked in [blk0, blk1), nothing can run: later. */
static uint64_t evv__unblock(uint64_t t, uint64_t blk0, uint64_t blk1)
{
    return t >= blk0 && t < blk1 ? blk1 + 50 * EVV_US + t % (200 * EVV_US) : t;
}

/* Async server: requests overlap; short callbacks, mostly idle loop. */
static uint64_t evv__scene_async(struct evv_synth *b, unsigned n, uint64_t *seed, uint64_t blk0, uint64_t blk1)
{
    static const char *const names[] = { "GET /", "GET /api/items", "POST /api/items", "GET /static/app.js" };
    uint32_t w[4] = { evv_synth_watcher(b, "on_accept", EVT_KIND_IO, 3, 0),
                      evv_synth_watcher(b, "on_read", EVT_KIND_IO, 7, 0),
                      evv_synth_watcher(b, "on_db_done", EVT_KIND_ASYNC, -1, 0),
                      evv_synth_watcher(b, "on_write", EVT_KIND_IO, 7, 0) };
    static const uint64_t cb_len[4] = { 100 * EVV_US, 150 * EVV_US, 300 * EVV_US, 120 * EVV_US };
    uint64_t arrive = EVV_ORIGIN, end = EVV_ORIGIN;
    for (unsigned i = 0; i < n; i++) {
        arrive += evv__rand(seed) % (5 * EVV_MS);
        uint64_t pt[5], t = arrive;
        uint64_t len[5] = { 100 * EVV_US, 800 * EVV_US, 10 * EVV_MS + evv__rand(seed) % (50 * EVV_MS), EVV_MS, 100 * EVV_US };
        for (int k = 0; k < 5; k++) {
            t = evv__unblock(t, blk0, blk1);
            pt[k] = t;
            if (k < 4)
                evv_synth_callback(b, 0, w[k], t, t + cb_len[k]);
            t += len[k];
        }
        t = evv__unblock(t, blk0, blk1);
        evv_synth_request(b, 100 + i, names[evv__rand(seed) % 4], 0, pt[0], t, evv__ph, pt, 5);
        end = t > end ? t : end;
    }
    return end;
}

int evv_synth_scene(struct evt_model *m, enum evv_synth_scene kind, unsigned n, uint64_t seed)
{
    struct evv_synth b;
    uint64_t s = seed ? seed : 88172645463325252ull;
    evv_synth_init(&b);
    evv_synth_thread(&b, 0, 4242, "main");
    if (kind == EVV_SYNTH_SYNC) {
        evv__scene_sync(&b, n, &s);
    } else if (kind == EVV_SYNTH_ASYNC) {
        evv__fill_polls(&b, EVV_ORIGIN, evv__scene_async(&b, n, &s, 0, 0) + 2 * EVV_MS);
    } else {
        uint64_t blk0 = EVV_ORIGIN + n * 5 * EVV_MS / 4, blk1 = blk0 + 512 * EVV_MS;
        uint32_t req = evv_synth_watcher(&b, "on_request", EVT_KIND_IO, 9, 0);
        uint64_t end = evv__scene_async(&b, n, &s, blk0, blk1);
        evv_synth_callback(&b, 0, req, blk0, blk1);
        evv_synth_lost(&b, 0, blk1 + 40 * EVV_MS, blk1 + 46 * EVV_MS, 1234);
        evv__fill_polls(&b, EVV_ORIGIN, end + 2 * EVV_MS);
    }
    int rc = evv_synth_finish(&b);
    *m = b.m;
    if (rc < 0)
        evv_synth_free(m);
    return rc;
}
