/* evt_model.c -- pair a trace's records into spans, once, at load.
 *
 * One walk of the reader feeds a builder:
 *   - per thread, three small stacks of open begins (iterations, polls,
 *     callbacks) keyed by loop or watcher id. An END closes the newest open
 *     begin with its key; begins above it on the stack are closed at the
 *     same instant as incomplete (they cannot outlive their parent). An END
 *     that matches nothing is an orphan. Stacks are capped (EVT_M_MAX_DEPTH):
 *     a runaway of begins without ends (lost events) drops the oldest.
 *   - request records, kept aside and replayed in time order after the walk
 *     (a request can move between threads, whose chunks are in flush
 *     order), through a hash map request id -> request. Phases go to
 *     a temporary array tagged with their request; after the walk they are
 *     laid out contiguously per request (a counting sort) so the model's
 *     phases[] has each request's phases together, in time order.
 *   - names are resolved after the walk: the writer may flush a thread's
 *     chunk before the meta chunk holding the strings it uses, so during
 *     the walk a name field holds the string id (see id_as_name).
 * After the walk every still-open span gets t1 = t_max, complete = 0, the
 * arrays are sorted by t0 (only when not already sorted: a one-thread trace
 * arrives in order, and the check is cheaper than the sort) and the
 * requests-in-flight step series is derived from the requests.
 *
 * Memory: arrays grow by doubling, so the walk does no per-event
 * allocation beyond amortised growth.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evt_idmap.h"
#include "evt_model.h"
#include "evt_runsort.h"
#include "evtrace.h"

#define EVT_M_MAX_DEPTH 256          /* open begins kept per thread and kind */
#define EVT_M_MAX_WATCHER (1u << 20) /* larger watcher ids map to slot 0 */
#define EVT_M_REDEF (1u << 31)       /* during the walk: a redefinition's index */
#define EVT_M_OPEN UINT64_MAX        /* t1 of a span not closed yet */
#define EVT_M_PROGRESS_BYTES (1u << 20)

/* ---- small containers -------------------------------------------------- */

struct vec {
    void *data;
    size_t n, cap;
};

/* Appends a zeroed element of size esize; NULL when out of memory. */
static int vec_reserve(struct vec *v, size_t n, size_t esize);

static inline __attribute__((always_inline)) void *vec_push(struct vec *v, size_t esize)
{
    if (v->n == v->cap && vec_reserve(v, v->cap ? v->cap * 2 : 256, esize) < 0)
        return NULL;
    void *e = (char *)v->data + v->n++ * esize;
    memset(e, 0, esize);
    return e;
}

/* Makes room for n elements in total; 0 or EVT_ENOMEM. */
static int vec_reserve(struct vec *v, size_t n, size_t esize)
{
    if (n <= v->cap)
        return 0;
    void *d = realloc(v->data, n * esize);
    if (!d)
        return EVT_ENOMEM;
    evt__prefault((char *)d + v->n * esize, (n - v->n) * esize);
    v->data = d;
    v->cap = n;
    return 0;
}

/* Hands the array over to the model (or frees an empty one). */
static void *vec_take(struct vec *v, size_t *n)
{
    *n = v->n;
    void *d = v->data;
    if (v->n == 0) {
        free(d);
        d = NULL;
    }
    memset(v, 0, sizeof *v);
    return d;
}

struct open_entry {
    size_t index; /* into the builder's array */
    uint32_t key; /* loop or watcher id */
};

struct ostack {
    struct open_entry e[EVT_M_MAX_DEPTH];
    size_t n;
};

/* The model's own copies of strings; freed as a whole. */
struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    char data[];
};

struct model_priv {
    struct arena_block *blocks;
};

static char *arena_strdup(struct model_priv *p, const char *s)
{
    size_t n = strlen(s) + 1;
    struct arena_block *b = p->blocks;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->used = 0;
        b->cap = cap;
        b->next = p->blocks;
        p->blocks = b;
    }
    char *d = b->data + b->used;
    memcpy(d, s, n);
    b->used += n;
    return d;
}

/* ---- the builder ------------------------------------------------------- */

struct tstate {
    uint32_t index, tid, name; /* name: string id */
    struct ostack iters, polls, cbs;
};

struct builder {
    struct evt_model *m;
    evt_reader *r;
    struct model_priv *priv;
    struct tstate **threads;  /* by order of appearance */
    size_t n_threads, cap_threads;
    struct tstate *cur;       /* cache: records come in per-thread chunks */
    struct vec iters, polls, cbs, reqs, phases, counters, marks, lost, watchers;
    struct vec reqev;         /* REQ_* records, replayed in time order after the walk */
    struct vec wcur;          /* by watcher id: its current definition (0 = none yet) */
    struct vec redefs;        /* watcher redefinitions, appended after the slots */
    struct evt__idmap live;   /* request id -> index in reqs */
    uint32_t process_name;
    const char **names;       /* resolved string ids, by id */
    size_t names_cap;
    evt_progress_fn progress;
    void *progress_ctx;
    size_t next_progress;
    int second_pass;          /* progress: the counting pass is the first half */
    struct evt__scratch sort;  /* reused by every sort */
    uint64_t counts[256];     /* records per type, from the counting pass */
    int oom;
};

struct tmp_phase {            /* a phase before layout */
    uint64_t t0;
    uint32_t name;
    uint32_t req;             /* index in reqs, in load order */
};

/* During the walk a name field holds its string id; resolve_names turns it
 * into a pointer. Kept in two tiny functions so the trick is in one place. */
static const char *id_as_name(uint32_t id) { return (const char *)(uintptr_t)id; }
static uint32_t name_as_id(const char *p) { return (uint32_t)(uintptr_t)p; }

static struct tstate *thread_state(struct builder *b, uint32_t index)
{
    if (b->cur && b->cur->index == index)
        return b->cur;
    for (size_t i = 0; i < b->n_threads; i++)
        if (b->threads[i]->index == index)
            return b->cur = b->threads[i];
    if (b->n_threads == b->cap_threads) {
        size_t cap = b->cap_threads ? b->cap_threads * 2 : 8;
        struct tstate **t = realloc(b->threads, cap * sizeof *t);
        if (!t)
            return NULL;
        b->threads = t;
        b->cap_threads = cap;
    }
    struct tstate *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->index = index;
    b->threads[b->n_threads++] = t;
    return b->cur = t;
}

/* ---- spans: iterations, polls, callbacks ------------------------------- */

static void ostack_push(struct ostack *s, size_t index, uint32_t key)
{
    if (s->n == EVT_M_MAX_DEPTH) { /* drop the oldest: it stays open */
        memmove(s->e, s->e + 1, (EVT_M_MAX_DEPTH - 1) * sizeof s->e[0]);
        s->n--;
    }
    s->e[s->n].index = index;
    s->e[s->n].key = key;
    s->n++;
}

static void set_end(struct vec *v, int is_cb, size_t i, uint64_t ts, int complete)
{
    if (is_cb) {
        struct evt_m_callback *c = (struct evt_m_callback *)v->data + i;
        c->t1 = ts;
        c->complete = complete;
    } else {
        struct evt_m_span *s = (struct evt_m_span *)v->data + i;
        s->t1 = ts;
        s->complete = complete;
    }
}

/* Closes the newest open begin with key (and, incomplete, those above it). */
static void end_span(struct builder *b, struct ostack *s, struct vec *v, int is_cb, uint32_t key, uint64_t ts)
{
    size_t k = s->n;
    while (k > 0 && s->e[k - 1].key != key)
        k--;
    if (k == 0) {
        b->m->orphans++;
        return;
    }
    for (size_t i = s->n; i-- > k - 1;)
        set_end(v, is_cb, s->e[i].index, ts, i == k - 1);
    s->n = k - 1;
}

static int begin_span(struct builder *b, struct ostack *s, struct vec *v, const struct evt_event *ev)
{
    struct evt_m_span *sp = vec_push(v, sizeof *sp);
    if (!sp)
        return EVT_ENOMEM;
    sp->t0 = ev->ts;
    sp->t1 = EVT_M_OPEN;
    sp->thread = ev->thread;
    sp->loop = ev->id;
    ostack_push(s, v->n - 1, ev->id);
    return 0;
}

static uint32_t watcher_slot(uint32_t id) { return id < EVT_M_MAX_WATCHER ? id : 0; }

static int begin_callback(struct builder *b, struct ostack *s, const struct evt_event *ev)
{
    struct evt_m_callback *c = vec_push(&b->cbs, sizeof *c);
    if (!c)
        return EVT_ENOMEM;
    c->t0 = ev->ts;
    c->t1 = EVT_M_OPEN;
    c->thread = ev->thread;
    uint32_t id = watcher_slot(ev->id);
    c->watcher = id < b->wcur.n && ((uint32_t *)b->wcur.data)[id] ? ((uint32_t *)b->wcur.data)[id] : id;
    c->revents = ev->arg;
    c->depth = (uint32_t)s->n;
    ostack_push(s, b->cbs.n - 1, ev->id);
    return 0;
}

/* b->cur is the event's thread (on_event made sure). */
static int on_span(struct builder *b, const struct evt_event *ev)
{
    struct tstate *t = b->cur;
    switch (ev->type) {
    case EVT_REC_LOOP_BEGIN: return begin_span(b, &t->iters, &b->iters, ev);
    case EVT_REC_LOOP_END: end_span(b, &t->iters, &b->iters, 0, ev->id, ev->ts); return 0;
    case EVT_REC_POLL_BEGIN: return begin_span(b, &t->polls, &b->polls, ev);
    case EVT_REC_POLL_END: end_span(b, &t->polls, &b->polls, 0, ev->id, ev->ts); return 0;
    case EVT_REC_CB_BEGIN: return begin_callback(b, &t->cbs, ev);
    default: end_span(b, &t->cbs, &b->cbs, 1, ev->id, ev->ts); return 0;
    }
}

/* ---- requests ---------------------------------------------------------- */

static int req_begin(struct builder *b, const struct evt_event *ev)
{
    uint64_t *open = evt__idmap_get(&b->live, ev->val);
    if (open) { /* the id is reused while live: its end was lost */
        struct evt_m_request *old = (struct evt_m_request *)b->reqs.data + *open;
        old->t1 = ev->ts;
    }
    struct evt_m_request *q = vec_push(&b->reqs, sizeof *q);
    if (!q)
        return EVT_ENOMEM;
    q->id = ev->val;
    q->t0 = ev->ts;
    q->t1 = EVT_M_OPEN;
    q->name = id_as_name(ev->id);
    q->thread = ev->thread;
    return evt__idmap_put(&b->live, ev->val, b->reqs.n - 1);
}

static int req_phase_or_end(struct builder *b, const struct evt_event *ev)
{
    uint64_t *open = evt__idmap_get(&b->live, ev->val);
    if (!open) {
        b->m->orphans++;
        return 0;
    }
    struct evt_m_request *q = (struct evt_m_request *)b->reqs.data + *open;
    if (ev->type == EVT_REC_REQ_END) {
        q->t1 = ev->ts;
        q->status = ev->arg;
        q->complete = 1;
        evt__idmap_del(&b->live, ev->val);
        return 0;
    }
    struct tmp_phase *p = vec_push(&b->phases, sizeof *p);
    if (!p)
        return EVT_ENOMEM;
    p->t0 = ev->ts;
    p->name = ev->id;
    p->req = (uint32_t)*open;
    q->phase_count++;
    return 0;
}

/* A request may begin on one thread and move on on another (a worker
 * thread's phase); chunks of different threads are in flush order, not
 * time order, so the phase can come first in the file. Request records are
 * therefore kept during the walk and replayed in time order after it. */
static int on_request(struct builder *b, const struct evt_event *ev)
{
    struct evt_event *e = vec_push(&b->reqev, sizeof *e);
    if (!e)
        return EVT_ENOMEM;
    *e = *ev;
    return 0;
}

/* ---- everything else --------------------------------------------------- */

/* A watcher's definition as it stands now: slot id, or a redefinition. */
static struct evt_m_watcher *current_watcher(struct builder *b, uint32_t id)
{
    uint32_t cur = ((uint32_t *)b->wcur.data)[id];
    if (cur & EVT_M_REDEF)
        return (struct evt_m_watcher *)b->redefs.data + (cur & ~EVT_M_REDEF);
    return (struct evt_m_watcher *)b->watchers.data + id;
}

/* The first definition of an id fills slot id; a different later one (the
 * address now holds another watcher) is kept apart and used by callbacks
 * from there on (FORMAT.md: the latest definition from its point in the
 * file on). finish_watchers puts those after the slots. */
static int on_watcher(struct builder *b, const struct evt_event *ev)
{
    uint32_t id = watcher_slot(ev->id);
    if (id == 0)
        return 0;
    while (b->watchers.n <= id)
        if (!vec_push(&b->watchers, sizeof(struct evt_m_watcher)) || !vec_push(&b->wcur, sizeof(uint32_t)))
            return EVT_ENOMEM;
    struct evt_m_watcher def = { .id = id, .kind = ev->kind, .fd = (int32_t)ev->arg,
                                 .name = id_as_name((uint32_t)ev->val), .loop = (uint32_t)ev->val2,
                                 .thread = ev->thread };
    uint32_t *cur = (uint32_t *)b->wcur.data + id;
    if (*cur == 0) {
        ((struct evt_m_watcher *)b->watchers.data)[id] = def;
        *cur = id;
        return 0;
    }
    const struct evt_m_watcher *w = current_watcher(b, id);
    if (w->kind == def.kind && w->fd == def.fd && w->name == def.name && w->loop == def.loop)
        return 0; /* the same again */
    struct evt_m_watcher *r = vec_push(&b->redefs, sizeof *r);
    if (!r)
        return EVT_ENOMEM;
    *r = def;
    *cur = EVT_M_REDEF | (uint32_t)(b->redefs.n - 1);
    return 0;
}

static int on_sample(struct vec *v, const struct evt_event *ev)
{
    struct evt_m_sample *s = vec_push(v, sizeof *s);
    if (!s)
        return EVT_ENOMEM;
    s->ts = ev->ts;
    s->value = (int64_t)ev->val;
    s->name = id_as_name(ev->id);
    s->thread = ev->thread;
    return 0;
}

static int on_lost(struct builder *b, const struct evt_event *ev)
{
    struct evt_m_lost *l = vec_push(&b->lost, sizeof *l);
    if (!l)
        return EVT_ENOMEM;
    l->t1 = ev->ts;
    l->t0 = ev->val2 < ev->ts ? ev->ts - ev->val2 : 0;
    l->count = ev->val;
    l->thread = ev->thread;
    b->m->lost += ev->val;
    return 0;
}

static int on_definition(struct builder *b, const struct evt_event *ev)
{
    struct tstate *t;
    switch (ev->type) {
    case EVT_REC_PROCESS:
        b->m->pid = (uint32_t)ev->val;
        b->process_name = ev->id;
        return 0;
    case EVT_REC_THREAD:
        if (!(t = thread_state(b, ev->thread)))
            return EVT_ENOMEM;
        t->tid = ev->arg;
        t->name = ev->id;
        return 0;
    case EVT_REC_WATCHER:
        return on_watcher(b, ev);
    default: /* STRING (kept by the reader), CLOCK */
        return 0;
    }
}

/* Bytes count twice (the counting pass, then the real one) so that the
 * progress runs once from 0 to total. */
static void report_progress(struct builder *b)
{
    size_t off = evt_reader_offset(b->r), total = evt_reader_size(b->r);
    size_t done = off / 2 + (b->second_pass ? total / 2 : 0);
    if (done >= b->next_progress) {
        b->progress(b->progress_ctx, done, total);
        b->next_progress = done + EVT_M_PROGRESS_BYTES;
    }
}

static int on_count(void *ctx, const struct evt_event *evs, size_t n)
{
    struct builder *b = ctx;
    if (b->progress)
        report_progress(b);
    for (size_t i = 0; i < n; i++)
        b->counts[evs[i].type]++;
    return 0;
}

/* Sizes every array exactly from the counting pass: growing by doubling
 * instead would copy each array about once more and fault in twice the
 * pages, which on a 10M-event trace costs more than the extra walk. */
static int reserve(struct builder *b)
{
    const uint64_t *n = b->counts;
    size_t cb = sizeof(struct evt_m_callback), sp = sizeof(struct evt_m_span);
    size_t sa = sizeof(struct evt_m_sample);
    if (vec_reserve(&b->iters, n[EVT_REC_LOOP_BEGIN], sp) < 0 || vec_reserve(&b->polls, n[EVT_REC_POLL_BEGIN], sp) < 0 ||
        vec_reserve(&b->cbs, n[EVT_REC_CB_BEGIN], cb) < 0 ||
        vec_reserve(&b->reqs, n[EVT_REC_REQ_BEGIN], sizeof(struct evt_m_request)) < 0 ||
        vec_reserve(&b->phases, n[EVT_REC_REQ_PHASE], sizeof(struct tmp_phase)) < 0 ||
        vec_reserve(&b->counters, n[EVT_REC_COUNTER], sa) < 0 || vec_reserve(&b->marks, n[EVT_REC_MARK], sa) < 0 ||
        vec_reserve(&b->lost, n[EVT_REC_LOST], sizeof(struct evt_m_lost)) < 0 ||
        vec_reserve(&b->reqev, n[EVT_REC_REQ_BEGIN] + n[EVT_REC_REQ_PHASE] + n[EVT_REC_REQ_END],
                    sizeof(struct evt_event)) < 0)
        return EVT_ENOMEM;
    return 0;
}

static inline int on_event(struct builder *b, const struct evt_event *ev)
{
    struct evt_model *m = b->m;
    if (!evt_reader_is_event(ev->type))
        return on_definition(b, ev);
    if (ev->ts < m->t_min)
        m->t_min = ev->ts;
    if (ev->ts > m->t_max)
        m->t_max = ev->ts;
    if (!thread_state(b, ev->thread))
        return EVT_ENOMEM;
    switch (ev->type) {
    case EVT_REC_LOOP_BEGIN: case EVT_REC_LOOP_END: case EVT_REC_POLL_BEGIN:
    case EVT_REC_POLL_END: case EVT_REC_CB_BEGIN: case EVT_REC_CB_END:
        return on_span(b, ev);
    case EVT_REC_REQ_BEGIN: case EVT_REC_REQ_PHASE: case EVT_REC_REQ_END:
        return on_request(b, ev);
    case EVT_REC_MARK: return on_sample(&b->marks, ev);
    case EVT_REC_COUNTER: return on_sample(&b->counters, ev);
    case EVT_REC_LOST: return on_lost(b, ev);
    default: /* WSTART, WSTOP: not part of the model; newer types */
        return 0;
    }
}

static int on_events(void *ctx, const struct evt_event *evs, size_t n)
{
    struct builder *b = ctx;
    if (b->progress)
        report_progress(b);
    for (size_t i = 0; i < n; i++) {
        int rc = on_event(b, &evs[i]);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- after the walk ---------------------------------------------------- */

/* A string id's text, copied into the model; "" when unknown. */
static const char *resolve(struct builder *b, uint32_t id)
{
    if (id == 0)
        return "";
    if (id >= b->names_cap) {
        size_t cap = b->names_cap ? b->names_cap : 64;
        while (cap <= id)
            cap *= 2;
        const char **n = realloc(b->names, cap * sizeof *n);
        if (!n)
            goto oom;
        memset(n + b->names_cap, 0, (cap - b->names_cap) * sizeof *n);
        b->names = n;
        b->names_cap = cap;
    }
    if (!b->names[id]) {
        const char *s = evt_reader_string(b->r, id);
        if (!s)
            return "";
        if (!(b->names[id] = arena_strdup(b->priv, s)))
            goto oom;
    }
    return b->names[id];
oom:
    b->oom = 1;
    return "";
}

static const char *watcher_fallback(struct builder *b, const struct evt_m_watcher *w)
{
    char buf[64];
    if (w->kind == EVT_KIND_IO && w->fd >= 0)
        snprintf(buf, sizeof buf, "io fd %d", w->fd);
    else if (w->kind == EVT_KIND_SIGNAL && w->fd >= 0)
        snprintf(buf, sizeof buf, "signal %d", w->fd);
    else if (w->kind == EVT_KIND_UNKNOWN)
        snprintf(buf, sizeof buf, "watcher #%u", w->id);
    else
        snprintf(buf, sizeof buf, "%s #%u", evt_kind_name(w->kind), w->id);
    const char *s = arena_strdup(b->priv, buf);
    if (!s)
        b->oom = 1;
    return s ? s : "";
}

/* Every slot gets a name: defined watchers their own or a fallback, gaps
 * (ids used by callbacks but never defined) "watcher #N". Callbacks may
 * name ids beyond the defined ones, so the array is grown to cover them. */
static void finish_watchers(struct builder *b)
{
    struct evt_m_callback *cb = b->cbs.data;
    for (size_t i = 0; i < b->cbs.n; i++)
        while (!(cb[i].watcher & EVT_M_REDEF) && b->watchers.n <= cb[i].watcher)
            if (!vec_push(&b->watchers, sizeof(struct evt_m_watcher)))
                goto oom;
    if (b->watchers.n == 0 && !vec_push(&b->watchers, sizeof(struct evt_m_watcher)))
        goto oom;
    size_t slots = b->watchers.n;
    for (size_t i = 0; i < b->redefs.n; i++) {
        struct evt_m_watcher *w = vec_push(&b->watchers, sizeof *w);
        if (!w)
            goto oom;
        *w = ((struct evt_m_watcher *)b->redefs.data)[i];
    }
    for (size_t i = 0; i < b->cbs.n; i++)
        if (cb[i].watcher & EVT_M_REDEF)
            cb[i].watcher = (uint32_t)slots + (cb[i].watcher & ~EVT_M_REDEF);
    struct evt_m_watcher *w = b->watchers.data;
    for (size_t i = 0; i < b->watchers.n; i++) {
        if (i < slots && (w[i].id != i || i == 0)) { /* never defined */
            w[i].id = (uint32_t)i;
            w[i].fd = -1;
        }
        const char *name = resolve(b, name_as_id(w[i].name));
        w[i].name = *name ? name : i == 0 ? "(no watcher)" : watcher_fallback(b, &w[i]);
    }
    return;
oom:
    b->oom = 1;
}

static void close_open(struct builder *b)
{
    uint64_t t = b->m->t_max;
    struct evt_m_span *s = b->iters.data;
    for (size_t i = 0; i < b->iters.n; i++)
        if (s[i].t1 == EVT_M_OPEN)
            s[i].t1 = t;
    s = b->polls.data;
    for (size_t i = 0; i < b->polls.n; i++)
        if (s[i].t1 == EVT_M_OPEN)
            s[i].t1 = t;
    struct evt_m_callback *c = b->cbs.data;
    for (size_t i = 0; i < b->cbs.n; i++)
        if (c[i].t1 == EVT_M_OPEN)
            c[i].t1 = t;
    struct evt_m_request *q = b->reqs.data;
    for (size_t i = 0; i < b->reqs.n; i++) {
        if (q[i].t1 == EVT_M_OPEN)
            q[i].t1 = t;
        q[i].name = resolve(b, name_as_id(q[i].name));
        q[i].phase_first = (uint32_t)i; /* load order, for sorting ties */
    }
}

static void resolve_samples(struct builder *b, struct vec *v)
{
    struct evt_m_sample *s = v->data;
    for (size_t i = 0; i < v->n; i++)
        s[i].name = resolve(b, name_as_id(s[i].name));
}

/* ---- sorting ----------------------------------------------------------- */

#define CMP(a, b) ((a) < (b) ? -1 : (a) > (b))

static int cmp_span(const void *x, const void *y)
{
    const struct evt_m_span *a = x, *b = y;
    return a->t0 != b->t0 ? CMP(a->t0, b->t0) : CMP(a->thread, b->thread);
}

static int cmp_callback(const void *x, const void *y)
{
    const struct evt_m_callback *a = x, *b = y;
    if (a->t0 != b->t0)
        return CMP(a->t0, b->t0);
    return a->thread != b->thread ? CMP(a->thread, b->thread) : CMP(a->depth, b->depth);
}

static int cmp_request(const void *x, const void *y)
{
    const struct evt_m_request *a = x, *b = y;
    if (a->t0 != b->t0)
        return CMP(a->t0, b->t0);
    return a->thread != b->thread ? CMP(a->thread, b->thread) : CMP(a->phase_first, b->phase_first);
}

static int cmp_sample(const void *x, const void *y)
{
    const struct evt_m_sample *a = x, *b = y;
    return a->ts != b->ts ? CMP(a->ts, b->ts) : CMP(a->thread, b->thread);
}

static int cmp_lost(const void *x, const void *y)
{
    const struct evt_m_lost *a = x, *b = y;
    return a->t0 != b->t0 ? CMP(a->t0, b->t0) : CMP(a->thread, b->thread);
}

static int cmp_thread(const void *x, const void *y)
{
    const struct evt_m_thread *a = x, *b = y;
    return CMP(a->index, b->index);
}

static void sort_vec(struct builder *b, struct vec *v, struct evt__layout l)
{
    evt__runsort(&b->sort, v->data, v->n, l);
}

static int cmp_event_ts(const void *x, const void *y)
{
    const struct evt_event *a = x, *b = y;
    return a->ts < b->ts ? -1 : a->ts > b->ts;
}

static int replay_requests(struct builder *b)
{
    sort_vec(b, &b->reqev, EVT__LAYOUT(struct evt_event, ts, cmp_event_ts));
    const struct evt_event *e = b->reqev.data;
    for (size_t i = 0; i < b->reqev.n; i++) {
        int rc = e[i].type == EVT_REC_REQ_BEGIN ? req_begin(b, &e[i]) : req_phase_or_end(b, &e[i]);
        if (rc < 0)
            return rc;
    }
    free(b->reqev.data); /* done with: lower the peak */
    memset(&b->reqev, 0, sizeof b->reqev);
    return 0;
}

/* ---- phases and concurrency ------------------------------------------- */

/* Lays the phases out per request, in the requests' sorted order. On entry
 * each request's phase_first holds its load index. */
static int layout_phases(struct builder *b)
{
    struct evt_m_request *q = b->reqs.data;
    size_t n = b->reqs.n, np = b->phases.n;
    uint32_t *start = evt__big_malloc((n + 1) * sizeof *start); /* by load index */
    struct evt_m_phase *out = np ? evt__big_malloc(np * sizeof *out) : NULL;
    if (!start || (np && !out)) {
        free(start);
        free(out);
        return EVT_ENOMEM;
    }
    uint32_t next = 0;
    for (size_t i = 0; i < n; i++) {
        start[q[i].phase_first] = next;
        q[i].phase_first = next;
        next += q[i].phase_count;
    }
    const struct tmp_phase *tp = b->phases.data;
    for (size_t i = 0; i < np; i++) { /* load order = time order per request */
        struct evt_m_phase *p = &out[start[tp[i].req]++];
        p->t0 = tp[i].t0;
        p->name = resolve(b, tp[i].name);
    }
    free(start);
    free(b->phases.data);
    b->phases.data = out;
    return 0;
}

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

/* Ends of complete requests, sorted (they mostly are already: requests
 * tend to end in the order they began). Returns the count or -1. */
static long sorted_ends(const struct builder *b, uint64_t **out)
{
    const struct evt_m_request *q = b->reqs.data;
    uint64_t *e = evt__big_malloc(b->reqs.n * sizeof *e);
    if (!(*out = e))
        return -1;
    size_t n = 0, sorted = 1;
    for (size_t i = 0; i < b->reqs.n; i++)
        if (q[i].complete) {
            e[n] = q[i].t1;
            sorted &= n == 0 || e[n - 1] <= e[n];
            n++;
        }
    if (!sorted)
        qsort(e, n, sizeof *e, cmp_u64);
    return (long)n;
}

/* The requests-in-flight series: +1 at each t0 (requests are sorted by
 * it), -1 at each complete t1 (an incomplete request is still open at the
 * end); the two sorted lists are merged. Changes at the same instant are
 * netted, so back-to-back requests do not count as overlapping and an
 * instant with no net change makes no step. */
static int build_concurrency(struct builder *b)
{
    const struct evt_m_request *q = b->reqs.data;
    uint64_t *ends;
    long n_ends = sorted_ends(b, &ends);
    struct evt_m_step *s = evt__big_malloc((b->reqs.n + (size_t)(n_ends > 0 ? n_ends : 0) + 1) * sizeof *s);
    if (n_ends < 0 || !s) {
        free(ends);
        free(s);
        return EVT_ENOMEM;
    }
    size_t out = 0, i = 0, j = 0;
    int64_t level = 0;
    while (i < b->reqs.n || j < (size_t)n_ends) {
        uint64_t ts = j == (size_t)n_ends || (i < b->reqs.n && q[i].t0 < ends[j]) ? q[i].t0 : ends[j];
        int64_t net = 0;
        for (; i < b->reqs.n && q[i].t0 == ts; i++)
            net++;
        for (; j < (size_t)n_ends && ends[j] == ts; j++)
            net--;
        if (net == 0)
            continue;
        level += net;
        s[out++] = (struct evt_m_step){ ts, (uint32_t)level };
    }
    free(ends);
    b->m->concurrency = s;
    b->m->n_concurrency = out;
    if (out == 0) {
        free(s);
        b->m->concurrency = NULL;
    }
    return 0;
}

/* ---- load -------------------------------------------------------------- */

static int finish_threads(struct builder *b)
{
    struct evt_model *m = b->m;
    size_t n = 0;
    for (size_t i = 0; i < b->n_threads; i++)
        n += b->threads[i]->index != EVT_THREAD_META;
    m->threads = n ? calloc(n, sizeof *m->threads) : NULL;
    if (n && !m->threads)
        return EVT_ENOMEM;
    for (size_t i = 0; i < b->n_threads; i++) {
        const struct tstate *t = b->threads[i];
        if (t->index == EVT_THREAD_META)
            continue;
        struct evt_m_thread *mt = &m->threads[m->n_threads++];
        mt->index = t->index;
        mt->tid = t->tid;
        mt->name = resolve(b, t->name);
    }
    if (m->n_threads > 1)
        qsort(m->threads, m->n_threads, sizeof *m->threads, cmp_thread);
    return 0;
}

/* Everything after the walk; returns 0 or EVT_ENOMEM. */
static int finish(struct builder *b)
{
    struct evt_model *m = b->m;
    if (m->t_min > m->t_max) /* no events at all */
        m->t_min = m->t_max = evt_reader_start_ns(b->r);
    if (replay_requests(b) < 0)
        return EVT_ENOMEM;
    close_open(b);
    finish_watchers(b);
    resolve_samples(b, &b->counters);
    resolve_samples(b, &b->marks);
    m->process_name = resolve(b, b->process_name);
    sort_vec(b, &b->iters, EVT__LAYOUT(struct evt_m_span, t0, cmp_span));
    sort_vec(b, &b->polls, EVT__LAYOUT(struct evt_m_span, t0, cmp_span));
    sort_vec(b, &b->cbs, EVT__LAYOUT(struct evt_m_callback, t0, cmp_callback));
    sort_vec(b, &b->reqs, EVT__LAYOUT(struct evt_m_request, t0, cmp_request));
    sort_vec(b, &b->counters, EVT__LAYOUT(struct evt_m_sample, ts, cmp_sample));
    sort_vec(b, &b->marks, EVT__LAYOUT(struct evt_m_sample, ts, cmp_sample));
    sort_vec(b, &b->lost, EVT__LAYOUT(struct evt_m_lost, t0, cmp_lost));
    if (layout_phases(b) < 0 || build_concurrency(b) < 0 || finish_threads(b) < 0 || b->oom)
        return EVT_ENOMEM;
    m->iterations = vec_take(&b->iters, &m->n_iterations);
    m->polls = vec_take(&b->polls, &m->n_polls);
    m->callbacks = vec_take(&b->cbs, &m->n_callbacks);
    m->requests = vec_take(&b->reqs, &m->n_requests);
    m->phases = vec_take(&b->phases, &m->n_phases);
    m->counters = vec_take(&b->counters, &m->n_counters);
    m->marks = vec_take(&b->marks, &m->n_marks);
    m->lost_ranges = vec_take(&b->lost, &m->n_lost_ranges);
    m->watchers = vec_take(&b->watchers, &m->n_watchers);
    return 0;
}

static void builder_free(struct builder *b)
{
    struct vec *v[] = { &b->iters, &b->polls, &b->cbs, &b->reqs, &b->phases,
                        &b->counters, &b->marks, &b->lost, &b->watchers, &b->reqev,
                        &b->wcur, &b->redefs };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        free(v[i]->data);
    for (size_t i = 0; i < b->n_threads; i++)
        free(b->threads[i]);
    free(b->threads);
    free(b->names);
    evt__scratch_free(&b->sort);
    evt__idmap_free(&b->live);
}

int evt_model_load(struct evt_model *m, evt_reader *r, evt_progress_fn progress, void *ctx)
{
    memset(m, 0, sizeof *m);
    struct builder b = { .m = m, .r = r, .progress = progress, .progress_ctx = ctx };
    if (!(b.priv = calloc(1, sizeof *b.priv)))
        return EVT_ENOMEM;
    m->priv_ = b.priv;
    m->pid = evt_reader_pid(r);
    m->t_min = UINT64_MAX;
    m->file_bytes = evt_reader_size(r);
    int rc = evt_reader_each_batch(r, on_count, &b);
    if (rc == 0 || rc == EVT_ETRUNC || rc == EVT_EFORMAT) {
        b.second_pass = 1;
        b.next_progress = 0;
        rc = reserve(&b) < 0 ? EVT_ENOMEM : evt_reader_each_batch(r, on_events, &b);
    }
    if (rc == EVT_ETRUNC || rc == EVT_EFORMAT) {
        m->damaged = 1;
        snprintf(m->error, sizeof m->error, "%s", evt_reader_error(r));
    }
    m->events = evt_reader_events(r);
    if ((rc == 0 || m->damaged) && finish(&b) < 0)
        rc = EVT_ENOMEM;
    builder_free(&b);
    if (rc == EVT_ENOMEM || (rc != 0 && !m->damaged)) {
        evt_model_free(m);
        return rc;
    }
    if (progress)
        progress(ctx, m->file_bytes, m->file_bytes);
    return rc;
}

int evt_model_load_file(struct evt_model *m, const char *path, evt_progress_fn progress, void *ctx)
{
    evt_reader *r;
    memset(m, 0, sizeof *m);
    int rc = evt_reader_open(&r, path);
    if (rc < 0)
        return rc;
    rc = evt_model_load(m, r, progress, ctx);
    evt_reader_close(r);
    return rc;
}

void evt_model_free(struct evt_model *m)
{
    struct model_priv *p = m->priv_;
    if (p) {
        while (p->blocks) {
            struct arena_block *next = p->blocks->next;
            free(p->blocks);
            p->blocks = next;
        }
        free(p);
    }
    free(m->threads);
    free(m->iterations);
    free(m->polls);
    free(m->watchers);
    free(m->callbacks);
    free(m->requests);
    free(m->phases);
    free(m->counters);
    free(m->marks);
    free(m->lost_ranges);
    free(m->concurrency);
    memset(m, 0, sizeof *m);
}

size_t evt_model_stalls(const struct evt_model *m, uint64_t threshold_ns, const struct evt_m_callback ***out)
{
    size_t n = 0;
    *out = NULL;
    for (size_t i = 0; i < m->n_callbacks; i++)
        n += m->callbacks[i].t1 - m->callbacks[i].t0 >= threshold_ns;
    if (n == 0 || !(*out = malloc(n * sizeof **out)))
        return 0;
    size_t k = 0;
    for (size_t i = 0; i < m->n_callbacks; i++)
        if (m->callbacks[i].t1 - m->callbacks[i].t0 >= threshold_ns)
            (*out)[k++] = &m->callbacks[i];
    return n;
}

const char *evt_kind_name(int kind)
{
    static const char *const names[EVT_KIND_COUNT] = {
        "unknown", "io", "timer", "periodic", "signal", "child", "stat",
        "idle", "prepare", "check", "embed", "fork", "cleanup", "async",
    };
    return kind >= 0 && kind < EVT_KIND_COUNT ? names[kind] : "unknown";
}
