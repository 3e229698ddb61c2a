/* evt_encode.h -- raw events in, .evtrace bytes out (evt_format.h).
 *
 * The encoder runs on the flusher, off the hot path: it may allocate. It
 * turns each thread's fixed-size raw events (evt_ring.h) into one chunk of
 * compact records, and the tracer's strings, process and clock facts into
 * "meta" chunks. Everything encoded between two evt__enc_commit calls is
 * written to the sink by that commit, meta chunks first: a flush drains the
 * rings, then encodes the strings interned so far, so every string a thread
 * chunk refers to is in the file before that chunk.
 *
 * Ids. Watchers and loops are known to the hot path by their addresses; the
 * encoder maps each address to a small id the first time it sees it (ids
 * start at 1, watchers and loops count separately, ids are never reused in
 * a file). Before the first record that refers to a watcher it writes an
 * EVT_REC_WATCHER definition, and writes a new one whenever the watcher's
 * kind, fd, name or loop changes (an address reused for another watcher, or
 * an io watcher moved to another fd): a reader keeps the latest definition.
 *
 * Time. Raw ticks become CLOCK_MONOTONIC ns through the tracer's clock map
 * (evt_clock.h). A thread's time never runs backwards in the file: a
 * converted time earlier than the thread's previous one (TSC drift between
 * cores, a refined clock rate) is clamped to it, so every dt is >= 0.
 *
 * Tests and tools can make a trace in memory without any of this API:
 * evt_open() with a sink (evt__memsink_write below works) and
 * no_flush_thread = 1, record, evt_close(): the bytes are then complete.
 */
#ifndef EVT_ENCODE_H
#define EVT_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "evt_clock.h"
#include "evt_ring.h"
#include "evtrace.h"

/* The encoder's memory of one thread (lives in the thread's buffer, but
 * only the flusher touches it). Set index, tid and name; zero the rest. */
struct evt__enc_thread {
    uint32_t index;
    uint32_t tid;
    uint32_t name;          /* string id of the thread's name, 0 = none */
    int announced;          /* THREAD record written */
    uint64_t last_ns;       /* time of its latest record */
    struct evt__raw pend;   /* first half of a two-slot event cut by the ring's wrap */
    int has_pend;
};

typedef struct evt__enc evt__enc;

/* clock must outlive the encoder; it is read at every conversion. */
evt__enc *evt__enc_new(evt_sink_fn sink, void *sink_ctx, const struct evt__clock *clock);
void evt__enc_free(evt__enc *e);

/* The file header, with its CRC (goes out with the next commit, before anything). */
void evt__enc_file_header(evt__enc *e, uint32_t pid, uint32_t flags, uint64_t start_ns);

/* Meta records; they share one meta chunk per commit, stamped at now_ns. */
void evt__enc_string(evt__enc *e, uint64_t now_ns, uint32_t id, const char *s);
void evt__enc_process(evt__enc *e, uint64_t now_ns, uint32_t pid, uint32_t name);
void evt__enc_clock(evt__enc *e, uint64_t now_ns);

/* Thread chunks: any number of evt__enc_events calls (one per contiguous run
 * of the ring) and evt__enc_lost, then evt__enc_thread_end. A thread with no
 * record adds nothing. */
void evt__enc_events(evt__enc *e, struct evt__enc_thread *th, const struct evt__raw *ev, size_t n);
void evt__enc_lost(evt__enc *e, struct evt__enc_thread *th, uint64_t count, uint64_t since_ticks,
                   uint64_t now_ticks);
void evt__enc_thread_end(evt__enc *e, struct evt__enc_thread *th);

/* Writes everything encoded since the last commit. Returns 0, the sink's
 * error, or EVT_ENOMEM if encoding ran out of memory (the data is dropped:
 * a file never gets a half-built chunk). After an error every later commit
 * fails the same way. */
int evt__enc_commit(evt__enc *e);

/* Raw events encoded so far (a two-slot event counts once; unknown types
 * and bookkeeping events do not count). */
uint64_t evt__enc_records(const evt__enc *e);

/* A growable in-memory sink for tests and tools: zero-initialise one and
 * pass evt__memsink_write and its address as sink and sink_ctx; free(data). */
struct evt__memsink {
    uint8_t *data;
    size_t len, cap;
};
int evt__memsink_write(void *ctx, const void *data, size_t len);

#endif /* EVT_ENCODE_H */
