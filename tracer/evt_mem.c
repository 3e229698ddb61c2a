/* evt_mem.c -- see evt_mem.h. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "evt_mem.h"

#define EVT_MEM_MIN (2u << 20) /* smaller ranges: not worth a syscall */

/* The whole pages inside [p, p + bytes); 0 if there are none worth it. */
static size_t page_range(void *p, size_t bytes, uintptr_t *a)
{
    if (bytes < EVT_MEM_MIN)
        return 0;
    uintptr_t s = ((uintptr_t)p + 4095) & ~(uintptr_t)4095, e = ((uintptr_t)p + bytes) & ~(uintptr_t)4095;
    *a = s;
    return e > s ? e - s : 0;
}

void evt__hugepage(void *p, size_t bytes)
{
    uintptr_t a;
    size_t n = page_range(p, bytes, &a);
#ifdef MADV_HUGEPAGE
    if (n)
        madvise((void *)a, n, MADV_HUGEPAGE);
#else
    (void)n;
#endif
}

void evt__prefault(void *p, size_t bytes)
{
    uintptr_t a;
    size_t n = page_range(p, bytes, &a);
    if (!n)
        return;
    evt__hugepage(p, bytes);
#ifdef MADV_POPULATE_WRITE
    madvise((void *)a, n, MADV_POPULATE_WRITE);
#endif
}

/* Aligned to 2 MiB and rounded up to it, so that all of the block can be
 * huge pages. posix_memalign memory is freed with free(). */
static void *big_aligned(size_t bytes)
{
    if (bytes < EVT_MEM_MIN)
        return malloc(bytes ? bytes : 1);
    size_t n = (bytes + EVT_MEM_MIN - 1) & ~(size_t)(EVT_MEM_MIN - 1);
    void *p;
    if (posix_memalign(&p, EVT_MEM_MIN, n) != 0)
        return NULL;
    evt__hugepage(p, n);
    return p;
}

void *evt__big_alloc(size_t bytes)
{
    void *p = big_aligned(bytes);
    if (p)
        evt__prefault(p, bytes);
    return p;
}

void *evt__big_lazy(size_t bytes) { return big_aligned(bytes); }

void evt__big_free(void *p) { free(p); }


