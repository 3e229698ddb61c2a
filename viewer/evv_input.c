/* evv_input.c -- events to viewport and selection changes (see evv_input.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evv_activity.h"
#include "evv_input.h"

#define EVV_WHEEL_ZOOM 0.8        /* one wheel notch in: 80 % of the span */
#define EVV_KEY_ZOOM 0.5
#define EVV_KEY_PAN_FRAC 0.125    /* arrow key: 1/8 of the view */
#define EVV_CLICK_SLOP 3          /* px a click may move and still be a click */

void evv_ui_init(struct evv_ui *ui)
{
    memset(ui, 0, sizeof *ui);
    ui->selected = -1;
    ui->found_cb = -1;
}

/* The section rows scroll in: the one under the mouse, else the first
 * whose rows do not all fit. */
static size_t evv__scroll_sec(const struct evv_ui *ui, const struct evv_scene *s, const struct evv_geom *g)
{
    size_t k = ui->mouse_in ? evv_geom_section_at(g, ui->mouse_y) : g->n_sec;
    for (size_t i = 0; k >= g->n_sec && i < g->n_sec; i++, s = s->next)
        if (g->sec[i].rows_shown < s->n_rows)
            k = i;
    return k < g->n_sec ? k : 0;
}

static void evv__scroll_rows(struct evv_ui *ui, const struct evv_scene *s, const struct evv_geom *g, long d)
{
    size_t k = evv__scroll_sec(ui, s, g);
    const struct evv_scene *sc = evv_scene_nth(s, k);
    long fit = (long)evv_geom_rows_fit(&g->sec[k]), max = (long)sc->n_rows - fit;
    long r = (long)ui->row_scroll[k] + d;
    if (max < 0)
        max = 0;
    ui->row_scroll[k] = (size_t)(r < 0 ? 0 : r > max ? max : r);
}

/* Rows a page key moves: the height of the section that scrolls. */
static long evv__page(const struct evv_ui *ui, const struct evv_scene *s, const struct evv_geom *g)
{
    return (long)evv_geom_rows_fit(&g->sec[evv__scroll_sec(ui, s, g)]);
}

static void evv__hover(struct evv_ui *ui, const struct evv_viewport *vp, const struct evv_scene *s,
                       const struct evv_geom *g)
{
    ui->hover = evv_geom_pick(g, s, vp, ui->mouse_x, ui->mouse_y);
}

static void evv__wheel(struct evv_ui *ui, struct evv_viewport *vp, const struct evv_scene *s,
                       const struct evv_geom *g, const SDL_MouseWheelEvent *w)
{
    int y = w->direction == SDL_MOUSEWHEEL_FLIPPED ? -w->y : w->y;
    if (SDL_GetModState() & KMOD_SHIFT) {
        evv__scroll_rows(ui, s, g, -3L * y);
        return;
    }
#if SDL_VERSION_ATLEAST(2, 26, 0)
    ui->mouse_x = w->mouseX, ui->mouse_y = w->mouseY;   /* where the wheel turned */
#endif
    double x = ui->mouse_x - g->plot.x;
    if (x < 0 || x > g->plot.w)
        x = g->plot.w / 2.0;   /* wheel over the gutter: zoom around the centre */
    if (y)
        evv_viewport_zoom(vp, y > 0 ? EVV_WHEEL_ZOOM : 1 / EVV_WHEEL_ZOOM, x);
    if (w->x)
        evv_viewport_pan(vp, -40.0 * w->x);
}

static void evv__click(struct evv_ui *ui, const struct evv_scene *s, const struct evv_geom *g,
                       const struct evv_viewport *vp)
{
    struct evv_hit h = evv_geom_pick(g, s, vp, ui->mouse_x, ui->mouse_y);
    ui->selected = h.kind == EVV_HIT_REQUEST ? (long)h.index : -1;
    ui->sel_sec = h.sec;
}

static void evv__mouse(struct evv_ui *ui, struct evv_viewport *vp, const struct evv_scene *s,
                       const struct evv_geom *g, const SDL_Event *e)
{
    if (e->type == SDL_MOUSEMOTION) {
        ui->mouse_x = e->motion.x, ui->mouse_y = e->motion.y, ui->mouse_in = 1;
        if (ui->dragging) {
            evv_viewport_pan(vp, e->motion.xrel);
            if (abs(e->motion.x - ui->drag_x0) > EVV_CLICK_SLOP)
                ui->drag_moved = 1;
        }
    } else if (e->type == SDL_MOUSEBUTTONDOWN && e->button.button == SDL_BUTTON_LEFT) {
        ui->mouse_x = e->button.x, ui->mouse_y = e->button.y;
        ui->dragging = 1, ui->drag_moved = 0, ui->drag_x0 = e->button.x;
    } else if (e->type == SDL_MOUSEBUTTONUP && e->button.button == SDL_BUTTON_LEFT) {
        if (ui->dragging && !ui->drag_moved)
            evv__click(ui, s, g, vp);
        ui->dragging = 0;
    } else if (e->type == SDL_MOUSEWHEEL) {
        evv__wheel(ui, vp, s, g, &e->wheel);
    }
    evv__hover(ui, vp, s, g);
}

static void evv__find_key(struct evv_ui *ui, struct evv_viewport *vp, const struct evv_scene *s,
                          const struct evv_geom *g, SDL_Keycode k)
{
    size_t n = strlen(ui->find);
    if (k == SDLK_ESCAPE) {
        ui->finding = 0;
    } else if (k == SDLK_BACKSPACE && n > 0) {
        ui->find[n - 1] = 0;
    } else if (k == SDLK_RETURN || k == SDLK_KP_ENTER) {
        ui->finding = 0;
        ui->find_sec = 0, ui->find_kind = 0, ui->find_pos = 0;
        evv_input_find_next(ui, vp, s, g);
    }
}

/* Key a: back to the view evview opened on. When that was the whole
 * trace (the activity fills most of it, or nothing happened) a does what
 * f does, and says why, so the key never seems dead. */
static void evv__to_activity(struct evv_ui *ui, struct evv_viewport *vp, const struct evv_scene *s)
{
    double t0, t1;
    if (evv_activity_view(s, &t0, &t1)) {
        evv_viewport_set(vp, t0, t1, vp->width);
        return;
    }
    evv_viewport_fit(vp, evv_scene_end(s), vp->width);
    snprintf(ui->message, sizeof ui->message, "%s: showing the whole trace",
             evv_activity_of(s).found ? "the activity fills most of the trace" : "no requests or callbacks");
}

static void evv__key(struct evv_ui *ui, struct evv_viewport *vp, const struct evv_scene *s,
                     const struct evv_geom *g, const SDL_KeyboardEvent *k)
{
    int shift = (k->keysym.mod & KMOD_SHIFT) != 0;
    SDL_Keycode sym = k->keysym.sym;
    ui->message[0] = 0;
    if (ui->finding) {
        evv__find_key(ui, vp, s, g, sym);
        return;
    }
    switch (sym) {
    case SDLK_ESCAPE: if (ui->help) ui->help = 0; else ui->quit = 1; break;
    case SDLK_LEFT: evv_viewport_pan(vp, vp->width * EVV_KEY_PAN_FRAC); break;
    case SDLK_RIGHT: evv_viewport_pan(vp, -vp->width * EVV_KEY_PAN_FRAC); break;
    case SDLK_UP: evv__scroll_rows(ui, s, g, -1); break;
    case SDLK_DOWN: evv__scroll_rows(ui, s, g, 1); break;
    case SDLK_PAGEUP: evv__scroll_rows(ui, s, g, -evv__page(ui, s, g)); break;
    case SDLK_PAGEDOWN: evv__scroll_rows(ui, s, g, evv__page(ui, s, g)); break;
    case SDLK_PLUS: case SDLK_EQUALS: case SDLK_KP_PLUS: evv_viewport_zoom(vp, EVV_KEY_ZOOM, vp->width / 2.0); break;
    case SDLK_MINUS: case SDLK_KP_MINUS: evv_viewport_zoom(vp, 1 / EVV_KEY_ZOOM, vp->width / 2.0); break;
    case SDLK_f: evv_viewport_fit(vp, evv_scene_end(s), vp->width); break;
    case SDLK_a: evv__to_activity(ui, vp, s); break;
    case SDLK_n: evv_input_find_next(ui, vp, s, g); break;
    case SDLK_h: case SDLK_F1: case SDLK_QUESTION: ui->help = !ui->help; break;
    case SDLK_SLASH:
        if (shift)
            ui->help = !ui->help;   /* '?' on most layouts */
        else
            ui->finding = 1, ui->find_swallow = 1, ui->find[0] = 0;
        break;
    default: break;
    }
}

static void evv__text(struct evv_ui *ui, const char *text)
{
    size_t n = strlen(ui->find), add = strlen(text);
    if (!ui->finding)
        return;
    if (ui->find_swallow) {
        ui->find_swallow = 0;
        if (strcmp(text, "/") == 0)
            return;
    }
    if (n + add < sizeof ui->find)
        memcpy(ui->find + n, text, add + 1);
}

void evv_input_event(struct evv_ui *ui, struct evv_viewport *vp, const struct evv_scene *s,
                     const struct evv_geom *g, const SDL_Event *e)
{
    switch (e->type) {
    case SDL_QUIT: ui->quit = 1; break;
    case SDL_WINDOWEVENT:
        if (e->window.event == SDL_WINDOWEVENT_CLOSE)
            ui->quit = 1;
        else if (e->window.event == SDL_WINDOWEVENT_LEAVE)
            ui->mouse_in = 0, ui->dragging = 0;
        break;
    case SDL_KEYDOWN: evv__key(ui, vp, s, g, &e->key); break;
    case SDL_TEXTINPUT: evv__text(ui, e->text.text); break;
    case SDL_MOUSEMOTION: case SDL_MOUSEBUTTONDOWN: case SDL_MOUSEBUTTONUP: case SDL_MOUSEWHEEL:
        evv__mouse(ui, vp, s, g, e);
        break;
    default: break;
    }
    if (ui->mouse_in && e->type == SDL_KEYDOWN)   /* the view moved under a still mouse */
        evv__hover(ui, vp, s, g);
}

/* Shows [t0, t1] with room on both sides. */
static void evv__zoom_to(struct evv_viewport *vp, double t0, double t1)
{
    double span = t1 - t0 < 1000 ? 1000 : t1 - t0;
    evv_viewport_set(vp, t0 - span * 0.5, t1 + span * 0.5, vp->width);
}

static int evv__match_request(struct evv_ui *ui, struct evv_viewport *vp, const struct evv_scene *s,
                              const struct evv_section *sec, size_t i)
{
    const struct evt_m_request *q = &s->m->requests[i];
    evv__zoom_to(vp, (double)q->t0 - (double)s->origin, (double)q->t1 - (double)s->origin);
    ui->selected = (long)i, ui->sel_sec = ui->find_sec, ui->found_cb = -1;
    size_t fit = evv_geom_rows_fit(sec), row = s->req_row[i], *scroll = &ui->row_scroll[ui->find_sec];
    if (row < *scroll || row >= *scroll + fit)
        *scroll = row > fit / 2 ? row - fit / 2 : 0;
    snprintf(ui->message, sizeof ui->message, "found request \"%.40s\" (id %llu) in %.40s; n: next", q->name,
             (unsigned long long)q->id, s->file);
    return 1;
}

static int evv__match_callback(struct evv_ui *ui, struct evv_viewport *vp, const struct evv_scene *s, size_t i)
{
    const struct evt_m_callback *c = &s->m->callbacks[i];
    evv__zoom_to(vp, (double)c->t0 - (double)s->origin, (double)c->t1 - (double)s->origin);
    ui->found_cb = (long)i, ui->found_sec = ui->find_sec, ui->selected = -1;
    snprintf(ui->message, sizeof ui->message, "found callback of watcher \"%.40s\" in %.40s; n: next",
             s->m->watchers[c->watcher].name, s->file);
    return 1;
}

/* One pass over one file's requests then callbacks from the saved position. */
static int evv__find_in(struct evv_ui *ui, struct evv_viewport *vp, const struct evv_scene *s,
                        const struct evv_section *sec)
{
    const struct evt_model *m = s->m;
    for (size_t i = ui->find_kind == 0 ? ui->find_pos : m->n_requests; i < m->n_requests; i++)
        if (m->requests[i].name && strstr(m->requests[i].name, ui->find)) {
            ui->find_kind = 0, ui->find_pos = i + 1;
            return evv__match_request(ui, vp, s, sec, i);
        }
    for (size_t i = ui->find_kind == 1 ? ui->find_pos : 0; i < m->n_callbacks; i++) {
        uint32_t w = m->callbacks[i].watcher;
        if (w < m->n_watchers && strstr(m->watchers[w].name, ui->find)) {
            ui->find_kind = 1, ui->find_pos = i + 1;
            return evv__match_callback(ui, vp, s, i);
        }
    }
    return 0;
}

/* From the saved file and position to the end of the last file. */
static int evv__find_from(struct evv_ui *ui, struct evv_viewport *vp, const struct evv_scene *s,
                          const struct evv_geom *g)
{
    for (; ui->find_sec < g->n_sec; ui->find_sec++, ui->find_kind = 0, ui->find_pos = 0)
        if (evv__find_in(ui, vp, evv_scene_nth(s, ui->find_sec), &g->sec[ui->find_sec]))
            return 1;
    return 0;
}

int evv_input_find_next(struct evv_ui *ui, struct evv_viewport *vp, const struct evv_scene *s,
                        const struct evv_geom *g)
{
    if (!ui->find[0])
        return 0;
    if (evv__find_from(ui, vp, s, g))
        return 1;
    ui->find_sec = 0, ui->find_kind = 0, ui->find_pos = 0;   /* wrap around once */
    if (evv__find_from(ui, vp, s, g))
        return 1;
    ui->find_sec = 0;
    snprintf(ui->message, sizeof ui->message, "no request or watcher named like \"%s\"", ui->find);
    return 0;
}
