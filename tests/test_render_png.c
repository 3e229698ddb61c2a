/* test_render_png.c -- the exported picture, checked pixel by pixel.
 *
 * A small model with known content (an idle poll, a callback, a stall,
 * three requests with phases, two overlapping) is drawn through the same
 * evv_draw the window uses, onto a software surface. At chosen points the
 * pixel must be the phase colour of the request that is there, the
 * watcher's colour, the idle hatch, the stall band blended over the
 * background, or plain background where nothing is. Then the real PNG
 * round trip (IMG_SavePNG, IMG_Load) must give the same pixels, and the
 * evview program must exit 2 on bad arguments and unreadable files.
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "evtrace.h"
#include "png_diff.h"
#include "trace_gen.h"
#include "evv_axis.h"
#include "evv_export.h"
#include "evv_geom.h"
#include "evv_style.h"
#include "evv_synth.h"
#include "evt_model.h"

#define MS 1000000ull
#define T0 7000000000000ull
#define W 1000
#define H 600

static const char *const ph_a[] = { "read", "process", "respond" };
static const char *const ph_b[] = { "accept", "read" };
static const char *const ph_c[] = { "process" };

struct fixture {
    struct evt_model m;
    struct evv_scene s;
    struct evv_viewport vp;
    struct evv_geom g;
    uint32_t w_tick;   /* watcher ids */
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    struct evv_synth b;
    evv_synth_init(&b);
    evv_synth_thread(&b, 0, 99, "main");
    f->w_tick = evv_synth_watcher(&b, "on_tick", EVT_KIND_TIMER, -1, 0);
    uint32_t blk = evv_synth_watcher(&b, "on_block", EVT_KIND_IO, 4, 0);
    evv_synth_poll(&b, 0, T0 + 10 * MS, T0 + 40 * MS);
    evv_synth_callback(&b, 0, f->w_tick, T0 + 40 * MS, T0 + 45 * MS);
    evv_synth_callback(&b, 0, blk, T0 + 120 * MS, T0 + 270 * MS);   /* 150 ms: a stall */
    uint64_t pa[] = { T0 + 5 * MS, T0 + 20 * MS, T0 + 80 * MS };
    uint64_t pb[] = { T0 + 30 * MS, T0 + 35 * MS };
    uint64_t pc[] = { T0 + 100 * MS };
    evv_synth_request(&b, 1, "a", 0, T0 + 5 * MS, T0 + 95 * MS, ph_a, pa, 3);
    evv_synth_request(&b, 2, "b", 0, T0 + 30 * MS, T0 + 60 * MS, ph_b, pb, 2);
    evv_synth_request(&b, 3, "c", 0, T0 + 100 * MS, T0 + 110 * MS, ph_c, pc, 1);
    evv_synth_mark(&b, 0, T0 + 60 * MS, "checkpoint", 1);
    assert_int_equal(evv_synth_finish(&b), 0);
    f->m = b.m;
    assert_int_equal(evv_scene_build(&f->s, &f->m, "/tmp/known.evtrace", 100 * MS), 0);
    /* origin = first event = request a at T0 + 5 ms; show 0..300 ms after it */
    evv_export_viewport(&f->vp, &f->s, W, H, 0, 300.0 * MS);
    evv_geom_layout(&f->g, &f->s, W, H, 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    evv_scene_free(&f->s);
    evv_synth_free(&f->m);
    free(f);
    return 0;
}

/* Window x of an absolute time, nudged to avoid tick grid lines. */
static int xat(const struct fixture *f, uint64_t t_abs)
{
    double t = (double)(t_abs - f->m.t_min);
    int x = f->g.plot.x + (int)floor(evv_viewport_x(&f->vp, t));
    double step = evv_axis_step(f->vp.ns_per_px, 90);
    double tx = evv_viewport_t(&f->vp, x - f->g.plot.x);
    if (fabs(fmod(tx, step)) < 2 * f->vp.ns_per_px || fabs(fmod(tx, step) - step) < 2 * f->vp.ns_per_px)
        x += 3;
    return x;
}

static int row_y(const struct fixture *f, int row)
{
    return f->g.sec[0].req.y + row * f->g.sec[0].row_h + f->g.sec[0].row_h / 2 - 2;
}

static int near(uint32_t a, uint32_t b, int tol)
{
    for (int sh = 0; sh < 24; sh += 8)
        if (abs((int)(a >> sh & 0xff) - (int)(b >> sh & 0xff)) > tol)
            return 0;
    return 1;
}

static uint32_t blend(uint32_t bg, uint32_t fg, int a)
{
    uint32_t out = 0;
    for (int sh = 0; sh < 24; sh += 8) {
        int c = ((int)(fg >> sh & 0xff) * a + (int)(bg >> sh & 0xff) * (255 - a)) / 255;
        out |= (uint32_t)c << sh;
    }
    return out;
}

static SDL_Surface *render(struct fixture *f, const struct evv_ui *ui)
{
    char err[256] = "";
    SDL_Surface *s = evv_export_surface(&f->s, &f->vp, ui, W, H, err, sizeof err);
    if (!s)
        fail_msg("export: %s", err);
    return s;
}

static void test_phase_colours_where_requests_are(void **state)
{
    struct fixture *f = *state;
    SDL_Surface *s = render(f, NULL);
    assert_int_equal(f->s.n_rows, 2);
    /* request a (row 0): read 5-20 ms, process 20-80, respond 80-95 */
    assert_int_equal(pd_px(s, xat(f, T0 + 17 * MS), row_y(f, 0)), evv_phase_rgb("read"));
    assert_int_equal(pd_px(s, xat(f, T0 + 50 * MS), row_y(f, 0)), evv_phase_rgb("process"));
    assert_int_equal(pd_px(s, xat(f, T0 + 90 * MS), row_y(f, 0)), evv_phase_rgb("respond"));
    /* request b overlaps a: row 1; accept 30-35, read 35-60 */
    assert_int_equal(pd_px(s, xat(f, T0 + 55 * MS), row_y(f, 1)), evv_phase_rgb("read"));
    /* request c after a ends: back in row 0 */
    assert_int_equal(pd_px(s, xat(f, T0 + 108 * MS), row_y(f, 0)), evv_phase_rgb("process"));
    /* nothing: row 1 after b, and before anything began */
    assert_int_equal(pd_px(s, xat(f, T0 + 75 * MS), row_y(f, 1)), EVV_RGB_BG);
    assert_int_equal(pd_px(s, xat(f, T0 + 300 * MS), row_y(f, 0)), EVV_RGB_BG);
    SDL_FreeSurface(s);
}

static void test_loop_lane_idle_busy_and_stall(void **state)
{
    struct fixture *f = *state;
    SDL_Surface *s = render(f, NULL);
    int ly = f->g.sec[0].loop_y + f->g.sec[0].loop_h / 2;
    /* the callback of on_tick in its watcher colour */
    assert_int_equal(pd_px(s, xat(f, T0 + 43 * MS), ly), evv_scene_watcher_rgb(&f->s, f->w_tick));
    /* the poll: idle fill and hatch lines alternate along a row of pixels */
    int idle = 0, hatch = 0, x0 = xat(f, T0 + 25 * MS);
    for (int x = x0; x < x0 + 12; x++) {
        uint32_t c = pd_px(s, x, ly + 3);
        idle += c == EVV_RGB_IDLE, hatch += c == EVV_RGB_IDLE_HATCH;
        assert_true(c == EVV_RGB_IDLE || c == EVV_RGB_IDLE_HATCH);
    }
    assert_true(idle > 0 && hatch > 0);
    /* the stall: a red band over empty request rows, translucent */
    uint32_t band = pd_px(s, xat(f, T0 + 200 * MS), row_y(f, 1));
    assert_true(near(band, blend(EVV_RGB_BG, EVV_RGB_STALL, 46), 3));
    assert_true(band != EVV_RGB_BG);
    /* and its label "stall 150 ms in on_block" exists: dark red text pixels
     * right of the band's start, in the in-flight lane */
    int red = 0;
    for (int x = xat(f, T0 + 120 * MS); x < xat(f, T0 + 120 * MS) + 120; x++)
        for (int y = f->g.sec[0].conc.y; y < f->g.sec[0].conc.y + 20; y++)
            red += near(pd_px(s, x, y), EVV_RGB_STALL, 40);
    assert_true(red > 20);
    SDL_FreeSurface(s);
}

/* A stall that starts near the right edge of the view: its label is moved
 * left to end at the edge (dark red text left of the band's start), not cut
 * off by it. */
static void test_stall_label_at_right_edge(void **state)
{
    struct fixture *f = *state;
    struct evv_viewport keep = f->vp;
    evv_export_viewport(&f->vp, &f->s, W, H, 0, 125.0 * MS);   /* the stall starts at 115 ms */
    SDL_Surface *s = render(f, NULL);
    int x0 = xat(f, T0 + 120 * MS), red = 0;
    assert_true(x0 > f->g.plot.x + f->g.plot.w * 8 / 10);
    for (int x = x0 - 150; x < x0 - 2; x++)
        for (int y = f->g.sec[0].conc.y; y < f->g.sec[0].conc.y + 20; y++)
            red += near(pd_px(s, x, y), EVV_RGB_STALL, 40);
    assert_true(red > 20);
    SDL_FreeSurface(s);
    f->vp = keep;
}

/* Two stalls back to back, the first with a long name: the second's band
 * starts under the first's label, and its label goes right after it, on
 * its own band, instead of being left out (gevent's wall, split in two). */
static void test_back_to_back_stall_labels(void **state)
{
    struct evv_synth b;
    evv_synth_init(&b);
    evv_synth_thread(&b, 0, 7, "main");
    uint32_t w1 = evv_synth_watcher(&b, "a_callback_with_a_rather_long_name", EVT_KIND_IO, 3, 0);
    uint32_t w2 = evv_synth_watcher(&b, "second", EVT_KIND_IO, 4, 0);
    evv_synth_callback(&b, 0, w1, T0 + 0 * MS, T0 + 60 * MS);
    evv_synth_callback(&b, 0, w2, T0 + 60 * MS, T0 + 400 * MS);
    assert_int_equal(evv_synth_finish(&b), 0);
    struct evt_model m = b.m;
    struct evv_scene sc;
    struct evv_viewport vp;
    struct evv_geom g;
    assert_int_equal(evv_scene_build(&sc, &m, "/tmp/two-stalls.evtrace", 50 * MS), 0);
    evv_export_viewport(&vp, &sc, W, H, 0, 500.0 * MS);
    evv_geom_layout(&g, &sc, W, H, 0);
    char err[256] = "";
    SDL_Surface *s = evv_export_surface(&sc, &vp, NULL, W, H, err, sizeof err);
    assert_non_null(s);
    int x60 = g.plot.x + (int)evv_viewport_x(&vp, 60.0 * MS), x400 = g.plot.x + (int)evv_viewport_x(&vp, 400.0 * MS);
    assert_true(x400 - x60 > 400);
    /* the first label runs past 60 ms; the second's text lies beyond it, inside the second band */
    int red = 0;
    for (int x = x60 + 260; x < x400 - 4; x++)
        for (int y = g.sec[0].conc.y; y < g.sec[0].conc.y + 20; y++)
            red += near(pd_px(s, x, y), EVV_RGB_STALL, 40);
    assert_true(red > 20);
    SDL_FreeSurface(s);
    evv_scene_free(&sc);
    evv_synth_free(&m);
}

/* A phase with a very long name (a program's own) is cut in the legend,
 * so the loop's legend after it stays on screen: the busy-callback swatch
 * is still drawn in the legend row. Uncut, the name ran ~2,000 px. */
static void test_long_phase_name_in_legend(void **state)
{
    static char longname[301];
    memset(longname, 'x', 300);
    const char *names[] = { longname };
    struct evv_synth b;
    evv_synth_init(&b);
    evv_synth_thread(&b, 0, 1, "main");
    uint32_t w = evv_synth_watcher(&b, "cb", EVT_KIND_IO, 3, 0);
    evv_synth_poll(&b, 0, T0, T0 + 10 * MS);
    evv_synth_callback(&b, 0, w, T0 + 10 * MS, T0 + 12 * MS);
    uint64_t p0[] = { T0 + 1 * MS };
    evv_synth_request(&b, 1, "r", 0, T0 + 1 * MS, T0 + 20 * MS, names, p0, 1);
    assert_int_equal(evv_synth_finish(&b), 0);
    struct evv_scene sc;
    struct evv_viewport vp;
    assert_int_equal(evv_scene_build(&sc, &b.m, "/tmp/long.evtrace", 100 * MS), 0);
    evv_export_viewport(&vp, &sc, W, H, 0, 30.0 * MS);
    char err[256] = "";
    SDL_Surface *s = evv_export_surface(&sc, &vp, NULL, W, H, err, sizeof err);
    assert_non_null(s);
    assert_true(evv_phase_rgb(longname) != 0x4E79A7u);
    int busy = 0;
    for (int x = 0; x < W; x++)
        for (int y = 24; y < 40; y++)
            busy += pd_px(s, x, y) == 0x4E79A7u;
    assert_true(busy > 50);   /* the 14x11 swatch */
    SDL_FreeSurface(s);
    evv_scene_free(&sc);
    evv_synth_free(&b.m);
}

/* The mark at 60 ms: a dark tick at the top of the loop lane, there and
 * nowhere near 75 ms. */
static void test_mark_tick(void **state)
{
    struct fixture *f = *state;
    SDL_Surface *s = render(f, NULL);
    int x = f->g.plot.x + (int)floor(evv_viewport_x(&f->vp, (double)(T0 + 60 * MS - f->m.t_min)));
    int y = f->g.sec[0].loop_y;
    assert_int_equal(pd_px(s, x, y + 1), EVV_RGB_MARK);        /* the triangle */
    assert_int_equal(pd_px(s, x, y + 8), EVV_RGB_MARK);        /* the stem */
    assert_int_equal(pd_px(s, x + 3, y + 8), EVV_RGB_BG);      /* a thin one */
    int x75 = f->g.plot.x + (int)floor(evv_viewport_x(&f->vp, (double)(T0 + 75 * MS - f->m.t_min)));
    assert_int_equal(pd_px(s, x75, y + 1), EVV_RGB_BG);
    SDL_FreeSurface(s);
}

/* A lone file's label (evview LABEL=FILE) is in its title line: the
 * title row's pixels change with it, and nothing below them does. */
static void test_lone_file_label(void **state)
{
    struct fixture *f = *state;
    SDL_Surface *plain = render(f, NULL);
    snprintf(f->s.label, sizeof f->s.label, "%s", "server");
    SDL_Surface *labelled = render(f, NULL);
    f->s.label[0] = '\0';
    int title_px = 0, other_px = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            *(y < 20 ? &title_px : &other_px) += pd_px(plain, x, y) != pd_px(labelled, x, y);
    assert_true(title_px > 50);
    assert_int_equal(other_px, 0);
    SDL_FreeSurface(plain);
    SDL_FreeSurface(labelled);
}

static void test_concurrency_graph(void **state)
{
    struct fixture *f = *state;
    SDL_Surface *s = render(f, NULL);
    int base = f->g.sec[0].conc.y + f->g.sec[0].conc.h - 3, top = f->g.sec[0].conc.y + 8;
    assert_int_equal(pd_px(s, xat(f, T0 + 40 * MS), base), EVV_RGB_CONC);  /* 2 in flight (max) */
    assert_int_equal(pd_px(s, xat(f, T0 + 40 * MS), top), EVV_RGB_CONC);
    assert_int_equal(pd_px(s, xat(f, T0 + 70 * MS), base), EVV_RGB_CONC);  /* 1: half height */
    assert_int_equal(pd_px(s, xat(f, T0 + 70 * MS), top), EVV_RGB_BG);
    assert_int_equal(pd_px(s, xat(f, T0 + 98 * MS), base), EVV_RGB_BG);    /* none */
    SDL_FreeSurface(s);
}

static void test_selection_and_damage_banner(void **state)
{
    struct fixture *f = *state;
    struct evv_ui ui;
    evv_ui_init(&ui);
    ui.selected = 1;   /* request b (model order: a, b, c) */
    struct evv_ui before = ui;
    struct evv_viewport vp_before = f->vp;
    SDL_Surface *s = render(f, &ui);
    assert_memory_equal(&ui, &before, sizeof ui);          /* drawing changes nothing */
    assert_memory_equal(&f->vp, &vp_before, sizeof f->vp);
    int x0 = f->g.plot.x + (int)floor(evv_viewport_x(&f->vp, (double)(T0 + 30 * MS - f->m.t_min)));
    assert_int_equal(pd_px(s, x0 - 1, row_y(f, 1)), EVV_RGB_SELECT);   /* outline */
    SDL_FreeSurface(s);
    f->m.damaged = 1;
    snprintf(f->m.error, sizeof f->m.error, "truncated: test");
    s = render(f, NULL);
    struct evv_geom g;
    evv_geom_layout(&g, &f->s, W, H, 0);
    assert_true(g.sec[0].banner.h > 0);
    assert_int_equal(pd_px(s, W - 3, g.sec[0].banner.y + g.sec[0].banner.h / 2), EVV_RGB_BANNER);
    f->m.damaged = 0;
    SDL_FreeSurface(s);
}

static void test_png_round_trip(void **state)
{
    struct fixture *f = *state;
    char path[64], err[256];
    snprintf(path, sizeof path, "/tmp/evv_test_%d.png", (int)getpid());
    assert_int_equal(evv_export_png(&f->s, &f->vp, W, H, path, err, sizeof err), 0);
    SDL_Surface *want = render(f, NULL);
    SDL_Surface *got = pd_load(path);
    assert_non_null(got);
    assert_int_equal(got->w, W), assert_int_equal(got->h, H);
    assert_int_equal(pd_diff(got, want), 0);
    SDL_FreeSurface(got), SDL_FreeSurface(want);
    unlink(path);
}

/* Many tiny callbacks: zoomed out they merge into "many" columns. */
static void test_lod_merges_tiny_blocks(void **state)
{
    struct evv_synth b;
    struct evt_model m;
    struct evv_scene sc;
    struct evv_viewport vp;
    struct evv_geom g;
    char err[256];
    evv_synth_init(&b);
    uint32_t w = evv_synth_watcher(&b, "tiny", EVT_KIND_IO, 3, 0);
    for (uint64_t i = 0; i < 200000; i++)
        evv_synth_callback(&b, 0, w, T0 + i * 10000, T0 + i * 10000 + 5000);   /* 50 % busy */
    assert_int_equal(evv_synth_finish(&b), 0);
    m = b.m;
    assert_int_equal(evv_scene_build(&sc, &m, NULL, 100 * MS), 0);
    evv_export_viewport(&vp, &sc, W, H, 0, sc.duration);
    evv_geom_layout(&g, &sc, W, H, 0);
    SDL_Surface *s = evv_export_surface(&sc, &vp, NULL, W, H, err, sizeof err);
    assert_non_null(s);
    int x = g.plot.x + g.plot.w / 2 + 1, inner = g.sec[0].loop_h - 6;
    /* half busy: the lower half of the lane is "many", the upper half not */
    assert_int_equal(pd_px(s, x, g.sec[0].loop_y + 3 + inner - 2), EVV_RGB_MANY);
    assert_true(pd_px(s, x, g.sec[0].loop_y + 3 + 2) != EVV_RGB_MANY);
    SDL_FreeSurface(s);
    evv_scene_free(&sc);
    evv_synth_free(&m);
}

/* Up to a dozen watcher names all get different colours; a name keeps its
 * colour wherever it appears. */
static void test_watcher_colours_distinct(void **state)
{
    static const char *const names[] = { "on_accept", "on_read", "on_write", "on_timer", "on_signal", "on_db",
                                         "on_close", "on_idle", "on_child", "on_stat", "on_async", "on_x" };
    struct evv_synth b;
    struct evv_scene sc;
    uint32_t id[13];
    evv_synth_init(&b);
    for (int i = 0; i < 12; i++)
        id[i] = evv_synth_watcher(&b, names[i], EVT_KIND_IO, i, 0);
    id[12] = evv_synth_watcher(&b, "on_read", EVT_KIND_IO, 99, 0);   /* same name again */
    evv_synth_callback(&b, 0, id[0], T0, T0 + MS);
    assert_int_equal(evv_synth_finish(&b), 0);
    assert_int_equal(evv_scene_build(&sc, &b.m, NULL, 100 * MS), 0);
    for (int i = 0; i < 12; i++)
        for (int j = i + 1; j < 12; j++)
            assert_int_not_equal(evv_scene_watcher_rgb(&sc, id[i]), evv_scene_watcher_rgb(&sc, id[j]));
    assert_int_equal(evv_scene_watcher_rgb(&sc, id[12]), evv_scene_watcher_rgb(&sc, id[1]));
    evv_scene_free(&sc);
    evv_synth_free(&b.m);
}

static void write_trace(const char *path, size_t keep_bytes);

static int run_evview(const char *args)
{
    const char *dir = getenv("EVT_BUILD_DIR");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s/viewer/evview %s 2>/dev/null", dir ? dir : ".", args);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_cli_exit_status(void **state)
{
    char path[64], args[256];
    assert_int_equal(run_evview("--help >/dev/null"), 0);
    assert_int_equal(run_evview("--png /tmp/x.png"), 2);                      /* no file */
    assert_int_equal(run_evview("--png /tmp/x.png --size 0x0 f"), 2);
    assert_int_equal(run_evview("--png /tmp/x.png --range 5:1 f"), 2);
    assert_int_equal(run_evview("--png /tmp/x.png /nonexistent/trace.evtrace"), 2);
    snprintf(path, sizeof path, "/tmp/evv_notrace_%d.evtrace", (int)getpid());
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("this is not a trace file at all, just text", fp);
    fclose(fp);
    snprintf(args, sizeof args, "--png /tmp/evv_never_%d.png %s", (int)getpid(), path);
    assert_int_equal(run_evview(args), 2);
    snprintf(path, sizeof path, "/tmp/evv_never_%d.png", (int)getpid());
    assert_int_equal(access(path, F_OK), -1);                                /* nothing written */
    snprintf(path, sizeof path, "/tmp/evv_notrace_%d.evtrace", (int)getpid());
    unlink(path);
    /* --png naming a trace it draws: refused, the trace kept */
    snprintf(path, sizeof path, "/tmp/evv_self_%d.evtrace", (int)getpid());
    write_trace(path, 0);
    struct stat before, after;
    assert_int_equal(stat(path, &before), 0);
    snprintf(args, sizeof args, "--png %s %s", path, path);
    assert_int_equal(run_evview(args), 2);
    assert_int_equal(stat(path, &after), 0);
    assert_int_equal(after.st_size, before.st_size);
    unlink(path);
}

/* A real file, end to end: reader, model, scene, PNG. Two requests
 * overlap (two rows); then the same file cut in half renders what it
 * holds with the damage banner and exit status 1. */
static void write_trace_at(const char *path, size_t keep_bytes, uint32_t pid, uint64_t shift)
{
    struct tg g;
    tg_init(&g, pid, 1000 + shift);
    g.no_expect = 1;
    tg_chunk(&g, EVT_THREAD_META, 1000 + shift);
    tg_string(&g, 1000 + shift, 1, "GET /e2e");
    tg_string(&g, 1000 + shift, 2, "process");
    tg_chunk(&g, 0, 2000 + shift);
    tg_req(&g, EVT_REC_REQ_BEGIN, 2000 + shift, 1, 1);
    tg_req(&g, EVT_REC_REQ_PHASE, 3000 + shift, 1, 2);
    tg_req(&g, EVT_REC_REQ_BEGIN, 50 * MS + shift, 2, 1);
    tg_req(&g, EVT_REC_REQ_END, 100 * MS + shift, 1, 200);
    tg_req(&g, EVT_REC_REQ_END, 150 * MS + shift, 2, 200);
    tg_chunk(&g, 0, 150 * MS + shift);
    for (uint64_t t = 150 * MS; t < 160 * MS; t += MS)
        tg_req(&g, EVT_REC_REQ_BEGIN, t + shift, 100 + t, 1);
    tg_finish(&g);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(g.buf, 1, keep_bytes && keep_bytes < g.len ? keep_bytes : g.len, fp),
                     keep_bytes && keep_bytes < g.len ? keep_bytes : g.len);
    fclose(fp);
    tg_free(&g);
}

static void write_trace(const char *path, size_t keep_bytes)
{
    write_trace_at(path, keep_bytes, 77, 0);
}

/* No display (an ssh session, a server): SDL would quietly fall back to
 * its invisible offscreen driver and evview would run until killed; it
 * must say so in one line, point at --png, and exit 2 at once. */
static void test_no_display(void **state)
{
    char trace[64], cmd[512], errf[64];
    snprintf(trace, sizeof trace, "/tmp/evv_nodisp_%d.evtrace", (int)getpid());
    snprintf(errf, sizeof errf, "/tmp/evv_nodisp_%d.err", (int)getpid());
    write_trace(trace, 0);
    const char *dir = getenv("EVT_BUILD_DIR");
    snprintf(cmd, sizeof cmd, "env -u DISPLAY -u WAYLAND_DISPLAY -u SDL_VIDEODRIVER timeout 60 %s/viewer/evview %s 2>%s",
             dir ? dir : ".", trace, errf);
    int st = system(cmd);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 2);   /* not 124: timeout's, had it kept running */
    FILE *fp = fopen(errf, "r");
    assert_non_null(fp);
    char line[512] = "", more[512];
    assert_non_null(fgets(line, sizeof line, fp));
    assert_null(fgets(more, sizeof more, fp));   /* one line */
    fclose(fp);
    assert_non_null(strstr(line, "--png"));
    unlink(errf);
    unlink(trace);
}

static void test_real_file_and_damage(void **state)
{
    char trace[64], png[64], args[200];
    snprintf(trace, sizeof trace, "/tmp/evv_e2e_%d.evtrace", (int)getpid());
    snprintf(png, sizeof png, "/tmp/evv_e2e_%d.png", (int)getpid());
    snprintf(args, sizeof args, "--png %s --size 800x500 %s", png, trace);
    write_trace(trace, 0);
    assert_int_equal(run_evview(args), 0);
    SDL_Surface *img = IMG_Load(png);
    assert_non_null(img);
    assert_true(img->w == 800 && img->h == 500);
    SDL_Surface *a = SDL_ConvertSurfaceFormat(img, SDL_PIXELFORMAT_ARGB8888, 0);
    assert_true(pd_px(a, 797, 56) != EVV_RGB_BANNER);           /* intact: no banner */
    SDL_FreeSurface(img), SDL_FreeSurface(a);
    unlink(png);
    struct stat st;
    assert_int_equal(stat(trace, &st), 0);
    write_trace(trace, (size_t)st.st_size - 10);             /* cut inside the last chunk */
    assert_int_equal(run_evview(args), 1);
    img = IMG_Load(png);
    assert_non_null(img);
    a = SDL_ConvertSurfaceFormat(img, SDL_PIXELFORMAT_ARGB8888, 0);
    assert_int_equal(pd_px(a, 797, 56), EVV_RGB_BANNER);        /* damaged: banner */
    SDL_FreeSurface(img), SDL_FreeSurface(a);
    unlink(png);
    unlink(trace);
}

/* Two files in one picture: the fixture's model A on top and a model B
 * that starts 4 ms earlier below, on one axis whose origin is B's first
 * event. B's requests must be drawn at their absolute times in section 1,
 * A's at theirs in section 0, and A's stall must not colour B's lanes. */
static const char *const ph_z[] = { "connect", "wait", "receive" };

static void build_b(struct evt_model *m)
{
    struct evv_synth b;
    evv_synth_init(&b);
    b.m.pid = 5150, b.m.process_name = "loadgen";
    evv_synth_thread(&b, 0, 5150, "main");
    uint64_t pz[] = { T0 + 1 * MS, T0 + 3 * MS, T0 + 25 * MS };
    uint64_t py[] = { T0 + 150 * MS, T0 + 151 * MS, T0 + 185 * MS };
    evv_synth_request(&b, 1, "z", 0, T0 + 1 * MS, T0 + 30 * MS, ph_z, pz, 3);
    evv_synth_request(&b, 2, "y", 0, T0 + 150 * MS, T0 + 190 * MS, ph_z, py, 3);
    evv_synth_counter(&b, 0, T0 + 2 * MS, "conns", 0);
    evv_synth_counter(&b, 0, T0 + 100 * MS, "conns", 8);   /* 0 until 100 ms, then 8 */
    assert_int_equal(evv_synth_finish(&b), 0);
    *m = b.m;
}

struct two {
    struct evt_model mb;
    struct evv_scene a, b;
    struct evv_viewport vp;
    struct evv_geom g;
};

static void two_build(struct fixture *f, struct two *t)
{
    build_b(&t->mb);
    const struct evt_model *ms[] = { &f->m, &t->mb };
    uint64_t origin = evv_scene_origin(ms, 2);
    assert_true(origin == T0 + 1 * MS);
    assert_int_equal(evv_scene_build_at(&t->a, &f->m, "server.evtrace", 100 * MS, origin), 0);
    assert_int_equal(evv_scene_build_at(&t->b, &t->mb, "client.evtrace", 100 * MS, origin), 0);
    snprintf(t->b.label, sizeof t->b.label, "client");
    t->a.next = &t->b;
    evv_export_viewport(&t->vp, &t->a, W, H, 0, 300.0 * MS);
    evv_geom_layout(&t->g, &t->a, W, H, NULL);
}

static void two_free(struct two *t)
{
    evv_scene_free(&t->a), evv_scene_free(&t->b);
    evv_synth_free(&t->mb);
}

/* x of absolute time t on the shared axis, off tick lines. */
static int xat2(const struct two *t, uint64_t t_abs)
{
    struct fixture tmp = { .vp = t->vp, .g = t->g };
    tmp.m.t_min = t->a.origin;
    return xat(&tmp, t_abs);
}

static int row_y2(const struct two *t, size_t k, int row)
{
    return t->g.sec[k].req.y + row * t->g.sec[k].row_h + t->g.sec[k].row_h / 2 - 2;
}

static void test_two_files_one_axis(void **state)
{
    struct fixture *f = *state;
    struct two t;
    char err[256];
    two_build(f, &t);
    assert_int_equal(t.g.n_sec, 2);
    assert_true(t.g.sec[1].head.y >= t.g.sec[0].y1 && t.g.sec[1].head.h > 0);
    SDL_Surface *s = evv_export_surface(&t.a, &t.vp, NULL, W, H, err, sizeof err);
    assert_non_null(s);
    /* B (section 1) at its absolute times: z waits 3-25 ms, receives 25-30 */
    assert_int_equal(pd_px(s, xat2(&t, T0 + 20 * MS), row_y2(&t, 1, 0)), evv_phase_rgb("wait"));
    assert_int_equal(pd_px(s, xat2(&t, T0 + 28 * MS), row_y2(&t, 1, 0)), evv_phase_rgb("receive"));
    assert_int_equal(pd_px(s, xat2(&t, T0 + 160 * MS), row_y2(&t, 1, 0)), evv_phase_rgb("wait"));
    /* A (section 0) at its own absolute times, 4 ms right of where it
     * starts alone: read until 20 ms, and nothing at 3 ms (before A) */
    assert_int_equal(pd_px(s, xat2(&t, T0 + 17 * MS), row_y2(&t, 0, 0)), evv_phase_rgb("read"));
    assert_int_equal(pd_px(s, xat2(&t, T0 + 3 * MS), row_y2(&t, 0, 0)), EVV_RGB_BG);
    /* A's stall (120-270 ms) bands A's section only: B's row is plain at 230 ms */
    assert_true(near(pd_px(s, xat2(&t, T0 + 230 * MS), row_y2(&t, 0, 1)), blend(EVV_RGB_BG, EVV_RGB_STALL, 46), 3));
    assert_int_equal(pd_px(s, xat2(&t, T0 + 230 * MS), row_y2(&t, 1, 0)), EVV_RGB_BG);
    /* B's counter lane: low before 100 ms, at the top after */
    assert_int_equal(t.b.n_ctr, 1);
    assert_true(t.g.sec[1].ctr_h > 0 && t.g.sec[0].ctr_h == 0);
    int ctop = t.g.sec[1].ctr_y + 3;   /* the line of the highest value */
    assert_int_equal(pd_px(s, xat2(&t, T0 + 140 * MS), ctop), EVV_RGB_COUNTER);
    assert_int_equal(pd_px(s, xat2(&t, T0 + 50 * MS), ctop), EVV_RGB_BG);
    assert_int_equal(pd_px(s, xat2(&t, T0 + 140 * MS), ctop + 10), EVV_RGB_COUNTER_FILL);
    /* B's title strip */
    assert_int_equal(pd_px(s, W - 3, t.g.sec[1].head.y + 2), EVV_RGB_SECTION);
    SDL_FreeSurface(s);
    /* the mouse finds B's request z in section 1 */
    struct evv_hit h = evv_geom_pick(&t.g, &t.a, &t.vp, xat2(&t, T0 + 20 * MS), row_y2(&t, 1, 0));
    assert_int_equal(h.kind, EVV_HIT_REQUEST);
    assert_int_equal(h.sec, 1);
    assert_string_equal(t.mb.requests[h.index].name, "z");
    two_free(&t);
}

/* A damaged second file gets its banner in its own section. */
static void test_two_files_damage_banner(void **state)
{
    struct fixture *f = *state;
    struct two t;
    char err[256];
    two_build(f, &t);
    t.mb.damaged = 1;
    snprintf(t.mb.error, sizeof t.mb.error, "truncated: test");
    evv_geom_layout(&t.g, &t.a, W, H, NULL);
    assert_int_equal(t.g.sec[0].banner.h, 0);
    assert_true(t.g.sec[1].banner.h > 0 && t.g.sec[1].banner.y > t.g.sec[0].y1);
    SDL_Surface *s = evv_export_surface(&t.a, &t.vp, NULL, W, H, err, sizeof err);
    assert_non_null(s);
    assert_int_equal(pd_px(s, W - 3, t.g.sec[1].banner.y + t.g.sec[1].banner.h / 2), EVV_RGB_BANNER);
    assert_true(pd_px(s, W - 3, t.g.sec[0].y0 + 2) != EVV_RGB_BANNER);
    SDL_FreeSurface(s);
    two_free(&t);
}

/* evview with two real files: exit 0 and the same picture as drawing the
 * chain in-process; file B (200 ms later) lands at its absolute time. */
static void test_cli_two_files(void **state)
{
    char a[64], b[64], png[64], args[300], err[256];
    struct evt_model ma, mb;
    struct evv_scene sa, sb;
    struct evv_viewport vp;
    struct evv_geom g;
    (void)state;
    snprintf(a, sizeof a, "/tmp/evv_two_a_%d.evtrace", (int)getpid());
    snprintf(b, sizeof b, "/tmp/evv_two_b_%d.evtrace", (int)getpid());
    snprintf(png, sizeof png, "/tmp/evv_two_%d.png", (int)getpid());
    write_trace_at(a, 0, 77, 0);
    write_trace_at(b, 0, 78, 200 * MS);
    snprintf(args, sizeof args, "--png %s --size 800x500 server=%s %s", png, a, b);
    assert_int_equal(run_evview(args), 0);
    assert_int_equal(evt_model_load_file(&ma, a, NULL, NULL), 0);
    assert_int_equal(evt_model_load_file(&mb, b, NULL, NULL), 0);
    const struct evt_model *ms[] = { &ma, &mb };
    assert_int_equal(evv_scene_build_at(&sa, &ma, a, 100 * MS, evv_scene_origin(ms, 2)), 0);
    assert_int_equal(evv_scene_build_at(&sb, &mb, b, 100 * MS, sa.origin), 0);
    snprintf(sa.label, sizeof sa.label, "server");
    sa.next = &sb;
    double end = evv_scene_end(&sa);
    assert_true(end > 358.9 * MS && end < 359.0 * MS);   /* B's last event, 159 ms + 200 ms, after A's first */
    evv_export_viewport(&vp, &sa, 800, 500, -0.02 * end, 1.02 * end);
    evv_geom_layout(&g, &sa, 800, 500, NULL);
    SDL_Surface *got = pd_load(png);
    SDL_Surface *want = evv_export_surface(&sa, &vp, NULL, 800, 500, err, sizeof err);
    assert_non_null(got), assert_non_null(want);
    assert_int_equal(pd_diff(got, want), 0);
    /* at 220 ms (absolute): B's first request (process phase), A has nothing */
    int x = g.plot.x + (int)floor(evv_viewport_x(&vp, 220.0 * MS - (double)sa.origin));
    int y0 = g.sec[0].req.y + g.sec[0].row_h / 2, y1 = g.sec[1].req.y + g.sec[1].row_h / 2;
    assert_int_equal(pd_px(got, x, y1), evv_phase_rgb("process"));
    assert_int_equal(pd_px(got, x, y0), EVV_RGB_BG);
    SDL_FreeSurface(got), SDL_FreeSurface(want);
    evv_scene_free(&sa), evv_scene_free(&sb);
    evt_model_free(&ma), evt_model_free(&mb);
    unlink(a), unlink(b), unlink(png);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_phase_colours_where_requests_are),
        cmocka_unit_test(test_loop_lane_idle_busy_and_stall),
        cmocka_unit_test(test_stall_label_at_right_edge),
        cmocka_unit_test(test_back_to_back_stall_labels),
        cmocka_unit_test(test_concurrency_graph),
        cmocka_unit_test(test_mark_tick),
        cmocka_unit_test(test_lone_file_label),
        cmocka_unit_test(test_selection_and_damage_banner),
        cmocka_unit_test(test_png_round_trip),
        cmocka_unit_test(test_lod_merges_tiny_blocks),
        cmocka_unit_test(test_watcher_colours_distinct),
        cmocka_unit_test(test_cli_exit_status),
        cmocka_unit_test(test_no_display),
        cmocka_unit_test(test_long_phase_name_in_legend),
        cmocka_unit_test(test_real_file_and_damage),
        cmocka_unit_test(test_two_files_one_axis),
        cmocka_unit_test(test_two_files_damage_banner),
        cmocka_unit_test(test_cli_two_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
