/* red_cell - one aggregation cell: its key, applying events, rendering. */
#include "red_cell.h"

#include "red_cell_codec.h"
#include "red_cell_state.h"
#include "red_expr.h"
#include "red_outputs.h"
#include "red_weight.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct red_cell_s {
        const red_agg_t *agg;
        red_window_type_t wt;
        red_time_t start;
        int grouping;
        uint64_t hash;
        double alpha;
        uint64_t events;
        red_time_t latest; /* newest event time applied or merged (not
                              stored: a stored state merged in adds none) */
        char **keys;
        size_t *lens;
        red_mstate_t m[];
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
        uint64_t h = red_map_hash_mix((uint64_t)agg->index, (uint64_t)grouping);

        for (size_t i = 0; i < agg->key_cnt; i++) {
                h = red_map_hash_mix(h,
                                     red_map_hash_bytes(keys[i], lens[i], i));
        }
        return h;
}

uint64_t red_cell_key_hash(const red_cell_key_t *key)
{
        return red_map_hash_mix(key->group_hash ^ (uint64_t)key->wt,
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
        red_cell_t *cell = calloc(
                1, sizeof(*cell) + a->measure_cnt * sizeof(red_mstate_t));

        if (!cell) {
                return NULL;
        }
        cell->agg = a;
        cell->latest = INT64_MIN;
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
        red_cell_state_init(cell->m, a->measure_cnt);
        return cell;
}

void red_cell_key_of(const red_cell_t *cell, red_cell_key_t *key)
{
        key->agg = cell->agg;
        key->wt = cell->wt;
        key->start = cell->start;
        key->grouping = cell->grouping;
        key->keys = (const char *const *)cell->keys;
        key->lens = cell->lens;
        key->group_hash = red_cell_group_hash(cell->agg, cell->grouping,
                                              key->keys, key->lens);
}

red_cell_t *red_cell_new_like(const red_cell_t *cell, const red_agg_t *agg,
                              double alpha)
{
        red_cell_key_t key;

        red_cell_key_of(cell, &key);
        if (agg && agg != cell->agg) {
                key.agg = agg;
                key.group_hash = red_cell_group_hash(agg, key.grouping,
                                                     key.keys, key.lens);
        }
        return red_cell_new(&key, alpha);
}

void red_cell_destroy(red_cell_t *cell)
{
        if (!cell) {
                return;
        }
        red_cell_state_free(cell->m, cell->agg->measures,
                            cell->agg->measure_cnt);
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
        return red_window_end_tz(cell->wt, cell->start, cell->agg->tz);
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

red_time_t red_cell_latest(const red_cell_t *cell)
{
        return cell->latest;
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

/* @p len cut to RED_RECENT_MAX_LEN bytes at a UTF-8 character boundary
 * (a recent measure keeps messages, not documents). */
static size_t utf8_cut(const char *p, size_t len)
{
        if (len <= RED_RECENT_MAX_LEN) {
                return len;
        }
        len = RED_RECENT_MAX_LEN;
        while (len && ((unsigned char)p[len] & 0xc0) == 0x80) {
                len--; /* p[len] continues a character: cut before it */
        }
        return len;
}

/*
 * @p v in 10^-@p precision units, rounded to the nearest, into *@p out;
 * -ERANGE when no 128-bit integer holds it (the decoder bounds numbers,
 * so only a caller that bypasses it gets there).
 */
static int scaled(double v, int precision, red_i128_t *out)
{
        double s = nearbyint(v * pow10_tab[precision]);

        if (!(fabs(s) < 0x1p127)) {
                return -ERANGE;
        }
        *out = (red_i128_t)s;
        return 0;
}

bool red_cell_moves(const red_agg_t *agg, const red_event_t *ev)
{
        char buf[48];
        const char *p;
        size_t len;

        for (size_t i = 0; i < agg->measure_cnt; i++) {
                const red_measure_t *ms = &agg->measures[i];
                const red_value_t *v;
                if (!measure_takes(ms, ev)) {
                        continue;
                }
                if (ms->kind == RED_MEAS_COUNT) {
                        return true;
                }
                if (!(v = red_event_value(ev, ms->slot))) {
                        continue;
                }
                /* keyed measures need a value they can key by */
                if (ms->kind < RED_MEAS_COUNT_BY ||
                    value_text(v, buf, sizeof(buf), &p, &len)) {
                        return true;
                }
        }
        return false;
}

/* What applying one event needs besides the states. */
typedef struct apply_ctx_s {
        const red_event_t *ev;
        double alpha;
        uint64_t weight; /* in weight units; 0: unweighted aggregation */
} apply_ctx_t;

/*
 * A term of a weighted sum: @p term (10^-precision units) times @p weight
 * (10^-6 units), rounded half away from zero to 10^-precision units.
 * Exact in 128 bits: a term is at most 10^24 units, a weight 10^12.
 */
static red_i128_t weigh(red_i128_t term, uint64_t weight)
{
        red_i128_t p = term * (red_i128_t)weight;
        red_i128_t half = RED_WEIGHT_ONE / 2;

        return (p + (p < 0 ? -half : half)) / RED_WEIGHT_ONE;
}

/* Counts one (weighted) event into *@p n and *@p w; -ERANGE past 2^64
 * weight units (nothing is changed then). */
static int count_one(uint64_t *n, uint64_t *w, uint64_t weight)
{
        if (__builtin_add_overflow(*w, weight, w)) {
                *w -= weight; /* undo the wrapped add */
                return -ERANGE;
        }
        (*n)++;
        return 0;
}

static int apply_measures(red_mstate_t *m, const red_measure_t *ms, size_t cnt,
                          const apply_ctx_t *ac);

/* A value into a sum, stats or sketch measure. */
static int apply_value(red_mstate_t *st, const red_measure_t *ms,
                       const red_value_t *v, const apply_ctx_t *ac)
{
        double d = v->type == RED_FT_INTEGER ? (double)v->i : v->d;
        red_i128_t term;
        int r;

        if (v->type == RED_FT_INTEGER && ms->precision == 0) {
                term = v->i;
        } else if (scaled(d, ms->precision, &term)) {
                return -ERANGE;
        }
        if (ac->weight) {
                term = weigh(term, ac->weight);
        }
        /* the sum never wraps: past its range the event fails */
        if (__builtin_add_overflow(st->sum, term, &term)) {
                return -ERANGE;
        }
        if (ms->kind == RED_MEAS_SKETCH && !st->sk) {
                char err[128];
                if (!(st->sk = red_sketch_new(ac->alpha, err, sizeof(err)))) {
                        return -ENOMEM;
                }
        }
        if (ms->kind == RED_MEAS_SKETCH &&
            (r = red_sketch_add_n(st->sk, d, ac->weight ? ac->weight : 1))) {
                return r == -ENOMEM ? -ENOMEM : -ERANGE;
        }
        /* a weighted count past 2^64 units fails the event (a sketch's
         * count, in the same units, fails the same event first) */
        if (count_one(&st->n, &st->w, ac->weight)) {
                return -ERANGE;
        }
        st->sum = term;
        if (ac->weight && (!st->wmin || ac->weight < st->wmin)) {
                st->wmin = ac->weight;
        }
        if (d < st->min) {
                st->min = d;
        }
        if (d > st->max) {
                st->max = d;
        }
        return 0;
}

static int apply_one(red_mstate_t *st, const red_measure_t *ms,
                     const apply_ctx_t *ac)
{
        const red_value_t *v;
        char buf[48];
        const char *p;
        size_t len;
        red_keyed_entry_t *e;

        if (ms->kind == RED_MEAS_COUNT) {
                return count_one(&st->n, &st->w, ac->weight);
        }
        if (!(v = red_event_value(ac->ev, ms->slot))) {
                return 0;
        }
        switch (ms->kind) {
        case RED_MEAS_SUM:
        case RED_MEAS_STATS:
        case RED_MEAS_SKETCH:
                return apply_value(st, ms, v, ac);
        case RED_MEAS_COUNT_BY:
        case RED_MEAS_BY:
                if (!value_text(v, buf, sizeof(buf), &p, &len)) {
                        return 0;
                }
                if (!(e = red_cell_state_keyed_get(&st->keyed, ms, p, len))) {
                        return -ENOMEM;
                }
                if (ms->kind == RED_MEAS_COUNT_BY) {
                        return count_one(&e->count, &e->w, ac->weight);
                }
                return apply_measures(e->sub, ms->sub, ms->sub_cnt, ac);
        case RED_MEAS_RECENT:
                if (!value_text(v, buf, sizeof(buf), &p, &len)) {
                        return 0;
                }
                return red_cell_state_recent_note(
                        &st->keyed, ms, p, utf8_cut(p, len), ac->ev->time);
        default:
                return 0;
        }
}

static int apply_measures(red_mstate_t *m, const red_measure_t *ms, size_t cnt,
                          const apply_ctx_t *ac)
{
        for (size_t i = 0; i < cnt; i++) {
                int r;
                if (measure_takes(&ms[i], ac->ev) &&
                    (r = apply_one(&m[i], &ms[i], ac))) {
                        return r;
                }
        }
        return 0;
}

int red_cell_apply(red_cell_t *cell, const red_event_t *ev)
{
        apply_ctx_t ac = {ev, cell->alpha,
                          cell->agg->weighted ? (uint64_t)ev->weight : 0};

        cell->events++;
        if (ev->time > cell->latest) {
                cell->latest = ev->time;
        }
        return apply_measures(cell->m, cell->agg->measures,
                              cell->agg->measure_cnt, &ac);
}

/* ------------------------------------------------------------------ */
/* merge and the stored state                                          */
/* ------------------------------------------------------------------ */

int red_cell_merge(red_cell_t *dst, const red_cell_t *src, char *errstr,
                   size_t errstr_size)
{
        dst->events += src->events;
        if (src->latest > dst->latest) {
                dst->latest = src->latest;
        }
        return red_cell_state_merge(dst->m, src->m, dst->agg->measures,
                                    dst->agg->measure_cnt, errstr, errstr_size);
}

/* The weight units of a cell's state: 10^-6 weighted, 1 (none) else. */
static int weight_digits(const red_cell_t *cell)
{
        return cell->agg->weighted ? RED_WEIGHT_DIGITS : 0;
}

int red_cell_serialize(const red_cell_t *cell, red_buf_t *out)
{
        return red_cell_codec_write(cell->events, weight_digits(cell), cell->m,
                                    cell->agg->measures, cell->agg->measure_cnt,
                                    out);
}

int red_cell_merge_serialized(red_cell_t *cell, const void *data, size_t len,
                              char *errstr, size_t errstr_size)
{
        return red_cell_codec_merge(data, len, weight_digits(cell),
                                    &cell->events, cell->m, cell->agg->measures,
                                    cell->agg->measure_cnt, errstr,
                                    errstr_size);
}

/* ------------------------------------------------------------------ */
/* rendering                                                           */
/* ------------------------------------------------------------------ */

typedef struct render_ctx_s {
        const red_mstate_t *m;
        const red_measure_t *ms;
        bool weighted;
} render_ctx_t;

/* The count of a state: weighted (an estimate, in events) or not. */
static double count_of(const render_ctx_t *rc, uint64_t n, uint64_t w)
{
        return rc->weighted ? (double)w / (double)RED_WEIGHT_ONE : (double)n;
}

static bool measure_value(void *opaque, int ref, double *out)
{
        const render_ctx_t *rc = opaque;
        const red_mstate_t *st = &rc->m[RED_REF_MEASURE(ref)];
        const red_measure_t *ms = &rc->ms[RED_REF_MEASURE(ref)];
        int o = RED_REF_OUTPUT(ref);

        if (o == RED_OUT_COUNT) {
                *out = count_of(rc, st->n, st->w);
                return true;
        }
        if (o == RED_OUT_EVENTS) {
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
                       count_of(rc, st->n, st->w);
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
                /* every value weighs at least wmin: exact extremes */
                *out = red_sketch_quantile_least(
                        st->sk, RED_REF_QUANTILE(ref),
                        rc->weighted && st->wmin ? st->wmin : 1);
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
        /* a count is a whole number of events: an estimated (weighted)
         * one is rounded to it */
        if (red_expr_is_ref(e, &ref) && red_outputs_is_count(ref)) {
                red_buf_put_i64(out, llround(v));
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

/* A recent measure's values, newest first, as a JSON array; false (and
 * nothing written) when it has none. */
static bool render_recent(const red_keyed_t *k, red_buf_t *out)
{
        const red_keyed_entry_t *e[RED_RECENT_MAX_KEEP + 1];
        size_t n = red_cell_state_recent_order(k, e);

        if (!n) {
                return false;
        }
        red_buf_putc(out, '[');
        for (size_t i = 0; i < n; i++) {
                if (i) {
                        red_buf_putc(out, ',');
                }
                red_buf_put_json_str(out, e[i]->key, e[i]->len);
        }
        red_buf_putc(out, ']');
        return true;
}

bool red_cell_value(const red_cell_t *cell, int ref, double *out)
{
        render_ctx_t rc = {cell->m, cell->agg->measures, cell->agg->weighted};
        size_t m = (size_t)RED_REF_MEASURE(ref);

        if (ref < 0 || m >= cell->agg->measure_cnt ||
            cell->agg->measures[m].kind >= RED_MEAS_COUNT_BY) {
                return false;
        }
        return measure_value(&rc, ref, out);
}

bool red_cell_eval(const red_cell_t *cell, const red_expr_t *e, double *out)
{
        render_ctx_t rc = {cell->m, cell->agg->measures};

        return red_expr_eval(e, measure_value, &rc, out);
}

void red_cell_render(const red_cell_t *cell, const red_column_t *col,
                     red_buf_t *out, bool *is_null)
{
        render_ctx_t rc = {cell->m, cell->agg->measures, cell->agg->weighted};
        const red_keyed_t *k;

        *is_null = true;
        switch (col->kind) {
        case RED_COL_EXPR:
                *is_null = !render_expr(col->expr, &rc, out);
                return;
        case RED_COL_OBJECT:
                *is_null = !render_object(col, &rc, out);
                return;
        case RED_COL_RECENT:
                *is_null = !render_recent(cell->m[col->measure].keyed, out);
                return;
        case RED_COL_COUNTS:
        case RED_COL_EACH:
                k = cell->m[col->measure].keyed;
                if (!k || !k->cnt) {
                        return;
                }
                red_cell_state_keyed_sort((red_keyed_t *)k);
                red_buf_putc(out, '{');
                for (size_t i = 0; i < k->cnt; i++) {
                        const red_keyed_entry_t *e = k->items[i];
                        render_ctx_t sub = {
                                e->sub, cell->agg->measures[col->measure].sub,
                                rc.weighted};
                        if (i) {
                                red_buf_putc(out, ',');
                        }
                        red_buf_put_json_str(out, e->key, e->len);
                        red_buf_putc(out, ':');
                        if (col->kind == RED_COL_COUNTS) {
                                red_buf_put_i64(
                                        out,
                                        llround(count_of(&rc, e->count, e->w)));
                        } else if (col->sub >= 0) {
                                if (!render_recent(e->sub[col->sub].keyed,
                                                   out)) {
                                        red_buf_puts(out, "null");
                                }
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
