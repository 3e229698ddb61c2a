/* trace_check.h -- an independent decoder for the writer's tests.
 *
 * Decodes a whole .evtrace image with nothing but evt_format.h, checking
 * everything on the way (header, chunk magic, sizes, CRC, varint framing,
 * per-thread time order), so the writer's tests do not depend on the reader
 * (tracer/evt_reader.c) being right: two independent readings of the format
 * have to agree. Not a general reader: it keeps every record in memory.
 */
#ifndef TRACE_CHECK_H
#define TRACE_CHECK_H

#include <stddef.h>
#include <stdint.h>

#define TC_MAX_FIELDS 6

struct tc_rec {
    uint8_t type;
    uint32_t thread;      /* chunk's thread index or EVT_THREAD_META */
    uint64_t ts;          /* absolute ns */
    int nf;               /* fields decoded after dt */
    uint64_t f[TC_MAX_FIELDS];
    char *str;            /* STRING: its text (NUL-terminated copy) */
};

struct tc_trace {
    uint32_t pid, flags;
    uint64_t start_ns;
    struct tc_rec *recs;
    size_t n, cap;
    size_t chunks;
    char **strings;       /* index = string id */
    size_t n_strings;
    char error[200];      /* "" if the whole image was valid */
};

/* Decodes data; returns 0 if valid, -1 (error set) otherwise. Records before
 * the damage are kept. */
int tc_decode(struct tc_trace *tr, const void *data, size_t len);
int tc_decode_file(struct tc_trace *tr, const char *path);
void tc_free(struct tc_trace *tr);

/* Helpers for assertions. */
size_t tc_count(const struct tc_trace *tr, int type);
size_t tc_count_thread(const struct tc_trace *tr, int type, uint32_t thread);
const char *tc_string(const struct tc_trace *tr, uint64_t id);
/* Sum of LOST counts. */
uint64_t tc_lost(const struct tc_trace *tr);

/* 1 under valgrind (it preloads its vgpreload_*.so into the program it
 * runs), whose own tens of MiB make any test program look too big for a
 * consumer process (evt_consumer.c). */
int tc_under_valgrind(void);

#endif /* TRACE_CHECK_H */
