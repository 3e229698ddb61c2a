/* fuzz_trace.h -- the trace fuzz target's body (fuzz_trace.c), shared by
 * the libFuzzer build and the replay test. */
#ifndef FUZZ_TRACE_H
#define FUZZ_TRACE_H

#include <stddef.h>
#include <stdint.h>

/* Runs one input through reader, model, stats and export; aborts when a
 * promise of the reader's does not hold. Returns 0. */
int evt_fuzz_trace(const uint8_t *data, size_t size);

#endif /* FUZZ_TRACE_H */
