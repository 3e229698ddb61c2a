/* evv_draw_int.h -- helpers shared by the drawing files (not public).
 *
 * evv_render.c draws the frame skeleton (header, axis, overlays),
 * evv_lanes.c the lanes, evv_panel.c tooltips, panels and help. They share
 * one context per frame so every part sees the same geometry. Lanes and
 * panels draw one section (file) at a time: a copy of the frame whose s,
 * m and sec point at that section (evv__section).
 */
#ifndef EVV_DRAW_INT_H
#define EVV_DRAW_INT_H

#include "evv_geom.h"
#include "evv_render.h"

struct evv__frame {
    struct evv_target *t;
    SDL_Renderer *r;
    const struct evv_scene *s;    /* the section being drawn (the chain's head outside one) */
    const struct evt_model *m;    /* s->m */
    struct evv_viewport vp;       /* a copy, resized to the plot width */
    const struct evv_ui *ui;
    struct evv_geom g;
    const struct evv_scene *head; /* the whole chain */
    const struct evv_section *sec;/* geometry of section k */
    size_t k;
};

/* The frame f narrowed to section k (k < f->g.n_sec). */
struct evv__frame evv__section(const struct evv__frame *f, size_t k);

void evv__fill(SDL_Renderer *r, int x, int y, int w, int h, uint32_t rgb, uint8_t a);
void evv__frame_rect(SDL_Renderer *r, int x, int y, int w, int h, uint32_t rgb, uint8_t a);
void evv__hatch(const struct evv__frame *f, int x, int y, int w, int h, uint32_t rgb, uint8_t a);

/* Plot-relative pixel of time t, clamped to a safe int range around the plot. */
double evv__xf(const struct evv__frame *f, double t);

/* Window x of time t (plot offset added), clamped like evv__xf. */
int evv__wx(const struct evv__frame *f, double t);

/* Callback/poll/request drawing (evv_lanes.c). */
void evv__draw_loops(const struct evv__frame *f);
void evv__draw_conc(const struct evv__frame *f);
void evv__draw_requests(const struct evv__frame *f);
void evv__draw_marks(const struct evv__frame *f);
void evv__draw_counters(const struct evv__frame *f);   /* evv_counters.c */

/* A mark's glyph, a small downward triangle with its tip at (x, y + 4). */
void evv__mark_glyph(SDL_Renderer *r, int x, int y);
/* The first index in [lo, hi) of an array of stride-byte elements sorted by
 * ts whose ts (a uint64_t, the element's first field: evt_m_sample,
 * evt_m_step) is >= t. */
size_t evv__first_ts(const void *base, size_t stride, size_t lo, size_t hi, double t);

/* Overlays (evv_panel.c). */
void evv__draw_tooltip(const struct evv__frame *f);
void evv__draw_selection(const struct evv__frame *f);
void evv__draw_help(const struct evv__frame *f);
void evv__draw_status(const struct evv__frame *f);

/* "1,234,567" */
void evv__thousands(uint64_t v, char *buf, size_t len);

#endif /* EVV_DRAW_INT_H */
