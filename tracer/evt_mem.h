/* evt_mem.h -- big arrays without a page-fault storm (internal, shared by
 * the model and the viewer; exported from libevtrace with the evt__ prefix).
 *
 * Loading a 10M-event trace writes a few hundred MB of fresh memory. Faulted
 * in one 4 KiB page at a time, that is most of a load's time: every fault is
 * a trap (to the hypervisor, on a VM) and a page clear. Two hints avoid it:
 * huge pages where the kernel gives them on request (one fault per 2 MiB),
 * and, for an array that is about to be written whole, one populate call.
 * Both are hints: if the kernel says no, the memory works the same. Below
 * 2 MiB neither pays for its syscall.
 *
 * All of it is plain malloc memory: free() it, or evt__big_free. Blocks
 * of 2 MiB and more are 2 MiB aligned: glibc's own big blocks start 16
 * bytes past a page boundary, which leaves a head and a tail of 4 KiB
 * pages (measured on this VM: 140 MB written into eight growing arrays,
 * 90 ms through plain malloc/realloc, 30 ms with aligned huge pages;
 * 100 MB first written in 4 KiB pages, 350 ms).
 */
#ifndef EVT_MEM_H
#define EVT_MEM_H

#include <stddef.h>

/* Huge pages for [p, p + bytes) and back it now (an array written whole). */
void evt__prefault(void *p, size_t bytes);

/* Huge pages for [p, p + bytes), faulted in lazily (a growing array:
 * populating capacity that may never be used would clear it for nothing). */
void evt__hugepage(void *p, size_t bytes);

/* malloc(bytes) (bytes 0 is allowed), prefaulted; NULL when out of memory. */
void *evt__big_alloc(size_t bytes);

/* Frees what evt__big_alloc returned (NULL is fine). */
void evt__big_free(void *p);

/* Like evt__big_alloc, but faulted in as it is written (2 MiB at a time):
 * for capacity that may never be used. */
void *evt__big_lazy(size_t bytes);

#endif /* EVT_MEM_H */
