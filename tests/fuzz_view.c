/* fuzz_view.c -- one fuzz input drawn by the viewer: the trace (as
 * fuzz_trace.c makes it from the input) is loaded into a model, laid out as
 * a scene and drawn twice through the very draw function evview and
 * `--png` use, onto a software surface: the whole trace, and a zoom whose
 * depth and place the second input byte picks (down to a few ns across
 * the plot, where the viewport's arithmetic is at its edge). Built as the
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

#include "evt_model.h"
#include "evtrace.h"
#include "evv_export.h"
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

static void draw_scene(const struct evt_model *m, uint8_t zoom)
{
    struct evv_scene s;
    if (evv_scene_build(&s, m, "fuzz.evtrace", 10 * 1000000ull) != 0)
        return;
    double end = evv_scene_end(&s);
    if (end <= 0)
        end = 1;
    draw(&s, 0, end);
    double span = end / (double)(1ull << (zoom % 48));
    double at = (end - span) * (double)(zoom / 48) / 5.0;
    draw(&s, at, at + (span > 1 ? span : 1));
    evv_scene_free(&s);
}

int evt_fuzz_view(const uint8_t *data, size_t size)
{
    size_t len;
    uint8_t *file = evt_fuzz_file(data, size, &len);
    evt_reader *r;
    if (!file)
        return 0;
    if (evt_reader_open_mem(&r, file, len) == 0) {
        struct evt_model m;
        int rc = evt_model_load(&m, r, NULL, NULL);
        evt_reader_close(r);
        if (rc != EVT_ENOMEM && view_open() == 0)
            draw_scene(&m, data[1]);
        if (rc != EVT_ENOMEM)
            evt_model_free(&m);
    }
    free(file);
    return 0;
}

#ifdef EVT_FUZZ_VIEW_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return evt_fuzz_view(data, size);
}
#endif
