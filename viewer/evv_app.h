/* evv_app.h -- the window: open it, feed it events, draw frames.
 *
 * A frame is update then draw: evv_app_event() recomputes the layout for
 * the current window size and lets evv_input change the viewport and the
 * selection; evv_app_draw() draws them with the same evv_draw() the PNG
 * export uses and presents. The app never owns the scene: the caller
 * (evview's loader, or a test) builds it and keeps it alive.
 */
#ifndef EVV_APP_H
#define EVV_APP_H

#include <SDL.h>

#include "evv_geom.h"
#include "evv_input.h"
#include "evv_render.h"
#include "evv_scene.h"
#include "evv_viewport.h"

struct evv_app {
    SDL_Window *win;
    SDL_Renderer *ren;
    struct evv_target tgt;
    const struct evv_scene *scene;   /* NULL while loading */
    struct evv_viewport vp;
    struct evv_ui ui;
    struct evv_geom g;
    int dirty;                       /* something changed since the last frame */
    char title[256];                 /* shown while loading */
};

/* Initialises SDL video, opens a resizable w x h window and its renderer.
 * Returns 0 or a negative EVT_E* with a one-line message in err. */
int evv_app_open(struct evv_app *a, const char *title, int w, int h, char *err, size_t errlen);
void evv_app_close(struct evv_app *a);

/* Shows s: [t0, t1] when t1 > t0 (ns since origin), else the view of
 * evv_activity_view (the activity when it is a small part of the trace,
 * else the whole trace fitted to the window). */
void evv_app_set_scene(struct evv_app *a, const struct evv_scene *s, double t0, double t1);

/* Update: one event. */
void evv_app_event(struct evv_app *a, const SDL_Event *e);

/* Draw: one frame (or the progress screen while no scene is set). */
void evv_app_draw(struct evv_app *a, double progress);

/* Runs until quit: waits for events (no busy loop when idle), applies
 * them, redraws when something changed. */
void evv_app_run(struct evv_app *a);

#endif /* EVV_APP_H */
