/* test_roundtrip.c -- the real writer (evtrace.h) into memory, read back by
 * the reader, the model, stats and export: the two halves agree. */
#include <ev.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "evt_export.h"
#include "evt_model.h"
#include "evt_stats.h"
#include "evtrace.h"

struct mem {
    unsigned char *buf;
    size_t len, cap;
};

static int mem_sink(void *ctx, const void *data, size_t len)
{
    struct mem *m = ctx;
    if (m->len + len + 1 > m->cap) {
        m->cap = (m->len + len + 1) * 2;
        m->buf = realloc(m->buf, m->cap);
        if (!m->buf)
            return EVT_ENOMEM;
    }
    memcpy(m->buf + m->len, data, len);
    m->len += len;
    m->buf[m->len] = '\0';
    return 0;
}

struct ticks {
    evt_tracer *t;
    uint32_t route, read, process;
    int n;
};

static void on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct ticks *k = w->data;
    uint64_t id = 100 + (uint64_t)k->n;
    evt_request_begin(k->t, id, k->route);
    evt_request_phase(k->t, id, k->read);
    evt_request_phase(k->t, id, k->process);
    evt_request_end(k->t, id, 200 + (uint32_t)k->n);
    if (++k->n == 3)
        ev_timer_stop(loop, w);
}

/* Records three timer callbacks, each one request, plus a mark and a counter. */
static void record(struct mem *out)
{
    evt_tracer *t;
    struct evt_options opt = { .sink = mem_sink, .sink_ctx = out, .no_flush_thread = 1,
                               .no_signal_handlers = 1, .process_name = "roundtrip" };
    assert_int_equal(evt_open(&t, &opt), 0);
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    assert_int_equal(evt_attach_loop(t, loop), 0);
    struct ticks k = { t, evt_intern(t, "GET /"), evt_intern(t, "read"), evt_intern(t, "process"), 0 };
    ev_timer tick;
    ev_timer_init(&tick, on_tick, 0.001, 0.001);
    tick.data = &k;
    assert_int_equal(evt_watch_timer(t, loop, &tick, "tick"), 0);
    ev_timer_start(loop, &tick);
    evt_mark(t, evt_intern(t, "start"), -1);
    evt_counter(t, evt_intern(t, "queue"), 42);
    ev_run(loop, 0);
    evt_detach_loop(t, loop);
    assert_int_equal(evt_close(t), 0);
    ev_loop_destroy(loop);
    assert_int_equal(k.n, 3);
}

/* Three "tick" timer callbacks, each holding one whole request. */
static void check_callbacks(const struct evt_model *m)
{
    size_t ticks = 0;
    for (size_t i = 0; i < m->n_callbacks; i++) {
        const struct evt_m_watcher *w = &m->watchers[m->callbacks[i].watcher];
        if (!strcmp(w->name, "tick")) {
            ticks++;
            assert_int_equal(w->kind, EVT_KIND_TIMER);
            assert_true(m->callbacks[i].complete);
        }
    }
    assert_int_equal(ticks, 3);
    /* each request lies inside one of the tick callbacks */
    for (size_t i = 0; i < 3; i++) {
        int inside = 0;
        for (size_t c = 0; c < m->n_callbacks; c++)
            inside |= m->callbacks[c].t0 <= m->requests[i].t0 && m->requests[i].t1 <= m->callbacks[c].t1;
        assert_true(inside);
    }
}

static void writer_to_model(void **state)
{
    struct mem out = { 0 };
    record(&out);
    evt_reader *r;
    assert_int_equal(evt_reader_open_mem(&r, out.buf, out.len), 0);
    struct evt_model m;
    assert_int_equal(evt_model_load(&m, r, NULL, NULL), 0);
    assert_int_equal(m.damaged, 0);
    assert_string_equal(m.process_name, "roundtrip");
    assert_int_equal(m.lost, 0);
    assert_int_equal(m.n_requests, 3);
    for (size_t i = 0; i < 3; i++) {
        const struct evt_m_request *q = &m.requests[i];
        assert_int_equal(q->id, 100 + i);
        assert_string_equal(q->name, "GET /");
        assert_int_equal(q->status, 200 + i);
        assert_true(q->complete);
        assert_int_equal(q->phase_count, 2);
        assert_string_equal(m.phases[q->phase_first].name, "read");
        assert_string_equal(m.phases[q->phase_first + 1].name, "process");
        assert_true(q->t0 <= m.phases[q->phase_first].t0 && m.phases[q->phase_first + 1].t0 <= q->t1);
    }
    check_callbacks(&m);
    assert_true(m.n_iterations >= 3);
    assert_true(m.n_polls >= 1);
    assert_int_equal(m.n_marks, 1);
    assert_string_equal(m.marks[0].name, "start");
    assert_int_equal(m.marks[0].value, -1);
    assert_int_equal(m.n_counters, 1);
    assert_int_equal(m.counters[0].value, 42);
    assert_true(m.n_threads >= 1);

    struct evt_stats s;
    assert_int_equal(evt_stats_compute(&s, &m, EVT_STATS_DEFAULT_STALL_NS), 0);
    assert_int_equal(s.requests.count, 3);
    assert_int_equal(s.max_concurrency, 1);
    assert_true(s.poll_ratio > 0 && s.poll_ratio + s.busy_ratio <= 1.0001);
    evt_stats_free(&s);
    evt_model_free(&m);

    struct mem json = { 0 };
    assert_int_equal(evt_export_chrome(r, mem_sink, &json), 0);
    json_t *j = json_loads((const char *)json.buf, 0, NULL);
    assert_non_null(j);
    assert_true(json_array_size(json_object_get(j, "traceEvents")) > 20);
    json_decref(j);
    free(json.buf);
    evt_reader_close(r);
    free(out.buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(writer_to_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
