/* evv_geom.c -- window layout and hit testing (see evv_geom.h). */
#include "evv_geom.h"

#define EVV_HEADER_H 46
#define EVV_BANNER_H 24
#define EVV_AXIS_H 26
#define EVV_CONC_H 54
#define EVV_GAP 6
#define EVV_CTR_H 32          /* a counter's graph */
#define EVV_SEC_HEAD_H 24     /* a section's title line (several files) */
#define EVV_SEC_GAP 8         /* air above a section's title */
#define EVV_REQ_MIN_H 52      /* a section's request area: room for its gutter title */
#define EVV_STATUS_H 20
#define EVV_PICK_SLACK_PX 2

static int evv__clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static void evv__rows(struct evv_section *sec, const struct evv_scene *s, size_t row_scroll)
{
    size_t n = s->n_rows ? s->n_rows : 1;
    int h = sec->req.h > 0 ? sec->req.h : 1;
    sec->row_h = evv__clampi((int)(h / (long)n), EVV_ROW_MIN, EVV_ROW_MAX);
    size_t fit = evv_geom_rows_fit(sec);
    size_t max_first = s->n_rows > fit ? s->n_rows - fit : 0;
    sec->row_first = row_scroll < max_first ? row_scroll : max_first;
    sec->rows_shown = s->n_rows - sec->row_first < fit ? s->n_rows - sec->row_first : fit;
}

/* Splits avail px among n request areas that want want[k] each: all they
 * want if it fits (a lone file takes all there is; several leave the rest
 * blank below, so a one-row section is not stretched into a tall band),
 * else each a fair floor first and the rest in proportion to what they
 * still want. */
static void evv__share(int *h, const int *want, size_t n, int avail)
{
    long sum = 0, extra = 0;
    int floor_ = avail / (2 * (int)n), rest = avail, left;
    for (size_t k = 0; k < n; k++)
        sum += want[k];
    for (size_t k = 0; k < n; k++) {
        h[k] = sum <= avail || want[k] < floor_ ? want[k] : floor_;
        rest -= h[k];
        extra += want[k] - h[k];
    }
    left = rest;
    for (size_t k = 0; k < n && extra > 0; k++) {
        int add = (int)((double)rest * (want[k] - h[k]) / (double)extra);
        h[k] += add;
        left -= add;
    }
    if (n == 1)
        h[0] += left;
}

/* Fixed heights of section k (all but its request rows). */
static int evv__fixed_h(const struct evv_geom *g, const struct evv_scene *s, int loop_h)
{
    int many = g->n_sec > 1, damaged = s->m && s->m->damaged;
    int nl = (int)s->n_loops;
    return (many ? EVV_SEC_HEAD_H + (damaged ? EVV_BANNER_H : 0) : 0) + nl * loop_h +
           (nl ? EVV_GAP : 0) + EVV_CONC_H + EVV_GAP + (int)s->n_ctr * EVV_CTR_H;
}

/* Places section k from y on with a request area req_h high; returns its end. */
static int evv__place(struct evv_geom *g, size_t k, const struct evv_scene *s, int y, int loop_h, int req_h)
{
    struct evv_section *sec = &g->sec[k];
    int x = g->plot.x, w = g->plot.w, many = g->n_sec > 1;
    sec->head = (struct evv_rect){ 0, y, g->win_w, many ? EVV_SEC_HEAD_H : 0 };
    y += sec->head.h;
    if (many)   /* with one file the banner sits above the axis (evv_geom_layout) */
        sec->banner = (struct evv_rect){ 0, y, g->win_w, s->m && s->m->damaged ? EVV_BANNER_H : 0 };
    y += many ? sec->banner.h : 0;
    sec->loop_y = sec->y0 = y;
    sec->loop_h = s->n_loops ? loop_h : 0;
    y += (int)s->n_loops * loop_h + (s->n_loops ? EVV_GAP : 0);
    sec->conc = (struct evv_rect){ x, y, w, EVV_CONC_H };
    y += EVV_CONC_H + EVV_GAP;
    sec->ctr_y = y;
    sec->ctr_h = s->n_ctr ? EVV_CTR_H : 0;
    y += (int)s->n_ctr * EVV_CTR_H;
    sec->req = (struct evv_rect){ x, y, w, req_h < EVV_ROW_MIN ? EVV_ROW_MIN : req_h };
    sec->y1 = y + sec->req.h;
    return sec->y1;
}

/* Stacks the sections between top and bottom. */
static void evv__sections(struct evv_geom *g, const struct evv_scene *s, int top, int bottom,
                          const size_t *row_scroll)
{
    const struct evv_scene *sc = s;
    int nl = 0, want[EVV_MAX_FILES], h[EVV_MAX_FILES], avail = bottom - top - 4;
    for (size_t k = 0; k < g->n_sec; k++, sc = sc->next)
        nl += (int)sc->n_loops;
    /* Loop lanes share at most ~30 % of the height: many threads make
     * them thin (down to 4 px, titles dropped below 12 px) rather than
     * push the request rows off screen. */
    int loop_h = nl ? evv__clampi((int)((bottom - top) * 0.28 / nl), 4, 40) : 0;
    sc = s;
    for (size_t k = 0; k < g->n_sec; k++, sc = sc->next) {
        avail -= evv__fixed_h(g, sc, loop_h) + (k ? EVV_SEC_GAP : 0);
        want[k] = (int)(sc->n_rows ? sc->n_rows : 1) * EVV_ROW_MAX;
        want[k] = want[k] < EVV_REQ_MIN_H ? EVV_REQ_MIN_H : want[k];
    }
    evv__share(h, want, g->n_sec, avail);
    sc = s;
    for (size_t k = 0; k < g->n_sec; k++, sc = sc->next) {
        top = evv__place(g, k, sc, top + (k ? EVV_SEC_GAP : 0), loop_h, h[k]);
        evv__rows(&g->sec[k], sc, row_scroll ? row_scroll[k] : 0);
    }
}

void evv_geom_layout(struct evv_geom *g, const struct evv_scene *s, int win_w, int win_h,
                     const size_t *row_scroll)
{
    int plot_x = EVV_GUTTER_W, plot_w = win_w - EVV_GUTTER_W - 12;
    if (plot_w < 16)
        plot_w = 16;
    *g = (struct evv_geom){ .win_w = win_w, .win_h = win_h, .n_sec = evv_scene_count(s) };
    g->header = (struct evv_rect){ 0, 0, win_w, EVV_HEADER_H };
    int top = EVV_HEADER_H, bottom = win_h - EVV_STATUS_H;
    if (g->n_sec == 1) {   /* one file: its banner under the header, as wide as the window */
        g->sec[0].banner = (struct evv_rect){ 0, top, win_w, s->m && s->m->damaged ? EVV_BANNER_H : 0 };
        top += g->sec[0].banner.h;
    }
    g->axis = (struct evv_rect){ plot_x, top, plot_w, EVV_AXIS_H };
    top += EVV_AXIS_H;
    g->plot = (struct evv_rect){ plot_x, top, plot_w, bottom - top };
    g->status = (struct evv_rect){ 0, bottom, win_w, EVV_STATUS_H };
    if (g->n_sec)
        evv__sections(g, s, top, bottom, row_scroll);
}

size_t evv_geom_rows_fit(const struct evv_section *sec)
{
    return (size_t)(sec->req.h / (sec->row_h > 0 ? sec->row_h : 1));
}

size_t evv_geom_section_at(const struct evv_geom *g, int y)
{
    for (size_t k = 0; k < g->n_sec; k++)
        if (y >= g->sec[k].head.y && y < g->sec[k].y1)
            return k;
    return g->n_sec;
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

/* Requests in flight at h->t: the last concurrency step at or before it. */
static void evv__pick_conc(const struct evv_scene *s, struct evv_hit *h)
{
    const struct evt_model *m = s->m;
    size_t lo = 0, hi = m->n_concurrency;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if ((double)m->concurrency[mid].ts - (double)s->origin <= h->t)
            lo = mid + 1;
        else
            hi = mid;
    }
    h->kind = EVV_HIT_CONC;
    h->value = lo ? m->concurrency[lo - 1].value : 0;
}

struct evv_hit evv_geom_pick(const struct evv_geom *g, const struct evv_scene *s,
                             const struct evv_viewport *vp, int x, int y)
{
    struct evv_hit h = { EVV_HIT_NONE, 0, 0, 0, evv_viewport_t(vp, x - g->plot.x) };
    size_t k = evv_geom_section_at(g, y);
    if (x < g->plot.x || x >= g->plot.x + g->plot.w || k >= g->n_sec)
        return h;
    const struct evv_section *sec = &g->sec[k];
    h.sec = k;
    s = evv_scene_nth(s, k);
    if (sec->loop_h && y >= sec->loop_y && y < sec->loop_y + (int)s->n_loops * sec->loop_h) {
        const struct evv_loop_lane *ln = &s->loops[(y - sec->loop_y) / sec->loop_h];
        if (!evv__find(&ln->cbs, vp, h.t, &h, EVV_HIT_CALLBACK))
            evv__find(&ln->polls, vp, h.t, &h, EVV_HIT_POLL);
    } else if (evv_rect_has(&sec->req, x, y)) {
        size_t row = sec->row_first + (size_t)((y - sec->req.y) / sec->row_h);
        if (row < sec->row_first + sec->rows_shown)
            evv__find(&s->rows[row], vp, h.t, &h, EVV_HIT_REQUEST);
    } else if (evv_rect_has(&sec->conc, x, y) && s->m->n_concurrency) {
        evv__pick_conc(s, &h);
    }
    return h;
}
