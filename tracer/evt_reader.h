/* evt_reader.h -- decode a .evtrace file, validating as it goes.
 *
 * The one reader every tool uses (stats, export, the viewer). A file is
 * read a chunk at a time (pread), so memory does not grow with it and a
 * file cut while it is read reads as a cut file. Decoding walks the chunks in file order; each chunk is
 * checked (magic, size, CRC) before any of its records is delivered, so a
 * damaged chunk delivers nothing and everything before it is intact. On the
 * first damage the walk stops: a file cut anywhere, or corrupted anywhere,
 * yields a prefix of its events plus a message that says where and what.
 */
#ifndef EVT_READER_H
#define EVT_READER_H

#include <stddef.h>
#include <stdint.h>

#include "evt_format.h"

/* One decoded record. Which fields mean what, by type:
 *   STRING      id = string id (text via evt_reader_string)
 *   PROCESS     val = pid, id = name
 *   THREAD      arg = tid, id = name (thread index is .thread)
 *   CLOCK       kind = source, val = ticks_per_s, val2 = tsc_base
 *   LOOP_BEGIN, LOOP_END, POLL_BEGIN, POLL_END: id = loop id
 *   WATCHER     id = watcher id, kind, arg = fd (int32), val = name, val2 = loop id
 *   WSTART/WSTOP/CB_END  id = watcher id
 *   CB_BEGIN    id = watcher id, arg = revents
 *   REQ_BEGIN   val = request id, id = name
 *   REQ_PHASE   val = request id, id = phase name
 *   REQ_END     val = request id, arg = status
 *   MARK/COUNTER  id = name, val = value (an int64 stored as uint64)
 *   LOST        val = count, val2 = span_ns (lost during [ts - span, ts])
 */
struct evt_event {
    uint64_t ts;      /* CLOCK_MONOTONIC ns */
    uint64_t val;
    uint64_t val2;
    uint32_t thread;  /* thread index, or EVT_THREAD_META */
    uint32_t id;
    uint32_t arg;
    uint8_t type;     /* enum evt_rec_type */
    uint8_t kind;
    uint16_t pad_;
};

typedef struct evt_reader evt_reader;

/* Maps path. Fails (EVT_EIO, EVT_EFORMAT, EVT_ETRUNC, EVT_EVERSION) only
 * when nothing at all can be read: unreadable file, bad magic, unknown
 * major version, a file cut inside its header or a damaged header (its CRC
 * does not match: pid, flags, start_ns or header_size cannot be trusted).
 * A valid header followed by nothing is an empty trace, not an error. */
int evt_reader_open(evt_reader **out, const char *path);

/* 1 when a and b name the same existing file (device and inode, so links
 * and other spellings count), else 0. Tools that write (export -o, evview
 * --png) refuse an output that is one of their inputs: truncating it to
 * write the output would destroy the trace before it is read. */
int evt_same_file(const char *a, const char *b);

/* Reads from memory the caller keeps alive until evt_reader_close. */
int evt_reader_open_mem(evt_reader **out, const void *data, size_t len);

void evt_reader_close(evt_reader *r);

typedef int (*evt_event_fn)(void *ctx, const struct evt_event *ev);

/* Delivers every record in file order (strings included; unknown record
 * types are skipped). Stops early when fn returns non-zero and returns that
 * value. Returns 0 when the whole file was valid, or EVT_ETRUNC/EVT_EFORMAT
 * after delivering everything before the damage (evt_reader_error says
 * where). May be called more than once. */
int evt_reader_each(evt_reader *r, evt_event_fn fn, void *ctx);

/* After evt_reader_each: "" if the file was intact, else a one-line message
 * such as "truncated: chunk at offset 81920 needs 4096 bytes, 1234 remain". */
const char *evt_reader_error(const evt_reader *r);
uint64_t evt_reader_error_offset(const evt_reader *r);

/* After evt_reader_each: the text of a string id, or NULL if unknown. */
const char *evt_reader_string(const evt_reader *r, uint32_t id);

/* Header facts. */
uint32_t evt_reader_pid(const evt_reader *r);
uint64_t evt_reader_start_ns(const evt_reader *r);
uint32_t evt_reader_flags(const evt_reader *r);
size_t evt_reader_size(const evt_reader *r);       /* bytes in the file */
uint64_t evt_reader_events(const evt_reader *r);   /* records delivered by the last walk,
                                                      strings and meta excluded */

/* Added by the reader area (additive):
 * The same walk, one call per chunk with all of its records (n > 0): for
 * loaders that want a tight loop instead of a call per record. The array
 * is valid until fn returns. Strings of the chunk are already known. */
typedef int (*evt_batch_fn)(void *ctx, const struct evt_event *evs, size_t n);
int evt_reader_each_batch(evt_reader *r, evt_batch_fn fn, void *ctx);

/* Added by the format area (additive): evt_reader_open / _open_mem that
 * also say why a file cannot be opened, as one line in msg (cap bytes; ""
 * on success), e.g. "damaged file header: CRC mismatch (stored 1a2b3c4d,
 * computed 5e6f7081)" or "truncated: the file header needs 40 bytes, 12
 * present". For tools that want more than evt_strerror's generic text. */
int evt_reader_open_msg(evt_reader **out, const char *path, char *msg, size_t cap);
int evt_reader_open_mem_msg(evt_reader **out, const void *data, size_t len, char *msg, size_t cap);

/* During evt_reader_each or _batch (from inside fn): the file offset just past the
 * chunk whose records are being delivered, for progress reports. */
size_t evt_reader_offset(const evt_reader *r);

/* 1 if records of this type count as events (evt_reader_events, the model's
 * `events`): everything except the definitions STRING, PROCESS, THREAD,
 * CLOCK and WATCHER. */
static inline int evt_reader_is_event(uint8_t type)
{
    return type >= EVT_REC_LOOP_BEGIN && type != EVT_REC_WATCHER;
}

#endif /* EVT_READER_H */
