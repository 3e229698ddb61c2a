/* test_window.c -- the real window (run under Xvfb by ctest): it opens,
 * draws, answers synthetic input (wheel zoom around the cursor, drag pan,
 * key f fits, click selects a request, resize relayouts), opens a burst
 * in a long idle trace on the burst (key a comes back to it) and quits on
 * Escape, on SDL_QUIT and on the window's close event. */
#include <SDL.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "evv_app.h"
#include "evv_style.h"
#include "evv_synth.h"

struct fixture {
    struct evt_model m;
    struct evv_scene s;
    struct evv_app app;
};

static int setup(void **state)
{
    char err[256];
    struct fixture *f = calloc(1, sizeof *f);
    /* Pinned to SDL's software renderer: the same pixels on every machine,
     * and no GL driver in the process (Xvfb's is Mesa's swrast). */
    SDL_SetHint(SDL_HINT_RENDER_DRIVER, "software");
    SDL_SetHint(SDL_HINT_FRAMEBUFFER_ACCELERATION, "0");   /* present through XShm, not GL */
    assert_int_equal(evv_synth_scene(&f->m, EVV_SYNTH_ASYNC, 60, 3), 0);
    assert_int_equal(evv_scene_build(&f->s, &f->m, "window.evtrace", 100000000ull), 0);
    if (evv_app_open(&f->app, "evview test", 1200, 800, err, sizeof err) < 0)
        fail_msg("cannot open the window: %s", err);
    evv_app_set_scene(&f->app, &f->s, 0, 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    evv_app_close(&f->app);
    evv_scene_free(&f->s);
    evv_synth_free(&f->m);
    free(f);
    SDL_Quit();
    return 0;
}

/* Pushes an event through SDL's queue and applies everything queued. */
static void push(struct fixture *f, SDL_Event *e)
{
    SDL_Event got;
    e->common.timestamp = SDL_GetTicks();
    if (e->type == SDL_WINDOWEVENT || e->type == SDL_KEYDOWN || e->type >= SDL_MOUSEMOTION)
        e->window.windowID = SDL_GetWindowID(f->app.win);
    assert_int_equal(SDL_PushEvent(e), 1);
    while (SDL_PollEvent(&got))
        evv_app_event(&f->app, &got);
}

static void motion(struct fixture *f, int x, int y, int xrel)
{
    SDL_Event e = { .type = SDL_MOUSEMOTION };
    e.motion.x = x, e.motion.y = y, e.motion.xrel = xrel;
    push(f, &e);
}

static void button(struct fixture *f, Uint32 type, int x, int y)
{
    SDL_Event e = { .type = type };
    e.button.button = SDL_BUTTON_LEFT, e.button.x = x, e.button.y = y;
    e.button.state = type == SDL_MOUSEBUTTONDOWN ? SDL_PRESSED : SDL_RELEASED;
    push(f, &e);
}

static void key(struct fixture *f, SDL_Keycode k)
{
    SDL_Event e = { .type = SDL_KEYDOWN };
    e.key.keysym.sym = k, e.key.state = SDL_PRESSED;
    push(f, &e);
}

static void test_draws(void **state)
{
    struct fixture *f = *state;
    evv_app_draw(&f->app, 1);
    /* read back what is on screen: plain background where the plot is
     * empty (after every request ended), and something not background in
     * the first request row at its first request */
    evv_draw(&f->app.tgt, f->app.scene, &f->app.vp, &f->app.ui);
    const struct evv_geom *g = &f->app.g;
    uint32_t pix = 0;
    SDL_Rect r = { g->plot.x + g->plot.w - 4, g->sec[0].req.y + g->sec[0].req.h - 6, 1, 1 };
    assert_int_equal(SDL_RenderReadPixels(f->app.ren, &r, SDL_PIXELFORMAT_ARGB8888, &pix, 4), 0);
    assert_int_equal(pix & 0xFFFFFF, EVV_RGB_BG);
    const struct evv_block *b = &f->s.rows[0].b[0];
    r.x = g->plot.x + (int)evv_viewport_x(&f->app.vp, (double)(b->t0 + b->t1) / 2);
    r.y = g->sec[0].req.y + g->sec[0].row_h / 2;
    assert_int_equal(SDL_RenderReadPixels(f->app.ren, &r, SDL_PIXELFORMAT_ARGB8888, &pix, 4), 0);
    assert_int_not_equal(pix & 0xFFFFFF, EVV_RGB_BG);
    SDL_RenderPresent(f->app.ren);
}

static void test_wheel_zooms_around_cursor(void **state)
{
    struct fixture *f = *state;
    const struct evv_geom *g = &f->app.g;
    int mx = g->plot.x + g->plot.w / 3, my = g->sec[0].req.y + 5;
    motion(f, mx, my, 0);
    double npp = f->app.vp.ns_per_px, t = evv_viewport_t(&f->app.vp, mx - g->plot.x);
    SDL_Event e = { .type = SDL_MOUSEWHEEL };
    e.wheel.y = 1, e.wheel.direction = SDL_MOUSEWHEEL_NORMAL;
    e.wheel.mouseX = mx, e.wheel.mouseY = my;
    push(f, &e);
    assert_true(fabs(f->app.vp.ns_per_px - npp * 0.8) < 1e-9 * npp);
    assert_true(fabs(evv_viewport_t(&f->app.vp, mx - g->plot.x) - t) < 1e-3 * npp);
    e.wheel.y = -1;
    push(f, &e);
    assert_true(fabs(f->app.vp.ns_per_px - npp) < 1e-9 * npp);
    evv_app_draw(&f->app, 1);
}

static void test_drag_pans_and_f_fits(void **state)
{
    struct fixture *f = *state;
    const struct evv_geom *g = &f->app.g;
    int y = g->sec[0].conc.y + 10, x = g->plot.x + 200;
    double t0 = f->app.vp.t0, npp = f->app.vp.ns_per_px;
    button(f, SDL_MOUSEBUTTONDOWN, x, y);
    motion(f, x + 60, y, 60);
    button(f, SDL_MOUSEBUTTONUP, x + 60, y);
    assert_true(fabs(f->app.vp.t0 - (t0 - 60 * npp)) < 1e-6 * npp);
    key(f, SDLK_EQUALS);
    assert_true(f->app.vp.ns_per_px < npp);
    key(f, SDLK_f);
    struct evv_viewport fit;
    evv_viewport_fit(&fit, f->s.duration, f->app.g.plot.w);
    assert_true(fabs(f->app.vp.t0 - fit.t0) < 1e-6 && fabs(f->app.vp.ns_per_px - fit.ns_per_px) < 1e-9);
    evv_app_draw(&f->app, 1);
}

static void test_click_selects_request(void **state)
{
    struct fixture *f = *state;
    const struct evv_geom *g = &f->app.g;
    const struct evv_block *b = &f->s.rows[1].b[0];
    int x = g->plot.x + (int)evv_viewport_x(&f->app.vp, (double)(b->t0 + b->t1) / 2);
    int y = g->sec[0].req.y + g->sec[0].row_h + g->sec[0].row_h / 2;
    motion(f, x, y, 0);
    assert_int_equal(f->app.ui.hover.kind, EVV_HIT_REQUEST);
    assert_int_equal(f->app.ui.hover.index, b->item);
    button(f, SDL_MOUSEBUTTONDOWN, x, y);
    button(f, SDL_MOUSEBUTTONUP, x, y);
    assert_int_equal(f->app.ui.selected, (long)b->item);
    evv_app_draw(&f->app, 1);
    button(f, SDL_MOUSEBUTTONDOWN, g->plot.x + g->plot.w - 2, g->sec[0].req.y + g->sec[0].req.h - 3);
    button(f, SDL_MOUSEBUTTONUP, g->plot.x + g->plot.w - 2, g->sec[0].req.y + g->sec[0].req.h - 3);
    assert_int_equal(f->app.ui.selected, -1);
}

static void text(struct fixture *f, const char *t)
{
    SDL_Event e = { .type = SDL_TEXTINPUT };
    snprintf(e.text.text, sizeof e.text.text, "%s", t);
    push(f, &e);
}

/* "/" opens the find box, typed text fills it, Enter selects the first
 * request whose name contains it and zooms there, n goes to the next. */
static void test_find(void **state)
{
    struct fixture *f = *state;
    key(f, SDLK_SLASH);
    text(f, "/");            /* the text event of the same key press: dropped */
    assert_true(f->app.ui.finding);
    text(f, "POST");
    text(f, " /api");
    assert_string_equal(f->app.ui.find, "POST /api");
    key(f, SDLK_RETURN);
    assert_false(f->app.ui.finding);
    long first = f->app.ui.selected;
    assert_true(first >= 0);
    const struct evt_m_request *q = &f->m.requests[first];
    assert_non_null(strstr(q->name, "POST /api"));
    for (long i = 0; i < first; i++)   /* it is the first match */
        assert_null(strstr(f->m.requests[i].name, "POST /api"));
    double mid = (double)(q->t0 + q->t1) / 2 - (double)f->m.t_min;
    assert_true(mid > f->app.vp.t0 && mid < f->app.vp.t1);
    assert_true(f->app.vp.t1 - f->app.vp.t0 < f->s.duration / 2);   /* zoomed in */
    key(f, SDLK_n);
    assert_true(f->app.ui.selected > first);
    assert_non_null(strstr(f->m.requests[f->app.ui.selected].name, "POST /api"));
    evv_app_draw(&f->app, 1);
    key(f, SDLK_f);
}

static void test_resize_relayouts(void **state)
{
    struct fixture *f = *state;
    double t0 = f->app.vp.t0, npp = f->app.vp.ns_per_px;
    SDL_SetWindowSize(f->app.win, 900, 700);
    SDL_Event e = { .type = SDL_WINDOWEVENT };
    e.window.event = SDL_WINDOWEVENT_SIZE_CHANGED, e.window.data1 = 900, e.window.data2 = 700;
    for (int i = 0; i < 50 && f->app.g.win_w != 900; i++) {
        push(f, &e);
        SDL_Delay(20);
    }
    assert_int_equal(f->app.g.win_w, 900);
    assert_int_equal(f->app.vp.width, f->app.g.plot.w);
    assert_true(f->app.vp.t0 == t0 && f->app.vp.ns_per_px == npp);   /* scale kept */
    evv_app_draw(&f->app, 1);
}

static void test_quits(void **state)
{
    struct fixture *f = *state;
    assert_false(f->app.ui.quit);
    key(f, SDLK_ESCAPE);
    assert_true(f->app.ui.quit);
    f->app.ui.quit = 0;
    SDL_Event q = { .type = SDL_QUIT };
    push(f, &q);
    assert_true(f->app.ui.quit);
    f->app.ui.quit = 0;
    SDL_Event c = { .type = SDL_WINDOWEVENT };
    c.window.event = SDL_WINDOWEVENT_CLOSE;
    push(f, &c);
    assert_true(f->app.ui.quit);
    /* the loop itself returns once quit is set by an event in the queue */
    f->app.ui.quit = 0;
    key(f, SDLK_h);
    assert_true(f->app.ui.help);
    SDL_Event esc = { .type = SDL_KEYDOWN };
    esc.key.keysym.sym = SDLK_ESCAPE;
    SDL_PushEvent(&esc);   /* closes help */
    SDL_PushEvent(&esc);   /* quits */
    evv_app_run(&f->app);
    assert_true(f->app.ui.quit && !f->app.ui.help);
}

/* Two files in one window: the async scene on top, a sync scene below,
 * one time axis. Hover and click find requests of the lower section, f
 * fits both, search finds a name only the second file has, and rows
 * scroll in the section under the mouse. */
static void test_two_files(void **state)
{
    struct fixture *f = *state;
    struct evt_model m2;
    struct evv_scene top, low;
    assert_int_equal(evv_synth_scene(&m2, EVV_SYNTH_SYNC, 300, 5), 0);
    const struct evt_model *ms[] = { &f->m, &m2 };
    uint64_t origin = evv_scene_origin(ms, 2);
    assert_int_equal(evv_scene_build_at(&top, &f->m, "server.evtrace", 100000000ull, origin), 0);
    assert_int_equal(evv_scene_build_at(&low, &m2, "client.evtrace", 100000000ull, origin), 0);
    top.next = &low;
    evv_app_set_scene(&f->app, &top, 0, 0);
    evv_app_draw(&f->app, 1);
    const struct evv_geom *g = &f->app.g;
    assert_int_equal(g->n_sec, 2);
    struct evv_viewport fit;
    evv_viewport_fit(&fit, evv_scene_end(&top), g->plot.w);
    assert_true(evv_scene_end(&top) == (top.t_end > low.t_end ? top.t_end : low.t_end));
    assert_true(fabs(f->app.vp.t1 - fit.t1) < 1e-6 * fit.ns_per_px);
    /* click the middle of the 3rd request of the lower file's row 2 */
    const struct evv_block *b = &low.rows[2].b[0];
    int x = g->plot.x + (int)evv_viewport_x(&f->app.vp, (double)(b->t0 + b->t1) / 2);
    int y = g->sec[1].req.y + 2 * g->sec[1].row_h + g->sec[1].row_h / 2;
    motion(f, x, y, 0);
    assert_int_equal(f->app.ui.hover.kind, EVV_HIT_REQUEST);
    assert_int_equal(f->app.ui.hover.sec, 1);
    assert_int_equal(f->app.ui.hover.index, b->item);
    button(f, SDL_MOUSEBUTTONDOWN, x, y);
    button(f, SDL_MOUSEBUTTONUP, x, y);
    assert_true(f->app.ui.selected == (long)b->item && f->app.ui.sel_sec == 1);
    evv_app_draw(&f->app, 1);
    /* search: "GET /page" exists only in the lower file */
    key(f, SDLK_SLASH);
    text(f, "GET /page");
    key(f, SDLK_RETURN);
    assert_true(f->app.ui.sel_sec == 1 && f->app.ui.selected == 0);
    evv_app_draw(&f->app, 1);
    /* arrow keys over the lower section scroll its rows, not the top's */
    key(f, SDLK_f);
    motion(f, g->plot.x + 10, g->sec[1].req.y + 3, 0);
    size_t before0 = f->app.ui.row_scroll[0];
    for (int i = 0; i < 5; i++)
        key(f, SDLK_DOWN);
    assert_int_equal(f->app.ui.row_scroll[0], before0);
    assert_true(g->sec[1].rows_shown < low.n_rows);   /* 300 waiting clients do not fit */
    assert_int_equal(f->app.ui.row_scroll[1], 5);
    assert_int_equal(g->sec[1].row_first, 5);
    evv_app_draw(&f->app, 1);
    f->app.ui.selected = -1, f->app.ui.sel_sec = 0;
    memset(f->app.ui.row_scroll, 0, sizeof f->app.ui.row_scroll);
    evv_app_set_scene(&f->app, &f->s, 0, 0);
    evv_scene_free(&top), evv_scene_free(&low);
    evv_synth_free(&m2);
}

/* A burst of requests (40-42 s) in 100 s of polling: the window opens on
 * the burst plus 5 % of it each side (evv_activity.h), f fits the whole
 * trace, a comes back. */
static void test_opens_on_activity(void **state)
{
    struct fixture *f = *state;
    struct evv_synth b;
    struct evv_scene s;
    const uint64_t S = 1000000000ull, T = 9000 * S;
    evv_synth_init(&b);
    evv_synth_thread(&b, 0, 7, "main");
    evv_synth_poll(&b, 0, T, T + 100 * S);
    for (uint64_t k = 0; k < 10; k++)
        evv_synth_request(&b, k + 1, "GET /", 0, T + 40 * S + k * S / 5, T + 40 * S + (k + 1) * S / 5, NULL, NULL, 0);
    assert_int_equal(evv_synth_finish(&b), 0);
    assert_int_equal(evv_scene_build(&s, &b.m, "burst.evtrace", 100000000ull), 0);
    evv_app_set_scene(&f->app, &s, 0, 0);
    evv_app_draw(&f->app, 1);
    struct evv_viewport first = f->app.vp, whole, back;
    key(f, SDLK_f);
    whole = f->app.vp;
    key(f, SDLK_a);
    back = f->app.vp;
    evv_app_draw(&f->app, 1);
    evv_app_set_scene(&f->app, &f->s, 0, 0);   /* before any assert: later tests use the fixture */
    evv_scene_free(&s);
    evv_synth_free(&b.m);
    assert_true(fabs(first.t0 - 39.9 * S) < 1 && fabs(first.t1 - 42.1 * S) <= first.ns_per_px);
    assert_true(whole.t0 < 0 && whole.t1 > 100.0 * S);
    assert_true(back.t0 == first.t0 && back.ns_per_px == first.ns_per_px);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_draws),
        cmocka_unit_test(test_wheel_zooms_around_cursor),
        cmocka_unit_test(test_drag_pans_and_f_fits),
        cmocka_unit_test(test_click_selects_request),
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_resize_relayouts),
        cmocka_unit_test(test_two_files),
        cmocka_unit_test(test_opens_on_activity),
        cmocka_unit_test(test_quits),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
