/* evt_export.c -- see evt_export.h for the mapping to Chrome's format.
 *
 * Names are escaped by jansson (json_dumps of a json_string), once per
 * string id or watcher, and cached: the per-event work is one snprintf into
 * the output buffer.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "evt_export.h"
#include "evt_idmap.h"
#include "evt_model.h"
#include "evtrace.h"

#define EVT_X_MAX_DEPTH 64           /* open spans kept per thread */
#define EVT_X_MAX_WATCHER (1u << 20) /* larger ids are exported unnamed */
#define EVT_X_BUF 65536
#define EVT_X_PENDING 1024           /* request records waiting for their begin */

enum { X_ITER, X_POLL, X_CB };

struct xopen {
    uint64_t ts;       /* when it began */
    uint32_t key;      /* loop or watcher id */
    uint32_t revents;  /* a callback's */
    uint8_t kind;      /* X_* */
};

struct xthread {
    uint32_t index;
    size_t depth;
    struct xopen st[EVT_X_MAX_DEPTH];
};

struct xwatcher {
    uint32_t name;     /* string id */
    int32_t fd;
    uint8_t kind;
    char *esc;         /* escaped display name, made on first use */
};

struct exporter {
    evt_reader *r;
    evt_export_write_fn write;
    void *ctx;
    int err;
    int first;         /* no comma before the first event */
    int many;          /* several traces in one document: ids carry the pid */
    uint32_t pid;
    uint64_t base, last_ts;
    struct xthread **threads;
    size_t n_threads, cap_threads;
    struct xthread *cur;
    struct xwatcher *watchers;   /* by id */
    size_t n_watchers;
    char **esc;                  /* escaped strings by id */
    size_t esc_cap;
    struct evt__idmap live;      /* request id -> name << 32 | current phase */
    struct evt_event *pending;   /* ring: request records before their begin */
    size_t pend_first, n_pending;
    size_t len;
    char buf[EVT_X_BUF];
};

/* ---- output ------------------------------------------------------------ */

static void flush(struct exporter *x)
{
    if (x->len && !x->err)
        x->err = x->write(x->ctx, x->buf, x->len);
    x->len = 0;
}

/* printf into the buffer; a record larger than the buffer (a huge name)
 * goes out on its own. */
static void out(struct exporter *x, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(x->buf + x->len, EVT_X_BUF - x->len, fmt, ap);
    va_end(ap);
    if (n < 0 || x->err)
        return;
    if ((size_t)n < EVT_X_BUF - x->len) {
        x->len += (size_t)n;
        return;
    }
    flush(x);
    char *big = (size_t)n < EVT_X_BUF ? x->buf : malloc((size_t)n + 1);
    if (!big) {
        x->err = EVT_ENOMEM;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    if (big == x->buf) {
        x->len = (size_t)n;
    } else {
        x->err = x->write(x->ctx, big, (size_t)n);
        free(big);
    }
}

/* An unsigned 64-bit value as JSON: a number up to INT64_MAX, else a
 * string of its digits. JSON itself has no limit, but the parsers people
 * load these files with do: jansson and Perfetto's read integers as int64
 * and refuse the whole document over one bigger value (a damaged or
 * foreign trace's start_ns, a request id that is a hash). buf: 24 bytes. */
static const char *u64_json(char *buf, uint64_t v)
{
    snprintf(buf, 24, v > INT64_MAX ? "\"%" PRIu64 "\"" : "%" PRIu64, v);
    return buf;
}

/* Starts an event object: the separator, ph, pid, tid and ts. */
static void ev_head(struct exporter *x, char ph, uint32_t tid, uint64_t ts)
{
    int64_t rel = (int64_t)(ts - x->base);
    uint64_t mag = rel < 0 ? (uint64_t)0 - (uint64_t)rel : (uint64_t)rel;
    out(x, "%s{\"ph\":\"%c\",\"pid\":%" PRIu32 ",\"tid\":%" PRIu32 ",\"ts\":%s%" PRIu64 ".%03u",
        x->first ? "\n" : ",\n", ph, x->pid, tid, rel < 0 ? "-" : "", mag / 1000, (unsigned)(mag % 1000));
    x->first = 0;
}

/* ---- names ------------------------------------------------------------- */

/* text as a JSON string literal (quotes included), malloc'd. */
static char *escape(const char *text)
{
    json_t *s = json_string(text);
    char *e = s ? json_dumps(s, JSON_ENCODE_ANY) : NULL;
    json_decref(s);
    return e;
}

/* The escaped text of string id, or of fallback when the id is unknown. */
static const char *name_esc(struct exporter *x, uint32_t id, const char *fallback)
{
    const char *text = id ? evt_reader_string(x->r, id) : NULL;
    if (!text)
        return fallback;
    if (id >= x->esc_cap) {
        size_t cap = x->esc_cap ? x->esc_cap : 64;
        while (cap <= id)
            cap *= 2;
        char **e = realloc(x->esc, cap * sizeof *e);
        if (!e)
            return fallback;
        memset(e + x->esc_cap, 0, (cap - x->esc_cap) * sizeof *e);
        x->esc = e;
        x->esc_cap = cap;
    }
    if (!x->esc[id])
        x->esc[id] = escape(text);
    return x->esc[id] ? x->esc[id] : fallback;
}

static const char *watcher_esc(struct exporter *x, uint32_t id)
{
    if (id >= x->n_watchers)
        return "\"watcher\"";
    struct xwatcher *w = &x->watchers[id];
    if (!w->esc) {
        const char *text = w->name ? evt_reader_string(x->r, w->name) : NULL;
        char buf[64];
        if (!text || !*text) {
            if (w->kind == EVT_KIND_IO && w->fd >= 0)
                snprintf(buf, sizeof buf, "io fd %d", w->fd);
            else
                snprintf(buf, sizeof buf, "%s #%u", evt_kind_name(w->kind), id);
            text = buf;
        }
        w->esc = escape(text);
    }
    return w->esc ? w->esc : "\"watcher\"";
}

/* ---- watcher definitions ----------------------------------------------- */

/* Pass 1 only fills the reader's string table (a name may be defined after
 * its first use in a damaged or foreign file). */
static int learn_strings(void *ctx, const struct evt_event *evs, size_t n) { return 0; }

/* A WATCHER record (re)defines id from here on (docs/FORMAT.md section 8). */
static int on_watcher(struct exporter *x, const struct evt_event *ev)
{
    if (ev->id >= EVT_X_MAX_WATCHER)
        return 0;
    if (ev->id >= x->n_watchers) {
        size_t n = x->n_watchers ? x->n_watchers : 64;
        while (n <= ev->id)
            n *= 2;
        struct xwatcher *w = realloc(x->watchers, n * sizeof *w);
        if (!w)
            return EVT_ENOMEM;
        memset(w + x->n_watchers, 0, (n - x->n_watchers) * sizeof *w);
        for (size_t i = x->n_watchers; i < n; i++)
            w[i].fd = -1;
        x->watchers = w;
        x->n_watchers = n;
    }
    struct xwatcher *w = &x->watchers[ev->id];
    free(w->esc);
    w->esc = NULL;
    w->name = (uint32_t)ev->val;
    w->kind = ev->kind;
    w->fd = (int32_t)ev->arg;
    return 0;
}

/* ---- pass 2: events ---------------------------------------------------- */

static struct xthread *xthread_of(struct exporter *x, uint32_t index)
{
    if (x->cur && x->cur->index == index)
        return x->cur;
    for (size_t i = 0; i < x->n_threads; i++)
        if (x->threads[i]->index == index)
            return x->cur = x->threads[i];
    if (x->n_threads == x->cap_threads) {
        size_t cap = x->cap_threads ? x->cap_threads * 2 : 8;
        struct xthread **t = realloc(x->threads, cap * sizeof *t);
        if (!t)
            return NULL;
        x->threads = t;
        x->cap_threads = cap;
    }
    struct xthread *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->index = index;
    x->threads[x->n_threads++] = t;
    return x->cur = t;
}

/* One complete ("X") event: the span o of thread tid, from its begin to
 * end; unfinished if something else ended it (its parent's end, the
 * trace's). */
static void span_emit(struct exporter *x, uint32_t tid, const struct xopen *o, uint64_t end, int complete)
{
    uint64_t dur = end > o->ts ? end - o->ts : 0;
    ev_head(x, 'X', tid, o->ts);
    out(x, ",\"dur\":%" PRIu64 ".%03u", dur / 1000, (unsigned)(dur % 1000));
    if (o->kind == X_CB) {
        uint8_t wk = o->key < x->n_watchers ? x->watchers[o->key].kind : 0;
        out(x, ",\"name\":%s,\"cat\":\"%s\",\"args\":{\"watcher\":%" PRIu32 ",\"revents\":%" PRIu32 "%s}}",
            watcher_esc(x, o->key), evt_kind_name(wk), o->key, o->revents, complete ? "" : ",\"unfinished\":true");
    } else {
        out(x, ",\"name\":\"%s\",\"cat\":\"%s\",\"args\":{\"loop\":%" PRIu32 "%s}}",
            o->kind == X_ITER ? "iteration" : "poll", o->kind == X_ITER ? "loop" : "poll", o->key,
            complete ? "" : ",\"unfinished\":true");
    }
}

/* A begin waits on its thread's stack until its end: a complete event
 * needs its duration. */
static void span_begin(struct xthread *t, const struct evt_event *ev, uint8_t kind)
{
    if (t->depth == EVT_X_MAX_DEPTH) /* too deep: its end will be dropped too */
        return;
    t->st[t->depth++] = (struct xopen){ .ts = ev->ts, .key = ev->id, .revents = ev->arg, .kind = kind };
}

/* Ends the newest open span of this kind and key; spans above it end with
 * it, unfinished (spans must nest). An end that matches nothing is
 * dropped. */
static void span_close(struct exporter *x, struct xthread *t, const struct evt_event *ev, uint8_t kind)
{
    size_t k = t->depth;
    while (k > 0 && !(t->st[k - 1].kind == kind && t->st[k - 1].key == ev->id))
        k--;
    if (k == 0)
        return;
    while (t->depth > k - 1) {
        t->depth--;
        span_emit(x, ev->thread, &t->st[t->depth], ev->ts, t->depth == k - 1);
    }
}

static int on_span(struct exporter *x, const struct evt_event *ev)
{
    struct xthread *t = xthread_of(x, ev->thread);
    if (!t)
        return EVT_ENOMEM;
    switch (ev->type) {
    case EVT_REC_LOOP_BEGIN: span_begin(t, ev, X_ITER); break;
    case EVT_REC_POLL_BEGIN: span_begin(t, ev, X_POLL); break;
    case EVT_REC_CB_BEGIN: span_begin(t, ev, X_CB); break;
    case EVT_REC_LOOP_END: span_close(x, t, ev, X_ITER); break;
    case EVT_REC_POLL_END: span_close(x, t, ev, X_POLL); break;
    default: span_close(x, t, ev, X_CB); break;
    }
    return 0;
}

/* ---- requests ---------------------------------------------------------- */

/* A live request's map value: its name id and current phase id, the phase
 * UINT32_MAX meaning "none yet" (so a phase with that very id is exported
 * as if it were none: ids are interned strings, far below it). */
#define X_NO_PHASE UINT32_MAX
static uint64_t live_val(uint32_t name, uint32_t phase) { return (uint64_t)name << 32 | phase; }

static void async(struct exporter *x, char ph, const struct evt_event *ev, uint64_t id, const char *name_esc)
{
    ev_head(x, ph, ev->thread, ev->ts);
    if (x->many)   /* request ids are per process, async ids are not */
        out(x, ",\"cat\":\"request\",\"id\":\"%" PRIu32 ":0x%" PRIx64 "\",\"name\":%s", x->pid, id, name_esc);
    else
        out(x, ",\"cat\":\"request\",\"id\":\"0x%" PRIx64 "\",\"name\":%s", id, name_esc);
}

/* Ends request id (its phase first), as of ev's time and thread. */
static void req_close(struct exporter *x, const struct evt_event *ev, uint64_t id, uint64_t val, int complete)
{
    uint32_t phase = (uint32_t)val;
    if (phase != X_NO_PHASE) {
        async(x, 'e', ev, id, name_esc(x, phase, "\"phase\""));
        out(x, "}");
    }
    async(x, 'e', ev, id, name_esc(x, (uint32_t)(val >> 32), "\"request\""));
    if (complete)
        out(x, ",\"args\":{\"status\":%" PRIu32 "}}", ev->arg);
    else
        out(x, ",\"args\":{\"unfinished\":true}}");
}

static void in_flight(struct exporter *x, const struct evt_event *ev)
{
    ev_head(x, 'C', ev->thread, ev->ts);
    out(x, ",\"name\":\"requests in flight\",\"args\":{\"requests\":%zu}}", x->live.n);
}

/* ---- requests whose begin comes later in the file ---------------------
 * Chunks of different threads are in flush order: a request's phase or end
 * recorded on another thread can precede its begin in the file. Such
 * records wait in a small ring (oldest dropped when full) and are replayed
 * right after their begin, if they are not older than it (an id may be
 * reused: an end older than the begin belongs to an earlier request whose
 * begin the trace does not have). */

static int pend(struct exporter *x, const struct evt_event *ev)
{
    if (!x->pending && !(x->pending = calloc(EVT_X_PENDING, sizeof *x->pending)))
        return EVT_ENOMEM;
    struct evt_event *slot = &x->pending[(x->pend_first + x->n_pending) % EVT_X_PENDING];
    if (x->n_pending == EVT_X_PENDING) { /* full: forget the oldest */
        slot = &x->pending[x->pend_first];
        x->pend_first = (x->pend_first + 1) % EVT_X_PENDING;
        x->n_pending--;
    }
    *slot = *ev;
    x->n_pending++;
    return 0;
}

static int on_request(struct exporter *x, const struct evt_event *ev);

/* After the begin ev: replays what waited for its id, in file order. */
static int replay_pending(struct exporter *x, const struct evt_event *begin)
{
    for (size_t i = 0; i < x->n_pending; i++) {
        struct evt_event *p = &x->pending[(x->pend_first + i) % EVT_X_PENDING];
        if (p->type == 0 || p->val != begin->val)
            continue;
        struct evt_event e = *p;
        p->type = 0; /* used (or stale): a hole the ring skips */
        /* once a replayed end closed the request, later ones are stale:
         * never re-pend (that would move the ring under this loop) */
        if (e.ts >= begin->ts && evt__idmap_get(&x->live, e.val) && on_request(x, &e) < 0)
            return EVT_ENOMEM;
    }
    while (x->n_pending && x->pending[x->pend_first].type == 0) {
        x->pend_first = (x->pend_first + 1) % EVT_X_PENDING;
        x->n_pending--;
    }
    return 0;
}

static int req_begin(struct exporter *x, const struct evt_event *ev, uint64_t *v)
{
    if (v) /* id reused while live: its end was lost */
        req_close(x, ev, ev->val, *v, 0);
    if (evt__idmap_put(&x->live, ev->val, live_val(ev->id, X_NO_PHASE)) < 0)
        return EVT_ENOMEM;
    async(x, 'b', ev, ev->val, name_esc(x, ev->id, "\"request\""));
    char id[24];
    out(x, ",\"args\":{\"id\":%s}}", u64_json(id, ev->val));
    in_flight(x, ev);
    return x->n_pending ? replay_pending(x, ev) : 0;
}

static int on_request(struct exporter *x, const struct evt_event *ev)
{
    uint64_t *v = evt__idmap_get(&x->live, ev->val);
    if (ev->type == EVT_REC_REQ_BEGIN)
        return req_begin(x, ev, v);
    if (!v)
        return pend(x, ev);
    if (ev->type == EVT_REC_REQ_PHASE) {
        uint32_t phase = (uint32_t)*v;
        if (phase != X_NO_PHASE) {
            async(x, 'e', ev, ev->val, name_esc(x, phase, "\"phase\""));
            out(x, "}");
        }
        *v = live_val((uint32_t)(*v >> 32), ev->id);
        async(x, 'b', ev, ev->val, name_esc(x, ev->id, "\"phase\""));
        out(x, "}");
    } else {
        req_close(x, ev, ev->val, *v, 1);
        evt__idmap_del(&x->live, ev->val);
        in_flight(x, ev);
    }
    return 0;
}

/* ---- the rest ---------------------------------------------------------- */

static void on_sample(struct exporter *x, const struct evt_event *ev)
{
    int is_mark = ev->type == EVT_REC_MARK;
    ev_head(x, is_mark ? 'i' : 'C', ev->thread, ev->ts);
    out(x, "%s,\"name\":%s,\"args\":{\"value\":%" PRId64 "}}", is_mark ? ",\"s\":\"t\"" : "",
        name_esc(x, ev->id, is_mark ? "\"mark\"" : "\"counter\""), (int64_t)ev->val);
}

static void on_lost(struct exporter *x, const struct evt_event *ev)
{
    char count[24], span[24];
    ev_head(x, 'i', ev->thread, ev->ts);
    out(x, ",\"s\":\"t\",\"name\":\"lost events\",\"args\":{\"count\":%s,\"span_ns\":%s}}",
        u64_json(count, ev->val), u64_json(span, ev->val2));
}

static void on_meta(struct exporter *x, const struct evt_event *ev)
{
    if (ev->type == EVT_REC_PROCESS) {
        out(x, "%s{\"ph\":\"M\",\"pid\":%" PRIu32 ",\"tid\":0,\"name\":\"process_name\",\"args\":{\"name\":%s}}",
            x->first ? "\n" : ",\n", x->pid, name_esc(x, ev->id, "\"\""));
    } else {
        out(x, "%s{\"ph\":\"M\",\"pid\":%" PRIu32 ",\"tid\":%" PRIu32 ",\"name\":\"thread_name\",\"args\":{\"name\":%s,"
            "\"tid\":%" PRIu32 "}}", x->first ? "\n" : ",\n", x->pid, ev->thread, name_esc(x, ev->id, "\"\""), ev->arg);
    }
    x->first = 0;
}

static int emit(void *ctx, const struct evt_event *ev)
{
    struct exporter *x = ctx;
    if (evt_reader_is_event(ev->type) && ev->ts > x->last_ts)
        x->last_ts = ev->ts;   /* where spans still open at the end will end */
    switch (ev->type) {
    case EVT_REC_LOOP_BEGIN: case EVT_REC_LOOP_END: case EVT_REC_POLL_BEGIN:
    case EVT_REC_POLL_END: case EVT_REC_CB_BEGIN: case EVT_REC_CB_END:
        if (on_span(x, ev) < 0)
            return EVT_ENOMEM;
        break;
    case EVT_REC_REQ_BEGIN: case EVT_REC_REQ_PHASE: case EVT_REC_REQ_END:
        if (on_request(x, ev) < 0)
            return EVT_ENOMEM;
        break;
    case EVT_REC_MARK: case EVT_REC_COUNTER:
        on_sample(x, ev);
        break;
    case EVT_REC_LOST:
        on_lost(x, ev);
        break;
    case EVT_REC_PROCESS: case EVT_REC_THREAD:
        on_meta(x, ev);
        break;
    case EVT_REC_CLOCK:   /* the one written at close: the trace's end, where open spans end */
        if (ev->ts > x->last_ts)
            x->last_ts = ev->ts;
        break;
    case EVT_REC_WATCHER:
        if (on_watcher(x, ev) < 0)
            return EVT_ENOMEM;
        break;
    default:
        break;
    }
    return x->err;
}

/* Closes what the trace left open, at the last timestamp seen. */
static void close_all(struct exporter *x)
{
    for (size_t i = 0; i < x->n_threads; i++) {
        struct xthread *t = x->threads[i];
        while (t->depth > 0) {
            t->depth--;
            span_emit(x, t->index, &t->st[t->depth], x->last_ts, 0);
        }
    }
    size_t pos = 0;
    struct evt__idmap_slot *s;
    struct evt_event ev = { .ts = x->last_ts };
    while ((s = evt__idmap_next(&x->live, &pos)))
        req_close(x, &ev, s->key, s->val, 0);
}

static int damaged(int rc)
{
    return rc == EVT_ETRUNC || rc == EVT_EFORMAT;
}

/* otherData: the first trace's pid, the common start, whether any trace is
 * damaged and the first one's error; then each trace's own. */
static void footer(struct exporter *x, evt_reader **rs, const int *rcs, size_t n)
{
    size_t bad = 0;
    while (bad < n && !damaged(rcs[bad]))
        bad++;
    char *err = escape(bad < n ? evt_reader_error(rs[bad]) : "");
    char ns[24];
    out(x, "\n],\n\"displayTimeUnit\":\"ns\",\n\"otherData\":{\"generator\":\"evtrace\",\"pid\":%" PRIu32
        ",\"start_ns\":%s,\"damaged\":%s,\"error\":%s,\"traces\":[", evt_reader_pid(rs[0]), u64_json(ns, x->base),
        bad < n ? "true" : "false", err ? err : "\"\"");
    free(err);
    for (size_t i = 0; i < n; i++) {
        err = escape(damaged(rcs[i]) ? evt_reader_error(rs[i]) : "");
        out(x, "%s{\"pid\":%" PRIu32 ",\"start_ns\":%s,\"damaged\":%s,\"error\":%s}", i ? "," : "",
            evt_reader_pid(rs[i]), u64_json(ns, evt_reader_start_ns(rs[i])), damaged(rcs[i]) ? "true" : "false",
            err ? err : "\"\"");
        free(err);
    }
    out(x, "]}}\n");
}

/* Frees what one trace's export built up, leaving the output state. */
static void exporter_clear(struct exporter *x)
{
    for (size_t i = 0; i < x->n_threads; i++)
        free(x->threads[i]);
    free(x->threads);
    for (size_t i = 0; i < x->n_watchers; i++)
        free(x->watchers[i].esc);
    free(x->watchers);
    for (size_t i = 0; i < x->esc_cap; i++)
        free(x->esc[i]);
    free(x->esc);
    evt__idmap_free(&x->live);
    free(x->pending);
    x->threads = NULL;
    x->n_threads = x->cap_threads = 0;
    x->cur = NULL;
    x->watchers = NULL;
    x->n_watchers = 0;
    x->esc = NULL;
    x->esc_cap = 0;
    x->live = (struct evt__idmap){ 0 };
    x->pending = NULL;
    x->pend_first = x->n_pending = 0;
}

/* One trace's events into the open document: its strings first (a damaged
 * or foreign file may use one before defining it), then its records. */
static int export_one(struct exporter *x, evt_reader *r)
{
    exporter_clear(x);
    x->r = r;
    x->pid = evt_reader_pid(r);
    x->last_ts = evt_reader_start_ns(r);
    int rc = evt_reader_each_batch(r, learn_strings, x);
    if (rc == 0 || damaged(rc))
        rc = evt_reader_each(r, emit, x);
    if (rc == 0 || damaged(rc))
        close_all(x);
    return x->err ? x->err : rc;
}

int evt_export_chrome_many(evt_reader **rs, size_t n, evt_export_write_fn write, void *ctx)
{
    if (n == 0)
        return EVT_EINVAL;
    struct exporter *x = calloc(1, sizeof *x);
    int *rcs = calloc(n, sizeof *rcs);
    if (!x || !rcs) {
        free(x);
        free(rcs);
        return EVT_ENOMEM;
    }
    x->write = write;
    x->ctx = ctx;
    x->first = 1;
    x->many = n > 1;
    x->base = evt_reader_start_ns(rs[0]);
    for (size_t i = 1; i < n; i++)   /* one clock (CLOCK_MONOTONIC) for every process */
        if (evt_reader_start_ns(rs[i]) < x->base)
            x->base = evt_reader_start_ns(rs[i]);
    out(x, "{\"traceEvents\":[");
    int rc = 0;
    for (size_t i = 0; i < n && (rc == 0 || damaged(rc)); i++) {
        rcs[i] = export_one(x, rs[i]);
        if (rcs[i] != 0 && (rc == 0 || !damaged(rcs[i])))
            rc = rcs[i];   /* the first damage, unless something worse follows */
    }
    if (rc == 0 || damaged(rc)) {
        footer(x, rs, rcs, n);
        flush(x);
    }
    if (x->err)
        rc = x->err;
    exporter_clear(x);
    free(x);
    free(rcs);
    return rc;
}

int evt_export_chrome(evt_reader *r, evt_export_write_fn write, void *ctx)
{
    return evt_export_chrome_many(&r, 1, write, ctx);
}

static int file_sink(void *ctx, const void *data, size_t len)
{
    return fwrite(data, 1, len, ctx) == len ? 0 : EVT_EIO;
}

int evt_export_chrome_files(evt_reader **rs, size_t n, FILE *out)
{
    int rc = evt_export_chrome_many(rs, n, file_sink, out);
    if (fflush(out) != 0 && (rc == 0 || damaged(rc)))
        rc = EVT_EIO;
    return rc;
}

int evt_export_chrome_file(evt_reader *r, FILE *out)
{
    return evt_export_chrome_files(&r, 1, out);
}
