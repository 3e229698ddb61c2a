/* fuzz_view.c -- one fuzz input drawn by the viewer: the trace (as
 * fuzz_trace.c makes it from the input) is loaded into a model, laid out as
 * a scene and drawn twice through the very draw function evview and
 * `--png` use, onto a software surface: the whole trace, and a zoom whose
 * depth and place the second input byte picks (down to a few ns across
 * the plot, where the viewport's arithmetic is at its edge); then a
 * scripted user (interact) hovers, zooms, clicks, drags and searches
 * through the same input function the window uses. Built as the
 * libFuzzer target fuzz_view (-DEVT_FUZZ=ON) and as the replay test
 * test_fuzz_view (tests/viewer_tests.cmake); the sanitizers judge.
 *
 * The surface, renderer and fonts are made once per process and kept: a
 * font lookup per input would make the fuzzer a hundred times slower. That
 * is the one piece of global state, and it is the harness's, not the
 * viewer's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evt_model.h"
#include "evtrace.h"
#include "evv_export.h"
#include "evv_geom.h"
#include "evv_input.h"
#include "evv_render.h"
#include "fuzz_trace.h"

#define VIEW_W 800
#define VIEW_H 450

struct view_target {
    SDL_Surface *surf;
    SDL_Renderer *r;
    struct evv_target tgt;
    int ready;
};

static struct view_target g_view;

static int view_open(void)
{
    char err[256];
    if (g_view.ready)
        return 0;
    g_view.surf = SDL_CreateRGBSurfaceWithFormat(0, VIEW_W, VIEW_H, 32, SDL_PIXELFORMAT_ARGB8888);
    g_view.r = g_view.surf ? SDL_CreateSoftwareRenderer(g_view.surf) : NULL;
    if (!g_view.r || evv_target_init(&g_view.tgt, g_view.r, err, sizeof err) < 0) {
        fprintf(stderr, "fuzz_view: cannot draw: %s\n", g_view.r ? err : SDL_GetError());
        abort();
    }
    g_view.ready = 1;
    return 0;
}

static void draw(const struct evv_scene *s, double t0, double t1)
{
    struct evv_viewport vp;
    evv_export_viewport(&vp, s, VIEW_W, VIEW_H, t0, t1);
    evv_draw(&g_view.tgt, s, &vp, NULL);
    SDL_RenderPresent(g_view.r);
}

/* One scripted input event, picked by the next value of *seed: the mouse
 * somewhere (hover), a wheel zoom, a click, a drag step, or a key (fit,
 * pan, scroll rows, help, a search for "GET" and its next match). */
static void script_event(SDL_Event *e, uint32_t *seed)
{
    static const SDL_Keycode keys[] = {SDLK_f, SDLK_LEFT, SDLK_RIGHT, SDLK_UP, SDLK_DOWN, SDLK_PAGEDOWN,
                                       SDLK_PLUS, SDLK_MINUS, SDLK_h, SDLK_SLASH, SDLK_RETURN, SDLK_n,
                                       SDLK_ESCAPE, SDLK_BACKSPACE};
    *seed = *seed * 1103515245u + 12345u;
    uint32_t r = *seed >> 8;
    memset(e, 0, sizeof *e);
    int x = (int)(r % VIEW_W), y = (int)((r / VIEW_W) % VIEW_H);
    switch (r % 6) {
    case 0: e->type = SDL_MOUSEMOTION; e->motion.x = x; e->motion.y = y; break;
    case 1: e->type = SDL_MOUSEWHEEL; e->wheel.y = (r & 64) ? 3 : -3; break;
    case 2: e->type = SDL_MOUSEBUTTONDOWN; e->button.button = SDL_BUTTON_LEFT; e->button.x = x; e->button.y = y; break;
    case 3: e->type = SDL_MOUSEBUTTONUP; e->button.button = SDL_BUTTON_LEFT; e->button.x = x; e->button.y = y; break;
    case 4: e->type = SDL_TEXTINPUT; snprintf(e->text.text, sizeof e->text.text, "%s", (r & 64) ? "GET" : "a"); break;
    default: e->type = SDL_KEYDOWN; e->key.keysym.sym = keys[r % (sizeof keys / sizeof keys[0])]; break;
    }
}

/* A user at the window: 60 scripted events through evv_input_event, a
 * frame drawn with the interaction state (hover box, selection panel,
 * search box, help) after every tenth. The quit an Escape may ask for is
 * ignored. */
static void interact(const struct evv_scene *s, double end, uint32_t seed)
{
    struct evv_viewport vp;
    struct evv_geom g;
    struct evv_ui ui;
    evv_ui_init(&ui);
    evv_export_viewport(&vp, s, VIEW_W, VIEW_H, 0, end);
    for (int i = 0; i < 60; i++) {
        SDL_Event e;
        evv_geom_layout(&g, s, VIEW_W, VIEW_H, ui.row_scroll);
        script_event(&e, &seed);
        evv_input_event(&ui, &vp, s, &g, &e);
        if (i % 10 == 9) {
            evv_draw(&g_view.tgt, s, &vp, &ui);
            SDL_RenderPresent(g_view.r);
        }
    }
}

/* Draws the chain at head (one scene, or several stacked): whole, zoomed,
 * then clicked through. */
static void draw_chain(const struct evv_scene *head, uint8_t zoom)
{
    double end = evv_scene_end(head);
    if (end <= 0)
        end = 1;
    draw(head, 0, end);
    double span = end / (double)(1ull << (zoom % 48));
    double at = (end - span) * (double)(zoom / 48) / 5.0;
    draw(head, at, at + (span > 1 ? span : 1));
    interact(head, end, zoom);
}

/* n models (1 or 2) as evview shows them: scenes on a shared origin,
 * chained, the second labelled. */
static void draw_models(const struct evt_model *const *m, size_t n, uint8_t zoom)
{
    struct evv_scene s[2];
    uint64_t origin = evv_scene_origin(m, n);
    size_t built = 0;
    while (built < n && evv_scene_build_at(&s[built], m[built], "fuzz.evtrace", 10 * 1000000ull, origin) == 0)
        built++;
    if (built == n) {
        for (size_t k = 1; k < n; k++) {
            snprintf(s[k].label, sizeof s[k].label, "cut");
            s[k - 1].next = &s[k];
        }
        draw_chain(&s[0], zoom);
    }
    while (built > 0)
        evv_scene_free(&s[--built]);
}

/* Loads len bytes at file into m; 0, or -1 when nothing can be shown. */
static int load(const uint8_t *file, size_t len, struct evt_model *m)
{
    evt_reader *r;
    if (evt_reader_open_mem(&r, file, len) != 0)
        return -1;
    int rc = evt_model_load(m, r, NULL, NULL);
    evt_reader_close(r);
    return rc == EVT_ENOMEM ? -1 : 0;
}

/* With bit 1 of the first byte set, the trace is shown twice, stacked as
 * evview shows several files: whole, and cut where the second byte says
 * (the cut one with its damage banner). */
int evt_fuzz_view(const uint8_t *data, size_t size)
{
    size_t len;
    uint8_t *file = evt_fuzz_file(data, size, &len);
    if (!file)
        return 0;
    struct evt_model m[2];
    const struct evt_model *mp[2] = {&m[0], &m[1]};
    size_t n = (data[0] & 2) ? 2 : 1;
    if (load(file, len, &m[0]) == 0) {
        if (n == 1 || load(file, len * data[1] / 256, &m[1]) == 0) {
            if (view_open() == 0)
                draw_models(mp, n, data[1]);
            if (n == 2)
                evt_model_free(&m[1]);
        }
        evt_model_free(&m[0]);
    }
    free(file);
    return 0;
}
