/* evv_scene.c -- build lanes, tracks and colours from a model. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evt_mem.h"
#include "evtrace.h"
#include "evv_layout.h"
#include "evv_scene.h"
#include "evv_style.h"

#define EVV_MAX_THREADS 65536   /* thread indices above are ignored (corrupt) */
#define EVV_THREAD_MIN 4096     /* fewer polls: build the scene on one thread */

static int evv__has_events(const struct evt_model *m)
{
    return m->t_max > 0 || m->t_min > 0;
}

static uint64_t evv__rel(const struct evv_scene *s, uint64_t t)
{
    return t > s->origin ? t - s->origin : 0;
}

static int evv__block_cmp(const void *a, const void *b)
{
    const struct evv_block *x = a, *y = b;
    return x->t0 < y->t0 ? -1 : x->t0 > y->t0 ? 1 : (x->item > y->item) - (x->item < y->item);
}

/* Whether blocks b[0..n) need evv__finish_track's sort or clipping: out
 * of order, overlapping or reversed. The model's arrays come sorted and
 * clean, so checking while filling saves two passes over the blocks. */
static int evv__block_bad(const struct evv_block *b, size_t n)
{
    return b[n].t1 < b[n].t0 || (n > 0 && (b[n].t0 < b[n - 1].t0 || b[n - 1].t1 > b[n].t0));
}

/* Sorts (if needed), clips overlaps so ends are monotonic, makes the track.
 * bad: some block failed evv__block_bad (else both passes are skipped). */
static int evv__finish_track(struct evv_track *tr, struct evv_block *b, size_t n, int bad)
{
    for (size_t i = 1; bad && i < n; i++)
        if (b[i].t0 < b[i - 1].t0) {
            qsort(b, n, sizeof *b, evv__block_cmp);
            break;
        }
    /* A track must not overlap (nested loops on one thread could): cut
     * the earlier block where the later one starts. Limit: the cut part
     * is not drawn; nested work is rare and shows in the tooltip. */
    for (size_t i = 1; bad && i < n; i++) {
        if (b[i - 1].t1 > b[i].t0)
            b[i - 1].t1 = b[i].t0;
        if (b[i].t1 < b[i].t0)
            b[i].t1 = b[i].t0;
    }
    return evv_track_init(tr, b, n);
}

/* Polls of one thread as idle blocks. */
static int evv__poll_track(struct evv_scene *s, struct evv_loop_lane *ln)
{
    const struct evt_model *m = s->m;
    struct evv_block *b = evt__big_lazy((m->n_polls + 1) * sizeof *b);
    size_t n = 0;
    int bad = 0;
    if (!b)
        return EVT_ENOMEM;
    for (size_t i = 0; i < m->n_polls; i++) {
        const struct evt_m_span *p = &m->polls[i];
        if (p->thread != ln->thread)
            continue;
        b[n] = (struct evv_block){ evv__rel(s, p->t0), evv__rel(s, p->t1), (uint32_t)i, EVV_RGB_IDLE };
        bad |= evv__block_bad(b, n++);
    }
    return evv__finish_track(&ln->polls, b, n, bad);
}

/* Depth-0 callbacks of one thread as busy blocks in their watcher's colour. */
static int evv__cb_track(struct evv_scene *s, struct evv_loop_lane *ln)
{
    const struct evt_model *m = s->m;
    struct evv_block *b = evt__big_lazy((m->n_callbacks + 1) * sizeof *b);
    size_t n = 0;
    int bad = 0;
    if (!b)
        return EVT_ENOMEM;
    for (size_t i = 0; i < m->n_callbacks; i++) {
        const struct evt_m_callback *c = &m->callbacks[i];
        if (c->thread != ln->thread || c->depth != 0)
            continue;
        b[n] = (struct evv_block){ evv__rel(s, c->t0), evv__rel(s, c->t1), (uint32_t)i,
                                   evv_scene_watcher_rgb(s, c->watcher) };
        bad |= evv__block_bad(b, n++);
    }
    return evv__finish_track(&ln->cbs, b, n, bad);
}

/* The poll tracks, the concurrency pyramid and the phases, built on a
 * second thread while the caller builds the rest (see evv__build_parts);
 * rc is its result. */
struct evv__polls_job {
    struct evv_scene *s;
    int rc;
};

/* Which threads ran a loop: those with polls or callbacks, by index. */
static int evv__find_loop_threads(struct evv_scene *s)
{
    const struct evt_model *m = s->m;
    uint8_t *seen = calloc(EVV_MAX_THREADS, 1);
    if (!seen)
        return EVT_ENOMEM;
    for (size_t i = 0; i < m->n_polls; i++)
        if (m->polls[i].thread < EVV_MAX_THREADS)
            seen[m->polls[i].thread] = 1;
    for (size_t i = 0; i < m->n_callbacks; i++)
        if (m->callbacks[i].thread < EVV_MAX_THREADS)
            seen[m->callbacks[i].thread] = 1;
    for (uint32_t t = 0; t < EVV_MAX_THREADS; t++)
        s->n_loops += seen[t];
    s->loops = calloc(s->n_loops + 1, sizeof *s->loops);
    size_t k = 0;
    for (uint32_t t = 0; s->loops && t < EVV_MAX_THREADS; t++)
        if (seen[t])
            s->loops[k++].thread = t;
    free(seen);
    return s->loops ? 0 : EVT_ENOMEM;
}

/* Palette slots for the watchers, distinct names first-come first-served. */
static int evv__watcher_colours(struct evv_scene *s)
{
    const struct evt_model *m = s->m;
    size_t nslot = evv_watcher_slots();
    const char *owner[64] = { 0 };   /* name holding each slot (nslot <= 64) */
    s->watcher_rgb = malloc((m->n_watchers + 1) * sizeof *s->watcher_rgb);
    if (!s->watcher_rgb)
        return EVT_ENOMEM;
    if (m->n_watchers)
        s->watcher_rgb[0] = evv_watcher_slot_rgb(0);   /* id 0 is unused: takes no slot */
    for (size_t w = 1; w < m->n_watchers; w++) {
        const char *name = m->watchers[w].name ? m->watchers[w].name : "";
        size_t slot = evv_watcher_slot(name), k = 0;
        while (k < nslot && owner[(slot + k) % nslot] && strcmp(owner[(slot + k) % nslot], name) != 0)
            k++;
        if (k == nslot)
            k = 0;                      /* palette full: share the hashed slot */
        else if (!owner[(slot + k) % nslot])
            owner[(slot + k) % nslot] = name;
        s->watcher_rgb[w] = evv_watcher_slot_rgb((slot + k) % nslot);
    }
    return 0;
}

uint32_t evv_scene_watcher_rgb(const struct evv_scene *s, uint32_t watcher)
{
    return s->watcher_rgb && watcher < s->m->n_watchers ? s->watcher_rgb[watcher] : evv_watcher_slot_rgb(0);
}

static int evv__build_conc(struct evv_scene *s);
static void evv__collect_phases(struct evv_scene *s);

/* Poll tracks of every loop lane, the concurrency pyramid and the legend's
 * phases (run on the helper thread, see evv__build_parts). */
static void *evv__build_polls(void *arg)
{
    struct evv__polls_job *job = arg;
    evv__collect_phases(job->s);
    for (size_t i = 0; job->rc == 0 && i < job->s->n_loops; i++)
        job->rc = evv__poll_track(job->s, &job->s->loops[i]);
    if (job->rc == 0)
        job->rc = evv__build_conc(job->s);
    return NULL;
}

static int evv__build_cbs(struct evv_scene *s)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < s->n_loops; i++)
        rc = evv__cb_track(s, &s->loops[i]);
    return rc;
}

/* Packs requests into rows, then gives each row its track. */
static int evv__build_rows(struct evv_scene *s)
{
    const struct evt_model *m = s->m;
    size_t n = m->n_requests, *count = NULL;
    s->req_row = evv_big_alloc((n + 1) * sizeof *s->req_row);
    if (!s->req_row)
        goto oom;
    s->n_rows = evv_layout_pack_stride(n ? &m->requests[0].t0 : NULL, sizeof *m->requests, n, s->req_row);
    if (s->n_rows == (size_t)-1)
        goto oom;
    count = calloc(s->n_rows + 1, sizeof *count);
    s->rows = calloc(s->n_rows + 1, sizeof *s->rows);
    if (!count || !s->rows)
        goto oom;
    for (size_t i = 0; i < n; i++)
        count[s->req_row[i]]++;
    for (size_t r = 0; r < s->n_rows; r++) {
        s->rows[r].b = evv_big_alloc((count[r] + 1) * sizeof(struct evv_block));
        if (!s->rows[r].b)
            goto oom;
    }
    for (size_t i = 0; i < n; i++) {
        struct evv_track *tr = &s->rows[s->req_row[i]];
        const struct evt_m_request *q = &m->requests[i];
        tr->b[tr->n++] = (struct evv_block){ evv__rel(s, q->t0), evv__rel(s, q->t1 > q->t0 ? q->t1 : q->t0),
                                             (uint32_t)i, EVV_RGB_MANY };
    }
    for (size_t r = 0; r < s->n_rows; r++)
        if (evv__finish_track(&s->rows[r], s->rows[r].b, s->rows[r].n, 1) < 0)
            goto oom;
    free(count);
    return 0;
oom:
    free(count);
    return EVT_ENOMEM;
}

static int evv__build_conc(struct evv_scene *s)
{
    const struct evt_model *m = s->m;
    uint32_t *v = evv_big_alloc((m->n_concurrency + 1) * sizeof *v);
    if (!v)
        return EVT_ENOMEM;
    for (size_t i = 0; i < m->n_concurrency; i++) {
        v[i] = m->concurrency[i].value;
        if (v[i] > s->conc_max)
            s->conc_max = v[i];
    }
    return evv_maxpyr_adopt(&s->conc, v, m->n_concurrency);
}

static int evv__build_stalls(struct evv_scene *s)
{
    const struct evt_model *m = s->m;
    size_t n = 0;
    for (int pass = 0; pass < 2; pass++) {   /* count, then fill: stalls are few */
        for (size_t i = 0; i < m->n_callbacks; i++) {
            const struct evt_m_callback *c = &m->callbacks[i];
            if (c->depth == 0 && c->t1 >= c->t0 && c->t1 - c->t0 >= s->stall_ns) {
                if (pass)
                    s->stalls[s->n_stalls] = i;
                s->n_stalls += pass;
                n += !pass;
            }
        }
        if (!pass && !(s->stalls = malloc((n + 1) * sizeof *s->stalls)))
            return EVT_ENOMEM;
    }
    return 0;
}

/* The counter lane of a name, a new one while there is room, else NULL. */
static struct evv_counter_lane *evv__ctr_lane(struct evv_scene *s, const char *name)
{
    for (size_t k = 0; k < s->n_ctr; k++)
        if (strcmp(s->ctr[k].name, name) == 0)
            return &s->ctr[k];
    if (s->n_ctr == EVV_MAX_COUNTERS)
        return NULL;
    s->ctr[s->n_ctr] = (struct evv_counter_lane){ .name = name };
    return &s->ctr[s->n_ctr++];
}

/* One lane per counter name (first seen first): count and range, then
 * the sample indices (the model's counters are sorted by time). */
static int evv__build_counters(struct evv_scene *s)
{
    const struct evt_model *m = s->m;
    for (size_t i = 0; i < m->n_counters; i++) {
        const struct evt_m_sample *c = &m->counters[i];
        struct evv_counter_lane *cl = evv__ctr_lane(s, c->name ? c->name : "");
        if (!cl)
            continue;
        cl->n++;
        cl->lo = c->value < cl->lo ? c->value : cl->lo;
        cl->hi = c->value > cl->hi ? c->value : cl->hi;
    }
    for (size_t k = 0; k < s->n_ctr; k++) {
        if (!(s->ctr[k].idx = malloc((s->ctr[k].n + 1) * sizeof *s->ctr[k].idx)))
            return EVT_ENOMEM;
        s->ctr[k].n = 0;
    }
    for (size_t i = 0; i < m->n_counters; i++) {
        struct evv_counter_lane *cl = evv__ctr_lane(s, m->counters[i].name ? m->counters[i].name : "");
        if (cl)
            cl->idx[cl->n++] = i;
    }
    return 0;
}

/* Phase names for the legend: the first EVV_MAX_LEGEND_PHASES distinct ones. */
static void evv__collect_phases(struct evv_scene *s)
{
    const struct evt_model *m = s->m;
    for (size_t i = 0; i < m->n_phases && s->n_phases < EVV_MAX_LEGEND_PHASES; i++) {
        const char *p = m->phases[i].name ? m->phases[i].name : "";
        size_t k = 0;
        /* Names are interned: equal pointers skip most strcmp calls. */
        while (k < s->n_phases && s->phases[k] != p && strcmp(s->phases[k], p) != 0)
            k++;
        if (k == s->n_phases && *p)
            s->phases[s->n_phases++] = p;
    }
}

static void evv__set_file(struct evv_scene *s, const char *file)
{
    const char *base = file ? strrchr(file, '/') : NULL;
    base = base ? base + 1 : file ? file : "(memory)";
    snprintf(s->file, sizeof s->file, "%s", base);
}

/* Everything after the lanes are known. Most of its time is the kernel
 * clearing fresh pages (~110 MB for a 10M-event trace), which runs on
 * the faulting thread: so the poll tracks, the concurrency pyramid and
 * the legend's phases (about half of it) are built on a second thread
 * while this one builds the callback tracks, the request rows, stalls and
 * counters. The two halves write disjoint parts of the scene (each lane's
 * polls, conc, conc_max, phases, n_phases vs the rest) and only read the
 * model. Small traces do not pay
 * for a thread; if one cannot be started, all of it runs here. */
static int evv__build_parts(struct evv_scene *s)
{
    struct evv__polls_job job = { s, 0 };
    pthread_t th;
    int threaded = s->m->n_polls >= EVV_THREAD_MIN
                   && pthread_create(&th, NULL, evv__build_polls, &job) == 0;
    if (!threaded)
        evv__build_polls(&job);
    int rc = evv__build_cbs(s);
    if (rc == 0)
        rc = evv__build_rows(s);
    if (rc == 0)
        rc = evv__build_stalls(s);
    if (rc == 0)
        rc = evv__build_counters(s);
    if (threaded)
        pthread_join(th, NULL);
    return rc < 0 ? rc : job.rc;
}

void evv_extent_add(struct evv_extent *e, double t0, double t1, size_t count)
{
    if (t1 < t0)
        t1 = t0;
    if (!e->n || t0 < e->t0)
        e->t0 = t0;
    if (!e->n || t1 > e->t1)
        e->t1 = t1;
    e->n += count;
}

/* Whether a loop lane's block is a signal handler's callback. */
static int evv__is_signal(const struct evv_scene *s, const struct evv_block *b)
{
    const struct evt_m_callback *c = &s->m->callbacks[b->item];
    return c->watcher < s->m->n_watchers && s->m->watchers[c->watcher].kind == EVT_KIND_SIGNAL;
}

/* Where requests, callbacks and stalls are (see evv_scene.h). A track's
 * blocks are sorted and never overlap, so its first block starts first
 * and its last block ends last: this reads two blocks per request row
 * and per loop lane, not every event. Signal handlers at either end of a
 * lane are left out: SIGTERM's handler closing an idle trace is its
 * shutdown, not its activity (evv_activity.h). */
static void evv__measure(struct evv_scene *s)
{
    for (size_t r = 0; r < s->n_rows; r++) {
        const struct evv_track *tr = &s->rows[r];
        if (tr->n)
            evv_extent_add(&s->ext_req, (double)tr->b[0].t0, (double)tr->b[tr->n - 1].t1, tr->n);
    }
    for (size_t i = 0; i < s->n_loops; i++) {
        const struct evv_track *tr = &s->loops[i].cbs;
        size_t lo = 0, hi = tr->n;
        while (lo < hi && evv__is_signal(s, &tr->b[lo]))
            lo++;
        while (hi > lo && evv__is_signal(s, &tr->b[hi - 1]))
            hi--;
        if (lo < hi)
            evv_extent_add(&s->ext_cb, (double)tr->b[lo].t0, (double)tr->b[hi - 1].t1, hi - lo);
    }
    for (size_t k = 0; k < s->n_stalls; k++) {
        const struct evt_m_callback *c = &s->m->callbacks[s->stalls[k]];
        evv_extent_add(&s->ext_stall, (double)evv__rel(s, c->t0), (double)evv__rel(s, c->t1), 1);
    }
}

int evv_scene_build(struct evv_scene *s, const struct evt_model *m, const char *file,
                    uint64_t stall_ns)
{
    return evv_scene_build_at(s, m, file, stall_ns, m->t_min);
}

int evv_scene_build_at(struct evv_scene *s, const struct evt_model *m, const char *file,
                       uint64_t stall_ns, uint64_t origin)
{
    memset(s, 0, sizeof *s);
    s->m = m;
    s->origin = evv__has_events(m) && m->t_min < origin ? m->t_min : origin;   /* never after its data */
    s->duration = m->t_max > m->t_min ? (double)(m->t_max - m->t_min) : 0;
    s->t_begin = (double)evv__rel(s, m->t_min);
    s->t_end = s->t_begin + s->duration;
    s->stall_ns = stall_ns;
    evv__set_file(s, file);
    int rc = evv__watcher_colours(s);
    if (rc == 0)
        rc = evv__find_loop_threads(s);
    if (rc == 0)
        rc = evv__build_parts(s);
    if (rc == 0)
        evv__measure(s);
    if (rc < 0)
        evv_scene_free(s);
    return rc;
}

void evv_scene_free(struct evv_scene *s)
{
    for (size_t i = 0; s->loops && i < s->n_loops; i++) {
        evv_track_free(&s->loops[i].polls);
        evv_track_free(&s->loops[i].cbs);
    }
    for (size_t r = 0; s->rows && r < s->n_rows; r++)
        evv_track_free(&s->rows[r]);
    for (size_t k = 0; k < s->n_ctr; k++)
        free(s->ctr[k].idx);
    free(s->loops), free(s->rows), free(s->req_row), free(s->stalls), free(s->watcher_rgb);
    evv_maxpyr_free(&s->conc);
    memset(s, 0, sizeof *s);
}

const struct evv_loop_lane *evv_scene_loop_of(const struct evv_scene *s, uint32_t thread)
{
    for (size_t i = 0; i < s->n_loops; i++)
        if (s->loops[i].thread == thread)
            return &s->loops[i];
    return NULL;
}

uint64_t evv_scene_phase_end(const struct evt_model *m, const struct evt_m_request *r, uint32_t k)
{
    if (k + 1 < r->phase_count)
        return m->phases[r->phase_first + k + 1].t0;
    return r->t1;
}

uint32_t evv_scene_phase_at(const struct evv_scene *s, size_t req, double t)
{
    const struct evt_model *m = s->m;
    const struct evt_m_request *r = &m->requests[req];
    uint32_t rgb = EVV_RGB_NOPHASE;
    for (uint32_t k = 0; k < r->phase_count; k++) {
        const struct evt_m_phase *p = &m->phases[r->phase_first + k];
        if ((double)evv__rel(s, p->t0) > t)
            break;
        rgb = evv_phase_rgb(p->name);
    }
    return rgb;
}

uint64_t evv_scene_origin(const struct evt_model *const *m, size_t n)
{
    uint64_t o = UINT64_MAX;
    for (size_t i = 0; i < n; i++)
        if (evv__has_events(m[i]) && m[i]->t_min < o)
            o = m[i]->t_min;
    return o == UINT64_MAX ? 0 : o;
}

size_t evv_scene_count(const struct evv_scene *s)
{
    size_t n = 0;
    for (; s && n < EVV_MAX_FILES; s = s->next)
        n++;
    return n;
}

const struct evv_scene *evv_scene_nth(const struct evv_scene *s, size_t k)
{
    for (; s && k > 0; k--)
        s = s->next;
    return s;
}

double evv_scene_end(const struct evv_scene *s)
{
    double end = 0;
    for (size_t k = 0; s && k < EVV_MAX_FILES; s = s->next, k++)
        end = s->t_end > end ? s->t_end : end;
    return end;
}
