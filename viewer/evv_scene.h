/* evv_scene.h -- what the viewer draws, derived once from a model.
 *
 * The model says what happened; the scene says where it goes on screen,
 * independent of zoom: which lanes exist (one loop lane per thread that
 * ran a loop, one request row per packed row), which blocks each lane
 * holds as LOD tracks (evv_lod.h), the colour of every block, which
 * callbacks are stalls, and the concurrency pyramid. Building it is the
 * O(n log n) part of opening a file; after that every frame is O(pixels).
 *
 * Times in the scene are ns since the axis origin: the trace's own first
 * event (model->t_min), or, when several traces are shown together, the
 * earliest first event of them all (evv_scene_origin). Timestamps are
 * CLOCK_MONOTONIC, comparable across processes of one machine, so two
 * scenes built with the same origin line up on one time axis. The scene
 * points into the model, which must outlive it; both are read-only once
 * built, so a loader thread can build them and hand them over.
 *
 * Several files: scenes are chained by `next` (first file on top); every
 * function that takes a scene to draw, lay out or search takes the head
 * of such a chain, and a lone scene is a chain of one. Limit: the chain
 * is not owned; the caller frees each scene.
 */
#ifndef EVV_SCENE_H
#define EVV_SCENE_H

#include <stddef.h>
#include <stdint.h>

#include "evt_model.h"
#include "evv_lod.h"

#define EVV_STALL_MS_DEFAULT 100
#define EVV_MAX_LEGEND_PHASES 10
#define EVV_MAX_FILES 8           /* sections (files) in one picture */

struct evv_loop_lane {
    uint32_t thread;            /* thread index */
    struct evv_track polls;     /* idle: blocked in the backend */
    struct evv_track cbs;       /* busy: depth-0 callbacks; item = callback index */
};

#define EVV_MAX_COUNTERS 6        /* counter lanes per file; further names are not drawn */

struct evv_counter_lane {         /* one counter name: its samples as a step graph */
    const char *name;
    size_t *idx, n;               /* indices into model->counters, by time */
    int64_t lo, hi;               /* value range drawn: lo <= 0 <= hi unless all values are beyond */
};

struct evv_extent {               /* first and last moment of something, ns since origin */
    double t0, t1;
    size_t n;                     /* things inside, at least; 0: none (t0, t1 unset) */
};

/* Widens e to hold [t0, t1] and count more things (t1 < t0 counts as t0). */
void evv_extent_add(struct evv_extent *e, double t0, double t1, size_t count);

struct evv_scene {
    const struct evt_model *m;
    char file[256];             /* base name, for the header */
    char label[32];             /* role given on the command line ("client"), or "" */
    uint64_t origin;            /* axis origin (absolute ns), see above */
    double duration;            /* this trace's t_max - t_min, ns */
    double t_begin, t_end;      /* this trace's first and last event, ns since origin */
    const struct evv_scene *next;   /* the next file's section, drawn below; NULL: last */
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
    struct evv_counter_lane ctr[EVV_MAX_COUNTERS];
    size_t n_ctr;
    /* Where this file's work is, for the view evview opens on
     * (evv_activity.h): request spans, depth-0 callbacks but signal
     * handlers (nested callbacks run inside their parent), stalls.
     * Measured once at build from the tracks above, so asking for the view
     * costs O(files), not O(events), every frame. */
    struct evv_extent ext_req, ext_cb, ext_stall;
};

/* Builds the scene for m (kept by pointer). file may be NULL. Returns 0 or EVT_ENOMEM. */
int evv_scene_build(struct evv_scene *s, const struct evt_model *m, const char *file,
                    uint64_t stall_ns);
/* The same on a given axis origin (absolute ns, <= m->t_min). */
int evv_scene_build_at(struct evv_scene *s, const struct evt_model *m, const char *file,
                       uint64_t stall_ns, uint64_t origin);
void evv_scene_free(struct evv_scene *s);

/* The shared origin of n models: the earliest t_min among those holding
 * any event (0 if none does). */
uint64_t evv_scene_origin(const struct evt_model *const *m, size_t n);

/* Over a chain: its number of scenes (at most EVV_MAX_FILES count), the
 * k-th (NULL past the end), and the last event of any, ns since origin. */
size_t evv_scene_count(const struct evv_scene *s);
const struct evv_scene *evv_scene_nth(const struct evv_scene *s, size_t k);
double evv_scene_end(const struct evv_scene *s);

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
