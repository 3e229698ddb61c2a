/* evtrace.h -- record what a libev event loop does, cheaply, to a trace file.
 *
 * Typical use:
 *
 *   evt_tracer *t;
 *   int rc = evt_open_file(&t, "server.evtrace");
 *   if (rc < 0) die(evt_strerror(rc));
 *   struct ev_loop *loop = EV_DEFAULT;
 *   evt_attach_loop(t, loop);                 // iterations, poll waits
 *   ev_io_init(&accept_w, on_accept, fd, EV_READ);
 *   evt_watch_io(t, loop, &accept_w, "accept"); // its callbacks, by name
 *   ev_io_start(loop, &accept_w);
 *   ...
 *   uint32_t route = evt_intern(t, "GET /");  // once, at start-up
 *   evt_request_begin(t, conn_id, route);     // hot path from here on
 *   evt_request_phase(t, conn_id, phase_read);
 *   evt_request_end(t, conn_id, 200);
 *   ...
 *   evt_close(t);                             // flushes everything
 *
 * Errors are negative errno-style ints; evt_strerror() names them.
 *
 * The recording functions (evt_request_*, evt_mark, evt_counter and the
 * callbacks recorded for watched watchers) are the hot path: they take a
 * timestamp and append a fixed-size event to a buffer owned by the calling
 * thread. No malloc, no lock, no syscall. A thread's first event allocates
 * its buffer (once). A consumer process (or a flush thread: see evt_open)
 * drains the buffers every flush_interval_ms, encodes them compactly and
 * writes them out. When a buffer is full the event is dropped and counted;
 * the trace says how many were lost and when. All functions accept
 * t == NULL and then do nothing, so a program can trace optionally without
 * ifs everywhere. The recording functions are thread-safe but not
 * async-signal-safe: call them from libev signal watchers, not from raw
 * signal handlers.
 */
#ifndef EVTRACE_H
#define EVTRACE_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>

#include "evt_kind.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct evt_tracer evt_tracer;

/* A sink receives the encoded trace (stb style); returns 0 or a negative errno. */
typedef int (*evt_sink_fn)(void *ctx, const void *data, size_t len);

struct evt_options {
    const char *path;             /* file to create (an existing regular file of that
                                     name is replaced: unlinked, so a reader of the
                                     old trace keeps it whole); or NULL and a sink: */
    evt_sink_fn sink;
    void *sink_ctx;
    size_t buffer_bytes;          /* per thread; 0 = default 4 MiB */
    unsigned flush_interval_ms;   /* 0 = default 50 ms; at most 100 recommended */
    int no_signal_handlers;       /* 1: do not install the SIGINT/SIGTERM flush */
    int no_flush_thread;          /* 1: no background thread; flush only in
                                     evt_flush()/evt_close() (tests) */
    int flush_thread;             /* 1: write the file from a thread in this
                                     process, not from a consumer process */
    const char *process_name;     /* NULL = from /proc/self/comm */
};

/* Error codes (negative errno values where one fits). */
#define EVT_OK 0
#define EVT_EINVAL (-22)
#define EVT_ENOMEM (-12)
#define EVT_EIO (-5)
#define EVT_EBUSY (-16)          /* a tracer is already open in this process */
#define EVT_EFORMAT (-1001)      /* reader: not an evtrace file / bad data */
#define EVT_EVERSION (-1002)     /* reader: unsupported major version */
#define EVT_ETRUNC (-1003)       /* reader: file ends inside a chunk */

const char *evt_strerror(int err);

/* Opens a trace. One tracer per process at a time (EVT_EBUSY otherwise):
 * the per-thread buffers are found through thread-local storage.
 *
 * Who writes the file. With a path, a single-threaded program gets a
 * consumer process: evt_open makes a copy of the process that encodes and
 * writes the trace from memory it shares with the program, so the program
 * stays single-threaded (a thread would make every read/write/send/recv
 * cost more, in glibc and in the kernel) and the trace is complete however
 * the program ends. The copy holds none of the program's descriptors, sends
 * no SIGCHLD and is invisible to waitpid(-1); it shows in ps as
 * "evtrace-flush". Where that cannot be or should not be (other threads
 * already running; more than 16 MiB of anonymous memory at evt_open, which
 * the copy would make the program copy page by page as it writes;
 * flush_thread = 1; a sink instead of a path), a flush thread in the
 * process does the same work. The environment can choose too:
 * EVTRACE_FLUSH=thread for the thread, EVTRACE_FLUSH=process for the copy
 * whatever the program's size (still not with other threads, nor over
 * flush_thread or no_flush_thread). See tracer/evt_consumer.c.
 *
 * Ending the process. evt_close writes everything. Without it:
 *  - exit() (or returning from main): an atexit handler does the final
 *    flush and closes the file (memory is left to the exiting process, since
 *    other threads may still be recording);
 *  - SIGINT/SIGTERM: if their disposition is SIG_DFL at open (and
 *    no_signal_handlers is 0), libevtrace installs a handler that asks the
 *    consumer (or wakes the flush thread) for a final flush, waits for it
 *    (the thread: at most 2 s), restores SIG_DFL and re-raises, so the
 *    process still dies of the signal with its trace complete. A program
 *    with its own handler or SIG_IGN is left alone (if its handler exits,
 *    atexit flushes). evt_close restores the previous disposition;
 *  - SIGKILL or a crash: with a consumer, nothing is lost: it sees the
 *    program end and writes the rest, a moment later (`evtrace record` waits
 *    for it). With a flush thread the file holds everything up to the last
 *    flush (at most flush_interval_ms old) and ends cleanly or inside one
 *    chunk.
 * Clock: timestamps come from the CPU's invariant TSC where there is one
 * (x86-64), converted to CLOCK_MONOTONIC ns when written; EVTRACE_CLOCK=
 * monotonic in the environment forces clock_gettime instead (=tsc names
 * the default). Another value of EVTRACE_FLUSH or EVTRACE_CLOCK gets the
 * default and one line on stderr, the only thing evt_open prints; empty
 * counts as unset.
 * Memory: each recording thread gets buffer_bytes (rounded down to a power of
 * two of 24-byte events, at least 64 events), allocated and touched at its
 * first event (a one-time cost of about a millisecond for 4 MiB).
 * fork(): the child's copy of the tracer records and writes nothing. */
int evt_open(evt_tracer **out, const struct evt_options *opt);
int evt_open_file(evt_tracer **out, const char *path);

/* Detaches every loop, flushes every thread's buffer, writes the final lost
 * counts and closes the file. Call it from one thread after the traced
 * threads stopped recording. Also runs at exit() and on SIGINT/SIGTERM
 * (when the program has no handler of its own for them). */
int evt_close(evt_tracer *t);

/* Synchronously drains and writes all buffers (not for the hot path). */
int evt_flush(evt_tracer *t);

/* Events dropped so far because a buffer was full (all threads), or
 * because a thread could get no buffer at all (those are not in the file). */
uint64_t evt_lost(const evt_tracer *t);

/* Interns a name and returns its id (> 0), or 0 on failure. Takes a lock
 * and may allocate: call it at start-up and keep the id. */
uint32_t evt_intern(evt_tracer *t, const char *name);

/* Names the calling thread in the trace (default: its comm name). */
void evt_thread_name(evt_tracer *t, const char *name);

/* ---- libev ------------------------------------------------------------ */

/* Records the loop's iterations and poll waits through libev's release and
 * invoke-pending hooks and a prepare watcher. Hooks the program set before
 * or after attaching keep running: libevtrace chains them. (It does so by
 * defining ev_set_loop_release_cb, ev_set_invoke_pending_cb and
 * ev_loop_destroy itself, which requires libevtrace before libev in the
 * link order, as target_link_libraries(prog evtrace) gives.) Call from the
 * loop's thread, or while the loop is not running, as for any libev call.
 * evt_close stops the recording but leaves the hooks in place (chaining,
 * recording nothing), since loops may still run in other threads. */
int evt_attach_loop(evt_tracer *t, struct ev_loop *loop);
int evt_detach_loop(evt_tracer *t, struct ev_loop *loop);

/* Records every callback invocation of watcher w (begin/end, revents) under
 * `name` (may be NULL). Call after ev_*_init and before or after starting
 * it. The watcher's callback is wrapped, not changed: libevtrace keeps the
 * original and calls it. If the program later calls ev_set_cb on w, call
 * evt_watch again. (ev_*_init sets the callback, so re-initialising w
 * unwraps it. Do not memcpy a watched watcher: the copy's callback is the
 * wrapper, which calls the right callback only while the program has at
 * most 64 distinct watched callbacks, and the copy is recorded unnamed.
 * Watch the copy instead. The wrapper keeps working after
 * evt_close, recording nothing.) kind is an enum evt_kind value (evt_kind.h); fd is the
 * fd or signal number, or -1. */
int evt_watch(evt_tracer *t, struct ev_loop *loop, ev_watcher *w, int kind, int fd, const char *name);

/* The same with a name interned beforehand (evt_intern; 0 = no name): for
 * watchers set up per connection or per request, where interning the name
 * string every time would take the interning lock on the request path. */
int evt_watch_id(evt_tracer *t, struct ev_loop *loop, ev_watcher *w, int kind, int fd, uint32_t name);

/* Typed shorthands for the common kinds. */
int evt_watch_io(evt_tracer *t, struct ev_loop *loop, ev_io *w, const char *name);
int evt_watch_timer(evt_tracer *t, struct ev_loop *loop, ev_timer *w, const char *name);
int evt_watch_signal(evt_tracer *t, struct ev_loop *loop, ev_signal *w, const char *name);
int evt_watch_async(evt_tracer *t, struct ev_loop *loop, ev_async *w, const char *name);

/* Forgets w (call before freeing a watched watcher whose memory may be reused
 * for something that is not a watcher). Restores its original callback. */
void evt_unwatch(evt_tracer *t, struct ev_loop *loop, ev_watcher *w);

/* ---- requests, marks, counters (hot path) -------------------------------
 * A request is whatever the program calls one: an HTTP exchange, a job. Its
 * phases are names the program chooses; the samples use "accept", "read",
 * "process", "respond", "close". id must be unique among live requests. */
void evt_request_begin(evt_tracer *t, uint64_t id, uint32_t name);
void evt_request_phase(evt_tracer *t, uint64_t id, uint32_t phase);
void evt_request_end(evt_tracer *t, uint64_t id, uint32_t status);
void evt_mark(evt_tracer *t, uint32_t name, int64_t value);
void evt_counter(evt_tracer *t, uint32_t name, int64_t value);

#ifdef __cplusplus
}
#endif
#endif /* EVTRACE_H */
