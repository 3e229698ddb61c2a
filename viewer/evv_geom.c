/* evv_geom.c -- window layout and hit testing (see evv_geom.h). */
#include "evv_geom.h"

#define EVV_HEADER_H 46
#define EVV_BANNER_H 24
#define EVV_AXIS_H 26
#define EVV_CONC_H 54
#define EVV_GAP 6
#define EVV_STATUS_H 20
#define EVV_PICK_SLACK_PX 2

static int evv__clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static void evv__rows(struct evv_geom *g, const struct evv_scene *s, size_t row_scroll)
{
    size_t n = s->n_rows ? s->n_rows : 1;
    int h = g->req.h > 0 ? g->req.h : 1;
    g->row_h = evv__clampi((int)(h / (long)n), EVV_ROW_MIN, EVV_ROW_MAX);
    size_t fit = evv_geom_rows_fit(g);
    size_t max_first = s->n_rows > fit ? s->n_rows - fit : 0;
    g->row_first = row_scroll < max_first ? row_scroll : max_first;
    g->rows_shown = s->n_rows - g->row_first < fit ? s->n_rows - g->row_first : fit;
}

void evv_geom_layout(struct evv_geom *g, const struct evv_scene *s, int win_w, int win_h,
                     size_t row_scroll)
{
    int damaged = s->m && s->m->damaged;
    int plot_x = EVV_GUTTER_W, plot_w = win_w - EVV_GUTTER_W - 12;
    if (plot_w < 16)
        plot_w = 16;
    g->win_w = win_w, g->win_h = win_h;
    g->header = (struct evv_rect){ 0, 0, win_w, EVV_HEADER_H };
    g->banner = (struct evv_rect){ 0, EVV_HEADER_H, win_w, damaged ? EVV_BANNER_H : 0 };
    g->axis = (struct evv_rect){ plot_x, g->banner.y + g->banner.h, plot_w, EVV_AXIS_H };
    int top = g->axis.y + g->axis.h, bottom = win_h - EVV_STATUS_H;
    int avail = bottom - top;
    size_t nl = s->n_loops;
    /* Loop lanes share at most ~30 % of the height: many threads make
     * them thin (down to 4 px, titles dropped below 12 px) rather than
     * push the request rows off screen. */
    g->loop_h = nl ? evv__clampi((int)(avail * 0.28 / (double)nl), 4, 40) : 0;
    g->loop_y = top;
    int conc_y = top + (int)nl * g->loop_h + (nl ? EVV_GAP : 0);
    g->conc = (struct evv_rect){ plot_x, conc_y, plot_w, EVV_CONC_H };
    int req_y = conc_y + EVV_CONC_H + EVV_GAP;
    g->req = (struct evv_rect){ plot_x, req_y, plot_w, bottom - req_y - 4 };
    if (g->req.h < EVV_ROW_MIN)
        g->req.h = EVV_ROW_MIN;
    g->plot = (struct evv_rect){ plot_x, top, plot_w, bottom - top };
    g->status = (struct evv_rect){ 0, bottom, win_w, EVV_STATUS_H };
    evv__rows(g, s, row_scroll);
}

size_t evv_geom_rows_fit(const struct evv_geom *g)
{
    return (size_t)(g->req.h / (g->row_h > 0 ? g->row_h : 1));
}

int evv_rect_has(const struct evv_rect *r, int x, int y)
{
    return x >= r->x && x < r->x + r->w && y >= r->y && y < r->y + r->h;
}

static int evv__find(const struct evv_track *tr, const struct evv_viewport *vp, double t,
                     struct evv_hit *h, enum evv_hit_kind kind)
{
    long k = evv_track_find(tr, t, EVV_PICK_SLACK_PX * vp->ns_per_px);
    if (k < 0)
        return 0;
    h->kind = kind;
    h->index = tr->b[k].item;
    return 1;
}

struct evv_hit evv_geom_pick(const struct evv_geom *g, const struct evv_scene *s,
                             const struct evv_viewport *vp, int x, int y)
{
    struct evv_hit h = { EVV_HIT_NONE, 0, 0, evv_viewport_t(vp, x - g->plot.x) };
    if (x < g->plot.x || x >= g->plot.x + g->plot.w)
        return h;
    if (y >= g->loop_y && y < g->loop_y + (int)s->n_loops * g->loop_h) {
        const struct evv_loop_lane *ln = &s->loops[(y - g->loop_y) / g->loop_h];
        if (!evv__find(&ln->cbs, vp, h.t, &h, EVV_HIT_CALLBACK))
            evv__find(&ln->polls, vp, h.t, &h, EVV_HIT_POLL);
    } else if (evv_rect_has(&g->req, x, y)) {
        size_t row = g->row_first + (size_t)((y - g->req.y) / g->row_h);
        if (row < g->row_first + g->rows_shown)
            evv__find(&s->rows[row], vp, h.t, &h, EVV_HIT_REQUEST);
    } else if (evv_rect_has(&g->conc, x, y) && s->m->n_concurrency) {
        const struct evt_model *m = s->m;
        size_t lo = 0, hi = m->n_concurrency;   /* last step at or before t */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if ((double)m->concurrency[mid].ts - (double)s->origin <= h.t)
                lo = mid + 1;
            else
                hi = mid;
        }
        h.kind = EVV_HIT_CONC;
        h.value = lo ? m->concurrency[lo - 1].value : 0;
    }
    return h;
}
