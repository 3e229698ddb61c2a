/* evv_axis.h -- time-axis ticks and human-readable durations.
 *
 * Tick steps follow the 1-2-5 series (1 µs, 2 µs, 5 µs, 10 µs, ...) and
 * are chosen so that labels stay at least `min_px` apart at the current
 * scale. Labels carry their unit, picked from the step so that every label
 * on screen uses the same unit ("250 ms", "500 ms", "750 ms" rather than
 * "0.25 s"): the largest unit the step is at least half of (a 500 µs step
 * reads "0.5 ms", "1.0 ms"; a 200 µs step "200 µs", "400 µs").
 * Limit: a step never goes below 1 ns (times are integer ns in the file).
 */
#ifndef EVV_AXIS_H
#define EVV_AXIS_H

#include <stddef.h>

#include "evv_viewport.h"

/* Smallest 1-2-5 step (ns, >= 1) whose ticks are >= min_px apart. */
double evv_axis_step(double ns_per_px, double min_px);

/* Tick times in [vp->t0, vp->t1] (multiples of step); returns how many
 * were written to out (at most max). */
size_t evv_axis_ticks(const struct evv_viewport *vp, double step, double *out, size_t max);

/* Label of time t on an axis with the given step, e.g. "1.5 ms". */
void evv_axis_label(double t, double step, char *buf, size_t len);

/* A duration with 3 significant digits and its own unit: "512 ms",
 * "1.25 s", "3.40 µs", "17 ns". */
void evv_format_duration(double ns, char *buf, size_t len);

#endif /* EVV_AXIS_H */
