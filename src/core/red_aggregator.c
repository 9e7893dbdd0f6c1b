/* red_aggregator - routes events to the cells of every window and grouping. */
#include "red_aggregator.h"

#include "red_map.h"
#include "red_window.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIM_BUF  48
#define MAX_KEYS 8

struct red_aggregator_s {
        const red_contract_t *c;
        red_map_t *cells;
        red_cell_t **sorted;
        size_t sorted_cap;
        /* per-event scratch: one text per dimension */
        const char **dim_p;
        size_t *dim_len;
        bool *dim_ok;
        char (*dim_buf)[DIM_BUF];
        /*
         * The cell each (aggregation, grouping, window type) used last:
         * events come roughly in time order, so the next one often has the
         * same window and keys, and skips hashing and the map.
         */
        red_cell_t **last;
        size_t *last_base; /* per aggregation: its first entry in last */
};

/* --- lifetime ---------------------------------------------------- */

red_aggregator_t *red_aggregator_new(const red_contract_t *c)
{
        red_aggregator_t *ag = calloc(1, sizeof(*ag));
        size_t n = c->dim_cnt ? c->dim_cnt : 1;

        if (!ag) {
                return NULL;
        }
        ag->c = c;
        ag->cells = red_map_new();
        ag->dim_p = calloc(n, sizeof(*ag->dim_p));
        ag->dim_len = calloc(n, sizeof(*ag->dim_len));
        ag->dim_ok = calloc(n, sizeof(*ag->dim_ok));
        ag->dim_buf = calloc(n, sizeof(*ag->dim_buf));
        ag->last_base = calloc(c->agg_cnt + 1, sizeof(*ag->last_base));
        for (size_t i = 0; ag->last_base && i < c->agg_cnt; i++) {
                ag->last_base[i + 1] =
                        ag->last_base[i] +
                        c->aggs[i].grouping_cnt * RED_WINDOW__CNT;
        }
        ag->last = calloc(ag->last_base ? ag->last_base[c->agg_cnt] + 1 : 1,
                          sizeof(*ag->last));
        if (!ag->cells || !ag->dim_p || !ag->dim_len || !ag->dim_ok ||
            !ag->dim_buf || !ag->last_base || !ag->last) {
                red_aggregator_destroy(ag);
                return NULL;
        }
        return ag;
}

void red_aggregator_clear(red_aggregator_t *ag)
{
        size_t pos = 0;
        red_cell_t *cell;

        while ((cell = red_map_next(ag->cells, &pos))) {
                red_cell_destroy(cell);
        }
        red_map_clear(ag->cells);
        if (ag->last) {
                memset(ag->last, 0,
                       ag->last_base[ag->c->agg_cnt] * sizeof(*ag->last));
        }
}

void red_aggregator_destroy(red_aggregator_t *ag)
{
        if (!ag) {
                return;
        }
        if (ag->cells) {
                red_aggregator_clear(ag);
                red_map_destroy(ag->cells);
        }
        free(ag->sorted);
        free(ag->dim_p);
        free(ag->dim_len);
        free(ag->dim_ok);
        free(ag->dim_buf);
        free(ag->last);
        free(ag->last_base);
        free(ag);
}

/* --- applying events --------------------------------------------- */

/*
 * The text of dimension @p d for @p ev: a constant, the bucket its number
 * falls in, or the field's value as text; else the dimension's default.
 */
bool red_aggregator_dim_text(const red_dim_t *d, const red_event_t *ev,
                             char *buf, const char **p, size_t *len)
{
        const red_value_t *v;

        switch (d->kind) {
        case RED_DIM_CONSTANT:
                *p = d->constant;
                *len = strlen(d->constant);
                return true;
        case RED_DIM_BUCKETS:
                v = red_event_value(ev, d->slot);
                if (v) {
                        double x =
                                v->type == RED_FT_INTEGER ? (double)v->i : v->d;
                        for (size_t i = 0; i < d->bucket_cnt; i++) {
                                if (!d->buckets[i].has_below ||
                                    x < d->buckets[i].below) {
                                        *p = d->buckets[i].key;
                                        *len = strlen(*p);
                                        return true;
                                }
                        }
                }
                break;
        case RED_DIM_FIELD:
                v = red_event_value(ev, d->slot);
                if (!v) {
                        break;
                }
                switch (v->type) {
                case RED_FT_STRING:
                        *p = v->s.p;
                        *len = v->s.len;
                        return true;
                case RED_FT_INTEGER:
                        *len = (size_t)snprintf(buf, DIM_BUF, "%lld",
                                                (long long)v->i);
                        *p = buf;
                        return true;
                case RED_FT_BOOLEAN:
                        *p = v->b ? "true" : "false";
                        *len = strlen(*p);
                        return true;
                case RED_FT_UUID:
                        red_uuid_format(&v->u, buf);
                        *p = buf;
                        *len = 36;
                        return true;
                default:
                        break;
                }
                break;
        }
        if (d->def) {
                *p = d->def;
                *len = strlen(d->def);
                return true;
        }
        return false;
}

/*
 * One aggregation: each grouping whose dimensions the event has, in each
 * window type the aggregation keeps. The hash of a grouping's key is made
 * once, and only when the cell used last for that slot does not match.
 */
static int apply_agg(red_aggregator_t *ag, const red_agg_t *a,
                     const red_event_t *ev, const red_time_t *starts)
{
        const char *keys[MAX_KEYS];
        size_t lens[MAX_KEYS];
        red_cell_t **last = ag->last + ag->last_base[a->index];

        for (size_t g = 0; g < a->grouping_cnt; g++) {
                const red_grouping_t *gr = &a->groupings[g];
                red_cell_key_t key;
                bool ok = true, hashed = false;

                for (size_t k = 0; k < a->key_cnt && k < MAX_KEYS; k++) {
                        int d = gr->dims[k];
                        ok &= ag->dim_ok[d];
                        keys[k] = ag->dim_p[d];
                        lens[k] = ag->dim_len[d];
                }
                if (!ok) {
                        continue;
                }
                key.agg = a;
                key.grouping = (int)g;
                key.keys = keys;
                key.lens = lens;
                key.group_hash = 0;
                for (int wt = 0; wt < RED_WINDOW__CNT; wt++) {
                        red_cell_t **lp =
                                &last[g * RED_WINDOW__CNT + (size_t)wt];
                        red_cell_t *cell;
                        uint64_t h;
                        int r;

                        if (!(a->windows & (1u << wt))) {
                                continue;
                        }
                        key.wt = (red_window_type_t)wt;
                        key.start = starts[wt];
                        if (*lp && red_cell_key_eq(*lp, &key)) {
                                if ((r = red_cell_apply(*lp, ev))) {
                                        return r;
                                }
                                continue;
                        }
                        if (!hashed) {
                                key.group_hash = red_cell_group_hash(
                                        a, (int)g, keys, lens);
                                hashed = true;
                        }
                        h = red_cell_key_hash(&key);
                        cell = red_map_find(ag->cells, h, red_cell_key_eq,
                                            &key);
                        if (!cell) {
                                cell = red_cell_new(&key, ag->c->sketch_alpha);
                                if (!cell) {
                                        return -ENOMEM;
                                }
                                if (red_map_insert(ag->cells, h, cell)) {
                                        red_cell_destroy(cell);
                                        return -ENOMEM;
                                }
                        }
                        *lp = cell;
                        if ((r = red_cell_apply(cell, ev))) {
                                return r; /* -ENOMEM or -ERANGE */
                        }
                }
        }
        return 0;
}

int red_aggregator_apply(red_aggregator_t *ag, const red_event_t *ev)
{
        const red_contract_t *c = ag->c;
        red_time_t utc[RED_WINDOW__CNT], zoned[RED_WINDOW__CNT];

        if (!c->agg_cnt) {
                return 0;
        }
        for (size_t d = 0; d < c->dim_cnt; d++) {
                ag->dim_ok[d] =
                        red_aggregator_dim_text(&c->dims[d], ev, ag->dim_buf[d],
                                                &ag->dim_p[d], &ag->dim_len[d]);
        }
        /* the UTC starts once, a zoned aggregation's in its zone */
        red_window_starts(ev->time, utc);
        for (size_t i = 0; i < c->agg_cnt; i++) {
                const red_agg_t *a = &c->aggs[i];
                int r;
                /* a cell exists only where a measure moved: a workflow
                 * event that no measure takes makes no empty cells */
                if (!red_cell_moves(a, ev)) {
                        continue;
                }
                if (a->tz) {
                        red_window_starts_tz(ev->time, a->tz, zoned);
                }
                if ((r = apply_agg(ag, a, ev, a->tz ? zoned : utc))) {
                        return r;
                }
        }
        return 0;
}

/* --- the batch's cells -------------------------------------------- */

static int cmp_cells(const void *a, const void *b)
{
        return red_cell_cmp(*(red_cell_t *const *)a, *(red_cell_t *const *)b);
}

red_cell_t **red_aggregator_cells(red_aggregator_t *ag, size_t *cntp)
{
        size_t cnt = red_map_count(ag->cells), pos = 0, i = 0;
        red_cell_t *cell;

        if (cnt > ag->sorted_cap) {
                red_cell_t **n = realloc(ag->sorted, cnt * sizeof(*n));
                if (!n) {
                        *cntp = 0;
                        return NULL;
                }
                ag->sorted = n;
                ag->sorted_cap = cnt;
        }
        while ((cell = red_map_next(ag->cells, &pos))) {
                ag->sorted[i++] = cell;
        }
        /* no cells: sorted may still be NULL, which qsort must not get */
        if (cnt > 1) {
                qsort(ag->sorted, cnt, sizeof(*ag->sorted), cmp_cells);
        }
        *cntp = cnt;
        return ag->sorted;
}

size_t red_aggregator_count(const red_aggregator_t *ag)
{
        return red_map_count(ag->cells);
}

int red_aggregator_merge_cell(red_aggregator_t *ag, const red_cell_t *cell,
                              char *errstr, size_t errstr_size)
{
        red_cell_key_t key;
        red_cell_t *dst;
        uint64_t h;

        red_cell_key_of(cell, &key);
        h = red_cell_key_hash(&key);
        dst = red_map_find(ag->cells, h, red_cell_key_eq, &key);
        if (!dst) {
                if (!(dst = red_cell_new(&key, ag->c->sketch_alpha))) {
                        return -ENOMEM;
                }
                if (red_map_insert(ag->cells, h, dst)) {
                        red_cell_destroy(dst);
                        return -ENOMEM;
                }
        }
        return red_cell_merge(dst, cell, errstr, errstr_size);
}
