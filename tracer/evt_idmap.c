/* evt_idmap.c -- see evt_idmap.h. */
#include <stdlib.h>

#include "evt_idmap.h"
#include "evtrace.h"

/* splitmix64's finaliser: request ids are often sequential or pointers,
 * which linear probing on the raw value would cluster. */
static size_t slot_of(const struct evt__idmap *m, uint64_t key)
{
    key ^= key >> 30;
    key *= 0xbf58476d1ce4e5b9ull;
    key ^= key >> 27;
    key *= 0x94d049bb133111ebull;
    key ^= key >> 31;
    return (size_t)key & (m->cap - 1);
}

static int grow(struct evt__idmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    struct evt__idmap_slot *old = m->slots, *s = calloc(cap, sizeof *s);
    if (!s)
        return EVT_ENOMEM;
    size_t old_cap = m->cap;
    m->slots = s;
    m->cap = cap;
    m->n = 0;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].used)
            evt__idmap_put(m, old[i].key, old[i].val);
    free(old);
    return 0;
}

uint64_t *evt__idmap_upsert(struct evt__idmap *m, uint64_t key, int *found)
{
    if ((m->n + 1) * 4 > m->cap * 3 && grow(m) < 0) /* load <= 3/4 */
        return NULL;
    size_t i = slot_of(m, key);
    while (m->slots[i].used && m->slots[i].key != key)
        i = (i + 1) & (m->cap - 1);
    *found = m->slots[i].used;
    if (!m->slots[i].used) {
        m->slots[i].used = 1;
        m->slots[i].key = key;
        m->slots[i].val = 0;
        m->n++;
    }
    return &m->slots[i].val;
}

int evt__idmap_put(struct evt__idmap *m, uint64_t key, uint64_t val)
{
    int found;
    uint64_t *v = evt__idmap_upsert(m, key, &found);
    if (!v)
        return EVT_ENOMEM;
    *v = val;
    return 0;
}

/* Index of key's slot, or m->cap if absent. */
static size_t find(const struct evt__idmap *m, uint64_t key)
{
    if (m->n == 0)
        return m->cap;
    for (size_t i = slot_of(m, key); m->slots[i].used; i = (i + 1) & (m->cap - 1))
        if (m->slots[i].key == key)
            return i;
    return m->cap;
}

uint64_t *evt__idmap_get(const struct evt__idmap *m, uint64_t key)
{
    size_t i = find(m, key);
    return i < m->cap ? &m->slots[i].val : NULL;
}

int evt__idmap_del(struct evt__idmap *m, uint64_t key)
{
    size_t hole = find(m, key);
    if (hole == m->cap)
        return 0;
    size_t mask = m->cap - 1;
    /* Backward shift: move later members of the probe run into the hole
     * when their home slot is not between the hole and themselves. */
    for (size_t j = (hole + 1) & mask; m->slots[j].used; j = (j + 1) & mask) {
        size_t home = slot_of(m, m->slots[j].key);
        if (((j - home) & mask) >= ((j - hole) & mask)) {
            m->slots[hole] = m->slots[j];
            hole = j;
        }
    }
    m->slots[hole].used = 0;
    m->n--;
    return 1;
}

struct evt__idmap_slot *evt__idmap_next(const struct evt__idmap *m, size_t *pos)
{
    for (size_t i = *pos; i < m->cap; i++)
        if (m->slots[i].used) {
            *pos = i + 1;
            return &m->slots[i];
        }
    *pos = m->cap;
    return NULL;
}

void evt__idmap_free(struct evt__idmap *m)
{
    free(m->slots);
    m->slots = NULL;
    m->cap = m->n = 0;
}
