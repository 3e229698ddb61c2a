/* evt_idmap.h -- a map from 64-bit ids to 64-bit values (internal).
 *
 * The reader area needs one in two places: the model finds the open request
 * of a REQ_PHASE/REQ_END by its id, and the exporter remembers each live
 * request's current phase. Open addressing with linear probing and
 * backward-shift deletion (no tombstones), so a map that sees millions of
 * inserts and deletes but holds only the live requests stays small and
 * fast. Not thread-safe; zero-initialise, then use.
 */
#ifndef EVT_IDMAP_H
#define EVT_IDMAP_H

#include <stddef.h>
#include <stdint.h>

struct evt__idmap_slot {
    uint64_t key;
    uint64_t val;
    int used;
};

struct evt__idmap {
    struct evt__idmap_slot *slots;
    size_t cap;   /* a power of two, or 0 */
    size_t n;
};

/* Inserts or replaces; returns 0 or EVT_ENOMEM. */
int evt__idmap_put(struct evt__idmap *m, uint64_t key, uint64_t val);

/* Returns a pointer to key's value, inserting the key with value 0 if it
 * was absent (*found says which): one probe where get + put take two.
 * NULL when out of memory. Valid until the next put/upsert/del. */
uint64_t *evt__idmap_upsert(struct evt__idmap *m, uint64_t key, int *found);

/* Returns a pointer to key's value, or NULL. Valid until the next put/del. */
uint64_t *evt__idmap_get(const struct evt__idmap *m, uint64_t key);

/* Removes key; returns 1 if it was there. */
int evt__idmap_del(struct evt__idmap *m, uint64_t key);

/* Iterates: start with pos = 0; returns the next used slot at or after
 * pos, or NULL at the end. Continue with pos = returned index + 1. */
struct evt__idmap_slot *evt__idmap_next(const struct evt__idmap *m, size_t *pos);

void evt__idmap_free(struct evt__idmap *m);

#endif /* EVT_IDMAP_H */
