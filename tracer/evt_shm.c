/* evt_shm.c -- the shared region's allocator (see evt_shm.h). */
#define _GNU_SOURCE
#include "evt_shm.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

struct free_block {
    struct free_block *next;
    size_t size;
};

struct evt__shm {
    pthread_mutex_t mu;            /* process-shared */
    size_t size;                   /* of the whole mapping */
    size_t used;                   /* bump offset from the region's start */
    struct free_block *free;       /* blocks given back, any size */
};

static size_t page_size(void)
{
    long p = sysconf(_SC_PAGESIZE);
    return p > 0 ? (size_t)p : 4096;
}

struct evt__shm *evt__shm_create(size_t size)
{
    size_t page = page_size();
    size = (size + page - 1) / page * page;
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    struct evt__shm *m = p;
    if (evt__mutex_init(&m->mu, 1) != 0) {
        munmap(p, size);
        return NULL;
    }
    m->size = size;
    m->used = (sizeof *m + 63) & ~(size_t)63;
    return m;
}

void evt__shm_destroy(struct evt__shm *m)
{
    if (!m)
        return;
    pthread_mutex_destroy(&m->mu);
    munmap(m, m->size);
}

/* A block of exactly n bytes from the free list, or from the bump pointer
 * (aligned to align). NULL when the region is full. */
static void *shm_take(struct evt__shm *m, size_t n, size_t align, int *reused)
{
    void *p = NULL;
    *reused = 0;
    pthread_mutex_lock(&m->mu);
    for (struct free_block **b = &m->free; *b; b = &(*b)->next) {
        if ((*b)->size == n) {
            p = *b;
            *b = (*b)->next;
            *reused = 1;
            break;
        }
    }
    if (!p) {
        size_t off = (m->used + align - 1) & ~(align - 1);
        if (off <= m->size && m->size - off >= n) {
            p = (char *)m + off;
            m->used = off + n;
        }
    }
    pthread_mutex_unlock(&m->mu);
    return p;
}

static void shm_give(struct evt__shm *m, void *p, size_t n)
{
    if (!p || n < sizeof(struct free_block))
        return;
    struct free_block *b = p;
    pthread_mutex_lock(&m->mu);
    b->size = n;
    b->next = m->free;
    m->free = b;
    pthread_mutex_unlock(&m->mu);
}

static size_t shm_round(size_t n)
{
    return (n + 63) & ~(size_t)63;
}

void *evt__shm_calloc(struct evt__shm *m, size_t n)
{
    if (!m)
        return calloc(1, n);
    n = shm_round(n ? n : 1);
    int reused;
    void *p = shm_take(m, n, n >= page_size() ? page_size() : 64, &reused);
    if (p && reused)   /* fresh pages of a shared mapping are zero already */
        memset(p, 0, n);
    return p;
}

void *evt__shm_realloc(struct evt__shm *m, void *p, size_t old, size_t n)
{
    if (!m)
        return realloc(p, n);
    void *q = evt__shm_calloc(m, n);
    if (q && p) {
        memcpy(q, p, old < n ? old : n);
        evt__shm_free(m, p, old);
    }
    return q;
}

void evt__shm_free(struct evt__shm *m, void *p, size_t n)
{
    if (!m)
        free(p);
    else
        shm_give(m, p, shm_round(n ? n : 1));
}

void *evt__shm_pages(struct evt__shm *m, size_t n)
{
    if (!m) {
        void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        return p == MAP_FAILED ? NULL : p;
    }
    int reused;
    return shm_take(m, shm_round(n), page_size(), &reused);
}

void evt__shm_free_pages(struct evt__shm *m, void *p, size_t n)
{
    if (!m) {
        if (p)
            munmap(p, n);
    } else {
        shm_give(m, p, shm_round(n));
    }
}

int evt__mutex_init(pthread_mutex_t *m, int pshared)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    if (pshared)
        pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    int rc = pthread_mutex_init(m, &a);
    pthread_mutexattr_destroy(&a);
    return rc;
}

int evt__mutex_lock(pthread_mutex_t *m, int peer_dead)
{
    if (!peer_dead)
        return pthread_mutex_lock(m) == 0;
    struct timespec ms = {0, 1000000};
    for (int i = 0; i < 100; i++) {
        if (pthread_mutex_trylock(m) == 0)
            return 1;
        nanosleep(&ms, NULL);
    }
    return 0;
}
