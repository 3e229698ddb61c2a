/* evt_runsort.h -- putting the model's big arrays in time order (internal
 * to the reader area).
 *
 * The model's records arrive in time order per thread, with chunks of
 * different threads interleaved in flush order. The model therefore keeps
 * one array per thread while it walks and merges them at the end
 * (evt__merge_back: one linear pass, nothing to sort, in place). Arrays built in file
 * order, the small ones, go through evt__runsort: already sorted (one
 * thread) or a shuffle of a few sorted per-thread sequences, put in order
 * in linear time (a stable split by thread and a k-way merge on the time
 * key); anything else falls back to qsort.
 *
 * Big allocations: see evt_mem.h.
 */
#ifndef EVT_RUNSORT_H
#define EVT_RUNSORT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "evt_mem.h"

/* Where the sort key (a uint64 time) and the uint32 thread index sit in an
 * element, and the full comparator (used for the check and the fallback).
 * Every comparator orders by key first, then by thread. */
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

/* 1 if the n elements at data are in l.cmp order (cheap: l.cmp is only
 * called on equal keys). */
int evt__sorted(const void *data, size_t n, struct evt__layout l);

/* One thread's elements, sorted by l.cmp; all have the same thread. */
struct evt__seq {
    const char *p;
    size_t n;
};

static inline __attribute__((always_inline)) uint64_t evt__key(const char *e, struct evt__layout l)
{
    uint64_t k;
    memcpy(&k, e + l.koff, sizeof k);
    return k;
}

static inline __attribute__((always_inline)) uint32_t evt__thread(const char *e, struct evt__layout l)
{
    uint32_t t;
    memcpy(&t, e + l.toff, sizeof t);
    return t;
}

/* 1 if a comes after b by (key, thread). */
static inline __attribute__((always_inline)) int evt__after(const char *a, uint64_t kb, uint32_t tb,
                                                            struct evt__layout l)
{
    uint64_t ka = evt__key(a, l);
    return ka > kb || (ka == kb && evt__thread(a, l) > tb);
}

/* Merges the k sequences by (key, thread) into out, which has room for all
 * of them; since each sequence is one thread's, the result is in l.cmp
 * order. The merge runs from the back, so out may be the buffer that
 * holds one of the sequences at its start (seq[j].p == out): that
 * sequence's elements are never overwritten before they are read, and the
 * merged array needs no second buffer, no second set of fresh pages.
 * Takes from the last head as long as it stays behind the runner-up
 * (threads run in bursts); stops as soon as only the sequence at out is
 * left, which is already in place. Inline: with a constant layout the
 * key reads and the copies become plain loads and stores. */
static inline __attribute__((always_inline)) void evt__merge_back(void *out, struct evt__seq *seq, size_t k,
                                                                  struct evt__layout l)
{
    size_t total = 0;
    for (size_t j = 0; j < k; j++)
        total += seq[j].n;
    char *o = (char *)out + total * l.esize;
    while (k == 2 && seq[0].n && seq[1].n) { /* two threads: the common case, one compare */
        const char *a = seq[0].p + (seq[0].n - 1) * l.esize, *b = seq[1].p + (seq[1].n - 1) * l.esize;
        int take_a = evt__after(a, evt__key(b, l), evt__thread(b, l), l);
        const char *e = take_a ? a : b;
        seq[!take_a].n--;
        o -= l.esize;
        if (o != e)
            memcpy(o, e, l.esize);
    }
    for (;;) {
        size_t best = SIZE_MAX, runner = SIZE_MAX;
        uint64_t bk = 0, rk = 0;
        uint32_t bt = 0, rt = 0;
        for (size_t j = 0; j < k; j++) { /* the last and the runner-up tails */
            if (seq[j].n == 0)
                continue;
            const char *e = seq[j].p + (seq[j].n - 1) * l.esize;
            uint64_t kj = evt__key(e, l);
            uint32_t tj = evt__thread(e, l);
            if (best == SIZE_MAX || kj > bk || (kj == bk && tj > bt)) {
                if (best != SIZE_MAX)
                    runner = best, rk = bk, rt = bt;
                best = j, bk = kj, bt = tj;
            } else if (runner == SIZE_MAX || kj > rk || (kj == rk && tj > rt)) {
                runner = j, rk = kj, rt = tj;
            }
        }
        if (best == SIZE_MAX || (runner == SIZE_MAX && seq[best].p == (const char *)out))
            return;
        struct evt__seq *s = &seq[best];
        do {
            const char *e = s->p + --s->n * l.esize;
            o -= l.esize;
            if (o != e)
                memcpy(o, e, l.esize);
        } while (s->n && (runner == SIZE_MAX || evt__after(s->p + (s->n - 1) * l.esize, rk, rt, l)));
    }
}

#endif /* EVT_RUNSORT_H */
