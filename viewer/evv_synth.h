/* evv_synth.h -- build models in memory, for tests, benchmarks and demos.
 *
 * struct evt_model is plain data, so the viewer can be exercised without
 * a trace file: a builder appends threads, watchers, polls, callbacks and
 * requests with their phases, then evv_synth_finish() sorts everything by
 * t0 and derives what the loader would (t_min/t_max, event count, the
 * concurrency steps). Three canned scenes tell the project's story: a sync
 * server (staircase), an async one (stack), and a stall (a blocking
 * callback freezing the loop).
 *
 * Strings must outlive the model (string literals, or kept by the caller).
 * Models built here are freed with evv_synth_free, not evt_model_free.
 */
#ifndef EVV_SYNTH_H
#define EVV_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "evt_model.h"

struct evv_synth {
    struct evt_model m;
    size_t cap_threads, cap_polls, cap_iters, cap_watchers, cap_cbs, cap_reqs, cap_phases, cap_lost, cap_marks, cap_counters;
    int oom;            /* an append failed; finish returns EVT_ENOMEM */
};

void evv_synth_init(struct evv_synth *b);
void evv_synth_thread(struct evv_synth *b, uint32_t index, uint32_t tid, const char *name);
/* Returns the watcher id (1, 2, ...). */
uint32_t evv_synth_watcher(struct evv_synth *b, const char *name, int kind, int fd, uint32_t thread);
void evv_synth_poll(struct evv_synth *b, uint32_t thread, uint64_t t0, uint64_t t1);
void evv_synth_callback(struct evv_synth *b, uint32_t thread, uint32_t watcher, uint64_t t0, uint64_t t1);
/* Phase k starts at phase_t0[k] (names[k]); n phases (may be 0). */
void evv_synth_request(struct evv_synth *b, uint64_t id, const char *name, uint32_t thread, uint64_t t0,
                       uint64_t t1, const char *const *names, const uint64_t *phase_t0, size_t n);
void evv_synth_mark(struct evv_synth *b, uint32_t thread, uint64_t ts, const char *name, int64_t value);
void evv_synth_counter(struct evv_synth *b, uint32_t thread, uint64_t ts, const char *name, int64_t value);
void evv_synth_lost(struct evv_synth *b, uint32_t thread, uint64_t t0, uint64_t t1, uint64_t count);

/* Sorts, derives counts and concurrency. Returns 0 or EVT_ENOMEM. */
int evv_synth_finish(struct evv_synth *b);
void evv_synth_free(struct evt_model *m);

enum evv_synth_scene { EVV_SYNTH_SYNC, EVV_SYNTH_ASYNC, EVV_SYNTH_STALL };

/* A canned scene with about n requests (deterministic for a seed). */
int evv_synth_scene(struct evt_model *m, enum evv_synth_scene kind, unsigned n, uint64_t seed);

#endif /* EVV_SYNTH_H */
