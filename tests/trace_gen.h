/* trace_gen.h -- build .evtrace bytes in memory, record by record (tests
 * and benchmarks of the reader area).
 *
 * Independent of the real writer (evt_encode.c) on purpose: tests craft
 * exact traces with it -- unknown record types, fields appended to known
 * records, chunks of any size, damage at any byte -- and it remembers the
 * events a correct reader must deliver (tg.expect) so a test can compare.
 * Encodes with the evt_format.h helpers, like the writer.
 */
#ifndef TRACE_GEN_H
#define TRACE_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "evt_reader.h"

struct tg {
    uint8_t *buf;
    size_t len, cap;
    size_t chunk;            /* offset of the open chunk's header, or SIZE_MAX */
    uint32_t thread;         /* of the open chunk */
    uint64_t ts;             /* last timestamp in the open chunk */
    int no_expect;           /* 1: do not keep expectations (big benchmarks) */
    struct evt_event *expect;
    size_t n_expect, cap_expect;
};

void tg_init(struct tg *g, uint32_t pid, uint64_t start_ns);
void tg_free(struct tg *g);

/* Closes the open chunk, if any, and opens one for thread. */
void tg_chunk(struct tg *g, uint32_t thread, uint64_t first_ts);

/* Fills the open chunk's size and CRC; tg_chunk and tg_finish call it. */
void tg_end_chunk(struct tg *g);
void tg_finish(struct tg *g);

/* Appends ev (fields as struct evt_event documents them, ts absolute and
 * >= the chunk's last) encoded per evt_format.h, then extra bytes inside
 * the body (fields a newer writer might append). Remembers ev as expected,
 * with .thread set to the chunk's thread unless it is a THREAD record. */
void tg_ev(struct tg *g, const struct evt_event *ev);
void tg_ev_extra(struct tg *g, const struct evt_event *ev, const uint8_t *extra, size_t n);

/* Shorthands. */
void tg_string(struct tg *g, uint64_t ts, uint32_t id, const char *text);
void tg_simple(struct tg *g, uint8_t type, uint64_t ts, uint32_t id);     /* loop/poll/wstart/wstop/cb_end */
void tg_cb_begin(struct tg *g, uint64_t ts, uint32_t watcher, uint32_t revents);
void tg_watcher(struct tg *g, uint64_t ts, uint32_t id, uint8_t kind, int32_t fd, uint32_t name, uint32_t loop);
void tg_req(struct tg *g, uint8_t type, uint64_t ts, uint64_t req, uint32_t name_or_status);
void tg_sample(struct tg *g, uint8_t type, uint64_t ts, uint32_t name, int64_t value); /* MARK, COUNTER */
void tg_lost(struct tg *g, uint64_t ts, uint64_t count, uint64_t span_ns);

/* A record of a type the reader does not know: dt then body bytes. Not
 * expected (skipped by readers). */
void tg_unknown(struct tg *g, uint8_t type, uint64_t ts, const uint8_t *body, size_t n);

/* After editing bytes of a finished image on purpose: tg_fix_header
 * recomputes the file header's CRC (header_size bytes at buf), tg_fix_crcs
 * the CRC of every chunk whose magic and size still hold, from the header's
 * header_size on, so that edits reach the record decoder instead of
 * stopping at a CRC. */
void tg_fix_header(uint8_t *buf, uint32_t header_size);
void tg_fix_crcs(uint8_t *buf, size_t len);

/* Raw bytes at the end (for crafting damage). */
void tg_raw(struct tg *g, const void *data, size_t n);

/* Reads len bytes at data with the real reader and collects every record
 * it delivers into *evs (malloc'd, *n of them). Returns the open error, or
 * the walk's result; *r stays open for the caller (NULL if open failed). */
int tg_read(const void *data, size_t len, evt_reader **r, struct evt_event **evs, size_t *n);
/* The same for a reader open already (a file): walks it once more. */
int tg_walk(evt_reader *r, struct evt_event **evs, size_t *n);

/* 1 if two events are equal in every documented field. */
int tg_event_eq(const struct evt_event *a, const struct evt_event *b);

/* Writes data to a new file /tmp/evt_test_XXXXXX; its name goes to path.
 * Returns 0 or -1. The caller unlinks it. */
int tg_write_tmp(const void *data, size_t len, char *path, size_t path_len);

#endif /* TRACE_GEN_H */
