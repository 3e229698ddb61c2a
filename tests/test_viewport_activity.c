/* test_viewport_activity.c -- the view evview opens on (evv_activity.h).
 *
 * Scenes are built from generated .evtrace bytes (trace_gen.h) read by the
 * real reader and model, like a recorded file: a loop polling for a long
 * time, requests and callbacks somewhere in it, marks and counters. The
 * extent rule is checked on (a) a short burst inside a long idle stretch,
 * also with an idle server's timer ticks and final signal callback around
 * it, and a trace of callbacks only; (b) activity that fills the trace
 * (and the threshold around half of it); (c) no activity at all; (d) two
 * traces on one axis with their activity in different places. Then end to
 * end: evview --png on case (a) must draw exactly what evv_draw draws
 * through the activity view, with requests across the plot, and the keys
 * f and a must leave and come back to that view.
 */
#include <SDL.h>
#include <SDL_image.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "evt_model.h"
#include "evtrace.h"
#include "evv_activity.h"
#include "png_diff.h"
#include "evv_export.h"
#include "evv_geom.h"
#include "evv_input.h"
#include "evv_style.h"
#include "trace_gen.h"

#define MS 1000000ull
#define S 1000000000ull
#define BASE 5000 * S              /* CLOCK_MONOTONIC of the first event */
#define STALL (100 * MS)

/* String ids in every generated trace. */
enum { STR_REQ = 1, STR_IO, STR_TICK, STR_SIG, STR_MARK, STR_CTR };

struct span {
    uint64_t t0, t1;               /* ns after BASE */
    uint32_t watcher;              /* callbacks: 1 io, 2 timer, 3 signal */
};

/* What one generated trace holds (times in ns after BASE). */
struct spec {
    uint64_t start, end;           /* the loop polls from start to end */
    const struct span *cbs;        /* callbacks, sorted, inside [start, end] */
    size_t n_cbs;
    const struct span *reqs;       /* requests, sorted, not overlapping */
    size_t n_reqs;
    int marks;                     /* marks at start + 0.5 s and end - 0.5 s, counters every 10 s */
};

static void gen_meta(struct tg *g, uint64_t t)
{
    static const char *const names[] = { "", "GET /", "io fd 7", "tick", "sigint", "listening", "conns" };
    tg_chunk(g, EVT_THREAD_META, t);
    for (uint32_t i = 1; i < sizeof names / sizeof *names; i++)
        tg_string(g, t, i, names[i]);
}

/* Thread 0: the loop, blocked in poll between its callbacks. */
static void gen_loop(struct tg *g, const struct spec *sp)
{
    uint64_t t = BASE + sp->start;
    tg_chunk(g, 0, t);
    tg_watcher(g, t, 1, EVT_KIND_IO, 7, STR_IO, 1);
    tg_watcher(g, t, 2, EVT_KIND_TIMER, -1, STR_TICK, 1);
    tg_watcher(g, t, 3, EVT_KIND_SIGNAL, 2, STR_SIG, 1);
    for (size_t i = 0; i <= sp->n_cbs; i++) {
        uint64_t next = i < sp->n_cbs ? BASE + sp->cbs[i].t0 : BASE + sp->end;
        tg_simple(g, EVT_REC_POLL_BEGIN, t, 1);
        tg_simple(g, EVT_REC_POLL_END, next, 1);
        if (i == sp->n_cbs)
            break;
        tg_cb_begin(g, next, sp->cbs[i].watcher, 1);
        tg_simple(g, EVT_REC_CB_END, BASE + sp->cbs[i].t1, sp->cbs[i].watcher);
        t = BASE + sp->cbs[i].t1;
    }
}

/* Thread 1: requests; thread 2: marks and counters (no loop lane). */
static void gen_rest(struct tg *g, const struct spec *sp)
{
    if (sp->n_reqs) {
        tg_chunk(g, 1, BASE + sp->reqs[0].t0);
        for (size_t i = 0; i < sp->n_reqs; i++) {
            tg_req(g, EVT_REC_REQ_BEGIN, BASE + sp->reqs[i].t0, i + 1, STR_REQ);
            tg_req(g, EVT_REC_REQ_END, BASE + sp->reqs[i].t1, i + 1, 200);
        }
    }
    if (sp->marks) {
        tg_chunk(g, 2, BASE + sp->start + 500 * MS);
        tg_sample(g, EVT_REC_MARK, BASE + sp->start + 500 * MS, STR_MARK, 1);
        for (uint64_t t = sp->start + S; t + S < sp->end; t += 10 * S)
            tg_sample(g, EVT_REC_COUNTER, BASE + t, STR_CTR, (int64_t)(t / S));
        tg_sample(g, EVT_REC_MARK, BASE + sp->end - 500 * MS, STR_MARK, 2);
    }
}

static void gen_model(const struct spec *sp, struct evt_model *m, struct tg *keep)
{
    struct tg g;
    evt_reader *r;
    tg_init(&g, 4242, BASE + sp->start);
    g.no_expect = 1;
    gen_meta(&g, BASE + sp->start);
    gen_loop(&g, sp);
    gen_rest(&g, sp);
    tg_finish(&g);
    assert_int_equal(evt_reader_open_mem(&r, g.buf, g.len), 0);
    assert_int_equal(evt_model_load(m, r, NULL, NULL), 0);
    evt_reader_close(r);
    if (keep)
        *keep = g;
    else
        tg_free(&g);
}

/* The model and scene of one spec; origin 0: the trace's own first event. */
struct one {
    struct evt_model m;
    struct evv_scene s;
};

static void one_build(struct one *o, const struct spec *sp, uint64_t origin)
{
    gen_model(sp, &o->m, NULL);
    assert_int_equal(evv_scene_build_at(&o->s, &o->m, "gen.evtrace", STALL, origin ? origin : o->m.t_min), 0);
}

static void one_free(struct one *o)
{
    evv_scene_free(&o->s);
    evt_model_free(&o->m);
}

/* Ten back-to-back 200 ms requests from 40 s to 42 s, twenty 5 ms io
 * callbacks between 40 s and 42 s, in a loop polling for 100 s. */
static const struct span burst_reqs[] = {
    { 40000 * MS, 40200 * MS, 0 }, { 40200 * MS, 40400 * MS, 0 }, { 40400 * MS, 40600 * MS, 0 },
    { 40600 * MS, 40800 * MS, 0 }, { 40800 * MS, 41000 * MS, 0 }, { 41000 * MS, 41200 * MS, 0 },
    { 41200 * MS, 41400 * MS, 0 }, { 41400 * MS, 41600 * MS, 0 }, { 41600 * MS, 41800 * MS, 0 },
    { 41800 * MS, 42000 * MS, 0 },
};

static size_t burst_cbs(struct span *out)
{
    size_t n = 0;
    for (uint64_t t = 40000 * MS; t < 42000 * MS; t += 100 * MS)
        out[n++] = (struct span){ t, t + 5 * MS, 1 };
    out[n - 1] = (struct span){ 41995 * MS, 42000 * MS, 1 };   /* the last one ends at 42 s */
    return n;
}

#define NEAR(a, b) assert_true(fabs((a) - (b)) < 1.0)   /* within 1 ns */

/* (a) A 2 s burst in 100 s of polling, with a mark at each end and
 * counters all along (neither counts): the view is 40 s to 42 s plus 5 %
 * of 2 s on each side. */
static void test_burst_in_idle(void **state)
{
    struct span cbs[32];
    struct spec sp = { 0, 100 * S, cbs, burst_cbs(cbs), burst_reqs, 10, 1 };
    struct one o;
    double t0, t1;
    (void)state;
    one_build(&o, &sp, 0);
    struct evv_activity a = evv_activity_of(&o.s);
    assert_true(a.found && a.requests);
    NEAR(a.t0, 40.0 * S), NEAR(a.t1, 42.0 * S), NEAR(a.whole, 100.0 * S);
    assert_int_equal(evv_activity_view(&o.s, &t0, &t1), 1);
    NEAR(t0, 39.9 * S), NEAR(t1, 42.1 * S);
    one_free(&o);
}

/* (a) again, as an idle server records it (shadowsocks): a 1 s timer
 * ticking through the idle time and the SIGINT callback at the very end
 * must not stretch the view while there are requests; without the
 * requests those callbacks are the activity, and it fills the trace. A
 * trace of callbacks only, in a burst, opens on that burst: the SIGTERM
 * handler at its end is its shutdown and does not count, so a loop that
 * only idled and then stopped shows the whole trace. */
static void test_idle_ticks_and_callbacks_only(void **state)
{
    struct span cbs[160];
    size_t n = 0;
    double t0, t1;
    struct one o;
    (void)state;
    for (uint64_t t = 1 * S; t < 40 * S; t += S)
        cbs[n++] = (struct span){ t, t + MS / 10, 2 };
    n += burst_cbs(cbs + n);
    for (uint64_t t = 43 * S; t < 100 * S; t += S)
        cbs[n++] = (struct span){ t, t + MS / 10, 2 };
    cbs[n++] = (struct span){ 100 * S + 400 * MS, 100 * S + 401 * MS, 3 };
    struct spec sp = { 0, 101 * S, cbs, n, burst_reqs, 10, 0 };
    one_build(&o, &sp, 0);
    assert_int_equal(evv_activity_view(&o.s, &t0, &t1), 1);
    NEAR(t0, 39.9 * S), NEAR(t1, 42.1 * S);
    one_free(&o);

    sp.n_reqs = 0;                                /* the same loop, no requests */
    one_build(&o, &sp, 0);
    struct evv_activity a = evv_activity_of(&o.s);
    assert_true(a.found && !a.requests);
    NEAR(a.t0, 1.0 * S), NEAR(a.t1, 99.0001 * S);     /* the last tick; SIGINT left out */
    assert_int_equal(evv_activity_view(&o.s, &t0, &t1), 0);
    one_free(&o);

    struct span only[32];
    struct spec cb_only = { 0, 100 * S, only, burst_cbs(only), NULL, 0, 1 };
    only[cb_only.n_cbs++] = (struct span){ 99900 * MS, 99900 * MS + 170000, 3 };
    one_build(&o, &cb_only, 0);
    assert_int_equal(evv_activity_view(&o.s, &t0, &t1), 1);
    NEAR(t0, 39.9 * S), NEAR(t1, 42.1 * S);
    one_free(&o);

    struct spec stopped = { 0, 100 * S, only + cb_only.n_cbs - 1, 1, NULL, 0, 0 };
    one_build(&o, &stopped, 0);
    assert_int_equal(o.m.n_callbacks, 1);
    assert_false(evv_activity_of(&o.s).found);
    assert_int_equal(evv_activity_view(&o.s, &t0, &t1), 0);
    one_free(&o);
}

/* (b) Activity over most of the trace: the whole trace, exactly as evview
 * drew it before (-2 % to 102 %). The threshold is half: requests over
 * 49 % of it still open on them, over 60 % do not. */
static void test_activity_fills_trace(void **state)
{
    struct span reqs[] = { { 10 * S, 40 * S, 0 }, { 40 * S, 70 * S, 0 } };
    struct spec sp = { 0, 100 * S, NULL, 0, reqs, 2, 1 };
    struct one o;
    double t0, t1;
    (void)state;
    one_build(&o, &sp, 0);
    assert_int_equal(evv_activity_view(&o.s, &t0, &t1), 0);
    assert_true(t0 == -0.02 * evv_scene_end(&o.s) && t1 == 1.02 * evv_scene_end(&o.s));
    NEAR(t1, 102.0 * S);
    one_free(&o);

    reqs[1].t1 = 59 * S;                          /* 49 s of 100 s */
    one_build(&o, &sp, 0);
    assert_int_equal(evv_activity_view(&o.s, &t0, &t1), 1);
    NEAR(t0, 7.55 * S), NEAR(t1, 61.45 * S);
    one_free(&o);
}

/* (c) Nothing happened: a loop that only polled (its marks and counters
 * do not count), and an empty trace: the whole trace as before. */
static void test_no_activity(void **state)
{
    struct spec sp = { 0, 100 * S, NULL, 0, NULL, 0, 1 };
    struct one o;
    double t0, t1;
    (void)state;
    one_build(&o, &sp, 0);
    assert_true(o.m.n_marks == 2 && o.m.n_counters > 5 && o.m.n_polls == 1);
    assert_false(evv_activity_of(&o.s).found);
    assert_int_equal(evv_activity_view(&o.s, &t0, &t1), 0);
    NEAR(t0, -2.0 * S), NEAR(t1, 102.0 * S);
    one_free(&o);

    struct tg g;
    evt_reader *r;
    tg_init(&g, 1, BASE);
    tg_finish(&g);
    assert_int_equal(evt_reader_open_mem(&r, g.buf, g.len), 0);
    assert_int_equal(evt_model_load(&o.m, r, NULL, NULL), 0);
    evt_reader_close(r);
    tg_free(&g);
    assert_int_equal(evv_scene_build(&o.s, &o.m, NULL, STALL), 0);
    assert_false(evv_activity_of(&o.s).found);
    assert_int_equal(evv_activity_view(&o.s, &t0, &t1), 0);
    assert_true(t0 == 0 && t1 == 0);              /* what evview drew: an empty axis */
    one_free(&o);
}

/* (d) Two traces on one axis: A (200 s) has requests at 10-11 s; B starts
 * 5 s later, lasts 200 s and has requests at 50-51 s of A's axis. The
 * view is the union, 10 s to 51 s, plus 5 % of 41 s each side; each file
 * alone opens on its own burst. */
static void test_two_traces_union(void **state)
{
    struct span ra[] = { { 10 * S, 11 * S, 0 } }, rb[] = { { 50 * S, 51 * S, 0 } };
    struct spec sa = { 0, 200 * S, NULL, 0, ra, 1, 0 }, sb = { 5 * S, 205 * S, NULL, 0, rb, 1, 0 };
    struct one a, b;
    double t0, t1;
    (void)state;
    gen_model(&sa, &a.m, NULL);
    gen_model(&sb, &b.m, NULL);
    const struct evt_model *ms[] = { &a.m, &b.m };
    uint64_t origin = evv_scene_origin(ms, 2);
    assert_true(origin == BASE);
    for (int chain = 0; chain < 2; chain++) {     /* A on top, then B on top */
        assert_int_equal(evv_scene_build_at(&a.s, &a.m, "a", STALL, origin), 0);
        assert_int_equal(evv_scene_build_at(&b.s, &b.m, "b", STALL, origin), 0);
        struct evv_scene *head = chain ? &b.s : &a.s;
        head->next = chain ? &a.s : &b.s;
        struct evv_activity act = evv_activity_of(head);
        NEAR(act.t0, 10.0 * S), NEAR(act.t1, 51.0 * S), NEAR(act.whole, 205.0 * S);
        assert_int_equal(evv_activity_view(head, &t0, &t1), 1);
        NEAR(t0, 7.95 * S), NEAR(t1, 53.05 * S);
        head->next = NULL;
        evv_scene_free(&a.s), evv_scene_free(&b.s);
    }
    assert_int_equal(evv_scene_build_at(&b.s, &b.m, "b", STALL, origin), 0);
    assert_int_equal(evv_activity_view(&b.s, &t0, &t1), 1);   /* B alone */
    NEAR(t0, 49.95 * S), NEAR(t1, 51.05 * S);
    evv_scene_free(&b.s);
    evt_model_free(&a.m), evt_model_free(&b.m);
}

/* evview --png on case (a), written to a file: the PNG must be, pixel for
 * pixel, evv_draw through the activity view (not the whole trace), whose
 * status line claims the activity; and the first, a middle and the last
 * request must be drawn across the plot (at 12 %, 58 % and 94 % of its
 * width: the whole-trace view has nothing there). */
static void test_png_opens_on_activity(void **state)
{
    char trace[64], png[64], cmd[400], err[256];
    struct span cbs[32];
    struct spec sp = { 0, 100 * S, cbs, burst_cbs(cbs), burst_reqs, 10, 1 };
    struct one o;
    struct tg g;
    struct evv_viewport vp;
    struct evv_geom geo;
    double t0, t1;
    (void)state;
    snprintf(trace, sizeof trace, "/tmp/evv_activity_%d.evtrace", (int)getpid());
    snprintf(png, sizeof png, "/tmp/evv_activity_%d.png", (int)getpid());
    gen_model(&sp, &o.m, &g);
    assert_int_equal(tg_write_tmp(g.buf, g.len, trace, sizeof trace), 0);
    tg_free(&g);
    const char *dir = getenv("EVT_BUILD_DIR");
    snprintf(cmd, sizeof cmd, "%s/viewer/evview --png %s --size 800x500 %s", dir ? dir : ".", png, trace);
    int st = system(cmd);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_int_equal(evv_scene_build(&o.s, &o.m, trace, STALL), 0);
    assert_int_equal(evv_activity_view(&o.s, &t0, &t1), 1);
    evv_export_viewport(&vp, &o.s, 800, 500, t0, t1);
    NEAR(vp.t0, 39.9 * S);
    assert_true(fabs(vp.t1 - 42.1 * S) < vp.ns_per_px);
    assert_int_equal(evv_activity_shown(&o.s, &vp), 1);
    evv_geom_layout(&geo, &o.s, 800, 500, NULL);
    SDL_Surface *got = pd_load(png);
    SDL_Surface *want = evv_export_surface(&o.s, &vp, NULL, 800, 500, err, sizeof err);
    assert_non_null(got), assert_non_null(want);
    assert_int_equal(pd_diff(got, want), 0);
    static const size_t reqs[] = { 0, 5, 9 };
    for (size_t k = 0; k < 3; k++) {             /* 170 ms into each 200 ms bar: past its label */
        double t = (double)burst_reqs[reqs[k]].t0 + 170.0 * MS;
        int x = geo.plot.x + (int)floor(evv_viewport_x(&vp, t));
        int y = geo.sec[0].req.y + (int)o.s.req_row[reqs[k]] * geo.sec[0].row_h + geo.sec[0].row_h / 2 - 2;
        assert_true(x > geo.plot.x + geo.plot.w / 10 && x < geo.plot.x + geo.plot.w * 95 / 100);
        assert_int_equal(pd_px(got, x, y), evv_scene_phase_at(&o.s, reqs[k], t));
    }
    SDL_FreeSurface(got), SDL_FreeSurface(want);
    one_free(&o);
    unlink(trace), unlink(png);
}

static void key(struct evv_ui *ui, struct evv_viewport *vp, const struct evv_scene *s,
                const struct evv_geom *g, SDL_Keycode k)
{
    SDL_Event e;
    memset(&e, 0, sizeof e);
    e.type = SDL_KEYDOWN;
    e.key.keysym.sym = k;
    evv_input_event(ui, vp, s, g, &e);
}

/* f fits the whole trace (the status line no longer claims the activity),
 * a comes back to the activity view; on a trace whose activity fills it,
 * a fits the whole trace and says why. */
static void test_keys_f_and_a(void **state)
{
    struct span cbs[32];
    struct spec sp = { 0, 100 * S, cbs, burst_cbs(cbs), burst_reqs, 10, 0 };
    struct one o;
    struct evv_viewport vp, first;
    struct evv_geom geo;
    struct evv_ui ui;
    double t0, t1;
    (void)state;
    one_build(&o, &sp, 0);
    evv_geom_layout(&geo, &o.s, 1200, 700, NULL);
    evv_ui_init(&ui);
    assert_int_equal(evv_activity_view(&o.s, &t0, &t1), 1);
    evv_viewport_set(&first, t0, t1, geo.plot.w);
    vp = first;
    key(&ui, &vp, &o.s, &geo, SDLK_f);
    assert_true(vp.t0 < 0 && vp.t1 > 100.0 * S);
    assert_int_equal(evv_activity_shown(&o.s, &vp), 0);
    key(&ui, &vp, &o.s, &geo, SDLK_a);
    assert_true(vp.t0 == first.t0 && vp.ns_per_px == first.ns_per_px);
    assert_int_equal(evv_activity_shown(&o.s, &vp), 1);
    key(&ui, &vp, &o.s, &geo, SDLK_PLUS);         /* zoomed into part of it: no claim */
    assert_int_equal(evv_activity_shown(&o.s, &vp), 0);
    one_free(&o);

    struct span reqs[] = { { 10 * S, 90 * S, 0 } };
    struct spec full = { 0, 100 * S, NULL, 0, reqs, 1, 0 };
    one_build(&o, &full, 0);
    evv_viewport_set(&vp, 1 * S, 2 * S, geo.plot.w);
    key(&ui, &vp, &o.s, &geo, SDLK_a);
    assert_true(vp.t0 < 0 && vp.t1 > 100.0 * S);
    assert_non_null(strstr(ui.message, "whole trace"));
    one_free(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_in_idle),
        cmocka_unit_test(test_idle_ticks_and_callbacks_only),
        cmocka_unit_test(test_activity_fills_trace),
        cmocka_unit_test(test_no_activity),
        cmocka_unit_test(test_two_traces_union),
        cmocka_unit_test(test_png_opens_on_activity),
        cmocka_unit_test(test_keys_f_and_a),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
