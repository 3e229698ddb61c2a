/* evt_runsort.h -- sorting the model's big arrays, and allocating them
 * (internal to the reader area).
 *
 * The model's arrays arrive in time order per thread, with chunks of
 * different threads interleaved in flush order: already sorted (one
 * thread) or a shuffle of a few sorted per-thread sequences. evt__runsort
 * puts such an array in order in linear time (a stable split by thread and
 * a k-way merge on the time key); anything else falls back to qsort.
 *
 * Big fresh allocations are prefaulted (huge pages where the kernel offers
 * them on request, populated in one call): a load of millions of events
 * otherwise spends most of its time in page faults, each a trap to the
 * hypervisor on a VM.
 */
#ifndef EVT_RUNSORT_H
#define EVT_RUNSORT_H

#include <stddef.h>
#include <stdint.h>

/* Where the sort key (a uint64 time) and the uint32 thread index sit in an
 * element, and the full comparator (used for the check and the fallback). */
struct evt__layout {
    size_t esize, koff, toff;
    int (*cmp)(const void *, const void *);
};

#define EVT__LAYOUT(type, key, cmpfn) \
    ((struct evt__layout){ sizeof(type), offsetof(type, key), offsetof(type, thread), cmpfn })

/* A scratch buffer reused by successive sorts (zero-initialise). */
struct evt__scratch {
    void *p;
    size_t bytes;
};

/* Sorts n elements at data by l.cmp. Ties on (key, thread) keep their
 * order, which is what the comparators' last criteria say too. */
void evt__runsort(struct evt__scratch *s, void *data, size_t n, struct evt__layout l);
void evt__scratch_free(struct evt__scratch *s);

/* Hints the kernel to back [p, p + bytes) now, with huge pages if it can. */
void evt__prefault(void *p, size_t bytes);

/* malloc(bytes), prefaulted: for arrays written right away. */
void *evt__big_malloc(size_t bytes);

#endif /* EVT_RUNSORT_H */
