/* evv_input.h -- the viewer's interaction state and the one function that
 * changes it.
 *
 * A frame is "update, then draw": evv_input_event() turns each SDL event
 * into changes of the viewport and of this struct (hover, selection,
 * search, help, scrolling), and drawing only reads both. Nothing here
 * touches a renderer, so input can be tested without a window.
 *
 * Keys: wheel zooms around the cursor (shift+wheel scrolls request rows),
 * drag pans, ←/→ pan, ↑/↓ and PgUp/PgDn scroll rows, +/- zoom around the
 * centre, f fits the whole trace, a goes back to the activity (the first
 * view, evv_activity.h), / starts a search (type, Enter jumps to
 * the first request or watcher whose name contains the text, n jumps to the
 * next), ? or h toggles help, click selects a request (click on nothing
 * clears), Escape leaves search/help, else quits; closing the window quits.
 * With several files (a scene chain) the view, zoom and fit are shared;
 * rows scroll in the section under the mouse (else the first that
 * overflows), and search goes through the files in order.
 */
#ifndef EVV_INPUT_H
#define EVV_INPUT_H

#include <SDL.h>

#include "evv_geom.h"
#include "evv_scene.h"
#include "evv_viewport.h"

struct evv_ui {
    int mouse_x, mouse_y, mouse_in;
    struct evv_hit hover;         /* what is under the mouse */
    long selected;                /* request index shown in the panel, -1 none */
    size_t sel_sec;               /* ... in this section (file) */
    long found_cb;                /* callback found by search, -1 none */
    size_t found_sec;             /* ... in this section */
    size_t row_scroll[EVV_MAX_FILES];   /* first request row shown, per section */
    int dragging, drag_moved, drag_x0;
    int help;                     /* help overlay shown */
    int finding;                  /* typing into the find box */
    int find_swallow;             /* drop the '/' text event that opened the box */
    char find[64];
    size_t find_sec;              /* section searched next */
    int find_kind;                /* 0: next match searched among requests, 1: callbacks */
    size_t find_pos;              /* index after the last match */
    char message[160];            /* one-line feedback in the status bar */
    int quit;
};

void evv_ui_init(struct evv_ui *ui);

/* Applies one event. g must be the layout of the frame being shown (the
 * caller recomputes it after a resize); vp->width must equal g->plot.w. */
void evv_input_event(struct evv_ui *ui, struct evv_viewport *vp, const struct evv_scene *s,
                     const struct evv_geom *g, const SDL_Event *e);

/* Jumps to the next request or watcher callback whose name contains
 * ui->find, file after file (wrapping around); returns 1 if something matched. */
int evv_input_find_next(struct evv_ui *ui, struct evv_viewport *vp, const struct evv_scene *s,
                        const struct evv_geom *g);

#endif /* EVV_INPUT_H */
