/* evt_shm.h -- memory shared with the consumer process.
 *
 * When a tracer writes a file, the work of turning events into the file
 * format and writing them is done by a consumer: a copy of the process made
 * by evt_open (evt_consumer.c), not a thread in it. Everything both sides
 * read -- the tracer, the thread list, the rings, the interned strings --
 * lives in one MAP_SHARED region created before the copy is made, so it is
 * at the same address in both and every pointer in it means the same thing
 * on both sides. Private memory (each side's heap) is copied at the fork and
 * then goes its own way; the encoder, used only by the consumer after the
 * fork, is one of those.
 *
 * The region is reserved whole at creation (MAP_NORESERVE: only pages that
 * are written cost memory) and handed out by a bump allocator under a
 * process-shared mutex. Freed blocks go on a free list and are reused only
 * by a request of exactly their size (rings: all one size per tracer);
 * anything else freed (a grown array's old copy) stays unused until the
 * region is unmapped. Growth is geometric, so that waste is bounded by what
 * is live.
 *
 * evt__shm_calloc and the others below take the region or NULL; with NULL they are calloc, realloc and
 * free, so one code path serves both kinds of tracer.
 */
#ifndef EVT_SHM_H
#define EVT_SHM_H

#include <stddef.h>

struct evt__shm;

/* Maps a region of size bytes (rounded up to pages). NULL if it cannot. */
struct evt__shm *evt__shm_create(size_t size);
/* Unmaps it: every pointer into it dies. */
void evt__shm_destroy(struct evt__shm *m);

/* n zeroed bytes, 64-byte aligned (page-aligned when n is a page or more). */
void *evt__shm_calloc(struct evt__shm *m, size_t n);
/* Like realloc; old is p's current size (the region needs it to copy). */
void *evt__shm_realloc(struct evt__shm *m, void *p, size_t old, size_t n);
void evt__shm_free(struct evt__shm *m, void *p, size_t n);
/* n bytes, page-aligned, contents unspecified (rings: no zeroing needed). */
void *evt__shm_pages(struct evt__shm *m, size_t n);
void evt__shm_free_pages(struct evt__shm *m, void *p, size_t n);

/* Mutexes that may be shared with the consumer (pshared = 1). */
#include <pthread.h>
int evt__mutex_init(pthread_mutex_t *m, int pshared);
/* Locks m and returns 1. With peer_dead (the consumer's last flush after
 * the program died, perhaps holding m) it tries for ~100 ms and then goes
 * on without the lock, returning 0: nobody else will touch the data. */
int evt__mutex_lock(pthread_mutex_t *m, int peer_dead);

#endif /* EVT_SHM_H */
