/* test_export.c -- Chrome trace JSON: parse it back and check it. */
#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "evt_export.h"
#include "evtrace.h"
#include "trace_gen.h"

#define T0 5000000000ull
#define NASTY "he said \"hi\"\\\n\ttab \xc3\xa9"

static void build_at(struct tg *g, uint32_t pid, uint64_t t0)
{
    tg_init(g, pid, t0);
    tg_chunk(g, EVT_THREAD_META, t0);
    tg_string(g, t0, 1, "srv");
    tg_string(g, t0, 2, NASTY);
    tg_string(g, t0, 3, "read");
    tg_string(g, t0, 4, "process");
    tg_string(g, t0, 5, "GET /");
    tg_string(g, t0, 6, "queue");
    tg_ev(g, &(struct evt_event){ .ts = t0, .type = EVT_REC_PROCESS, .val = pid, .id = 1 });
    tg_ev(g, &(struct evt_event){ .ts = t0, .type = EVT_REC_THREAD, .thread = 0, .arg = pid, .id = 1 });
    tg_chunk(g, 0, t0 + 1000);
    tg_watcher(g, t0 + 1000, 1, EVT_KIND_IO, 7, 2, 1);
    tg_watcher(g, t0 + 1000, 2, EVT_KIND_TIMER, -1, 0, 1);
    tg_simple(g, EVT_REC_LOOP_BEGIN, t0 + 1000, 1);
    tg_simple(g, EVT_REC_POLL_BEGIN, t0 + 1100, 1);
    tg_simple(g, EVT_REC_POLL_END, t0 + 1234567, 1);          /* ts 1234.567 us */
    tg_cb_begin(g, t0 + 1234600, 1, 1);
    tg_req(g, EVT_REC_REQ_BEGIN, t0 + 1234700, 7, 5);
    tg_req(g, EVT_REC_REQ_PHASE, t0 + 1234800, 7, 3);
    tg_req(g, EVT_REC_REQ_BEGIN, t0 + 1234850, 8, 5);
    tg_req(g, EVT_REC_REQ_PHASE, t0 + 1234900, 7, 4);
    tg_sample(g, EVT_REC_COUNTER, t0 + 1235000, 6, -3);
    tg_sample(g, EVT_REC_MARK, t0 + 1235001, 6, 9);
    tg_req(g, EVT_REC_REQ_END, t0 + 1236000, 7, 200);
    tg_simple(g, EVT_REC_CB_END, t0 + 1236001, 1);
    tg_cb_begin(g, t0 + 1237000, 2, 256);                     /* never ends */
    tg_lost(g, t0 + 1238000, 17, 500);
    tg_finish(g);
}

static void build(struct tg *g)
{
    build_at(g, 321, T0);
}

struct mem {
    char *buf;
    size_t len, cap, calls, max_write;
    int fail_at; /* calls: return -EIO on this call (1-based), 0 = never */
};

static int mem_sink(void *ctx, const void *data, size_t len)
{
    struct mem *m = ctx;
    m->calls++;
    if (m->fail_at && (int)m->calls == m->fail_at)
        return -EIO;
    if (len > m->max_write)
        m->max_write = len;
    if (!m->buf && m->cap == SIZE_MAX) /* counting only */
        return (m->len += len, 0);
    if (m->len + len + 1 > m->cap) {
        m->cap = (m->len + len + 1) * 2;
        m->buf = realloc(m->buf, m->cap);
    }
    memcpy(m->buf + m->len, data, len);
    m->len += len;
    m->buf[m->len] = '\0';
    return 0;
}

static json_t *export_json(struct tg *g, int want_rc, struct mem *out)
{
    evt_reader *r;
    assert_int_equal(evt_reader_open_mem(&r, g->buf, g->len), 0);
    assert_int_equal(evt_export_chrome(r, mem_sink, out), want_rc);
    evt_reader_close(r);
    json_error_t err;
    json_t *j = json_loads(out->buf, 0, &err);
    if (!j)
        fail_msg("bad JSON (%s, line %d): %s", err.text, err.line, out->buf);
    return j;
}

static const char *sget(json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

/* Index of the first event matching ph (and name, id if not NULL) at or after from. */
static long find(json_t *evs, size_t from, const char *ph, const char *name, const char *id)
{
    for (size_t i = from; i < json_array_size(evs); i++) {
        json_t *e = json_array_get(evs, i);
        if (strcmp(sget(e, "ph"), ph) == 0 && (!name || (sget(e, "name") && !strcmp(sget(e, "name"), name))) &&
            (!id || (sget(e, "id") && !strcmp(sget(e, "id"), id))))
            return (long)i;
    }
    return -1;
}

static size_t count_ph(json_t *evs, const char *ph)
{
    size_t n = 0;
    for (size_t i = 0; i < json_array_size(evs); i++)
        n += strcmp(sget(json_array_get(evs, i), "ph"), ph) == 0;
    return n;
}

static void structure_and_counts(void **state)
{
    struct tg g;
    build(&g);
    struct mem out = { 0 };
    json_t *j = export_json(&g, 0, &out);
    json_t *evs = json_object_get(j, "traceEvents");
    assert_true(json_is_array(evs));
    assert_int_equal(count_ph(evs, "X"), 4);       /* iteration, poll, 2 callbacks: complete events */
    assert_int_equal(count_ph(evs, "B") + count_ph(evs, "E"), 0);
    assert_int_equal(count_ph(evs, "b"), 4);       /* 2 requests, 2 phases */
    assert_int_equal(count_ph(evs, "e"), 4);
    assert_int_equal(count_ph(evs, "C"), 4);       /* 3 in-flight + 1 counter */
    assert_int_equal(count_ph(evs, "i"), 2);       /* mark, lost */
    assert_int_equal(count_ph(evs, "M"), 2);       /* process_name, thread_name */
    long pm = find(evs, 0, "M", "process_name", NULL);
    assert_string_equal(sget(json_object_get(json_array_get(evs, pm), "args"), "name"), "srv");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(evs, pm), "pid")), 321);
    json_t *other = json_object_get(j, "otherData");
    assert_true(json_is_false(json_object_get(other, "damaged")));
    json_decref(j);
    free(out.buf);
    tg_free(&g);
}

static double num(json_t *e, const char *k) { return json_number_value(json_object_get(e, k)); }

/* Spans on one thread either nest or do not overlap. */
static void assert_nested(json_t *evs)
{
    for (size_t i = 0; i < json_array_size(evs); i++) {
        json_t *a = json_array_get(evs, i);
        if (strcmp(sget(a, "ph"), "X"))
            continue;
        for (size_t k = 0; k < json_array_size(evs); k++) {
            json_t *b = json_array_get(evs, k);
            if (k == i || strcmp(sget(b, "ph"), "X") ||
                json_integer_value(json_object_get(a, "tid")) != json_integer_value(json_object_get(b, "tid")))
                continue;
            double a0 = num(a, "ts"), a1 = a0 + num(a, "dur"), b0 = num(b, "ts"), b1 = b0 + num(b, "dur");
            int disjoint = a1 <= b0 || b1 <= a0, a_in_b = a0 >= b0 && a1 <= b1, b_in_a = b0 >= a0 && b1 <= a1;
            assert_true(disjoint || a_in_b || b_in_a);
        }
    }
}

static void timestamps_keep_fraction(void **state)
{
    struct tg g;
    build(&g);
    struct mem out = { 0 };
    json_t *j = export_json(&g, 0, &out);
    json_t *evs = json_object_get(j, "traceEvents");
    /* the poll: T0 + 1.1 us to T0 + 1234.567 us, ns kept in ts and dur */
    long poll = find(evs, 0, "X", "poll", NULL);
    assert_true(poll >= 0);
    assert_non_null(strstr(out.buf, "\"ts\":1.100,\"dur\":1233.467"));
    double ts = num(json_array_get(evs, poll), "ts"), dur = num(json_array_get(evs, poll), "dur");
    assert_true(ts > 1.0999 && ts < 1.1001);
    assert_true(ts + dur > 1234.5669 && ts + dur < 1234.5671);
    long lb = find(evs, 0, "X", "iteration", NULL);
    assert_true(num(json_array_get(evs, lb), "ts") == 1.0);
    assert_nested(evs);
    json_decref(j);
    free(out.buf);
    tg_free(&g);
}

static void requests_phases_names(void **state)
{
    struct tg g;
    build(&g);
    struct mem out = { 0 };
    json_t *j = export_json(&g, 0, &out);
    json_t *evs = json_object_get(j, "traceEvents");
    long rb = find(evs, 0, "b", "GET /", "0x7");
    long p1b = find(evs, 0, "b", "read", "0x7");
    long p1e = find(evs, 0, "e", "read", "0x7");
    long p2b = find(evs, 0, "b", "process", "0x7");
    long p2e = find(evs, 0, "e", "process", "0x7");
    long re = find(evs, 0, "e", "GET /", "0x7");
    assert_true(rb >= 0 && rb < p1b && p1b < p1e && p1e < p2b && p2b < p2e && p2e < re);
    json_t *end = json_array_get(evs, re);
    assert_string_equal(sget(end, "cat"), "request");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(end, "args"), "status")), 200);
    /* request 8 never ended: closed at the end, unfinished */
    long e8 = find(evs, 0, "e", "GET /", "0x8");
    assert_true(e8 > re);
    assert_true(json_is_true(json_object_get(json_object_get(json_array_get(evs, e8), "args"), "unfinished")));
    /* in flight: 1, 2, then 1 */
    long c = find(evs, 0, "C", "requests in flight", NULL);
    long c2 = find(evs, (size_t)c + 1, "C", "requests in flight", NULL);
    long c3 = find(evs, (size_t)c2 + 1, "C", "requests in flight", NULL);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(json_array_get(evs, c3), "args"), "requests")),
                     1);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(json_array_get(evs, c2), "args"), "requests")),
                     2);
    /* the callback's name went through escaping and came back intact */
    long cb = find(evs, 0, "X", NASTY, NULL);
    assert_true(cb >= 0);
    assert_string_equal(sget(json_array_get(evs, cb), "cat"), "io");
    long timer = find(evs, 0, "X", "timer #2", NULL);   /* never ended: closed at the end, unfinished */
    assert_true(timer > cb);
    assert_true(json_is_true(json_object_get(json_object_get(json_array_get(evs, timer), "args"), "unfinished")));
    assert_null(json_object_get(json_object_get(json_array_get(evs, cb), "args"), "unfinished"));
    long counter = find(evs, 0, "C", "queue", NULL);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(json_array_get(evs, counter), "args"), "value")),
                     -3);
    long lost = find(evs, 0, "i", "lost events", NULL);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(json_array_get(evs, lost), "args"), "count")),
                     17);
    json_decref(j);
    free(out.buf);
    tg_free(&g);
}

static void damaged_still_valid(void **state)
{
    struct tg g;
    build(&g);
    g.len -= 3;
    struct mem out = { 0 };
    json_t *j = export_json(&g, EVT_ETRUNC, &out);
    json_t *evs = json_object_get(j, "traceEvents");
    assert_int_equal(count_ph(evs, "X"), 0); /* the damaged chunk delivered nothing */
    assert_int_equal(count_ph(evs, "M"), 2);
    json_t *other = json_object_get(j, "otherData");
    assert_true(json_is_true(json_object_get(other, "damaged")));
    assert_non_null(strstr(sget(other, "error"), "truncated"));
    json_decref(j);
    free(out.buf);
    tg_free(&g);
}

/* Two traces in one document (a program and its fork child): a process
 * each, one time axis from the earlier start, request ids kept apart by
 * pid (both traces have requests 7 and 8), each trace's state its own; a
 * damaged second trace still leaves the first whole. */
static void many_traces(void **state)
{
    struct tg a, b;
    build_at(&a, 321, T0);
    build_at(&b, 654, T0 + 2000000);   /* starts 2 ms later */
    evt_reader *rs[2];   /* the later one first: the axis starts at the earliest */
    assert_int_equal(evt_reader_open_mem(&rs[0], b.buf, b.len), 0);
    assert_int_equal(evt_reader_open_mem(&rs[1], a.buf, a.len), 0);
    struct mem out = { 0 };
    assert_int_equal(evt_export_chrome_many(rs, 2, mem_sink, &out), 0);
    json_t *j = json_loads(out.buf, 0, NULL);
    assert_non_null(j);
    json_t *evs = json_object_get(j, "traceEvents");
    assert_int_equal(count_ph(evs, "X"), 8);
    assert_int_equal(count_ph(evs, "b"), 8);
    assert_int_equal(count_ph(evs, "e"), 8);
    long r1 = find(evs, 0, "b", "GET /", "321:0x7"), r2 = find(evs, 0, "b", "GET /", "654:0x7");
    assert_true(r2 >= 0 && r1 > r2);
    assert_int_equal(find(evs, 0, "b", "GET /", "0x7"), -1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(evs, r2), "pid")), 654);
    /* the same event 2 ms later in the second trace */
    double t1 = json_number_value(json_object_get(json_array_get(evs, r1), "ts"));
    double t2 = json_number_value(json_object_get(json_array_get(evs, r2), "ts"));
    assert_true(t2 - t1 > 1999.999 && t2 - t1 < 2000.001);
    assert_true(t1 > 1234.6999 && t1 < 1234.7001);
    json_t *other = json_object_get(j, "otherData");
    assert_int_equal(json_integer_value(json_object_get(other, "start_ns")), T0);
    assert_int_equal(json_array_size(json_object_get(other, "traces")), 2);
    json_decref(j);
    free(out.buf);

    a.len -= 3;   /* the second one truncated */
    evt_reader_close(rs[1]);
    assert_int_equal(evt_reader_open_mem(&rs[1], a.buf, a.len), 0);
    out = (struct mem){ 0 };
    assert_int_equal(evt_export_chrome_many(rs, 2, mem_sink, &out), EVT_ETRUNC);
    j = json_loads(out.buf, 0, NULL);
    assert_non_null(j);
    evs = json_object_get(j, "traceEvents");
    assert_int_equal(count_ph(evs, "X"), 4);    /* the first trace's, all of them */
    other = json_object_get(j, "otherData");
    assert_true(json_is_true(json_object_get(other, "damaged")));
    json_t *second = json_array_get(json_object_get(other, "traces"), 1);
    assert_true(json_is_true(json_object_get(second, "damaged")));
    assert_true(json_is_false(json_object_get(json_array_get(json_object_get(other, "traces"), 0), "damaged")));
    json_decref(j);
    free(out.buf);
    evt_reader_close(rs[0]);
    evt_reader_close(rs[1]);
    tg_free(&a);
    tg_free(&b);
}

/* Spans left open close at the trace's end: the CLOCK record written at
 * close when it is later than the last event (a program killed in a
 * callback or in poll). */
static void open_spans_end_at_close(void **state)
{
    struct tg g;
    tg_init(&g, 1, T0);
    tg_chunk(&g, 0, T0 + 1000);
    tg_cb_begin(&g, T0 + 1000, 1, 1);   /* never ends */
    tg_chunk(&g, EVT_THREAD_META, T0 + 7000);
    tg_ev(&g, &(struct evt_event){ .ts = T0 + 7000, .type = EVT_REC_CLOCK, .kind = 1, .val = 1000000000 });
    tg_finish(&g);
    struct mem out = { 0 };
    json_t *j = export_json(&g, 0, &out);
    json_t *evs = json_object_get(j, "traceEvents");
    long e = find(evs, 0, "X", NULL, NULL);
    assert_true(e >= 0);
    assert_true(num(json_array_get(evs, e), "ts") == 1.0 && num(json_array_get(evs, e), "dur") == 6.0);
    json_decref(j);
    free(out.buf);
    tg_free(&g);
}

/* Values past INT64_MAX (a foreign or damaged trace's start, a request id
 * that is a hash, a lost count) are written as strings: parsers such as
 * jansson and Perfetto's refuse the whole document over one bigger
 * integer. Smaller ones stay numbers. */
static void huge_values_stay_parseable(void **state)
{
    const uint64_t start = UINT64_MAX - 5000000, id = UINT64_MAX - 1;
    struct tg g;
    tg_init(&g, 1, start);
    tg_chunk(&g, 0, start + 1000);
    tg_req(&g, EVT_REC_REQ_BEGIN, start + 1000, id, 0);
    tg_req(&g, EVT_REC_REQ_BEGIN, start + 1500, 42, 0);
    tg_lost(&g, start + 2000, UINT64_MAX, 1000);
    tg_finish(&g);
    struct mem out = { 0 };
    json_t *j = export_json(&g, 0, &out);
    json_t *other = json_object_get(j, "otherData");
    assert_string_equal(sget(other, "start_ns"), "18446744073704551615");
    json_t *evs = json_object_get(j, "traceEvents");
    long b = find(evs, 0, "b", NULL, "0xfffffffffffffffe");
    assert_true(b >= 0);
    assert_string_equal(sget(json_object_get(json_array_get(evs, b), "args"), "id"), "18446744073709551614");
    b = find(evs, 0, "b", NULL, "0x2a");
    assert_true(b >= 0);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(json_array_get(evs, b), "args"), "id")), 42);
    long l = find(evs, 0, "i", "lost events", NULL);
    assert_true(l >= 0);
    json_t *args = json_object_get(json_array_get(evs, l), "args");
    assert_string_equal(sget(args, "count"), "18446744073709551615");
    assert_int_equal(json_integer_value(json_object_get(args, "span_ns")), 1000);
    json_decref(j);
    free(out.buf);
    tg_free(&g);
}

/* Output goes out in bounded pieces as it is made (it streams), and the
 * sink's error stops the export. */
static void streams_and_fails(void **state)
{
    struct tg g;
    tg_init(&g, 1, 0);
    g.no_expect = 1;
    uint64_t ts = 0;
    for (int c = 0; c < 20; c++) {
        tg_chunk(&g, 0, ts);
        for (int i = 0; i < 5000; i++, ts += 1000) {
            tg_cb_begin(&g, ts, 1, 0);
            tg_simple(&g, EVT_REC_CB_END, ts + 500, 1);
        }
    }
    tg_finish(&g);
    evt_reader *r;
    assert_int_equal(evt_reader_open_mem(&r, g.buf, g.len), 0);
    struct mem count = { .cap = SIZE_MAX };
    assert_int_equal(evt_export_chrome(r, mem_sink, &count), 0);
    assert_true(count.len > 8 * 1000 * 1000);   /* 100k complete events of ~100 bytes */
    assert_true(count.max_write <= 65536);
    assert_true(count.calls >= count.len / 65536);
    struct mem failing = { .cap = SIZE_MAX, .fail_at = 3 };
    assert_int_equal(evt_export_chrome(r, mem_sink, &failing), -EIO);
    assert_int_equal(failing.calls, 3);           /* stopped at the first error */
    evt_reader_close(r);
    tg_free(&g);
}

/* A watcher id redefined mid-trace: callbacks before and after carry the
 * name of the definition current at their time. */
static void watcher_redefined(void **state)
{
    struct tg g;
    tg_init(&g, 1, 0);
    tg_chunk(&g, EVT_THREAD_META, 0);
    tg_string(&g, 0, 1, "conn A");
    tg_string(&g, 0, 2, "conn B");
    tg_chunk(&g, 0, 10);
    tg_watcher(&g, 10, 1, EVT_KIND_IO, 5, 1, 1);
    tg_cb_begin(&g, 20, 1, 1);
    tg_simple(&g, EVT_REC_CB_END, 30, 1);
    tg_watcher(&g, 50, 1, EVT_KIND_IO, 9, 2, 1);
    tg_cb_begin(&g, 60, 1, 1);
    tg_simple(&g, EVT_REC_CB_END, 70, 1);
    tg_finish(&g);
    struct mem out = { 0 };
    json_t *j = export_json(&g, 0, &out);
    json_t *evs = json_object_get(j, "traceEvents");
    long a = find(evs, 0, "X", "conn A", NULL), b = find(evs, 0, "X", "conn B", NULL);
    assert_true(a >= 0 && b > a);
    assert_int_equal(find(evs, (size_t)a + 1, "X", "conn A", NULL), -1);
    json_decref(j);
    free(out.buf);
    tg_free(&g);
}

/* Thread 1's chunk (phase and end of request 5, and a stale end of an
 * earlier request 6) is in the file before thread 0's chunk with the
 * begins: the waiting records are replayed after their begin. */
static void request_across_threads(void **state)
{
    struct tg g;
    tg_init(&g, 1, 0);
    tg_chunk(&g, EVT_THREAD_META, 0);
    tg_string(&g, 0, 1, "job");
    tg_string(&g, 0, 2, "db");
    tg_chunk(&g, 1, 150);
    tg_req(&g, EVT_REC_REQ_END, 150, 6, 0);      /* older than 6's begin: stale */
    tg_req(&g, EVT_REC_REQ_PHASE, 300, 5, 2);
    tg_req(&g, EVT_REC_REQ_END, 400, 5, 201);
    tg_chunk(&g, 0, 100);
    tg_req(&g, EVT_REC_REQ_BEGIN, 100, 5, 1);
    tg_req(&g, EVT_REC_REQ_BEGIN, 200, 6, 1);
    tg_finish(&g);
    struct mem out = { 0 };
    json_t *j = export_json(&g, 0, &out);
    json_t *evs = json_object_get(j, "traceEvents");
    long b = find(evs, 0, "b", "job", "0x5"), pb = find(evs, 0, "b", "db", "0x5");
    long pe = find(evs, 0, "e", "db", "0x5"), e = find(evs, 0, "e", "job", "0x5");
    assert_true(b >= 0 && b < pb && pb < pe && pe < e);
    json_t *end = json_array_get(evs, e);
    assert_true(json_number_value(json_object_get(end, "ts")) > 0.3999);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(end, "args"), "status")), 201);
    long e6 = find(evs, 0, "e", "job", "0x6"); /* closed at the end, not by the stale end */
    assert_true(json_is_true(json_object_get(json_object_get(json_array_get(evs, e6), "args"), "unfinished")));
    json_decref(j);
    free(out.buf);
    tg_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(structure_and_counts),
        cmocka_unit_test(timestamps_keep_fraction),
        cmocka_unit_test(requests_phases_names),
        cmocka_unit_test(damaged_still_valid),
        cmocka_unit_test(many_traces),
        cmocka_unit_test(open_spans_end_at_close),
        cmocka_unit_test(streams_and_fails),
        cmocka_unit_test(watcher_redefined),
        cmocka_unit_test(request_across_threads),
        cmocka_unit_test(huge_values_stay_parseable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
