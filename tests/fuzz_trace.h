/* fuzz_trace.h -- the fuzz targets' bodies (fuzz_trace.c, fuzz_view.c),
 * shared by the libFuzzer builds and the replay tests. */
#ifndef FUZZ_TRACE_H
#define FUZZ_TRACE_H

#include <stddef.h>
#include <stdint.h>

/* Runs one input through reader, model, stats and export; aborts when a
 * promise of the reader's does not hold. Returns 0. */
int evt_fuzz_trace(const uint8_t *data, size_t size);

/* The trace an input stands for (malloc'd, *len bytes; NULL for an input
 * under 2 bytes): the bytes after the two control bytes, with the CRCs
 * recomputed when the first one's bit 0 is set (fuzz_trace.c). */
uint8_t *evt_fuzz_file(const uint8_t *data, size_t size, size_t *len);

/* Writes data to the file the environment variable env names, if set
 * (EVT_FUZZ_DUMP, EVT_FUZZ_SAVE: a failing input kept to look at). */
void evt_fuzz_keep(const char *env, const uint8_t *data, size_t len);

/* The viewer's target (fuzz_view.c): the same input drawn. */
int evt_fuzz_view(const uint8_t *data, size_t size);

#endif /* FUZZ_TRACE_H */
