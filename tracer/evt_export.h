/* evt_export.h -- write a trace as Chrome Trace Event Format JSON.
 *
 * The output loads in Perfetto (ui.perfetto.dev) and chrome://tracing:
 *   - loop iterations, poll waits and callbacks as complete events ("X",
 *     with their "dur") on their thread's track (categories "loop", "poll"
 *     and the watcher kind), so callbacks nest inside iterations as they
 *     do in libev. A span is written when it ends, so the file is not in
 *     time order (the format does not ask it to be; viewers sort);
 *   - each request as a nestable async slice ("b"/"e", cat "request", id =
 *     the request id as a hex string) so concurrent requests get lanes of
 *     their own; its phases as nested "b"/"e" slices with the same id;
 *   - counters as "C" events, plus a "requests in flight" counter;
 *   - marks and lost-event ranges as thread-scoped instants ("i");
 *   - process_name / thread_name metadata ("M").
 * Timestamps are microseconds since the trace's start_ns with the ns
 * fraction kept ("12.345"). Several traces go into one document with
 * evt_export_chrome_many.
 *
 * Memory does not grow with the number of events: the export walks the
 * reader twice (first to learn every string, in case a damaged or foreign
 * file uses one before defining it; then to write, in file order) and keeps
 * only per-thread stacks of open spans, the watcher table (watcher
 * redefinitions apply from their point in the file on), the escaped names
 * and the live requests. Output goes through a 64 KiB buffer to the sink.
 *
 * The export follows file order, and chunks of different threads are in
 * flush order: a request's phase or end recorded on another thread can
 * come before its begin. Up to 1024 such records wait and are replayed
 * right after their begin (beyond that, the oldest are dropped).
 */
#ifndef EVT_EXPORT_H
#define EVT_EXPORT_H

#include <stddef.h>
#include <stdio.h>

#include "evt_reader.h"

/* Same contract as evt_sink_fn in evtrace.h: 0 or a negative errno. */
typedef int (*evt_export_write_fn)(void *ctx, const void *data, size_t len);

/* Returns 0; EVT_ETRUNC/EVT_EFORMAT when the trace is damaged (the output
 * is still a complete document holding everything before the damage, and
 * its otherData.error says what); the sink's error; or EVT_ENOMEM. */
int evt_export_chrome(evt_reader *r, evt_export_write_fn write, void *ctx);

/* Several traces in one document: a program and the children it forked
 * (record --follow-fork), or the two sides of a connection. Each keeps its
 * pid, so each is a process of its own in Perfetto; timestamps count from
 * the earliest trace's start (every trace's clock is CLOCK_MONOTONIC);
 * request ids become "PID:0xID", being unique only within a process.
 * otherData.traces lists each trace's pid, start_ns, damaged and error.
 * Returns as evt_export_chrome: the first damage, if no worse error; n must
 * be at least 1. */
int evt_export_chrome_many(evt_reader **rs, size_t n, evt_export_write_fn write, void *ctx);

/* The same into a stdio stream (EVT_EIO when writing fails). */
int evt_export_chrome_file(evt_reader *r, FILE *out);
int evt_export_chrome_files(evt_reader **rs, size_t n, FILE *out);

#endif /* EVT_EXPORT_H */
