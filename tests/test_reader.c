/* test_reader.c -- the reader: round trips, forward compatibility, damage. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "evt_reader.h"
#include "evtrace.h"
#include "trace_gen.h"

#define T0 1000000000ull

/* A trace with every record kind, on a meta chunk and two threads, with
 * values at the edges of their ranges. */
/* A trace of pid 1 starting at T0, its meta chunk open for strings. */
static void strings_start(struct tg *g)
{
    tg_init(g, 1, T0);
    tg_chunk(g, EVT_THREAD_META, T0);
}

/* Frees what tg_read gave and the generator. */
static void read_done(struct evt_event *evs, evt_reader *r, struct tg *g)
{
    free(evs);
    evt_reader_close(r);
    tg_free(g);
}

static void build_full(struct tg *g)
{
    tg_init(g, 4242, T0);
    tg_chunk(g, EVT_THREAD_META, T0);
    tg_string(g, T0, 1, "hello");
    tg_string(g, T0 + 1, 2, "GET /");
    tg_string(g, T0 + 1, 3, "read");
    tg_ev(g, &(struct evt_event){ .ts = T0 + 2, .type = EVT_REC_PROCESS, .val = 4242, .id = 1 });
    tg_ev(g, &(struct evt_event){ .ts = T0 + 2, .type = EVT_REC_THREAD, .thread = 0, .arg = 4242, .id = 1 });
    tg_ev(g, &(struct evt_event){ .ts = T0 + 2, .type = EVT_REC_THREAD, .thread = 1, .arg = 4243, .id = 3 });
    tg_ev(g, &(struct evt_event){ .ts = T0 + 3, .type = EVT_REC_CLOCK, .kind = 1, .val = 3000000000ull,
                                  .val2 = UINT64_MAX });
    tg_chunk(g, 0, T0 + 10);
    tg_watcher(g, T0 + 10, 1, EVT_KIND_IO, 7, 2, 1);
    tg_watcher(g, T0 + 10, 2, EVT_KIND_SIGNAL, -1, 0, 1);
    tg_watcher(g, T0 + 10, 3, EVT_KIND_TIMER, INT32_MIN, 0, UINT32_MAX);
    tg_simple(g, EVT_REC_WSTART, T0 + 11, 1);
    tg_simple(g, EVT_REC_LOOP_BEGIN, T0 + 12, 1);
    tg_simple(g, EVT_REC_POLL_BEGIN, T0 + 13, 1);
    tg_simple(g, EVT_REC_POLL_END, T0 + 1000013, 1);
    tg_cb_begin(g, T0 + 1000020, 1, UINT32_MAX);
    tg_req(g, EVT_REC_REQ_BEGIN, T0 + 1000021, UINT64_MAX, 2);
    tg_req(g, EVT_REC_REQ_PHASE, T0 + 1000021, UINT64_MAX, 3); /* dt = 0 */
    tg_sample(g, EVT_REC_COUNTER, T0 + 1000030, 2, INT64_MIN);
    tg_sample(g, EVT_REC_MARK, T0 + 1000031, 3, -1);
    tg_sample(g, EVT_REC_MARK, T0 + 1000032, 3, INT64_MAX);
    tg_req(g, EVT_REC_REQ_END, T0 + 1000040, UINT64_MAX, 404);
    tg_simple(g, EVT_REC_CB_END, T0 + 1000050, 1);
    tg_simple(g, EVT_REC_WSTOP, T0 + 1000051, 1);
    tg_simple(g, EVT_REC_LOOP_END, T0 + 1000060, 1);
    tg_chunk(g, 1, T0 + 5);
    tg_lost(g, T0 + 5000000000ull, 123456789, 4000000000ull);
    tg_simple(g, EVT_REC_LOOP_BEGIN, T0 + 5000000001ull, 2);
    tg_finish(g);
}

static void assert_events_eq(const struct evt_event *got, size_t n_got, const struct evt_event *want, size_t n_want)
{
    assert_int_equal(n_got, n_want);
    for (size_t i = 0; i < n_got; i++) {
        if (!tg_event_eq(&got[i], &want[i]))
            fail_msg("event %zu differs: type %02x/%02x ts %llu/%llu", i, got[i].type, want[i].type,
                     (unsigned long long)got[i].ts, (unsigned long long)want[i].ts);
    }
}

static void roundtrip_every_kind(void **state)
{
    struct tg g;
    build_full(&g);
    evt_reader *r;
    struct evt_event *evs;
    size_t n;
    assert_int_equal(tg_read(g.buf, g.len, &r, &evs, &n), 0);
    assert_events_eq(evs, n, g.expect, g.n_expect);
    assert_string_equal(evt_reader_error(r), "");
    assert_int_equal(evt_reader_pid(r), 4242);
    assert_int_equal(evt_reader_start_ns(r), T0);
    assert_int_equal(evt_reader_size(r), g.len);
    assert_string_equal(evt_reader_string(r, 1), "hello");
    assert_string_equal(evt_reader_string(r, 2), "GET /");
    assert_null(evt_reader_string(r, 4));
    assert_null(evt_reader_string(r, 1u << 30));
    size_t events = 0; /* definitions excluded */
    for (size_t i = 0; i < g.n_expect; i++)
        events += evt_reader_is_event(g.expect[i].type);
    assert_int_equal(evt_reader_events(r), events);
    assert_int_equal(events, 16);
    /* a second walk sees the same */
    free(evs);
    evs = NULL;
    evt_reader_close(r);
    assert_int_equal(tg_read(g.buf, g.len, &r, &evs, &n), 0);
    assert_events_eq(evs, n, g.expect, g.n_expect);
    read_done(evs, r, &g);
}

/* A newer writer may append fields and add types: an old reader skips
 * what it does not know and still delivers the rest intact. */
static void forward_compatible(void **state)
{
    struct tg g;
    tg_init(&g, 1, T0);
    tg_chunk(&g, 0, T0);
    static const uint8_t extra[] = { 0x05, 0xff, 0x7f, 0x00, 0x81, 0x01 };
    tg_unknown(&g, 0x7e, T0 + 5, extra, sizeof extra);
    tg_ev_extra(&g, &(struct evt_event){ .ts = T0 + 7, .type = EVT_REC_CB_BEGIN, .id = 3, .arg = 1 }, extra,
                sizeof extra);
    tg_unknown(&g, 0xff, T0 + 9, NULL, 0);
    tg_ev_extra(&g, &(struct evt_event){ .ts = T0 + 11, .type = EVT_REC_REQ_END, .val = 9, .arg = 200 }, extra, 1);
    tg_simple(&g, EVT_REC_CB_END, T0 + 12, 3);
    tg_finish(&g);
    evt_reader *r;
    struct evt_event *evs;
    size_t n;
    assert_int_equal(tg_read(g.buf, g.len, &r, &evs, &n), 0);
    assert_events_eq(evs, n, g.expect, g.n_expect);
    assert_int_equal(n, 3);
    assert_int_equal(evs[0].ts, T0 + 7); /* unknown records still advance time */
    assert_int_equal(evs[1].ts, T0 + 11);
    read_done(evs, r, &g);
}

static void invalid_utf8_is_replaced(void **state)
{
    struct tg g;
    strings_start(&g);
    tg_string(&g, T0, 1, "ok \xc3\xa9 \xff\xfe end \xe2\x82");
    tg_finish(&g);
    evt_reader *r;
    struct evt_event *evs;
    size_t n;
    assert_int_equal(tg_read(g.buf, g.len, &r, &evs, &n), 0);
    assert_string_equal(evt_reader_string(r, 1), "ok \xc3\xa9 ?? end ??");
    read_done(evs, r, &g);
}

static int stop_at_three(void *ctx, const struct evt_event *ev)
{
    return ++*(int *)ctx == 3 ? 77 : 0;
}

static void callback_stops_walk(void **state)
{
    struct tg g;
    build_full(&g);
    evt_reader *r;
    assert_int_equal(evt_reader_open_mem(&r, g.buf, g.len), 0);
    int calls = 0;
    assert_int_equal(evt_reader_each(r, stop_at_three, &calls), 77);
    assert_int_equal(calls, 3);
    evt_reader_close(r);
    tg_free(&g);
}

/* ---- damage ------------------------------------------------------------ */

static int is_prefix(const struct evt_event *got, size_t n, const struct evt_event *want, size_t n_want)
{
    if (n > n_want)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!tg_event_eq(&got[i], &want[i]))
            return 0;
    return 1;
}

/* A trace of several chunks; chunk_end[i] = file offset after chunk i and
 * chunk_events[i] = records delivered up to there. */
struct multi {
    struct tg g;
    size_t chunk_end[16], chunk_events[16], n_chunks;
};

static void build_multi(struct multi *m)
{
    struct tg *g = &m->g;
    build_full(g);
    /* re-walk to find chunk boundaries */
    size_t off = EVT_FILE_HEADER_SIZE;
    m->n_chunks = 0;
    evt_reader *r;
    struct evt_event *evs;
    size_t n;
    while (off < g->len) {
        off += EVT_CHUNK_HEADER_SIZE + evt__get_u32(g->buf + off + 4);
        assert_int_equal(tg_read(g->buf, off, &r, &evs, &n), 0);
        m->chunk_end[m->n_chunks] = off;
        m->chunk_events[m->n_chunks++] = n;
        free(evs);
        evt_reader_close(r);
    }
    assert_int_equal(m->n_chunks, 3);
}

/* What a walk of m's image cut at cut (bytes kept; the reader may have
 * seen more at open) must give: the records of the chunks wholly before
 * the cut, and a "truncated" error at the first chunk the cut reaches,
 * unless the walk ended where the reader thinks the file ends (len). */
static void expect_cut(const struct multi *m, size_t cut, size_t len, evt_reader *r, int rc,
                       const struct evt_event *evs, size_t n)
{
    size_t whole = 0, k = 0; /* records of the chunks that fit entirely */
    for (; k < m->n_chunks && m->chunk_end[k] <= cut; k++)
        whole = m->chunk_events[k];
    size_t ends = k ? m->chunk_end[k - 1] : EVT_FILE_HEADER_SIZE;  /* where the whole chunks end */
    assert_int_equal(rc, ends == len ? 0 : EVT_ETRUNC);
    assert_int_equal(n, whole);
    assert_true(is_prefix(evs, n, m->g.expect, m->g.n_expect));
    if (ends != len) {
        assert_non_null(strstr(evt_reader_error(r), "truncated"));
        assert_true(evt_reader_error_offset(r) == ends);
    }
}

/* Reads m's image cut at cut from memory (from_file 0) or from a file of
 * that size (1): the reader's two ways in must agree. */
static void read_cut(const struct multi *m, size_t cut, int from_file)
{
    uint8_t *copy = malloc(cut ? cut : 1); /* exact size: ASan catches overreads */
    memcpy(copy, m->g.buf, cut);
    evt_reader *r = NULL;
    struct evt_event *evs = NULL;
    size_t n = 0;
    char path[64];
    int rc;
    if (from_file) {
        assert_int_equal(tg_write_tmp(copy, cut, path, sizeof path), 0);
        rc = evt_reader_open(&r, path);
        unlink(path);
        if (rc == 0)
            rc = tg_walk(r, &evs, &n);
    } else {
        rc = tg_read(copy, cut, &r, &evs, &n);
    }
    if (cut < EVT_FILE_HEADER_SIZE) {
        assert_int_equal(rc, cut == 0 ? EVT_EFORMAT : EVT_ETRUNC);
        assert_null(r);
    } else {
        expect_cut(m, cut, cut, r, rc, evs, n);
        evt_reader_close(r);
    }
    free(evs);
    free(copy);
}

static void cut_at_every_byte(void **state)
{
    struct multi m;
    build_multi(&m);
    for (size_t cut = 0; cut < m.g.len; cut++) {
        read_cut(&m, cut, 0);
        read_cut(&m, cut, 1);
    }
    tg_free(&m.g);
}

/* A file cut by someone else while a reader has it open (a shell's
 * `> t.evtrace`): a mapped file would end the reader with SIGBUS; read,
 * it is a truncated trace like any other, and grown back it reads whole. */
static void file_cut_while_open(void **state)
{
    struct multi m;
    build_multi(&m);
    char path[64];
    assert_int_equal(tg_write_tmp(m.g.buf, m.g.len, path, sizeof path), 0);
    evt_reader *r;
    assert_int_equal(evt_reader_open(&r, path), 0);
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    for (size_t cut = 0; cut <= m.g.len; cut++) {
        assert_int_equal(ftruncate(fd, (off_t)cut), 0);
        struct evt_event *evs;
        size_t n;
        int rc = tg_walk(r, &evs, &n);
        expect_cut(&m, cut < EVT_FILE_HEADER_SIZE ? 0 : cut, m.g.len, r, rc, evs, n);
        free(evs);
        assert_int_equal(pwrite(fd, m.g.buf, m.g.len, 0), (ssize_t)m.g.len);
    }
    close(fd);
    unlink(path);
    evt_reader_close(r);
    tg_free(&m.g);
}

/* Checks one damaged copy of m's image: the damage must be reported and
 * what is delivered must be exactly the chunks before the damaged one.
 * Damage inside the file header must keep the file from opening, with a
 * message; zero events is then the prefix. Returns 1 (always detected). */
static int check_damaged(const struct multi *m, const uint8_t *copy, size_t first_off)
{
    evt_reader *r;
    struct evt_event *evs;
    size_t n;
    char msg[256];
    if (first_off < EVT_FILE_HEADER_SIZE) {
        int rc = evt_reader_open_mem_msg(&r, copy, m->g.len, msg, sizeof msg);
        if (rc != EVT_EFORMAT && rc != EVT_EVERSION && rc != EVT_ETRUNC)
            fail_msg("header byte %zu damaged: open returned %d", first_off, rc);
        assert_null(r);
        assert_true(strlen(msg) > 0);
        return 1;
    }
    int rc = tg_read(copy, m->g.len, &r, &evs, &n);
    if (rc == 0 || !r)
        fail_msg("damage at byte %zu not detected (rc %d)", first_off, rc);
    size_t k = 0, want = 0; /* chunks wholly before the damage */
    for (; k < m->n_chunks && m->chunk_end[k] <= first_off; k++)
        want = m->chunk_events[k];
    if (n != want || !is_prefix(evs, n, m->g.expect, m->g.n_expect))
        fail_msg("damage at byte %zu: %zu events delivered, want the %zu before it", first_off, n, want);
    assert_true(strlen(evt_reader_error(r)) > 0);
    evt_reader_close(r);
    free(evs);
    return 1;
}

/* Every byte of the file, headers included, flipped in three ways: each
 * is caught, and the walk delivers exactly the chunks before it. */
static void flip_every_byte(void **state)
{
    struct multi m;
    build_multi(&m);
    static const uint8_t masks[] = { 0x01, 0x80, 0xff };
    uint8_t *copy = malloc(m.g.len);
    for (size_t off = 0; off < m.g.len; off++) {
        for (size_t i = 0; i < sizeof masks; i++) {
            memcpy(copy, m.g.buf, m.g.len);
            copy[off] ^= masks[i];
            check_damaged(&m, copy, off);
        }
    }
    free(copy);
    tg_free(&m.g);
}

/* Several random flips anywhere in the file, headers included. */
static void random_corruption(void **state)
{
    struct multi m;
    build_multi(&m);
    int detected = 0;
    for (unsigned seed = 1; seed <= 500; seed++) {
        srand(seed);
        uint8_t *copy = malloc(m.g.len);
        memcpy(copy, m.g.buf, m.g.len);
        int flips = 1 + rand() % 4;
        size_t first = m.g.len;
        for (int i = 0; i < flips; i++) {
            size_t off = (size_t)rand() % m.g.len;
            copy[off] ^= (uint8_t)(1 + rand() % 255);
            first = off < first ? off : first;
        }
        if (memcmp(copy, m.g.buf, m.g.len) != 0) /* two flips of one byte may cancel */
            detected += check_damaged(&m, copy, first);
        else
            detected++;
        free(copy);
    }
    assert_int_equal(detected, 500);
    tg_free(&m.g);
}

/* Finds "want" in the reader's message after damage at one spot. */
static void expect_damage(struct tg *g, int want_rc, const char *want_msg, size_t want_off)
{
    evt_reader *r;
    struct evt_event *evs;
    size_t n;
    assert_int_equal(tg_read(g->buf, g->len, &r, &evs, &n), want_rc);
    if (!strstr(evt_reader_error(r), want_msg))
        fail_msg("message '%s' lacks '%s'", evt_reader_error(r), want_msg);
    assert_int_equal(evt_reader_error_offset(r), want_off);
    free(evs);
    evt_reader_close(r);
}

static void damage_messages(void **state)
{
    struct multi m;
    build_multi(&m);
    size_t c1 = m.chunk_end[0]; /* second chunk's header */
    char msg[128];

    m.g.buf[c1 + EVT_CHUNK_HEADER_SIZE + 3] ^= 0x40;
    snprintf(msg, sizeof msg, "offset %zu: chunk CRC mismatch", c1);
    expect_damage(&m.g, EVT_EFORMAT, msg, c1);
    m.g.buf[c1 + EVT_CHUNK_HEADER_SIZE + 3] ^= 0x40;

    /* thread and first_ts are under the CRC: a shifted timestamp base is
     * damage, not wrong events */
    for (size_t f = 8; f < EVT_CHUNK_HEADER_SIZE; f += 4) {
        if (f == 12)
            continue; /* the CRC itself */
        m.g.buf[c1 + f] ^= 0x04;
        snprintf(msg, sizeof msg, "offset %zu: chunk CRC mismatch", c1);
        expect_damage(&m.g, EVT_EFORMAT, msg, c1);
        m.g.buf[c1 + f] ^= 0x04;
    }

    m.g.buf[c1] ^= 1;
    snprintf(msg, sizeof msg, "offset %zu: bad chunk magic", c1);
    expect_damage(&m.g, EVT_EFORMAT, msg, c1);
    m.g.buf[c1] ^= 1;

    uint8_t saved[4];
    memcpy(saved, m.g.buf + c1 + 4, 4);
    evt__put_u32(m.g.buf + c1 + 4, EVT_CHUNK_MAX_PAYLOAD + 1);
    expect_damage(&m.g, EVT_EFORMAT, "exceeds the limit", c1);
    evt__put_u32(m.g.buf + c1 + 4, 1u << 20);
    expect_damage(&m.g, EVT_ETRUNC, "truncated: chunk at offset", c1);
    evt__put_u32(m.g.buf + c1 + 4, evt__get_u32(saved) - 1); /* still fits: the CRC catches it */
    expect_damage(&m.g, EVT_EFORMAT, "chunk CRC mismatch", c1);
    memcpy(m.g.buf + c1 + 4, saved, 4);
    tg_free(&m.g);
}

/* A record whose fields run past its length, or whose length runs past
 * the chunk, is damage even though the CRC is right. */
static void record_overruns(void **state)
{
    struct tg g;
    tg_init(&g, 1, T0);
    tg_chunk(&g, 0, T0);
    tg_simple(&g, EVT_REC_LOOP_BEGIN, T0 + 1, 1);
    size_t rec = g.len;
    static const uint8_t cb_short[] = { EVT_REC_CB_BEGIN, 2, 0, 5 }; /* dt, watcher; revents missing */
    tg_raw(&g, cb_short, sizeof cb_short);
    tg_finish(&g);
    expect_damage(&g, EVT_EFORMAT, "fields overrun", rec);
    tg_free(&g);

    tg_init(&g, 1, T0);
    tg_chunk(&g, 0, T0);
    rec = g.len;
    static const uint8_t too_long[] = { EVT_REC_LOOP_END, 9, 0, 1 };
    tg_raw(&g, too_long, sizeof too_long);
    tg_finish(&g);
    expect_damage(&g, EVT_EFORMAT, "overruns its chunk", rec);
    tg_free(&g);

    tg_init(&g, 1, T0);
    tg_chunk(&g, 0, T0);
    rec = g.len;
    static const uint8_t big_id[] = { EVT_REC_LOOP_END, 7, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 }; /* > u32 */
    tg_raw(&g, big_id, sizeof big_id);
    tg_finish(&g);
    expect_damage(&g, EVT_EFORMAT, "out of range", rec);
    tg_free(&g);
}

static void expect_open(const uint8_t *buf, size_t len, int want_rc, const char *want_msg)
{
    evt_reader *r;
    char msg[256];
    assert_int_equal(evt_reader_open_mem_msg(&r, buf, len, msg, sizeof msg), want_rc);
    if (!strstr(msg, want_msg))
        fail_msg("message '%s' lacks '%s'", msg, want_msg);
    if (want_rc == 0)
        evt_reader_close(r);
    else
        assert_null(r);
}

static void header_errors(void **state)
{
    struct tg g;
    tg_init(&g, 1, T0);
    evt_reader *r;
    assert_int_equal(evt_reader_open_mem(&r, g.buf, g.len), 0); /* header only: an empty trace */
    struct evt_event *evs;
    size_t n;
    evt_reader_close(r);
    assert_int_equal(tg_read(g.buf, g.len, &r, &evs, &n), 0);
    assert_int_equal(n, 0);
    evt_reader_close(r);
    free(evs);

    evt__put_u16(g.buf + 8, EVT_VERSION_MAJOR + 1);
    tg_fix_header(g.buf, EVT_FILE_HEADER_SIZE);
    expect_open(g.buf, g.len, EVT_EVERSION, "format version 2.0");
    evt__put_u16(g.buf + 8, EVT_VERSION_MAJOR);
    evt__put_u16(g.buf + 10, EVT_VERSION_MINOR + 5); /* newer minor: fine */
    tg_fix_header(g.buf, EVT_FILE_HEADER_SIZE);
    expect_open(g.buf, g.len, 0, "");
    /* pid, flags, start_ns, the reserved word: a flip is a damaged header */
    for (size_t off = 16; off < EVT_FILE_HEADER_SIZE; off++) {
        g.buf[off] ^= 0x20;
        expect_open(g.buf, g.len, EVT_EFORMAT, "damaged file header: CRC mismatch");
        g.buf[off] ^= 0x20;
    }
    evt__put_u32(g.buf + 12, 32); /* the 32-byte header of the first drafts: no CRC */
    tg_fix_header(g.buf, EVT_FILE_HEADER_SIZE);
    expect_open(g.buf, g.len, EVT_EFORMAT, "header_size 32 out of range");
    evt__put_u32(g.buf + 12, 64);
    expect_open(g.buf, g.len, EVT_ETRUNC, "truncated: the file header needs 64 bytes, 40 present");
    evt__put_u32(g.buf + 12, EVT_FILE_HEADER_SIZE);
    tg_fix_header(g.buf, EVT_FILE_HEADER_SIZE);
    expect_open(g.buf, g.len, 0, "");
    expect_open(g.buf, 20, EVT_ETRUNC, "truncated: the file header needs 40 bytes, 20 present");
    g.buf[0] = 'X';
    expect_open(g.buf, g.len, EVT_EFORMAT, "bad magic");
    tg_free(&g);
}

/* A newer minor's larger header is read whole (its CRC covers the new
 * bytes) and the first chunk is found at header_size. */
static void larger_header(void **state)
{
    struct tg g;
    tg_init(&g, 5, T0);
    tg_raw(&g, "\x11\x22\x33\x44\x55\x66\x77\x88", 8); /* fields of a 1.x header */
    evt__put_u32(g.buf + 12, EVT_FILE_HEADER_SIZE + 8);
    tg_fix_header(g.buf, EVT_FILE_HEADER_SIZE + 8);
    tg_chunk(&g, 0, T0);
    tg_simple(&g, EVT_REC_LOOP_BEGIN, T0 + 1, 1);
    tg_finish(&g);
    evt_reader *r;
    struct evt_event *evs;
    size_t n;
    assert_int_equal(tg_read(g.buf, g.len, &r, &evs, &n), 0);
    assert_events_eq(evs, n, g.expect, g.n_expect);
    assert_int_equal(evt_reader_pid(r), 5);
    evt_reader_close(r);
    free(evs);
    g.buf[EVT_FILE_HEADER_SIZE + 3] ^= 1; /* a new field is under the CRC too */
    expect_open(g.buf, g.len, EVT_EFORMAT, "CRC mismatch");
    tg_free(&g);
}

static void file_errors(void **state)
{
    evt_reader *r;
    assert_int_equal(evt_reader_open(&r, "/nonexistent/evtrace/x.evtrace"), -ENOENT);
    assert_null(r);
    assert_int_equal(evt_reader_open(&r, "/tmp"), -EISDIR);
    char path[64];
    assert_int_equal(tg_write_tmp("", 0, path, sizeof path), 0);
    assert_int_equal(evt_reader_open(&r, path), EVT_EFORMAT);
    unlink(path);
    assert_int_equal(tg_write_tmp("EVTRACE\0\1\0", 10, path, sizeof path), 0);
    assert_int_equal(evt_reader_open(&r, path), EVT_ETRUNC);
    unlink(path);
    assert_int_equal(tg_write_tmp("hello world, this is not a trace file at all", 44, path, sizeof path), 0);
    assert_int_equal(evt_reader_open(&r, path), EVT_EFORMAT);
    unlink(path);
}

static void file_roundtrip(void **state)
{
    struct tg g;
    build_full(&g);
    char path[64];
    assert_int_equal(tg_write_tmp(g.buf, g.len, path, sizeof path), 0);
    evt_reader *r;
    assert_int_equal(evt_reader_open(&r, path), 0);
    unlink(path); /* the open file stays readable */
    assert_int_equal(evt_reader_size(r), g.len);
    struct evt_event *evs;
    size_t n;
    evt_reader *rm;
    assert_int_equal(tg_read(g.buf, g.len, &rm, &evs, &n), 0);
    evt_reader_close(rm);
    free(evs);
    assert_int_equal(evt_reader_each(r, stop_at_three, &(int){ 0 }), 77);
    evt_reader_close(r);
    tg_free(&g);
}

/* A STRING record written byte by byte (tg_string stops at a NUL). */
static void raw_string(struct tg *g, uint64_t ts, uint32_t id, const char *text, size_t n)
{
    uint8_t body[64];
    size_t k = evt__put_varint(body, id);
    assert_true(k + n <= sizeof body);
    memcpy(body + k, text, n);
    tg_unknown(g, EVT_REC_STRING, ts, body, k + n);
}

/* Each edge of RFC 3629 that utf8_seq checks, on its own string: the
 * first valid and the last invalid byte of every lead range, overlongs,
 * surrogates, the U+10FFFF ceiling, a continuation byte that is missing
 * and one that the next record's type byte could stand in for. A byte
 * that does not start a valid sequence becomes one '?'. */
static void utf8_edges(void **state)
{
    static const struct {
        const char *in;
        size_t n;
        const char *want;
    } cases[] = {
#define U(in, want) { in, sizeof in - 1, want }
        U("a\x01z\x7f", "a\x01z\x7f"),                 /* controls other than NUL are kept */
        U("a\0b", "a?b"),                               /* NUL is replaced, not the end */
        U("\x80|\xbf", "?|?"),                          /* a lone continuation byte */
        U("\xc0\x80|\xc1\xbf", "??|??"),                /* overlong 2-byte forms */
        U("\xc2\x80|\xdf\xbf", "\xc2\x80|\xdf\xbf"),    /* U+0080, U+07FF */
        U("\xe0\x9f\xbf", "???"),                       /* overlong 3-byte form */
        U("\xe0\xa0\x80", "\xe0\xa0\x80"),              /* U+0800 */
        U("\xe2\x82\xac", "\xe2\x82\xac"),              /* U+20AC: E1..EC take any continuation */
        U("\xed\x9f\xbf", "\xed\x9f\xbf"),              /* U+D7FF, below the surrogates */
        U("\xed\xa0\x80", "???"),                       /* U+D800, a surrogate */
        U("\xef\xbf\xbf", "\xef\xbf\xbf"),              /* U+FFFF */
        U("\xf0\x8f\xbf\xbf", "????"),                  /* overlong 4-byte form */
        U("\xf0\x90\x80\x80", "\xf0\x90\x80\x80"),      /* U+10000 */
        U("\xf1\x80\x80\x80", "\xf1\x80\x80\x80"),      /* F1..F3 take any continuation */
        U("\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf"),      /* U+10FFFF, the last code point */
        U("\xf4\x90\x80\x80", "????"),                  /* U+110000 */
        U("\xf5\x80\x80\x80", "????"),                  /* leads above F4 */
        U("\xe2\x82" "A", "??A"),                       /* the last continuation byte is checked */
#undef U
    };
    const size_t n_cases = sizeof cases / sizeof cases[0];
    struct tg g;
    strings_start(&g);
    for (size_t i = 0; i < n_cases; i++)
        raw_string(&g, T0, (uint32_t)(i + 1), cases[i].in, cases[i].n);
    /* A sequence cut by the end of its record, then a record whose type
     * byte is a continuation byte: the text ends at its record's length. */
    raw_string(&g, T0, 100, "x\xe2\x82", 3);
    static const uint8_t body[] = { 0 };
    tg_unknown(&g, 0x80, T0, body, sizeof body);
    tg_finish(&g);
    evt_reader *r;
    struct evt_event *evs;
    size_t n;
    assert_int_equal(tg_read(g.buf, g.len, &r, &evs, &n), 0);
    for (size_t i = 0; i < n_cases; i++) {
        const char *got = evt_reader_string(r, (uint32_t)(i + 1));
        if (!got || strcmp(got, cases[i].want) != 0)
            fail_msg("case %zu: got '%s', want '%s'", i, got ? got : "(null)", cases[i].want);
    }
    assert_string_equal(evt_reader_string(r, 100), "x??");
    read_done(evs, r, &g);
}

/* A STRING record that ends the file: its text ends at the last byte, in
 * an exact-size buffer (memory) and in the reader's chunk buffer (file),
 * so that a read past the text shows under ASan/valgrind. */
static void string_ends_the_file(void **state)
{
    struct tg g;
    strings_start(&g);
    tg_string(&g, T0, 7, "tail \xc3\xa9");
    tg_finish(&g);
    uint8_t *copy = malloc(g.len);
    memcpy(copy, g.buf, g.len);
    evt_reader *r;
    struct evt_event *evs;
    size_t n;
    assert_int_equal(tg_read(copy, g.len, &r, &evs, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(evt_reader_string(r, 7), "tail \xc3\xa9");
    free(evs);
    evt_reader_close(r);
    char path[64];
    assert_int_equal(tg_write_tmp(copy, g.len, path, sizeof path), 0);
    assert_int_equal(evt_reader_open(&r, path), 0);
    unlink(path);
    assert_int_equal(tg_walk(r, &evs, &n), 0);
    assert_string_equal(evt_reader_string(r, 7), "tail \xc3\xa9");
    free(evs);
    evt_reader_close(r);
    free(copy);
    tg_free(&g);
}

/* The string table grows by doubling from 64 slots: ids at and around
 * each size it passes through must land inside it (an id equal to the
 * size is the one an off-by-one in the growth misses), and a later
 * definition of an id replaces the earlier one. */
static void string_table_growth(void **state)
{
    static const uint32_t ids[] = { 64, 0, 63, 128, 127, 256, 4096, 4095 };
    const size_t n_ids = sizeof ids / sizeof ids[0];
    char text[32];
    struct tg g;
    strings_start(&g);
    for (size_t i = 0; i < n_ids; i++) {
        snprintf(text, sizeof text, "name %u", ids[i]);
        tg_string(&g, T0, ids[i], text);
    }
    tg_chunk(&g, EVT_THREAD_META, T0 + 1);
    tg_string(&g, T0 + 1, 64, "renamed");
    tg_finish(&g);
    evt_reader *r;
    struct evt_event *evs;
    size_t n;
    assert_int_equal(tg_read(g.buf, g.len, &r, &evs, &n), 0);
    for (size_t i = 1; i < n_ids; i++) {
        snprintf(text, sizeof text, "name %u", ids[i]);
        assert_string_equal(evt_reader_string(r, ids[i]), text);
    }
    assert_string_equal(evt_reader_string(r, 64), "renamed");
    /* every other id up to well past the table's end is unknown, the
     * first one past its last slot included */
    for (uint32_t id = 0; id < 3 * 4096; id++) {
        int defined = 0;
        for (size_t i = 0; i < n_ids; i++)
            defined |= ids[i] == id;
        if (!defined && evt_reader_string(r, id))
            fail_msg("id %u: '%s', never defined", id, evt_reader_string(r, id));
    }
    read_done(evs, r, &g);
}

/* A record of a known type with raw field values (not range-checked, not
 * expected): for values a correct writer never writes. */
static void raw_record(struct tg *g, uint8_t type, uint64_t ts, const uint64_t *f, size_t nf)
{
    uint8_t body[8 * EVT_VARINT_MAX];
    size_t n = 0;
    assert_true(nf <= 8);
    for (size_t i = 0; i < nf; i++)
        n += evt__put_varint(body + n, f[i]);
    tg_unknown(g, type, ts, body, n);
}

/* A trace of one chunk holding one record of raw fields: the reader must
 * reject it with want_msg at the record. */
static void expect_raw_rejected(uint8_t type, const uint64_t *f, size_t nf, const char *want_msg)
{
    struct tg g;
    tg_init(&g, 1, T0);
    tg_chunk(&g, 0, T0);
    size_t rec = g.len;
    raw_record(&g, type, T0 + 1, f, nf);
    tg_finish(&g);
    expect_damage(&g, EVT_EFORMAT, want_msg, rec);
    tg_free(&g);
}

/* Every field has a range (u8, u32, i32, string ids up to
 * EVT_MAX_STRING_ID): the last value inside it reads back exactly, and
 * the first one past it (either end for the signed fd) is damage, not a
 * value silently cut to the field's width. */
static void field_range_edges(void **state)
{
    struct tg g;
    strings_start(&g);
    tg_string(&g, T0, EVT_MAX_STRING_ID, "last id");
    tg_ev(&g, &(struct evt_event){ .ts = T0 + 1, .type = EVT_REC_CLOCK, .kind = 255, .val = 1, .val2 = 2 });
    tg_chunk(&g, 0, T0);
    tg_watcher(&g, T0 + 1, UINT32_MAX, 255, INT32_MAX, UINT32_MAX, UINT32_MAX);
    tg_watcher(&g, T0 + 2, 1, 0, INT32_MIN, 0, 0);
    tg_finish(&g);
    evt_reader *r;
    struct evt_event *evs;
    size_t n;
    assert_int_equal(tg_read(g.buf, g.len, &r, &evs, &n), 0);
    assert_events_eq(evs, n, g.expect, g.n_expect);
    assert_string_equal(evt_reader_string(r, EVT_MAX_STRING_ID), "last id");
    read_done(evs, r, &g);

    /* WATCHER: id, kind, zigzag fd, name, loop */
    const uint64_t i32_hi = evt__zigzag((int64_t)INT32_MAX + 1), i32_lo = evt__zigzag((int64_t)INT32_MIN - 1);
    expect_raw_rejected(EVT_REC_WATCHER, (uint64_t[]){ 1, 256, 0, 0, 0 }, 5, "out of range");
    expect_raw_rejected(EVT_REC_WATCHER, (uint64_t[]){ 1, 0, i32_hi, 0, 0 }, 5, "out of range");
    expect_raw_rejected(EVT_REC_WATCHER, (uint64_t[]){ 1, 0, i32_lo, 0, 0 }, 5, "out of range");
    expect_raw_rejected(EVT_REC_WATCHER, (uint64_t[]){ 1, 0, 0, 1ull << 32, 0 }, 5, "out of range");
    expect_raw_rejected(EVT_REC_WATCHER, (uint64_t[]){ 1, 0, 0, 0, 1ull << 32 }, 5, "out of range");
    expect_raw_rejected(EVT_REC_WATCHER, (uint64_t[]){ 1ull << 32, 0, 0, 0, 0 }, 5, "out of range");
    /* CLOCK: kind is a u8 */
    expect_raw_rejected(EVT_REC_CLOCK, (uint64_t[]){ 256, 1, 2, 0 }, 4, "out of range");
    /* STRING: the id bounds the table */
    expect_raw_rejected(EVT_REC_STRING, (uint64_t[]){ EVT_MAX_STRING_ID + 1ull }, 1, "string id 4194304 too large");
}

/* The message of a cut names what was cut: a chunk header (its fixed
 * size) or a chunk (header and payload), and how many bytes remain, the
 * same from memory and from a file. */
static void cut_messages(void **state)
{
    struct multi m;
    build_multi(&m);
    size_t c1 = m.chunk_end[0], whole = m.chunk_end[1] - c1; /* the second chunk */
    char want[128];
    for (int from_file = 0; from_file < 2; from_file++) {
        static const size_t keep[] = { 1, EVT_CHUNK_HEADER_SIZE - 1, EVT_CHUNK_HEADER_SIZE, EVT_CHUNK_HEADER_SIZE + 3 };
        for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
            size_t cut = c1 + keep[i];
            evt_reader *r;
            struct evt_event *evs = NULL;
            size_t n = 0;
            int rc;
            if (from_file) {
                char path[64];
                assert_int_equal(tg_write_tmp(m.g.buf, cut, path, sizeof path), 0);
                assert_int_equal(evt_reader_open(&r, path), 0);
                unlink(path);
                rc = tg_walk(r, &evs, &n);
            } else {
                rc = tg_read(m.g.buf, cut, &r, &evs, &n);
            }
            assert_int_equal(rc, EVT_ETRUNC);
            assert_int_equal(n, m.chunk_events[0]);
            if (keep[i] < EVT_CHUNK_HEADER_SIZE)
                snprintf(want, sizeof want, "truncated: chunk header at offset %zu needs %d bytes, %zu remain", c1,
                         EVT_CHUNK_HEADER_SIZE, keep[i]);
            else
                snprintf(want, sizeof want, "truncated: chunk at offset %zu needs %zu bytes, %zu remain", c1, whole,
                         keep[i]);
            assert_string_equal(evt_reader_error(r), want);
            assert_int_equal(evt_reader_error_offset(r), c1);
            free(evs);
            evt_reader_close(r);
        }
    }
    tg_free(&m.g);
}

/* Chunks that deliver nothing -- an empty payload, or only records of
 * types this reader skips -- are not the end of the trace: the walk goes
 * on to the chunks after them. */
static void empty_chunks_are_skipped(void **state)
{
    struct tg g;
    tg_init(&g, 1, T0);
    tg_chunk(&g, 0, T0);
    tg_simple(&g, EVT_REC_LOOP_BEGIN, T0 + 1, 1);
    tg_chunk(&g, 0, T0 + 2); /* empty */
    tg_chunk(&g, 0, T0 + 2);
    tg_unknown(&g, 0x7e, T0 + 3, NULL, 0); /* nothing this reader delivers */
    tg_chunk(&g, 0, T0 + 4);
    tg_simple(&g, EVT_REC_LOOP_END, T0 + 5, 1);
    tg_chunk(&g, 1, T0 + 6); /* empty, last */
    tg_finish(&g);
    evt_reader *r;
    struct evt_event *evs;
    size_t n;
    assert_int_equal(tg_read(g.buf, g.len, &r, &evs, &n), 0);
    assert_events_eq(evs, n, g.expect, g.n_expect);
    assert_int_equal(n, 2);
    assert_int_equal(evt_reader_events(r), 2);
    assert_int_equal(evt_reader_offset(r), g.len);
    read_done(evs, r, &g);
}

/* header_size at the edges of its range: EVT_FILE_HEADER_MAX itself opens
 * (from memory and from a file, whose header is read into a buffer of
 * that size), one more or one less than EVT_FILE_HEADER_SIZE is out of
 * range, and a header_size one byte past the end of the file is a cut
 * header, not a CRC to compute. */
static void header_size_edges(void **state)
{
    struct tg g;
    tg_init(&g, 6, T0);
    static const uint8_t zeros[EVT_FILE_HEADER_MAX - EVT_FILE_HEADER_SIZE];
    tg_raw(&g, zeros, sizeof zeros);
    evt__put_u32(g.buf + 12, EVT_FILE_HEADER_MAX);
    tg_fix_header(g.buf, EVT_FILE_HEADER_MAX);
    tg_chunk(&g, 0, T0);
    tg_simple(&g, EVT_REC_LOOP_BEGIN, T0 + 1, 1);
    tg_finish(&g);
    evt_reader *r;
    struct evt_event *evs;
    size_t n;
    assert_int_equal(tg_read(g.buf, g.len, &r, &evs, &n), 0);
    assert_events_eq(evs, n, g.expect, g.n_expect);
    assert_int_equal(evt_reader_pid(r), 6);
    free(evs);
    evt_reader_close(r);
    char path[64];
    assert_int_equal(tg_write_tmp(g.buf, g.len, path, sizeof path), 0);
    assert_int_equal(evt_reader_open(&r, path), 0);
    unlink(path);
    assert_int_equal(tg_walk(r, &evs, &n), 0);
    assert_events_eq(evs, n, g.expect, g.n_expect);
    free(evs);
    evt_reader_close(r);
    evt__put_u32(g.buf + 12, EVT_FILE_HEADER_MAX + 1);
    expect_open(g.buf, g.len, EVT_EFORMAT, "header_size 4097 out of range");
    tg_free(&g);

    tg_init(&g, 6, T0);
    evt__put_u32(g.buf + 12, EVT_FILE_HEADER_SIZE + 1);
    expect_open(g.buf, g.len, EVT_ETRUNC, "truncated: the file header needs 41 bytes, 40 present");
    evt__put_u32(g.buf + 12, EVT_FILE_HEADER_SIZE - 1); /* the minimum is EVT_FILE_HEADER_SIZE */
    tg_fix_header(g.buf, EVT_FILE_HEADER_SIZE - 1);
    expect_open(g.buf, g.len, EVT_EFORMAT, "header_size 39 out of range");
    /* a file shorter than the fixed header is a cut file, whatever the
     * fields that are there say */
    evt__put_u16(g.buf + 8, EVT_VERSION_MAJOR + 1);
    expect_open(g.buf, EVT_FILE_HEADER_SIZE - 1, EVT_ETRUNC, "truncated: the file header needs 40 bytes, 39 present");
    tg_free(&g);
}

/* The payload limit itself is allowed: a chunk header claiming exactly
 * EVT_CHUNK_MAX_PAYLOAD bytes, with fewer there, is a cut chunk, where
 * one byte more is damage (damage_messages). */
static void payload_limit_is_inclusive(void **state)
{
    struct tg g;
    tg_init(&g, 1, T0);
    tg_chunk(&g, 0, T0);
    tg_simple(&g, EVT_REC_LOOP_BEGIN, T0 + 1, 1);
    tg_finish(&g);
    evt__put_u32(g.buf + EVT_FILE_HEADER_SIZE + 4, EVT_CHUNK_MAX_PAYLOAD);
    expect_damage(&g, EVT_ETRUNC, "truncated: chunk at offset 40 needs", EVT_FILE_HEADER_SIZE);
    tg_free(&g);
}

/* A program that closed stdin gets fd 0 from open(2): the reader must
 * take it as a file like any other and close it when done. */
static void reads_from_fd_zero(void **state)
{
    struct tg g;
    build_full(&g);
    char path[64];
    assert_int_equal(tg_write_tmp(g.buf, g.len, path, sizeof path), 0);
    int saved = dup(0);
    assert_true(saved >= 0);
    close(0);
    evt_reader *r;
    int rc = evt_reader_open(&r, path);
    unlink(path);
    struct evt_event *evs = NULL;
    size_t n = 0;
    if (rc == 0)
        rc = tg_walk(r, &evs, &n);
    evt_reader_close(rc == 0 ? r : NULL);
    int fd0_open = fcntl(0, F_GETFD) != -1;
    assert_int_equal(dup2(saved, 0), 0);
    close(saved);
    assert_int_equal(rc, 0);
    assert_events_eq(evs, n, g.expect, g.n_expect);
    assert_false(fd0_open); /* closed with the reader */
    free(evs);
    tg_free(&g);
}

struct batches {
    struct evt_event evs[64];
    size_t n, calls, empty_calls;
};

static int collect_batch(void *ctx, const struct evt_event *evs, size_t n)
{
    struct batches *b = ctx;
    b->calls++;
    b->empty_calls += n == 0;
    for (size_t i = 0; i < n && b->n < 64; i++)
        b->evs[b->n++] = evs[i];
    return 0;
}

/* evt_reader_each_batch: one call per chunk that has records (n > 0, as
 * evt_reader.h promises: a chunk that is empty or only holds records this
 * reader skips makes no call), the same records as evt_reader_each. */
static void batch_walk(void **state)
{
    struct tg g;
    strings_start(&g);
    tg_string(&g, T0, 1, "x");
    tg_chunk(&g, 0, T0 + 1); /* empty */
    tg_chunk(&g, 0, T0 + 1);
    tg_unknown(&g, 0x7e, T0 + 2, NULL, 0);
    tg_chunk(&g, 0, T0 + 3);
    tg_simple(&g, EVT_REC_LOOP_BEGIN, T0 + 3, 1);
    tg_simple(&g, EVT_REC_LOOP_END, T0 + 4, 1);
    tg_finish(&g);
    evt_reader *r;
    assert_int_equal(evt_reader_open_mem(&r, g.buf, g.len), 0);
    struct batches b = { .n = 0 };
    assert_int_equal(evt_reader_each_batch(r, collect_batch, &b), 0);
    assert_int_equal(b.empty_calls, 0);
    assert_int_equal(b.calls, 2);
    assert_events_eq(b.evs, b.n, g.expect, g.n_expect);
    assert_int_equal(evt_reader_events(r), 2);
    evt_reader_close(r);
    tg_free(&g);
}

/* The magic is eight bytes, its NUL included: "EVTRACE" followed by
 * anything else is not a trace even with a matching header CRC. */
static void magic_includes_nul(void **state)
{
    struct tg g;
    tg_init(&g, 1, T0);
    g.buf[EVT_FILE_MAGIC_LEN - 1] = 'X';
    tg_fix_header(g.buf, EVT_FILE_HEADER_SIZE);
    expect_open(g.buf, g.len, EVT_EFORMAT, "bad magic");
    tg_free(&g);
}

/* pread(2) returning 0 at the end of a file that was cut leaves errno as
 * it was: a stale EINTR from anything earlier must not make the reader
 * retry forever. (alarm: a regression ends the test instead of hanging
 * it until ctest's timeout.) */
static void stale_errno_at_cut(void **state)
{
    struct multi m;
    build_multi(&m);
    char path[64];
    assert_int_equal(tg_write_tmp(m.g.buf, m.g.len, path, sizeof path), 0);
    evt_reader *r;
    assert_int_equal(evt_reader_open(&r, path), 0);
    assert_int_equal(truncate(path, (off_t)(m.chunk_end[1] - 1)), 0);
    unlink(path);
    struct evt_event *evs;
    size_t n;
    alarm(30);
    errno = EINTR;
    int rc = tg_walk(r, &evs, &n);
    alarm(0);
    assert_int_equal(rc, EVT_ETRUNC);
    assert_int_equal(n, m.chunk_events[0]);
    assert_int_equal(evt_reader_error_offset(r), m.chunk_end[0]);
    free(evs);
    evt_reader_close(r);
    tg_free(&m.g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(roundtrip_every_kind),
        cmocka_unit_test(forward_compatible),
        cmocka_unit_test(invalid_utf8_is_replaced),
        cmocka_unit_test(callback_stops_walk),
        cmocka_unit_test(cut_at_every_byte),
        cmocka_unit_test(file_cut_while_open),
        cmocka_unit_test(flip_every_byte),
        cmocka_unit_test(random_corruption),
        cmocka_unit_test(damage_messages),
        cmocka_unit_test(record_overruns),
        cmocka_unit_test(header_errors),
        cmocka_unit_test(larger_header),
        cmocka_unit_test(file_errors),
        cmocka_unit_test(file_roundtrip),
        cmocka_unit_test(utf8_edges),
        cmocka_unit_test(string_ends_the_file),
        cmocka_unit_test(string_table_growth),
        cmocka_unit_test(field_range_edges),
        cmocka_unit_test(cut_messages),
        cmocka_unit_test(empty_chunks_are_skipped),
        cmocka_unit_test(header_size_edges),
        cmocka_unit_test(payload_limit_is_inclusive),
        cmocka_unit_test(magic_includes_nul),
        cmocka_unit_test(batch_walk),
        cmocka_unit_test(reads_from_fd_zero),
        cmocka_unit_test(stale_errno_at_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
