/* evt_format.h -- the .evtrace file layout.
 *
 * This header is the only place that knows byte offsets. The writer
 * (evt_encode.c) and the reader (evt_reader.c) both include it; nothing else
 * does. docs/FORMAT.md describes the same layout in prose for people who
 * write readers in other languages; keep the two in step.
 *
 * Shape of a file:
 *
 *   file header (40 bytes in 1.0; header_size says how many)
 *   chunk*      each: chunk header (24 bytes) + payload (records)
 *
 * Integrity: every byte of a file is covered by a CRC-32 (zlib's crc32):
 * the file header by its own CRC, each chunk header's fields and its
 * payload by the chunk's CRC. A reader checks a chunk completely before it
 * delivers any record of it, so damage anywhere -- a flipped bit in a
 * timestamp base as much as in a record -- yields an exact prefix of the
 * events, never wrong ones. The helpers at the end compute both CRCs; the
 * writer and the reader use them so they agree by construction.
 *
 * Everything is little-endian. A chunk holds the records of one thread (or
 * of the "meta" pseudo-thread for strings, process and clock records) in
 * time order. Chunks of different threads interleave in the file in flush
 * order; within one thread, chunk order is time order.
 *
 * A record is:   u8 type | varint len | body[len]
 * and every body starts with varint dt: nanoseconds since the previous
 * record of the same chunk (the first record: since the chunk's first_ts).
 * The fields that follow are varints (LEB128, unsigned; signed values are
 * zigzag-encoded) in the order listed below. A reader reads the fields it
 * knows and then skips to the end of the body by len, so a newer writer may
 * append fields to a record or add record types without breaking an older
 * reader. Timestamps are CLOCK_MONOTONIC nanoseconds (the writer converts
 * TSC ticks before encoding, see the CLOCK record).
 */
#ifndef EVT_FORMAT_H
#define EVT_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <libdeflate.h>

#include "evt_kind.h"

/* ---- file header -------------------------------------------------------
 *  off size field
 *    0    8 magic       "EVTRACE\0"
 *    8    2 major       EVT_VERSION_MAJOR; a reader refuses another major
 *   10    2 minor       EVT_VERSION_MINOR; newer minors only add things
 *   12    4 header_size bytes from the start of the file to the first chunk
 *   16    4 pid         process id of the traced process
 *   20    4 flags       EVT_FILE_FLAG_*
 *   24    8 start_ns    CLOCK_MONOTONIC ns when the trace was opened
 *   32    4 header_crc  CRC-32 of bytes 0..31 followed by bytes 36..header_size-1
 *                       (everything in the header but the CRC itself:
 *                       evt__file_header_crc)
 *   36    4 reserved    0 in 1.0
 *
 * A newer minor may grow the header (fields from offset 40 on); the CRC
 * covers them too, so a reader of 1.0 can check a 1.x header whole.
 * header_size is at least 40 and at most EVT_FILE_HEADER_MAX (a larger one
 * is damage).
 */
#define EVT_FILE_MAGIC "EVTRACE"          /* 7 chars + the NUL = 8 bytes */
#define EVT_FILE_MAGIC_LEN 8
#define EVT_VERSION_MAJOR 1
#define EVT_VERSION_MINOR 0
#define EVT_FILE_HEADER_SIZE 40          /* what this writer writes; the minimum */
#define EVT_FILE_HEADER_CRC_OFF 32
#define EVT_FILE_HEADER_MAX 4096
#define EVT_FILE_FLAG_TSC 0x1u            /* timestamps were taken from the TSC */

/* ---- chunk header ------------------------------------------------------
 *  off size field
 *    0    4 magic        EVT_CHUNK_MAGIC ("ECHK" as bytes 45 43 48 4B)
 *    4    4 payload_size bytes of records that follow the header
 *    8    4 thread       thread index (0, 1, ...) or EVT_THREAD_META
 *   12    4 crc32        CRC-32 (IEEE 802.3, zlib's crc32) of, in this order:
 *                        header bytes 4..11 (payload_size, thread), header
 *                        bytes 16..23 (first_ts), then the payload
 *                        (evt__chunk_crc). Only the magic and the CRC itself
 *                        are outside it: a wrong magic is caught anyway.
 *   16    8 first_ts     CLOCK_MONOTONIC ns; the base of the first dt
 */
#define EVT_CHUNK_MAGIC 0x4B484345u
#define EVT_CHUNK_HEADER_SIZE 24
#define EVT_CHUNK_MAX_PAYLOAD (64u << 20)  /* a reader rejects larger ones */
#define EVT_THREAD_META 0xFFFFFFFFu
/* String ids run from 1 to this (2^22 - 1, about 4 million): a reader
 * takes a STRING record with a larger id as damage, so that a hostile file
 * cannot make it size a table for billions of ids, and so the writer
 * interns no more (evt_intern returns 0, "no name", once that many
 * distinct names exist: a program naming each request by its URL would
 * otherwise write a trace that reads as damaged from there on). */
#define EVT_MAX_STRING_ID ((1u << 22) - 1)

/* ---- record types ------------------------------------------------------
 * Fields after dt, in order. "name" fields are string ids (0 = no name).
 * Ids of watchers and loops are small integers the writer assigns; they are
 * unique within a file. Request ids are chosen by the program and unique
 * within the process for the request's lifetime. */
enum evt_rec_type {
    EVT_REC_STRING = 0x01,     /* id, then the rest of the body is UTF-8 bytes (no NUL) */
    EVT_REC_PROCESS = 0x02,    /* pid, name */
    EVT_REC_THREAD = 0x03,     /* thread index, tid, name */
    EVT_REC_CLOCK = 0x04,      /* source (0 monotonic, 1 tsc), ticks_per_s, tsc_base, ns_base */

    EVT_REC_LOOP_BEGIN = 0x10, /* loop id: an iteration of ev_run starts */
    EVT_REC_LOOP_END = 0x11,   /* loop id: ...and ends */
    EVT_REC_POLL_BEGIN = 0x12, /* loop id: the loop blocks in the backend (epoll_wait...) */
    EVT_REC_POLL_END = 0x13,   /* loop id: ...and wakes up */

    EVT_REC_WATCHER = 0x20,    /* watcher id, kind (enum evt_kind), fd or signum (zigzag), name, loop id */
    EVT_REC_WSTART = 0x21,     /* watcher id */
    EVT_REC_WSTOP = 0x22,      /* watcher id */
    EVT_REC_CB_BEGIN = 0x23,   /* watcher id, revents */
    EVT_REC_CB_END = 0x24,     /* watcher id */

    EVT_REC_REQ_BEGIN = 0x30,  /* request id, name */
    EVT_REC_REQ_PHASE = 0x31,  /* request id, phase name: the request enters this phase */
    EVT_REC_REQ_END = 0x32,    /* request id, status (e.g. an HTTP status; 0 = none) */

    EVT_REC_MARK = 0x40,       /* name, value (zigzag) */
    EVT_REC_COUNTER = 0x41,    /* name, value (zigzag) */

    EVT_REC_LOST = 0x50,       /* count, span_ns: count events of this thread were
                                  dropped during [ts - span_ns, ts] */
};

/* Watcher kinds, as recorded in EVT_REC_WATCHER: enum evt_kind, in
 * evt_kind.h (public: evtrace.h users name kinds too). */

/* ---- little-endian and varint helpers ----------------------------------
 * Shared by the encoder and the decoder so that both agree by construction.
 * The decoders are bounds-checked: they return the number of bytes read, or
 * 0 when the input ends before the value does or the value is too long. */

static inline void evt__put_u16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void evt__put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline void evt__put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint16_t evt__get_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t evt__get_u32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}
static inline uint64_t evt__get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

#define EVT_VARINT_MAX 10   /* bytes a 64-bit varint can take */

/* Writes v as LEB128 at p (room for EVT_VARINT_MAX bytes); returns bytes written. */
static inline size_t evt__put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

static inline size_t evt__get_varint(const uint8_t *p, size_t avail, uint64_t *out)
{
    uint64_t v = 0;
    for (size_t n = 0; n < avail && n < EVT_VARINT_MAX; n++) {
        v |= (uint64_t)(p[n] & 0x7f) << (7 * n);
        if (!(p[n] & 0x80)) {
            *out = v;
            return n + 1;
        }
    }
    return 0;
}

/* ---- CRCs ---------------------------------------------------------------
 * CRC-32 as in gzip, PNG and zlib's crc32(), computed with libdeflate's
 * libdeflate_crc32: the same numbers, about 15 times fewer instructions
 * than zlib's (the CRC was a third of the reader's time and a fifth of the
 * encoder's). The tests check these values against zlib's crc32 computed
 * independently (tests/trace_check.c). Hashing the header fields before
 * the payload lets the writer compute the CRC once, when the chunk is sealed
 * and its size is known. */

/* The chunk CRC: h points at a chunk header (payload_size, thread and
 * first_ts already filled in) followed by its payload_size payload bytes. */
static inline uint32_t evt__chunk_crc(const uint8_t *h, uint32_t payload_size)
{
    uint32_t c = libdeflate_crc32(0, h + 4, 8);
    c = libdeflate_crc32(c, h + 16, 8);
    return libdeflate_crc32(c, h + EVT_CHUNK_HEADER_SIZE, payload_size);
}

/* The file header CRC: h points at header_size (>= 40) header bytes. */
static inline uint32_t evt__file_header_crc(const uint8_t *h, uint32_t header_size)
{
    uint32_t c = libdeflate_crc32(0, h, EVT_FILE_HEADER_CRC_OFF);
    return libdeflate_crc32(c, h + EVT_FILE_HEADER_CRC_OFF + 4, header_size - EVT_FILE_HEADER_CRC_OFF - 4);
}

static inline uint64_t evt__zigzag(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }
static inline int64_t evt__unzigzag(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

#endif /* EVT_FORMAT_H */
