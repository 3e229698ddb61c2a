/* evv_scene.h -- what the viewer draws, derived once from a model.
 *
 * The model says what happened; the scene says where it goes on screen,
 * independent of zoom: which lanes exist (one loop lane per thread that
 * ran a loop, one request row per packed row), which blocks each lane
 * holds as LOD tracks (evv_lod.h), the colour of every block, which
 * callbacks are stalls, and the concurrency pyramid. Building it is the
 * O(n log n) part of opening a file; after that every frame is O(pixels).
 *
 * Times in the scene are ns since the trace origin (model->t_min). The
 * scene points into the model, which must outlive it; both are read-only
 * once built, so a loader thread can build them and hand them over.
 */
#ifndef EVV_SCENE_H
#define EVV_SCENE_H

#include <stddef.h>
#include <stdint.h>

#include "evt_model.h"
#include "evv_lod.h"

#define EVV_STALL_MS_DEFAULT 100
#define EVV_MAX_LEGEND_PHASES 10

struct evv_loop_lane {
    uint32_t thread;            /* thread index */
    struct evv_track polls;     /* idle: blocked in the backend */
    struct evv_track cbs;       /* busy: depth-0 callbacks; item = callback index */
};

struct evv_scene {
    const struct evt_model *m;
    char file[256];             /* base name, for the header */
    uint64_t origin;            /* model->t_min */
    double duration;            /* t_max - t_min, ns */
    uint64_t stall_ns;

    struct evv_loop_lane *loops;  size_t n_loops;
    struct evv_track *rows;       size_t n_rows;   /* request rows; item = request index */
    uint32_t *req_row;            /* row of each request */
    struct evv_maxpyr conc;       /* over model->concurrency values */
    uint32_t conc_max;
    size_t *stalls;               size_t n_stalls; /* callback indices, by t0 */
    const char *phases[EVV_MAX_LEGEND_PHASES];     /* phase names in use, first seen first */
    size_t n_phases;
    uint32_t *watcher_rgb;        /* colour per watcher id */
};

/* Builds the scene for m (kept by pointer). file may be NULL. Returns 0 or EVT_ENOMEM. */
int evv_scene_build(struct evv_scene *s, const struct evt_model *m, const char *file,
                    uint64_t stall_ns);
void evv_scene_free(struct evv_scene *s);

/* Colour of a watcher's callbacks: its name's palette slot, or the next
 * free slot when another name of this trace took it first, so up to a
 * dozen watchers all differ (beyond that colours repeat). */
uint32_t evv_scene_watcher_rgb(const struct evv_scene *s, uint32_t watcher);

/* The loop lane of a thread, or NULL. */
const struct evv_loop_lane *evv_scene_loop_of(const struct evv_scene *s, uint32_t thread);

/* Colour of the phase request r is in at time t (ns since origin). */
uint32_t evv_scene_phase_at(const struct evv_scene *s, size_t req, double t);

/* End of phase k of request r (the next phase's start, or the request's end). */
uint64_t evv_scene_phase_end(const struct evt_model *m, const struct evt_m_request *r, uint32_t k);

#endif /* EVV_SCENE_H */
