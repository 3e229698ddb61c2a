/* evv_viewport.c -- zoom, pan and fit arithmetic (see evv_viewport.h). */
#include "evv_viewport.h"

static double evv__clamp(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static void evv__sync_t1(struct evv_viewport *vp)
{
    vp->t1 = vp->t0 + vp->ns_per_px * vp->width;
}

void evv_viewport_set(struct evv_viewport *vp, double t0, double t1, int width)
{
    vp->width = width < 1 ? 1 : width;
    if (!(t1 > t0))
        t1 = t0 + 1000.0;
    vp->t0 = t0;
    vp->ns_per_px = evv__clamp((t1 - t0) / vp->width, EVV_NS_PER_PX_MIN, EVV_NS_PER_PX_MAX);
    evv__sync_t1(vp);
}

void evv_viewport_fit(struct evv_viewport *vp, double duration, int width)
{
    /* 2 % of air on each side, so the first and last blocks are not glued
     * to the plot edges where they are hard to see and to hover. */
    double pad = duration > 0 ? duration * 0.02 : 500.0;
    evv_viewport_set(vp, -pad, duration + pad, width);
}

void evv_viewport_zoom(struct evv_viewport *vp, double factor, double x)
{
    double anchor = evv_viewport_t(vp, x);
    if (!(factor > 0))
        return;
    vp->ns_per_px = evv__clamp(vp->ns_per_px * factor, EVV_NS_PER_PX_MIN, EVV_NS_PER_PX_MAX);
    vp->t0 = anchor - x * vp->ns_per_px;
    evv__sync_t1(vp);
}

void evv_viewport_pan(struct evv_viewport *vp, double dx)
{
    vp->t0 -= dx * vp->ns_per_px;
    evv__sync_t1(vp);
}

void evv_viewport_resize(struct evv_viewport *vp, int width)
{
    vp->width = width < 1 ? 1 : width;
    evv__sync_t1(vp);
}

double evv_viewport_x(const struct evv_viewport *vp, double t)
{
    return (t - vp->t0) / vp->ns_per_px;
}

double evv_viewport_t(const struct evv_viewport *vp, double x)
{
    return vp->t0 + x * vp->ns_per_px;
}
