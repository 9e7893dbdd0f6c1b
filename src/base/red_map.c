/* red_map - open addressing (linear probing) over caller-hashed item pointers.
 */
#include "red_map.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct slot_s {
        uint64_t hash;
        void *item; /* NULL: empty */
} slot_t;

struct red_map_s {
        slot_t *slots;
        size_t cap; /* power of two */
        size_t cnt;
};

red_map_t *red_map_new(void)
{
        red_map_t *m = calloc(1, sizeof(*m));

        if (!m) {
                return NULL;
        }
        m->cap = 16;
        m->slots = calloc(m->cap, sizeof(*m->slots));
        if (!m->slots) {
                free(m);
                return NULL;
        }
        return m;
}

void red_map_destroy(red_map_t *m)
{
        if (!m) {
                return;
        }
        free(m->slots);
        free(m);
}

void *red_map_find(const red_map_t *m, uint64_t hash, red_map_eq_cb *eq,
                   const void *key)
{
        size_t mask = m->cap - 1;

        for (size_t i = hash & mask;; i = (i + 1) & mask) {
                const slot_t *s = &m->slots[i];
                if (!s->item) {
                        return NULL;
                }
                if (s->hash == hash && eq(s->item, key)) {
                        return s->item;
                }
        }
}

static void place(slot_t *slots, size_t cap, uint64_t hash, void *item)
{
        size_t mask = cap - 1, i = hash & mask;

        while (slots[i].item) {
                i = (i + 1) & mask;
        }
        slots[i].hash = hash;
        slots[i].item = item;
}

int red_map_insert(red_map_t *m, uint64_t hash, void *item)
{
        if ((m->cnt + 1) * 4 > m->cap * 3) {
                size_t ncap = m->cap * 2;
                slot_t *ns = calloc(ncap, sizeof(*ns));
                if (!ns) {
                        return -ENOMEM;
                }
                for (size_t i = 0; i < m->cap; i++) {
                        if (m->slots[i].item) {
                                place(ns, ncap, m->slots[i].hash,
                                      m->slots[i].item);
                        }
                }
                free(m->slots);
                m->slots = ns;
                m->cap = ncap;
        }
        place(m->slots, m->cap, hash, item);
        m->cnt++;
        return 0;
}

void red_map_clear(red_map_t *m)
{
        memset(m->slots, 0, m->cap * sizeof(*m->slots));
        m->cnt = 0;
}

size_t red_map_count(const red_map_t *m)
{
        return m->cnt;
}

void *red_map_next(const red_map_t *m, size_t *pos)
{
        while (*pos < m->cap) {
                void *item = m->slots[(*pos)++].item;
                if (item) {
                        return item;
                }
        }
        return NULL;
}

uint64_t red_map_hash_bytes(const void *data, size_t len, uint64_t seed)
{
        const unsigned char *p = data;
        uint64_t h = 0xcbf29ce484222325ULL ^ seed, w;
        size_t n = len;

        /* eight bytes a step (a multiply per word, not per byte); the
         * finaliser below spreads the bits */
        for (; n >= 8; p += 8, n -= 8) {
                memcpy(&w, p, 8);
                h = (h ^ w) * 0x9fb21c651e98df25ULL;
                h ^= h >> 32;
        }
        w = 0;
        memcpy(&w, p, n);
        h = (h ^ w) * 0x9fb21c651e98df25ULL;
        return red_map_hash_mix(h, len);
}

uint64_t red_map_hash_mix(uint64_t h, uint64_t v)
{
        /* splitmix64 finaliser over the combination */
        h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
        h ^= h >> 30;
        h *= 0xbf58476d1ce4e5b9ULL;
        h ^= h >> 27;
        h *= 0x94d049bb133111ebULL;
        h ^= h >> 31;
        return h;
}
