/* evt_model.h -- a trace as spans: what happened, when, on which thread.
 *
 * The reader yields records; the model pairs them into intervals once, at
 * load, so that stats, export and the viewer all see the same picture:
 * loop iterations, poll waits, callbacks, requests with their phases,
 * counters, marks, lost ranges. Arrays are plain data, sorted by t0 (ties by
 * thread), owned by the model; strings point into the model's own storage.
 * Everything is read-only once evt_model_load returns, so the viewer can
 * read it from any thread.
 *
 * Unmatched records are kept, not dropped: a begin with no end (a trace cut
 * short, a process killed) gets t1 = the trace's end (t_max) and
 * complete = 0; an end with no begin is ignored and counted in `orphans`.
 */
#ifndef EVT_MODEL_H
#define EVT_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "evt_reader.h"

struct evt_m_thread {
    uint32_t index;       /* as in the file */
    uint32_t tid;
    const char *name;     /* never NULL ("" if unknown) */
};

struct evt_m_span {       /* a loop iteration or a poll wait */
    uint64_t t0, t1;
    uint32_t thread;      /* thread index */
    uint32_t loop;        /* loop id */
    int complete;
};

struct evt_m_watcher {    /* watchers[id] = id's first definition; id 0 unused.
                             A redefinition of an id (the writer reuses ids per
                             address, docs/FORMAT.md section 8) gets an entry
                             after the highest id; callbacks point at the
                             definition current at their time: always find a
                             callback's watcher as watchers[cb->watcher]. */
    uint32_t id;
    uint32_t loop;
    uint32_t thread;      /* thread that defined it */
    int32_t fd;           /* fd, signal number, or -1 */
    uint8_t kind;         /* enum evt_kind */
    const char *name;     /* never NULL: the name, else e.g. "io fd 7" */
};

struct evt_m_callback {
    uint64_t t0, t1;
    uint32_t thread;
    uint32_t watcher;     /* index into watchers[] */
    uint32_t revents;
    uint32_t depth;       /* 0 = called by the loop; >0 nested (ev_run in a callback) */
    int complete;
};

struct evt_m_phase {      /* a request's phase lasts until the next phase or its end */
    uint64_t t0;
    const char *name;
};

struct evt_m_request {
    uint64_t id;
    uint64_t t0, t1;
    const char *name;
    uint32_t status;
    uint32_t thread;      /* thread that began it */
    uint32_t phase_first; /* index into phases[] */
    uint32_t phase_count;
    int complete;
};

struct evt_m_sample {     /* a counter value or a mark */
    uint64_t ts;
    int64_t value;
    const char *name;
    uint32_t thread;
};

struct evt_m_lost {
    uint64_t t0, t1;
    uint64_t count;
    uint32_t thread;
};

struct evt_m_step {       /* requests in flight: from ts on, `value` are open */
    uint64_t ts;
    uint32_t value;
};

struct evt_model {
    uint32_t pid;
    const char *process_name;
    uint64_t t_min, t_max;        /* first event; the end: the last event, or the
                                     CLOCK record written at close if later */
    uint64_t events;              /* records, strings and meta excluded */
    uint64_t lost;                /* sum of LOST counts */
    uint64_t orphans;             /* ends without a begin */
    size_t file_bytes;
    int damaged;                  /* 1 if the file was cut or corrupt */
    char error[256];              /* the reader's message when damaged */

    struct evt_m_thread *threads;        size_t n_threads;
    struct evt_m_span *iterations;       size_t n_iterations;
    struct evt_m_span *polls;            size_t n_polls;
    struct evt_m_watcher *watchers;      size_t n_watchers;   /* see evt_m_watcher */
    struct evt_m_callback *callbacks;    size_t n_callbacks;
    struct evt_m_request *requests;      size_t n_requests;
    struct evt_m_phase *phases;          size_t n_phases;
    struct evt_m_sample *counters;       size_t n_counters;
    struct evt_m_sample *marks;          size_t n_marks;
    struct evt_m_lost *lost_ranges;      size_t n_lost_ranges;
    struct evt_m_step *concurrency;      size_t n_concurrency; /* by ts */

    void *priv_;                  /* owned storage (strings, ...) */
};

/* Progress callback for long loads: done/total in bytes; may be NULL. */
typedef void (*evt_progress_fn)(void *ctx, size_t done, size_t total);

/* Builds the model from an open reader. Returns 0, or EVT_ETRUNC /
 * EVT_EFORMAT when the file was damaged (the model then holds everything
 * before the damage and m->damaged, m->error say so), or EVT_ENOMEM. */
int evt_model_load(struct evt_model *m, evt_reader *r, evt_progress_fn progress, void *ctx);

/* Convenience: open path, load, close the reader. Same returns, plus the
 * reader's open errors (then the model is empty and needs no free). */
int evt_model_load_file(struct evt_model *m, const char *path, evt_progress_fn progress, void *ctx);

void evt_model_free(struct evt_model *m);

/* Callbacks with t1 - t0 >= threshold_ns, in time order; caller frees. */
size_t evt_model_stalls(const struct evt_model *m, uint64_t threshold_ns, const struct evt_m_callback ***out);

/* Name of a watcher kind: "io", "timer", ... */
const char *evt_kind_name(int kind);

#endif /* EVT_MODEL_H */
