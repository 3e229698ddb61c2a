/* evt_stats.c -- see evt_stats.h for what each number means. */
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "evt_stats.h"
#include "evtrace.h"

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

uint64_t evt_stats_percentile(const uint64_t *sorted, size_t n, double pct)
{
    if (n == 0)
        return 0;
    double rank = pct / 100.0 * (double)n;
    size_t k = rank >= (double)n ? n : (size_t)rank;
    k += (double)k < rank;    /* ceil without libm */
    k = k < 1 ? 1 : k > n ? n : k;
    return sorted[k - 1];
}

/* Fills d from n durations (sorted in place). count is set by the caller. */
static void dist_fill(struct evt_stats_dist *d, uint64_t *dur, size_t n)
{
    qsort(dur, n, sizeof *dur, cmp_u64);
    d->p50_ns = evt_stats_percentile(dur, n, 50);
    d->p90_ns = evt_stats_percentile(dur, n, 90);
    d->p99_ns = evt_stats_percentile(dur, n, 99);
    d->max_ns = n ? dur[n - 1] : 0;
}

/* ---- loop ratios ------------------------------------------------------- */

/* Time in thread's polls that falls inside the iteration each poll starts
 * in (the latest iteration of the thread begun at or before it). */
static uint64_t poll_inside(const struct evt_model *m, uint32_t thread)
{
    uint64_t sum = 0;
    size_t j = 0;
    const struct evt_m_span *it = NULL;
    for (size_t i = 0; i < m->n_polls; i++) {
        const struct evt_m_span *p = &m->polls[i];
        if (p->thread != thread)
            continue;
        for (; j < m->n_iterations && m->iterations[j].t0 <= p->t0; j++)
            if (m->iterations[j].thread == thread)
                it = &m->iterations[j];
        if (!it)
            continue;
        uint64_t a = p->t0 > it->t0 ? p->t0 : it->t0;
        uint64_t b = p->t1 < it->t1 ? p->t1 : it->t1;
        sum += b > a ? b - a : 0;
    }
    return sum;
}

static void loop_stats(struct evt_stats *s, const struct evt_model *m)
{
    s->iterations = m->n_iterations;
    s->polls = m->n_polls;
    for (size_t i = 0; i < m->n_iterations; i++)
        s->iter_ns += m->iterations[i].t1 - m->iterations[i].t0;
    for (size_t i = 0; i < m->n_polls; i++)
        s->poll_ns += m->polls[i].t1 - m->polls[i].t0;
    uint64_t inside = 0;
    for (size_t t = 0; t < m->n_threads; t++) {
        uint32_t idx = m->threads[t].index;
        int runs_loop = 0;
        for (size_t i = 0; i < m->n_iterations && !runs_loop; i++)
            runs_loop = m->iterations[i].thread == idx;
        if (!runs_loop)
            continue;
        s->loop_threads++;
        inside += poll_inside(m, idx);
    }
    s->busy_ns = s->iter_ns > inside ? s->iter_ns - inside : 0;
    double wall = (double)s->duration_ns * (double)s->loop_threads;
    if (wall > 0) {
        s->busy_ratio = (double)s->busy_ns / wall;
        s->poll_ratio = (double)s->poll_ns / wall;
    }
}

/* ---- callbacks --------------------------------------------------------- */

static struct evt_stats_span cb_span(const struct evt_model *m, const struct evt_m_callback *c)
{
    return (struct evt_stats_span){
        .name = m->watchers[c->watcher].name,
        .start_ns = c->t0 - m->t_min,
        .duration_ns = c->t1 - c->t0,
        .thread = c->thread,
        .complete = c->complete,
    };
}

/* Keeps the EVT_STATS_SLOWEST longest callbacks, longest first. */
static void slowest_add(struct evt_stats *s, struct evt_stats_span sp)
{
    size_t k = s->n_slowest;
    if (k == EVT_STATS_SLOWEST && s->slowest[k - 1].duration_ns >= sp.duration_ns)
        return;
    if (k < EVT_STATS_SLOWEST)
        s->n_slowest++;
    else
        k--;
    while (k > 0 && s->slowest[k - 1].duration_ns < sp.duration_ns) {
        s->slowest[k] = s->slowest[k - 1];
        k--;
    }
    s->slowest[k] = sp;
}

static int callback_stats(struct evt_stats *s, const struct evt_model *m)
{
    uint64_t *dur = malloc((m->n_callbacks ? m->n_callbacks : 1) * sizeof *dur);
    if (!dur)
        return EVT_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < m->n_callbacks; i++) {
        const struct evt_m_callback *c = &m->callbacks[i];
        slowest_add(s, cb_span(m, c));
        if (c->complete)
            dur[n++] = c->t1 - c->t0;
    }
    s->callbacks.count = m->n_callbacks;
    dist_fill(&s->callbacks, dur, n);
    free(dur);

    const struct evt_m_callback **st;
    size_t ns = evt_model_stalls(m, s->stall_threshold_ns, &st);
    if (ns && !(s->stalls = malloc(ns * sizeof *s->stalls))) {
        free(st);
        return EVT_ENOMEM;
    }
    for (size_t i = 0; i < ns; i++)
        s->stalls[i] = cb_span(m, st[i]);
    s->n_stalls = ns;
    free(st);
    return 0;
}

/* ---- requests ---------------------------------------------------------- */

struct named_dur {
    const char *name;
    uint64_t dur;
    int complete;
};

static int cmp_named(const void *x, const void *y)
{
    const struct named_dur *a = x, *b = y;
    int c = strcmp(a->name, b->name);
    if (c)
        return c;
    if (a->complete != b->complete)
        return b->complete - a->complete; /* complete ones first */
    return a->dur < b->dur ? -1 : a->dur > b->dur;
}

/* Groups requests by name: one pass over them sorted by (name, complete,
 * duration); each group's complete prefix gives its percentiles. */
static int by_name_stats(struct evt_stats *s, const struct evt_model *m, struct named_dur *nd, uint64_t *dur)
{
    size_t n = m->n_requests, groups = 0;
    for (size_t i = 0; i < n; i++)
        nd[i] = (struct named_dur){ m->requests[i].name, m->requests[i].t1 - m->requests[i].t0,
                                    m->requests[i].complete };
    qsort(nd, n, sizeof *nd, cmp_named);
    for (size_t i = 0; i < n; i++)
        groups += i == 0 || strcmp(nd[i - 1].name, nd[i].name) != 0;
    if (groups && !(s->by_name = calloc(groups, sizeof *s->by_name)))
        return EVT_ENOMEM;
    for (size_t i = 0; i < n;) {
        struct evt_stats_reqname *g = &s->by_name[s->n_by_name++];
        g->name = nd[i].name;
        size_t j = i, k = 0;
        for (; j < n && strcmp(nd[j].name, g->name) == 0; j++)
            if (nd[j].complete)
                dur[i + k++] = nd[j].dur;
        g->dist.count = j - i;
        dist_fill(&g->dist, dur + i, k);
        i = j;
    }
    return 0;
}

static int request_stats(struct evt_stats *s, const struct evt_model *m)
{
    size_t n = m->n_requests;
    struct named_dur *nd = malloc((n ? n : 1) * sizeof *nd);
    uint64_t *dur = malloc((n ? n : 1) * sizeof *dur);
    int rc = nd && dur ? 0 : EVT_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (m->requests[i].complete)
            dur[k++] = m->requests[i].t1 - m->requests[i].t0;
    if (rc == 0) {
        s->requests.count = n;
        dist_fill(&s->requests, dur, k);
        rc = by_name_stats(s, m, nd, dur);
    }
    for (size_t i = 0; i < m->n_concurrency; i++)
        if (m->concurrency[i].value > s->max_concurrency)
            s->max_concurrency = m->concurrency[i].value;
    free(nd);
    free(dur);
    return rc;
}

int evt_stats_compute(struct evt_stats *s, const struct evt_model *m, uint64_t stall_ns)
{
    memset(s, 0, sizeof *s);
    s->events = m->events;
    s->lost = m->lost;
    s->orphans = m->orphans;
    s->duration_ns = m->t_max - m->t_min;
    s->file_bytes = m->file_bytes;
    s->bytes_per_event = m->events ? (double)m->file_bytes / (double)m->events : 0;
    s->threads = m->n_threads;
    s->damaged = m->damaged;
    s->error = m->error;
    s->stall_threshold_ns = stall_ns;
    loop_stats(s, m);
    int rc = callback_stats(s, m);
    if (rc == 0)
        rc = request_stats(s, m);
    if (rc < 0)
        evt_stats_free(s);
    return rc;
}

void evt_stats_free(struct evt_stats *s)
{
    free(s->stalls);
    free(s->by_name);
    s->stalls = NULL;
    s->by_name = NULL;
    s->n_stalls = s->n_by_name = 0;
}

/* ---- text -------------------------------------------------------------- */

#define EVT_STATS_TEXT_STALLS 10 /* the text lists the first ones; JSON has all */

/* A duration with a unit that keeps 3 significant digits or so. */
static const char *fmt_ns(char *buf, size_t n, uint64_t ns)
{
    if (ns < 1000)
        snprintf(buf, n, "%llu ns", (unsigned long long)ns);
    else if (ns < 1000000)
        snprintf(buf, n, "%.1f us", (double)ns / 1e3);
    else if (ns < 1000000000)
        snprintf(buf, n, "%.2f ms", (double)ns / 1e6);
    else
        snprintf(buf, n, "%.3f s", (double)ns / 1e9);
    return buf;
}

/* A distribution's figures; w > 0 right-aligns each in w columns, so the
 * rows of a table line up. */
static void print_dist(FILE *out, const struct evt_stats_dist *d, int with_p90, int w)
{
    char a[32], b[32], c[32], e[32];
    fprintf(out, "p50 %*s", w, fmt_ns(a, sizeof a, d->p50_ns));
    if (with_p90)
        fprintf(out, "  p90 %*s", w, fmt_ns(b, sizeof b, d->p90_ns));
    fprintf(out, "  p99 %*s  max %*s\n", w, fmt_ns(c, sizeof c, d->p99_ns), w, fmt_ns(e, sizeof e, d->max_ns));
}

static void print_span(FILE *out, const char *label, const struct evt_stats_span *sp)
{
    char d[32], t[32];
    fprintf(out, "  %-12s%10s  at %-10s  %s%s\n", label, fmt_ns(d, sizeof d, sp->duration_ns),
            fmt_ns(t, sizeof t, sp->start_ns), sp->name, sp->complete ? "" : "  (unfinished)");
}

static void print_callbacks(const struct evt_stats *s, FILE *out)
{
    char a[32];
    fprintf(out, "%-14s%llu  ", "callbacks", (unsigned long long)s->callbacks.count);
    print_dist(out, &s->callbacks, 0, 0);
    for (size_t i = 0; i < s->n_slowest; i++)
        print_span(out, i == 0 ? "slowest" : "", &s->slowest[i]);
    fprintf(out, "%-14s%zu callbacks >= %s\n", "stalls", s->n_stalls, fmt_ns(a, sizeof a, s->stall_threshold_ns));
    for (size_t i = 0; i < s->n_stalls && i < EVT_STATS_TEXT_STALLS; i++)
        print_span(out, "", &s->stalls[i]);
    if (s->n_stalls > EVT_STATS_TEXT_STALLS)
        fprintf(out, "  %-12s... and %zu more (all of them in --json)\n", "", s->n_stalls - EVT_STATS_TEXT_STALLS);
}

/* Columns a UTF-8 name takes (one per code point: the names are valid
 * UTF-8, evt_reader.c; wide characters count one, a limit). */
static size_t text_cols(const char *t)
{
    size_t n = 0;
    for (; *t; t++)
        n += ((unsigned char)*t & 0xC0) != 0x80;
    return n;
}

#define NAME_COLS_MAX 40   /* a longer name pushes its own row's figures right */

/* Columns the widest figure of d takes as fmt_ns writes it. */
static int dist_cols(const struct evt_stats_dist *d)
{
    const uint64_t v[] = {d->p50_ns, d->p90_ns, d->p99_ns, d->max_ns};
    int w = 0;
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        char b[32];
        int n = (int)strlen(fmt_ns(b, sizeof b, v[i]));
        w = n > w ? n : w;
    }
    return w;
}

/* The requests line, then one row per request name: the names padded to
 * the widest (up to NAME_COLS_MAX), the counts right-aligned after them,
 * and the figures right-aligned to the widest, so the rows read as a
 * table. */
static void print_requests(const struct evt_stats *s, FILE *out)
{
    fprintf(out, "%-14s%llu  max in flight %u  ", "requests", (unsigned long long)s->requests.count,
            s->max_concurrency);
    print_dist(out, &s->requests, 1, 0);
    size_t name_w = 0;
    int count_w = 1, fig_w = 0;
    for (size_t i = 0; i < s->n_by_name; i++) {
        const struct evt_stats_reqname *g = &s->by_name[i];
        size_t w = text_cols(*g->name ? g->name : "(unnamed)");
        name_w = w > name_w ? (w < NAME_COLS_MAX ? w : NAME_COLS_MAX) : name_w;
        int cw = snprintf(NULL, 0, "%llu", (unsigned long long)g->dist.count);
        count_w = cw > count_w ? cw : count_w;
        int fw = dist_cols(&g->dist);
        fig_w = fw > fig_w ? fw : fig_w;
    }
    for (size_t i = 0; i < s->n_by_name; i++) {
        const struct evt_stats_reqname *g = &s->by_name[i];
        const char *name = *g->name ? g->name : "(unnamed)";
        size_t w = text_cols(name);
        fprintf(out, "  %s%*s  %*llu  ", name, (int)(w < name_w ? name_w - w : 0), "", count_w,
                (unsigned long long)g->dist.count);
        print_dist(out, &g->dist, 1, fig_w);
    }
}

int evt_stats_print_text(const struct evt_stats *s, FILE *out)
{
    char a[32];
    if (s->file)
        fprintf(out, "%-14s%s  (%zu bytes)\n", "file", s->file, s->file_bytes);
    if (s->damaged)
        fprintf(out, "%-14s%s\n", "DAMAGED", s->error);
    fprintf(out, "%-14s%llu  (lost %llu, unmatched ends %llu)  %.2f bytes/event\n", "events",
            (unsigned long long)s->events, (unsigned long long)s->lost, (unsigned long long)s->orphans,
            s->bytes_per_event);
    fprintf(out, "%-14s%s\n", "duration", fmt_ns(a, sizeof a, s->duration_ns));
    fprintf(out, "%-14s%zu  (%zu running a loop)\n", "threads", s->threads, s->loop_threads);
    fprintf(out, "%-14s%llu iterations  busy %.1f%%  poll %.1f%%\n", "loop", (unsigned long long)s->iterations,
            100 * s->busy_ratio, 100 * s->poll_ratio);
    print_callbacks(s, out);
    print_requests(s, out);
    return ferror(out) ? EVT_EIO : 0;
}

/* ---- JSON -------------------------------------------------------------- */

/* An unsigned count or time: a JSON integer up to INT64_MAX, else a string
 * of its digits, as `evtrace export` writes them (jansson's integers are
 * int64: a cast would print a damaged trace's lost count of 2^64-1 as -1). */
static json_t *json_u64(uint64_t v)
{
    if (v <= INT64_MAX)
        return json_integer((json_int_t)v);
    char digits[24];
    snprintf(digits, sizeof digits, "%" PRIu64, v);
    return json_string(digits);
}

static json_t *dist_json(const struct evt_stats_dist *d, int with_p90)
{
    json_t *o = json_pack("{s:o, s:o, s:o, s:o}", "count", json_u64(d->count), "p50_ns", json_u64(d->p50_ns),
                          "p99_ns", json_u64(d->p99_ns), "max_ns", json_u64(d->max_ns));
    if (o && with_p90)
        json_object_set_new(o, "p90_ns", json_u64(d->p90_ns));
    return o;
}

static json_t *spans_json(const struct evt_stats_span *sp, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_pack("{s:s, s:o, s:o, s:i, s:b}", "name", sp[i].name, "start_ns",
                                           json_u64(sp[i].start_ns), "duration_ns", json_u64(sp[i].duration_ns),
                                           "thread", (int)sp[i].thread, "complete", sp[i].complete));
    return a;
}

static json_t *requests_json(const struct evt_stats *s)
{
    json_t *r = dist_json(&s->requests, 1), *by = json_array();
    for (size_t i = 0; by && i < s->n_by_name; i++) {
        json_t *g = dist_json(&s->by_name[i].dist, 1);
        if (g)
            json_object_set_new(g, "name", json_string(s->by_name[i].name));
        json_array_append_new(by, g);
    }
    if (r) {
        json_object_set_new(r, "max_concurrency", json_integer(s->max_concurrency));
        json_object_set_new(r, "by_name", by);
    } else {
        json_decref(by);
    }
    return r;
}

static json_t *stats_json(const struct evt_stats *s)
{
    json_t *cb = dist_json(&s->callbacks, 0);
    if (cb)
        json_object_set_new(cb, "slowest", spans_json(s->slowest, s->n_slowest));
    return json_pack("{s:s?, s:o, s:o, s:o, s:o, s:o, s:f, s:i, s:b, s:s, s:o,"
                     " s:{s:o, s:f, s:f, s:o, s:o, s:o, s:i}, s:o, s:o, s:o}",
                     "file", s->file, "file_bytes", json_u64(s->file_bytes), "events", json_u64(s->events), "lost",
                     json_u64(s->lost), "orphans", json_u64(s->orphans), "duration_ns", json_u64(s->duration_ns),
                     "bytes_per_event", s->bytes_per_event, "threads", (int)s->threads, "damaged", s->damaged,
                     "error", s->error, "stall_threshold_ns", json_u64(s->stall_threshold_ns), "loop",
                     "iterations", json_u64(s->iterations), "busy_ratio", s->busy_ratio, "poll_ratio",
                     s->poll_ratio, "iteration_ns", json_u64(s->iter_ns), "poll_ns", json_u64(s->poll_ns),
                     "busy_ns", json_u64(s->busy_ns), "threads", (int)s->loop_threads, "callbacks", cb, "stalls",
                     spans_json(s->stalls, s->n_stalls), "requests", requests_json(s));
}

int evt_stats_print_json(const struct evt_stats *s, FILE *out)
{
    json_t *o = stats_json(s);
    if (!o)
        return EVT_ENOMEM;
    int rc = json_dumpf(o, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(o);
    fputc('\n', out);
    return rc < 0 || ferror(out) ? EVT_EIO : 0;
}
