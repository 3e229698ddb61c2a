/* evt_kind.h -- the watcher kinds evtrace names and records.
 *
 * Shared by the public API (evtrace.h: evt_watch takes a kind) and the file
 * format (evt_format.h: EVT_REC_WATCHER stores it), so the numbers are part
 * of the format: append new kinds, never renumber.
 */
#ifndef EVT_KIND_H
#define EVT_KIND_H

/* Watcher kinds, as recorded in EVT_REC_WATCHER. */
enum evt_kind {
    EVT_KIND_UNKNOWN = 0,
    EVT_KIND_IO,
    EVT_KIND_TIMER,
    EVT_KIND_PERIODIC,
    EVT_KIND_SIGNAL,
    EVT_KIND_CHILD,
    EVT_KIND_STAT,
    EVT_KIND_IDLE,
    EVT_KIND_PREPARE,
    EVT_KIND_CHECK,
    EVT_KIND_EMBED,
    EVT_KIND_FORK,
    EVT_KIND_CLEANUP,
    EVT_KIND_ASYNC,
    EVT_KIND_COUNT
};

#endif /* EVT_KIND_H */
