/* evv_demo.c -- render the canned synthetic scenes to PNG (a developer
 * tool for judging the picture by eye: `evv_demo OUTDIR` writes sync.png,
 * async.png, stall.png, and panel.png: the async scene zoomed in with a
 * selected request, a tooltip and the help overlay, as the window shows
 * them). */
#include <SDL_image.h>
#include <stdio.h>

#include "evv_export.h"
#include "evv_geom.h"
#include "evv_synth.h"

/* Hover the middle of the first request of row 1 and select the first of row 0. */
static void evv__pose(struct evv_ui *ui, const struct evv_scene *s, const struct evv_viewport *vp, int w, int h)
{
    struct evv_geom g;
    evv_geom_layout(&g, s, w, h, 0);
    const struct evv_block *b = &s->rows[1].b[0];
    ui->mouse_in = 1;
    ui->mouse_x = g.plot.x + (int)evv_viewport_x(vp, (double)(b->t0 + b->t1) / 2);
    ui->mouse_y = g.sec[0].req.y + g.sec[0].row_h + g.sec[0].row_h / 2;
    ui->hover = evv_geom_pick(&g, s, vp, ui->mouse_x, ui->mouse_y);
    ui->selected = (long)s->rows[0].b[0].item;
}

static int evv__one(const char *dir, const char *name, enum evv_synth_scene k, unsigned n, int pose)
{
    struct evt_model m;
    struct evv_scene s;
    struct evv_viewport vp;
    struct evv_ui ui;
    char path[512], err[256];
    if (evv_synth_scene(&m, k, n, 7) < 0 || evv_scene_build(&s, &m, name, 100000000ull) < 0)
        return 1;
    evv_ui_init(&ui);
    double t1 = pose ? s.duration / 4 : 1.02 * s.duration;
    evv_export_viewport(&vp, &s, 1600, 900, -0.02 * s.duration, t1);
    if (pose)
        evv__pose(&ui, &s, &vp, 1600, 900);
    snprintf(path, sizeof path, "%s/%s.png", dir, name);
    SDL_Surface *surf = evv_export_surface(&s, &vp, &ui, 1600, 900, err, sizeof err);
    int rc = surf ? IMG_SavePNG(surf, path) : -1;
    if (rc < 0)
        fprintf(stderr, "evv_demo: %s\n", surf ? IMG_GetError() : err);
    SDL_FreeSurface(surf);
    if (pose == 1) {   /* the same with the help overlay */
        ui.help = 1;
        snprintf(path, sizeof path, "%s/%s-help.png", dir, name);
        surf = evv_export_surface(&s, &vp, &ui, 1600, 900, err, sizeof err);
        rc |= surf ? IMG_SavePNG(surf, path) : -1;
        SDL_FreeSurface(surf);
    }
    evv_scene_free(&s);
    evv_synth_free(&m);
    return rc < 0;
}

/* Many threads, each its own loop: thin lanes, request rows still fit. */
static int evv__threads(const char *dir, unsigned nthreads)
{
    static const char *const ph[] = { "read", "process", "respond" };
    struct evv_synth b;
    struct evv_scene s;
    struct evv_viewport vp;
    char path[512], err[256];
    const uint64_t ms = 1000000, t0 = 9000000000000ull;
    evv_synth_init(&b);
    uint32_t w = evv_synth_watcher(&b, "on_work", EVT_KIND_IO, 5, 0);
    for (uint32_t t = 0; t < nthreads; t++) {
        evv_synth_thread(&b, t, 1000 + t, "worker");
        for (uint64_t k = 0; k < 20; k++) {
            uint64_t a = t0 + (k * 10 + t % 7) * ms;
            evv_synth_poll(&b, t, a, a + 6 * ms);
            evv_synth_callback(&b, t, w, a + 6 * ms, a + 9 * ms);
            uint64_t pt[3] = { a, a + 3 * ms, a + 8 * ms };
            evv_synth_request(&b, t * 100 + k, "GET /t", t, a, a + 9 * ms, ph, pt, 3);
        }
    }
    if (evv_synth_finish(&b) < 0 || evv_scene_build(&s, &b.m, "threads", 100 * ms) < 0)
        return 1;
    evv_export_viewport(&vp, &s, 1600, 900, 0, s.duration);
    snprintf(path, sizeof path, "%s/threads.png", dir);
    int rc = evv_export_png(&s, &vp, 1600, 900, path, err, sizeof err);
    evv_scene_free(&s);
    evv_synth_free(&b.m);
    return rc < 0;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : ".";
    return evv__one(dir, "sync", EVV_SYNTH_SYNC, 12, 0) | evv__one(dir, "async", EVV_SYNTH_ASYNC, 60, 0) |
           evv__one(dir, "stall", EVV_SYNTH_STALL, 120, 0) | evv__one(dir, "panel", EVV_SYNTH_ASYNC, 60, 1) | evv__threads(dir, 40);
}
