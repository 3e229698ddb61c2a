/* evv_geom.h -- where things are on screen, and what is under the mouse.
 *
 * One function lays out the window (header, banner, axis, lanes, status
 * line) from the scene and the window size; drawing and hit testing both
 * call it, so a tooltip always names what is drawn under the cursor.
 * Under the header and the one time axis, each file of the scene chain
 * gets a section: its title line (only with several files: with one, the
 * window header names it), its damage banner, one loop lane per thread,
 * the "in flight" graph, a small graph per counter, then its request rows. Loop lanes and graphs
 * have fixed heights; the request areas share the rest, each asking for
 * EVV_ROW_MAX px per row, and when that does not fit, each keeps a fair
 * minimum and the rest goes by rows asked (a one-row server next to a
 * hundred-row client still shows its row). Rows shrink to fit (down to
 * EVV_ROW_MIN px); beyond that a section's request area scrolls.
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

struct evv_section {          /* one file's lanes */
    struct evv_rect head;     /* its title line, full width; h == 0 with one file */
    struct evv_rect banner;   /* damaged-trace warning; h == 0 when intact */
    int loop_y, loop_h;       /* first loop lane and each lane's height */
    struct evv_rect conc;     /* "in flight" graph */
    int ctr_y, ctr_h;         /* first counter lane and each one's height (h 0: none) */
    struct evv_rect req;      /* request rows */
    int row_h;                /* per request row */
    size_t row_first, rows_shown;
    int y0, y1;               /* the section's lanes, loop_y to the rows' end */
};

struct evv_geom {
    int win_w, win_h;
    struct evv_rect header;   /* title line and legend */
    struct evv_rect axis;     /* over the plot columns only */
    struct evv_rect plot;     /* all sections, time columns only */
    struct evv_section sec[EVV_MAX_FILES];
    size_t n_sec;
    struct evv_rect status;   /* key help, view range */
};

/* Lays out a win_w x win_h window for the chain s; row_scroll[k] is the
 * first request row wanted at the top of section k (clamped; NULL: 0). */
void evv_geom_layout(struct evv_geom *g, const struct evv_scene *s, int win_w, int win_h,
                     const size_t *row_scroll);

/* Rows a section's request area can show without scrolling. */
size_t evv_geom_rows_fit(const struct evv_section *sec);

/* The section whose lanes contain window row y, or g->n_sec if none. */
size_t evv_geom_section_at(const struct evv_geom *g, int y);

enum evv_hit_kind { EVV_HIT_NONE, EVV_HIT_CALLBACK, EVV_HIT_POLL, EVV_HIT_REQUEST, EVV_HIT_CONC };

struct evv_hit {
    enum evv_hit_kind kind;
    size_t sec;               /* section (file) it is in */
    size_t index;             /* into that model's callbacks / polls / requests */
    uint32_t value;           /* EVV_HIT_CONC: requests in flight */
    double t;                 /* time under the cursor, ns since origin */
};

/* What is at window pixel (x, y); s is the chain laid out in g. */
struct evv_hit evv_geom_pick(const struct evv_geom *g, const struct evv_scene *s,
                             const struct evv_viewport *vp, int x, int y);

int evv_rect_has(const struct evv_rect *r, int x, int y);

#endif /* EVV_GEOM_H */
