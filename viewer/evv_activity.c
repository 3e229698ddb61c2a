/* evv_activity.c -- the activity extent and the view it opens (see evv_activity.h). */
#include "evv_activity.h"

static void evv__merge(struct evv_extent *into, const struct evv_extent *e)
{
    if (e->n)
        evv_extent_add(into, e->t0, e->t1, e->n);
}

struct evv_activity evv_activity_of(const struct evv_scene *s)
{
    struct evv_activity a = { .whole = evv_scene_end(s) };
    struct evv_extent e = { 0 };
    const struct evv_scene *p;
    size_t k;
    /* One rule for the whole chain, not per file: a load client's requests
     * already cover the time its (request-less) server worked, and that
     * server's timer ticks must not stretch the view over its idle time. */
    for (p = s, k = 0; p && k < EVV_MAX_FILES; p = p->next, k++)
        a.requests |= p->ext_req.n > 0;
    for (p = s, k = 0; p && k < EVV_MAX_FILES; p = p->next, k++) {
        if (a.requests) {
            evv__merge(&e, &p->ext_req);
            evv__merge(&e, &p->ext_stall);
        } else {
            evv__merge(&e, &p->ext_cb);
        }
    }
    if (e.n)
        a.found = 1, a.t0 = e.t0, a.t1 = e.t1;
    return a;
}

/* Whether the activity is a small enough part of the trace to open on. */
static int evv__small(const struct evv_activity *a)
{
    return a->found && a->whole > 0 && a->t1 - a->t0 < EVV_ACTIVITY_MAX_FRAC * a->whole;
}

int evv_activity_view(const struct evv_scene *s, double *t0, double *t1)
{
    struct evv_activity a = evv_activity_of(s);
    /* The whole trace exactly as evview drew it before (evv_viewport_fit's
     * 2 % of air): the same doubles, so the same pixels. */
    double lo = -0.02 * a.whole, hi = 1.02 * a.whole;
    if (!evv__small(&a)) {
        *t0 = lo, *t1 = hi;
        return 0;
    }
    /* Air on both sides so the first and last bars are not glued to the
     * plot's edges; never beyond the whole view, which already has some. */
    double len = a.t1 - a.t0, pad = len * EVV_ACTIVITY_MARGIN;
    if (len + 2 * pad < EVV_ACTIVITY_MIN_NS)
        pad = (EVV_ACTIVITY_MIN_NS - len) / 2;
    *t0 = a.t0 - pad < lo ? lo : a.t0 - pad;
    *t1 = a.t1 + pad > hi ? hi : a.t1 + pad;
    return 1;
}

int evv_activity_shown(const struct evv_scene *s, const struct evv_viewport *vp)
{
    struct evv_activity a = evv_activity_of(s);
    return evv__small(&a) && vp->t0 <= a.t0 && vp->t1 >= a.t1 && (vp->t0 > 0 || vp->t1 < a.whole);
}
