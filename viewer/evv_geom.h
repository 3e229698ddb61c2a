/* evv_geom.h -- where things are on screen, and what is under the mouse.
 *
 * One function lays out the window (header, banner, axis, lanes, status
 * line) from the scene and the window size; drawing and hit testing both
 * call it, so a tooltip always names what is drawn under the cursor.
 * Lanes stack top to bottom: one loop lane per thread, the "in flight"
 * graph, then the request rows, which take the rest. Rows shrink to fit
 * (down to EVV_ROW_MIN px); beyond that the request area scrolls.
 */
#ifndef EVV_GEOM_H
#define EVV_GEOM_H

#include <stddef.h>

#include "evv_scene.h"
#include "evv_viewport.h"

#define EVV_GUTTER_W 172      /* lane titles */
#define EVV_ROW_MIN 2
#define EVV_ROW_MAX 20

struct evv_rect {
    int x, y, w, h;
};

struct evv_geom {
    int win_w, win_h;
    struct evv_rect header;   /* file, counts, legend */
    struct evv_rect banner;   /* damaged-trace warning; h == 0 when intact */
    struct evv_rect axis;     /* over the plot columns only */
    struct evv_rect plot;     /* all lanes, time columns only */
    int loop_y, loop_h;       /* first loop lane and each lane's height */
    struct evv_rect conc;     /* "in flight" graph */
    struct evv_rect req;      /* request rows */
    int row_h;                /* per request row */
    size_t row_first, rows_shown;
    struct evv_rect status;   /* key help, view range */
};

/* Lays out a win_w x win_h window; row_scroll is the first request row
 * wanted at the top (clamped). */
void evv_geom_layout(struct evv_geom *g, const struct evv_scene *s, int win_w, int win_h,
                     size_t row_scroll);

/* Rows the request area can show without scrolling. */
size_t evv_geom_rows_fit(const struct evv_geom *g);

enum evv_hit_kind { EVV_HIT_NONE, EVV_HIT_CALLBACK, EVV_HIT_POLL, EVV_HIT_REQUEST, EVV_HIT_CONC };

struct evv_hit {
    enum evv_hit_kind kind;
    size_t index;             /* into the model's callbacks / polls / requests */
    uint32_t value;           /* EVV_HIT_CONC: requests in flight */
    double t;                 /* time under the cursor, ns since origin */
};

/* What is at window pixel (x, y). */
struct evv_hit evv_geom_pick(const struct evv_geom *g, const struct evv_scene *s,
                             const struct evv_viewport *vp, int x, int y);

int evv_rect_has(const struct evv_rect *r, int x, int y);

#endif /* EVV_GEOM_H */
