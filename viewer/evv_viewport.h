/* evv_viewport.h -- which slice of time the screen shows, and how finely.
 *
 * The viewport is the one piece of state every lane reads: the time at the
 * left edge (t0), at the right edge (t1) and the scale (ns_per_px) for a
 * plot area `width` pixels wide. Times are nanoseconds relative to the
 * trace origin (model->t_min) held as doubles: 53 bits of mantissa are
 * exact to the nanosecond for traces up to ~104 days, and doubles let the
 * scale go below one ns per pixel when zooming in on a single event.
 *
 * Only input handling changes a viewport; drawing reads it. Every function
 * here keeps the invariant t1 == t0 + ns_per_px * width.
 */
#ifndef EVV_VIEWPORT_H
#define EVV_VIEWPORT_H

#define EVV_NS_PER_PX_MIN 0.001     /* 1000 px per ns: deeper zoom shows nothing new */
#define EVV_NS_PER_PX_MAX 1e13      /* ~2.7 hours per pixel */

struct evv_viewport {
    double t0, t1;        /* ns since the trace origin, left and right edge */
    double ns_per_px;     /* scale */
    int width;            /* plot width in pixels (>= 1) */
};

/* Shows [t0, t1] across width pixels; an empty range shows 1 µs. */
void evv_viewport_set(struct evv_viewport *vp, double t0, double t1, int width);

/* Fit the whole trace [0, duration] with a small margin on each side. */
void evv_viewport_fit(struct evv_viewport *vp, double duration, int width);

/* Multiplies the scale by factor (< 1 zooms in) keeping the time under
 * pixel x where it is; the scale is clamped to the limits above. */
void evv_viewport_zoom(struct evv_viewport *vp, double factor, double x);

/* Moves the view by dx pixels: dx > 0 moves the content right (earlier times). */
void evv_viewport_pan(struct evv_viewport *vp, double dx);

/* Keeps t0 and the scale when the plot is resized; t1 follows. */
void evv_viewport_resize(struct evv_viewport *vp, int width);

/* Time <-> pixel (x relative to the plot's left edge). */
double evv_viewport_x(const struct evv_viewport *vp, double t);
double evv_viewport_t(const struct evv_viewport *vp, double x);

#endif /* EVV_VIEWPORT_H */
