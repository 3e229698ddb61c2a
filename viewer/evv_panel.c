/* evv_panel.c -- what floats over the lanes: tooltip, the selected
 * request's panel, the help overlay and the status line.
 *
 * All of them are lists of lines in a box; evv__box measures and draws
 * such a list so each overlay only says what its lines are.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "evv_activity.h"
#include "evv_axis.h"
#include "evv_draw_int.h"
#include "evv_style.h"

#define EVV_BOX_LINES 24
#define EVV_LINE_H 16

struct evv__box {
    char text[EVV_BOX_LINES][160];
    uint32_t swatch[EVV_BOX_LINES];   /* 0: none, else colour + 1 */
    int bold[EVV_BOX_LINES];
    int n;
};

static void evv__line(struct evv__box *b, int bold, uint32_t swatch_plus1, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void evv__line(struct evv__box *b, int bold, uint32_t swatch_plus1, const char *fmt, ...)
{
    if (b->n >= EVV_BOX_LINES)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->text[b->n], sizeof b->text[0], fmt, ap);
    va_end(ap);
    b->swatch[b->n] = swatch_plus1;
    b->bold[b->n++] = bold;
}

static int evv__box_w(const struct evv__frame *f, const struct evv__box *b)
{
    int w = 0;
    for (int i = 0; i < b->n; i++) {
        int lw = evv_text_width(f->t->text, b->bold[i] ? EVV_FONT_BOLD : EVV_FONT_NORMAL, b->text[i], -1)
                 + (b->swatch[i] ? 18 : 0);
        w = lw > w ? lw : w;
    }
    return w + 16;
}

/* Draws the box with its top-left at (x, y), kept inside the window. */
static void evv__box_draw(const struct evv__frame *f, const struct evv__box *b, int x, int y)
{
    int w = evv__box_w(f, b), h = b->n * EVV_LINE_H + 10;
    if (x + w > f->g.win_w - 4)
        x = f->g.win_w - 4 - w;
    if (y + h > f->g.win_h - 4)
        y = f->g.win_h - 4 - h;
    x = x < 4 ? 4 : x, y = y < 4 ? 4 : y;
    evv__fill(f->r, x + 3, y + 3, w, h, 0x000000u, 40);
    evv__fill(f->r, x, y, w, h, 0xFFFFFFu, 245);
    evv__frame_rect(f->r, x, y, w, h, EVV_RGB_TEXT_DIM, 255);
    for (int i = 0; i < b->n; i++) {
        int lx = x + 8, ly = y + 5 + i * EVV_LINE_H;
        if (b->swatch[i]) {
            evv__fill(f->r, lx, ly + 3, 12, 10, b->swatch[i] - 1, 255);
            lx += 18;
        }
        evv_text_draw(f->t->text, b->bold[i] ? EVV_FONT_BOLD : EVV_FONT_NORMAL, b->text[i], lx, ly,
                      EVV_RGB_TEXT, 0);
    }
}

static double evv__rel(const struct evv__frame *f, uint64_t t)
{
    return (double)t - (double)f->s->origin;
}

/* "start 12.5 ms · lasted 3.20 ms" */
static void evv__when(const struct evv__frame *f, struct evv__box *b, uint64_t t0, uint64_t t1, int complete)
{
    char s[32], d[32];
    evv_format_duration(evv__rel(f, t0), s, sizeof s);
    evv_format_duration((double)(t1 - t0), d, sizeof d);
    evv__line(b, 0, 0, "starts at %s, lasts %s%s", s, d, complete ? "" : " (no end recorded)");
}

static void evv__request_lines(const struct evv__frame *f, struct evv__box *b, size_t idx)
{
    const struct evt_model *m = f->m;
    const struct evt_m_request *q = &m->requests[idx];
    char d[32];
    evv__line(b, 1, 0, "request %s", q->name && *q->name ? q->name : "(unnamed)");
    evv__line(b, 0, 0, "id %llu \xc2\xb7 status %u \xc2\xb7 thread %u", (unsigned long long)q->id, q->status, q->thread);
    evv__when(f, b, q->t0, q->t1, q->complete);
    double total = q->t1 > q->t0 ? (double)(q->t1 - q->t0) : 1;
    if (q->phase_count && m->phases[q->phase_first].t0 > q->t0) {
        evv_format_duration((double)(m->phases[q->phase_first].t0 - q->t0), d, sizeof d);
        evv__line(b, 0, EVV_RGB_NOPHASE + 1, "(before first phase)  %s", d);
    }
    for (uint32_t k = 0; k < q->phase_count; k++) {
        const struct evt_m_phase *p = &m->phases[q->phase_first + k];
        uint64_t end = evv_scene_phase_end(m, q, k);
        double dur = end > p->t0 ? (double)(end - p->t0) : 0;   /* phases out of order: 0 */
        evv_format_duration(dur, d, sizeof d);
        evv__line(b, 0, evv_phase_rgb(p->name) + 1, "%s  %s  (%.0f %%)", p->name, d, 100 * dur / total);
    }
}

static void evv__callback_lines(const struct evv__frame *f, struct evv__box *b, size_t idx)
{
    const struct evt_model *m = f->m;
    const struct evt_m_callback *c = &m->callbacks[idx];
    const struct evt_m_watcher *w = c->watcher < m->n_watchers ? &m->watchers[c->watcher] : NULL;
    evv__line(b, 1, w ? evv_scene_watcher_rgb(f->s, c->watcher) + 1 : 0, "callback %s", w ? w->name : "?");
    if (w)
        evv__line(b, 0, 0, "%s watcher \xc2\xb7 fd %d \xc2\xb7 revents 0x%x \xc2\xb7 thread %u",
                  evt_kind_name(w->kind), w->fd, c->revents, c->thread);
    evv__when(f, b, c->t0, c->t1, c->complete);
    if (c->t1 - c->t0 >= f->s->stall_ns)
        evv__line(b, 1, EVV_RGB_STALL + 1, "stall: the loop could not serve anything else");
}

void evv__draw_tooltip(const struct evv__frame *whole)
{
    const struct evv_hit *h = &whole->ui->hover;
    struct evv__box b = { .n = 0 };
    if (!whole->ui->mouse_in || whole->ui->help || whole->ui->dragging || h->sec >= whole->g.n_sec)
        return;
    struct evv__frame sf = evv__section(whole, h->sec);
    const struct evv__frame *f = &sf;
    if (h->kind == EVV_HIT_REQUEST)
        evv__request_lines(f, &b, h->index);
    else if (h->kind == EVV_HIT_CALLBACK)
        evv__callback_lines(f, &b, h->index);
    else if (h->kind == EVV_HIT_POLL) {
        const struct evt_m_span *p = &f->m->polls[h->index];
        evv__line(&b, 1, EVV_RGB_IDLE + 1, "idle: loop blocked in poll");
        evv__when(f, &b, p->t0, p->t1, p->complete);
    } else if (h->kind == EVV_HIT_CONC) {
        evv__line(&b, 1, EVV_RGB_CONC + 1, "%u request%s in flight", h->value, h->value == 1 ? "" : "s");
    }
    if (b.n)
        evv__box_draw(f, &b, f->ui->mouse_x + 16, f->ui->mouse_y + 18);
}

/* The selected request, its phases and the callbacks that served it:
 * callbacks on the request's thread that overlap its lifetime. */
void evv__draw_selection(const struct evv__frame *whole)
{
    struct evv__box b = { .n = 0 };
    if (whole->ui->selected < 0 || whole->ui->sel_sec >= whole->g.n_sec)
        return;
    struct evv__frame sf = evv__section(whole, whole->ui->sel_sec);
    const struct evv__frame *f = &sf;
    if ((size_t)f->ui->selected >= f->m->n_requests)
        return;
    const struct evt_m_request *q = &f->m->requests[f->ui->selected];
    evv__request_lines(f, &b, (size_t)f->ui->selected);
    const struct evv_loop_lane *ln = evv_scene_loop_of(f->s, q->thread);
    evv__line(&b, 1, 0, "callbacks that served it (thread %u):", q->thread);
    size_t shown = 0, total = 0;
    double t0 = evv__rel(f, q->t0), t1 = evv__rel(f, q->t1);
    for (size_t i = ln ? evv_track_first_ending_after(&ln->cbs, t0) : 0;
         ln && i < ln->cbs.n && (double)ln->cbs.b[i].t0 < t1; i++, total++) {
        if (b.n >= EVV_BOX_LINES - 2)
            continue;
        const struct evt_m_callback *c = &f->m->callbacks[ln->cbs.b[i].item];
        char s[32], d[32];
        evv_format_duration(evv__rel(f, c->t0), s, sizeof s);
        evv_format_duration((double)(c->t1 - c->t0), d, sizeof d);
        evv__line(&b, 0, ln->cbs.b[i].rgb + 1, "%s at %s, %s",
                  c->watcher < f->m->n_watchers ? f->m->watchers[c->watcher].name : "?", s, d);
        shown++;
    }
    if (total == 0)
        evv__line(&b, 0, 0, "(none recorded)");
    else if (total > shown)
        evv__line(&b, 0, 0, "... and %zu more", total - shown);
    evv__line(&b, 0, 0, "click elsewhere to close");
    evv__box_draw(f, &b, f->g.win_w - evv__box_w(f, &b) - 16, f->sec->req.y + 8);
}

void evv__draw_help(const struct evv__frame *f)
{
    static const char *const lines[] = {
        "evview \xe2\x80\x94 how to read and move",
        "Top: one loop lane per thread. Hatched = idle, blocked in poll; coloured = a callback running",
        "  (colour = its watcher). When the loop is busy, nothing else on that thread runs.",
        "In flight: how many requests were open at each moment.",
        "Requests: one bar per request from its begin to its end, coloured by phase (see legend).",
        "  Overlapping requests stack in rows; each keeps its row. One at a time (sync): one row,",
        "  or, seen from waiting clients, a staircase. Many at once (async): a tall stack.",
        "Red band: a stall, a callback longer than the threshold (--stall-ms) that froze the loop.",
        "Several files: one section each (first on top) on one time axis: the clock is shared by all processes.",
        "",
        "mouse wheel: zoom around the cursor      drag: pan      shift+wheel, \xe2\x86\x91/\xe2\x86\x93: scroll rows",
        "\xe2\x86\x90/\xe2\x86\x92: pan      + / -: zoom      f: fit whole trace      a: back to the activity      click a request: details",
        "  (evview opens on the activity \xe2\x80\x94 its requests, or callbacks \xe2\x80\x94 when that is under half of the trace)",
        "/: find a request or watcher by name (Enter: go), n: next match      ?: this help      Esc: quit",
    };
    struct evv__box b = { .n = 0 };
    if (!f->ui->help)
        return;
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++)
        evv__line(&b, i == 0, 0, "%s", lines[i]);
    int w = evv__box_w(f, &b);
    evv__box_draw(f, &b, (f->g.win_w - w) / 2, f->g.plot.y + 30);
}

/* The status line on a view of the activity (evv_activity.h): the axis
 * alone would not tell a newcomer that the trace goes on, idle, for
 * minutes past the plot's edge, nor how to see it. */
static void evv__activity_note(const struct evv__frame *f, char *buf, size_t len)
{
    struct evv_activity a = evv_activity_of(f->head);
    char ext[32], whole[32];
    evv_format_duration(a.t1 - a.t0, ext, sizeof ext);
    evv_format_duration(a.whole, whole, sizeof whole);
    snprintf(buf, len, "view: the activity, %s of %s (no %s outside it) \xc2\xb7 f: whole trace \xc2\xb7 "
             "a: back here \xc2\xb7 ?: help", ext, whole, a.requests ? "requests or stalls" : "callbacks");
}

void evv__draw_status(const struct evv__frame *f)
{
    const struct evv_rect *st = &f->g.status;
    char left[256], a[32], b[32], c[32], right[160];
    int note = 0;
    evv__fill(f->r, 0, st->y, st->w, st->h, EVV_RGB_GUTTER, 255);
    if (f->ui->finding)
        snprintf(left, sizeof left, "find: %s_   (Enter: go, Esc: cancel)", f->ui->find);
    else if (f->ui->message[0])
        snprintf(left, sizeof left, "%s", f->ui->message);
    else if ((note = evv_activity_shown(f->head, &f->vp)))
        evv__activity_note(f, left, sizeof left);
    else
        snprintf(left, sizeof left, "wheel: zoom \xc2\xb7 drag: pan \xc2\xb7 f: fit \xc2\xb7 /: find \xc2\xb7 click: details \xc2\xb7 ?: help \xc2\xb7 Esc: quit");
    evv_axis_label(f->vp.t0, f->vp.ns_per_px * 100, a, sizeof a);
    evv_axis_label(f->vp.t1, f->vp.ns_per_px * 100, b, sizeof b);
    evv_format_duration(f->vp.ns_per_px, c, sizeof c);
    snprintf(right, sizeof right, "view %s \xe2\x80\x93 %s  (%s per pixel)", a, b, c);
    int rw = evv_text_width(f->t->text, EVV_FONT_NORMAL, right, -1);
    evv_text_draw(f->t->text, note ? EVV_FONT_BOLD : EVV_FONT_NORMAL, left, 8, st->y + 3,
                  f->ui->finding || note ? EVV_RGB_TEXT : EVV_RGB_TEXT_DIM, st->w - rw - 30);
    evv_text_draw(f->t->text, EVV_FONT_NORMAL, right, st->w - rw - 8, st->y + 3, EVV_RGB_TEXT_DIM, 0);
}
