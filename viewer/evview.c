/* evview.c -- open .evtrace files in a window, or export them as PNG.
 *
 * Several files are stacked, first on top, on one time axis: their
 * timestamps are CLOCK_MONOTONIC, so a load client and the server it
 * talks to line up (origin = the earliest first event of all files).
 *
 * Window mode loads in a second thread: the models one file after the
 * other (reader + pairing), then the scenes (lanes, LOD tracks) on the
 * shared origin. The main thread keeps pumping events and drawing a
 * progress bar meanwhile, so the window answers (and can be closed) while
 * large files load. Quitting during a load waits for the load to finish:
 * the reader has no cancel, and a few seconds beat leaking or corrupting
 * a half-built model.
 *
 * PNG mode loads in the main thread and never initialises the video
 * subsystem: a software renderer draws onto a surface.
 *
 * Without --range both show the same first view: the activity when it is
 * a small part of the trace, else the whole trace (evv_activity.h).
 */
#include <SDL.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "evt_model.h"
#include "evtrace.h"
#include "evv_activity.h"
#include "evv_app.h"
#include "evv_cli.h"
#include "evv_export.h"
#include "evv_scene.h"

struct evv_doc {           /* one file */
    const char *path, *label;
    struct evt_model model;
    struct evv_scene scene;
    int load_rc, scene_rc;
    int loaded;            /* the model holds something and must be freed */
};

struct evv_load {          /* what the loader produces */
    struct evv_doc doc[EVV_MAX_FILES];
    size_t n;
    uint64_t stall_ns;
    size_t failed;         /* the file that could not be shown; n if none */
    SDL_atomic_t current;  /* file being read */
    SDL_atomic_t permille; /* load progress over all files */
    SDL_atomic_t done;
};

static void evv__progress(void *ctx, size_t done, size_t total)
{
    struct evv_load *L = ctx;
    double k = SDL_AtomicGet(&L->current) + (total ? (double)done / total : 0);
    SDL_AtomicSet(&L->permille, (int)(1000.0 * k / (double)L->n));
}

/* Reads every model, then builds every scene on the shared origin and
 * chains them. Returns -1 (L->failed set) when a file cannot be shown. */
static int evv__load(struct evv_load *L)
{
    const struct evt_model *models[EVV_MAX_FILES];
    L->failed = L->n;
    for (size_t k = 0; k < L->n; k++) {
        struct evv_doc *d = &L->doc[k];
        SDL_AtomicSet(&L->current, (int)k);
        memset(&d->model, 0, sizeof d->model);
        d->load_rc = evt_model_load_file(&d->model, d->path, evv__progress, L);
        d->loaded = d->load_rc >= 0 || d->model.damaged;
        if (!d->loaded)
            return L->failed = k, -1;
        models[k] = &d->model;
    }
    SDL_AtomicSet(&L->permille, 1000);
    uint64_t origin = evv_scene_origin(models, L->n);
    for (size_t k = 0; k < L->n; k++) {
        struct evv_doc *d = &L->doc[k];
        d->scene_rc = evv_scene_build_at(&d->scene, &d->model, d->path, L->stall_ns, origin);
        if (d->scene_rc < 0)
            return L->failed = k, -1;
        snprintf(d->scene.label, sizeof d->scene.label, "%s", d->label);
        if (k > 0)
            L->doc[k - 1].scene.next = &d->scene;
    }
    return 0;
}

static int evv__load_thread(void *ctx)
{
    struct evv_load *L = ctx;
    int rc = evv__load(L);
    SDL_AtomicSet(&L->done, 1);
    return rc;
}

static void evv__load_free(struct evv_load *L)
{
    for (size_t k = 0; k < L->n; k++) {
        evv_scene_free(&L->doc[k].scene);
        if (L->doc[k].loaded)
            evt_model_free(&L->doc[k].model);
    }
}

/* One line on stderr for the file that could not be shown; exit status. */
static int evv__fail(const struct evv_load *L)
{
    const struct evv_doc *d = &L->doc[L->failed < L->n ? L->failed : 0];
    int rc = d->scene_rc < 0 ? d->scene_rc : d->load_rc;
    fprintf(stderr, "evview: %s: %s\n", d->path, evt_strerror(rc));
    return 2;
}

/* One line per damaged file; exit status 1 if any. */
static int evv__damaged(const struct evv_load *L)
{
    int any = 0;
    for (size_t k = 0; k < L->n; k++)
        if (L->doc[k].model.damaged) {
            fprintf(stderr, "evview: %s: damaged trace, showing what it holds: %s\n", L->doc[k].path,
                    L->doc[k].model.error);
            any = 1;
        }
    return any;
}

static void evv__range(const struct evv_opts *o, const struct evv_scene *s, double *t0, double *t1)
{
    *t0 = o->range_t0;
    *t1 = o->range_t1 < 0 ? evv_scene_end(s) : o->range_t1;
}

static int evv__png(const struct evv_opts *o, struct evv_load *L)
{
    char err[512];
    struct evv_viewport vp;
    double t0, t1;
    if (evv__load(L) < 0)
        return evv__fail(L);
    const struct evv_scene *s = &L->doc[0].scene;
    if (o->has_range)
        evv__range(o, s, &t0, &t1);
    else   /* the window's first view: the activity, or the whole trace */
        evv_activity_view(s, &t0, &t1);
    evv_export_viewport(&vp, s, o->width, o->height, t0, t1);
    if (evv_export_png(s, &vp, o->width, o->height, o->png, err, sizeof err) < 0) {
        fprintf(stderr, "evview: %s\n", err);
        return 2;
    }
    return evv__damaged(L);
}

/* Pumps events and draws the progress bar until the loader is done. */
static void evv__wait_load(struct evv_app *a, struct evv_load *L)
{
    while (!SDL_AtomicGet(&L->done)) {
        SDL_Event e;
        size_t k = (size_t)SDL_AtomicGet(&L->current);
        const char *base = strrchr(L->doc[k].path, '/');
        snprintf(a->title, sizeof a->title, L->n > 1 ? "%s (file %zu of %zu)" : "%s",
                 base ? base + 1 : L->doc[k].path, k + 1, L->n);
        while (SDL_PollEvent(&e))
            evv_app_event(a, &e);
        evv_app_draw(a, SDL_AtomicGet(&L->permille) / 1000.0);
        SDL_Delay(16);
    }
}

/* Every file must open before a window flashes up. */
static int evv__probe(const struct evv_load *L)
{
    for (size_t k = 0; k < L->n; k++) {
        FILE *probe = fopen(L->doc[k].path, "rb");
        if (!probe) {
            fprintf(stderr, "evview: %s: %s\n", L->doc[k].path, strerror(errno));
            return -1;
        }
        fclose(probe);
    }
    return 0;
}

static int evv__window(const struct evv_opts *o, struct evv_load *L)
{
    char err[512];
    struct evv_app app;
    const char *base = strrchr(L->doc[0].path, '/');
    if (evv__probe(L) < 0)
        return 2;
    if (evv_app_open(&app, base ? base + 1 : L->doc[0].path, 1600, 900, err, sizeof err) < 0) {
        fprintf(stderr, "evview: %s\n", err);
        return 2;
    }
    SDL_Thread *th = SDL_CreateThread(evv__load_thread, "evview-load", L);
    if (!th)
        evv__load_thread(L);
    evv__wait_load(&app, L);
    int rc = 0;
    if (th)
        SDL_WaitThread(th, &rc);
    if (rc < 0 || L->failed < L->n) {
        evv_app_close(&app);
        return evv__fail(L);
    }
    int status = evv__damaged(L);
    double t0 = 0, t1 = 0;
    if (o->has_range)
        evv__range(o, &L->doc[0].scene, &t0, &t1);
    if (!app.ui.quit) {
        evv_app_set_scene(&app, &L->doc[0].scene, t0, t1);
        evv_app_run(&app);
    }
    evv_app_close(&app);
    return status;
}

int main(int argc, char **argv)
{
    struct evv_load L;
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
    memset(&L, 0, sizeof L);
    L.n = o.n_files;
    L.stall_ns = (uint64_t)o.stall_ms * 1000000u;
    for (size_t k = 0; k < o.n_files; k++)
        L.doc[k].path = o.files[k], L.doc[k].label = o.labels[k];
    int status = o.png ? evv__png(&o, &L) : evv__window(&o, &L);
    evv__load_free(&L);
    SDL_Quit();
    return status;
}
