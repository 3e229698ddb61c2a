/* evt_encode.c -- the chunk encoder (see evt_encode.h, evt_format.h). */
#include "evt_encode.h"

#include <stdlib.h>
#include <string.h>

#include "evt_format.h"

/* A thread chunk is cut when its payload passes this, so that a reader never
 * needs more than a few MiB for one chunk, far below EVT_CHUNK_MAX_PAYLOAD. */
#define ENC_CHUNK_SPLIT (4u << 20)
/* Longest body of a fixed-field record: dt + five varints. */
#define ENC_BODY_MAX (6 * EVT_VARINT_MAX)
_Static_assert(ENC_BODY_MAX < 0x80, "a fixed-field body's len fits one varint byte");
#define ENC_MAP_MIN 256

struct enc_buf {
    uint8_t *p;
    size_t len, cap;
};

/* u64 address -> u32 index, open addressing, linear probing, never shrinks. */
struct enc_slot {
    uint64_t key;     /* 0 = empty (no object lives at address 0) */
    uint32_t val;
};

struct enc_map {
    struct enc_slot *slots;   /* key and value side by side: a hit is one cache line */
    size_t cap, n;            /* cap: a power of two, >= ENC_MAP_MIN once made */
};

struct enc_watcher {
    int32_t fd;
    uint32_t name;
    uint32_t loop;
    uint8_t kind;
    uint8_t defined;  /* a WATCHER record with these values is in the file */
};

/* A watcher address and its id, in the fast path's cache (watcher_find). */
struct enc_wid {
    uint64_t addr;
    uint32_t id;
};
/* A power of two. 4 KiB: with 64 entries the 25 watchers of a traced
 * plain_server collided often enough that most lookups missed. */
#define ENC_WIDS 256

struct evt__enc {
    evt_sink_fn sink;
    void *sink_ctx;
    const struct evt__clock *clock;
    struct enc_buf meta, body;
    /* the chunk being built: in *cur, header at chunk_off */
    struct enc_buf *cur;
    size_t chunk_off;
    size_t chunk_limit;             /* cut the chunk when cur->len passes this */
    uint64_t chunk_first_ns, chunk_prev_ns;
    uint64_t meta_ns;
    struct evt__enc_thread *cur_thread;  /* owner of the open body chunk */
    struct enc_map wmap, lmap;
    struct enc_wid wids[ENC_WIDS];  /* watcher ids by address, see watcher_find */
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

/* ---- address -> id maps -------------------------------------------------
 * Fibonacci hashing of the address. A flush looks up the same few watchers
 * and loops thousands of times, and at load <= 1/2 a lookup takes about 1.5
 * probes: map_hit is the lookup alone, inlined into the per-event path;
 * inserting and growing are map_slot's, on the general path. */

static inline size_t map_hash(uint64_t key, size_t cap)
{
    return (size_t)(key * 0x9E3779B97F4A7C15ull >> 20) & (cap - 1);
}

/* The value of key, or 0 if it is absent (or its value is 0). The maps are
 * made with the encoder, so there is no empty-map case, and they are never
 * full, so the probe ends. */
static inline uint32_t map_hit(const struct enc_map *m, uint64_t key)
{
    for (size_t j = map_hash(key, m->cap);; j = (j + 1) & (m->cap - 1)) {
        const struct enc_slot *sl = &m->slots[j];
        if (sl->key == key)
            return sl->val;
        if (!sl->key)
            return 0;
    }
}

static int map_resize(struct enc_map *m, size_t cap)
{
    struct enc_slot *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->slots[i].key)
            continue;
        size_t j = map_hash(m->slots[i].key, cap);
        while (slots[j].key)
            j = (j + 1) & (cap - 1);
        slots[j] = m->slots[i];
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return 0;
}

/* Returns the slot of key, inserting it with value 0 if absent; NULL on OOM. */
static uint32_t *map_slot(struct enc_map *m, uint64_t key, int *added)
{
    if ((m->n + 1) * 2 > m->cap && map_resize(m, m->cap * 2) < 0)
        return NULL;
    size_t j = map_hash(key, m->cap);
    while (m->slots[j].key && m->slots[j].key != key)
        j = (j + 1) & (m->cap - 1);
    *added = !m->slots[j].key;
    if (*added) {
        m->slots[j] = (struct enc_slot){.key = key};
        m->n++;
    }
    return &m->slots[j].val;
}

static void map_free(struct enc_map *m) { free(m->slots); }

/* Empties the cache of watcher ids (e->wids, see watcher_find). Each entry
 * gets an address that hashes to another entry, so no lookup can ever
 * match it: cheaper than testing every hit for an empty entry. */
static void wids_clear(evt__enc *e)
{
    for (size_t k = 0; k < ENC_WIDS; k++) {
        uint64_t addr = 0;
        while (map_hash(addr, ENC_WIDS) == k)
            addr++;
        e->wids[k] = (struct enc_wid){.addr = addr};
    }
}

/* ---- records and chunks ------------------------------------------------- */

/* Opens a chunk in b for thread, first record at first_ns. */
static void chunk_open(evt__enc *e, struct enc_buf *b, uint32_t thread, uint64_t first_ns)
{
    e->cur = b;
    e->chunk_off = b->len;
    e->chunk_limit = b->len + EVT_CHUNK_HEADER_SIZE + ENC_CHUNK_SPLIT;
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

/* Seals the open chunk: size and first_ts, then the CRC, which covers
 * them (evt_format.h): one pass over the chunk when it is complete. */
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
    uint32_t payload = (uint32_t)(b->len - e->chunk_off - EVT_CHUNK_HEADER_SIZE);
    evt__put_u32(h + 4, payload);
    evt__put_u64(h + 16, e->chunk_first_ns);
    evt__put_u32(h + 12, evt__chunk_crc(h, payload));
}

/* The rest of put_var, for v >= 0x4000 (three bytes or more: a request id
 * made of two numbers, a dt of more than 16 us), out of line: inlined into
 * every field of the fast path, its loop would take registers from the
 * per-event loop. The same LEB128 as evt__put_varint, but with the two
 * bytes it must have written without a test, and a pointer for a counter. */
static __attribute__((noinline)) uint8_t *put_var_long(uint8_t *p, uint64_t v)
{
    p[0] = (uint8_t)(v | 0x80);
    p[1] = (uint8_t)(v >> 7 | 0x80);
    p += 2;
    for (v >>= 14; v >= 0x80; v >>= 7)
        *p++ = (uint8_t)(v | 0x80);
    *p++ = (uint8_t)v;
    return p;
}

/* A varint; most fields are ids and small numbers below 128, so that case
 * is one compare and one store, laid out in line (EVT_LIKELY: measured
 * cheaper on a real server's stream too, whose dts are mostly two bytes). */
static inline uint8_t *put_var(uint8_t *p, uint64_t v)
{
    if (EVT_LIKELY(v < 0x80)) {
        *p = (uint8_t)v;
        return p + 1;
    }
    if (v < 0x4000) {     /* a dt of a few us */
        p[0] = (uint8_t)(v | 0x80);
        p[1] = (uint8_t)(v >> 7);
        return p + 2;
    }
    return put_var_long(p, v);
}

/* Appends one record at time ns (>= the chunk's previous record): type,
 * len, then dt and nf (<= 5) fields as varints, then tail bytes (the text
 * of a STRING). */
static void rec_put(evt__enc *e, uint8_t type, uint64_t ns, const uint64_t *f, int nf, const void *tail,
                    size_t tail_len)
{
    uint8_t body[ENC_BODY_MAX], *q = body;
    q = put_var(q, ns - e->chunk_prev_ns);
    for (int i = 0; i < nf; i++)
        q = put_var(q, f[i]);
    size_t n = (size_t)(q - body);
    uint8_t *p = buf_grow(e, e->cur, 1 + EVT_VARINT_MAX + n + tail_len);
    if (!p)
        return;
    p[0] = type;
    size_t hn = 1 + evt__put_varint(p + 1, n + tail_len);
    memcpy(p + hn, body, n);
    if (tail_len)
        memcpy(p + hn + n, tail, tail_len);
    e->cur->len += hn + n + tail_len;
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
    if (map_resize(&e->wmap, ENC_MAP_MIN) < 0 || map_resize(&e->lmap, ENC_MAP_MIN) < 0) {
        evt__enc_free(e);
        return NULL;
    }
    wids_clear(e);
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
    evt__put_u32(h + EVT_FILE_HEADER_CRC_OFF, evt__file_header_crc(h, EVT_FILE_HEADER_SIZE));
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

/* The general path's records of one or two fields. */
static void rec1(evt__enc *e, uint8_t type, uint64_t ns, uint64_t a)
{
    uint64_t f[1] = {a};
    rec_put(e, type, ns, f, 1, NULL, 0);
}

static void rec2(evt__enc *e, uint8_t type, uint64_t ns, uint64_t a, uint64_t b)
{
    uint64_t f[2] = {a, b};
    rec_put(e, type, ns, f, 2, NULL, 0);
}

/* ---- thread records -----------------------------------------------------
 * Two paths. The general one below (enc_one) handles any raw event, one
 * function call and one buffer check per record. The per-event fast path
 * further down (fast_one) handles the common records of known watchers and
 * loops in an open chunk, and hands everything else -- a thread's next
 * chunk, a new or changed watcher, a pair, a loss -- to the general one. */

/* Opens th's chunk (closing whatever was open, or th's own full chunk) and
 * announces the thread in its first chunk. */
static void thread_chunk(evt__enc *e, struct evt__enc_thread *th, uint64_t ns)
{
    chunk_close(e);
    chunk_open(e, &e->body, th->index, ns);
    e->cur_thread = th;
    if (!th->announced) {
        uint64_t f[3] = {th->index, th->tid, th->name};
        rec_put(e, EVT_REC_THREAD, ns, f, 3, NULL, 0);
        th->announced = 1;
    }
}

/* Converts ticks for th (never earlier than th's previous record) and makes
 * sure th's chunk is open and not past ENC_CHUNK_SPLIT. */
static inline uint64_t thread_time(evt__enc *e, struct evt__enc_thread *th, uint64_t ticks)
{
    uint64_t ns = evt__clock_to_ns(e->clock, ticks);
    if (EVT_UNLIKELY(ns < th->last_ns))
        ns = th->last_ns;
    th->last_ns = ns;
    if (EVT_UNLIKELY(e->cur_thread != th || e->cur->len > e->chunk_limit))
        thread_chunk(e, th, ns);
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

/* A reference (CB_*, WSTART, WSTOP) to the watcher at addr: its id,
 * defining it first if needed. A kind != 0 on the event that disagrees with
 * the definition means the address now holds another watcher (or an io
 * watcher changed fd). */
static uint32_t watcher_ref(evt__enc *e, uint64_t ns, uint64_t addr, uint8_t kind, int32_t fd)
{
    uint32_t id;
    struct enc_watcher *w = watcher_get(e, addr, &id);
    if (!w)
        return 0;
    if (kind && (kind != w->kind || fd != w->fd)) {
        if (kind != w->kind)
            w->name = 0;
        w->kind = kind;
        w->fd = fd;
        w->defined = 0;
    }
    if (!w->defined)
        watcher_define(e, ns, id, w);
    return id;
}

/* The rare raw events: thread renames, watcher definitions, losses. */
static void enc_rare(evt__enc *e, struct evt__enc_thread *th, uint64_t ns, const struct evt__raw *r,
                     const struct evt__raw *c)
{
    if (r->type == EVT_REC_THREAD) {
        th->name = r->arg;
        uint64_t f[3] = {th->index, r->obj, r->arg};
        rec_put(e, r->type, ns, f, 3, NULL, 0);
    } else if (r->type == EVT_REC_WATCHER) {
        enc_watcher_def(e, ns, r, c);
    } else if (r->type == EVT_REC_LOST) {
        uint64_t since = c ? evt__clock_to_ns(e->clock, c->obj) : ns;
        uint64_t f[2] = {r->obj, since < ns ? ns - since : 0};
        rec_put(e, r->type, ns, f, 2, NULL, 0);
    } else {
        e->records--;   /* unknown raw type: nothing written */
    }
}

/* A destroyed loop: its address must get a new id if it is used again. */
static void enc_loop_gone(evt__enc *e, uint64_t addr)
{
    int added;
    uint32_t *v = map_slot(&e->lmap, addr, &added);
    if (v)
        *v = 0;
}

/* One raw event (c: its continuation, for two-slot events) -> records: the
 * general path, for whatever the fast path below declines. */
static void enc_one(evt__enc *e, struct evt__enc_thread *th, const struct evt__raw *r,
                    const struct evt__raw *c)
{
    if (EVT_UNLIKELY(r->type == EVT__RAW_LOOP_GONE)) {   /* bookkeeping only: no record */
        enc_loop_gone(e, r->obj);
        return;
    }
    uint64_t ns = thread_time(e, th, r->ts);
    switch (r->type) {
    case EVT_REC_LOOP_BEGIN: case EVT_REC_LOOP_END:
    case EVT_REC_POLL_BEGIN: case EVT_REC_POLL_END:
        rec1(e, r->type, ns, loop_id(e, r->obj));
        break;
    case EVT_REC_WSTART: case EVT_REC_WSTOP: case EVT_REC_CB_END:
        rec1(e, r->type, ns, watcher_ref(e, ns, r->obj, r->kind, (int32_t)r->arg));
        break;
    case EVT_REC_CB_BEGIN:
        rec2(e, r->type, ns, watcher_ref(e, ns, r->obj, 0, 0), r->arg);
        break;
    case EVT_REC_REQ_BEGIN: case EVT_REC_REQ_PHASE: case EVT_REC_REQ_END:
        rec2(e, r->type, ns, r->obj, r->arg);
        break;
    case EVT_REC_MARK: case EVT_REC_COUNTER:
        rec2(e, r->type, ns, r->arg, evt__zigzag((int64_t)r->obj));
        break;
    default:
        enc_rare(e, th, ns, r, c);
        break;
    }
}

static int raw_is_pair(uint8_t type)
{
    return type == EVT_REC_WATCHER || type == EVT_REC_LOST;
}

/* ---- the per-event fast path ---------------------------------------------
 * Most raw events of a flush are the common records (iterations, polls,
 * callbacks, requests, marks) of watchers and loops already defined, into a
 * chunk already open with room left. For those, evt__enc_events keeps its
 * state in a local struct enc_fast instead of in *e: the output is written
 * through a uint8_t pointer, which may alias anything, so a compiler would
 * otherwise reload and store e's fields around every byte. The state goes
 * back to *e (fast_store) before anything else touches the encoder (the
 * general path, enc_one) and is reloaded after (fast_load).
 *
 * It works in batches, because every instruction per event counts here (the
 * encoder is over half of what tracing adds to a request): fast_load works
 * out how many events surely fit in the room left, so the per-event loop
 * tests neither the buffer nor the chunk's limit, and a batch's records are
 * counted once, at its end (each event the fast path takes is one record). */
#define ENC_FAST_MAX (2 + 3 * EVT_VARINT_MAX)   /* type, len, dt, two fields */
_Static_assert(ENC_FAST_MAX - 2 < 0x80, "a fast record's len fits one varint byte");

/* A defined watcher, as the fast path last found it. */
struct enc_wcache {
    uint64_t addr;       /* 0: none (evt_watch and libev never give a NULL watcher) */
    uint32_t id;
    int32_t fd;
    uint8_t kind;
};

struct enc_fast {
    uint8_t *p;          /* write position in the open chunk of th */
    /* th->last_ns, also the chunk's previous record (e->chunk_prev_ns):
     * fast_load sees to it that they are equal */
    uint64_t last_ns;
    uint64_t l_addr;     /* the loop last found, and its id: a thread runs */
    uint32_t l_id;       /* one loop, whose id would be rehashed every time */
    struct enc_wcache w_cb, w_other;   /* see watcher_hit */
    /* evt__clock_to_ns for ticks >= tsc_base, one formula for both sources
     * (monotonic: base 0, 1.0 ns per tick, so ns = ticks exactly); earlier
     * ticks go to the general path. The clock is refined between flushes
     * only, never during evt__enc_events. */
    uint64_t tsc_base, ns_base, ns_per_tick_q32;
};

/* Loads f; returns how many events (<= max) the fast path may take before
 * it must look again: none if th's chunk is not the open one. Each record
 * takes at most ENC_FAST_MAX bytes, so that many stay inside the buffer and
 * do not take the chunk past chunk_limit, where the general path cuts it
 * before its next record: the fast path never writes where it would have.
 * None either after an event that moved th's time without a record (an
 * unchanged watcher definition, an unknown type): the next record's dt is
 * from the chunk's previous record, its clamp at th's time, and the fast
 * path keeps one time for both; the general path's next record makes them
 * one again. */
static inline size_t fast_load(evt__enc *e, const struct evt__enc_thread *th, struct enc_fast *f, size_t max)
{
    const struct evt__clock *c = e->clock;
    int tsc = c->source == EVT__CLOCK_TSC;
    f->p = NULL;
    f->last_ns = th->last_ns;
    f->l_addr = 0;               /* the general path may have changed them */
    f->l_id = 0;
    f->w_cb = f->w_other = (struct enc_wcache){0};
    f->tsc_base = tsc ? c->tsc_base : 0;
    f->ns_base = tsc ? c->ns_base : 0;
    f->ns_per_tick_q32 = tsc ? c->ns_per_tick_q32 : 1ull << 32;
    if (e->cur_thread != th || e->oom || e->chunk_prev_ns != th->last_ns)
        return 0;
    const struct enc_buf *b = &e->body;
    size_t end = b->cap < e->chunk_limit ? b->cap : e->chunk_limit;
    size_t fit = end > b->len ? (end - b->len) / ENC_FAST_MAX : 0;
    f->p = b->p + b->len;
    return fit < max ? fit : max;
}

/* Puts back the state of a batch that took n events (n records). */
static inline void fast_store(evt__enc *e, struct evt__enc_thread *th, const struct enc_fast *f, size_t n)
{
    if (!n)
        return;
    e->body.len = (size_t)(f->p - e->body.p);
    e->chunk_prev_ns = th->last_ns = f->last_ns;
    e->records += n;
}

/* Finds the known loop at addr and caches it in f; 0 if there is none.
 * Before the first find the cache holds address 0 with id 0, which is also
 * what the general path writes for a loop at 0 (loop_id), so a hit needs
 * no test of the id. */
static inline int loop_find(const evt__enc *e, struct enc_fast *f, uint64_t addr)
{
    uint32_t id = map_hit(&e->lmap, addr);
    if (!id)
        return 0;
    f->l_addr = addr;
    f->l_id = id;
    return 1;
}

/* Finds the watcher at addr and caches it in c; 0 if there is none. It is
 * defined: the general path defines every watcher it adds to the map before
 * it returns (watcher_ref, enc_watcher_def), so w->defined is 0 only inside
 * it, and the map holds id 0 for one it could not add (out of memory).
 * First in e->wids, a direct-mapped cache that outlives the calls: an
 * address keeps its id for the whole file, so an entry never goes stale,
 * and a server's few dozen busy watchers then cost no probe of the map
 * (half its events look up a watcher not in f). Collisions only cost the
 * map lookup; wids_clear makes an empty entry match nothing. */
static inline int watcher_find(evt__enc *e, struct enc_wcache *c, uint64_t addr)
{
    struct enc_wid *wi = &e->wids[map_hash(addr, ENC_WIDS)];
    uint32_t id = wi->id;
    if (wi->addr != addr) {
        id = map_hit(&e->wmap, addr);
        if (!id)
            return 0;
        *wi = (struct enc_wid){addr, id};
    }
    const struct enc_watcher *w = &e->watchers[id - 1];
    c->addr = addr;
    c->id = id;
    c->kind = w->kind;
    c->fd = w->fd;
    return 1;
}

/* The id of cached watcher c if an event of this kind and fd agrees with it. */
static inline uint32_t wcache_id(const struct enc_wcache *c, uint8_t kind, int32_t fd)
{
    return kind && (kind != c->kind || fd != c->fd) ? 0 : c->id;
}

/* The id of a defined watcher the event agrees with, else 0 (the general
 * path defines or redefines). An event with kind 0 (callbacks) cannot
 * disagree. Two watchers are kept in f, so that most events need no map
 * lookup: the running callback's (cb, which callbacks look up), which its
 * callback usually stops or restarts before it ends, and the last other
 * one it touched (the others look it up). */
static inline __attribute__((always_inline)) uint32_t watcher_hit(evt__enc *e, struct enc_fast *f,
                                                                  uint64_t addr, uint8_t kind, int32_t fd, int cb)
{
    if (addr == f->w_cb.addr)
        return wcache_id(&f->w_cb, kind, fd);
    if (addr == f->w_other.addr)
        return wcache_id(&f->w_other, kind, fd);
    struct enc_wcache *c = cb ? &f->w_cb : &f->w_other;   /* where a miss goes */
    return watcher_find(e, c, addr) ? wcache_id(c, kind, fd) : 0;
}

/* Writes r as a record of one or two fields at f->p (fast_load left room).
 * Always inlined: each caller passes a constant "two", and gets its own
 * straight-line copy without the test. */
static inline __attribute__((always_inline)) int fast_put(struct enc_fast *f, const struct evt__raw *r, uint64_t a,
                                                          uint64_t b, int two)
{
    uint64_t ticks;
    if (EVT_UNLIKELY(__builtin_sub_overflow(r->ts, f->tsc_base, &ticks)))   /* one sub and its carry */
        return 0;
    unsigned __int128 d = (unsigned __int128)ticks * f->ns_per_tick_q32;
    uint64_t ns = f->ns_base + (uint64_t)(d >> 32);
    if (EVT_UNLIKELY(ns < f->last_ns))
        ns = f->last_ns;
    uint8_t *p = f->p;
    p[0] = r->type;
    uint8_t *q = put_var(put_var(p + 2, ns - f->last_ns), a);
    if (two)
        q = put_var(q, b);
    p[1] = (uint8_t)(q - p - 2);
    f->p = q;
    f->last_ns = ns;
    return 1;
}

/* Encodes r into f if it is a common record that needs nothing rare;
 * returns 0, having changed nothing, to send it to the general path.
 * Range tests rather than a switch: cheaper than a jump table's bounds
 * check and indirect jump, with the most frequent types first (watcher
 * starts, stops and callbacks are most of a server's events). */
static inline int fast_one(evt__enc *e, struct enc_fast *f, const struct evt__raw *r)
{
    unsigned t = r->type;
    uint32_t id;
    if (t - EVT_REC_WSTART <= EVT_REC_CB_END - EVT_REC_WSTART) {
        if (t == EVT_REC_CB_BEGIN) {
            id = watcher_hit(e, f, r->obj, 0, 0, 1);
            return id ? fast_put(f, r, id, r->arg, 1) : 0;
        }
        id = watcher_hit(e, f, r->obj, r->kind, (int32_t)r->arg, 0);   /* WSTART, WSTOP, CB_END */
        return id ? fast_put(f, r, id, 0, 0) : 0;
    }
    if (t - EVT_REC_LOOP_BEGIN <= EVT_REC_POLL_END - EVT_REC_LOOP_BEGIN) {
        if (r->obj != f->l_addr && !loop_find(e, f, r->obj))
            return 0;
        return fast_put(f, r, f->l_id, 0, 0);
    }
    if (t - EVT_REC_REQ_BEGIN <= EVT_REC_REQ_END - EVT_REC_REQ_BEGIN)
        return fast_put(f, r, r->obj, r->arg, 1);
    if (t == EVT_REC_MARK || t == EVT_REC_COUNTER)
        return fast_put(f, r, r->arg, evt__zigzag((int64_t)r->obj), 1);
    return 0;
}

/* Encodes ev[0..n) as long as the fast path takes them; returns how many
 * it took. Kept out of line: the per-event loop then has the registers to
 * itself, with f's fields in them, loaded before and stored after. */
static __attribute__((noinline)) size_t fast_run(evt__enc *e, struct evt__enc_thread *th,
                                                 const struct evt__raw *ev, size_t n)
{
    struct enc_fast f;
    const struct evt__raw *r = ev, *stop = ev + fast_load(e, th, &f, n);
    while (r < stop && EVT_LIKELY(fast_one(e, &f, r)))
        r++;
    fast_store(e, th, &f, (size_t)(r - ev));
    return (size_t)(r - ev);
}

/* Everything the fast path declined, starting at ev[i]: pairs, rare types,
 * a new chunk, a first sight. Returns the index of the last event used. */
static size_t enc_general(evt__enc *e, struct evt__enc_thread *th, const struct evt__raw *ev, size_t n, size_t i)
{
    const struct evt__raw *r = &ev[i];
    if (r->type == EVT__RAW_CONT)
        return i;                /* stray half: cannot happen, ignore */
    if (!raw_is_pair(r->type)) {
        enc_one(e, th, r, NULL);
    } else if (i + 1 == n) {     /* its second half comes with the next run */
        th->pend = *r;
        th->has_pend = 1;
    } else if (ev[i + 1].type == EVT__RAW_CONT) {
        enc_one(e, th, r, &ev[i + 1]);
        i++;
    } else {
        enc_one(e, th, r, NULL);
    }
    return i;
}

void evt__enc_events(evt__enc *e, struct evt__enc_thread *th, const struct evt__raw *ev, size_t n)
{
    const struct evt__raw *r = ev, *end = ev + n;
    if (th->has_pend && n) {     /* second half of a pair cut by the wrap? */
        th->has_pend = 0;
        if (ev[0].type == EVT__RAW_CONT)
            enc_one(e, th, &th->pend, r++);
        else
            enc_one(e, th, &th->pend, NULL);
    }
    while (r < end) {
        size_t took = fast_run(e, th, r, (size_t)(end - r));
        r += took;
        if (!took)   /* declined, or no room: the general path's */
            r = ev + enc_general(e, th, ev, n, (size_t)(r - ev)) + 1;
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
