/* evv_render.c -- the frame: header, legend, axis, lanes, overlays.
 *
 * Order matters: lanes first, then the stall bands and lost marks across
 * them (translucent, so the blocks below stay readable), then panels and
 * the tooltip on top of everything.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evtrace.h"
#include "evv_axis.h"
#include "evv_draw_int.h"
#include "evv_style.h"

#define EVV_HATCH_W 128
#define EVV_HATCH_H 64
#define EVV_HATCH_PERIOD 6
#define EVV_TICK_MIN_PX 90

static SDL_Texture *evv__make_hatch(SDL_Renderer *r)
{
    uint32_t *px = malloc(EVV_HATCH_W * EVV_HATCH_H * sizeof *px);
    if (!px)
        return NULL;
    for (int y = 0; y < EVV_HATCH_H; y++)
        for (int x = 0; x < EVV_HATCH_W; x++)
            px[y * EVV_HATCH_W + x] = (x + y) % EVV_HATCH_PERIOD == 0 ? 0xFFFFFFFFu : 0x00FFFFFFu;
    SDL_Texture *tex = SDL_CreateTexture(r, SDL_PIXELFORMAT_ARGB8888, SDL_TEXTUREACCESS_STATIC,
                                         EVV_HATCH_W, EVV_HATCH_H);
    if (tex) {
        SDL_UpdateTexture(tex, NULL, px, EVV_HATCH_W * 4);
        SDL_SetTextureBlendMode(tex, SDL_BLENDMODE_BLEND);
    }
    free(px);
    return tex;
}

int evv_target_init(struct evv_target *t, SDL_Renderer *r, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    t->r = r;
    int rc = evv_text_open(&t->text, r, err, errlen);
    if (rc < 0)
        return rc;
    t->hatch = evv__make_hatch(r);
    if (!t->hatch) {
        snprintf(err, errlen, "SDL_CreateTexture: %s", SDL_GetError());
        evv_target_free(t);
        return EVT_ENOMEM;
    }
    SDL_SetRenderDrawBlendMode(r, SDL_BLENDMODE_BLEND);
    return 0;
}

void evv_target_free(struct evv_target *t)
{
    if (t->hatch)
        SDL_DestroyTexture(t->hatch);
    evv_text_close(t->text);
    memset(t, 0, sizeof *t);
}

/* Opaque fills skip blending: the software renderer's blend path costs
 * several times its copy path per pixel, and most of a frame is opaque. */
void evv__fill(SDL_Renderer *r, int x, int y, int w, int h, uint32_t rgb, uint8_t a)
{
    SDL_Rect rc = { x, y, w, h };
    SDL_SetRenderDrawBlendMode(r, a == 255 ? SDL_BLENDMODE_NONE : SDL_BLENDMODE_BLEND);
    SDL_SetRenderDrawColor(r, rgb >> 16 & 0xff, rgb >> 8 & 0xff, rgb & 0xff, a);
    SDL_RenderFillRect(r, &rc);
}

void evv__frame_rect(SDL_Renderer *r, int x, int y, int w, int h, uint32_t rgb, uint8_t a)
{
    SDL_Rect rc = { x, y, w, h };
    SDL_SetRenderDrawBlendMode(r, a == 255 ? SDL_BLENDMODE_NONE : SDL_BLENDMODE_BLEND);
    SDL_SetRenderDrawColor(r, rgb >> 16 & 0xff, rgb >> 8 & 0xff, rgb & 0xff, a);
    SDL_RenderDrawRect(r, &rc);
}

/* Tiles the hatch texture over a rectangle; the pattern stays aligned to
 * window coordinates so neighbouring blocks continue each other's lines. */
void evv__hatch(const struct evv__frame *f, int x, int y, int w, int h, uint32_t rgb, uint8_t a)
{
    SDL_Texture *tex = f->t->hatch;
    const int cw = EVV_HATCH_W - EVV_HATCH_PERIOD, ch = EVV_HATCH_H - EVV_HATCH_PERIOD;
    SDL_SetTextureColorMod(tex, rgb >> 16 & 0xff, rgb >> 8 & 0xff, rgb & 0xff);
    SDL_SetTextureAlphaMod(tex, a);
    for (int yy = y; yy < y + h; yy += ch)
        for (int xx = x; xx < x + w; xx += cw) {
            int ww = x + w - xx < cw ? x + w - xx : cw, hh = y + h - yy < ch ? y + h - yy : ch;
            SDL_Rect src = { ((xx % EVV_HATCH_PERIOD) + EVV_HATCH_PERIOD) % EVV_HATCH_PERIOD,
                             ((yy % EVV_HATCH_PERIOD) + EVV_HATCH_PERIOD) % EVV_HATCH_PERIOD, ww, hh };
            SDL_Rect dst = { xx, yy, ww, hh };
            SDL_RenderCopy(f->r, tex, &src, &dst);
        }
}

double evv__xf(const struct evv__frame *f, double t)
{
    double x = evv_viewport_x(&f->vp, t);
    return x < -1e6 ? -1e6 : x > 1e6 ? 1e6 : x;
}

int evv__wx(const struct evv__frame *f, double t)
{
    return f->g.plot.x + (int)floor(evv__xf(f, t));
}

void evv__thousands(uint64_t v, char *buf, size_t len)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v), o = 0;
    for (int i = 0; i < n && o + 2 < (int)len; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = tmp[i];
    }
    buf[o] = 0;
}

/* "1.20 s  ·  1,234 events  ·  ...  ·  0 lost": one file's figures. */
static void evv__counts(const struct evv__frame *f, char *buf, size_t len)
{
    const struct evt_model *m = f->m;
    char dur[32], ev[32];
    evv_format_duration(f->s->duration, dur, sizeof dur);
    evv__thousands(m->events, ev, sizeof ev);
    snprintf(buf, len,
             "%s  \xc2\xb7  %s events  \xc2\xb7  %zu request%s  \xc2\xb7  %zu callbacks  \xc2\xb7  "
             "%zu stall%s \xe2\x89\xa5 %llu ms  \xc2\xb7  %llu lost",
             dur, ev, m->n_requests, m->n_requests == 1 ? "" : "s", m->n_callbacks, f->s->n_stalls,
             f->s->n_stalls == 1 ? "" : "s", (unsigned long long)(f->s->stall_ns / 1000000),
             (unsigned long long)m->lost);
}

/* The window's first line: the file with one file ("LABEL: file" when
 * the command line gave it a label: a lone file has no section title to
 * carry it), what the stack means with several. */
static void evv__draw_title(const struct evv__frame *f)
{
    const struct evt_model *m = f->m;
    char counts[400], line[512], titled[300];
    const char *bold = f->s->file;
    if (f->g.n_sec > 1) {
        bold = "several processes, one clock";
        snprintf(line, sizeof line, "   %zu traces stacked on one time axis: 0 = the earliest first event; "
                 "each section is one process (its loop, requests in flight, requests)", f->g.n_sec);
    } else {
        if (f->s->label[0]) {
            snprintf(titled, sizeof titled, "%s: %s", f->s->label, f->s->file);
            bold = titled;
        }
        evv__counts(f, counts, sizeof counts);
        snprintf(line, sizeof line, "   pid %u %s  \xc2\xb7  %s", m->pid, m->process_name ? m->process_name : "",
                 counts);
    }
    int x = 8 + evv_text_draw(f->t->text, EVV_FONT_BOLD, bold, 8, 4, EVV_RGB_TEXT, 0);
    evv_text_draw(f->t->text, EVV_FONT_NORMAL, line, x, 4, EVV_RGB_TEXT_DIM, f->g.win_w - x - 8);
}

/* A section's title strip (several files): "client: loadgen (pid 12)",
 * then the file, when it starts on the shared axis, and its figures. */
static void evv__draw_section_head(const struct evv__frame *f)
{
    const struct evv_rect *h = &f->sec->head;
    const struct evt_model *m = f->m;
    char who[160], counts[400], at[32], line[720];
    if (h->h == 0)
        return;
    evv__fill(f->r, 0, h->y, h->w, h->h, EVV_RGB_SECTION, 255);
    snprintf(who, sizeof who, "%s%s%s (pid %u)", f->s->label, f->s->label[0] ? ": " : "",
             m->process_name && *m->process_name ? m->process_name : "?", m->pid);
    evv__counts(f, counts, sizeof counts);
    evv_format_duration(f->s->t_begin, at, sizeof at);
    snprintf(line, sizeof line, "   %s  \xc2\xb7  starts at %s  \xc2\xb7  lasts %s", f->s->file, at, counts);
    int x = 8 + evv_text_draw(f->t->text, EVV_FONT_BOLD, who, 8, h->y + 4, EVV_RGB_TEXT, 0);
    evv_text_draw(f->t->text, EVV_FONT_NORMAL, line, x, h->y + 4, EVV_RGB_TEXT_DIM, f->g.win_w - x - 8);
}

/* A phase's legend label is cut (with an ellipsis) past this width: a
 * program's long phase name must not push the loop's legend off the
 * window. */
#define EVV_LEGEND_PHASE_MAX_W 160

/* One legend entry: a swatch then its label (cut at max_w px, 0: never);
 * returns the next x. */
static int evv__legend_item(const struct evv__frame *f, int x, int y, uint32_t rgb, int hatch,
                            const char *label, int max_w)
{
    if (hatch == 2) {
        evv__hatch(f, x, y + 2, 14, 11, EVV_RGB_LOST, 220);
    } else if (hatch == 4) {
        evv__mark_glyph(f->r, x + 7, y + 3);
        evv__fill(f->r, x + 7, y + 3, 1, 10, EVV_RGB_MARK, 255);
    } else {
        evv__fill(f->r, x, y + 2, 14, 11, rgb, hatch == 3 ? 70 : 255);
        if (hatch == 1)
            evv__hatch(f, x, y + 2, 14, 11, EVV_RGB_IDLE_HATCH, 255);
    }
    return x + 18 + evv_text_draw(f->t->text, EVV_FONT_NORMAL, label, x + 18, y, EVV_RGB_TEXT, max_w) + 12;
}

/* Phase names of every file, first seen first, at most EVV_MAX_LEGEND_PHASES. */
static size_t evv__legend_phases(const struct evv__frame *f, const char **out)
{
    size_t n = 0;
    for (const struct evv_scene *s = f->head; s; s = s->next)
        for (size_t i = 0; i < s->n_phases && n < EVV_MAX_LEGEND_PHASES; i++) {
            size_t k = 0;
            while (k < n && strcmp(out[k], s->phases[i]) != 0)
                k++;
            if (k == n)
                out[n++] = s->phases[i];
        }
    return n;
}

static void evv__draw_legend(const struct evv__frame *f)
{
    static const char *const dflt[] = { "accept", "read", "process", "respond", "close" };
    const char *phases[EVV_MAX_LEGEND_PHASES];
    size_t n = evv__legend_phases(f, phases);
    int y = 24, x = 8;
    char stall[64];
    x += evv_text_draw(f->t->text, EVV_FONT_BOLD, "request phases:", x, y, EVV_RGB_TEXT, 0) + 8;
    for (size_t i = 0; i < (n ? n : sizeof dflt / sizeof *dflt); i++) {
        const char *p = n ? phases[i] : dflt[i];
        x = evv__legend_item(f, x, y, evv_phase_rgb(p), 0, p, EVV_LEGEND_PHASE_MAX_W);
    }
    x += 10;
    x += evv_text_draw(f->t->text, EVV_FONT_BOLD, "loop:", x, y, EVV_RGB_TEXT, 0) + 8;
    x = evv__legend_item(f, x, y, EVV_RGB_IDLE, 1, "idle (poll)", 0);
    x = evv__legend_item(f, x, y, 0x4E79A7u, 0, "busy: callback (colour = watcher)", 0);
    x = evv__legend_item(f, x, y, EVV_RGB_MANY, 0, "many tiny blocks", 0);
    snprintf(stall, sizeof stall, "stall (callback \xe2\x89\xa5 %llu ms)",
             (unsigned long long)(f->s->stall_ns / 1000000));
    x = evv__legend_item(f, x, y, EVV_RGB_STALL, 3, stall, 0);
    x = evv__legend_item(f, x, y, 0, 2, "lost events", 0);
    evv__legend_item(f, x, y, 0, 4, "mark", 0);
}

static void evv__draw_banner(const struct evv__frame *f)
{
    char line[640];
    const struct evv_rect *b = &f->sec->banner;
    if (b->h == 0)
        return;
    evv__fill(f->r, 0, b->y, f->g.win_w, b->h, EVV_RGB_BANNER, 255);
    snprintf(line, sizeof line, "Damaged trace%s%s: %s \xe2\x80\x94 showing everything read before the damage",
             f->g.n_sec > 1 ? " " : "", f->g.n_sec > 1 ? f->s->file : "",
             f->m->error[0] ? f->m->error : "file cut or corrupt");
    evv_text_draw(f->t->text, EVV_FONT_BOLD, line, 8, b->y + 5, 0x6B3A00u, f->g.win_w - 16);
}

static void evv__draw_axis(const struct evv__frame *f)
{
    double ticks[128], step = evv_axis_step(f->vp.ns_per_px, EVV_TICK_MIN_PX);
    size_t n = evv_axis_ticks(&f->vp, step, ticks, 128);
    const struct evv_rect *a = &f->g.axis;
    evv_text_draw(f->t->text, EVV_FONT_SMALL, f->g.n_sec > 1 ? "time since the first event" : "time since trace start",
                  8, a->y + 8, EVV_RGB_TEXT_DIM, EVV_GUTTER_W - 12);
    evv__fill(f->r, a->x, a->y + a->h - 1, a->w, 1, EVV_RGB_TEXT_DIM, 255);
    for (size_t i = 0; i < n; i++) {
        char lab[48];
        int x = evv__wx(f, ticks[i]);
        evv__fill(f->r, x, f->g.plot.y, 1, f->g.plot.h, EVV_RGB_GRID, 255);
        evv__fill(f->r, x, a->y + a->h - 7, 1, 6, EVV_RGB_TEXT_DIM, 255);
        evv_axis_label(ticks[i], step, lab, sizeof lab);
        int w = evv_text_width(f->t->text, EVV_FONT_NORMAL, lab, -1), lx = x - w / 2;
        lx = lx < a->x + 2 ? a->x + 2 : lx + w > a->x + a->w - 2 ? a->x + a->w - 2 - w : lx;
        evv_text_draw(f->t->text, EVV_FONT_NORMAL, lab, lx, a->y + 3, EVV_RGB_TEXT, 0);
    }
}

/* A stall's time span, or 0 when it is outside the view. */
static int evv__stall_span(const struct evv__frame *f, size_t k, double *t0, double *t1)
{
    const struct evt_m_callback *c = &f->m->callbacks[f->s->stalls[k]];
    *t0 = (double)c->t0 - (double)f->s->origin, *t1 = (double)c->t1 - (double)f->s->origin;
    return !(*t1 < f->vp.t0 || *t0 > f->vp.t1);
}

/* A stall's label, in the in-flight lane from the band's start -- or, when
 * the previous stall's label is still there, right after it, as long as it
 * still starts on this band (two stalls back to back: the second, often
 * the bigger, keeps its label); at the right edge it is moved left to fit. */
static void evv__stall_label(const struct evv__frame *f, size_t k, int x0, int x1, int *label_end)
{
    const struct evt_m_callback *c = &f->m->callbacks[f->s->stalls[k]];
    const char *wn = c->watcher < f->m->n_watchers ? f->m->watchers[c->watcher].name : "?";
    char dur[32], lab[160];
    evv_format_duration((double)(c->t1 - c->t0), dur, sizeof dur);
    snprintf(lab, sizeof lab, "stall %s in %s%s", dur, wn, c->complete ? "" : " (unfinished)");
    int w = evv_text_width(f->t->text, EVV_FONT_BOLD, lab, -1);
    int lx = x0 < f->g.plot.x ? f->g.plot.x : x0;
    if (lx < *label_end)
        lx = *label_end;
    if (lx + w + 16 > f->g.plot.x + f->g.plot.w)
        lx = f->g.plot.x + f->g.plot.w - w - 16;
    if (lx < *label_end || lx < f->g.plot.x || lx > x1 - 8)
        return;   /* no room: the previous label is still there, or this band is too short */
    evv__fill(f->r, lx + 2, f->sec->conc.y + 2, w + 8, 17, 0xFFFFFFu, 215);
    evv_text_draw(f->t->text, EVV_FONT_BOLD, lab, lx + 6, f->sec->conc.y + 3, EVV_RGB_STALL, 0);
    *label_end = lx + w + 16;
}

/* Bottom of the section's drawn lanes: its last request row shown (the
 * blank rest of the request area gets no bands). */
static int evv__lanes_end(const struct evv__frame *f)
{
    const struct evv_section *sec = f->sec;
    int used = (int)(sec->rows_shown ? sec->rows_shown : 1) * sec->row_h;
    return sec->req.y + (used < sec->req.h ? used : sec->req.h);
}

/* Red translucent bands across every lane of the section where a callback
 * stalled its loop (other processes went on), then their labels on top
 * (so a neighbour's band edge never cuts through a label). */
static void evv__draw_stalls(const struct evv__frame *f)
{
    int top = f->sec->y0, h = evv__lanes_end(f) - top, label_end = -100000;
    double t0, t1;
    for (int pass = 0; pass < 2; pass++)
        for (size_t k = 0; k < f->s->n_stalls; k++) {
            if (!evv__stall_span(f, k, &t0, &t1))
                continue;
            int x0 = evv__wx(f, t0), x1 = evv__wx(f, t1);
            if (x1 - x0 < 2)
                x1 = x0 + 2;
            if (pass == 1) {
                evv__stall_label(f, k, x0, x1, &label_end);
                continue;
            }
            evv__fill(f->r, x0, top, x1 - x0, h, EVV_RGB_STALL, 46);
            evv__fill(f->r, x0, top, 1, h, EVV_RGB_STALL, 160);
            evv__fill(f->r, x1 - 1, top, 1, h, EVV_RGB_STALL, 160);
        }
}

/* Lost-event ranges: hatched marks on the axis and a thin hatch across lanes. */
static void evv__draw_lost(const struct evv__frame *f)
{
    const struct evt_model *m = f->m;
    for (size_t i = 0; i < m->n_lost_ranges; i++) {
        const struct evt_m_lost *l = &m->lost_ranges[i];
        double t0 = (double)l->t0 - (double)f->s->origin, t1 = (double)l->t1 - (double)f->s->origin;
        if (t1 < f->vp.t0 || t0 > f->vp.t1)
            continue;
        int x0 = evv__wx(f, t0), x1 = evv__wx(f, t1);
        if (x1 - x0 < 4)
            x0 -= 2, x1 = x0 + 4;
        evv__hatch(f, x0, f->g.axis.y + f->g.axis.h - 8, x1 - x0, 8, EVV_RGB_LOST, 255);
        evv__hatch(f, x0, f->sec->y0, x1 - x0, evv__lanes_end(f) - f->sec->y0, EVV_RGB_LOST, 60);
        char lab[48];
        snprintf(lab, sizeof lab, "%llu lost", (unsigned long long)l->count);
        evv_text_draw(f->t->text, EVV_FONT_SMALL, lab, x1 + 3, f->g.axis.y + f->g.axis.h - 13, EVV_RGB_LOST, 0);
    }
}

static void evv__clip_plot(const struct evv__frame *f, int on)
{
    SDL_Rect clip = { f->g.plot.x, f->g.axis.y, f->g.plot.w, f->g.plot.y + f->g.plot.h - f->g.axis.y };
    SDL_RenderSetClipRect(f->r, on ? &clip : NULL);
}

struct evv__frame evv__section(const struct evv__frame *f, size_t k)
{
    struct evv__frame sf = *f;
    sf.k = k;
    sf.s = evv_scene_nth(f->head, k);
    sf.m = sf.s->m;
    sf.sec = &f->g.sec[k];
    return sf;
}

/* One file: title strip, banner, lanes, then its stalls and lost ranges. */
static void evv__draw_one(const struct evv__frame *f)
{
    const struct evv_section *sec = f->sec;
    evv__draw_section_head(f);
    evv__draw_banner(f);
    evv__draw_loops(f);
    evv__draw_marks(f);
    evv__draw_conc(f);
    evv__draw_counters(f);
    evv__draw_requests(f);
    if (!f->s->n_loops && !f->s->n_rows)
        evv_text_draw(f->t->text, EVV_FONT_BOLD, "no loop iterations or requests recorded in this trace",
                      sec->req.x + 20, sec->req.y + (sec->req.h > 40 ? 20 : 0), EVV_RGB_TEXT_DIM, sec->req.w - 40);
    evv__clip_plot(f, 1);
    evv__draw_stalls(f);
    evv__draw_lost(f);
    evv__clip_plot(f, 0);
}

void evv_draw(struct evv_target *t, const struct evv_scene *s, const struct evv_viewport *vp,
              const struct evv_ui *ui)
{
    struct evv_ui none;
    struct evv__frame f = { .t = t, .r = t->r, .s = s, .m = s->m, .vp = *vp, .ui = ui, .head = s };
    int w = 0, h = 0;
    if (!ui) {
        evv_ui_init(&none);
        f.ui = &none;
    }
    SDL_GetRendererOutputSize(t->r, &w, &h);
    evv_geom_layout(&f.g, s, w, h, f.ui->row_scroll);
    f.sec = &f.g.sec[0];
    evv_viewport_resize(&f.vp, f.g.plot.w);
    SDL_SetRenderDrawBlendMode(t->r, SDL_BLENDMODE_BLEND);
    evv__fill(t->r, 0, 0, w, h, EVV_RGB_BG, 255);
    evv__fill(t->r, 0, f.g.plot.y, EVV_GUTTER_W - 6, f.g.plot.h, EVV_RGB_GUTTER, 255);
    evv__draw_title(&f);
    evv__draw_legend(&f);
    evv__clip_plot(&f, 1);
    evv__draw_axis(&f);
    evv__clip_plot(&f, 0);
    for (size_t k = 0; k < f.g.n_sec; k++) {
        struct evv__frame sf = evv__section(&f, k);
        evv__draw_one(&sf);
    }
    evv__draw_selection(&f);
    evv__draw_status(&f);
    evv__draw_tooltip(&f);
    evv__draw_help(&f);
}

void evv_draw_progress(struct evv_target *t, const char *file, double fraction)
{
    int w = 0, h = 0;
    char line[400];
    SDL_GetRendererOutputSize(t->r, &w, &h);
    evv__fill(t->r, 0, 0, w, h, EVV_RGB_BG, 255);
    if (fraction < 0.999)
        snprintf(line, sizeof line, "loading %s \xe2\x80\x94 %.0f %%", file, fraction * 100);
    else   /* the model is read; lanes and LOD tracks are being built */
        snprintf(line, sizeof line, "loading %s \xe2\x80\x94 building lanes\xe2\x80\xa6", file);
    evv_text_draw(t->text, EVV_FONT_BOLD, line, w / 4, h / 2 - 30, EVV_RGB_TEXT, w / 2);
    evv__frame_rect(t->r, w / 4, h / 2, w / 2, 18, EVV_RGB_TEXT_DIM, 255);
    evv__fill(t->r, w / 4 + 2, h / 2 + 2, (int)((w / 2 - 4) * (fraction < 0 ? 0 : fraction > 1 ? 1 : fraction)),
              14, EVV_RGB_CONC, 255);
}
