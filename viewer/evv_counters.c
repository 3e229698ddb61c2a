/* evv_counters.c -- one small step graph per counter name.
 *
 * A counter (evt_counter: open connections, queue depth, bytes) is a
 * value that holds until the next sample. Each pixel column draws the
 * range the value took within it: the value in force at its left edge
 * and every sample inside, as a vertical stroke from min to max, with a
 * light fill down to the lane's baseline, so a steady value reads as a
 * line and a jittery one as a band.
 *
 * Limits: a column walks the samples inside it, so a frame costs
 * O(columns * log samples + visible samples) -- fine for counters sampled
 * per request, not for millions of samples on screen at once (a min/max
 * pyramid, like the concurrency graph's, would fix that). No tooltip on
 * counter lanes yet.
 */
#include <stdio.h>

#include "evv_axis.h"
#include "evv_draw_int.h"
#include "evv_style.h"

/* First sample at or after `from` (index into cl->idx) with ts >= t. */
static size_t evv__sample_at(const struct evt_model *m, const struct evv_counter_lane *cl, size_t from, double t)
{
    size_t lo = from, hi = cl->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if ((double)m->counters[cl->idx[mid]].ts < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int evv__value_y(const struct evv_counter_lane *cl, int64_t v, int top, int gh)
{
    double span = cl->hi > cl->lo ? (double)(cl->hi - cl->lo) : 1;
    return top + gh - (int)((double)(v - cl->lo) * gh / span + 0.5);
}

static void evv__counter_title(const struct evv__frame *f, const struct evv_counter_lane *cl, int y)
{
    char sub[64];
    evv_text_draw(f->t->text, EVV_FONT_BOLD, cl->name[0] ? cl->name : "(counter)", 8, y + 1, EVV_RGB_TEXT,
                  EVV_GUTTER_W - 16);
    snprintf(sub, sizeof sub, "counter, %lld\xe2\x80\x93%lld", (long long)cl->lo, (long long)cl->hi);
    evv_text_draw(f->t->text, EVV_FONT_SMALL, sub, 8, y + 17, EVV_RGB_TEXT_DIM, EVV_GUTTER_W - 16);
}

/* Min and max of the value over [i, j) plus the one in force before i;
 * returns 0 when nothing is known there yet. */
static int evv__range(const struct evt_model *m, const struct evv_counter_lane *cl, size_t i, size_t j,
                      int64_t *lo, int64_t *hi)
{
    size_t from = i > 0 ? i - 1 : i;
    if (from >= j)
        return 0;
    *lo = *hi = m->counters[cl->idx[from]].value;
    for (size_t k = from + 1; k < j; k++) {
        int64_t v = m->counters[cl->idx[k]].value;
        *lo = v < *lo ? v : *lo;
        *hi = v > *hi ? v : *hi;
    }
    return 1;
}

static void evv__counter_lane(const struct evv__frame *f, const struct evv_counter_lane *cl, int y, int h)
{
    const struct evt_model *m = f->m;
    double org = (double)f->s->origin;
    int top = y + 3, gh = h - 8, base = evv__value_y(cl, cl->lo < 0 && cl->hi > 0 ? 0 : cl->lo, top, gh);
    evv__counter_title(f, cl, y);
    evv__fill(f->r, f->g.plot.x, y + h - 2, f->g.plot.w, 1, EVV_RGB_GRID, 255);
    size_t i = evv__sample_at(m, cl, 0, org + f->vp.t0);
    for (int x = 0; x < f->g.plot.w; x++) {
        double a = org + evv_viewport_t(&f->vp, x);
        int64_t lo, hi;
        if (a > org + f->s->t_end)
            break;   /* after the trace's last event nothing is known */
        size_t j = evv__sample_at(m, cl, i, a + f->vp.ns_per_px);
        if (evv__range(m, cl, i, j, &lo, &hi)) {
            int yh = evv__value_y(cl, hi, top, gh), yl = evv__value_y(cl, lo, top, gh);
            int y0 = yh < base ? yh : base, y1 = yh < base ? base : yh;
            evv__fill(f->r, f->g.plot.x + x, y0, 1, y1 - y0 + 1, EVV_RGB_COUNTER_FILL, 255);
            evv__fill(f->r, f->g.plot.x + x, yh - 1, 1, yl - yh + 2, EVV_RGB_COUNTER, 255);
        }
        i = j;
    }
}

void evv__draw_counters(const struct evv__frame *f)
{
    for (size_t k = 0; k < f->s->n_ctr; k++)
        evv__counter_lane(f, &f->s->ctr[k], f->sec->ctr_y + (int)k * f->sec->ctr_h, f->sec->ctr_h);
}
