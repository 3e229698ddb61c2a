/* evv_lanes.c -- the lanes: loop per thread, requests in flight, request rows.
 *
 * Every lane is drawn by walking an LOD track (evv_lod.h): blocks at
 * least EVV_MERGE_PX wide are drawn one by one with their colours and
 * labels; where blocks are narrower the walk sweeps pixel columns and
 * draws each from the track's prefix sums (a loop lane shows how busy the
 * column was as a bar height, a request row how occupied it was as
 * opacity, and idle polls merge into one hatched run). The cursor only
 * moves forward, so cost follows pixels, not events.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "evv_axis.h"
#include "evv_draw_int.h"
#include "evv_style.h"

#define EVV_MERGE_PX 2.0

/* What a lane does with single blocks and with merged pixel columns. A
 * lane may gather consecutive columns into one run (run_x0..run_x1) and
 * draw it in `flush`, called when a run of narrow blocks ends. */
struct evv__lane {
    const struct evv_track *tr;
    int y, h;
    void (*block)(const struct evv__frame *f, const struct evv__lane *ln, size_t i, int x0, int x1);
    void (*col)(const struct evv__frame *f, struct evv__lane *ln, int x, double frac);
    void (*flush)(const struct evv__frame *f, struct evv__lane *ln);
    int run_x0, run_x1;
};

static int evv__wide(const struct evv__frame *f, const struct evv_block *b)
{
    return evv__xf(f, (double)b->t1) - evv__xf(f, (double)b->t0) >= EVV_MERGE_PX;
}

/* Sweeps pixel columns from narrow block i, one column at a time: each
 * column's busy fraction comes from the prefix sums with a cursor that
 * gallops forward, so a column costs O(log blocks-per-pixel). The sweep
 * stops at a wide block or when the next block is a pixel or more away,
 * and returns that block's index. */
static size_t evv__sweep(const struct evv__frame *f, struct evv__lane *ln, size_t i)
{
    const struct evv_track *tr = ln->tr;
    int x = (int)floor(evv__xf(f, (double)tr->b[i].t0)), xmax = f->g.plot.w;
    x = x < 0 ? 0 : x;
    double ta = evv_viewport_t(&f->vp, x);
    size_t cur = i > 0 && (double)tr->b[i - 1].t1 > ta ? i - 1 : i;
    double prev = evv_track_busy_before(tr, &cur, ta);
    for (; x < xmax; x++) {
        double tb = evv_viewport_t(&f->vp, x + 1), next = evv_track_busy_before(tr, &cur, tb);
        if (next > prev)
            ln->col(f, ln, f->g.plot.x + x, fmin(1, (next - prev) / f->vp.ns_per_px));
        prev = next;
        if (cur >= tr->n || evv__wide(f, &tr->b[cur]))
            break;
        if ((double)tr->b[cur].t0 >= tb && evv__xf(f, (double)tr->b[cur].t0) - (x + 1) >= 1)
            break;
    }
    if (ln->flush)
        ln->flush(f, ln);
    return x < xmax ? cur : tr->n;
}

static void evv__walk(const struct evv__frame *f, struct evv__lane *ln)
{
    const struct evv_track *tr = ln->tr;
    size_t i = evv_track_first_ending_after(tr, f->vp.t0);
    while (i < tr->n && (double)tr->b[i].t0 < f->vp.t1) {
        const struct evv_block *b = &tr->b[i];
        if (evv__wide(f, b)) {
            ln->block(f, ln, i, evv__wx(f, (double)b->t0), evv__wx(f, (double)b->t1));
            i++;
        } else {
            size_t next = evv__sweep(f, ln, i);
            i = next > i ? next : i + 1;
        }
    }
}

/* Gathers consecutive columns into one run (see struct evv__lane). */
static void evv__run_col(const struct evv__frame *f, struct evv__lane *ln, int x, double frac)
{
    if (ln->run_x1 == x - 1 && ln->run_x1 >= ln->run_x0) {
        ln->run_x1 = x;
        return;
    }
    if (ln->flush && ln->run_x1 >= ln->run_x0)
        ln->flush(f, ln);
    ln->run_x0 = ln->run_x1 = x;
}

/* ---- loop lanes ------------------------------------------------------- */

/* Air above and below blocks in a loop lane: less when lanes are thin. */
static int evv__pad(int h)
{
    return h >= 12 ? 3 : h >= 6 ? 1 : 0;
}

static void evv__poll_block(const struct evv__frame *f, const struct evv__lane *ln, size_t i, int x0, int x1)
{
    evv__fill(f->r, x0, ln->y + evv__pad(ln->h), x1 - x0, ln->h - 2 * evv__pad(ln->h), EVV_RGB_IDLE, 255);
    evv__hatch(f, x0, ln->y + evv__pad(ln->h), x1 - x0, ln->h - 2 * evv__pad(ln->h), EVV_RGB_IDLE_HATCH, 255);
    if (x1 - x0 > 90 && ln->h >= 20)
        evv_text_draw(f->t->text, EVV_FONT_SMALL, "idle (poll)", (x0 < f->g.plot.x ? f->g.plot.x : x0) + 4,
                      ln->y + ln->h / 2 - 6, 0x40607Fu, x1 - x0 - 8);
}

/* A run of polls narrower than a pixel each: idle, drawn as one block. */
static void evv__poll_flush(const struct evv__frame *f, struct evv__lane *ln)
{
    if (ln->run_x1 < ln->run_x0)
        return;
    int x0 = ln->run_x0, w = ln->run_x1 - ln->run_x0 + 1;
    evv__fill(f->r, x0, ln->y + evv__pad(ln->h), w, ln->h - 2 * evv__pad(ln->h), EVV_RGB_IDLE, 255);
    evv__hatch(f, x0, ln->y + evv__pad(ln->h), w, ln->h - 2 * evv__pad(ln->h), EVV_RGB_IDLE_HATCH, 255);
    ln->run_x0 = 0, ln->run_x1 = -1;
}

/* Right edge of a block drawn one by one: a pixel short when it is wide
 * enough, so back-to-back callbacks or requests read as separate blocks
 * (fifty 50 ms callbacks in a row are not one long one). */
static int evv__edge(int x0, int x1)
{
    return x1 - x0 >= 4 ? x1 - 1 : x1;
}

static void evv__cb_block(const struct evv__frame *f, const struct evv__lane *ln, size_t i, int x0, int x1)
{
    const struct evv_block *b = &ln->tr->b[i];
    const struct evt_m_callback *c = &f->m->callbacks[b->item];
    evv__fill(f->r, x0, ln->y + evv__pad(ln->h), evv__edge(x0, x1) - x0, ln->h - 2 * evv__pad(ln->h), b->rgb, 255);
    if (f->ui->found_cb == (long)b->item && f->ui->found_sec == f->k)
        evv__frame_rect(f->r, x0 - 1, ln->y + 1, x1 - x0 + 2, ln->h - 2, EVV_RGB_SELECT, 255);
    if (x1 - x0 > 30 && ln->h >= 16 && c->watcher < f->m->n_watchers) {
        int lx = x0 < f->g.plot.x ? f->g.plot.x : x0;
        evv_text_draw(f->t->text, EVV_FONT_SMALL, f->m->watchers[c->watcher].name, lx + 3,
                      ln->y + ln->h / 2 - 6, evv_text_on(b->rgb), x1 - lx - 6);
    }
}

/* A pixel column of many tiny callbacks: a bar as tall as the column was busy. */
static void evv__cb_column(const struct evv__frame *f, struct evv__lane *ln, int x, double frac)
{
    int pad = evv__pad(ln->h), full = ln->h - 2 * pad, h = (int)ceil(full * frac);
    evv__fill(f->r, x, ln->y + pad + full - h, 1, h, EVV_RGB_MANY, 255);
}

static void evv__loop_title(const struct evv__frame *f, const struct evv_loop_lane *l, int y, int h)
{
    char title[96], sub[160] = "";
    snprintf(title, sizeof title, "loop (thread %u)", l->thread);
    for (size_t i = 0; i < f->m->n_threads; i++) {
        const struct evt_m_thread *th = &f->m->threads[i];
        if (th->index == l->thread && (th->tid || th->name[0]))
            snprintf(sub, sizeof sub, "%s%stid %u", th->name, th->name[0] ? " " : "", th->tid);
    }
    int th = evv_text_height(f->t->text, EVV_FONT_BOLD);
    int ty = h >= 30 && sub[0] ? y + h / 2 - th + 1 : y + (h - th) / 2;
    evv_text_draw(f->t->text, EVV_FONT_BOLD, title, 8, ty, EVV_RGB_TEXT, EVV_GUTTER_W - 16);
    if (h >= 30 && sub[0])
        evv_text_draw(f->t->text, EVV_FONT_SMALL, sub, 8, ty + th, EVV_RGB_TEXT_DIM, EVV_GUTTER_W - 16);
}

void evv__draw_loops(const struct evv__frame *f)
{
    if (f->s->n_loops && f->sec->loop_h < 12) {   /* lanes too thin for their own titles */
        char title[64];
        snprintf(title, sizeof title, "loops (%zu threads)", f->s->n_loops);
        evv_text_draw(f->t->text, EVV_FONT_BOLD, title, 8, f->sec->loop_y + 2, EVV_RGB_TEXT, EVV_GUTTER_W - 16);
        evv_text_draw(f->t->text, EVV_FONT_SMALL, "one thin lane per thread", 8, f->sec->loop_y + 20,
                      EVV_RGB_TEXT_DIM, EVV_GUTTER_W - 16);
    }
    for (size_t i = 0; i < f->s->n_loops; i++) {
        const struct evv_loop_lane *l = &f->s->loops[i];
        int y = f->sec->loop_y + (int)i * f->sec->loop_h, h = f->sec->loop_h;
        if (h >= 12)
            evv__loop_title(f, l, y, h);
        SDL_Rect clip = { f->g.plot.x, y, f->g.plot.w, h };
        SDL_RenderSetClipRect(f->r, &clip);
        if (i % 2)
            evv__fill(f->r, clip.x, y, clip.w, h, EVV_RGB_LANE_ALT, 255);
        struct evv__lane polls = { &l->polls, y, h, evv__poll_block, evv__run_col, evv__poll_flush, 0, -1 };
        struct evv__lane cbs = { &l->cbs, y, h, evv__cb_block, evv__cb_column, NULL, 0, -1 };
        evv__walk(f, &polls);
        evv__walk(f, &cbs);
        SDL_RenderSetClipRect(f->r, NULL);
        evv__fill(f->r, f->g.plot.x, y + h - 1, f->g.plot.w, 1, EVV_RGB_GRID, 255);
    }
}

/* ---- marks ------------------------------------------------------------ */

void evv__mark_glyph(SDL_Renderer *r, int x, int y)
{
    for (int k = 0; k < 4; k++)
        evv__fill(r, x - 3 + k, y + k, 7 - 2 * k, 1, EVV_RGB_MARK, 255);
}

_Static_assert(offsetof(struct evt_m_sample, ts) == 0 && offsetof(struct evt_m_step, ts) == 0,
               "evv__first_ts reads ts as the first field");

size_t evv__first_ts(const void *base, size_t stride, size_t lo, size_t hi, double t)
{
    const char *b = base;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint64_t ts;
        memcpy(&ts, b + mid * stride, sizeof ts);
        if ((double)ts < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* First mark at or after `from` with ts >= t (absolute ns); marks are by ts. */
static size_t evv__mark_at(const struct evt_model *m, size_t from, double t)
{
    return evv__first_ts(m->marks, sizeof *m->marks, from, m->n_marks, t);
}

/* Marks as small dark ticks on top of their thread's loop lane, at most
 * one per pixel column: after drawing one, a binary search jumps to the
 * first mark of the next column, so a frame costs O(columns * log marks)
 * however many marks there are. Limit: of several marks within one pixel
 * column only the first is drawn; marks of threads without a loop lane
 * are not drawn. */
void evv__draw_marks(const struct evv__frame *f)
{
    const struct evt_model *m = f->m;
    double org = (double)f->s->origin;
    if (!f->s->n_loops || !m->n_marks)
        return;
    SDL_Rect clip = { f->g.plot.x, f->sec->loop_y, f->g.plot.w, (int)f->s->n_loops * f->sec->loop_h };
    SDL_RenderSetClipRect(f->r, &clip);
    size_t i = evv__mark_at(m, 0, org + f->vp.t0 - 4 * f->vp.ns_per_px);
    while (i < m->n_marks && (double)m->marks[i].ts <= org + f->vp.t1 + 4 * f->vp.ns_per_px) {
        int x = (int)floor(evv__xf(f, (double)m->marks[i].ts - org));
        const struct evv_loop_lane *ln = evv_scene_loop_of(f->s, m->marks[i].thread);
        if (ln) {
            int y = f->sec->loop_y + (int)(ln - f->s->loops) * f->sec->loop_h;
            evv__mark_glyph(f->r, f->g.plot.x + x, y);
            evv__fill(f->r, f->g.plot.x + x, y, 1, f->sec->loop_h / 2, EVV_RGB_MARK, 255);
        }
        i = evv__mark_at(m, i + 1, org + evv_viewport_t(&f->vp, x + 1));
    }
    SDL_RenderSetClipRect(f->r, NULL);
}

/* ---- requests in flight ----------------------------------------------- */

/* Index of the first concurrency step with ts >= t (absolute ns), at or
 * after lo: gallops, since columns move right a few steps at a time. */
static size_t evv__step_at(const struct evt_model *m, size_t lo, double t)
{
    size_t n = m->n_concurrency, step = 1, hi = lo;
    while (hi < n && (double)m->concurrency[hi].ts < t) {
        lo = hi + 1;
        hi += step;
        step *= 2;
    }
    return evv__first_ts(m->concurrency, sizeof *m->concurrency, lo, hi < n ? hi : n, t);
}

static void evv__conc_title(const struct evv__frame *f)
{
    char sub[64];
    const struct evv_rect *c = &f->sec->conc;
    evv_text_draw(f->t->text, EVV_FONT_BOLD, "in flight", 8, c->y + 8, EVV_RGB_TEXT, EVV_GUTTER_W - 16);
    snprintf(sub, sizeof sub, "requests open (max %u)", f->s->conc_max);
    evv_text_draw(f->t->text, EVV_FONT_SMALL, sub, 8, c->y + 26, EVV_RGB_TEXT_DIM, EVV_GUTTER_W - 16);
}

void evv__draw_conc(const struct evv__frame *f)
{
    const struct evt_model *m = f->m;
    const struct evv_rect *c = &f->sec->conc;
    double org = (double)f->s->origin;
    evv__conc_title(f);
    evv__fill(f->r, c->x, c->y + c->h - 1, c->w, 1, EVV_RGB_TEXT_DIM, 255);
    if (!m->n_concurrency || !f->s->conc_max)
        return;
    int gh = c->h - 6;
    size_t i = evv__step_at(m, 0, org + f->vp.t0);
    for (int x = 0; x < c->w; x++) {
        double a = org + evv_viewport_t(&f->vp, x), b = a + f->vp.ns_per_px;
        if (a > org + f->s->t_end)
            break;   /* after the trace's last event nothing is known */
        size_t j = evv__step_at(m, i, b), n = m->n_concurrency;
        /* the step in force at the column's left edge, and every step inside */
        size_t from = i < n && (double)m->concurrency[i].ts == a ? i : i > 0 ? i - 1 : 0;
        uint32_t v = 0;
        if ((double)m->concurrency[from].ts < b)
            v = evv_maxpyr_query(&f->s->conc, from, j > from ? j : from + 1);
        int h = (int)ceil((double)gh * v / f->s->conc_max);
        if (h > 0)
            evv__fill(f->r, c->x + x, c->y + c->h - 1 - h, 1, h, EVV_RGB_CONC, 255);
        i = j;
    }
    char top[32];
    snprintf(top, sizeof top, "%u", f->s->conc_max);
    evv__fill(f->r, c->x, c->y + c->h - 1 - gh, c->w, 1, EVV_RGB_GRID, 255);
    evv_text_draw(f->t->text, EVV_FONT_SMALL, top, c->x - 4 - evv_text_width(f->t->text, EVV_FONT_SMALL, top, -1),
                  c->y + c->h - 1 - gh - 6, EVV_RGB_TEXT_DIM, 0);
}

/* ---- request rows ----------------------------------------------------- */

static int evv__bar_h(const struct evv__frame *f)
{
    int h = f->sec->row_h;   /* air between rows, so a stack of thin rows still reads as bars */
    return h >= 6 ? h - 2 : h >= 2 ? h - 1 : h;
}

/* A request's phases as coloured segments between x0 and x1. */
static void evv__req_phases(const struct evv__frame *f, const struct evt_m_request *q, int x0, int x1, int y, int h)
{
    const struct evt_model *m = f->m;
    double org = (double)f->s->origin;
    int px = x0;
    uint32_t rgb = EVV_RGB_NOPHASE;
    for (uint32_t k = 0; k <= q->phase_count; k++) {
        int nx = k < q->phase_count ? evv__wx(f, (double)m->phases[q->phase_first + k].t0 - org) : x1;
        nx = nx < x0 ? x0 : nx > x1 ? x1 : nx;
        if (nx > px)
            evv__fill(f->r, px, y, nx - px, h, rgb, 255);
        px = nx > px ? nx : px;
        if (k < q->phase_count)
            rgb = evv_phase_rgb(m->phases[q->phase_first + k].name);
    }
}

static void evv__req_block(const struct evv__frame *f, const struct evv__lane *ln, size_t i, int x0, int x1)
{
    const struct evt_m_request *q = &f->m->requests[ln->tr->b[i].item];
    int h = evv__bar_h(f);
    evv__req_phases(f, q, x0, evv__edge(x0, x1), ln->y, h);
    if (f->ui->selected == (long)ln->tr->b[i].item && f->ui->sel_sec == f->k)
        evv__frame_rect(f->r, x0 - 1, ln->y - 1, x1 - x0 + 2, h + 2, EVV_RGB_SELECT, 255);
    int lx = x0 < f->g.plot.x ? f->g.plot.x : x0;
    if (h >= 12 && x1 - lx > 36 && q->name) {
        uint32_t bg = evv_scene_phase_at(f->s, ln->tr->b[i].item, evv_viewport_t(&f->vp, lx + 4 - f->g.plot.x));
        evv_text_draw(f->t->text, EVV_FONT_SMALL, q->name, lx + 3, ln->y + (h - 13) / 2,
                      evv_text_on(bg), x1 - lx - 6);
    }
}

/* A pixel column of many tiny requests: as opaque as the row was occupied. */
static void evv__req_column(const struct evv__frame *f, struct evv__lane *ln, int x, double frac)
{
    evv__fill(f->r, x, ln->y, 1, evv__bar_h(f), EVV_RGB_MANY, (uint8_t)(90 + 165 * frac));
}

static void evv__req_title(const struct evv__frame *f)
{
    char title[64], sub[96];
    const struct evv_section *g = f->sec;
    snprintf(title, sizeof title, "requests (%zu row%s)", f->s->n_rows, f->s->n_rows == 1 ? "" : "s");
    evv_text_draw(f->t->text, EVV_FONT_BOLD, title, 8, g->req.y + 4, EVV_RGB_TEXT, EVV_GUTTER_W - 16);
    if (g->req.h >= 48) {
        evv_text_draw(f->t->text, EVV_FONT_SMALL, "one bar per request,", 8, g->req.y + 22, EVV_RGB_TEXT_DIM, 0);
        evv_text_draw(f->t->text, EVV_FONT_SMALL, "overlapping ones stacked", 8, g->req.y + 35, EVV_RGB_TEXT_DIM, 0);
    }
    if (g->rows_shown < f->s->n_rows && g->req.h >= 64) {
        snprintf(sub, sizeof sub, "rows %zu\xe2\x80\x93%zu shown (\xe2\x86\x91/\xe2\x86\x93 scroll)",
                 g->row_first + 1, g->row_first + g->rows_shown);
        evv_text_draw(f->t->text, EVV_FONT_SMALL, sub, 8, g->req.y + 52, EVV_RGB_STALL, EVV_GUTTER_W - 14);
    }
}

void evv__draw_requests(const struct evv__frame *f)
{
    const struct evv_section *g = f->sec;
    evv__req_title(f);
    SDL_Rect clip = { f->g.plot.x, g->req.y, f->g.plot.w, g->req.h };
    SDL_RenderSetClipRect(f->r, &clip);
    for (size_t k = 0; k < g->rows_shown; k++) {
        size_t row = g->row_first + k;
        struct evv__lane ln = { &f->s->rows[row], g->req.y + (int)k * g->row_h, g->row_h,
                                evv__req_block, evv__req_column, NULL, 0, -1 };
        evv__walk(f, &ln);
    }
    SDL_RenderSetClipRect(f->r, NULL);
    if (g->rows_shown < f->s->n_rows) {   /* scrollbar */
        int sh = g->req.h * (int)g->rows_shown / (int)f->s->n_rows;
        int sy = g->req.y + (int)((double)g->req.h * g->row_first / f->s->n_rows);
        evv__fill(f->r, f->g.plot.x + f->g.plot.w + 3, g->req.y, 6, g->req.h, EVV_RGB_GRID, 255);
        evv__fill(f->r, f->g.plot.x + f->g.plot.w + 3, sy, 6, sh < 8 ? 8 : sh, EVV_RGB_TEXT_DIM, 255);
    }
}
