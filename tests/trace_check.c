/* trace_check.c -- see trace_check.h. */
#include "trace_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "evt_format.h"

static int tc_fail(struct tc_trace *tr, const char *what, size_t off)
{
    snprintf(tr->error, sizeof tr->error, "%s at offset %zu", what, off);
    return -1;
}

static struct tc_rec *tc_push(struct tc_trace *tr)
{
    if (tr->n == tr->cap) {
        tr->cap = tr->cap ? tr->cap * 2 : 1024;
        tr->recs = realloc(tr->recs, tr->cap * sizeof *tr->recs);
    }
    struct tc_rec *r = &tr->recs[tr->n++];
    memset(r, 0, sizeof *r);
    return r;
}

static void tc_add_string(struct tc_trace *tr, uint64_t id, const char *s)
{
    if (id >= tr->n_strings) {
        size_t n = id + 1;
        tr->strings = realloc(tr->strings, n * sizeof *tr->strings);
        memset(tr->strings + tr->n_strings, 0, (n - tr->n_strings) * sizeof *tr->strings);
        tr->n_strings = n;
    }
    free(tr->strings[id]);
    tr->strings[id] = strdup(s);
}

/* One record at p (avail bytes); returns its size or 0 if malformed. */
static size_t tc_record(struct tc_trace *tr, const uint8_t *p, size_t avail, uint32_t thread, uint64_t *ts)
{
    uint64_t len, dt;
    if (avail < 2)
        return 0;
    size_t n = evt__get_varint(p + 1, avail - 1, &len);
    if (!n || len > avail - 1 - n)
        return 0;
    const uint8_t *b = p + 1 + n, *end = b + len;
    size_t k = evt__get_varint(b, (size_t)(end - b), &dt);
    if (!k)
        return 0;
    *ts += dt;
    struct tc_rec *r = tc_push(tr);
    r->type = p[0];
    r->thread = thread;
    r->ts = *ts;
    b += k;
    int max = r->type == EVT_REC_STRING ? 1 : TC_MAX_FIELDS;
    while (b < end && r->nf < max) {
        k = evt__get_varint(b, (size_t)(end - b), &r->f[r->nf]);
        if (!k)
            return 0;
        b += k;
        r->nf++;
    }
    if (r->type == EVT_REC_STRING) {
        r->str = strndup((const char *)b, (size_t)(end - b));
        tc_add_string(tr, r->f[0], r->str);
    }
    return 1 + n + (size_t)len;
}

/* The CRCs computed here from docs/FORMAT.md's words, not with
 * evt_format.h's evt__chunk_crc / evt__file_header_crc that the writer
 * uses: a wrong byte range there would otherwise be checked against itself. */
static uint32_t tc_chunk_crc(const uint8_t *h, uint32_t size)
{
    uLong c = crc32(0L, h + 4, 4);          /* payload_size */
    c = crc32(c, h + 8, 4);                 /* thread */
    c = crc32(c, h + 16, 8);                /* first_ts */
    return (uint32_t)crc32(c, h + 24, size);
}

static int tc_chunk(struct tc_trace *tr, const uint8_t *d, size_t len, size_t *off)
{
    const uint8_t *h = d + *off;
    if (len - *off < EVT_CHUNK_HEADER_SIZE)
        return tc_fail(tr, "truncated chunk header", *off);
    if (evt__get_u32(h) != EVT_CHUNK_MAGIC)
        return tc_fail(tr, "bad chunk magic", *off);
    uint32_t size = evt__get_u32(h + 4), thread = evt__get_u32(h + 8);
    if (size > len - *off - EVT_CHUNK_HEADER_SIZE)
        return tc_fail(tr, "truncated chunk", *off);
    const uint8_t *p = h + EVT_CHUNK_HEADER_SIZE;
    if (tc_chunk_crc(h, size) != evt__get_u32(h + 12))
        return tc_fail(tr, "bad CRC", *off);
    uint64_t ts = evt__get_u64(h + 16);
    for (size_t pos = 0; pos < size;) {
        size_t n = tc_record(tr, p + pos, size - pos, thread, &ts);
        if (!n)
            return tc_fail(tr, "bad record", *off + EVT_CHUNK_HEADER_SIZE + pos);
        pos += n;
    }
    tr->chunks++;
    *off += EVT_CHUNK_HEADER_SIZE + size;
    return 0;
}

int tc_decode(struct tc_trace *tr, const void *data, size_t len)
{
    const uint8_t *d = data;
    memset(tr, 0, sizeof *tr);
    if (len < EVT_FILE_HEADER_SIZE || memcmp(d, EVT_FILE_MAGIC, EVT_FILE_MAGIC_LEN) != 0)
        return tc_fail(tr, "bad file header", 0);
    if (evt__get_u16(d + 8) != EVT_VERSION_MAJOR)
        return tc_fail(tr, "bad major version", 8);
    size_t off = evt__get_u32(d + 12);
    if (off < 40 || off > len)
        return tc_fail(tr, "bad header_size", 12);
    uLong crc = crc32(crc32(0L, d, 32), d + 36, (uInt)(off - 36));   /* all but the CRC at 32 */
    if ((uint32_t)crc != evt__get_u32(d + 32))
        return tc_fail(tr, "bad file header CRC", 32);
    tr->pid = evt__get_u32(d + 16);
    tr->flags = evt__get_u32(d + 20);
    tr->start_ns = evt__get_u64(d + 24);
    while (off < len)
        if (tc_chunk(tr, d, len, &off) < 0)
            return -1;
    return 0;
}

int tc_decode_file(struct tc_trace *tr, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        memset(tr, 0, sizeof *tr);
        return tc_fail(tr, "cannot open", 0);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    size_t got = fread(buf, 1, (size_t)(n > 0 ? n : 0), f);
    fclose(f);
    int rc = tc_decode(tr, buf, got);
    free(buf);
    return rc;
}

void tc_free(struct tc_trace *tr)
{
    for (size_t i = 0; i < tr->n; i++)
        free(tr->recs[i].str);
    for (size_t i = 0; i < tr->n_strings; i++)
        free(tr->strings[i]);
    free(tr->recs);
    free(tr->strings);
    memset(tr, 0, sizeof *tr);
}

size_t tc_count(const struct tc_trace *tr, int type)
{
    size_t n = 0;
    for (size_t i = 0; i < tr->n; i++)
        n += tr->recs[i].type == type;
    return n;
}

size_t tc_count_thread(const struct tc_trace *tr, int type, uint32_t thread)
{
    size_t n = 0;
    for (size_t i = 0; i < tr->n; i++)
        n += tr->recs[i].type == type && tr->recs[i].thread == thread;
    return n;
}

const char *tc_string(const struct tc_trace *tr, uint64_t id)
{
    return id < tr->n_strings ? tr->strings[id] : NULL;
}

int tc_under_valgrind(void)
{
    const char *pre = getenv("LD_PRELOAD");
    return pre && strstr(pre, "vgpreload") != NULL;
}

uint64_t tc_lost(const struct tc_trace *tr)
{
    uint64_t n = 0;
    for (size_t i = 0; i < tr->n; i++)
        if (tr->recs[i].type == EVT_REC_LOST)
            n += tr->recs[i].f[0];
    return n;
}
