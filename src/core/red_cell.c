/* red_cell - mergeable aggregation state of one cell, its serialisation and rendering. */
#include "red_cell.h"

#include "red_expr.h"
#include "red_map.h"
#include "red_sketch.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__extension__ typedef __int128 i128;

typedef struct keyed_s keyed_t;

/* State of one measure. Which members are used depends on its kind. */
typedef struct mstate_s {
        uint64_t n;     /* COUNT: the count; SUM/STATS/SKETCH: values seen */
        i128 sum;       /* in 10^-precision units */
        double min, max;
        red_sketch_t *sk;
        keyed_t *keyed; /* COUNT_BY, BY */
} mstate_t;

/* One distinct value of a COUNT_BY or BY measure. */
typedef struct entry_s {
        char *key;
        size_t len;
        uint64_t hash;
        uint64_t count; /* COUNT_BY */
        mstate_t *sub;  /* BY: one state per sub-measure */
} entry_t;

/* Entries are searched linearly while few (stage names, error codes: no
 * hashing per event and cell); past KEYED_LINEAR they get a hash map. */
#define KEYED_LINEAR 16

struct keyed_s {
        red_map_t *map; /* NULL while cnt <= KEYED_LINEAR */
        entry_t **items;
        size_t cnt, cap;
};

struct red_cell_s {
        const red_agg_t *agg;
        red_window_type_t wt;
        red_time_t start;
        int grouping;
        uint64_t hash;
        double alpha;
        uint64_t events;
        char **keys;
        size_t *lens;
        mstate_t m[];
};

static const double pow10_tab[] = {1e0, 1e1, 1e2, 1e3, 1e4,
                                   1e5, 1e6, 1e7, 1e8, 1e9};

/* ------------------------------------------------------------------ */
/* keys                                                                */
/* ------------------------------------------------------------------ */

/* A NUL-terminated copy of @p len bytes (which may hold NULs: not strndup). */
static char *dup_bytes(const char *p, size_t len)
{
        char *d = malloc(len + 1);

        if (d) {
                memcpy(d, p, len);
                d[len] = '\0';
        }
        return d;
}

uint64_t red_cell_group_hash(const red_agg_t *agg, int grouping,
                             const char *const *keys, const size_t *lens)
{
        uint64_t h = red_hash_mix((uint64_t)agg->index, (uint64_t)grouping);

        for (size_t i = 0; i < agg->key_cnt; i++) {
                h = red_hash_mix(h, red_hash_bytes(keys[i], lens[i], i));
        }
        return h;
}

uint64_t red_cell_key_hash(const red_cell_key_t *key)
{
        return red_hash_mix(key->group_hash ^ (uint64_t)key->wt,
                            (uint64_t)key->start);
}

bool red_cell_key_eq(const void *item, const void *k)
{
        const red_cell_t *cell = item;
        const red_cell_key_t *key = k;

        if (cell->agg != key->agg || cell->wt != key->wt ||
            cell->start != key->start || cell->grouping != key->grouping) {
                return false;
        }
        for (size_t i = 0; i < key->agg->key_cnt; i++) {
                if (cell->lens[i] != key->lens[i] ||
                    memcmp(cell->keys[i], key->keys[i], key->lens[i])) {
                        return false;
                }
        }
        return true;
}

uint64_t red_cell_hash(const red_cell_t *cell)
{
        return cell->hash;
}

red_cell_t *red_cell_new(const red_cell_key_t *key, double alpha)
{
        const red_agg_t *a = key->agg;
        red_cell_t *cell = calloc(1, sizeof(*cell) +
                                             a->measure_cnt * sizeof(mstate_t));

        if (!cell) {
                return NULL;
        }
        cell->agg = a;
        cell->wt = key->wt;
        cell->start = key->start;
        cell->grouping = key->grouping;
        cell->alpha = alpha;
        cell->hash = red_cell_key_hash(key);
        cell->keys = calloc(a->key_cnt + 1, sizeof(*cell->keys));
        cell->lens = calloc(a->key_cnt + 1, sizeof(*cell->lens));
        if (!cell->keys || !cell->lens) {
                red_cell_destroy(cell);
                return NULL;
        }
        for (size_t i = 0; i < a->key_cnt; i++) {
                cell->keys[i] = dup_bytes(key->keys[i], key->lens[i]);
                if (!cell->keys[i]) {
                        red_cell_destroy(cell);
                        return NULL;
                }
                cell->lens[i] = key->lens[i];
        }
        for (size_t i = 0; i < a->measure_cnt; i++) {
                cell->m[i].min = INFINITY;
                cell->m[i].max = -INFINITY;
        }
        return cell;
}

static void mstates_free(mstate_t *m, const red_measure_t *ms, size_t cnt);

static void keyed_free(keyed_t *k, const red_measure_t *ms)
{
        if (!k) {
                return;
        }
        for (size_t i = 0; i < k->cnt; i++) {
                if (k->items[i]->sub) {
                        mstates_free(k->items[i]->sub, ms->sub, ms->sub_cnt);
                        free(k->items[i]->sub);
                }
                free(k->items[i]->key);
                free(k->items[i]);
        }
        free(k->items);
        red_map_destroy(k->map);
        free(k);
}

static void mstates_free(mstate_t *m, const red_measure_t *ms, size_t cnt)
{
        for (size_t i = 0; i < cnt; i++) {
                red_sketch_destroy(m[i].sk);
                keyed_free(m[i].keyed, &ms[i]);
        }
}

void red_cell_destroy(red_cell_t *cell)
{
        if (!cell) {
                return;
        }
        mstates_free(cell->m, cell->agg->measures, cell->agg->measure_cnt);
        for (size_t i = 0; cell->keys && i < cell->agg->key_cnt; i++) {
                free(cell->keys[i]);
        }
        free(cell->keys);
        free(cell->lens);
        free(cell);
}

const red_agg_t *red_cell_agg(const red_cell_t *cell)
{
        return cell->agg;
}

red_window_type_t red_cell_window_type(const red_cell_t *cell)
{
        return cell->wt;
}

red_time_t red_cell_window_start(const red_cell_t *cell)
{
        return cell->start;
}

red_time_t red_cell_window_end(const red_cell_t *cell)
{
        return red_window_end(cell->wt, cell->start);
}

int red_cell_grouping(const red_cell_t *cell)
{
        return cell->grouping;
}

const char *red_cell_key(const red_cell_t *cell, size_t i)
{
        return cell->keys[i];
}

size_t red_cell_key_len(const red_cell_t *cell, size_t i)
{
        return cell->lens[i];
}

uint64_t red_cell_events(const red_cell_t *cell)
{
        return cell->events;
}

void red_cell_id(const red_cell_t *cell, red_uuid_t *out)
{
        char ts[RED_TIME_FMT_SIZE];
        red_buf_t b;

        red_buf_init(&b);
        red_time_format(cell->start, ts, sizeof(ts));
        red_buf_printf(&b, "%s/%s/%s/%s", cell->agg->table,
                       red_window_type_name(cell->wt), ts,
                       cell->agg->groupings[cell->grouping].name);
        for (size_t i = 0; i < cell->agg->key_cnt; i++) {
                red_buf_putc(&b, '/');
                red_buf_append(&b, cell->keys[i], cell->lens[i]);
        }
        red_uuid_v5(out, &red_uuid_ns_reducerd, b.data ? b.data : "", b.len);
        red_buf_destroy(&b);
}

int red_cell_cmp(const red_cell_t *a, const red_cell_t *b)
{
        if (a->agg->index != b->agg->index) {
                return a->agg->index < b->agg->index ? -1 : 1;
        }
        if (a->wt != b->wt) {
                return a->wt < b->wt ? -1 : 1;
        }
        if (a->start != b->start) {
                return a->start < b->start ? -1 : 1;
        }
        if (a->grouping != b->grouping) {
                return a->grouping < b->grouping ? -1 : 1;
        }
        for (size_t i = 0; i < a->agg->key_cnt; i++) {
                int r = strcmp(a->keys[i], b->keys[i]);
                if (r) {
                        return r;
                }
        }
        return 0;
}

/* ------------------------------------------------------------------ */
/* keyed entries                                                       */
/* ------------------------------------------------------------------ */

typedef struct ekey_s {
        const char *p;
        size_t len;
} ekey_t;

static bool entry_eq(const void *item, const void *key)
{
        const entry_t *e = item;
        const ekey_t *k = key;

        return e->len == k->len && !memcmp(e->key, k->p, k->len);
}

static mstate_t *mstates_new(size_t cnt)
{
        mstate_t *m = calloc(cnt ? cnt : 1, sizeof(*m));

        for (size_t i = 0; m && i < cnt; i++) {
                m[i].min = INFINITY;
                m[i].max = -INFINITY;
        }
        return m;
}

/* Builds the hash map of a keyed set that outgrew the linear search. */
static int keyed_index(keyed_t *k)
{
        if (!(k->map = red_map_new())) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < k->cnt; i++) {
                entry_t *e = k->items[i];
                e->hash = red_hash_bytes(e->key, e->len, 0);
                if (red_map_insert(k->map, e->hash, e)) {
                        red_map_destroy(k->map);
                        k->map = NULL;
                        return -ENOMEM;
                }
        }
        return 0;
}

/* The entry for key (p, len), created when absent. NULL on OOM. */
static entry_t *keyed_get(keyed_t **kp, const red_measure_t *ms,
                          const char *p, size_t len)
{
        ekey_t key = {p, len};
        keyed_t *k = *kp;
        uint64_t h = 0;
        entry_t *e;

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
                if (k->cnt == KEYED_LINEAR && keyed_index(k)) {
                        return NULL;
                }
        }
        if (k->map) {
                h = red_hash_bytes(p, len, 0);
                if ((e = red_map_find(k->map, h, entry_eq, &key))) {
                        return e;
                }
        }
        if (k->cnt == k->cap) {
                size_t ncap = k->cap ? k->cap * 2 : 8;
                entry_t **ni = realloc(k->items, ncap * sizeof(*ni));
                if (!ni) {
                        return NULL;
                }
                k->items = ni;
                k->cap = ncap;
        }
        if (!(e = calloc(1, sizeof(*e))) || !(e->key = dup_bytes(p, len))) {
                free(e);
                return NULL;
        }
        e->len = len;
        e->hash = h;
        if (ms->kind == RED_MEAS_BY &&
            !(e->sub = mstates_new(ms->sub_cnt))) {
                free(e->key);
                free(e);
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
        const entry_t *x = *(entry_t *const *)a, *y = *(entry_t *const *)b;
        size_t n = x->len < y->len ? x->len : y->len;
        int r = memcmp(x->key, y->key, n);

        return r ? r : (x->len < y->len ? -1 : x->len > y->len);
}

/* The entries sorted by key (the array is reordered in place). */
static void keyed_sort(keyed_t *k)
{
        if (k && k->cnt > 1) {
                qsort(k->items, k->cnt, sizeof(*k->items), cmp_entry);
        }
}

/* ------------------------------------------------------------------ */
/* apply                                                               */
/* ------------------------------------------------------------------ */

static bool cond_holds(const red_cond_t *cd, const red_event_t *ev)
{
        const red_value_t *v = red_event_value(ev, cd->slot);

        if (!v) {
                return false;
        }
        switch (v->type) {
        case RED_FT_BOOLEAN:
                return cd->value.type == RED_FT_BOOLEAN && v->b == cd->value.b;
        case RED_FT_INTEGER:
                return cd->value.type == RED_FT_INTEGER
                               ? v->i == cd->value.i
                               : (double)v->i == cd->value.d;
        case RED_FT_NUMBER:
                return v->d == (cd->value.type == RED_FT_INTEGER
                                        ? (double)cd->value.i
                                        : cd->value.d);
        case RED_FT_STRING:
                return cd->value.s && strlen(cd->value.s) == v->s.len &&
                       !memcmp(cd->value.s, v->s.p, v->s.len);
        default:
                return false;
        }
}

static bool measure_takes(const red_measure_t *ms, const red_event_t *ev)
{
        if (!(ms->on & (UINT64_C(1) << ev->kind->index))) {
                return false;
        }
        for (size_t i = 0; i < ms->where_cnt; i++) {
                if (!cond_holds(&ms->where[i], ev)) {
                        return false;
                }
        }
        return true;
}

/* Text of a grouping value: strings as they are, others formatted. */
static bool value_text(const red_value_t *v, char *buf, size_t size,
                       const char **p, size_t *len)
{
        switch (v->type) {
        case RED_FT_STRING:
                *p = v->s.p;
                *len = v->s.len;
                return true;
        case RED_FT_INTEGER:
                *len = (size_t)snprintf(buf, size, "%lld", (long long)v->i);
                break;
        case RED_FT_BOOLEAN:
                *len = (size_t)snprintf(buf, size, "%s",
                                        v->b ? "true" : "false");
                break;
        case RED_FT_UUID:
                red_uuid_format(&v->u, buf);
                *len = 36;
                break;
        default:
                return false;
        }
        *p = buf;
        return true;
}

static i128 scaled(double v, int precision)
{
        double s = nearbyint(v * pow10_tab[precision]);

        if (s > 1e38) {
                s = 1e38;
        } else if (s < -1e38) {
                s = -1e38;
        }
        return (i128)s;
}

static int apply_measures(mstate_t *m, const red_measure_t *ms, size_t cnt,
                          const red_event_t *ev, double alpha);

static int apply_one(mstate_t *st, const red_measure_t *ms,
                     const red_event_t *ev, double alpha)
{
        const red_value_t *v;
        char buf[48];
        const char *p;
        size_t len;
        entry_t *e;
        double d;

        if (ms->kind == RED_MEAS_COUNT) {
                st->n++;
                return 0;
        }
        if (!(v = red_event_value(ev, ms->slot))) {
                return 0;
        }
        switch (ms->kind) {
        case RED_MEAS_SUM:
        case RED_MEAS_STATS:
        case RED_MEAS_SKETCH:
                d = v->type == RED_FT_INTEGER ? (double)v->i : v->d;
                st->n++;
                st->sum += v->type == RED_FT_INTEGER && ms->precision == 0
                                   ? (i128)v->i
                                   : scaled(d, ms->precision);
                if (d < st->min) {
                        st->min = d;
                }
                if (d > st->max) {
                        st->max = d;
                }
                if (ms->kind == RED_MEAS_SKETCH) {
                        if (!st->sk) {
                                char err[128];
                                st->sk = red_sketch_new(alpha, err,
                                                        sizeof(err));
                                if (!st->sk) {
                                        return -ENOMEM;
                                }
                        }
                        return red_sketch_add(st->sk, d) == -ENOMEM ? -ENOMEM
                                                                     : 0;
                }
                return 0;
        case RED_MEAS_COUNT_BY:
        case RED_MEAS_BY:
                if (!value_text(v, buf, sizeof(buf), &p, &len)) {
                        return 0;
                }
                if (!(e = keyed_get(&st->keyed, ms, p, len))) {
                        return -ENOMEM;
                }
                if (ms->kind == RED_MEAS_COUNT_BY) {
                        e->count++;
                        return 0;
                }
                return apply_measures(e->sub, ms->sub, ms->sub_cnt, ev, alpha);
        default:
                return 0;
        }
}

static int apply_measures(mstate_t *m, const red_measure_t *ms, size_t cnt,
                          const red_event_t *ev, double alpha)
{
        for (size_t i = 0; i < cnt; i++) {
                int r;
                if (measure_takes(&ms[i], ev) &&
                    (r = apply_one(&m[i], &ms[i], ev, alpha))) {
                        return r;
                }
        }
        return 0;
}

int red_cell_apply(red_cell_t *cell, const red_event_t *ev)
{
        cell->events++;
        return apply_measures(cell->m, cell->agg->measures,
                              cell->agg->measure_cnt, ev, cell->alpha);
}

/* ------------------------------------------------------------------ */
/* merge                                                               */
/* ------------------------------------------------------------------ */

static int merge_measures(mstate_t *dst, const mstate_t *src,
                          const red_measure_t *ms, size_t cnt, double alpha,
                          char *errstr, size_t size);

static int merge_one(mstate_t *d, const mstate_t *s, const red_measure_t *ms,
                     double alpha, char *errstr, size_t size)
{
        int r;

        d->n += s->n;
        d->sum += s->sum;
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
        if (s->keyed) {
                for (size_t i = 0; i < s->keyed->cnt; i++) {
                        const entry_t *se = s->keyed->items[i];
                        entry_t *de = keyed_get(&d->keyed, ms, se->key,
                                                se->len);
                        if (!de) {
                                return -ENOMEM;
                        }
                        de->count += se->count;
                        if (se->sub &&
                            (r = merge_measures(de->sub, se->sub, ms->sub,
                                                ms->sub_cnt, alpha, errstr,
                                                size))) {
                                return r;
                        }
                }
        }
        return 0;
}

static int merge_measures(mstate_t *dst, const mstate_t *src,
                          const red_measure_t *ms, size_t cnt, double alpha,
                          char *errstr, size_t size)
{
        for (size_t i = 0; i < cnt; i++) {
                int r = merge_one(&dst[i], &src[i], &ms[i], alpha, errstr,
                                  size);
                if (r) {
                        return r;
                }
        }
        return 0;
}

int red_cell_merge(red_cell_t *dst, const red_cell_t *src, char *errstr,
                   size_t errstr_size)
{
        dst->events += src->events;
        return merge_measures(dst->m, src->m, dst->agg->measures,
                              dst->agg->measure_cnt, dst->alpha, errstr,
                              errstr_size);
}

/* ------------------------------------------------------------------ */
/* serialisation                                                       */
/*                                                                     */
/* "RC" 1, varint events, varint measures, then per measure: name      */
/* (varint length + bytes), kind byte, and its state:                  */
/*   COUNT     varint n                                                */
/*   SUM/STATS/SKETCH  precision byte, varint n, [if n: sum as 16      */
/*             bytes LE, min and max as 8-byte LE IEEE doubles], and   */
/*             for SKETCH a varint length + the sketch's own format    */
/*   COUNT_BY  varint entries, each key + varint count (sorted)        */
/*   BY        varint entries, each key + varint measures + measures   */
/* ------------------------------------------------------------------ */

#define STATE_MAGIC0 'R'
#define STATE_MAGIC1 'C'
#define STATE_VERSION 1

static void put_varint(red_buf_t *b, uint64_t v)
{
        char tmp[10];
        size_t n = 0;

        do {
                tmp[n++] = (char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
                v >>= 7;
        } while (v);
        red_buf_append(b, tmp, n);
}

static void put_u64le(red_buf_t *b, uint64_t v)
{
        char tmp[8];

        for (int i = 0; i < 8; i++) {
                tmp[i] = (char)(v >> (8 * i));
        }
        red_buf_append(b, tmp, 8);
}

static void put_double(red_buf_t *b, double d)
{
        uint64_t u;

        memcpy(&u, &d, 8);
        put_u64le(b, u);
}

static void put_bytes(red_buf_t *b, const char *p, size_t len)
{
        put_varint(b, len);
        red_buf_append(b, p, len);
}

static int ser_measures(const mstate_t *m, const red_measure_t *ms, size_t cnt,
                        red_buf_t *b);

static int ser_one(const mstate_t *st, const red_measure_t *ms, red_buf_t *b)
{
        put_bytes(b, ms->name, strlen(ms->name));
        red_buf_putc(b, (char)ms->kind);
        switch (ms->kind) {
        case RED_MEAS_COUNT:
                put_varint(b, st->n);
                return 0;
        case RED_MEAS_SUM:
        case RED_MEAS_STATS:
        case RED_MEAS_SKETCH:
                red_buf_putc(b, (char)ms->precision);
                put_varint(b, st->n);
                if (st->n) {
                        unsigned __int128 u = (unsigned __int128)st->sum;
                        put_u64le(b, (uint64_t)u);
                        put_u64le(b, (uint64_t)(u >> 64));
                        put_double(b, st->min);
                        put_double(b, st->max);
                }
                if (ms->kind == RED_MEAS_SKETCH) {
                        size_t need = st->sk ? red_sketch_serialize(st->sk,
                                                                    NULL, 0)
                                             : 0;
                        put_varint(b, need);
                        if (need && !red_buf_reserve(b, need)) {
                                red_sketch_serialize(
                                        st->sk,
                                        (uint8_t *)b->data + b->len, need);
                                b->len += need;
                                b->data[b->len] = '\0';
                        }
                }
                return 0;
        case RED_MEAS_COUNT_BY:
        case RED_MEAS_BY: {
                keyed_t *k = st->keyed;
                put_varint(b, k ? k->cnt : 0);
                keyed_sort(k);
                for (size_t i = 0; k && i < k->cnt; i++) {
                        put_bytes(b, k->items[i]->key, k->items[i]->len);
                        if (ms->kind == RED_MEAS_COUNT_BY) {
                                put_varint(b, k->items[i]->count);
                        } else {
                                int r = ser_measures(k->items[i]->sub, ms->sub,
                                                     ms->sub_cnt, b);
                                if (r) {
                                        return r;
                                }
                        }
                }
                return 0;
        }
        default:
                return -EINVAL;
        }
}

static int ser_measures(const mstate_t *m, const red_measure_t *ms, size_t cnt,
                        red_buf_t *b)
{
        put_varint(b, cnt);
        for (size_t i = 0; i < cnt; i++) {
                int r = ser_one(&m[i], &ms[i], b);
                if (r) {
                        return r;
                }
        }
        return 0;
}

int red_cell_serialize(const red_cell_t *cell, red_buf_t *out)
{
        int r;

        red_buf_putc(out, STATE_MAGIC0);
        red_buf_putc(out, STATE_MAGIC1);
        red_buf_putc(out, STATE_VERSION);
        put_varint(out, cell->events);
        r = ser_measures(cell->m, cell->agg->measures, cell->agg->measure_cnt,
                         out);
        return r ? r : out->failed ? -ENOMEM : 0;
}

typedef struct reader_s {
        const unsigned char *p, *end;
        bool bad;
} reader_t;

static uint64_t get_varint(reader_t *r)
{
        uint64_t v = 0;

        for (int shift = 0; shift < 64; shift += 7) {
                if (r->p >= r->end) {
                        r->bad = true;
                        return 0;
                }
                unsigned char c = *r->p++;
                v |= (uint64_t)(c & 0x7f) << shift;
                if (!(c & 0x80)) {
                        return v;
                }
        }
        r->bad = true;
        return 0;
}

static uint64_t get_u64le(reader_t *r)
{
        uint64_t v = 0;

        if (r->end - r->p < 8) {
                r->bad = true;
                return 0;
        }
        for (int i = 0; i < 8; i++) {
                v |= (uint64_t)r->p[i] << (8 * i);
        }
        r->p += 8;
        return v;
}

static double get_double(reader_t *r)
{
        uint64_t u = get_u64le(r);
        double d;

        memcpy(&d, &u, 8);
        return d;
}

static const unsigned char *get_bytes(reader_t *r, size_t *len)
{
        const unsigned char *p;

        *len = (size_t)get_varint(r);
        if (r->bad || (size_t)(r->end - r->p) < *len) {
                r->bad = true;
                return NULL;
        }
        p = r->p;
        r->p += *len;
        return p;
}

/* Rescales a sum stored with precision @p from to precision @p to. */
static i128 rescale(i128 v, int from, int to)
{
        while (from < to) {
                v *= 10;
                from++;
        }
        while (from > to) {
                i128 q = v / 10, rem = v % 10;
                v = q + (rem >= 5 ? 1 : rem <= -5 ? -1 : 0);
                from--;
        }
        return v;
}

static int load_list(mstate_t *m, const red_measure_t *ms, size_t cnt,
                     uint64_t records, reader_t *r, double alpha,
                     char *errstr, size_t size);

/* Reads one measure record into @p st (which may be NULL: skip it). */
static int load_one(mstate_t *st, const red_measure_t *ms, int kind,
                    reader_t *r, double alpha, char *errstr, size_t size)
{
        mstate_t tmp;
        int rc = 0;

        memset(&tmp, 0, sizeof(tmp));
        tmp.min = INFINITY;
        tmp.max = -INFINITY;
        switch (kind) {
        case RED_MEAS_COUNT:
                tmp.n = get_varint(r);
                break;
        case RED_MEAS_SUM:
        case RED_MEAS_STATS:
        case RED_MEAS_SKETCH: {
                int prec;
                if (r->p >= r->end) {
                        r->bad = true;
                        break;
                }
                prec = *r->p++;
                if (prec > 9) {
                        r->bad = true; /* no contract keeps more digits */
                        break;
                }
                tmp.n = get_varint(r);
                if (tmp.n) {
                        uint64_t lo = get_u64le(r), hi = get_u64le(r);
                        tmp.sum = (i128)(((unsigned __int128)hi << 64) | lo);
                        tmp.min = get_double(r);
                        tmp.max = get_double(r);
                }
                if (st) {
                        tmp.sum = rescale(tmp.sum, prec, ms->precision);
                }
                if (kind == RED_MEAS_SKETCH) {
                        size_t len;
                        const unsigned char *p = get_bytes(r, &len);
                        if (p && len && st) {
                                tmp.sk = red_sketch_deserialize(p, len, errstr,
                                                                size);
                                if (!tmp.sk) {
                                        return -EINVAL;
                                }
                        }
                }
                break;
        }
        case RED_MEAS_COUNT_BY:
        case RED_MEAS_BY: {
                uint64_t cnt = get_varint(r);
                for (uint64_t i = 0; i < cnt && !r->bad && !rc; i++) {
                        size_t len;
                        const unsigned char *k = get_bytes(r, &len);
                        entry_t *e = NULL;
                        if (!k) {
                                break;
                        }
                        if (st && !(e = keyed_get(&tmp.keyed, ms,
                                                  (const char *)k, len))) {
                                rc = -ENOMEM;
                                break;
                        }
                        if (kind == RED_MEAS_COUNT_BY) {
                                uint64_t c = get_varint(r);
                                if (e) {
                                        e->count += c;
                                }
                        } else {
                                /* sub-measures are matched by name, too */
                                uint64_t n = get_varint(r);
                                rc = load_list(e ? e->sub : NULL,
                                               e ? ms->sub : NULL,
                                               e ? ms->sub_cnt : 0, n, r,
                                               alpha, errstr, size);
                        }
                }
                break;
        }
        default:
                r->bad = true;
                break;
        }
        if (!rc && !r->bad && st) {
                rc = merge_one(st, &tmp, ms, alpha, errstr, size);
        }
        red_sketch_destroy(tmp.sk);
        if (ms) {
                keyed_free(tmp.keyed, ms);
        }
        return rc;
}

/* Reads @p records measure records; they are matched to @p ms by name and
 * kind, unknown ones are read and skipped. */
static int load_list(mstate_t *m, const red_measure_t *ms, size_t cnt,
                     uint64_t records, reader_t *r, double alpha,
                     char *errstr, size_t size)
{
        for (uint64_t i = 0; i < records && !r->bad; i++) {
                size_t len;
                const unsigned char *name = get_bytes(r, &len);
                int kind, rc;
                size_t j;

                if (!name || r->p >= r->end) {
                        r->bad = true;
                        break;
                }
                kind = *r->p++;
                for (j = 0; j < cnt; j++) {
                        if (strlen(ms[j].name) == len &&
                            !memcmp(ms[j].name, name, len) &&
                            (int)ms[j].kind == kind) {
                                break;
                        }
                }
                rc = load_one(j < cnt ? &m[j] : NULL, j < cnt ? &ms[j] : NULL,
                              kind, r, alpha, errstr, size);
                if (rc) {
                        return rc;
                }
        }
        return 0;
}

int red_cell_merge_serialized(red_cell_t *cell, const void *data, size_t len,
                              char *errstr, size_t errstr_size)
{
        reader_t r = {data, (const unsigned char *)data + len, false};
        uint64_t records;
        int rc;

        if (len < 3 || r.p[0] != STATE_MAGIC0 || r.p[1] != STATE_MAGIC1 ||
            r.p[2] != STATE_VERSION) {
                snprintf(errstr, errstr_size,
                         "cell state: not a reducerd cell state (version %d "
                         "expected)",
                         STATE_VERSION);
                return -EINVAL;
        }
        r.p += 3;
        cell->events += get_varint(&r);
        records = get_varint(&r);
        rc = load_list(cell->m, cell->agg->measures, cell->agg->measure_cnt,
                       records, &r, cell->alpha, errstr, errstr_size);
        if (!rc && (r.bad || r.p != r.end)) {
                snprintf(errstr, errstr_size, "cell state: truncated or "
                                              "corrupt");
                return -EINVAL;
        }
        return rc;
}

/* ------------------------------------------------------------------ */
/* rendering                                                           */
/* ------------------------------------------------------------------ */

typedef struct render_ctx_s {
        const mstate_t *m;
        const red_measure_t *ms;
} render_ctx_t;

static bool measure_value(void *opaque, int ref, double *out)
{
        const render_ctx_t *rc = opaque;
        const mstate_t *st = &rc->m[RED_REF_MEASURE(ref)];
        const red_measure_t *ms = &rc->ms[RED_REF_MEASURE(ref)];
        int o = RED_REF_OUTPUT(ref);

        if (o == RED_OUT_COUNT) {
                *out = (double)st->n;
                return true;
        }
        if (ms->kind == RED_MEAS_SUM && o == RED_OUT_SUM) {
                *out = (double)st->sum / pow10_tab[ms->precision];
                return true;
        }
        if (!st->n) {
                return false;
        }
        switch (o) {
        case RED_OUT_SUM:
                *out = (double)st->sum / pow10_tab[ms->precision];
                return true;
        case RED_OUT_AVG:
                *out = (double)st->sum / pow10_tab[ms->precision] /
                       (double)st->n;
                return true;
        case RED_OUT_MIN:
                *out = st->min;
                return true;
        case RED_OUT_MAX:
                *out = st->max;
                return true;
        default:
                if (!st->sk) {
                        return false;
                }
                *out = red_sketch_quantile(st->sk, RED_REF_QUANTILE(ref));
                return !isnan(*out);
        }
}

/* Renders one expression; returns false for null. */
static bool render_expr(const red_expr_t *e, const render_ctx_t *rc,
                        red_buf_t *out)
{
        double v;
        int ref;

        if (!red_expr_eval(e, measure_value, (void *)rc, &v)) {
                return false;
        }
        if (red_expr_is_ref(e, &ref) &&
            RED_REF_OUTPUT(ref) == RED_OUT_COUNT) {
                red_buf_put_i64(out, (int64_t)v);
        } else {
                red_buf_put_double(out, v);
        }
        return true;
}

/* {"k": expr, ...}; returns false when every member is null. */
static bool render_object(const red_column_t *col, const render_ctx_t *rc,
                          red_buf_t *out)
{
        size_t start = out->len;
        bool any = false;

        red_buf_putc(out, '{');
        for (size_t i = 0; i < col->key_cnt; i++) {
                if (i) {
                        red_buf_putc(out, ',');
                }
                red_buf_put_json_str(out, col->keys[i], strlen(col->keys[i]));
                red_buf_putc(out, ':');
                if (render_expr(col->exprs[i], rc, out)) {
                        any = true;
                } else {
                        red_buf_puts(out, "null");
                }
        }
        red_buf_putc(out, '}');
        if (!any) {
                out->len = start;
                if (out->data) {
                        out->data[start] = '\0';
                }
        }
        return any;
}

bool red_cell_value(const red_cell_t *cell, int ref, double *out)
{
        render_ctx_t rc = {cell->m, cell->agg->measures};
        size_t m = (size_t)RED_REF_MEASURE(ref);

        if (ref < 0 || m >= cell->agg->measure_cnt ||
            cell->agg->measures[m].kind >= RED_MEAS_COUNT_BY) {
                return false;
        }
        return measure_value(&rc, ref, out);
}

void red_cell_render(const red_cell_t *cell, const red_column_t *col,
                     red_buf_t *out, bool *is_null)
{
        render_ctx_t rc = {cell->m, cell->agg->measures};
        const keyed_t *k;

        *is_null = true;
        switch (col->kind) {
        case RED_COL_EXPR:
                *is_null = !render_expr(col->expr, &rc, out);
                return;
        case RED_COL_OBJECT:
                *is_null = !render_object(col, &rc, out);
                return;
        case RED_COL_COUNTS:
        case RED_COL_EACH:
                k = cell->m[col->measure].keyed;
                if (!k || !k->cnt) {
                        return;
                }
                keyed_sort((keyed_t *)k);
                red_buf_putc(out, '{');
                for (size_t i = 0; i < k->cnt; i++) {
                        const entry_t *e = k->items[i];
                        render_ctx_t sub = {
                                e->sub, cell->agg->measures[col->measure].sub};
                        if (i) {
                                red_buf_putc(out, ',');
                        }
                        red_buf_put_json_str(out, e->key, e->len);
                        red_buf_putc(out, ':');
                        if (col->kind == RED_COL_COUNTS) {
                                red_buf_put_i64(out, (int64_t)e->count);
                        } else if (col->expr) {
                                if (!render_expr(col->expr, &sub, out)) {
                                        red_buf_puts(out, "null");
                                }
                        } else if (!render_object(col, &sub, out)) {
                                red_buf_puts(out, "null");
                        }
                }
                red_buf_putc(out, '}');
                *is_null = false;
                return;
        }
}
