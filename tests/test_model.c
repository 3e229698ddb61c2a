/* test_model.c -- pairing records into spans, requests, series. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "evt_model.h"
#include "evtrace.h"
#include "trace_gen.h"

static int load(struct tg *g, struct evt_model *m)
{
    evt_reader *r;
    assert_int_equal(evt_reader_open_mem(&r, g->buf, g->len), 0);
    int rc = evt_model_load(m, r, NULL, NULL);
    evt_reader_close(r);
    return rc;
}

static void spans_pair_and_nest(void **state)
{
    struct tg g;
    tg_init(&g, 1, 0);
    tg_chunk(&g, 0, 100);
    tg_simple(&g, EVT_REC_LOOP_BEGIN, 100, 1);
    tg_simple(&g, EVT_REC_POLL_BEGIN, 110, 1);
    tg_simple(&g, EVT_REC_POLL_END, 200, 1);
    tg_cb_begin(&g, 210, 1, 1);
    tg_cb_begin(&g, 220, 2, 2);       /* nested: ev_run inside a callback */
    tg_simple(&g, EVT_REC_CB_END, 230, 2);
    tg_simple(&g, EVT_REC_CB_END, 300, 1);
    tg_simple(&g, EVT_REC_LOOP_END, 310, 1);
    tg_finish(&g);
    struct evt_model m;
    assert_int_equal(load(&g, &m), 0);
    assert_int_equal(m.events, 8);
    assert_int_equal(m.t_min, 100);
    assert_int_equal(m.t_max, 310);
    assert_int_equal(m.n_iterations, 1);
    assert_true(m.iterations[0].t0 == 100 && m.iterations[0].t1 == 310 && m.iterations[0].complete);
    assert_int_equal(m.iterations[0].loop, 1);
    assert_int_equal(m.n_polls, 1);
    assert_true(m.polls[0].t0 == 110 && m.polls[0].t1 == 200 && m.polls[0].complete);
    assert_int_equal(m.n_callbacks, 2);
    assert_true(m.callbacks[0].t0 == 210 && m.callbacks[0].t1 == 300 && m.callbacks[0].depth == 0);
    assert_true(m.callbacks[1].t0 == 220 && m.callbacks[1].t1 == 230 && m.callbacks[1].depth == 1);
    assert_int_equal(m.callbacks[1].watcher, 2);
    assert_int_equal(m.callbacks[1].revents, 2);
    assert_true(m.callbacks[0].complete && m.callbacks[1].complete);
    assert_int_equal(m.orphans, 0);
    assert_int_equal(m.damaged, 0);
    assert_string_equal(m.error, "");
    assert_int_equal(m.n_threads, 1);
    evt_model_free(&m);
    tg_free(&g);
}

static void unmatched_records(void **state)
{
    struct tg g;
    tg_init(&g, 1, 0);
    tg_chunk(&g, 0, 100);
    tg_simple(&g, EVT_REC_CB_END, 100, 5);      /* orphan */
    tg_simple(&g, EVT_REC_LOOP_END, 105, 1);    /* orphan */
    tg_cb_begin(&g, 110, 1, 0);
    tg_cb_begin(&g, 120, 2, 0);
    tg_simple(&g, EVT_REC_CB_END, 150, 1);      /* closes 1; 2 ends with it, unfinished */
    tg_cb_begin(&g, 160, 3, 0);                 /* never ends */
    tg_simple(&g, EVT_REC_LOOP_BEGIN, 170, 1);  /* never ends */
    tg_sample(&g, EVT_REC_MARK, 500, 0, 1);
    tg_finish(&g);
    struct evt_model m;
    assert_int_equal(load(&g, &m), 0);
    assert_int_equal(m.orphans, 2);
    assert_int_equal(m.n_callbacks, 3);
    assert_true(m.callbacks[0].t1 == 150 && m.callbacks[0].complete);
    assert_true(m.callbacks[1].t1 == 150 && !m.callbacks[1].complete);
    assert_true(m.callbacks[2].t1 == 500 && !m.callbacks[2].complete); /* t_max */
    assert_true(m.n_iterations == 1 && m.iterations[0].t1 == 500 && !m.iterations[0].complete);
    evt_model_free(&m);
    tg_free(&g);
}

/* A program killed while it waits in poll: the writer's CLOCK record at
 * close is the trace's end, and the open poll and iteration last until it
 * (unfinished), not until the last event. The CLOCK at open changes no
 * start. */
static void ends_at_closing_clock(void **state)
{
    struct tg g;
    tg_init(&g, 1, 0);
    tg_chunk(&g, EVT_THREAD_META, 50);
    tg_ev(&g, &(struct evt_event){ .ts = 50, .type = EVT_REC_CLOCK, .kind = 1, .val = 1000000000 });
    tg_chunk(&g, 0, 100);
    tg_simple(&g, EVT_REC_LOOP_BEGIN, 100, 1);
    tg_simple(&g, EVT_REC_POLL_BEGIN, 110, 1);
    tg_chunk(&g, EVT_THREAD_META, 9000);
    tg_ev(&g, &(struct evt_event){ .ts = 9000, .type = EVT_REC_CLOCK, .kind = 1, .val = 1000000000 });
    tg_finish(&g);
    struct evt_model m;
    assert_int_equal(load(&g, &m), 0);
    assert_int_equal(m.t_min, 100);
    assert_int_equal(m.t_max, 9000);
    assert_true(m.n_polls == 1 && m.polls[0].t1 == 9000 && !m.polls[0].complete);
    assert_true(m.n_iterations == 1 && m.iterations[0].t1 == 9000 && !m.iterations[0].complete);
    evt_model_free(&m);
    tg_free(&g);
}

/* A program traced for a while that recorded no event (it never ran its
 * loop): the trace still lasts from the file's start to the CLOCK written
 * at close, as evt_model.h says of t_max, not zero. */
static void no_events_ends_at_closing_clock(void **state)
{
    struct tg g;
    tg_init(&g, 1, 40);
    tg_chunk(&g, EVT_THREAD_META, 50);
    tg_ev(&g, &(struct evt_event){ .ts = 50, .type = EVT_REC_CLOCK, .kind = 1, .val = 1000000000 });
    tg_chunk(&g, EVT_THREAD_META, 9000);
    tg_ev(&g, &(struct evt_event){ .ts = 9000, .type = EVT_REC_CLOCK, .kind = 1, .val = 1000000000 });
    tg_finish(&g);
    struct evt_model m;
    assert_int_equal(load(&g, &m), 0);
    assert_int_equal(m.events, 0);
    assert_int_equal(m.t_min, 40);
    assert_int_equal(m.t_max, 9000);
    evt_model_free(&m);
    tg_free(&g);
}

/* Two threads serve interleaved requests; their chunks come out of time
 * order in the file. */
static void requests_and_phases(void **state)
{
    struct tg g;
    tg_init(&g, 1, 0);
    tg_chunk(&g, 1, 1000);
    tg_req(&g, EVT_REC_REQ_BEGIN, 1000, 7, 1);
    tg_req(&g, EVT_REC_REQ_PHASE, 1100, 7, 2);
    tg_req(&g, EVT_REC_REQ_PHASE, 1500, 8, 3); /* request 8 is on thread 0 */
    tg_req(&g, EVT_REC_REQ_END, 2000, 7, 200);
    tg_req(&g, EVT_REC_REQ_PHASE, 2100, 99, 3); /* orphan */
    tg_chunk(&g, 0, 500);
    tg_req(&g, EVT_REC_REQ_BEGIN, 500, 8, 1);
    tg_req(&g, EVT_REC_REQ_PHASE, 600, 8, 2);
    tg_req(&g, EVT_REC_REQ_BEGIN, 3000, 9, 4); /* never ends */
    tg_req(&g, EVT_REC_REQ_END, 3500, 8, 500);
    tg_chunk(&g, EVT_THREAD_META, 0);           /* strings after their use */
    tg_string(&g, 0, 1, "GET /");
    tg_string(&g, 0, 2, "read");
    tg_string(&g, 0, 3, "process");
    tg_finish(&g);
    struct evt_model m;
    assert_int_equal(load(&g, &m), 0);
    assert_int_equal(m.orphans, 1);
    assert_int_equal(m.n_requests, 3);
    const struct evt_m_request *a = &m.requests[0], *b = &m.requests[1], *c = &m.requests[2];
    assert_true(a->id == 8 && a->t0 == 500 && a->t1 == 3500 && a->complete && a->status == 500);
    assert_true(b->id == 7 && b->t0 == 1000 && b->t1 == 2000 && b->complete && b->status == 200);
    assert_true(c->id == 9 && c->t0 == 3000 && c->t1 == 3500 && !c->complete);
    assert_string_equal(a->name, "GET /");
    assert_string_equal(c->name, "");
    assert_int_equal(a->thread, 0);
    assert_int_equal(b->thread, 1);
    assert_int_equal(m.n_phases, 3);
    assert_int_equal(a->phase_count, 2);
    assert_int_equal(b->phase_count, 1);
    assert_int_equal(c->phase_count, 0);
    const struct evt_m_phase *pa = &m.phases[a->phase_first], *pb = &m.phases[b->phase_first];
    assert_true(pa[0].t0 == 600 && !strcmp(pa[0].name, "read"));
    assert_true(pa[1].t0 == 1500 && !strcmp(pa[1].name, "process"));
    assert_true(pb[0].t0 == 1100 && !strcmp(pb[0].name, "read"));
    assert_int_equal(a->phase_first + 2, b->phase_first); /* laid out in request order */
    evt_model_free(&m);
    tg_free(&g);
}

static void request_id_reused_while_live(void **state)
{
    struct tg g;
    tg_init(&g, 1, 0);
    tg_chunk(&g, 0, 100);
    tg_req(&g, EVT_REC_REQ_BEGIN, 100, 1, 0);
    tg_req(&g, EVT_REC_REQ_BEGIN, 200, 1, 0); /* the first one's end was lost */
    tg_req(&g, EVT_REC_REQ_END, 300, 1, 0);
    tg_finish(&g);
    struct evt_model m;
    assert_int_equal(load(&g, &m), 0);
    assert_int_equal(m.n_requests, 2);
    assert_true(m.requests[0].t1 == 200 && !m.requests[0].complete);
    assert_true(m.requests[1].t1 == 300 && m.requests[1].complete);
    evt_model_free(&m);
    tg_free(&g);
}

static void concurrency_series(void **state)
{
    struct tg g;
    tg_init(&g, 1, 0);
    tg_chunk(&g, 0, 100);
    tg_req(&g, EVT_REC_REQ_BEGIN, 100, 1, 0);
    tg_req(&g, EVT_REC_REQ_BEGIN, 150, 2, 0);
    tg_req(&g, EVT_REC_REQ_END, 200, 1, 0);
    tg_req(&g, EVT_REC_REQ_BEGIN, 200, 3, 0);  /* back to back with 1: no step */
    tg_req(&g, EVT_REC_REQ_END, 250, 3, 0);
    tg_req(&g, EVT_REC_REQ_END, 300, 2, 0);
    tg_req(&g, EVT_REC_REQ_BEGIN, 400, 4, 0);
    tg_req(&g, EVT_REC_REQ_END, 400, 4, 0);    /* zero length: no step */
    tg_req(&g, EVT_REC_REQ_BEGIN, 500, 5, 0);  /* still open at the end */
    tg_finish(&g);
    struct evt_model m;
    assert_int_equal(load(&g, &m), 0);
    static const struct evt_m_step want[] = { { 100, 1 }, { 150, 2 }, { 250, 1 }, { 300, 0 }, { 500, 1 } };
    assert_int_equal(m.n_concurrency, 5);
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(m.concurrency[i].ts, want[i].ts);
        assert_int_equal(m.concurrency[i].value, want[i].value);
    }
    evt_model_free(&m);
    tg_free(&g);
}

/* Arrays come out sorted by t0 whatever the chunk order, for a few threads
 * (the merge) and for many (the fallback). */
static void check_sorted(const struct evt_model *m)
{
    for (size_t i = 1; i < m->n_iterations; i++)
        assert_true(m->iterations[i - 1].t0 <= m->iterations[i].t0);
    for (size_t i = 1; i < m->n_callbacks; i++)
        assert_true(m->callbacks[i - 1].t0 <= m->callbacks[i].t0);
    for (size_t i = 1; i < m->n_requests; i++)
        assert_true(m->requests[i - 1].t0 <= m->requests[i].t0);
    for (size_t i = 1; i < m->n_counters; i++)
        assert_true(m->counters[i - 1].ts <= m->counters[i].ts);
}

static void sorted_across_threads(void **state)
{
    for (uint32_t threads = 2; threads <= 40; threads += 38) {
        struct tg g;
        tg_init(&g, 1, 0);
        for (int chunk = 0; chunk < 6; chunk++)
            for (uint32_t t = 0; t < threads; t++) {
                uint64_t base = 1000 + (uint64_t)chunk * 10000000 + (threads - t) * 7;
                tg_chunk(&g, t, base);
                for (uint64_t i = 0; i < 10; i++) {
                    uint64_t ts = base + i * 1000 * threads + t;
                    tg_simple(&g, EVT_REC_LOOP_BEGIN, ts, 1);
                    tg_cb_begin(&g, ts + 1, 1, 0);
                    tg_req(&g, EVT_REC_REQ_BEGIN, ts + 2, ((uint64_t)t << 32) | (uint64_t)(chunk * 10 + i), 0);
                    tg_sample(&g, EVT_REC_COUNTER, ts + 3, 0, (int64_t)i);
                    tg_simple(&g, EVT_REC_CB_END, ts + 4, 1);
                    tg_simple(&g, EVT_REC_LOOP_END, ts + 5, 1);
                }
            }
        tg_finish(&g);
        struct evt_model m;
        assert_int_equal(load(&g, &m), 0);
        size_t n = (size_t)threads * 60;
        assert_int_equal(m.n_iterations, n);
        assert_int_equal(m.n_callbacks, n);
        assert_int_equal(m.n_requests, n);
        assert_int_equal(m.n_counters, n);
        assert_int_equal(m.n_threads, threads);
        check_sorted(&m);
        uint64_t sum = 0; /* nothing lost or duplicated in the shuffle */
        for (size_t i = 0; i < n; i++)
            sum += m.callbacks[i].t0 - m.iterations[i].t0;
        assert_int_equal(sum, n);
        evt_model_free(&m);
        tg_free(&g);
    }
}

static void watchers_threads_process(void **state)
{
    struct tg g;
    tg_init(&g, 77, 0);
    tg_chunk(&g, EVT_THREAD_META, 10);
    tg_string(&g, 10, 1, "accept");
    tg_string(&g, 10, 2, "server");
    tg_string(&g, 10, 3, "worker");
    tg_ev(&g, &(struct evt_event){ .ts = 10, .type = EVT_REC_PROCESS, .val = 1234, .id = 2 });
    tg_ev(&g, &(struct evt_event){ .ts = 10, .type = EVT_REC_THREAD, .thread = 1, .arg = 1240, .id = 3 });
    tg_chunk(&g, 0, 20);
    tg_watcher(&g, 20, 1, EVT_KIND_IO, 5, 1, 1);
    tg_watcher(&g, 20, 2, EVT_KIND_IO, 7, 0, 1);
    tg_watcher(&g, 20, 3, EVT_KIND_TIMER, -1, 0, 1);
    tg_watcher(&g, 20, 4, EVT_KIND_SIGNAL, 15, 0, 1);
    tg_watcher(&g, 20, 5, EVT_KIND_ASYNC, -1, 42, 1); /* name id without a string */
    tg_cb_begin(&g, 30, 9, 0);                         /* never defined */
    tg_simple(&g, EVT_REC_CB_END, 40, 9);
    tg_chunk(&g, 1, 50);
    tg_simple(&g, EVT_REC_WSTART, 50, 1);
    tg_finish(&g);
    struct evt_model m;
    assert_int_equal(load(&g, &m), 0);
    assert_int_equal(m.pid, 1234);
    assert_string_equal(m.process_name, "server");
    assert_int_equal(m.n_watchers, 10);
    assert_string_equal(m.watchers[1].name, "accept");
    assert_string_equal(m.watchers[2].name, "io fd 7");
    assert_string_equal(m.watchers[3].name, "timer #3");
    assert_string_equal(m.watchers[4].name, "signal 15");
    assert_string_equal(m.watchers[5].name, "async #5");
    assert_string_equal(m.watchers[9].name, "watcher #9");
    assert_non_null(m.watchers[0].name);
    assert_non_null(m.watchers[6].name);
    assert_int_equal(m.watchers[2].fd, 7);
    assert_int_equal(m.watchers[2].kind, EVT_KIND_IO);
    assert_int_equal(m.watchers[1].loop, 1);
    assert_int_equal(m.callbacks[0].watcher, 9);
    assert_int_equal(m.n_threads, 2);
    assert_true(m.threads[0].index == 0 && !strcmp(m.threads[0].name, ""));
    assert_true(m.threads[1].index == 1 && m.threads[1].tid == 1240 && !strcmp(m.threads[1].name, "worker"));
    evt_model_free(&m);
    tg_free(&g);
}

/* The writer reuses a watcher id when its address holds a new watcher: a
 * callback is named by the definition current at its time. */
static void watcher_redefined(void **state)
{
    struct tg g;
    tg_init(&g, 1, 0);
    tg_chunk(&g, EVT_THREAD_META, 0);
    tg_string(&g, 0, 1, "conn A");
    tg_string(&g, 0, 2, "conn B");
    tg_chunk(&g, 0, 10);
    tg_watcher(&g, 10, 1, EVT_KIND_IO, 5, 1, 1);
    tg_watcher(&g, 10, 2, EVT_KIND_TIMER, -1, 0, 1);
    tg_cb_begin(&g, 20, 1, 1);
    tg_simple(&g, EVT_REC_CB_END, 30, 1);
    tg_watcher(&g, 40, 1, EVT_KIND_IO, 5, 1, 1);   /* the same again: no change */
    tg_watcher(&g, 50, 1, EVT_KIND_IO, 9, 2, 1);   /* a new watcher at the address */
    tg_cb_begin(&g, 60, 1, 1);
    tg_simple(&g, EVT_REC_CB_END, 70, 1);
    tg_finish(&g);
    struct evt_model m;
    assert_int_equal(load(&g, &m), 0);
    assert_int_equal(m.n_watchers, 4); /* slots 0..2 + one redefinition */
    assert_int_equal(m.n_callbacks, 2);
    const struct evt_m_watcher *a = &m.watchers[m.callbacks[0].watcher], *b = &m.watchers[m.callbacks[1].watcher];
    assert_string_equal(a->name, "conn A");
    assert_int_equal(a->fd, 5);
    assert_string_equal(b->name, "conn B");
    assert_int_equal(b->fd, 9);
    assert_int_equal(b->id, 1);
    assert_string_equal(m.watchers[1].name, "conn A");
    evt_model_free(&m);
    tg_free(&g);
}

static void samples_and_lost(void **state)
{
    struct tg g;
    tg_init(&g, 1, 0);
    tg_chunk(&g, EVT_THREAD_META, 0);
    tg_string(&g, 0, 1, "queue");
    tg_chunk(&g, 0, 1000);
    tg_sample(&g, EVT_REC_COUNTER, 1000, 1, -5);
    tg_sample(&g, EVT_REC_MARK, 1100, 1, INT64_MIN);
    tg_lost(&g, 5000, 10, 3000);
    tg_lost(&g, 6000, 5, 9000); /* span reaches before the trace */
    tg_finish(&g);
    struct evt_model m;
    assert_int_equal(load(&g, &m), 0);
    assert_true(m.n_counters == 1 && m.counters[0].value == -5 && !strcmp(m.counters[0].name, "queue"));
    assert_true(m.n_marks == 1 && m.marks[0].value == INT64_MIN && m.marks[0].ts == 1100);
    assert_int_equal(m.lost, 15);
    assert_int_equal(m.n_lost_ranges, 2);
    assert_true(m.lost_ranges[0].t0 == 0 && m.lost_ranges[0].t1 == 6000 && m.lost_ranges[0].count == 5);
    assert_true(m.lost_ranges[1].t0 == 2000 && m.lost_ranges[1].t1 == 5000);
    evt_model_free(&m);
    tg_free(&g);
}

static void damaged_keeps_prefix(void **state)
{
    struct tg g;
    tg_init(&g, 1, 0);
    tg_chunk(&g, 0, 100);
    tg_cb_begin(&g, 100, 1, 0);
    tg_simple(&g, EVT_REC_CB_END, 200, 1);
    tg_chunk(&g, 0, 300);
    tg_cb_begin(&g, 300, 1, 0);
    tg_simple(&g, EVT_REC_CB_END, 400, 1);
    tg_finish(&g);
    g.len -= 2; /* cut into the second chunk */
    struct evt_model m;
    assert_int_equal(load(&g, &m), EVT_ETRUNC);
    assert_int_equal(m.damaged, 1);
    assert_non_null(strstr(m.error, "truncated"));
    assert_int_equal(m.n_callbacks, 1);
    assert_int_equal(m.events, 2);
    assert_int_equal(m.t_max, 200);
    evt_model_free(&m);
    tg_free(&g);
}

static void stalls_by_threshold(void **state)
{
    struct tg g;
    tg_init(&g, 1, 0);
    tg_chunk(&g, 0, 0);
    uint64_t ts = 0;
    static const uint64_t dur[] = { 50, 100, 99, 1000, 100 };
    for (size_t i = 0; i < 5; i++) {
        tg_cb_begin(&g, ts, 1, 0);
        tg_simple(&g, EVT_REC_CB_END, ts + dur[i], 1);
        ts += 2000;
    }
    tg_finish(&g);
    struct evt_model m;
    assert_int_equal(load(&g, &m), 0);
    const struct evt_m_callback **st;
    size_t n = evt_model_stalls(&m, 100, &st);
    assert_int_equal(n, 3);
    assert_int_equal(st[0]->t0, 2000);
    assert_int_equal(st[1]->t0, 6000);
    assert_int_equal(st[2]->t0, 8000);
    free(st);
    assert_int_equal(evt_model_stalls(&m, 1001, &st), 0);
    assert_null(st);
    evt_model_free(&m);
    tg_free(&g);
}

static void progress_fn(void *ctx, size_t done, size_t total)
{
    size_t *p = ctx; /* p[0] calls, p[1] last done, p[2] total */
    assert_true(done >= p[1]);
    assert_true(done <= total);
    p[0]++;
    p[1] = done;
    p[2] = total;
}

static void progress_and_file(void **state)
{
    struct tg g;
    tg_init(&g, 1, 0);
    g.no_expect = 1;
    uint64_t ts = 0;
    for (int c = 0; c < 60; c++) { /* ~3 MB */
        tg_chunk(&g, 0, ts);
        for (int i = 0; i < 10000; i++, ts += 100000) {
            tg_cb_begin(&g, ts, 1, 0);
            tg_simple(&g, EVT_REC_CB_END, ts + 50000, 1);
        }
    }
    tg_finish(&g);
    char path[64];
    assert_int_equal(tg_write_tmp(g.buf, g.len, path, sizeof path), 0);
    struct evt_model m;
    size_t p[3] = { 0 };
    assert_int_equal(evt_model_load_file(&m, path, progress_fn, p), 0);
    unlink(path);
    assert_true(p[0] >= 3);
    assert_int_equal(p[1], g.len);
    assert_int_equal(p[2], g.len);
    assert_int_equal(m.n_callbacks, 600000);
    assert_int_equal(m.file_bytes, g.len);
    evt_model_free(&m);
    assert_int_equal(evt_model_load_file(&m, "/nonexistent/x.evtrace", NULL, NULL), -ENOENT);
    assert_int_equal(m.n_callbacks, 0);
    assert_null(m.priv_);
    tg_free(&g);
}

static void empty_trace(void **state)
{
    struct tg g;
    tg_init(&g, 9, 12345);
    struct evt_model m;
    assert_int_equal(load(&g, &m), 0);
    assert_int_equal(m.events, 0);
    assert_int_equal(m.t_min, 12345);
    assert_int_equal(m.t_max, 12345);
    assert_int_equal(m.pid, 9);
    assert_string_equal(m.process_name, "");
    assert_int_equal(m.n_concurrency, 0);
    evt_model_free(&m);
    tg_free(&g);
}

static void kind_names(void **state)
{
    assert_string_equal(evt_kind_name(EVT_KIND_IO), "io");
    assert_string_equal(evt_kind_name(EVT_KIND_TIMER), "timer");
    assert_string_equal(evt_kind_name(EVT_KIND_ASYNC), "async");
    assert_string_equal(evt_kind_name(EVT_KIND_COUNT), "unknown");
    assert_string_equal(evt_kind_name(-1), "unknown");
}

/* Invariants every model must hold, whatever the input. */
static void check_invariants(const struct evt_model *m)
{
    check_sorted(m);
    for (size_t i = 0; i < m->n_iterations; i++)
        assert_true(m->iterations[i].t1 >= m->iterations[i].t0);
    for (size_t i = 0; i < m->n_callbacks; i++) {
        assert_true(m->callbacks[i].t1 >= m->callbacks[i].t0);
        assert_true(m->callbacks[i].watcher < m->n_watchers);
    }
    for (size_t i = 0; i < m->n_watchers; i++)
        assert_non_null(m->watchers[i].name);
    size_t phases = 0;
    for (size_t i = 0; i < m->n_requests; i++) {
        const struct evt_m_request *q = &m->requests[i];
        assert_true(q->t1 >= q->t0 && q->name);
        assert_true((size_t)q->phase_first + q->phase_count <= m->n_phases);
        phases += q->phase_count;
    }
    assert_int_equal(phases, m->n_phases);
    for (size_t i = 1; i < m->n_concurrency; i++)
        assert_true(m->concurrency[i - 1].ts < m->concurrency[i].ts);
    for (size_t i = 0; i < m->n_threads; i++)
        assert_non_null(m->threads[i].name);
    assert_non_null(m->process_name);
}

/* Threads whose chunks interleave in the file in reverse thread order, one
 * thread's chunks out of time order, the same timestamps on every thread
 * and nested callbacks starting at the same instant: the per-thread arrays
 * are merged (in place, from the back) into (t0, thread[, depth]) order,
 * nothing lost or duplicated. Big enough for the arrays' big-block path. */
static void merge_ties_and_disorder(void **state)
{
    enum { THREADS = 3, CHUNKS = 2, PER = 1500 };
    struct tg g;
    tg_init(&g, 1, 0);
    for (int c = 0; c < CHUNKS; c++)
        for (uint32_t t = THREADS; t-- > 0;) {
            int chunk = t == 2 ? CHUNKS - 1 - c : c; /* thread 2: later chunk first */
            uint64_t base = 1000 + (uint64_t)chunk * PER * 10;
            tg_chunk(&g, t, base);
            for (uint64_t i = 0; i < PER; i++) {
                uint64_t ts = base + i * 10;
                tg_simple(&g, EVT_REC_LOOP_BEGIN, ts, 1);
                tg_cb_begin(&g, ts, 1, t);
                tg_cb_begin(&g, ts, 2, t); /* nested, same instant */
                tg_simple(&g, EVT_REC_CB_END, ts + 1 + t, 2);
                tg_simple(&g, EVT_REC_CB_END, ts + 2 + t, 1);
                tg_simple(&g, EVT_REC_LOOP_END, ts + 3 + t, 1);
            }
        }
    tg_finish(&g);
    struct evt_model m;
    assert_int_equal(load(&g, &m), 0);
    size_t n = (size_t)THREADS * CHUNKS * PER;
    assert_int_equal(m.n_iterations, n);
    assert_int_equal(m.n_callbacks, 2 * n);
    for (size_t i = 0; i < n; i++) { /* each instant: thread 0, 1, 2 */
        const struct evt_m_span *s = &m.iterations[i];
        assert_int_equal(s->t0, 1000 + (i / THREADS) * 10);
        assert_int_equal(s->thread, i % THREADS);
        assert_int_equal(s->t1, s->t0 + 3 + s->thread);
        assert_true(s->complete);
        for (size_t d = 0; d < 2; d++) {
            const struct evt_m_callback *cb = &m.callbacks[2 * i + d];
            assert_int_equal(cb->t0, s->t0);
            assert_int_equal(cb->thread, s->thread);
            assert_int_equal(cb->depth, d);
            assert_int_equal(cb->revents, s->thread);
            assert_int_equal(cb->t1, s->t0 + 2 - d + s->thread);
        }
    }
    check_invariants(&m);
    evt_model_free(&m);
    tg_free(&g);
}

/* Random bytes inside chunks whose CRC is then made right again: the
 * damage reaches the record decoder and the model. Whatever comes out
 * holds the invariants (and ASan/valgrind see no bad access). */
static void garbage_with_valid_crc(void **state)
{
    struct tg g;
    tg_init(&g, 1, 0);
    g.no_expect = 1;
    tg_chunk(&g, EVT_THREAD_META, 0);
    tg_string(&g, 0, 1, "a");
    tg_string(&g, 0, 2, "b");
    uint64_t ts = 100;
    for (uint32_t t = 0; t < 3; t++) {
        tg_chunk(&g, t, ts);
        tg_watcher(&g, ts, 1 + t, EVT_KIND_IO, 3, 1, 1);
        for (uint64_t i = 0; i < 20; i++, ts += 50) {
            tg_simple(&g, EVT_REC_LOOP_BEGIN, ts, 1);
            tg_cb_begin(&g, ts + 1, 1 + t, 1);
            tg_req(&g, (uint8_t)(EVT_REC_REQ_BEGIN + i % 3), ts + 2, i / 3, 2);
            tg_sample(&g, EVT_REC_COUNTER, ts + 3, 1, (int64_t)i);
            tg_simple(&g, EVT_REC_CB_END, ts + 4, 1 + t);
            tg_simple(&g, EVT_REC_LOOP_END, ts + 5, 1);
        }
    }
    tg_finish(&g);
    uint8_t *b = malloc(g.len);
    unsigned decoded = 0;   /* seeds whose damage got past every CRC */
    for (unsigned seed = 1; seed <= 300; seed++) {
        srand(seed);
        memcpy(b, g.buf, g.len);
        for (int i = 1 + rand() % 6; i > 0; i--)
            b[EVT_FILE_HEADER_SIZE + (size_t)rand() % (g.len - EVT_FILE_HEADER_SIZE)] = (uint8_t)rand();
        tg_fix_crcs(b, g.len);
        evt_reader *r;
        assert_int_equal(evt_reader_open_mem(&r, b, g.len), 0);
        struct evt_model m;
        int rc = evt_model_load(&m, r, NULL, NULL);
        assert_true(rc == 0 || rc == EVT_EFORMAT || rc == EVT_ETRUNC);
        assert_int_equal(m.damaged, rc != 0);
        check_invariants(&m);
        decoded += m.events > 0;
        evt_model_free(&m);
        evt_reader_close(r);
    }
    /* The point is to reach the decoder: most seeds must (172 of 300 do). */
    assert_true(decoded >= 100);
    free(b);
    tg_free(&g);
}

/* A thread whose later chunk goes back in time (damage that kept its
 * CRCs, a foreign writer; the fuzzer found it): an end earlier than its
 * begin ends the span where it began, never before. */
static void end_before_begin(void **state)
{
    struct tg g;
    tg_init(&g, 1, 0);
    tg_chunk(&g, 0, 5000);
    tg_simple(&g, EVT_REC_LOOP_BEGIN, 5000, 1);
    tg_cb_begin(&g, 5100, 1, 1);
    tg_chunk(&g, 0, 1000);
    tg_simple(&g, EVT_REC_CB_END, 1000, 1);
    tg_simple(&g, EVT_REC_LOOP_END, 1200, 1);
    tg_finish(&g);
    struct evt_model m;
    assert_int_equal(load(&g, &m), 0);
    assert_true(m.n_iterations == 1 && m.n_callbacks == 1);
    assert_int_equal(m.iterations[0].t1, m.iterations[0].t0);
    assert_int_equal(m.callbacks[0].t1, m.callbacks[0].t0);
    assert_true(m.iterations[0].complete && m.callbacks[0].complete);
    check_invariants(&m);
    evt_model_free(&m);
    tg_free(&g);
}

/* Name ids far beyond any string the file defines (damage that kept its
 * CRCs; the fuzzer found it): unnamed, and no table sized for them (the
 * model grew one to the id: 16 GiB for 2^31). */
static void huge_name_ids(void **state)
{
    struct tg g;
    tg_init(&g, 1, 0);
    tg_chunk(&g, EVT_THREAD_META, 0);
    tg_string(&g, 0, 1, "known");
    tg_chunk(&g, 0, 100);
    tg_watcher(&g, 100, 1, EVT_KIND_IO, 3, 0x7FFFFFF0u, 1);
    tg_req(&g, EVT_REC_REQ_BEGIN, 200, 5, 0x7FFFFFFFu);
    tg_req(&g, EVT_REC_REQ_PHASE, 300, 5, 0xFFFFFFFEu);
    tg_req(&g, EVT_REC_REQ_BEGIN, 400, 6, 1);
    tg_finish(&g);
    struct evt_model m;
    assert_int_equal(load(&g, &m), 0);
    assert_int_equal(m.n_requests, 2);
    assert_string_equal(m.requests[0].name, "");
    assert_string_equal(m.phases[0].name, "");
    assert_string_equal(m.requests[1].name, "known");
    check_invariants(&m);
    evt_model_free(&m);
    tg_free(&g);
}

/* The open-begin stacks hold EVT_M_MAX_DEPTH (256) entries: callbacks
 * nested exactly that deep (ev_run inside callbacks, 256 levels) still pair
 * every end with its begin -- the cap only drops begins beyond it. */
static void nesting_at_the_depth_cap_pairs(void **state)
{
    enum { DEPTH = 256 };
    struct tg g;
    tg_init(&g, 1, 0);
    tg_chunk(&g, 0, 1000);
    for (uint32_t i = 0; i < DEPTH; i++)
        tg_cb_begin(&g, 1000 + i, i + 1, 0);
    for (uint32_t i = DEPTH; i-- > 0;)
        tg_simple(&g, EVT_REC_CB_END, 2000 + (DEPTH - 1 - i), i + 1);
    tg_finish(&g);
    struct evt_model m;
    assert_int_equal(load(&g, &m), 0);
    assert_int_equal(m.orphans, 0);
    assert_int_equal(m.n_callbacks, DEPTH);
    for (size_t i = 0; i < DEPTH; i++) {   /* callback i began at 1000 + i, at depth i */
        assert_int_equal(m.callbacks[i].depth, i);
        assert_int_equal(m.callbacks[i].t1, 2000 + (DEPTH - 1 - i));
        assert_true(m.callbacks[i].complete);
    }
    evt_model_free(&m);
    tg_free(&g);
}

/* More begins without ends than a stack holds (lost ends): the oldest are
 * dropped from the stack but stay in the model, and like every begin with
 * no end they end at t_max, unfinished -- none keeps an "open" t1. */
static void begins_beyond_the_cap_end_at_t_max(void **state)
{
    enum { N = 300 };
    struct tg g;
    tg_init(&g, 1, 0);
    tg_chunk(&g, 0, 1000);
    for (uint32_t i = 0; i < N; i++) {
        tg_cb_begin(&g, 1000 + i, i + 1, 0);
        tg_simple(&g, EVT_REC_LOOP_BEGIN, 1000 + i, 1);
    }
    tg_sample(&g, EVT_REC_MARK, 5000, 0, 1);   /* t_max */
    tg_finish(&g);
    struct evt_model m;
    assert_int_equal(load(&g, &m), 0);
    assert_int_equal(m.t_max, 5000);
    assert_int_equal(m.n_callbacks, N);
    assert_int_equal(m.n_iterations, N);
    for (size_t i = 0; i < N; i++) {
        assert_int_equal(m.callbacks[i].t1, 5000);
        assert_false(m.callbacks[i].complete);
        assert_int_equal(m.iterations[i].t1, 5000);
        assert_false(m.iterations[i].complete);
    }
    check_invariants(&m);
    evt_model_free(&m);
    tg_free(&g);
}

/* An end that matches no open begin is an orphan even while other spans
 * are open: it closes none of them, and their own ends still pair. */
static void orphan_end_leaves_open_spans(void **state)
{
    struct tg g;
    tg_init(&g, 1, 0);
    tg_chunk(&g, 0, 100);
    tg_simple(&g, EVT_REC_LOOP_BEGIN, 100, 1);
    tg_cb_begin(&g, 110, 1, 0);
    tg_simple(&g, EVT_REC_CB_END, 150, 5);     /* watcher 5 has no open callback */
    tg_simple(&g, EVT_REC_LOOP_END, 160, 2);   /* loop 2 has no open iteration */
    tg_simple(&g, EVT_REC_CB_END, 200, 1);
    tg_simple(&g, EVT_REC_LOOP_END, 300, 1);
    tg_finish(&g);
    struct evt_model m;
    assert_int_equal(load(&g, &m), 0);
    assert_int_equal(m.orphans, 2);
    assert_true(m.n_callbacks == 1 && m.callbacks[0].t1 == 200 && m.callbacks[0].complete);
    assert_true(m.n_iterations == 1 && m.iterations[0].t1 == 300 && m.iterations[0].complete);
    evt_model_free(&m);
    tg_free(&g);
}

/* A one-thread trace whose second chunk goes back in time (its second
 * iteration and callback are the earlier ones): the arrays still come out
 * sorted by t0 (evt_model.h), each span with its own end. */
static void chunk_back_in_time_sorted(void **state)
{
    struct tg g;
    tg_init(&g, 1, 0);
    tg_chunk(&g, 0, 5000);
    tg_simple(&g, EVT_REC_LOOP_BEGIN, 5000, 1);
    tg_cb_begin(&g, 5001, 1, 0);
    tg_simple(&g, EVT_REC_CB_END, 5002, 1);
    tg_simple(&g, EVT_REC_LOOP_END, 5010, 1);
    tg_chunk(&g, 0, 1000);
    tg_simple(&g, EVT_REC_LOOP_BEGIN, 1000, 1);
    tg_cb_begin(&g, 1001, 1, 0);
    tg_simple(&g, EVT_REC_CB_END, 1002, 1);
    tg_simple(&g, EVT_REC_LOOP_END, 1010, 1);
    tg_finish(&g);
    struct evt_model m;
    assert_int_equal(load(&g, &m), 0);
    assert_int_equal(m.n_iterations, 2);
    assert_int_equal(m.n_callbacks, 2);
    assert_true(m.iterations[0].t0 == 1000 && m.iterations[0].t1 == 1010);
    assert_true(m.iterations[1].t0 == 5000 && m.iterations[1].t1 == 5010);
    assert_true(m.callbacks[0].t0 == 1001 && m.callbacks[0].t1 == 1002);
    assert_true(m.callbacks[1].t0 == 5001 && m.callbacks[1].t1 == 5002);
    evt_model_free(&m);
    tg_free(&g);
}

/* Request records of one thread whose chunks go back in time are replayed
 * in time order: id 1 is used twice, one request after the other, so two
 * complete requests -- not a reuse of a live id and a stray end. */
static void request_records_back_in_time(void **state)
{
    struct tg g;
    tg_init(&g, 1, 0);
    tg_chunk(&g, 0, 5000);
    tg_req(&g, EVT_REC_REQ_BEGIN, 5000, 1, 0);
    tg_chunk(&g, 0, 1000);
    tg_req(&g, EVT_REC_REQ_BEGIN, 1000, 1, 0);
    tg_req(&g, EVT_REC_REQ_END, 1100, 1, 200);
    tg_chunk(&g, 0, 6000);
    tg_req(&g, EVT_REC_REQ_END, 6000, 1, 201);
    tg_finish(&g);
    struct evt_model m;
    assert_int_equal(load(&g, &m), 0);
    assert_int_equal(m.orphans, 0);
    assert_int_equal(m.n_requests, 2);
    assert_true(m.requests[0].t0 == 1000 && m.requests[0].t1 == 1100 && m.requests[0].complete);
    assert_int_equal(m.requests[0].status, 200);
    assert_true(m.requests[1].t0 == 5000 && m.requests[1].t1 == 6000 && m.requests[1].complete);
    assert_int_equal(m.requests[1].status, 201);
    check_invariants(&m);
    evt_model_free(&m);
    tg_free(&g);
}

/* Callbacks of one thread at one instant: a nested one (depth 1) and then
 * a top-level one (depth 0) right after its parent ended. The array is in
 * (t0, thread, depth) order (cmp_callback; merge_ties_and_disorder relies
 * on it), so the later top-level callback comes before the nested one. */
static void same_instant_callbacks_by_depth(void **state)
{
    struct tg g;
    tg_init(&g, 1, 0);
    tg_chunk(&g, 0, 90);
    tg_cb_begin(&g, 90, 1, 0);
    tg_cb_begin(&g, 100, 2, 0);   /* nested in 1 */
    tg_simple(&g, EVT_REC_CB_END, 100, 2);
    tg_simple(&g, EVT_REC_CB_END, 100, 1);
    tg_cb_begin(&g, 100, 3, 0);   /* top level again */
    tg_simple(&g, EVT_REC_CB_END, 120, 3);
    tg_finish(&g);
    struct evt_model m;
    assert_int_equal(load(&g, &m), 0);
    assert_int_equal(m.n_callbacks, 3);
    assert_true(m.callbacks[0].t0 == 90 && m.callbacks[0].depth == 0);
    assert_true(m.callbacks[1].t0 == 100 && m.callbacks[1].depth == 0 && m.callbacks[1].t1 == 120);
    assert_true(m.callbacks[2].t0 == 100 && m.callbacks[2].depth == 1 && m.callbacks[2].t1 == 100);
    evt_model_free(&m);
    tg_free(&g);
}

/* An id begun again on another thread while live (the first one's end was
 * lost): from then on the id names the new request on every thread, also
 * on the thread that last touched the old one. */
static void request_id_reused_on_another_thread(void **state)
{
    struct tg g;
    tg_init(&g, 1, 0);
    tg_chunk(&g, 0, 100);
    tg_req(&g, EVT_REC_REQ_BEGIN, 100, 5, 0);
    tg_req(&g, EVT_REC_REQ_PHASE, 150, 5, 0);
    tg_req(&g, EVT_REC_REQ_PHASE, 300, 5, 0);   /* after the reuse at 200 */
    tg_chunk(&g, 1, 200);
    tg_req(&g, EVT_REC_REQ_BEGIN, 200, 5, 0);
    tg_req(&g, EVT_REC_REQ_END, 400, 5, 200);
    tg_finish(&g);
    struct evt_model m;
    assert_int_equal(load(&g, &m), 0);
    assert_int_equal(m.n_requests, 2);
    const struct evt_m_request *old = &m.requests[0], *cur = &m.requests[1];
    assert_true(old->t0 == 100 && old->t1 == 200 && !old->complete);
    assert_true(cur->t0 == 200 && cur->t1 == 400 && cur->complete);
    assert_int_equal(old->phase_count, 1);
    assert_int_equal(m.phases[old->phase_first].t0, 150);
    assert_int_equal(cur->phase_count, 1);
    assert_int_equal(m.phases[cur->phase_first].t0, 300);
    evt_model_free(&m);
    tg_free(&g);
}

/* A phase (or end) of a request that has ended is an orphan: it does not
 * reopen or extend the ended request. */
static void records_after_end_are_orphans(void **state)
{
    struct tg g;
    tg_init(&g, 1, 0);
    tg_chunk(&g, 0, 100);
    tg_req(&g, EVT_REC_REQ_BEGIN, 100, 3, 0);
    tg_req(&g, EVT_REC_REQ_END, 200, 3, 200);
    tg_req(&g, EVT_REC_REQ_PHASE, 300, 3, 0);
    tg_req(&g, EVT_REC_REQ_END, 400, 3, 500);
    tg_finish(&g);
    struct evt_model m;
    assert_int_equal(load(&g, &m), 0);
    assert_int_equal(m.orphans, 2);
    assert_int_equal(m.n_requests, 1);
    assert_int_equal(m.n_phases, 0);
    assert_int_equal(m.requests[0].phase_count, 0);
    assert_true(m.requests[0].t1 == 200 && m.requests[0].status == 200);
    evt_model_free(&m);
    tg_free(&g);
}

/* Request records on two threads at the same instant, in time order in the
 * file: replayed in file order (evt_model.c, replay_requests), so a begin
 * in an earlier chunk comes before an end at the same time on a thread
 * with a lower index -- one complete zero-length request, no orphan. */
static void same_instant_requests_in_file_order(void **state)
{
    struct tg g;
    tg_init(&g, 1, 0);
    tg_chunk(&g, 1, 100);
    tg_req(&g, EVT_REC_REQ_BEGIN, 100, 7, 0);
    tg_chunk(&g, 0, 100);
    tg_req(&g, EVT_REC_REQ_END, 100, 7, 204);
    tg_finish(&g);
    struct evt_model m;
    assert_int_equal(load(&g, &m), 0);
    assert_int_equal(m.orphans, 0);
    assert_int_equal(m.n_requests, 1);
    assert_true(m.requests[0].t0 == 100 && m.requests[0].t1 == 100 && m.requests[0].complete);
    assert_int_equal(m.requests[0].status, 204);
    assert_int_equal(m.requests[0].thread, 1);
    evt_model_free(&m);
    tg_free(&g);
}

/* A watcher id defined again with only its fd changed (an io watcher moved
 * to another fd), then only its loop: each is a new definition (evt_m_watcher:
 * callbacks use the one current at their time). */
static void watcher_fd_or_loop_change_is_redefinition(void **state)
{
    struct tg g;
    tg_init(&g, 1, 0);
    tg_chunk(&g, 0, 10);
    tg_watcher(&g, 10, 1, EVT_KIND_IO, 5, 0, 1);
    tg_cb_begin(&g, 20, 1, 1);
    tg_simple(&g, EVT_REC_CB_END, 21, 1);
    tg_watcher(&g, 30, 1, EVT_KIND_IO, 6, 0, 1);   /* fd only */
    tg_cb_begin(&g, 40, 1, 1);
    tg_simple(&g, EVT_REC_CB_END, 41, 1);
    tg_watcher(&g, 50, 1, EVT_KIND_IO, 6, 0, 2);   /* loop only */
    tg_cb_begin(&g, 60, 1, 1);
    tg_simple(&g, EVT_REC_CB_END, 61, 1);
    tg_finish(&g);
    struct evt_model m;
    assert_int_equal(load(&g, &m), 0);
    assert_int_equal(m.n_watchers, 4);   /* slots 0, 1 + two redefinitions */
    assert_int_equal(m.n_callbacks, 3);
    const struct evt_m_watcher *w0 = &m.watchers[m.callbacks[0].watcher];
    const struct evt_m_watcher *w1 = &m.watchers[m.callbacks[1].watcher];
    const struct evt_m_watcher *w2 = &m.watchers[m.callbacks[2].watcher];
    assert_true(w0->fd == 5 && w0->loop == 1);
    assert_true(w1->fd == 6 && w1->loop == 1);
    assert_true(w2->fd == 6 && w2->loop == 2);
    assert_string_equal(w1->name, "io fd 6");
    evt_model_free(&m);
    tg_free(&g);
}

/* Slots never defined (0, which no watcher has, and gaps below the ids
 * callbacks use) say so: their own id, fd -1. An io watcher on fd 0 (stdin)
 * is named by its fd like any other. */
static void undefined_watcher_slots(void **state)
{
    struct tg g;
    tg_init(&g, 1, 0);
    tg_chunk(&g, 0, 10);
    tg_watcher(&g, 10, 2, EVT_KIND_IO, 0, 0, 1);
    tg_cb_begin(&g, 20, 4, 1);   /* never defined */
    tg_simple(&g, EVT_REC_CB_END, 30, 4);
    tg_finish(&g);
    struct evt_model m;
    assert_int_equal(load(&g, &m), 0);
    assert_int_equal(m.n_watchers, 5);
    for (uint32_t i = 0; i < 5; i++) {
        if (i == 2)
            continue;
        assert_int_equal(m.watchers[i].id, i);
        assert_int_equal(m.watchers[i].fd, -1);
    }
    assert_string_equal(m.watchers[2].name, "io fd 0");
    assert_int_equal(m.watchers[2].fd, 0);
    evt_model_free(&m);
    tg_free(&g);
}

/* A trace of one event: it is both the first and the last (t_min = t_max =
 * its time), not "no events" (which would take the file's start). */
static void single_event_trace(void **state)
{
    struct tg g;
    tg_init(&g, 1, 0);
    tg_chunk(&g, 0, 100);
    tg_sample(&g, EVT_REC_MARK, 100, 0, 1);
    tg_finish(&g);
    struct evt_model m;
    assert_int_equal(load(&g, &m), 0);
    assert_int_equal(m.events, 1);
    assert_int_equal(m.t_min, 100);
    assert_int_equal(m.t_max, 100);
    evt_model_free(&m);
    tg_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spans_pair_and_nest),
        cmocka_unit_test(unmatched_records),
        cmocka_unit_test(requests_and_phases),
        cmocka_unit_test(request_id_reused_while_live),
        cmocka_unit_test(concurrency_series),
        cmocka_unit_test(sorted_across_threads),
        cmocka_unit_test(watchers_threads_process),
        cmocka_unit_test(watcher_redefined),
        cmocka_unit_test(samples_and_lost),
        cmocka_unit_test(damaged_keeps_prefix),
        cmocka_unit_test(stalls_by_threshold),
        cmocka_unit_test(progress_and_file),
        cmocka_unit_test(empty_trace),
        cmocka_unit_test(no_events_ends_at_closing_clock),
        cmocka_unit_test(kind_names),
        cmocka_unit_test(garbage_with_valid_crc),
        cmocka_unit_test(merge_ties_and_disorder),
        cmocka_unit_test(ends_at_closing_clock),
        cmocka_unit_test(end_before_begin),
        cmocka_unit_test(huge_name_ids),
        cmocka_unit_test(nesting_at_the_depth_cap_pairs),
        cmocka_unit_test(begins_beyond_the_cap_end_at_t_max),
        cmocka_unit_test(orphan_end_leaves_open_spans),
        cmocka_unit_test(chunk_back_in_time_sorted),
        cmocka_unit_test(request_records_back_in_time),
        cmocka_unit_test(same_instant_callbacks_by_depth),
        cmocka_unit_test(request_id_reused_on_another_thread),
        cmocka_unit_test(records_after_end_are_orphans),
        cmocka_unit_test(same_instant_requests_in_file_order),
        cmocka_unit_test(watcher_fd_or_loop_change_is_redefinition),
        cmocka_unit_test(undefined_watcher_slots),
        cmocka_unit_test(single_event_trace),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
