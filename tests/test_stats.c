/* test_stats.c -- the numbers of `evtrace stats` on traces with known answers. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "evt_stats.h"
#include "evtrace.h"
#include "trace_gen.h"

/* Records to emit in time order (ties keep insertion order). */
struct pend {
    uint64_t ts;
    struct evt_event ev;
    size_t seq;
};

static int cmp_pend(const void *x, const void *y)
{
    const struct pend *a = x, *b = y;
    if (a->ts != b->ts)
        return a->ts < b->ts ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

struct plan {
    struct pend p[128];
    size_t n;
};

static void add(struct plan *pl, uint8_t type, uint64_t ts, uint32_t id, uint32_t arg, uint64_t val)
{
    assert_true(pl->n < 128);
    pl->p[pl->n] = (struct pend){ ts, { .ts = ts, .type = type, .id = id, .arg = arg, .val = val }, pl->n };
    pl->n++;
}

static void span(struct plan *pl, uint8_t begin, uint64_t t0, uint64_t t1, uint32_t id)
{
    add(pl, begin, t0, id, 0, 0);
    add(pl, begin + 1, t1, id, 0, 0);
}

static void request(struct plan *pl, uint64_t t0, uint64_t t1, uint64_t id, uint32_t name)
{
    add(pl, EVT_REC_REQ_BEGIN, t0, name, 0, id);
    add(pl, EVT_REC_REQ_END, t1, 0, 200, id);
}

/* Wall 10 us; iterations 0-4000 and 4000-10000 with polls of 2000 and 5000
 * ns inside: busy 3000/10000, poll 7000/10000. Callbacks of 100..1000 ns
 * (watcher i = i-th). Requests of 100..400 ns, at most 2 at once. */
static void build_known(struct tg *g)
{
    struct plan pl = { .n = 0 };
    span(&pl, EVT_REC_LOOP_BEGIN, 0, 4000, 1);
    span(&pl, EVT_REC_LOOP_BEGIN, 4000, 10000, 1);
    span(&pl, EVT_REC_POLL_BEGIN, 500, 2500, 1);
    span(&pl, EVT_REC_POLL_BEGIN, 4000, 9000, 1);
    for (uint32_t i = 1; i <= 10; i++)
        span(&pl, EVT_REC_CB_BEGIN, i * 900 - 800, i * 900 - 800 + i * 100, i);
    request(&pl, 100, 200, 1, 1);
    request(&pl, 150, 350, 2, 1);
    request(&pl, 1000, 1300, 3, 2);
    request(&pl, 2000, 2400, 4, 2);
    qsort(pl.p, pl.n, sizeof pl.p[0], cmp_pend);
    tg_init(g, 1, 0);
    tg_chunk(g, EVT_THREAD_META, 0);
    tg_string(g, 0, 1, "GET /");
    tg_string(g, 0, 2, "POST /x");
    for (uint32_t i = 1; i <= 10; i++) {
        char name[16];
        snprintf(name, sizeof name, "cb%u", i);
        tg_string(g, 0, 10 + i, name);
    }
    tg_chunk(g, 0, 0);
    for (uint32_t i = 1; i <= 10; i++)
        tg_watcher(g, 0, i, EVT_KIND_IO, (int32_t)i, 10 + i, 1);
    for (size_t i = 0; i < pl.n; i++)
        tg_ev(g, &pl.p[i].ev);
    tg_finish(g);
}

static void load(struct tg *g, struct evt_model *m, int want_rc)
{
    evt_reader *r;
    assert_int_equal(evt_reader_open_mem(&r, g->buf, g->len), 0);
    assert_int_equal(evt_model_load(m, r, NULL, NULL), want_rc);
    evt_reader_close(r);
}

static void percentiles(void **state)
{
    uint64_t v[100];
    for (int i = 0; i < 100; i++)
        v[i] = (uint64_t)i + 1;
    assert_int_equal(evt_stats_percentile(v, 0, 50), 0);
    assert_int_equal(evt_stats_percentile(v, 1, 50), 1);
    assert_int_equal(evt_stats_percentile(v, 1, 99), 1);
    assert_int_equal(evt_stats_percentile(v, 100, 50), 50);
    assert_int_equal(evt_stats_percentile(v, 100, 90), 90);
    assert_int_equal(evt_stats_percentile(v, 100, 99), 99);
    assert_int_equal(evt_stats_percentile(v, 100, 100), 100);
    assert_int_equal(evt_stats_percentile(v, 3, 50), 2);  /* rank ceil(1.5) = 2 */
    assert_int_equal(evt_stats_percentile(v, 10, 99), 10); /* rank ceil(9.9) = 10 */
    assert_int_equal(evt_stats_percentile(v, 10, 0), 1);
}

/* The known trace, read and summed up (stall threshold 800 ns); the
 * caller frees all three. */
static void known_stats(struct tg *g, struct evt_model *m, struct evt_stats *s)
{
    build_known(g);
    load(g, m, 0);
    assert_int_equal(evt_stats_compute(s, m, 800), 0);
}

static void known_values(void **state)
{
    struct tg g;
    struct evt_model m;
    struct evt_stats s;
    known_stats(&g, &m, &s);
    assert_int_equal(s.events, 36);
    assert_int_equal(s.duration_ns, 10000);
    assert_true(s.bytes_per_event > 0 && s.bytes_per_event == (double)g.len / 36);
    assert_int_equal(s.threads, 1);
    assert_int_equal(s.loop_threads, 1);
    assert_int_equal(s.iterations, 2);
    assert_int_equal(s.iter_ns, 10000);
    assert_int_equal(s.poll_ns, 7000);
    assert_int_equal(s.busy_ns, 3000);
    assert_true(s.busy_ratio > 0.2999 && s.busy_ratio < 0.3001);
    assert_true(s.poll_ratio > 0.6999 && s.poll_ratio < 0.7001);
    assert_int_equal(s.callbacks.count, 10);
    assert_int_equal(s.callbacks.p50_ns, 500);
    assert_int_equal(s.callbacks.p99_ns, 1000);
    assert_int_equal(s.callbacks.max_ns, 1000);
    assert_int_equal(s.n_slowest, 5);
    for (size_t i = 0; i < 5; i++) {
        char name[16];
        snprintf(name, sizeof name, "cb%zu", 10 - i);
        assert_string_equal(s.slowest[i].name, name);
        assert_int_equal(s.slowest[i].duration_ns, (10 - i) * 100);
        assert_int_equal(s.slowest[i].start_ns, (10 - i) * 900 - 800);
    }
    assert_int_equal(s.n_stalls, 3); /* >= 800 ns, in time order */
    assert_string_equal(s.stalls[0].name, "cb8");
    assert_string_equal(s.stalls[2].name, "cb10");
    assert_int_equal(s.stalls[2].start_ns, 8200);
    assert_int_equal(s.requests.count, 4);
    assert_int_equal(s.max_concurrency, 2);
    assert_int_equal(s.requests.p50_ns, 200);
    assert_int_equal(s.requests.p90_ns, 400);
    assert_int_equal(s.requests.p99_ns, 400);
    assert_int_equal(s.requests.max_ns, 400);
    assert_int_equal(s.n_by_name, 2);
    assert_string_equal(s.by_name[0].name, "GET /");
    assert_int_equal(s.by_name[0].dist.count, 2);
    assert_int_equal(s.by_name[0].dist.p50_ns, 100);
    assert_int_equal(s.by_name[1].dist.max_ns, 400);
    evt_stats_free(&s);

    assert_int_equal(evt_stats_compute(&s, &m, EVT_STATS_DEFAULT_STALL_NS), 0);
    assert_int_equal(s.n_stalls, 0);
    evt_stats_free(&s);
    evt_model_free(&m);
    tg_free(&g);
}

static json_t *stats_to_json(const struct evt_stats *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(evt_stats_print_json(s, f), 0);
    fclose(f);
    json_error_t err;
    json_t *j = json_loads(buf, 0, &err);
    if (!j)
        fail_msg("bad JSON: %s: %s", err.text, buf);
    free(buf);
    return j;
}

static uint64_t jint(json_t *o, const char *path)
{
    json_t *v = json_object_get(o, path);
    if (!json_is_integer(v))
        fail_msg("no integer '%s'", path);
    return (uint64_t)json_integer_value(v);
}

static void json_keys_and_values(void **state)
{
    struct tg g;
    struct evt_model m;
    struct evt_stats s;
    known_stats(&g, &m, &s);
    json_t *j = stats_to_json(&s);
    assert_int_equal(jint(j, "events"), 36);
    assert_int_equal(jint(j, "lost"), 0);
    assert_int_equal(jint(j, "duration_ns"), 10000);
    assert_int_equal(jint(j, "threads"), 1);
    assert_true(json_is_real(json_object_get(j, "bytes_per_event")));
    assert_true(json_is_false(json_object_get(j, "damaged")));
    json_t *loop = json_object_get(j, "loop");
    assert_int_equal(jint(loop, "iterations"), 2);
    assert_true(json_real_value(json_object_get(loop, "busy_ratio")) > 0.2999);
    assert_true(json_real_value(json_object_get(loop, "poll_ratio")) < 0.7001);
    json_t *cb = json_object_get(j, "callbacks");
    assert_int_equal(jint(cb, "count"), 10);
    assert_int_equal(jint(cb, "p50_ns"), 500);
    assert_int_equal(jint(cb, "p99_ns"), 1000);
    assert_int_equal(jint(cb, "max_ns"), 1000);
    json_t *slow = json_object_get(cb, "slowest");
    assert_int_equal(json_array_size(slow), 5);
    assert_string_equal(json_string_value(json_object_get(json_array_get(slow, 0), "name")), "cb10");
    assert_int_equal(jint(json_array_get(slow, 0), "duration_ns"), 1000);
    assert_int_equal(jint(json_array_get(slow, 0), "start_ns"), 8200);
    json_t *st = json_object_get(j, "stalls");
    assert_int_equal(json_array_size(st), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(st, 0), "name")), "cb8");
    assert_int_equal(jint(json_array_get(st, 0), "start_ns"), 6400);
    assert_int_equal(jint(json_array_get(st, 0), "duration_ns"), 800);
    json_t *rq = json_object_get(j, "requests");
    assert_int_equal(jint(rq, "count"), 4);
    assert_int_equal(jint(rq, "max_concurrency"), 2);
    assert_int_equal(jint(rq, "p50_ns"), 200);
    assert_int_equal(jint(rq, "p90_ns"), 400);
    assert_int_equal(jint(rq, "p99_ns"), 400);
    assert_int_equal(jint(rq, "max_ns"), 400);
    json_decref(j);
    evt_stats_free(&s);
    evt_model_free(&m);
    tg_free(&g);
}

/* Counts above INT64_MAX (only a damaged or foreign trace has them: a LOST
 * count of 2^64-1) are strings of their digits, as export writes them; a
 * cast to jansson's int64 printed -1. INT64_MAX itself stays a number. */
static void json_big_values(void **state)
{
    struct tg g;
    struct evt_model m;
    struct evt_stats s;
    known_stats(&g, &m, &s);
    s.lost = UINT64_MAX;
    s.orphans = (uint64_t)INT64_MAX + 1;
    s.events = INT64_MAX;
    json_t *j = stats_to_json(&s);
    assert_string_equal(json_string_value(json_object_get(j, "lost")), "18446744073709551615");
    assert_string_equal(json_string_value(json_object_get(j, "orphans")), "9223372036854775808");
    assert_int_equal(jint(j, "events"), INT64_MAX);
    json_decref(j);
    evt_stats_free(&s);
    evt_model_free(&m);
    tg_free(&g);
}

/* g's stats (stall threshold 800 ns) as evtrace stats prints them; the
 * caller frees the text. */
static char *stats_text(struct tg *g)
{
    struct evt_model m;
    load(g, &m, 0);
    struct evt_stats s;
    assert_int_equal(evt_stats_compute(&s, &m, 800), 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(evt_stats_print_text(&s, f), 0);
    fclose(f);
    evt_stats_free(&s);
    evt_model_free(&m);
    return buf;
}

static void text_output(void **state)
{
    struct tg g;
    build_known(&g);
    char *buf = stats_text(&g);
    assert_non_null(strstr(buf, "busy 30.0%  poll 70.0%"));
    assert_non_null(strstr(buf, "max in flight 2"));
    assert_non_null(strstr(buf, "3 callbacks >= 800 ns"));
    assert_non_null(strstr(buf, "cb10"));
    assert_null(strstr(buf, "DAMAGED"));
    free(buf);
    tg_free(&g);
}

/* Column (code points) where needle starts in the line of text that
 * begins with "  " prefix; -1 if there is none. */
static long column_of(const char *text, const char *prefix, const char *needle)
{
    char start[64];
    snprintf(start, sizeof start, "\n  %s", prefix);
    const char *line = strstr(text, start);
    if (!line)
        return -1;
    line++;
    const char *at = strstr(line, needle), *eol = strchr(line, '\n');
    if (!at || (eol && at > eol))
        return -1;
    long col = 0;
    for (const char *p = line; p < at; p++)
        col += ((unsigned char)*p & 0xC0) != 0x80;
    return col;
}

/* The per-name rows read as a table whatever the names' lengths (one with
 * a two-byte character), the counts' widths and the figures' units: every
 * row's count ends, and its p50, p90 and max stand, at the same columns. */
static void text_rows_line_up(void **state)
{
    struct plan pl = { .n = 0 };
    request(&pl, 0, 100, 1, 1);
    for (uint64_t i = 0; i < 12; i++)
        request(&pl, 1000 + i * 10, 2000000 + i * 1000000, 10 + i, 2);
    qsort(pl.p, pl.n, sizeof pl.p[0], cmp_pend);
    struct tg g;
    tg_init(&g, 1, 0);
    tg_chunk(&g, EVT_THREAD_META, 0);
    tg_string(&g, 0, 1, "GET /");
    tg_string(&g, 0, 2, "DELETE /movies/{id} \xc3\xa9");
    tg_chunk(&g, 0, 0);
    for (size_t i = 0; i < pl.n; i++)
        tg_ev(&g, &pl.p[i].ev);
    tg_finish(&g);
    char *buf = stats_text(&g);
    const char *needles[] = {"p50 ", "p90 ", "max "};
    assert_true(column_of(buf, "GET /", "12  p50") < 0);   /* the other row's count */
    assert_true(column_of(buf, "DELETE", "12  p50") > 0);
    assert_int_equal(column_of(buf, "GET /", " 1  p50"), column_of(buf, "DELETE", "12  p50"));
    for (size_t i = 0; i < sizeof needles / sizeof *needles; i++) {
        long a = column_of(buf, "GET /", needles[i]), b = column_of(buf, "DELETE", needles[i]);
        assert_true(a > 0);
        assert_int_equal(a, b);
    }
    assert_non_null(strstr(buf, "  max 13.00 ms\n"));   /* the widest figure is not padded */
    free(buf);
    tg_free(&g);
}

/* A stall still running when the trace is cut is reported, unfinished,
 * and percentiles ignore it. */
static void damaged_and_unfinished(void **state)
{
    struct tg g;
    tg_init(&g, 1, 0);
    tg_chunk(&g, 0, 0);
    tg_cb_begin(&g, 0, 1, 0);
    tg_simple(&g, EVT_REC_CB_END, 10, 1);
    tg_cb_begin(&g, 20, 1, 0);
    tg_sample(&g, EVT_REC_MARK, 500000020, 0, 0);
    tg_chunk(&g, 0, 600000000);
    tg_simple(&g, EVT_REC_CB_END, 600000000, 1);
    tg_finish(&g);
    g.len -= 1;
    struct evt_model m;
    load(&g, &m, EVT_ETRUNC);
    struct evt_stats s;
    assert_int_equal(evt_stats_compute(&s, &m, EVT_STATS_DEFAULT_STALL_NS), 0);
    assert_int_equal(s.callbacks.count, 2);
    assert_int_equal(s.callbacks.max_ns, 10);
    assert_int_equal(s.n_stalls, 1);
    assert_int_equal(s.stalls[0].duration_ns, 500000000);
    assert_int_equal(s.stalls[0].complete, 0);
    assert_int_equal(s.damaged, 1);
    json_t *j = stats_to_json(&s);
    assert_true(json_is_true(json_object_get(j, "damaged")));
    assert_non_null(strstr(json_string_value(json_object_get(j, "error")), "truncated"));
    json_decref(j);
    evt_stats_free(&s);
    evt_model_free(&m);
    tg_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(percentiles),
        cmocka_unit_test(known_values),
        cmocka_unit_test(json_keys_and_values),
        cmocka_unit_test(json_big_values),
        cmocka_unit_test(text_output),
        cmocka_unit_test(text_rows_line_up),
        cmocka_unit_test(damaged_and_unfinished),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
