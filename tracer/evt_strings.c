/* evt_strings.c -- interned names: each distinct string gets one id, for the
 * life of the tracer, and goes into the file once.
 *
 * evt_intern takes a mutex and may allocate: programs intern their names at
 * start-up and pass ids on the hot path. Ids are dense (1, 2, ...), so the
 * flusher knows which strings are new by a single counter (written): after
 * draining the rings it encodes ids written+1..n, which includes every id a
 * drained event can hold, since an id exists before any event carries it.
 */
#include <stdlib.h>
#include <string.h>

#include "evt_internal.h"

/* FNV-1a: short keys, no need for anything stronger. */
static uint32_t str_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

int evt__strings_init(struct evt__strings *s, struct evt__shm *shm)
{
    memset(s, 0, sizeof *s);
    s->shm = shm;
    return evt__mutex_init(&s->mu, shm != NULL) ? EVT_ENOMEM : 0;
}

void evt__strings_free(struct evt__strings *s)
{
    for (size_t i = 0; i < s->n; i++)
        evt__shm_free(s->shm, s->text[i], strlen(s->text[i]) + 1);
    evt__shm_free(s->shm, s->text, s->cap * sizeof *s->text);
    evt__shm_free(s->shm, s->hash, s->hash_cap * sizeof *s->hash);
    pthread_mutex_destroy(&s->mu);
}

static void hash_put(uint32_t *hash, size_t cap, const char *text, uint32_t id)
{
    size_t j = str_hash(text) & (cap - 1);
    while (hash[j])
        j = (j + 1) & (cap - 1);
    hash[j] = id;
}

/* Keeps the hash at most half full and text[] with room for one more. */
static int strings_reserve(struct evt__strings *s)
{
    if (s->n >= EVT_MAX_STRING_ID)
        return -1;   /* the format's limit: more names stay unnamed (id 0) */
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        char **text = evt__shm_realloc(s->shm, s->text, s->cap * sizeof *text, cap * sizeof *text);
        if (!text)
            return -1;
        s->text = text;
        s->cap = cap;
    }
    if ((s->n + 1) * 2 > s->hash_cap) {
        size_t cap = s->hash_cap ? s->hash_cap * 2 : 128;
        uint32_t *hash = evt__shm_calloc(s->shm, cap * sizeof *hash);
        if (!hash)
            return -1;
        for (size_t i = 0; i < s->n; i++)
            hash_put(hash, cap, s->text[i], (uint32_t)(i + 1));
        evt__shm_free(s->shm, s->hash, s->hash_cap * sizeof *hash);
        s->hash = hash;
        s->hash_cap = cap;
    }
    return 0;
}

static uint32_t strings_find(const struct evt__strings *s, const char *name)
{
    if (!s->hash_cap)
        return 0;
    for (size_t j = str_hash(name) & (s->hash_cap - 1); s->hash[j]; j = (j + 1) & (s->hash_cap - 1))
        if (strcmp(s->text[s->hash[j] - 1], name) == 0)
            return s->hash[j];
    return 0;
}

uint32_t evt__strings_intern(struct evt__strings *s, const char *name)
{
    if (!name)
        return 0;
    pthread_mutex_lock(&s->mu);
    uint32_t id = strings_find(s, name);
    if (!id && strings_reserve(s) == 0) {
        size_t len = strlen(name) + 1;
        char *copy = evt__shm_calloc(s->shm, len);
        if (copy) {
            memcpy(copy, name, len);
            s->text[s->n++] = copy;
            id = (uint32_t)s->n;
            hash_put(s->hash, s->hash_cap, copy, id);
        }
    }
    pthread_mutex_unlock(&s->mu);
    return id;
}

void evt__strings_encode(struct evt__strings *s, evt__enc *e, uint64_t now_ns, int peer_dead)
{
    int locked = evt__mutex_lock(&s->mu, peer_dead);
    for (size_t i = s->written; i < s->n; i++)
        evt__enc_string(e, now_ns, (uint32_t)(i + 1), s->text[i]);
    s->written = (uint32_t)s->n;
    if (locked)
        pthread_mutex_unlock(&s->mu);
}
