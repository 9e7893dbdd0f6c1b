/* red_cell_state - measure states of a cell: keyed entries, freeing, merge. */
#include "red_cell_state.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- states ------------------------------------------------------- */

void red_cell_state_init(red_mstate_t *m, size_t cnt)
{
        memset(m, 0, cnt * sizeof(*m));
        for (size_t i = 0; i < cnt; i++) {
                m[i].min = INFINITY;
                m[i].max = -INFINITY;
        }
}

static void red_cell_state_keyed_free(red_keyed_t *k, const red_measure_t *ms);

/* @p cnt empty states (at least one allocated), or NULL on OOM. Free
 * with red_cell_state_free() and free(). */
static red_mstate_t *red_cell_state_new(size_t cnt)
{
        red_mstate_t *m = malloc((cnt ? cnt : 1) * sizeof(*m));

        if (m) {
                red_cell_state_init(m, cnt);
        }
        return m;
}

void red_cell_state_free(red_mstate_t *m, const red_measure_t *ms, size_t cnt)
{
        for (size_t i = 0; i < cnt; i++) {
                red_sketch_destroy(m[i].sk);
                red_cell_state_keyed_free(m[i].keyed, &ms[i]);
        }
}

/* --- keyed entries ------------------------------------------------ */

static void red_cell_state_keyed_free(red_keyed_t *k, const red_measure_t *ms)
{
        if (!k) {
                return;
        }
        for (size_t i = 0; i < k->cnt; i++) {
                if (k->items[i]->sub) {
                        red_cell_state_free(k->items[i]->sub, ms->sub,
                                            ms->sub_cnt);
                        free(k->items[i]->sub);
                }
                free(k->items[i]->key);
                free(k->items[i]);
        }
        free(k->items);
        red_map_destroy(k->map);
        free(k);
}

typedef struct ekey_s {
        const char *p;
        size_t len;
} ekey_t;

static bool entry_eq(const void *item, const void *key)
{
        const red_keyed_entry_t *e = item;
        const ekey_t *k = key;

        return e->len == k->len && !memcmp(e->key, k->p, k->len);
}

/* Builds the hash map of a keyed set that outgrew the linear search. */
static int keyed_index(red_keyed_t *k)
{
        if (!(k->map = red_map_new())) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < k->cnt; i++) {
                red_keyed_entry_t *e = k->items[i];
                e->hash = red_map_hash_bytes(e->key, e->len, 0);
                if (red_map_insert(k->map, e->hash, e)) {
                        red_map_destroy(k->map);
                        k->map = NULL;
                        return -ENOMEM;
                }
        }
        return 0;
}

/* A new entry for (p, len), NUL-terminated (the value may hold NULs, so
 * not strndup). NULL on OOM. */
static red_keyed_entry_t *entry_new(const red_measure_t *ms, const char *p,
                                    size_t len, uint64_t hash)
{
        red_keyed_entry_t *e = calloc(1, sizeof(*e));

        if (!e || !(e->key = malloc(len + 1))) {
                goto err;
        }
        memcpy(e->key, p, len);
        e->key[len] = '\0';
        e->len = len;
        e->hash = hash;
        e->time = INT64_MIN;
        if (ms->kind == RED_MEAS_BY &&
            !(e->sub = red_cell_state_new(ms->sub_cnt))) {
                goto err;
        }
        return e;
err:
        if (e) {
                free(e->key);
        }
        free(e);
        return NULL;
}

red_keyed_entry_t *red_cell_state_keyed_get(red_keyed_t **kp,
                                            const red_measure_t *ms,
                                            const char *p, size_t len)
{
        ekey_t key = {p, len};
        red_keyed_t *k = *kp;
        red_keyed_entry_t *e;
        uint64_t h = 0;

        if (!k && !(k = *kp = calloc(1, sizeof(*k)))) {
                return NULL;
        }
        if (!k->map) {
                for (size_t i = 0; i < k->cnt; i++) {
                        e = k->items[i];
                        if (e->len == len && !memcmp(e->key, p, len)) {
                                return e;
                        }
                }
                if (k->cnt == RED_KEYED_LINEAR && keyed_index(k)) {
                        return NULL;
                }
        }
        if (k->map) {
                h = red_map_hash_bytes(p, len, 0);
                if ((e = red_map_find(k->map, h, entry_eq, &key))) {
                        return e;
                }
        }
        if (k->cnt == k->cap) {
                size_t ncap = k->cap ? k->cap * 2 : 8;
                red_keyed_entry_t **ni = realloc(k->items, ncap * sizeof(*ni));
                if (!ni) {
                        return NULL;
                }
                k->items = ni;
                k->cap = ncap;
        }
        if (!(e = entry_new(ms, p, len, h))) {
                return NULL;
        }
        if (k->map && red_map_insert(k->map, h, e)) {
                free(e->sub);
                free(e->key);
                free(e);
                return NULL;
        }
        k->items[k->cnt++] = e;
        return e;
}

static int cmp_entry(const void *a, const void *b)
{
        const red_keyed_entry_t *x = *(red_keyed_entry_t *const *)a;
        const red_keyed_entry_t *y = *(red_keyed_entry_t *const *)b;
        size_t n = x->len < y->len ? x->len : y->len;
        int r = memcmp(x->key, y->key, n);

        return r ? r : (x->len < y->len ? -1 : x->len > y->len);
}

void red_cell_state_keyed_sort(red_keyed_t *k)
{
        if (k && k->cnt > 1) {
                qsort(k->items, k->cnt, sizeof(*k->items), cmp_entry);
        }
}

/* --- recent values ------------------------------------------------- */

/* Newer first: larger time, then smaller value. */
static int cmp_recent(const void *a, const void *b)
{
        const red_keyed_entry_t *x = *(red_keyed_entry_t *const *)a;
        const red_keyed_entry_t *y = *(red_keyed_entry_t *const *)b;

        if (x->time != y->time) {
                return x->time > y->time ? -1 : 1;
        }
        return cmp_entry(a, b);
}

int red_cell_state_recent_note(red_keyed_t **kp, const red_measure_t *ms,
                               const char *p, size_t len, red_time_t time)
{
        red_keyed_entry_t *e = red_cell_state_keyed_get(kp, ms, p, len);
        red_keyed_t *k = *kp;
        size_t old = 0;

        if (!e) {
                return -ENOMEM;
        }
        if (time > e->time) {
                e->time = time;
        }
        if (k->cnt <= (size_t)ms->keep) {
                return 0;
        }
        /* one too many: drop the oldest (swap-remove; order is made when
         * written or rendered) */
        for (size_t i = 1; i < k->cnt; i++) {
                if (cmp_recent(&k->items[i], &k->items[old]) > 0) {
                        old = i;
                }
        }
        free(k->items[old]->key);
        free(k->items[old]);
        k->items[old] = k->items[--k->cnt];
        return 0;
}

size_t red_cell_state_recent_order(const red_keyed_t *k,
                                   const red_keyed_entry_t **out)
{
        size_t n = k ? k->cnt : 0;

        for (size_t i = 0; i < n; i++) {
                out[i] = k->items[i];
        }
        if (n > 1) {
                qsort(out, n, sizeof(*out), cmp_recent);
        }
        return n;
}

/* --- merge -------------------------------------------------------- */

static int weight_range(const red_measure_t *ms, char *errstr, size_t size)
{
        snprintf(errstr, size,
                 "measure %s: the merged weighted count leaves its range "
                 "(2^64 weight units)",
                 ms->name);
        return -ERANGE;
}

/*
 * Merge is what makes cells deltas: counts and sums add, min/max fold,
 * sketches add their buckets, keyed entries merge by value. All of it is
 * commutative and associative, so workers may merge in any order.
 */
static int merge_one(red_mstate_t *d, const red_mstate_t *s,
                     const red_measure_t *ms, char *errstr, size_t size)
{
        red_i128_t sum;
        uint64_t w;
        int r;

        /* a sum never wraps: the merge that would leave its range fails */
        if (__builtin_add_overflow(d->sum, s->sum, &sum)) {
                snprintf(errstr, size,
                         "measure %s: the merged sum leaves the range of a "
                         "cell's sum (+-1.7e38 units of 1e-%d)",
                         ms->name, ms->precision);
                return -ERANGE;
        }
        if (__builtin_add_overflow(d->w, s->w, &w)) {
                return weight_range(ms, errstr, size);
        }
        d->n += s->n;
        d->w = w;
        if (s->wmin && (!d->wmin || s->wmin < d->wmin)) {
                d->wmin = s->wmin;
        }
        d->sum = sum;
        if (s->min < d->min) {
                d->min = s->min;
        }
        if (s->max > d->max) {
                d->max = s->max;
        }
        if (s->sk) {
                if (!d->sk) {
                        if (!(d->sk = red_sketch_dup(s->sk))) {
                                return -ENOMEM;
                        }
                } else if ((r = red_sketch_merge(d->sk, s->sk))) {
                        if (r == -EOVERFLOW) {
                                snprintf(errstr, size,
                                         "measure %s: the merged sketch's "
                                         "count leaves its range",
                                         ms->name);
                                return -ERANGE;
                        }
                        if (r == -EINVAL) {
                                snprintf(errstr, size,
                                         "measure %s: sketches of relative "
                                         "accuracy %g and %g cannot be "
                                         "merged (changing "
                                         "sketch.relative_accuracy needs a "
                                         "new table)",
                                         ms->name, red_sketch_alpha(d->sk),
                                         red_sketch_alpha(s->sk));
                        }
                        return r;
                }
        }
        if (s->keyed && ms->kind == RED_MEAS_RECENT) {
                for (size_t i = 0; i < s->keyed->cnt; i++) {
                        const red_keyed_entry_t *se = s->keyed->items[i];
                        if (red_cell_state_recent_note(&d->keyed, ms, se->key,
                                                       se->len, se->time)) {
                                return -ENOMEM;
                        }
                }
        } else if (s->keyed) {
                for (size_t i = 0; i < s->keyed->cnt; i++) {
                        const red_keyed_entry_t *se = s->keyed->items[i];
                        red_keyed_entry_t *de = red_cell_state_keyed_get(
                                &d->keyed, ms, se->key, se->len);
                        if (!de) {
                                return -ENOMEM;
                        }
                        if (__builtin_add_overflow(de->w, se->w, &w)) {
                                return weight_range(ms, errstr, size);
                        }
                        de->w = w;
                        de->count += se->count;
                        if (se->sub && (r = red_cell_state_merge(
                                                de->sub, se->sub, ms->sub,
                                                ms->sub_cnt, errstr, size))) {
                                return r;
                        }
                }
        }
        return 0;
}

int red_cell_state_merge(red_mstate_t *dst, const red_mstate_t *src,
                         const red_measure_t *ms, size_t cnt, char *errstr,
                         size_t errstr_size)
{
        for (size_t i = 0; i < cnt; i++) {
                int r = merge_one(&dst[i], &src[i], &ms[i], errstr,
                                  errstr_size);
                if (r) {
                        return r;
                }
        }
        return 0;
}
