/* red_seen - stored dedupe keys in memory, bounded, with coverage. */
#include "red_seen.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* A stored key: its hash, the time of its event, its partition. */
typedef struct pair_s {
        uint64_t hash;
        red_time_t time;
        uint32_t part;
} pair_t;

/*
 * The pairs live in a ring in the order added (the oldest is evicted
 * first); an open-addressing index of ring positions + 1 (0: empty),
 * probed linearly from the hash, finds them. Removal shifts the run
 * back, so a probe stops at the first empty slot. Several pairs may share
 * a hash (one key stored at times further apart than the horizon).
 *
 * The evicted pairs go into Bloom filters, so that a key the ring no
 * longer holds still has an answer: "not stored" for sure, or "maybe"
 * (then the table decides). A generation takes as many keys as the ring
 * holds, at 16 bits per key (about one in 1 400 answers "maybe" wrongly);
 * the next one starts when it is full, and the oldest is dropped beyond
 * BLOOM_GENERATIONS. Its time range is then unknown, and events whose
 * horizon reaches it are asked about.
 */
#define BLOOM_GENERATIONS  16
#define BLOOM_BITS_PER_KEY 16
#define BLOOM_PROBES       7
#define BLOOM_MAX_BITS     ((size_t)1 << 36)

typedef struct bloom_s {
        uint64_t *bits;
        size_t keys;           /* added */
        red_time_t tmin, tmax; /* of the pairs added */
} bloom_t;

struct red_seen_s {
        size_t capacity;
        int64_t horizon;
        pair_t *ring;
        size_t ring_cap, head, cnt; /* ring[head] is the oldest */
        uint32_t *index;
        size_t index_mask;
        red_time_t *cover; /* per partition; INT64_MAX: nothing covered */
        size_t cover_cnt;
        bloom_t blooms[BLOOM_GENERATIONS]; /* blooms[0] the oldest */
        size_t bloom_cnt;
        size_t bloom_mask; /* bits per generation - 1 (a power of two) */
        red_time_t lost;   /* newest time of a dropped generation, or
                              INT64_MIN: every evicted key is known */
};

red_seen_t *red_seen_new(size_t capacity, int64_t horizon_us)
{
        red_seen_t *s = calloc(1, sizeof(*s));

        if (!s) {
                return NULL;
        }
        s->capacity = capacity ? capacity : 1;
        s->horizon = horizon_us < 0 ? 0 : horizon_us;
        s->lost = INT64_MIN;
        return s;
}

void red_seen_destroy(red_seen_t *s)
{
        if (!s) {
                return;
        }
        free(s->ring);
        free(s->index);
        free(s->cover);
        for (size_t g = 0; g < s->bloom_cnt; g++) {
                free(s->blooms[g].bits);
        }
        free(s);
}

size_t red_seen_count(const red_seen_t *s)
{
        return s->cnt;
}

/* --- coverage ------------------------------------------------------- */

static int cover_room(red_seen_t *s, uint32_t part)
{
        red_time_t *nc;
        size_t ncnt;

        if (part < s->cover_cnt) {
                return 0;
        }
        ncnt = (size_t)part + 16;
        if (!(nc = realloc(s->cover, ncnt * sizeof(*nc)))) {
                return -ENOMEM;
        }
        for (size_t i = s->cover_cnt; i < ncnt; i++) {
                nc[i] = INT64_MAX;
        }
        s->cover = nc;
        s->cover_cnt = ncnt;
        return 0;
}

int red_seen_cover(red_seen_t *s, uint32_t part, red_time_t from)
{
        if (cover_room(s, part)) {
                return -ENOMEM;
        }
        s->cover[part] = from;
        return 0;
}

void red_seen_uncover(red_seen_t *s, uint32_t part)
{
        if (part < s->cover_cnt) {
                s->cover[part] = INT64_MAX;
        }
}

bool red_seen_covered(const red_seen_t *s, uint32_t part)
{
        return part < s->cover_cnt && s->cover[part] != INT64_MAX;
}

/* --- the index ------------------------------------------------------ */

static size_t slot_of(const red_seen_t *s, uint64_t hash)
{
        /* the hash's high bits: callers' hashes are well mixed */
        return (size_t)(hash >> 17) & s->index_mask;
}

static void index_put(red_seen_t *s, size_t pos)
{
        size_t i = slot_of(s, s->ring[pos].hash);

        while (s->index[i]) {
                i = (i + 1) & s->index_mask;
        }
        s->index[i] = (uint32_t)(pos + 1);
}

/* Takes ring position @p pos out of the index (backward-shift removal). */
static void index_remove(red_seen_t *s, size_t pos)
{
        size_t i = slot_of(s, s->ring[pos].hash), j;

        while (s->index[i] != pos + 1) {
                i = (i + 1) & s->index_mask;
        }
        s->index[i] = 0;
        for (j = (i + 1) & s->index_mask; s->index[j];
             j = (j + 1) & s->index_mask) {
                size_t home = slot_of(s, s->ring[s->index[j] - 1].hash);
                /* an item moves back unless its home lies in (i, j] */
                bool stays = i <= j ? (home > i && home <= j)
                                    : (home > i || home <= j);
                if (!stays) {
                        s->index[i] = s->index[j];
                        s->index[j] = 0;
                        i = j;
                }
        }
}

/* Room for one more pair before the ring is full: the ring doubles (it
 * has not wrapped yet) and the index is rebuilt twice its size. */
static int grow(red_seen_t *s)
{
        size_t ncap, isize = 16;
        pair_t *nr;
        uint32_t *ni;

        if (s->cnt < s->ring_cap) {
                return 0;
        }
        ncap = s->ring_cap ? s->ring_cap * 2 : 1024;
        if (ncap > s->capacity) {
                ncap = s->capacity;
        }
        while (isize < 2 * ncap) {
                isize *= 2;
        }
        if (!(nr = realloc(s->ring, ncap * sizeof(*nr)))) {
                return -ENOMEM;
        }
        s->ring = nr;
        if (!(ni = calloc(isize, sizeof(*ni)))) {
                return -ENOMEM;
        }
        free(s->index);
        s->index = ni;
        s->index_mask = isize - 1;
        s->ring_cap = ncap;
        for (size_t p = 0; p < s->cnt; p++) {
                index_put(s, p);
        }
        return 0;
}

/* --- the evicted keys ----------------------------------------------- */

/* The i-th bit position of @p hash (double hashing; the second hash is
 * odd, so the probes differ). */
static size_t bloom_bit(const red_seen_t *s, uint64_t hash, unsigned i)
{
        uint64_t h2 = (hash * 0x9e3779b97f4a7c15ull) >> 32 | 1;

        return (size_t)(hash + i * h2) & s->bloom_mask;
}

/* The generation taking the next evicted key: a new one when there is
 * none or the newest is full, the oldest dropped beyond the limit. NULL
 * on OOM. */
static bloom_t *bloom_current(red_seen_t *s)
{
        bloom_t *b = s->bloom_cnt ? &s->blooms[s->bloom_cnt - 1] : NULL;
        size_t bits;
        uint64_t *nb;

        if (b && b->keys < s->capacity) {
                return b;
        }
        if (!s->bloom_mask) {
                /* evictions happen at capacity only: a real size */
                bits = 64;
                while (bits < BLOOM_MAX_BITS &&
                       bits / BLOOM_BITS_PER_KEY < s->capacity) {
                        bits *= 2;
                }
                s->bloom_mask = bits - 1;
        }
        if (!(nb = calloc((s->bloom_mask + 1) / 64, sizeof(*nb)))) {
                return NULL;
        }
        if (s->bloom_cnt == BLOOM_GENERATIONS) {
                if (s->blooms[0].tmax > s->lost) {
                        s->lost = s->blooms[0].tmax;
                }
                free(s->blooms[0].bits);
                memmove(&s->blooms[0], &s->blooms[1],
                        (BLOOM_GENERATIONS - 1) * sizeof(s->blooms[0]));
                s->bloom_cnt--;
        }
        b = &s->blooms[s->bloom_cnt++];
        b->bits = nb;
        b->keys = 0;
        b->tmin = INT64_MAX;
        b->tmax = INT64_MIN;
        return b;
}

static void bloom_add(const red_seen_t *s, bloom_t *b, const pair_t *p)
{
        for (unsigned i = 0; i < BLOOM_PROBES; i++) {
                size_t bit = bloom_bit(s, p->hash, i);
                b->bits[bit / 64] |= UINT64_C(1) << (bit % 64);
        }
        b->keys++;
        b->tmin = p->time < b->tmin ? p->time : b->tmin;
        b->tmax = p->time > b->tmax ? p->time : b->tmax;
}

static bool bloom_maybe(const red_seen_t *s, const bloom_t *b, uint64_t hash)
{
        for (unsigned i = 0; i < BLOOM_PROBES; i++) {
                size_t bit = bloom_bit(s, hash, i);
                if (!(b->bits[bit / 64] >> (bit % 64) & 1)) {
                        return false;
                }
        }
        return true;
}

/* Whether a key evicted from the ring may match @p hash within the
 * horizon of @p t (true also when that time range was forgotten). */
static bool evicted_maybe(const red_seen_t *s, uint64_t hash, red_time_t t)
{
        red_time_t lo = t - s->horizon, hi = t + s->horizon;

        if (s->lost != INT64_MIN && lo <= s->lost) {
                return true;
        }
        for (size_t g = 0; g < s->bloom_cnt; g++) {
                const bloom_t *b = &s->blooms[g];
                if (b->tmin <= hi && b->tmax >= lo && bloom_maybe(s, b, hash)) {
                        return true;
                }
        }
        return false;
}

/* --- adding and checking -------------------------------------------- */

/* Evicts the oldest pair into the current Bloom generation; without one
 * (OOM), its partition is covered only past its time. */
static void evict(red_seen_t *s)
{
        const pair_t *old = &s->ring[s->head];
        bloom_t *b = bloom_current(s);

        if (b) {
                bloom_add(s, b, old);
        } else if (old->part < s->cover_cnt &&
                   s->cover[old->part] != INT64_MAX &&
                   s->cover[old->part] <= old->time) {
                s->cover[old->part] = old->time + 1;
        }
        index_remove(s, s->head);
        s->head = (s->head + 1) % s->ring_cap;
        s->cnt--;
}

int red_seen_add(red_seen_t *s, uint32_t part, uint64_t hash, red_time_t t)
{
        size_t pos;

        if (s->cnt == s->capacity) {
                evict(s);
        } else if (grow(s)) {
                return -ENOMEM;
        }
        pos = (s->head + s->cnt) % s->ring_cap;
        s->ring[pos].hash = hash;
        s->ring[pos].time = t;
        s->ring[pos].part = part;
        s->cnt++;
        index_put(s, pos);
        return 0;
}

red_seen_verdict_t red_seen_check(const red_seen_t *s, uint32_t part,
                                  uint64_t hash, red_time_t t)
{
        if (s->cnt) {
                for (size_t i = slot_of(s, hash); s->index[i];
                     i = (i + 1) & s->index_mask) {
                        const pair_t *p = &s->ring[s->index[i] - 1];
                        if (p->hash == hash &&
                            (p->time > t ? p->time - t : t - p->time) <=
                                    s->horizon) {
                                return RED_SEEN_DUP;
                        }
                }
        }
        if (part < s->cover_cnt && s->cover[part] != INT64_MAX &&
            (s->cover[part] == INT64_MIN || t - s->horizon >= s->cover[part]) &&
            !evicted_maybe(s, hash, t)) {
                return RED_SEEN_NEW;
        }
        return RED_SEEN_ASK;
}
