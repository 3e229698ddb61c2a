/* evt_model.c -- pair a trace's records into spans, once, at load.
 *
 * One walk of the reader feeds a builder:
 *   - per thread, an array per kind (iterations, polls, callbacks, request
 *     records) and three small stacks of open begins (iterations, polls,
 *     callbacks) keyed by loop or watcher id. An END closes the newest open
 *     begin with its key; begins above it on the stack are closed at the
 *     same instant as incomplete (they cannot outlive their parent). An END
 *     that matches nothing is an orphan. Stacks are capped (EVT_M_MAX_DEPTH):
 *     a runaway of begins without ends (lost events) drops the oldest.
 *   - request records, kept aside per thread and replayed in time order
 *     after the walk (a request can move between threads, whose chunks are
 *     in flush order): a k-way merge of the threads' records feeds a hash
 *     map request id -> request; each thread's stream remembers its last
 *     request, so the usual phases and end on the same thread skip the
 *     hash. Phases go to a temporary array tagged with their request;
 *     after the walk they are laid out contiguously per request (a
 *     counting sort) so the model's phases[] has each request's phases
 *     together, in time order.
 *   - names are resolved after the walk: the writer may flush a thread's
 *     chunk before the meta chunk holding the strings it uses, so during
 *     the walk a name field holds the string id (see id_as_name).
 * After the walk every still-open span gets t1 = t_max, complete = 0 (they
 * are the ones left on the stacks); t_max is the trace's end: its last
 * event, or the CLOCK record the writer adds at close if later (a server
 * killed while it waited in poll ends then, not at its last callback);
 * the per-thread arrays, each in time order already (a thread's records
 * are; a file where they are not is noticed during the walk and that
 * thread's array sorted), are merged by (t0, thread) inside the biggest of
 * them, from the back -- one linear pass, no sort, no second buffer -- and
 * a one-thread trace's arrays are handed over as they are; the
 * requests-in-flight step series comes from one sweep over the requests
 * with a heap of the ends in flight.
 *
 * Speed (bench_load: 10M events, two threads; docs/READER.md): one walk
 * of the reader (a former counting pass, to size every array exactly,
 * cost a second walk), no per-event allocation or call through a
 * pointer, a hash probe only per request begin and end. On a VM the rest of the cost is memory: a page
 * fault traps to the hypervisor, and 100 MB first written 4 KiB at a time
 * took 350 ms here against 16 ms in 2 MiB pages. So big arrays are
 * 2 MiB-aligned huge pages (evt_mem.h), growth never copies more than
 * 64 KiB (see struct vec), and the merge reuses the memory it reads.
 * Limit: a trace of many threads with requests (over EVT_M_TIE_THREADS)
 * or with a thread's chunks out of time order replays request records
 * that share a timestamp in file order, otherwise by thread -- what the
 * former sort did, kept so that results do not change.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evt_idmap.h"
#include "evt_mem.h"
#include "evt_model.h"
#include "evt_runsort.h"
#include "evtrace.h"

#define EVT_M_MAX_DEPTH 256          /* open begins kept per thread and kind */
#define EVT_M_MAX_WATCHER (1u << 20) /* larger watcher ids map to slot 0 */
#define EVT_M_REDEF (1u << 31)       /* during the walk: a redefinition's index */
#define EVT_M_OPEN UINT64_MAX        /* t1 of a span not closed yet */
#define EVT_M_PROGRESS_BYTES (1u << 20)
#define EVT_M_TIE_THREADS 16         /* more threads with requests: ties in file order (as the
                                        former sort, evt_runsort.c EVT_RS_MAX_THREADS, did) */

/* ---- small containers -------------------------------------------------- */

/* A growing array. The big ones (big set: per-thread spans and request
 * records, samples, lost ranges) start small and then jump to
 * EVT_M_BIG_CAP of 2 MiB-aligned address space (evt__big_lazy), faulted
 * in 2 MiB at a time as it is written; beyond that realloc doubles them,
 * which glibc does for a block that size by remapping, not copying. The
 * unused capacity is address space only. Growing by plain doubling
 * instead copied every array about once more and faulted it in 4 KiB at
 * a time: a third of a load's time on a VM. */
struct vec {
    void *data;
    size_t n, cap;
    int big;
    int unsorted;  /* per-thread arrays: 1 once an element came out of order */
};

#define EVT_M_BIG_FROM ((size_t)64 << 10)
#define EVT_M_BIG_CAP ((size_t)64 << 20)

/* Makes room for n elements in total; 0 or EVT_ENOMEM. */
static int vec_reserve(struct vec *v, size_t n, size_t esize)
{
    if (n <= v->cap)
        return 0;
    void *d = realloc(v->data, n * esize);
    if (!d)
        return EVT_ENOMEM;
    v->data = d;
    v->cap = n;
    return 0;
}

static int vec_grow(struct vec *v, size_t esize)
{
    size_t cap = v->cap ? v->cap * 2 : 256;
    if (!v->big || cap * esize <= EVT_M_BIG_FROM || cap * esize >= EVT_M_BIG_CAP)
        return vec_reserve(v, cap, esize);
    void *d = evt__big_lazy(EVT_M_BIG_CAP); /* the jump */
    if (!d)
        return EVT_ENOMEM;
    memcpy(d, v->data, v->n * esize);
    free(v->data);
    v->data = d;
    v->cap = EVT_M_BIG_CAP / esize;
    return 0;
}

static void vec_free(struct vec *v)
{
    int big = v->big;
    free(v->data);
    memset(v, 0, sizeof *v);
    v->big = big;
}

/* Appends an element of size esize, left uninitialised (the caller fills
 * every field); NULL when out of memory. */
static inline __attribute__((always_inline)) void *vec_add(struct vec *v, size_t esize)
{
    if (__builtin_expect(v->n == v->cap, 0) && vec_grow(v, esize) < 0)
        return NULL;
    return (char *)v->data + v->n++ * esize;
}

/* Appends a zeroed element; NULL when out of memory. */
static void *vec_push(struct vec *v, size_t esize)
{
    void *e = vec_add(v, esize);
    if (e)
        memset(e, 0, esize);
    return e;
}

/* Hands a malloc'd array over to the model (or frees an empty one). */
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

struct req_rec {              /* a REQ_* record, kept for the replay */
    uint64_t ts;
    uint64_t val;             /* request id */
    uint32_t x;               /* BEGIN, PHASE: the name's string id; END: status */
    uint32_t thread;
    uint32_t chunk;           /* the chunk's number in the file: file order, for ties */
    uint8_t type;
};

struct tstate {
    uint32_t index, tid, name; /* name: string id */
    struct vec iters, polls, cbs; /* this thread's spans, in time order */
    struct vec reqs;          /* this thread's REQ_* records (struct req_rec) */
    struct ostack it_open, poll_open, cb_open;
};

struct builder {
    struct evt_model *m;
    evt_reader *r;
    struct model_priv *priv;
    struct tstate **threads;  /* by order of appearance */
    size_t n_threads, cap_threads;
    struct tstate *cur;       /* cache: records come in per-thread chunks */
    struct vec iters, polls, cbs, reqs, phases, counters, marks, lost, watchers;
    struct vec wcur;          /* by watcher id: its current definition (0 = none yet) */
    struct vec redefs;        /* watcher redefinitions, appended after the slots */
    uint32_t cb_slots;        /* 1 + the highest watcher slot a callback names */
    int cb_redef;             /* 1 if a callback names a redefinition */
    int dropped;              /* 1 if a full stack dropped an open begin */
    size_t n_begins, n_phases; /* REQ_BEGIN, REQ_PHASE records: sizes reqs, phases */
    uint32_t chunk;           /* chunks walked so far */
    uint64_t req_last;        /* the last REQ_* record's time ... */
    int req_unsorted;         /* ... and 1 once one came before the previous in time */
    struct evt__idmap live;   /* request id -> index in reqs */
    uint32_t process_name;
    const char **names;       /* resolved string ids, by id */
    size_t names_cap;
    evt_progress_fn progress;
    void *progress_ctx;
    size_t next_progress;
    struct evt__scratch sort;  /* reused by every sort */
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
    t->iters.big = t->polls.big = t->cbs.big = t->reqs.big = 1;
    b->threads[b->n_threads++] = t;
    return b->cur = t;
}

/* ---- spans: iterations, polls, callbacks ------------------------------- */

static inline void ostack_push(struct builder *b, struct ostack *s, size_t index, uint32_t key)
{
    if (__builtin_expect(s->n == EVT_M_MAX_DEPTH, 0)) { /* drop the oldest: it stays open */
        memmove(s->e, s->e + 1, (EVT_M_MAX_DEPTH - 1) * sizeof s->e[0]);
        s->n--;
        b->dropped = 1;
    }
    s->e[s->n].index = index;
    s->e[s->n].key = key;
    s->n++;
}

/* An end earlier than its begin (a file whose chunks of one thread go back
 * in time: damage that kept its CRCs, or a foreign writer) ends the span
 * where it began, so no duration is negative. */
static inline void set_end(struct vec *v, int is_cb, size_t i, uint64_t ts, int complete)
{
    if (is_cb) {
        struct evt_m_callback *c = (struct evt_m_callback *)v->data + i;
        c->t1 = ts < c->t0 ? c->t0 : ts;
        c->complete = complete;
    } else {
        struct evt_m_span *s = (struct evt_m_span *)v->data + i;
        s->t1 = ts < s->t0 ? s->t0 : ts;
        s->complete = complete;
    }
}

/* Closes the newest open begin with key (and, incomplete, those above it). */
static inline void end_span(struct builder *b, struct ostack *s, struct vec *v, int is_cb, uint32_t key, uint64_t ts)
{
    size_t k = s->n;
    if (__builtin_expect(k > 0 && s->e[k - 1].key == key, 1)) { /* the usual case */
        set_end(v, is_cb, s->e[k - 1].index, ts, 1);
        s->n = k - 1;
        return;
    }
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

static inline int begin_span(struct builder *b, struct ostack *s, struct vec *v, const struct evt_event *ev)
{
    struct evt_m_span *sp = vec_add(v, sizeof *sp);
    if (!sp)
        return EVT_ENOMEM;
    if (v->n > 1 && ev->ts < sp[-1].t0) /* a thread's chunks out of time order */
        v->unsorted = 1;
    *sp = (struct evt_m_span){ .t0 = ev->ts, .t1 = EVT_M_OPEN, .thread = ev->thread, .loop = ev->id };
    ostack_push(b, s, v->n - 1, ev->id);
    return 0;
}

static uint32_t watcher_slot(uint32_t id) { return id < EVT_M_MAX_WATCHER ? id : 0; }

static inline int begin_callback(struct builder *b, struct tstate *t, const struct evt_event *ev)
{
    struct evt_m_callback *c = vec_add(&t->cbs, sizeof *c);
    if (!c)
        return EVT_ENOMEM;
    uint32_t id = watcher_slot(ev->id);
    uint32_t w = id < b->wcur.n && ((uint32_t *)b->wcur.data)[id] ? ((uint32_t *)b->wcur.data)[id] : id;
    if (w & EVT_M_REDEF)
        b->cb_redef = 1;
    else if (w >= b->cb_slots)
        b->cb_slots = w + 1;
    uint32_t depth = (uint32_t)t->cb_open.n;
    if (t->cbs.n > 1 && (ev->ts < c[-1].t0 || (ev->ts == c[-1].t0 && depth < c[-1].depth)))
        t->cbs.unsorted = 1; /* not in cmp_callback order */
    *c = (struct evt_m_callback){ .t0 = ev->ts, .t1 = EVT_M_OPEN, .thread = ev->thread, .watcher = w,
                                  .revents = ev->arg, .depth = depth };
    ostack_push(b, &t->cb_open, t->cbs.n - 1, ev->id);
    return 0;
}

/* t is the event's thread. */
static inline int on_span(struct builder *b, struct tstate *t, const struct evt_event *ev)
{
    switch (ev->type) {
    case EVT_REC_LOOP_BEGIN: return begin_span(b, &t->it_open, &t->iters, ev);
    case EVT_REC_LOOP_END: end_span(b, &t->it_open, &t->iters, 0, ev->id, ev->ts); return 0;
    case EVT_REC_POLL_BEGIN: return begin_span(b, &t->poll_open, &t->polls, ev);
    case EVT_REC_POLL_END: end_span(b, &t->poll_open, &t->polls, 0, ev->id, ev->ts); return 0;
    case EVT_REC_CB_BEGIN: return begin_callback(b, t, ev);
    default: end_span(b, &t->cb_open, &t->cbs, 1, ev->id, ev->ts); return 0;
    }
}

/* ---- requests ---------------------------------------------------------- */

/* Each thread's stream of request records remembers its last request:
 * its phases and end usually follow on the same thread, and then need no
 * hash lookup. A hint is dropped wherever its request ends or its id is
 * reused, so a valid hint always names the live request. */
struct req_hint {
    uint64_t id, idx;
    int valid;
};

static void hints_forget(struct req_hint *h, size_t k, uint64_t id)
{
    for (size_t j = 0; j < k; j++)
        if (h[j].id == id)
            h[j].valid = 0;
}

static int req_begin(struct builder *b, const struct req_rec *ev, struct req_hint *h, size_t k, size_t j)
{
    int found;
    uint64_t *open = evt__idmap_upsert(&b->live, ev->val, &found);
    if (!open)
        return EVT_ENOMEM;
    if (found) { /* the id is reused while live: its end was lost */
        struct evt_m_request *old = (struct evt_m_request *)b->reqs.data + *open;
        old->t1 = ev->ts;
    }
    struct evt_m_request *q = vec_push(&b->reqs, sizeof *q);
    if (!q)
        return EVT_ENOMEM;
    q->id = ev->val;
    q->t0 = ev->ts;
    q->t1 = EVT_M_OPEN;
    q->name = id_as_name(ev->x);
    q->thread = ev->thread;
    *open = b->reqs.n - 1;
    hints_forget(h, k, ev->val);
    h[j] = (struct req_hint){ ev->val, *open, 1 };
    return 0;
}

static int req_phase_or_end(struct builder *b, const struct req_rec *ev, struct req_hint *h, size_t k, size_t j)
{
    if (!h[j].valid || h[j].id != ev->val) {
        uint64_t *open = evt__idmap_get(&b->live, ev->val);
        if (!open) {
            b->m->orphans++;
            return 0;
        }
        h[j] = (struct req_hint){ ev->val, *open, 1 };
    }
    uint64_t idx = h[j].idx;
    struct evt_m_request *q = (struct evt_m_request *)b->reqs.data + idx;
    if (ev->type == EVT_REC_REQ_END) {
        q->t1 = ev->ts;
        q->status = ev->x;
        q->complete = 1;
        evt__idmap_del(&b->live, ev->val);
        hints_forget(h, k, ev->val);
        return 0;
    }
    struct tmp_phase *p = vec_add(&b->phases, sizeof *p);
    if (!p)
        return EVT_ENOMEM;
    *p = (struct tmp_phase){ .t0 = ev->ts, .name = ev->x, .req = (uint32_t)idx };
    q->phase_count++;
    return 0;
}

/* A request may begin on one thread and move on on another (a worker
 * thread's phase); chunks of different threads are in flush order, not
 * time order, so the phase can come first in the file. Request records are
 * therefore kept during the walk and replayed in time order after it. */
static inline int on_request(struct builder *b, struct tstate *t, const struct evt_event *ev)
{
    b->n_begins += ev->type == EVT_REC_REQ_BEGIN;
    b->n_phases += ev->type == EVT_REC_REQ_PHASE;
    b->req_unsorted |= ev->ts < b->req_last;
    b->req_last = ev->ts;
    struct req_rec *e = vec_add(&t->reqs, sizeof *e);
    if (!e)
        return EVT_ENOMEM;
    if (t->reqs.n > 1 && ev->ts < e[-1].ts)
        t->reqs.unsorted = 1;
    *e = (struct req_rec){ .ts = ev->ts, .val = ev->val, .thread = ev->thread, .type = ev->type, .chunk = b->chunk,
                           .x = ev->type == EVT_REC_REQ_END ? ev->arg : ev->id };
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

static void report_progress(struct builder *b)
{
    size_t done = evt_reader_offset(b->r), total = evt_reader_size(b->r);
    if (done >= b->next_progress) {
        b->progress(b->progress_ctx, done, total);
        b->next_progress = done + EVT_M_PROGRESS_BYTES;
    }
}

static inline int on_event(struct builder *b, struct tstate *t, const struct evt_event *ev)
{
    switch (ev->type) {
    case EVT_REC_LOOP_BEGIN: case EVT_REC_LOOP_END: case EVT_REC_POLL_BEGIN:
    case EVT_REC_POLL_END: case EVT_REC_CB_BEGIN: case EVT_REC_CB_END:
        return on_span(b, t, ev);
    case EVT_REC_REQ_BEGIN: case EVT_REC_REQ_PHASE: case EVT_REC_REQ_END:
        return on_request(b, t, ev);
    case EVT_REC_MARK: return on_sample(&b->marks, ev);
    case EVT_REC_COUNTER: return on_sample(&b->counters, ev);
    case EVT_REC_LOST: return on_lost(b, ev);
    default: /* WSTART, WSTOP: not part of the model; newer types */
        return 0;
    }
}

/* One chunk's records. They are one thread's (a THREAD definition names
 * another, which is why the thread is checked per record, cheaply). */
static int on_events(void *ctx, const struct evt_event *evs, size_t n)
{
    struct builder *b = ctx;
    struct evt_model *m = b->m;
    if (b->progress)
        report_progress(b);
    b->chunk++;
    uint64_t t_min = m->t_min, t_max = m->t_max;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const struct evt_event *ev = &evs[i];
        if (!evt_reader_is_event(ev->type)) {
            if (ev->type == EVT_REC_CLOCK)   /* the last, written at close, is when the trace ended */
                t_max = ev->ts > t_max ? ev->ts : t_max;
            rc = on_definition(b, ev);
            continue;
        }
        t_min = ev->ts < t_min ? ev->ts : t_min;
        t_max = ev->ts > t_max ? ev->ts : t_max;
        struct tstate *t = b->cur;
        if (__builtin_expect(!t || t->index != ev->thread, 0) && !(t = thread_state(b, ev->thread)))
            rc = EVT_ENOMEM;
        else
            rc = on_event(b, t, ev);
    }
    m->t_min = t_min;
    m->t_max = t_max;
    return rc;
}

/* ---- after the walk ---------------------------------------------------- */

/* A string id's text, copied into the model; "" when unknown. */
static const char *resolve(struct builder *b, uint32_t id)
{
    if (id == 0 || !evt_reader_string(b->r, id))
        return "";   /* unknown: no table entry for it (ids are bounded by the reader) */
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
 * name ids beyond the defined ones (b->cb_slots, noted during the walk),
 * so the array is grown to cover them. */
static void finish_watchers(struct builder *b)
{
    struct evt_m_callback *cb = b->cbs.data;
    while (b->watchers.n < b->cb_slots)
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
    for (size_t i = 0; b->cb_redef && i < b->cbs.n; i++)
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

/* Spans still open end at t_max, incomplete. They are the ones left on the
 * stacks, unless a full stack dropped some: then the whole array is
 * searched. */
static void close_spans(struct builder *b, const struct ostack *s, struct vec *v, int is_cb)
{
    uint64_t t = b->m->t_max;
    if (!b->dropped) {
        for (size_t i = 0; i < s->n; i++)
            set_end(v, is_cb, s->e[i].index, t, 0);
        return;
    }
    size_t es = is_cb ? sizeof(struct evt_m_callback) : sizeof(struct evt_m_span);
    for (size_t i = 0; i < v->n; i++) {
        uint64_t *t1 = (uint64_t *)((char *)v->data + i * es + offsetof(struct evt_m_span, t1));
        if (*t1 == EVT_M_OPEN)
            *t1 = t;
    }
}

_Static_assert(offsetof(struct evt_m_span, t1) == offsetof(struct evt_m_callback, t1), "close_spans");

static void close_open(struct builder *b)
{
    for (size_t i = 0; i < b->n_threads; i++) {
        struct tstate *th = b->threads[i];
        close_spans(b, &th->it_open, &th->iters, 0);
        close_spans(b, &th->poll_open, &th->polls, 0);
        close_spans(b, &th->cb_open, &th->cbs, 1);
    }
    uint64_t t = b->m->t_max;
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

/* Puts one thread's array in l.cmp order. It is already, unless the file
 * has a thread's chunks out of time order (noted while it was built); then
 * a stable sort. */
static void sort_thread_vec(struct vec *v, struct evt__layout l)
{
    if (v->unsorted)
        qsort(v->data, v->n, l.esize, l.cmp);
    v->unsorted = 0;
}

/* The tstate member holding one kind of per-thread array. */
static struct vec *thread_vec(struct tstate *t, size_t member) { return (struct vec *)((char *)t + member); }

/* evt__merge_back with the layout a constant, for each kind. */
static void merge_by_kind(void *out, struct evt__seq *seq, size_t k, size_t member)
{
    if (member == offsetof(struct tstate, cbs))
        evt__merge_back(out, seq, k, EVT__LAYOUT(struct evt_m_callback, t0, cmp_callback));
    else
        evt__merge_back(out, seq, k, EVT__LAYOUT(struct evt_m_span, t0, cmp_span));
}

/* Merges the threads' arrays of one kind (the tstate member at `member`)
 * into out, in l.cmp order, inside the biggest of them (grown to hold
 * all): a single thread's array is handed over as it is, and otherwise
 * only the others' elements need fresh memory. */
static int merge_threads(struct builder *b, size_t member, struct vec *out, struct evt__layout l)
{
    struct evt__seq *seq = malloc((b->n_threads + 1) * sizeof *seq);
    if (!seq)
        return EVT_ENOMEM;
    size_t k = 0, total = 0;
    struct vec *dst = NULL;
    for (size_t i = 0; i < b->n_threads; i++) {
        struct vec *v = thread_vec(b->threads[i], member);
        sort_thread_vec(v, l);
        total += v->n;
        if (v->n && (!dst || v->n > dst->n))
            dst = v;
    }
    int rc = dst ? vec_reserve(dst, total, l.esize) : 0;
    for (size_t i = 0; rc == 0 && dst && i < b->n_threads; i++) { /* dst first: it is at out */
        struct vec *v = thread_vec(b->threads[i], member);
        if (v->n && v != dst)
            seq[++k] = (struct evt__seq){ v->data, v->n };
    }
    if (rc == 0 && dst) {
        seq[0] = (struct evt__seq){ dst->data, dst->n };
        merge_by_kind(dst->data, seq, k + 1, member);
        *out = *dst;
        out->n = total;
        out->big = 0;
        *dst = (struct vec){ .big = 1 };
        for (size_t i = 0; i < b->n_threads; i++) /* done with: lower the peak */
            vec_free(thread_vec(b->threads[i], member));
    }
    free(seq);
    return rc;
}

static int cmp_req_rec(const void *x, const void *y)
{
    const struct req_rec *a = x, *b = y;
    return CMP(a->ts, b->ts);
}

/* The next request record in time order, or NULL; *from gets its stream.
 * Ties go by thread, or with by_file set by file order (the chunk; records
 * of one chunk are one thread's, whose order each stream keeps). */
static const struct req_rec *next_req(struct evt__seq *seq, size_t k, size_t *from, int by_file)
{
    size_t best = SIZE_MAX;
    const struct req_rec *r = NULL;
    for (size_t j = 0; j < k; j++) {
        if (seq[j].n == 0)
            continue;
        const struct req_rec *e = (const struct req_rec *)seq[j].p;
        if (!r || e->ts < r->ts || (e->ts == r->ts && (by_file ? e->chunk < r->chunk : e->thread < r->thread)))
            r = e, best = j;
    }
    if (r) {
        seq[best].p += sizeof *r;
        seq[best].n--;
        *from = best;
    }
    return r;
}

/* Replays the threads' request records, merged in time order. */
static int replay_requests(struct builder *b)
{
    /* Sized from the walk's counts, prefaulted: no growth, no fault storm. */
    if (!(b->reqs.data = evt__big_alloc(b->n_begins * sizeof(struct evt_m_request))) ||
        !(b->phases.data = evt__big_alloc(b->n_phases * sizeof(struct tmp_phase))))
        return EVT_ENOMEM;
    b->reqs.cap = b->n_begins;
    b->phases.cap = b->n_phases;
    size_t k = b->n_threads, j = 0;
    struct evt__seq *seq = malloc((k + 1) * sizeof *seq);
    struct req_hint *h = calloc(k + 1, sizeof *h);
    if (!seq || !h) {
        free(seq);
        free(h);
        return EVT_ENOMEM;
    }
    /* Ties: file order when the records are in time order in the file or
     * when a thread's are not (then everything is sorted by time, stably),
     * else by thread (the merge of threads' sequences). */
    int by_file = !b->req_unsorted, streams = 0;
    for (size_t i = 0; i < k; i++) {
        struct vec *v = &b->threads[i]->reqs;
        by_file |= v->unsorted;
        streams += v->n > 0;
        sort_thread_vec(v, EVT__LAYOUT(struct req_rec, ts, cmp_req_rec));
        seq[i] = (struct evt__seq){ v->data, v->n };
    }
    by_file |= streams > EVT_M_TIE_THREADS;
    const struct req_rec *e;
    int rc = 0;
    while (rc == 0 && (e = next_req(seq, k, &j, by_file)))
        rc = e->type == EVT_REC_REQ_BEGIN ? req_begin(b, e, h, k, j) : req_phase_or_end(b, e, h, k, j);
    free(seq);
    free(h);
    for (size_t i = 0; i < b->n_threads; i++) /* done with: lower the peak */
        vec_free(&b->threads[i]->reqs);
    return rc;
}

/* ---- phases and concurrency ------------------------------------------- */

/* Lays the phases out per request, in the requests' sorted order. On entry
 * each request's phase_first holds its load index. */
static int layout_phases(struct builder *b)
{
    struct evt_m_request *q = b->reqs.data;
    size_t n = b->reqs.n, np = b->phases.n;
    uint32_t *start = evt__big_alloc((n + 1) * sizeof *start); /* by load index */
    struct evt_m_phase *out = np ? evt__big_alloc(np * sizeof *out) : NULL;
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

/* A min-heap of the ends of the requests in flight. */
struct end_heap {
    uint64_t *v;
    size_t n, cap;
};

static int heap_push(struct end_heap *h, uint64_t t)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        uint64_t *v = realloc(h->v, cap * sizeof *v);
        if (!v)
            return EVT_ENOMEM;
        h->v = v;
        h->cap = cap;
    }
    size_t i = h->n++;
    for (; i > 0 && h->v[(i - 1) / 2] > t; i = (i - 1) / 2)
        h->v[i] = h->v[(i - 1) / 2];
    h->v[i] = t;
    return 0;
}

static void heap_pop(struct end_heap *h)
{
    uint64_t t = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && h->v[c + 1] < h->v[c])
            c++;
        if (h->v[c] >= t)
            break;
        h->v[i] = h->v[c];
        i = c;
    }
    h->v[i] = t;
}

/* The requests-in-flight series: +1 at each t0 (requests are sorted by
 * it), -1 at each complete t1 (an incomplete request is still open at the
 * end). One sweep over the begins, with the ends of the requests in
 * flight in a min-heap: no sort of the ends, and the heap holds only as
 * many as are in flight at once. Changes at the same instant are netted,
 * so back-to-back requests do not count as overlapping and an instant
 * with no net change makes no step. */
static int build_concurrency(struct builder *b)
{
    const struct evt_m_request *q = b->reqs.data;
    size_t n = b->reqs.n, out = 0, i = 0;
    struct evt_m_step *s = evt__big_alloc((2 * n + 1) * sizeof *s);
    struct end_heap h = { 0 };
    int64_t level = 0;
    int rc = s ? 0 : EVT_ENOMEM;
    while (rc == 0 && (i < n || h.n)) {
        uint64_t ts = h.n == 0 || (i < n && q[i].t0 < h.v[0]) ? q[i].t0 : h.v[0];
        int64_t net = 0;
        for (; rc == 0 && i < n && q[i].t0 == ts; i++, net++)
            if (q[i].complete) /* t1 >= t0: requests are replayed in time order */
                rc = heap_push(&h, q[i].t1 > ts ? q[i].t1 : ts);
        for (; h.n && h.v[0] == ts; net--)
            heap_pop(&h);
        if (net != 0) {
            level += net;
            s[out++] = (struct evt_m_step){ ts, (uint32_t)level };
        }
    }
    free(h.v);
    if (rc < 0 || out == 0) {
        free(s);
        s = NULL;
    }
    b->m->concurrency = s;
    b->m->n_concurrency = rc < 0 ? 0 : out;
    return rc;
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
    if (m->t_min > m->t_max) { /* no events: from the file's start to its closing CLOCK, if any */
        m->t_min = evt_reader_start_ns(b->r);
        m->t_max = m->t_max > m->t_min ? m->t_max : m->t_min;
    }
    if (replay_requests(b) < 0)
        return EVT_ENOMEM;
    close_open(b);
    if (merge_threads(b, offsetof(struct tstate, iters), &b->iters, EVT__LAYOUT(struct evt_m_span, t0, cmp_span)) < 0 ||
        merge_threads(b, offsetof(struct tstate, polls), &b->polls, EVT__LAYOUT(struct evt_m_span, t0, cmp_span)) < 0 ||
        merge_threads(b, offsetof(struct tstate, cbs), &b->cbs,
                      EVT__LAYOUT(struct evt_m_callback, t0, cmp_callback)) < 0)
        return EVT_ENOMEM;
    finish_watchers(b);
    resolve_samples(b, &b->counters);
    resolve_samples(b, &b->marks);
    m->process_name = resolve(b, b->process_name);
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
                        &b->counters, &b->marks, &b->lost, &b->watchers,
                        &b->wcur, &b->redefs };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        vec_free(v[i]);
    for (size_t i = 0; i < b->n_threads; i++) {
        struct tstate *t = b->threads[i];
        vec_free(&t->iters);
        vec_free(&t->polls);
        vec_free(&t->cbs);
        vec_free(&t->reqs);
        free(t);
    }
    free(b->threads);
    free(b->names);
    evt__scratch_free(&b->sort);
    evt__idmap_free(&b->live);
}

int evt_model_load(struct evt_model *m, evt_reader *r, evt_progress_fn progress, void *ctx)
{
    memset(m, 0, sizeof *m);
    struct builder b = { .m = m, .r = r, .progress = progress, .progress_ctx = ctx,
                         .counters.big = 1, .marks.big = 1, .lost.big = 1 };
    if (!(b.priv = calloc(1, sizeof *b.priv)))
        return EVT_ENOMEM;
    m->priv_ = b.priv;
    m->pid = evt_reader_pid(r);
    m->t_min = UINT64_MAX;
    m->file_bytes = evt_reader_size(r);
    int rc = evt_reader_each_batch(r, on_events, &b);
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
