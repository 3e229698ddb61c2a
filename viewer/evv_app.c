/* evv_app.c -- window, renderer and the frame loop (see evv_app.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evtrace.h"
#include "evv_activity.h"
#include "evv_app.h"

/* The requested size, shrunk to the display's usable area (less a margin
 * for window decorations) so that a small screen still shows the whole
 * picture: the lane titles at the left and the header at the top are what
 * a newcomer reads first. */
static void fit_to_display(int *w, int *h)
{
    SDL_Rect r;
    if (SDL_GetDisplayUsableBounds(0, &r) != 0)
        return;
    if (*w > r.w - 40)
        *w = r.w - 40 > 320 ? r.w - 40 : 320;
    if (*h > r.h - 60)
        *h = r.h - 60 > 240 ? r.h - 60 : 240;
}

/* Opens SDL's video on a display a person can see. Left to itself, SDL
 * with no X11 or Wayland display (an ssh session, a server) falls back to
 * its "offscreen" driver: the window exists, nobody sees it, and evview
 * would run on until killed. So with neither DISPLAY nor WAYLAND_DISPLAY
 * set only the Linux console (KMSDRM) is tried, which also spares the user
 * libwayland's complaint about XDG_RUNTIME_DIR, and a driver that shows
 * nothing counts as no display. SDL_VIDEODRIVER, when set, is obeyed as
 * it is. */
static int open_video(char *err, size_t errlen)
{
    int chosen = getenv("SDL_VIDEODRIVER") != NULL;
    int none = !getenv("DISPLAY") && !getenv("WAYLAND_DISPLAY");
    if (!chosen && none)
        SDL_SetHint(SDL_HINT_VIDEODRIVER, "KMSDRM");
    const char *drv = SDL_InitSubSystem(SDL_INIT_VIDEO) == 0 ? SDL_GetCurrentVideoDriver() : NULL;
    if (drv && (chosen || (strcmp(drv, "offscreen") != 0 && strcmp(drv, "dummy") != 0)))
        return 0;
    if (!chosen && none)
        snprintf(err, errlen, "no display to open a window on (DISPLAY and WAYLAND_DISPLAY are not set); "
                 "use --png OUT.png to draw the trace to a file");
    else if (drv)
        snprintf(err, errlen, "cannot open a window on %s%s (SDL found only its %s driver); "
                 "use --png OUT.png to draw the trace to a file", getenv("DISPLAY") ? "DISPLAY=" : "WAYLAND_DISPLAY=",
                 getenv("DISPLAY") ? getenv("DISPLAY") : getenv("WAYLAND_DISPLAY"), drv);
    else
        snprintf(err, errlen, "cannot open a display (%s); use --png OUT.png to draw the trace to a file",
                 SDL_GetError());
    if (drv)
        SDL_QuitSubSystem(SDL_INIT_VIDEO);
    return EVT_EIO;
}

int evv_app_open(struct evv_app *a, const char *title, int w, int h, char *err, size_t errlen)
{
    memset(a, 0, sizeof *a);
    evv_ui_init(&a->ui);
    snprintf(a->title, sizeof a->title, "%s", title);
    int rc = open_video(err, errlen);
    if (rc < 0)
        return rc;
    fit_to_display(&w, &h);
    a->win = SDL_CreateWindow(title, SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, w, h,
                              SDL_WINDOW_RESIZABLE);
    if (a->win)
        a->ren = SDL_CreateRenderer(a->win, -1, SDL_RENDERER_PRESENTVSYNC);
    if (a->win && !a->ren)   /* no GPU, no vsync: any renderer will do */
        a->ren = SDL_CreateRenderer(a->win, -1, SDL_RENDERER_SOFTWARE);
    if (!a->ren) {
        snprintf(err, errlen, "cannot create a window: %s", SDL_GetError());
        evv_app_close(a);
        return EVT_EIO;
    }
    rc = evv_target_init(&a->tgt, a->ren, err, errlen);
    if (rc < 0) {
        evv_app_close(a);
        return rc;
    }
    a->dirty = 1;
    return 0;
}

void evv_app_close(struct evv_app *a)
{
    if (a->tgt.r)
        evv_target_free(&a->tgt);
    if (a->ren)
        SDL_DestroyRenderer(a->ren);
    if (a->win)
        SDL_DestroyWindow(a->win);
    if (a->win || a->ren || SDL_WasInit(SDL_INIT_VIDEO))
        SDL_QuitSubSystem(SDL_INIT_VIDEO);
    memset(a, 0, sizeof *a);
}

/* The layout for the current window size; keeps the viewport's width in step. */
static void evv__relayout(struct evv_app *a)
{
    int w = 0, h = 0;
    if (!a->scene)
        return;
    SDL_GetRendererOutputSize(a->ren, &w, &h);
    evv_geom_layout(&a->g, a->scene, w, h, a->ui.row_scroll);
    if (a->vp.width != a->g.plot.w)
        evv_viewport_resize(&a->vp, a->g.plot.w);
}

void evv_app_set_scene(struct evv_app *a, const struct evv_scene *s, double t0, double t1)
{
    a->scene = s;
    evv__relayout(a);
    if (t1 > t0 || evv_activity_view(s, &t0, &t1))
        evv_viewport_set(&a->vp, t0, t1, a->g.plot.w);
    else
        evv_viewport_fit(&a->vp, evv_scene_end(s), a->g.plot.w);
    a->dirty = 1;
}

void evv_app_event(struct evv_app *a, const SDL_Event *e)
{
    if (!a->scene) {   /* loading: only quitting is possible */
        if (e->type == SDL_QUIT || (e->type == SDL_WINDOWEVENT && e->window.event == SDL_WINDOWEVENT_CLOSE) ||
            (e->type == SDL_KEYDOWN && e->key.keysym.sym == SDLK_ESCAPE))
            a->ui.quit = 1;
        a->dirty = 1;
        return;
    }
    evv__relayout(a);
    evv_input_event(&a->ui, &a->vp, a->scene, &a->g, e);
    evv__relayout(a);   /* row scroll may have changed */
    a->dirty = 1;
}

void evv_app_draw(struct evv_app *a, double progress)
{
    if (a->scene)
        evv_draw(&a->tgt, a->scene, &a->vp, &a->ui);
    else
        evv_draw_progress(&a->tgt, a->title, progress);
    SDL_RenderPresent(a->ren);
    a->dirty = 0;
}

void evv_app_run(struct evv_app *a)
{
    SDL_Event e;
    while (!a->ui.quit) {
        /* Sleep until something happens: an idle viewer costs no CPU. */
        if (!a->dirty && SDL_WaitEventTimeout(&e, 250))
            evv_app_event(a, &e);
        while (!a->ui.quit && SDL_PollEvent(&e))
            evv_app_event(a, &e);
        if (a->dirty && !a->ui.quit)
            evv_app_draw(a, 1);
    }
}
