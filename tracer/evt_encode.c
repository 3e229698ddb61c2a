/* evt_encode.c -- the chunk encoder (see evt_encode.h, evt_format.h). */
#include "evt_encode.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "evt_format.h"

/* A thread chunk is cut when its payload passes this, so that a reader never
 * needs more than a few MiB for one chunk, far below EVT_CHUNK_MAX_PAYLOAD. */
#define ENC_CHUNK_SPLIT (4u << 20)
/* Longest body of a fixed-field record: dt + five varints. */
#define ENC_BODY_MAX (6 * EVT_VARINT_MAX)

struct enc_buf {
    uint8_t *p;
    size_t len, cap;
};

/* u64 address -> u32 index, open addressing, linear probing, never shrinks. */
struct enc_map {
    uint64_t *keys;   /* 0 = empty (no object lives at address 0) */
    uint32_t *vals;
    size_t cap, n;
};

struct enc_watcher {
    int32_t fd;
    uint32_t name;
    uint32_t loop;
    uint8_t kind;
    uint8_t defined;  /* a WATCHER record with these values is in the file */
};

struct evt__enc {
    evt_sink_fn sink;
    void *sink_ctx;
    const struct evt__clock *clock;
    struct enc_buf meta, body;
    /* the chunk being built: in *cur, header at chunk_off */
    struct enc_buf *cur;
    size_t chunk_off;
    uint64_t chunk_first_ns, chunk_prev_ns;
    uint64_t meta_ns;
    struct evt__enc_thread *cur_thread;  /* owner of the open body chunk */
    struct enc_map wmap, lmap;
    struct enc_watcher *watchers;   /* index = id - 1 */
    size_t n_watchers, cap_watchers;
    uint32_t n_loops;
    int oom;
    int err;
    uint64_t records;
};

/* ---- buffers ------------------------------------------------------------ */

static uint8_t *buf_grow(evt__enc *e, struct enc_buf *b, size_t more)
{
    if (b->len + more > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + more)
            cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) {
            e->oom = 1;
            return NULL;
        }
        b->p = p;
        b->cap = cap;
    }
    return b->p + b->len;
}

static void buf_put(evt__enc *e, struct enc_buf *b, const void *data, size_t len)
{
    uint8_t *p = buf_grow(e, b, len);
    if (p) {
        memcpy(p, data, len);
        b->len += len;
    }
}

/* ---- address -> id maps ------------------------------------------------- */

static int map_resize(struct enc_map *m, size_t cap)
{
    uint64_t *keys = calloc(cap, sizeof *keys);
    uint32_t *vals = calloc(cap, sizeof *vals);
    if (!keys || !vals) {
        free(keys);
        free(vals);
        return -1;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i])
            continue;
        size_t j = (m->keys[i] * 0x9E3779B97F4A7C15ull >> 20) & (cap - 1);
        while (keys[j])
            j = (j + 1) & (cap - 1);
        keys[j] = m->keys[i];
        vals[j] = m->vals[i];
    }
    free(m->keys);
    free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
    return 0;
}

/* Returns the slot of key, inserting it with value 0 if absent; NULL on OOM. */
static uint32_t *map_slot(struct enc_map *m, uint64_t key, int *added)
{
    if ((m->n + 1) * 2 > m->cap && map_resize(m, m->cap ? m->cap * 2 : 256) < 0)
        return NULL;
    size_t j = (key * 0x9E3779B97F4A7C15ull >> 20) & (m->cap - 1);
    while (m->keys[j] && m->keys[j] != key)
        j = (j + 1) & (m->cap - 1);
    *added = !m->keys[j];
    if (*added) {
        m->keys[j] = key;
        m->vals[j] = 0;
        m->n++;
    }
    return &m->vals[j];
}

static void map_free(struct enc_map *m)
{
    free(m->keys);
    free(m->vals);
}

/* ---- records and chunks ------------------------------------------------- */

/* Opens a chunk in b for thread, first record at first_ns. */
static void chunk_open(evt__enc *e, struct enc_buf *b, uint32_t thread, uint64_t first_ns)
{
    e->cur = b;
    e->chunk_off = b->len;
    e->chunk_first_ns = first_ns;
    e->chunk_prev_ns = first_ns;
    uint8_t *h = buf_grow(e, b, EVT_CHUNK_HEADER_SIZE);
    if (!h)
        return;
    memset(h, 0, EVT_CHUNK_HEADER_SIZE);
    evt__put_u32(h + 0, EVT_CHUNK_MAGIC);
    evt__put_u32(h + 8, thread);
    b->len += EVT_CHUNK_HEADER_SIZE;
}

/* Seals the open chunk: size, CRC, first_ts. */
static void chunk_close(evt__enc *e)
{
    struct enc_buf *b = e->cur;
    if (!b)
        return;
    e->cur = NULL;
    e->cur_thread = NULL;
    if (e->oom)
        return;
    uint8_t *h = b->p + e->chunk_off;
    size_t payload = b->len - e->chunk_off - EVT_CHUNK_HEADER_SIZE;
    evt__put_u32(h + 4, (uint32_t)payload);
    evt__put_u32(h + 12, (uint32_t)crc32(0L, h + EVT_CHUNK_HEADER_SIZE, (uInt)payload));
    evt__put_u64(h + 16, e->chunk_first_ns);
}

static size_t chunk_payload(const evt__enc *e)
{
    return e->cur ? e->cur->len - e->chunk_off - EVT_CHUNK_HEADER_SIZE : 0;
}

/* Appends one record at time ns (>= the chunk's previous record): type,
 * len, then dt and the fields as varints, then tail bytes (strings). */
static void rec_put(evt__enc *e, uint8_t type, uint64_t ns, const uint64_t *f, int nf, const void *tail,
                    size_t tail_len)
{
    uint8_t body[ENC_BODY_MAX];
    size_t n = evt__put_varint(body, ns - e->chunk_prev_ns);
    for (int i = 0; i < nf; i++)
        n += evt__put_varint(body + n, f[i]);
    uint8_t head[1 + EVT_VARINT_MAX];
    head[0] = type;
    size_t hn = 1 + evt__put_varint(head + 1, n + tail_len);
    buf_put(e, e->cur, head, hn);
    buf_put(e, e->cur, body, n);
    if (tail_len)
        buf_put(e, e->cur, tail, tail_len);
    e->chunk_prev_ns = ns;
}

evt__enc *evt__enc_new(evt_sink_fn sink, void *sink_ctx, const struct evt__clock *clock)
{
    evt__enc *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->sink = sink;
    e->sink_ctx = sink_ctx;
    e->clock = clock;
    return e;
}

void evt__enc_free(evt__enc *e)
{
    if (!e)
        return;
    free(e->meta.p);
    free(e->body.p);
    map_free(&e->wmap);
    map_free(&e->lmap);
    free(e->watchers);
    free(e);
}

void evt__enc_file_header(evt__enc *e, uint32_t pid, uint32_t flags, uint64_t start_ns)
{
    uint8_t h[EVT_FILE_HEADER_SIZE] = {0};
    memcpy(h, EVT_FILE_MAGIC, EVT_FILE_MAGIC_LEN);
    evt__put_u16(h + 8, EVT_VERSION_MAJOR);
    evt__put_u16(h + 10, EVT_VERSION_MINOR);
    evt__put_u32(h + 12, EVT_FILE_HEADER_SIZE);
    evt__put_u32(h + 16, pid);
    evt__put_u32(h + 20, flags);
    evt__put_u64(h + 24, start_ns);
    buf_put(e, &e->meta, h, sizeof h);
}

/* ---- meta records ------------------------------------------------------- */

static void meta_open(evt__enc *e, uint64_t now_ns)
{
    if (e->cur != &e->meta) {
        chunk_close(e);
        e->meta_ns = now_ns;
        chunk_open(e, &e->meta, EVT_THREAD_META, now_ns);
    }
}

void evt__enc_string(evt__enc *e, uint64_t now_ns, uint32_t id, const char *s)
{
    meta_open(e, now_ns);
    uint64_t f[1] = {id};
    rec_put(e, EVT_REC_STRING, e->meta_ns, f, 1, s, strlen(s));
}

void evt__enc_process(evt__enc *e, uint64_t now_ns, uint32_t pid, uint32_t name)
{
    meta_open(e, now_ns);
    uint64_t f[2] = {pid, name};
    rec_put(e, EVT_REC_PROCESS, e->meta_ns, f, 2, NULL, 0);
}

void evt__enc_clock(evt__enc *e, uint64_t now_ns)
{
    const struct evt__clock *c = e->clock;
    meta_open(e, now_ns);
    uint64_t f[4] = {(uint64_t)c->source, c->ticks_per_s, c->tsc_base, c->ns_base};
    rec_put(e, EVT_REC_CLOCK, e->meta_ns, f, 4, NULL, 0);
}

/* ---- thread records ----------------------------------------------------- */

/* Converts ticks for th (never earlier than th's previous record) and makes
 * sure th's chunk is open, announcing the thread in its first chunk. */
static uint64_t thread_time(evt__enc *e, struct evt__enc_thread *th, uint64_t ticks)
{
    uint64_t ns = evt__clock_to_ns(e->clock, ticks);
    if (ns < th->last_ns)
        ns = th->last_ns;
    th->last_ns = ns;
    if (e->cur_thread == th && chunk_payload(e) > ENC_CHUNK_SPLIT)
        chunk_close(e);
    if (e->cur_thread != th) {
        chunk_close(e);
        chunk_open(e, &e->body, th->index, ns);
        e->cur_thread = th;
        if (!th->announced) {
            uint64_t f[3] = {th->index, th->tid, th->name};
            rec_put(e, EVT_REC_THREAD, ns, f, 3, NULL, 0);
            th->announced = 1;
        }
    }
    e->records++;
    return ns;
}

static uint32_t loop_id(evt__enc *e, uint64_t addr)
{
    int added;
    if (!addr)
        return 0;
    uint32_t *v = map_slot(&e->lmap, addr, &added);
    if (!v) {
        e->oom = 1;
        return 0;
    }
    if (added || *v == 0)   /* 0: the loop that had this address is gone */
        *v = ++e->n_loops;
    return *v;
}

/* The watcher at addr, created undefined on first sight; sets *id. */
static struct enc_watcher *watcher_get(evt__enc *e, uint64_t addr, uint32_t *id)
{
    int added;
    uint32_t *v = map_slot(&e->wmap, addr, &added);
    if (v && added) {
        if (e->n_watchers == e->cap_watchers) {
            size_t cap = e->cap_watchers ? e->cap_watchers * 2 : 256;
            struct enc_watcher *w = realloc(e->watchers, cap * sizeof *w);
            if (!w) {
                e->oom = 1;   /* the map keeps an id with no entry: stop here */
                return NULL;
            }
            e->watchers = w;
            e->cap_watchers = cap;
        }
        e->watchers[e->n_watchers] = (struct enc_watcher){.fd = -1};
        *v = (uint32_t)++e->n_watchers;
    }
    if (!v || *v == 0 || *v > e->n_watchers) {
        e->oom = 1;
        return NULL;
    }
    *id = *v;
    return &e->watchers[*v - 1];
}

static void watcher_define(evt__enc *e, uint64_t ns, uint32_t id, struct enc_watcher *w)
{
    uint64_t f[5] = {id, w->kind, evt__zigzag(w->fd), w->name, w->loop};
    rec_put(e, EVT_REC_WATCHER, ns, f, 5, NULL, 0);
    w->defined = 1;
}

/* A definition from evt_watch: WATCHER (obj = w, kind, arg = fd) + CONT
 * (obj = loop, arg = name). Written only if something changed. */
static void enc_watcher_def(evt__enc *e, uint64_t ns, const struct evt__raw *r, const struct evt__raw *c)
{
    uint32_t id;
    struct enc_watcher *w = watcher_get(e, r->obj, &id);
    if (!w)
        return;
    struct enc_watcher nw = {.kind = r->kind, .fd = (int32_t)r->arg, .name = c ? c->arg : 0,
                             .loop = c ? loop_id(e, c->obj) : 0};
    if (w->defined && w->kind == nw.kind && w->fd == nw.fd && w->name == nw.name && w->loop == nw.loop)
        return;
    *w = nw;
    watcher_define(e, ns, id, w);
}

/* A reference (CB_*, WSTART, WSTOP): the watcher's id, defining it first if
 * needed. A kind != 0 on the event that disagrees with the definition means
 * the address now holds another watcher (or an io watcher changed fd). */
static uint32_t enc_watcher_ref(evt__enc *e, uint64_t ns, const struct evt__raw *r)
{
    uint32_t id;
    struct enc_watcher *w = watcher_get(e, r->obj, &id);
    if (!w)
        return 0;
    if (r->kind && (r->kind != w->kind || (int32_t)r->arg != w->fd)) {
        if (r->kind != w->kind)
            w->name = 0;
        w->kind = r->kind;
        w->fd = (int32_t)r->arg;
        w->defined = 0;
    }
    if (!w->defined)
        watcher_define(e, ns, id, w);
    return id;
}

/* One raw event (c: its continuation, for two-slot events) -> records. */
static void enc_one(evt__enc *e, struct evt__enc_thread *th, const struct evt__raw *r, const struct evt__raw *c)
{
    uint64_t f[3];
    if (r->type == EVT__RAW_LOOP_GONE) {   /* bookkeeping only: no record */
        int added;
        uint32_t *v = map_slot(&e->lmap, r->obj, &added);
        if (v)
            *v = 0;
        return;
    }
    uint64_t ns = thread_time(e, th, r->ts);
    switch (r->type) {
    case EVT_REC_THREAD:
        th->name = r->arg;
        f[0] = th->index, f[1] = r->obj, f[2] = r->arg;
        rec_put(e, r->type, ns, f, 3, NULL, 0);
        break;
    case EVT_REC_LOOP_BEGIN: case EVT_REC_LOOP_END:
    case EVT_REC_POLL_BEGIN: case EVT_REC_POLL_END:
        f[0] = loop_id(e, r->obj);
        rec_put(e, r->type, ns, f, 1, NULL, 0);
        break;
    case EVT_REC_WATCHER:
        enc_watcher_def(e, ns, r, c);
        break;
    case EVT_REC_WSTART: case EVT_REC_WSTOP: case EVT_REC_CB_END:
        f[0] = enc_watcher_ref(e, ns, r);
        rec_put(e, r->type, ns, f, 1, NULL, 0);
        break;
    case EVT_REC_CB_BEGIN:
        f[0] = enc_watcher_ref(e, ns, &(struct evt__raw){.obj = r->obj});
        f[1] = r->arg;
        rec_put(e, r->type, ns, f, 2, NULL, 0);
        break;
    case EVT_REC_REQ_BEGIN: case EVT_REC_REQ_PHASE: case EVT_REC_REQ_END:
        f[0] = r->obj, f[1] = r->arg;
        rec_put(e, r->type, ns, f, 2, NULL, 0);
        break;
    case EVT_REC_MARK: case EVT_REC_COUNTER:
        f[0] = r->arg, f[1] = evt__zigzag((int64_t)r->obj);
        rec_put(e, r->type, ns, f, 2, NULL, 0);
        break;
    case EVT_REC_LOST: {
        uint64_t since = c ? evt__clock_to_ns(e->clock, c->obj) : ns;
        f[0] = r->obj, f[1] = since < ns ? ns - since : 0;
        rec_put(e, r->type, ns, f, 2, NULL, 0);
        break;
    }
    default:
        e->records--;   /* unknown raw type: nothing written */
        break;
    }
}

static int raw_is_pair(uint8_t type)
{
    return type == EVT_REC_WATCHER || type == EVT_REC_LOST;
}

void evt__enc_events(evt__enc *e, struct evt__enc_thread *th, const struct evt__raw *ev, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct evt__raw *r = &ev[i];
        if (th->has_pend) {          /* second half of a pair cut by the wrap */
            th->has_pend = 0;
            if (r->type == EVT__RAW_CONT) {
                enc_one(e, th, &th->pend, r);
                continue;
            }
            enc_one(e, th, &th->pend, NULL);
        }
        if (r->type == EVT__RAW_CONT)
            continue;                /* stray half: cannot happen, ignore */
        if (!raw_is_pair(r->type)) {
            enc_one(e, th, r, NULL);
        } else if (i + 1 == n) {
            th->pend = *r;
            th->has_pend = 1;
        } else if (ev[i + 1].type == EVT__RAW_CONT) {
            enc_one(e, th, r, &ev[i + 1]);
            i++;
        } else {
            enc_one(e, th, r, NULL);
        }
    }
}

void evt__enc_lost(evt__enc *e, struct evt__enc_thread *th, uint64_t count, uint64_t since_ticks,
                   uint64_t now_ticks)
{
    if (!count)
        return;
    struct evt__raw r = {.ts = now_ticks, .obj = count, .type = EVT_REC_LOST};
    struct evt__raw c = {.ts = now_ticks, .obj = since_ticks, .type = EVT__RAW_CONT};
    enc_one(e, th, &r, &c);
}

void evt__enc_thread_end(evt__enc *e, struct evt__enc_thread *th)
{
    if (th->has_pend) {
        th->has_pend = 0;
        enc_one(e, th, &th->pend, NULL);
    }
    if (e->cur_thread == th)
        chunk_close(e);
}

/* ---- output ------------------------------------------------------------- */

int evt__enc_commit(evt__enc *e)
{
    chunk_close(e);
    if (e->oom && !e->err)
        e->err = EVT_ENOMEM;
    const struct enc_buf *parts[2] = {&e->meta, &e->body};
    for (int i = 0; i < 2 && !e->err; i++) {
        if (parts[i]->len == 0)
            continue;
        int rc = e->sink(e->sink_ctx, parts[i]->p, parts[i]->len);
        if (rc < 0)
            e->err = rc;
    }
    e->meta.len = 0;
    e->body.len = 0;
    return e->err;
}

uint64_t evt__enc_records(const evt__enc *e) { return e->records; }

int evt__memsink_write(void *ctx, const void *data, size_t len)
{
    struct evt__memsink *m = ctx;
    if (m->len + len > m->cap) {
        size_t cap = m->cap ? m->cap : 65536;
        while (cap < m->len + len)
            cap *= 2;
        uint8_t *p = realloc(m->data, cap);
        if (!p)
            return EVT_ENOMEM;
        m->data = p;
        m->cap = cap;
    }
    memcpy(m->data + m->len, data, len);
    m->len += len;
    return 0;
}
