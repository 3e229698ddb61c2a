/* evview.c -- open a .evtrace file in a window, or export it as PNG.
 *
 * Window mode loads in a second thread: the model (reader + pairing) and
 * then the scene (lanes, LOD tracks). The main thread keeps pumping
 * events and drawing a progress bar meanwhile, so the window answers
 * (and can be closed) while a large file loads. Quitting during a load
 * waits for the load to finish: the reader has no cancel, and a few
 * seconds beat leaking or corrupting a half-built model.
 *
 * PNG mode loads in the main thread and never initialises the video
 * subsystem: a software renderer draws onto a surface.
 */
#include <SDL.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "evt_model.h"
#include "evtrace.h"
#include "evv_app.h"
#include "evv_cli.h"
#include "evv_export.h"
#include "evv_scene.h"

struct evv_doc {           /* what the loader produces */
    const char *path;
    uint64_t stall_ns;
    struct evt_model model;
    struct evv_scene scene;
    int load_rc, scene_rc;
    SDL_atomic_t permille; /* load progress */
    SDL_atomic_t done;
};

static void evv__progress(void *ctx, size_t done, size_t total)
{
    struct evv_doc *d = ctx;
    SDL_AtomicSet(&d->permille, total ? (int)(1000.0 * done / total) : 0);
}

/* Loads model then scene. Returns -1 when nothing could be read. */
static int evv__load(struct evv_doc *d)
{
    memset(&d->model, 0, sizeof d->model);
    d->load_rc = evt_model_load_file(&d->model, d->path, evv__progress, d);
    if (d->load_rc < 0 && !d->model.damaged)
        return -1;
    d->scene_rc = evv_scene_build(&d->scene, &d->model, d->path, d->stall_ns);
    return d->scene_rc < 0 ? -1 : 0;
}

static int evv__load_thread(void *ctx)
{
    struct evv_doc *d = ctx;
    int rc = evv__load(d);
    SDL_AtomicSet(&d->done, 1);
    return rc;
}

static void evv__doc_free(struct evv_doc *d)
{
    evv_scene_free(&d->scene);
    if (d->load_rc >= 0 || d->model.damaged)
        evt_model_free(&d->model);
}

/* One line on stderr for a file that could not be shown; exit status. */
static int evv__fail(const struct evv_doc *d)
{
    int rc = d->scene_rc < 0 ? d->scene_rc : d->load_rc;
    fprintf(stderr, "evview: %s: %s\n", d->path, evt_strerror(rc));
    return 2;
}

static int evv__damaged(const struct evv_doc *d)
{
    if (!d->model.damaged)
        return 0;
    fprintf(stderr, "evview: %s: damaged trace, showing what it holds: %s\n", d->path, d->model.error);
    return 1;
}

static void evv__range(const struct evv_opts *o, const struct evv_scene *s, double *t0, double *t1)
{
    *t0 = o->range_t0;
    *t1 = o->range_t1 < 0 ? s->duration : o->range_t1;
}

static int evv__png(const struct evv_opts *o, struct evv_doc *d)
{
    char err[512];
    struct evv_viewport vp;
    double t0, t1;
    if (evv__load(d) < 0)
        return evv__fail(d);
    if (o->has_range)
        evv__range(o, &d->scene, &t0, &t1);
    else
        t0 = -0.02 * d->scene.duration, t1 = 1.02 * d->scene.duration;
    evv_export_viewport(&vp, &d->scene, o->width, o->height, t0, t1);
    if (evv_export_png(&d->scene, &vp, o->width, o->height, o->png, err, sizeof err) < 0) {
        fprintf(stderr, "evview: %s\n", err);
        return 2;
    }
    return evv__damaged(d);
}

/* Pumps events and draws the progress bar until the loader is done. */
static void evv__wait_load(struct evv_app *a, struct evv_doc *d)
{
    while (!SDL_AtomicGet(&d->done)) {
        SDL_Event e;
        while (SDL_PollEvent(&e))
            evv_app_event(a, &e);
        evv_app_draw(a, SDL_AtomicGet(&d->permille) / 1000.0);
        SDL_Delay(16);
    }
}

static int evv__window(const struct evv_opts *o, struct evv_doc *d)
{
    char err[512];
    struct evv_app app;
    const char *base = strrchr(d->path, '/');
    FILE *probe = fopen(d->path, "rb");   /* fail before a window flashes up */
    if (!probe) {
        fprintf(stderr, "evview: %s: %s\n", d->path, strerror(errno));
        return 2;
    }
    fclose(probe);
    if (evv_app_open(&app, base ? base + 1 : d->path, 1600, 900, err, sizeof err) < 0) {
        fprintf(stderr, "evview: %s\n", err);
        return 2;
    }
    SDL_Thread *th = SDL_CreateThread(evv__load_thread, "evview-load", d);
    if (!th)
        evv__load_thread(d);
    evv__wait_load(&app, d);
    int rc = 0;
    if (th)
        SDL_WaitThread(th, &rc);
    if (rc < 0 || d->scene_rc < 0) {
        evv_app_close(&app);
        return evv__fail(d);
    }
    int status = evv__damaged(d);
    double t0 = 0, t1 = 0;
    if (o->has_range)
        evv__range(o, &d->scene, &t0, &t1);
    if (!app.ui.quit) {
        evv_app_set_scene(&app, &d->scene, t0, t1);
        evv_app_run(&app);
    }
    evv_app_close(&app);
    return status;
}

int main(int argc, char **argv)
{
    struct evv_opts o;
    char err[256];
    if (evv_cli_parse(&o, argc, argv, err, sizeof err) < 0) {
        fprintf(stderr, "evview: %s\n", err);
        return 2;
    }
    if (o.help) {
        fputs(evv_cli_usage, stdout);
        return 0;
    }
    struct evv_doc d = { .path = o.file, .stall_ns = (uint64_t)o.stall_ms * 1000000u };
    int status = o.png ? evv__png(&o, &d) : evv__window(&o, &d);
    evv__doc_free(&d);
    SDL_Quit();
    return status;
}
