/* evv_activity.h -- the view evview opens on: the activity, not the idle.
 *
 * A trace recorded from a real server (evtrace record) often covers
 * minutes of waiting around a burst of work of a second or two (a
 * shadowsocks pair: 40 requests within 2 s of a 613 s run). Fitted whole,
 * the burst is a sliver at one edge and a newcomer sees nothing. So
 * without --range evview, window and --png alike, opens on the activity
 * when it is a small part of the trace, and the status line says so; `f`
 * still fits the whole trace and `a` comes back here.
 *
 * The activity extent, over every file of the chain (they share one time
 * axis), runs from the first to the last moment of:
 *   - when any file holds a request: every request (begin to end; one that
 *     never ended lasts to its trace's end, as it is drawn) and every
 *     stall (a callback >= --stall-ms, the picture's other alarm);
 *   - else: every callback (begin to end) but a signal handler's.
 * Callbacks count only when there is no request because an idle server's
 * loop keeps running a few of them all through its idle time: timer ticks,
 * and at the very end the signal handler that stopped it (shadowsocks'
 * server: a 1 s timer from 1 s to 612 s, SIGINT at 613 s). Counting them
 * would stretch the extent over the whole trace, and the callbacks that
 * serve requests run inside the requests anyway. Signal handlers never
 * count (those at a loop lane's ends, to be exact: evv_scene.c): a loop
 * that idled, then ran SIGTERM's handler, would otherwise open on a
 * 170 µs view of its shutdown. Poll waits (the idle loop itself), marks
 * and counters never count either: marks often bracket a process's life
 * ("listening", "stopping") and counters are often sampled on a clock,
 * both through the idle time.
 *
 * The view: when the extent is shorter than EVV_ACTIVITY_MAX_FRAC of the
 * whole [0, evv_scene_end], the extent plus EVV_ACTIVITY_MARGIN of its
 * length on each side (at least EVV_ACTIVITY_MIN_NS in all), never beyond
 * the whole-trace view. Otherwise, and when nothing happened (an empty
 * trace, a loop that only polled), the whole trace with 2 % air on each
 * side, exactly as before this existed (the sample pictures stay the same).
 *
 * Everything here is a pure function of the scenes: their extents are
 * measured once at build (evv_scene.h: ext_req, ext_cb, ext_stall), so
 * these cost O(files) and drawing may ask every frame.
 */
#ifndef EVV_ACTIVITY_H
#define EVV_ACTIVITY_H

#include "evv_scene.h"
#include "evv_viewport.h"

#define EVV_ACTIVITY_MAX_FRAC 0.5     /* a smaller part of the whole: open on it */
#define EVV_ACTIVITY_MARGIN 0.05      /* air each side, as a fraction of the extent */
#define EVV_ACTIVITY_MIN_NS 1000.0    /* a single instant still opens 1 µs wide */

struct evv_activity {
    int found;          /* 0: nothing happened; t0, t1 are then 0 */
    int requests;       /* 1: the extent is of requests and stalls; 0: of callbacks */
    double t0, t1;      /* the extent, ns since the axis origin */
    double whole;       /* the whole shown duration, evv_scene_end(chain) */
};

/* The activity extent of the chain s (see above). */
struct evv_activity evv_activity_of(const struct evv_scene *s);

/* The view to open on without --range, [t0, t1] in ns since the origin.
 * Returns 1 when that is the activity (a small part of the trace), 0 when
 * it is the whole trace: t0 = -2 %, t1 = 102 % of it. */
int evv_activity_view(const struct evv_scene *s, double *t0, double *t1);

/* 1 when vp shows all of the activity but not all of the trace, and the
 * activity is a small part of it: the status line then says the view is
 * the activity (it stays true if the window is resized or the view zoomed
 * out a little; it ends when the view cuts the activity or shows it all). */
int evv_activity_shown(const struct evv_scene *s, const struct evv_viewport *vp);

#endif /* EVV_ACTIVITY_H */
