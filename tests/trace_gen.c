/* trace_gen.c -- see trace_gen.h. Aborts on out of memory: test code. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "trace_gen.h"

static uint8_t *room(struct tg *g, size_t n)
{
    if (g->len + n > g->cap) {
        size_t cap = g->cap ? g->cap : 4096;
        while (cap < g->len + n)
            cap *= 2;
        g->buf = realloc(g->buf, cap);
        if (!g->buf)
            abort();
        g->cap = cap;
    }
    uint8_t *p = g->buf + g->len;
    g->len += n;
    return p;
}

void tg_raw(struct tg *g, const void *data, size_t n) { memcpy(room(g, n), data, n); }

void tg_init(struct tg *g, uint32_t pid, uint64_t start_ns)
{
    memset(g, 0, sizeof *g);
    g->chunk = SIZE_MAX;
    uint8_t *h = room(g, EVT_FILE_HEADER_SIZE);
    memset(h, 0, EVT_FILE_HEADER_SIZE);
    memcpy(h, EVT_FILE_MAGIC, EVT_FILE_MAGIC_LEN);
    evt__put_u16(h + 8, EVT_VERSION_MAJOR);
    evt__put_u16(h + 10, EVT_VERSION_MINOR);
    evt__put_u32(h + 12, EVT_FILE_HEADER_SIZE);
    evt__put_u32(h + 16, pid);
    evt__put_u64(h + 24, start_ns);
    tg_fix_header(g->buf, EVT_FILE_HEADER_SIZE);
}

void tg_fix_header(uint8_t *buf, uint32_t header_size)
{
    evt__put_u32(buf + EVT_FILE_HEADER_CRC_OFF, evt__file_header_crc(buf, header_size));
}

void tg_fix_crcs(uint8_t *buf, size_t len)
{
    size_t off = evt__get_u32(buf + 12);
    while (off + EVT_CHUNK_HEADER_SIZE <= len) {
        uint8_t *h = buf + off;
        uint32_t size = evt__get_u32(h + 4);
        if (evt__get_u32(h) != EVT_CHUNK_MAGIC || size > len - off - EVT_CHUNK_HEADER_SIZE)
            break;
        evt__put_u32(h + 12, evt__chunk_crc(h, size));
        off += EVT_CHUNK_HEADER_SIZE + size;
    }
}

void tg_free(struct tg *g)
{
    free(g->buf);
    free(g->expect);
    memset(g, 0, sizeof *g);
}

void tg_end_chunk(struct tg *g)
{
    if (g->chunk == SIZE_MAX)
        return;
    uint8_t *h = g->buf + g->chunk;
    uint32_t size = (uint32_t)(g->len - g->chunk - EVT_CHUNK_HEADER_SIZE);
    evt__put_u32(h + 4, size);
    evt__put_u32(h + 12, evt__chunk_crc(h, size));
    g->chunk = SIZE_MAX;
}

void tg_finish(struct tg *g) { tg_end_chunk(g); }

void tg_chunk(struct tg *g, uint32_t thread, uint64_t first_ts)
{
    tg_end_chunk(g);
    g->chunk = g->len;
    uint8_t *h = room(g, EVT_CHUNK_HEADER_SIZE);
    evt__put_u32(h, EVT_CHUNK_MAGIC);
    evt__put_u32(h + 4, 0);
    evt__put_u32(h + 8, thread);
    evt__put_u32(h + 12, 0);
    evt__put_u64(h + 16, first_ts);
    g->thread = thread;
    g->ts = first_ts;
}

static void expect(struct tg *g, const struct evt_event *ev)
{
    if (g->no_expect)
        return;
    if (g->n_expect == g->cap_expect) {
        g->cap_expect = g->cap_expect ? 2 * g->cap_expect : 256;
        g->expect = realloc(g->expect, g->cap_expect * sizeof *g->expect);
        if (!g->expect)
            abort();
    }
    struct evt_event *e = &g->expect[g->n_expect++];
    *e = *ev;
    if (ev->type != EVT_REC_THREAD)
        e->thread = g->thread;
}

/* Writes type, len and a body of dt + fields + extra. */
static void record(struct tg *g, uint8_t type, uint64_t ts, const uint64_t *f, size_t nf, const uint8_t *extra,
                   size_t nx)
{
    uint8_t body[16 * EVT_VARINT_MAX], hdr[1 + EVT_VARINT_MAX];
    size_t n = evt__put_varint(body, ts - g->ts);
    for (size_t i = 0; i < nf; i++)
        n += evt__put_varint(body + n, f[i]);
    hdr[0] = type;
    size_t nh = 1 + evt__put_varint(hdr + 1, n + nx);
    tg_raw(g, hdr, nh);
    tg_raw(g, body, n);
    if (nx)
        tg_raw(g, extra, nx);
    g->ts = ts;
}

/* The fields of ev as its record type lists them; returns how many. */
static size_t fields_of(const struct evt_event *ev, uint64_t *f)
{
    switch (ev->type) {
    case EVT_REC_PROCESS: f[0] = ev->val; f[1] = ev->id; return 2;
    case EVT_REC_THREAD: f[0] = ev->thread; f[1] = ev->arg; f[2] = ev->id; return 3;
    case EVT_REC_CLOCK: f[0] = ev->kind; f[1] = ev->val; f[2] = ev->val2; f[3] = 0; return 4;
    case EVT_REC_CB_BEGIN: f[0] = ev->id; f[1] = ev->arg; return 2;
    case EVT_REC_WATCHER:
        f[0] = ev->id; f[1] = ev->kind; f[2] = evt__zigzag((int32_t)ev->arg); f[3] = ev->val; f[4] = ev->val2;
        return 5;
    case EVT_REC_REQ_BEGIN: case EVT_REC_REQ_PHASE: f[0] = ev->val; f[1] = ev->id; return 2;
    case EVT_REC_REQ_END: f[0] = ev->val; f[1] = ev->arg; return 2;
    case EVT_REC_MARK: case EVT_REC_COUNTER: f[0] = ev->id; f[1] = evt__zigzag((int64_t)ev->val); return 2;
    case EVT_REC_LOST: f[0] = ev->val; f[1] = ev->val2; return 2;
    default: f[0] = ev->id; return 1; /* loop, poll, wstart, wstop, cb_end */
    }
}

void tg_ev_extra(struct tg *g, const struct evt_event *ev, const uint8_t *extra, size_t n)
{
    uint64_t f[8];
    size_t nf = fields_of(ev, f);
    record(g, ev->type, ev->ts, f, nf, extra, n);
    expect(g, ev);
}

void tg_ev(struct tg *g, const struct evt_event *ev) { tg_ev_extra(g, ev, NULL, 0); }

void tg_string(struct tg *g, uint64_t ts, uint32_t id, const char *text)
{
    uint64_t f[1] = { id };
    record(g, EVT_REC_STRING, ts, f, 1, (const uint8_t *)text, strlen(text));
    expect(g, &(struct evt_event){ .ts = ts, .type = EVT_REC_STRING, .id = id });
}

void tg_simple(struct tg *g, uint8_t type, uint64_t ts, uint32_t id)
{
    tg_ev(g, &(struct evt_event){ .ts = ts, .type = type, .id = id });
}

void tg_cb_begin(struct tg *g, uint64_t ts, uint32_t watcher, uint32_t revents)
{
    tg_ev(g, &(struct evt_event){ .ts = ts, .type = EVT_REC_CB_BEGIN, .id = watcher, .arg = revents });
}

void tg_watcher(struct tg *g, uint64_t ts, uint32_t id, uint8_t kind, int32_t fd, uint32_t name, uint32_t loop)
{
    tg_ev(g, &(struct evt_event){ .ts = ts, .type = EVT_REC_WATCHER, .id = id, .kind = kind, .arg = (uint32_t)fd,
                                  .val = name, .val2 = loop });
}

void tg_req(struct tg *g, uint8_t type, uint64_t ts, uint64_t req, uint32_t name_or_status)
{
    struct evt_event ev = { .ts = ts, .type = type, .val = req };
    if (type == EVT_REC_REQ_END)
        ev.arg = name_or_status;
    else
        ev.id = name_or_status;
    tg_ev(g, &ev);
}

void tg_sample(struct tg *g, uint8_t type, uint64_t ts, uint32_t name, int64_t value)
{
    tg_ev(g, &(struct evt_event){ .ts = ts, .type = type, .id = name, .val = (uint64_t)value });
}

void tg_lost(struct tg *g, uint64_t ts, uint64_t count, uint64_t span_ns)
{
    tg_ev(g, &(struct evt_event){ .ts = ts, .type = EVT_REC_LOST, .val = count, .val2 = span_ns });
}

void tg_unknown(struct tg *g, uint8_t type, uint64_t ts, const uint8_t *body, size_t n)
{
    record(g, type, ts, NULL, 0, body, n);
}

struct collect {
    struct evt_event *evs;
    size_t n, cap;
};

static int collect_fn(void *ctx, const struct evt_event *ev)
{
    struct collect *c = ctx;
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 256;
        c->evs = realloc(c->evs, c->cap * sizeof *c->evs);
        if (!c->evs)
            abort();
    }
    c->evs[c->n++] = *ev;
    return 0;
}

int tg_walk(evt_reader *r, struct evt_event **evs, size_t *n)
{
    struct collect c = { 0 };
    int rc = evt_reader_each(r, collect_fn, &c);
    *evs = c.evs;
    *n = c.n;
    return rc;
}

int tg_read(const void *data, size_t len, evt_reader **r, struct evt_event **evs, size_t *n)
{
    *evs = NULL;
    *n = 0;
    int rc = evt_reader_open_mem(r, data, len);
    return rc < 0 ? rc : tg_walk(*r, evs, n);
}

int tg_event_eq(const struct evt_event *a, const struct evt_event *b)
{
    return a->ts == b->ts && a->val == b->val && a->val2 == b->val2 && a->thread == b->thread && a->id == b->id &&
           a->arg == b->arg && a->type == b->type && a->kind == b->kind;
}

int tg_write_tmp(const void *data, size_t len, char *path, size_t path_len)
{
    snprintf(path, path_len, "/tmp/evt_test_XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    int ok = write(fd, data, len) == (ssize_t)len;
    close(fd);
    if (!ok) {
        unlink(path);
        return -1;
    }
    return 0;
}
