/* test_encode.c -- the chunk encoder, decoded independently (trace_check.c).
 *
 * The encoder is fed raw events by hand, with the monotonic clock source so
 * ticks are nanoseconds and every expected timestamp is known exactly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "evt_encode.h"
#include "evt_format.h"
#include "trace_check.h"

struct fixture {
    struct evt__clock clock;
    struct evt__memsink sink;
    evt__enc *enc;
    struct evt__enc_thread th;
    struct tc_trace tr;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    evt__clock_init_source(&f->clock, EVT__CLOCK_MONOTONIC);
    f->enc = evt__enc_new(evt__memsink_write, &f->sink, &f->clock);
    f->th = (struct evt__enc_thread){.index = 3, .tid = 4242, .name = 7};
    evt__enc_file_header(f->enc, 99, 0, 1000);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    evt__enc_free(f->enc);
    free(f->sink.data);
    tc_free(&f->tr);
    free(f);
    return 0;
}

static struct evt__raw raw(uint64_t ts, int type, int kind, uint64_t obj, uint32_t arg)
{
    return (struct evt__raw){.ts = ts, .obj = obj, .arg = arg, .type = (uint8_t)type, .kind = (uint8_t)kind};
}

/* Commits and decodes; the image must be valid. */
static void decode(struct fixture *f)
{
    assert_int_equal(evt__enc_commit(f->enc), 0);
    int rc = tc_decode(&f->tr, f->sink.data, f->sink.len);
    if (rc)
        fail_msg("decode: %s", f->tr.error);
}

/* Encodes the raw events ev[0, n) as one thread's, ends its chunk and
 * decodes all written so far into f->tr. */
static void encode_and_decode(struct fixture *f, const struct evt__raw *ev, size_t n)
{
    evt__enc_events(f->enc, &f->th, ev, n);
    evt__enc_thread_end(f->enc, &f->th);
    decode(f);
}

static void expect(const struct tc_rec *r, int type, uint64_t ts, int nf, ...)
{
    va_list ap;
    assert_int_equal(r->type, type);
    assert_int_equal(r->ts, ts);
    assert_int_equal(r->nf, nf);
    va_start(ap, nf);
    for (int i = 0; i < nf; i++)
        assert_int_equal(r->f[i], va_arg(ap, uint64_t));
    va_end(ap);
}

#define W1 0x7f0000001000ull
#define W2 0x7f0000002000ull
#define LOOP 0x55550000ull

static void test_every_type(void **state)
{
    struct fixture *f = *state;
    struct evt__raw ev[] = {
        raw(5000, EVT_REC_LOOP_BEGIN, 0, LOOP, 0),
        raw(5100, EVT_REC_WATCHER, EVT_KIND_IO, W1, 9),
        raw(5100, EVT__RAW_CONT, 0, LOOP, 12),
        raw(5200, EVT_REC_POLL_BEGIN, 0, LOOP, 0),
        raw(9200, EVT_REC_POLL_END, 0, LOOP, 0),
        raw(9300, EVT_REC_CB_BEGIN, 0, W1, 1),
        raw(9400, EVT_REC_REQ_BEGIN, 0, 77, 13),
        raw(9500, EVT_REC_REQ_PHASE, 0, 77, 14),
        raw(9600, EVT_REC_REQ_END, 0, 77, 200),
        raw(9700, EVT_REC_MARK, 0, (uint64_t)-5, 15),
        raw(9800, EVT_REC_COUNTER, 0, 123456789, 16),
        raw(9900, EVT_REC_CB_END, 0, W1, 0),
        raw(10000, EVT_REC_WSTOP, EVT_KIND_IO, W1, 9),
        raw(10100, EVT_REC_THREAD, 0, 4242, 17),
        raw(10200, EVT_REC_LOST, 0, 42, 0),
        raw(10200, EVT__RAW_CONT, 0, 10150, 0),
        raw(10300, EVT_REC_LOOP_END, 0, LOOP, 0),
    };
    encode_and_decode(f, ev, sizeof ev / sizeof ev[0]);
    assert_int_equal(f->tr.pid, 99);
    assert_int_equal(f->tr.start_ns, 1000);
    assert_int_equal(f->tr.chunks, 1);
    assert_int_equal(f->tr.n, 16);   /* THREAD announce + 15 (a pair is one record) */
    const struct tc_rec *r = f->tr.recs;
    for (size_t i = 0; i < f->tr.n; i++)
        assert_int_equal(r[i].thread, 3);
    expect(&r[0], EVT_REC_THREAD, 5000, 3, 3ull, 4242ull, 7ull);
    expect(&r[1], EVT_REC_LOOP_BEGIN, 5000, 1, 1ull);
    expect(&r[2], EVT_REC_WATCHER, 5100, 5, 1ull, (uint64_t)EVT_KIND_IO, evt__zigzag(9), 12ull, 1ull);
    expect(&r[3], EVT_REC_POLL_BEGIN, 5200, 1, 1ull);
    expect(&r[4], EVT_REC_POLL_END, 9200, 1, 1ull);
    expect(&r[5], EVT_REC_CB_BEGIN, 9300, 2, 1ull, 1ull);
    expect(&r[6], EVT_REC_REQ_BEGIN, 9400, 2, 77ull, 13ull);
    expect(&r[7], EVT_REC_REQ_PHASE, 9500, 2, 77ull, 14ull);
    expect(&r[8], EVT_REC_REQ_END, 9600, 2, 77ull, 200ull);
    expect(&r[9], EVT_REC_MARK, 9700, 2, 15ull, evt__zigzag(-5));
    expect(&r[10], EVT_REC_COUNTER, 9800, 2, 16ull, evt__zigzag(123456789));
    expect(&r[11], EVT_REC_CB_END, 9900, 1, 1ull);
    expect(&r[12], EVT_REC_WSTOP, 10000, 1, 1ull);   /* same kind and fd: no redefinition */
    expect(&r[13], EVT_REC_THREAD, 10100, 3, 3ull, 4242ull, 17ull);
    expect(&r[14], EVT_REC_LOST, 10200, 2, 42ull, 50ull);
    expect(&r[15], EVT_REC_LOOP_END, 10300, 1, 1ull);
}

/* A reference before any definition defines the watcher as unknown; a
 * reference with another kind redefines it under the same id (address
 * reuse) and forgets the name; a definition that changes nothing writes
 * nothing. Ids are per address, loops and watchers counted apart. */
static void test_watcher_ids(void **state)
{
    struct fixture *f = *state;
    struct evt__raw ev[] = {
        raw(100, EVT_REC_CB_BEGIN, 0, W2, 2),                   /* undefined W2 */
        raw(110, EVT_REC_WATCHER, EVT_KIND_TIMER, W1, (uint32_t)-1),
        raw(110, EVT__RAW_CONT, 0, LOOP, 5),
        raw(120, EVT_REC_WATCHER, EVT_KIND_TIMER, W1, (uint32_t)-1), /* unchanged */
        raw(120, EVT__RAW_CONT, 0, LOOP, 5),
        raw(130, EVT_REC_WSTART, EVT_KIND_SIGNAL, W1, 2),       /* address reused */
        raw(140, EVT_REC_CB_END, 0, W2, 0),
    };
    encode_and_decode(f, ev, sizeof ev / sizeof ev[0]);
    const struct tc_rec *r = f->tr.recs;
    assert_int_equal(f->tr.n, 7);
    expect(&r[1], EVT_REC_WATCHER, 100, 5, 1ull, 0ull, evt__zigzag(-1), 0ull, 0ull);
    expect(&r[2], EVT_REC_CB_BEGIN, 100, 2, 1ull, 2ull);
    expect(&r[3], EVT_REC_WATCHER, 110, 5, 2ull, (uint64_t)EVT_KIND_TIMER, evt__zigzag(-1), 5ull, 1ull);
    expect(&r[4], EVT_REC_WATCHER, 130, 5, 2ull, (uint64_t)EVT_KIND_SIGNAL, evt__zigzag(2), 0ull, 1ull);
    expect(&r[5], EVT_REC_WSTART, 130, 1, 2ull);
    expect(&r[6], EVT_REC_CB_END, 140, 1, 1ull);
    assert_int_equal(tc_count(&f->tr, EVT_REC_WATCHER), 3);
}

/* A destroyed loop's address, reused, gets a new loop id. */
static void test_loop_gone(void **state)
{
    struct fixture *f = *state;
    struct evt__raw ev[] = {
        raw(100, EVT_REC_LOOP_BEGIN, 0, LOOP, 0),
        raw(110, EVT_REC_LOOP_BEGIN, 0, LOOP + 64, 0),
        raw(120, EVT__RAW_LOOP_GONE, 0, LOOP, 0),
        raw(130, EVT_REC_LOOP_BEGIN, 0, LOOP, 0),
        raw(140, EVT_REC_LOOP_BEGIN, 0, LOOP + 64, 0),
    };
    encode_and_decode(f, ev, sizeof ev / sizeof ev[0]);
    assert_int_equal(f->tr.n, 5);
    expect(&f->tr.recs[1], EVT_REC_LOOP_BEGIN, 100, 1, 1ull);
    expect(&f->tr.recs[2], EVT_REC_LOOP_BEGIN, 110, 1, 2ull);
    expect(&f->tr.recs[3], EVT_REC_LOOP_BEGIN, 130, 1, 3ull);
    expect(&f->tr.recs[4], EVT_REC_LOOP_BEGIN, 140, 1, 2ull);
}

/* A two-slot event cut by the ring's wrap (two calls) decodes as one, and
 * the second batch of a thread goes into a new chunk without a second
 * THREAD announcement. Time never runs backwards within a thread. */
static void test_split_pair_and_clamp(void **state)
{
    struct fixture *f = *state;
    struct evt__raw a[] = {raw(1000, EVT_REC_MARK, 0, 1, 1), raw(1010, EVT_REC_LOST, 0, 3, 0)};
    struct evt__raw b[] = {raw(1010, EVT__RAW_CONT, 0, 990, 0), raw(900, EVT_REC_MARK, 0, 2, 1)};
    evt__enc_events(f->enc, &f->th, a, 2);
    evt__enc_events(f->enc, &f->th, b, 2);
    evt__enc_thread_end(f->enc, &f->th);
    struct evt__raw c[] = {raw(2000, EVT_REC_MARK, 0, 3, 1)};
    evt__enc_events(f->enc, &f->th, c, 1);
    evt__enc_thread_end(f->enc, &f->th);
    decode(f);
    assert_int_equal(f->tr.chunks, 2);
    assert_int_equal(f->tr.n, 5);
    expect(&f->tr.recs[2], EVT_REC_LOST, 1010, 2, 3ull, 20ull);
    expect(&f->tr.recs[3], EVT_REC_MARK, 1010, 2, 1ull, evt__zigzag(2));  /* clamped */
    expect(&f->tr.recs[4], EVT_REC_MARK, 2000, 2, 1ull, evt__zigzag(3));
    assert_int_equal(tc_count(&f->tr, EVT_REC_THREAD), 1);
}

/* Meta records: strings (with their bytes), process, clock, in the meta
 * chunk, which a commit writes before the thread chunks encoded earlier. */
static void test_meta_first(void **state)
{
    struct fixture *f = *state;
    struct evt__raw ev[] = {raw(500, EVT_REC_MARK, 0, 1, 1)};
    evt__enc_events(f->enc, &f->th, ev, 1);
    evt__enc_thread_end(f->enc, &f->th);
    evt__enc_string(f->enc, 600, 1, "hello, wörld");
    evt__enc_process(f->enc, 600, 99, 1);
    evt__enc_clock(f->enc, 600);
    decode(f);
    assert_int_equal(f->tr.chunks, 2);
    const struct tc_rec *r = f->tr.recs;
    assert_int_equal(r[0].thread, EVT_THREAD_META);
    assert_int_equal(r[0].type, EVT_REC_STRING);
    assert_string_equal(r[0].str, "hello, wörld");
    expect(&r[1], EVT_REC_PROCESS, 600, 2, 99ull, 1ull);
    assert_int_equal(r[2].type, EVT_REC_CLOCK);
    assert_int_equal(r[2].f[0], 0);
    assert_int_equal(r[2].f[1], 1000000000ull);
    assert_int_equal(r[3].thread, 3);
    assert_string_equal(tc_string(&f->tr, 1), "hello, wörld");
}

/* The CRCs cover every byte but the chunk magic (checked on its own): a
 * flipped bit in the file header, in a chunk header's size, thread or
 * first_ts, or in the payload is caught by the independent decoder. */
static void test_crc(void **state)
{
    struct fixture *f = *state;
    struct evt__raw ev[] = {raw(500, EVT_REC_MARK, 0, 1, 1)};
    evt__enc_events(f->enc, &f->th, ev, 1);
    evt__enc_thread_end(f->enc, &f->th);
    decode(f);
    tc_free(&f->tr);
    assert_int_equal(f->sink.len, EVT_FILE_HEADER_SIZE + EVT_CHUNK_HEADER_SIZE + 12);  /* THREAD 7 + MARK 5 */
    assert_int_equal(evt__get_u32(f->sink.data + 12), EVT_FILE_HEADER_SIZE);
    for (size_t off = 0; off < f->sink.len; off++) {
        f->sink.data[off] ^= 0x10;
        if (tc_decode(&f->tr, f->sink.data, f->sink.len) != -1)
            fail_msg("flip at byte %zu not caught", off);
        /* pid..reserved, then thread..payload: only a CRC can tell (the
         * magic, version, sizes may fail their own checks first) */
        int crc_only = (off >= 16 && off < EVT_FILE_HEADER_SIZE) || off >= EVT_FILE_HEADER_SIZE + 8;
        if (crc_only && !strstr(f->tr.error, "CRC"))
            fail_msg("flip at byte %zu: '%s', not a CRC error", off, f->tr.error);
        tc_free(&f->tr);
        f->sink.data[off] ^= 0x10;
    }
    assert_int_equal(tc_decode(&f->tr, f->sink.data, f->sink.len), 0);
}

/* A huge batch is cut into chunks of a few MiB, and nothing is lost. */
static void test_big_batch_splits(void **state)
{
    struct fixture *f = *state;
    size_t n = 400000;
    struct evt__raw *ev = malloc(n * sizeof *ev);
    for (size_t i = 0; i < n; i++)
        ev[i] = raw(1000 + i * 1000000, EVT_REC_COUNTER, 0, UINT64_MAX / 3 + i, 1);
    evt__enc_events(f->enc, &f->th, ev, n);
    evt__enc_thread_end(f->enc, &f->th);
    free(ev);
    decode(f);
    assert_true(f->tr.chunks >= 2);
    assert_int_equal(tc_count(&f->tr, EVT_REC_COUNTER), n);
    assert_int_equal(tc_count(&f->tr, EVT_REC_THREAD), 1);
    assert_int_equal(f->tr.recs[f->tr.n - 1].ts, 1000 + (n - 1) * 1000000);
    assert_int_equal(evt__enc_records(f->enc), n);
}

/* Many watchers (the id maps grow and collide), callbacks interleaved so
 * that lookups hit, miss the one-entry cache and probe on: every record
 * names the right watcher, each defined exactly once. */
static void test_many_watchers(void **state)
{
    struct fixture *f = *state;
    enum { NW = 2000, ROUNDS = 3 };
    size_t n = (size_t)NW * ROUNDS * 2;
    struct evt__raw *ev = malloc(n * sizeof *ev);
    size_t k = 0;
    for (int round = 0; round < ROUNDS; round++)
        for (uint64_t i = 0; i < NW; i++) {
            uint64_t w = 0x7f0000000000ull + ((i * 7919) % NW) * 96;   /* scattered, reused order */
            ev[k] = raw(100 + k, EVT_REC_CB_BEGIN, 0, w, 1), k++;
            ev[k] = raw(100 + k, EVT_REC_CB_END, 0, w, 0), k++;
        }
    evt__enc_events(f->enc, &f->th, ev, n);
    evt__enc_thread_end(f->enc, &f->th);
    decode(f);
    assert_int_equal(tc_count(&f->tr, EVT_REC_WATCHER), NW);
    uint32_t *id_of = calloc(NW, sizeof *id_of);   /* by address index: the id its definition gave */
    size_t cb = 0;
    for (size_t i = 0; i < f->tr.n; i++) {
        const struct tc_rec *r = &f->tr.recs[i];
        if (r->type != EVT_REC_CB_BEGIN && r->type != EVT_REC_CB_END)
            continue;
        const struct evt__raw *src = &ev[cb++];
        size_t w = (size_t)((src->obj - 0x7f0000000000ull) / 96);
        assert_int_equal(r->ts, src->ts);
        if (!id_of[w])
            id_of[w] = (uint32_t)r->f[0];
        assert_int_equal(r->f[0], id_of[w]);
    }
    assert_int_equal(cb, n);
    assert_int_equal(evt__enc_records(f->enc), n);
    free(id_of);
    free(ev);
}

/* With a TSC clock, events before the clock's base sample take the general
 * path and the rest the fast one: both must convert exactly as
 * evt__clock_to_ns does. */
static void test_tsc_conversion(void **state)
{
    struct fixture *f = *state;
    struct evt__clock tsc = {.source = EVT__CLOCK_TSC, .tsc_base = 1000000, .ns_base = 5000000000ull,
                             .ticks_per_s = 3000000000ull, .ns_per_tick_q32 = (1ull << 32) / 3};
    evt__enc *e = evt__enc_new(evt__memsink_write, &f->sink, &tsc);
    evt__enc_file_header(e, 1, EVT_FILE_FLAG_TSC, 0);
    struct evt__raw ev[] = {
        raw(999000, EVT_REC_LOOP_BEGIN, 0, LOOP, 0), raw(999999, EVT_REC_POLL_BEGIN, 0, LOOP, 0),
        raw(1000000, EVT_REC_POLL_END, 0, LOOP, 0), raw(1000001, EVT_REC_REQ_BEGIN, 0, 9, 1),
        raw(4000000, EVT_REC_REQ_END, 0, 9, 200), raw(3999999, EVT_REC_LOOP_END, 0, LOOP, 0),
    };
    evt__enc_events(e, &f->th, ev, 6);
    evt__enc_thread_end(e, &f->th);
    assert_int_equal(evt__enc_commit(e), 0);
    evt__enc_free(e);
    assert_int_equal(tc_decode(&f->tr, f->sink.data, f->sink.len), 0);
    assert_int_equal(f->tr.n, 7);
    for (int i = 0; i < 5; i++)
        assert_int_equal(f->tr.recs[1 + i].ts, evt__clock_to_ns(&tsc, ev[i].ts));
    assert_int_equal(f->tr.recs[6].ts, f->tr.recs[5].ts);   /* clamped: never backwards */
    assert_true(f->tr.recs[5].ts > f->tr.recs[4].ts);
}

/* The length of v as a canonical (shortest) LEB128 varint. */
static size_t varint_len(uint64_t v)
{
    size_t n = 1;
    for (; v >= 0x80; v >>= 7)
        n++;
    return n;
}

/* Every varint length boundary (2^7k - 1 and 2^7k, up to UINT64_MAX), as
 * fields and as dts, through both paths: REQ_BEGIN (the fast path's
 * put_var, request id and name) and THREAD renames (the general path's
 * rec_put). A value that sits exactly on a boundary is where a byte count
 * or a continuation bit goes wrong, and the decoder would then misframe the
 * record or read another value. */
static void test_varint_edges(void **state)
{
    struct fixture *f = *state;
    static const uint64_t edges[] = {
        0, 0x7f, 0x80, 0x3fff, 0x4000, 0x1fffff, 0x200000, 0xfffffff, 0x10000000, 0x7ffffffffull,
        0x800000000ull, 0x3ffffffffffull, 0x40000000000ull, 0x1ffffffffffffull, 0x2000000000000ull,
        0xffffffffffffffull, 0x100000000000000ull, 0x7fffffffffffffffull, 0x8000000000000000ull, UINT64_MAX,
    };
    enum { NE = sizeof edges / sizeof edges[0] };
    struct evt__raw ev[2 * NE];
    uint64_t ts = 1000;
    for (size_t i = 0; i < NE; i++) {
        uint64_t dt = edges[i] <= 0x2000000000000ull ? edges[i] : 1;   /* dts up to 2^49: no overflow */
        ts += dt;
        ev[2 * i] = raw(ts, EVT_REC_THREAD, 0, edges[i], (uint32_t)edges[i]);
        ts += dt;
        ev[2 * i + 1] = raw(ts, EVT_REC_REQ_BEGIN, 0, edges[i], (uint32_t)edges[i]);
    }
    evt__enc_events(f->enc, &f->th, ev, 2 * NE);
    evt__enc_thread_end(f->enc, &f->th);
    decode(f);
    assert_int_equal(f->tr.n, 1 + 2 * NE);   /* the announcement, then every event */
    /* Every varint in its shortest form: an overlong one (a needless 0x80
     * byte, a trailing 0x00) decodes to the same value, so only the size
     * tells. A record is type, len (one byte here), dt, fields. */
    size_t want = EVT_FILE_HEADER_SIZE + EVT_CHUNK_HEADER_SIZE + 2 + varint_len(0) + varint_len(3) +
                  varint_len(4242) + varint_len(7);
    for (size_t i = 0; i < 2 * NE; i++) {
        uint64_t v = edges[i / 2];
        want += 2 + varint_len(i ? ev[i].ts - ev[i - 1].ts : 0) + (i % 2 == 0 ? varint_len(3) : 0) +
                varint_len(v) + varint_len((uint32_t)v);
    }
    assert_int_equal(f->sink.len, want);
    for (size_t i = 0; i < 2 * NE; i++) {
        const struct tc_rec *r = &f->tr.recs[1 + i];
        uint64_t v = edges[i / 2];
        if (i % 2 == 0)
            expect(r, EVT_REC_THREAD, ev[i].ts, 3, 3ull, v, (uint64_t)(uint32_t)v);
        else
            expect(r, EVT_REC_REQ_BEGIN, ev[i].ts, 2, v, (uint64_t)(uint32_t)v);
    }
}

/* An event can move a thread's time without writing a record: a watcher
 * definition that changes nothing, a raw type the encoder does not know.
 * The next record's dt is from the chunk's previous record, not from the
 * thread's time: otherwise it lands early by the silent event's advance.
 * The silent events count as encoded only if they are a known type. */
static void test_time_moved_without_record(void **state)
{
    struct fixture *f = *state;
    struct evt__raw ev[] = {
        raw(100, EVT_REC_WATCHER, EVT_KIND_TIMER, W1, (uint32_t)-1),
        raw(100, EVT__RAW_CONT, 0, LOOP, 5),
        raw(150, EVT_REC_WATCHER, EVT_KIND_TIMER, W1, (uint32_t)-1),   /* unchanged: no record */
        raw(150, EVT__RAW_CONT, 0, LOOP, 5),
        raw(170, EVT_REC_MARK, 0, 7, 1),
        raw(180, 0x60, 0, 1, 1),                                        /* unknown type: no record */
        raw(190, EVT_REC_REQ_BEGIN, 0, 5, 1),
        raw(200, EVT_REC_CB_BEGIN, 0, W1, 1),
    };
    encode_and_decode(f, ev, sizeof ev / sizeof ev[0]);
    assert_int_equal(f->tr.n, 5);
    const struct tc_rec *r = f->tr.recs;
    expect(&r[1], EVT_REC_WATCHER, 100, 5, 1ull, (uint64_t)EVT_KIND_TIMER, evt__zigzag(-1), 5ull, 1ull);
    expect(&r[2], EVT_REC_MARK, 170, 2, 1ull, evt__zigzag(7));
    expect(&r[3], EVT_REC_REQ_BEGIN, 190, 2, 5ull, 1ull);
    expect(&r[4], EVT_REC_CB_BEGIN, 200, 2, 1ull, 1ull);
    assert_int_equal(evt__enc_records(f->enc), 5);   /* 2 pairs, MARK, REQ, CB: not the unknown one */
}

/* A reference whose kind and fd agree with the watcher's definition writes
 * no WATCHER record; one that changes only the kind (the address now holds
 * another watcher: the name is forgotten) or only the fd (an io watcher
 * moved to another fd: the name is kept) redefines it. Both paths decide
 * this: within a batch the fast path (its cached copy of the definition),
 * and the first event of a thread's chunk the general path. */
static void test_redefine_kind_or_fd(void **state)
{
    struct fixture *f = *state;
    struct evt__raw a[] = {
        raw(100, EVT_REC_WATCHER, EVT_KIND_IO, W1, 9),
        raw(100, EVT__RAW_CONT, 0, LOOP, 12),
        raw(110, EVT_REC_WSTART, EVT_KIND_IO, W1, 9),      /* fast: agrees */
        raw(120, EVT_REC_WSTART, EVT_KIND_IO, W1, 10),     /* fast: fd only */
        raw(130, EVT_REC_WSTOP, EVT_KIND_TIMER, W1, 10),   /* fast: kind only */
    };
    evt__enc_events(f->enc, &f->th, a, sizeof a / sizeof a[0]);
    evt__enc_thread_end(f->enc, &f->th);
    struct evt__raw b[] = {raw(200, EVT_REC_WSTOP, EVT_KIND_TIMER, W1, 10)};   /* general: agrees */
    struct evt__raw c[] = {raw(300, EVT_REC_WSTART, EVT_KIND_IO, W1, 10)};     /* general: kind only */
    struct evt__raw d[] = {raw(400, EVT_REC_WSTART, EVT_KIND_IO, W1, 11)};     /* general: fd only */
    evt__enc_events(f->enc, &f->th, b, 1);
    evt__enc_thread_end(f->enc, &f->th);
    evt__enc_events(f->enc, &f->th, c, 1);
    evt__enc_thread_end(f->enc, &f->th);
    evt__enc_events(f->enc, &f->th, d, 1);
    evt__enc_thread_end(f->enc, &f->th);
    decode(f);
    assert_int_equal(f->tr.chunks, 4);
    assert_int_equal(f->tr.n, 12);
    const struct tc_rec *r = f->tr.recs;
    uint64_t io = EVT_KIND_IO, timer = EVT_KIND_TIMER;
    expect(&r[1], EVT_REC_WATCHER, 100, 5, 1ull, io, evt__zigzag(9), 12ull, 1ull);
    expect(&r[2], EVT_REC_WSTART, 110, 1, 1ull);
    expect(&r[3], EVT_REC_WATCHER, 120, 5, 1ull, io, evt__zigzag(10), 12ull, 1ull);
    expect(&r[4], EVT_REC_WSTART, 120, 1, 1ull);
    expect(&r[5], EVT_REC_WATCHER, 130, 5, 1ull, timer, evt__zigzag(10), 0ull, 1ull);
    expect(&r[6], EVT_REC_WSTOP, 130, 1, 1ull);
    expect(&r[7], EVT_REC_WSTOP, 200, 1, 1ull);
    expect(&r[8], EVT_REC_WATCHER, 300, 5, 1ull, io, evt__zigzag(10), 0ull, 1ull);
    expect(&r[9], EVT_REC_WSTART, 300, 1, 1ull);
    expect(&r[10], EVT_REC_WATCHER, 400, 5, 1ull, io, evt__zigzag(11), 0ull, 1ull);
    expect(&r[11], EVT_REC_WSTART, 400, 1, 1ull);
}

/* The fast path checks an event against the definition of its own
 * watcher: here its neighbours by id have the very kind and fd the event
 * brings, and the event still redefines its watcher. */
static void test_fast_own_definition(void **state)
{
    struct fixture *f = *state;
    struct evt__raw ev[] = {
        raw(100, EVT_REC_WATCHER, EVT_KIND_IO, W1, 9), raw(100, EVT__RAW_CONT, 0, LOOP, 12),
        raw(110, EVT_REC_WATCHER, EVT_KIND_IO, W2, 10), raw(110, EVT__RAW_CONT, 0, LOOP, 13),
        raw(120, EVT_REC_WATCHER, EVT_KIND_IO, W2 + 96, 10), raw(120, EVT__RAW_CONT, 0, LOOP, 14),
        raw(130, EVT_REC_MARK, 0, 1, 1),                  /* the fast path's batch starts */
        raw(140, EVT_REC_WSTART, EVT_KIND_IO, W1, 10),    /* W1 moved to fd 10 */
    };
    encode_and_decode(f, ev, sizeof ev / sizeof ev[0]);
    assert_int_equal(f->tr.n, 7);
    expect(&f->tr.recs[5], EVT_REC_WATCHER, 140, 5, 1ull, (uint64_t)EVT_KIND_IO, evt__zigzag(10), 12ull, 1ull);
    expect(&f->tr.recs[6], EVT_REC_WSTART, 140, 1, 1ull);
}

/* A two-slot event that ends a run is held until the next run brings its
 * continuation, whatever the slot after the run holds: in a ring that is
 * a slot of an older lap, here a stale continuation of another watcher,
 * which must not be taken for this one's. */
static void test_pair_at_run_end(void **state)
{
    struct fixture *f = *state;
    struct evt__raw lap[] = {
        raw(100, EVT_REC_MARK, 0, 1, 1),
        raw(110, EVT_REC_WATCHER, EVT_KIND_IO, W1, 9),
        raw(50, EVT__RAW_CONT, 0, LOOP + 64, 99),   /* stale: not part of the run */
    };
    struct evt__raw next[] = {raw(110, EVT__RAW_CONT, 0, LOOP, 12), raw(120, EVT_REC_MARK, 0, 2, 1)};
    evt__enc_events(f->enc, &f->th, lap, 2);
    evt__enc_events(f->enc, &f->th, next, 2);
    evt__enc_thread_end(f->enc, &f->th);
    decode(f);
    assert_int_equal(f->tr.n, 4);
    expect(&f->tr.recs[2], EVT_REC_WATCHER, 110, 5, 1ull, (uint64_t)EVT_KIND_IO, evt__zigzag(9), 12ull, 1ull);
    expect(&f->tr.recs[3], EVT_REC_MARK, 120, 2, 1ull, evt__zigzag(2));
}

/* The fast path's records at their largest: a dt of 8 bytes and fields of
 * 10 and 5 (a request id of UINT64_MAX, a mark of INT64_MIN), 25 bytes each,
 * thousands of them, so that batches end right at the buffer's end again
 * and again: the room a batch reserves per record must cover that (else it
 * writes past the buffer, which the sanitizers or malloc then see), and
 * every record still decodes. */
static void test_fast_largest_records(void **state)
{
    struct fixture *f = *state;
    enum { N = 5000 };
    struct evt__raw *ev = malloc(N * sizeof *ev);
    for (size_t i = 0; i < N; i++) {
        uint64_t ts = 1000 + i * (1ull << 49);   /* dt 2^49: 8 varint bytes */
        ev[i] = i % 2 ? raw(ts, EVT_REC_REQ_BEGIN, 0, UINT64_MAX, UINT32_MAX)
                      : raw(ts, EVT_REC_MARK, 0, (uint64_t)INT64_MIN, UINT32_MAX);
    }
    evt__enc_events(f->enc, &f->th, ev, N);
    evt__enc_thread_end(f->enc, &f->th);
    decode(f);
    assert_int_equal(f->tr.n, 1 + N);
    for (size_t i = 1; i < N; i++) {   /* the first is the chunk's, dt 0 */
        const struct tc_rec *r = &f->tr.recs[1 + i];
        if (i % 2)
            expect(r, EVT_REC_REQ_BEGIN, ev[i].ts, 2, UINT64_MAX, (uint64_t)UINT32_MAX);
        else
            expect(r, EVT_REC_MARK, ev[i].ts, 2, (uint64_t)UINT32_MAX, UINT64_MAX);
    }
    assert_int_equal(evt__enc_records(f->enc), N);
    free(ev);
}

/* A failing sink: the error comes back, then sticks. */
static int failing_sink(void *ctx, const void *data, size_t len)
{
    return -28;   /* ENOSPC */
}

static void test_sink_error(void **state)
{
    struct fixture *f = *state;
    evt__enc *e = evt__enc_new(failing_sink, NULL, &f->clock);
    evt__enc_file_header(e, 1, 0, 0);
    assert_int_equal(evt__enc_commit(e), -28);
    evt__enc_string(e, 1, 1, "x");
    assert_int_equal(evt__enc_commit(e), -28);
    evt__enc_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_every_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watcher_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loop_gone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_split_pair_and_clamp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_meta_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_big_batch_splits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_watchers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tsc_conversion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sink_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_varint_edges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_time_moved_without_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_redefine_kind_or_fd, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fast_own_definition, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pair_at_run_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fast_largest_records, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
