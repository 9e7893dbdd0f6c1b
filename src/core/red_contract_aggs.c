/* red_contract_aggs - the dimensions and aggregations of a contract. */
#include "red_contract_load.h"

#include "red_tabledef.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * A dimension turns an event into one key text (a field's value, a bucket
 * of a number, or a constant); an aggregation groups events by one or
 * more dimensions (each grouping fills the key columns), for every window
 * type, into one table of cells. Measures and columns:
 * red_contract_measures.c.
 */

/* --- dimensions ---------------------------------------------------------- */

/* buckets: [{key, below}, ...] with increasing thresholds; the last may
 * omit below (it takes the rest). */
static int buckets_of(red_loader_t *ld, const red_yaml_node_t *v,
                      const char *what, red_dim_t *d)
{
        static const char *const keys[] = {"key", "below", NULL};
        int r;

        if (red_yaml_expect(v, RED_YAML_SEQ, what, ld->errstr, ld->size)) {
                return -EINVAL;
        }
        d->buckets = calloc(red_yaml_size(v) + 1, sizeof(*d->buckets));
        if (!d->buckets) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < red_yaml_size(v); i++) {
                const red_yaml_node_t *it = red_yaml_item(v, i), *bv;
                red_bucket_t *b = &d->buckets[d->bucket_cnt++];
                bool last = i + 1 == red_yaml_size(v);

                if ((r = red_yaml_check_keys(it, what, keys, ld->errstr,
                                             ld->size))) {
                        return r;
                }
                if (!(bv = red_yaml_get(it, "key"))) {
                        return red_yaml_error(ld->errstr, ld->size, it,
                                              "%s: bucket \"key\" is "
                                              "required",
                                              what);
                }
                if ((r = red_contract_load_str(ld, bv, what, &b->key))) {
                        return r;
                }
                if ((bv = red_yaml_get(it, "below"))) {
                        b->has_below = true;
                        if ((r = red_yaml_to_double(bv, what, &b->below,
                                                    ld->errstr, ld->size))) {
                                return r;
                        }
                        if (i > 0 && d->buckets[i - 1].below >= b->below) {
                                return red_yaml_error(
                                        ld->errstr, ld->size, bv,
                                        "%s: bucket thresholds must "
                                        "increase",
                                        what);
                        }
                } else if (!last) {
                        return red_yaml_error(ld->errstr, ld->size, it,
                                              "%s: only the last bucket may "
                                              "omit \"below\"",
                                              what);
                }
        }
        return 0;
}

static int dim_of(red_loader_t *ld, const red_yaml_node_t *key,
                  const red_yaml_node_t *n, red_dim_t *d)
{
        static const char *const keys[] = {"field", "default", "buckets",
                                           "constant", NULL};
        const red_yaml_node_t *v;
        red_field_type_t t;
        char what[128];
        int r;

        if ((r = red_contract_load_ident(ld, key, "dimension", 63, &d->name))) {
                return r;
        }
        snprintf(what, sizeof(what), "dimension %s", d->name);
        if ((r = red_yaml_check_keys(n, what, keys, ld->errstr, ld->size))) {
                return r;
        }
        if ((v = red_yaml_get(n, "constant"))) {
                if (red_yaml_get(n, "field")) {
                        return red_yaml_error(ld->errstr, ld->size, v,
                                              "%s: use either constant or "
                                              "field",
                                              what);
                }
                d->kind = RED_DIM_CONSTANT;
                return red_contract_load_str(ld, v, what, &d->constant);
        }
        if (!(v = red_yaml_get(n, "field"))) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: \"field\" or \"constant\" is "
                                      "required",
                                      what);
        }
        if ((r = red_contract_load_slot(ld, v, what, &d->slot))) {
                return r;
        }
        if ((v = red_yaml_get(n, "default")) &&
            (r = red_contract_load_str(ld, v, what, &d->def))) {
                return r;
        }
        t = ld->c->slot_types[d->slot];
        if (!(v = red_yaml_get(n, "buckets"))) {
                d->kind = RED_DIM_FIELD;
                /* a key is a short exact text: no objects, no floats */
                if (t == RED_FT_OBJECT || t == RED_FT_ARRAY ||
                    t == RED_FT_NUMBER || t == RED_FT_TIMESTAMP) {
                        return red_yaml_error(
                                ld->errstr, ld->size, red_yaml_get(n, "field"),
                                "%s: a %s field cannot be a dimension "
                                "(allowed: string, integer, boolean, uuid; "
                                "use buckets for numbers)",
                                what, red_contract_field_type_name(t));
                }
                return 0;
        }
        d->kind = RED_DIM_BUCKETS;
        if (t != RED_FT_NUMBER && t != RED_FT_INTEGER) {
                return red_yaml_error(ld->errstr, ld->size, v,
                                      "%s: buckets need a number field", what);
        }
        return buckets_of(ld, v, what, d);
}

int red_contract_load_dims(red_loader_t *ld, const red_yaml_node_t *n)
{
        red_contract_t *c = ld->c;

        if (red_yaml_expect(n, RED_YAML_MAP, "dimensions", ld->errstr,
                            ld->size)) {
                return -EINVAL;
        }
        c->dims = calloc(red_yaml_size(n) + 1, sizeof(*c->dims));
        if (!c->dims) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < red_yaml_size(n); i++) {
                int r;
                c->dim_cnt++;
                if ((r = dim_of(ld, red_yaml_key(n, i), red_yaml_value(n, i),
                                &c->dims[i]))) {
                        return r;
                }
        }
        return 0;
}

void red_contract_load_free_dims(red_dim_t *d, size_t cnt)
{
        for (size_t i = 0; d && i < cnt; i++) {
                free(d[i].name);
                free(d[i].def);
                free(d[i].constant);
                for (size_t b = 0; d[i].buckets && b < d[i].bucket_cnt; b++) {
                        free(d[i].buckets[b].key);
                }
                free(d[i].buckets);
        }
        free(d);
}

/* --- aggregations -------------------------------------------------------- */

/* Columns every aggregation table has, besides its grouping and key
 * columns (red_migrate creates them, the sink fills them). */
static const char *const engine_columns[] = {
        "aggregation_id", "window_type",  "window_start", "window_end", "state",
        "revision",       "finalized_at", "updated_at",   NULL};

static int dim_index(const red_contract_t *c, const char *name)
{
        for (size_t i = 0; i < c->dim_cnt; i++) {
                if (!strcmp(c->dims[i].name, name)) {
                        return (int)i;
                }
        }
        return -1;
}

/* windows: [hourly, daily, weekly, monthly] as a mask of window types. */
int red_contract_load_windows(red_loader_t *ld, const red_yaml_node_t *v,
                              const char *what, uint32_t *mask)
{
        char **names = NULL;
        size_t cnt = 0;
        int r;

        if ((r = red_contract_load_strlist(ld, v, what, &names, &cnt))) {
                return r;
        }
        for (size_t i = 0; i < cnt; i++) {
                red_window_type_t wt;
                if (red_window_type_parse(names[i], &wt)) {
                        r = red_yaml_error(
                                ld->errstr, ld->size,
                                red_yaml_kind(v) == RED_YAML_SEQ
                                        ? red_yaml_item(v, i)
                                        : v,
                                "%s: unknown window \"%s\" (allowed: hourly, "
                                "daily, weekly, monthly)",
                                what, names[i]);
                        goto done;
                }
                *mask |= 1u << wt;
        }
        if (!*mask) {
                r = red_yaml_error(ld->errstr, ld->size, v,
                                   "%s: at least one window is needed", what);
        }
done:
        red_contract_load_strlist_free(names, cnt);
        return r;
}

/*
 * time_zone: an IANA zone name read from the system's tzdata (red_tz);
 * "UTC" (the default) stays NULL, the windows' fast path.
 */
static int time_zone_of(red_loader_t *ld, const red_yaml_node_t *v,
                        const char *what, red_tz_t **out)
{
        const char *name;
        char err[256];
        int r;

        if ((r = red_yaml_to_str(v, what, &name, ld->errstr, ld->size))) {
                return r;
        }
        if (!strcmp(name, "UTC")) {
                return 0;
        }
        if (!(*out = red_tz_load(name, err, sizeof(err)))) {
                return red_yaml_error(ld->errstr, ld->size, v,
                                      "%s: time_zone: %s", what, err);
        }
        return 0;
}

/* key_columns: the names of the columns a grouping's dimensions fill. */
static int key_columns_of(red_loader_t *ld, const red_yaml_node_t *v,
                          const char *what, red_agg_t *a)
{
        int r;

        if ((r = red_contract_load_strlist(ld, v, what, &a->key_columns,
                                           &a->key_cnt))) {
                return r;
        }
        if (a->key_cnt < 1 || a->key_cnt > 8) {
                return red_yaml_error(ld->errstr, ld->size, v,
                                      "%s: between 1 and 8 key columns are "
                                      "allowed",
                                      what);
        }
        for (size_t i = 0; i < a->key_cnt; i++) {
                if (!red_contract_load_is_ident(a->key_columns[i], 63)) {
                        return red_yaml_error(ld->errstr, ld->size, v,
                                              "%s: key column \"%s\" is not "
                                              "a valid name",
                                              what, a->key_columns[i]);
                }
        }
        return 0;
}

/* name: [dimension, ...], one dimension per key column. */
static int grouping_of(red_loader_t *ld, const red_agg_t *a,
                       const red_yaml_node_t *key, const red_yaml_node_t *gv,
                       const char *what, red_grouping_t *g)
{
        const red_contract_t *c = ld->c;
        char **names = NULL, buf[1024];
        size_t cnt = 0;
        int r;

        if ((r = red_contract_load_str(ld, key, what, &g->name)) ||
            (r = red_contract_load_strlist(ld, gv, what, &names, &cnt))) {
                return r;
        }
        g->dims = calloc(a->key_cnt + 1, sizeof(*g->dims));
        if (!g->dims) {
                r = -ENOMEM;
                goto done;
        }
        if (cnt != a->key_cnt) {
                r = red_yaml_error(ld->errstr, ld->size, gv,
                                   "%s: grouping %s needs one dimension per "
                                   "key column (%zu)",
                                   what, g->name, a->key_cnt);
                goto done;
        }
        for (size_t k = 0; k < cnt; k++) {
                g->dims[k] = dim_index(c, names[k]);
                if (g->dims[k] < 0) {
                        size_t pos = 0;
                        buf[0] = '\0';
                        for (size_t d = 0; d < c->dim_cnt; d++) {
                                pos += (size_t)snprintf(
                                        buf + pos, sizeof(buf) - pos, "%s%s",
                                        d ? ", " : "", c->dims[d].name);
                        }
                        r = red_yaml_error(ld->errstr, ld->size, gv,
                                           "%s: grouping %s: unknown "
                                           "dimension \"%s\" (allowed: %s)",
                                           what, g->name, names[k], buf);
                        goto done;
                }
        }
done:
        red_contract_load_strlist_free(names, cnt);
        return r;
}

static int groupings_of(red_loader_t *ld, const red_yaml_node_t *v,
                        const char *what, red_agg_t *a)
{
        int r;

        if (red_yaml_expect(v, RED_YAML_MAP, what, ld->errstr, ld->size)) {
                return -EINVAL;
        }
        a->groupings = calloc(red_yaml_size(v) + 1, sizeof(*a->groupings));
        if (!a->groupings) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < red_yaml_size(v); i++) {
                red_grouping_t *g = &a->groupings[a->grouping_cnt++];
                if ((r = grouping_of(ld, a, red_yaml_key(v, i),
                                     red_yaml_value(v, i), what, g))) {
                        return r;
                }
        }
        if (!a->grouping_cnt) {
                return red_yaml_error(ld->errstr, ld->size, v,
                                      "%s: at least one grouping is needed",
                                      what);
        }
        return 0;
}

/* columns: {name: expression or object}; the names of the grouping
 * column, the key columns and the engine's own columns are taken. */
static int columns_of(red_loader_t *ld, const red_yaml_node_t *v,
                      const char *what, red_agg_t *a)
{
        int r;

        if (red_yaml_expect(v, RED_YAML_MAP, what, ld->errstr, ld->size)) {
                return -EINVAL;
        }
        a->columns = calloc(red_yaml_size(v) + 1, sizeof(*a->columns));
        if (!a->columns) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < red_yaml_size(v); i++) {
                red_column_t *col = &a->columns[a->column_cnt++];
                const char *name = red_yaml_str(red_yaml_key(v, i));
                bool clash = !strcmp(name, a->grouping_column);

                for (const char *const *e = engine_columns; *e; e++) {
                        clash |= !strcmp(name, *e);
                }
                for (size_t k = 0; k < a->key_cnt; k++) {
                        clash |= !strcmp(name, a->key_columns[k]);
                }
                if (clash) {
                        return red_yaml_error(ld->errstr, ld->size,
                                              red_yaml_key(v, i),
                                              "%s: column %s is written by "
                                              "the engine itself",
                                              what, name);
                }
                if ((r = red_contract_load_column(ld, a, red_yaml_key(v, i),
                                                  red_yaml_value(v, i), col))) {
                        return r;
                }
        }
        return 0;
}

/* column_types and indexes against the columns of the table. */
static int agg_table_check(red_loader_t *ld, const red_yaml_node_t *n,
                           const char *what, red_agg_t *a)
{
        size_t cnt = 1 + a->key_cnt + a->column_cnt, k = 0;
        const char **cols = calloc(cnt, sizeof(*cols));
        red_sqlt_class_t *classes = calloc(cnt, sizeof(*classes));
        bool *integral = calloc(cnt, sizeof(*integral));
        int r = -ENOMEM;

        if (cols && classes && integral) {
                cols[k] = a->grouping_column;
                classes[k++] = RED_SQLT_TEXT;
                for (size_t i = 0; i < a->key_cnt; i++) {
                        cols[k] = a->key_columns[i];
                        classes[k++] = RED_SQLT_TEXT;
                }
                for (size_t i = 0; i < a->column_cnt; i++) {
                        cols[k] = a->columns[i].name;
                        classes[k] = red_tabledef_agg_class(a, &a->columns[i],
                                                            &integral[k]);
                        k++;
                }
                r = red_contract_load_table_check(
                        ld, n, what, a->coltypes, a->coltype_cnt, a->indexes,
                        a->index_cnt, cols, classes, integral, cnt,
                        engine_columns,
                        sizeof(engine_columns) / sizeof(*engine_columns) - 1);
        }
        free(cols);
        free(classes);
        free(integral);
        return r;
}

/* retention: and partition:, after windows:. With one partitioning for
 * all window types a partition can only go when every window type in it
 * is past its retention: the longest retention, or never when one of
 * them keeps its rows. */
static int agg_storage(red_loader_t *ld, const red_yaml_node_t *n,
                       const char *what, red_agg_t *a)
{
        const red_yaml_node_t *v;
        int r;

        a->partition = RED_PART_MONTHLY;
        if ((v = red_yaml_get(n, "partition"))) {
                if (red_yaml_kind(v) == RED_YAML_MAP) {
                        a->partition_by_window = true;
                        r = red_contract_load_window_partition(
                                ld, v, what, a->windows, a->window_partition);
                } else {
                        r = red_contract_load_partition(ld, v, what,
                                                        &a->partition);
                }
                if (r) {
                        return r;
                }
        }
        if ((v = red_yaml_get(n, "retention")) &&
            (r = red_contract_load_window_retention(ld, v, what, a->windows,
                                                    a->window_retention_us))) {
                return r;
        }
        a->retention_us = 0;
        for (int w = 0; w < RED_WINDOW__CNT; w++) {
                if (!(a->windows & (1u << w))) {
                        continue;
                }
                if (!a->window_retention_us[w]) {
                        a->retention_us = 0;
                        break;
                }
                if (a->window_retention_us[w] > a->retention_us) {
                        a->retention_us = a->window_retention_us[w];
                }
        }
        return 0;
}

static int agg_of(red_loader_t *ld, const red_yaml_node_t *n, red_agg_t *a)
{
        static const char *const keys[] = {
                "name",        "table",        "description", "partition",
                "retention",   "windows",      "time_zone",   "grouping_column",
                "key_columns", "groupings",    "measures",    "columns",
                "publish",     "column_types", "indexes",     NULL};
        const red_yaml_node_t *v;
        char what[128];
        int r;

        if ((r = red_yaml_check_keys(n, "aggregation", keys, ld->errstr,
                                     ld->size))) {
                return r;
        }
        if (!(v = red_contract_load_required(ld, n, "aggregation", "name", "",
                                             &r)) ||
            (r = red_contract_load_ident(ld, v, "aggregation name", 63,
                                         &a->name))) {
                return r;
        }
        snprintf(what, sizeof(what), "aggregation %s", a->name);
        if (!(v = red_contract_load_required(ld, n, what, "table", "", &r)) ||
            (r = red_contract_load_ident(ld, v, what, AGG_TABLE_NAME_MAX,
                                         &a->table))) {
                return r;
        }
        if ((v = red_yaml_get(n, "description")) &&
            (r = red_contract_load_str(ld, v, what, &a->description))) {
                return r;
        }
        if (!(v = red_contract_load_required(
                      ld, n, what, "windows",
                      " (allowed: hourly, daily, weekly, "
                      "monthly)",
                      &r)) ||
            (r = red_contract_load_windows(ld, v, what, &a->windows)) ||
            (r = agg_storage(ld, n, what, a))) {
                return r;
        }
        if ((v = red_yaml_get(n, "time_zone")) &&
            (r = time_zone_of(ld, v, what, &a->tz))) {
                return r;
        }
        /* the seed's name; with one grouping nobody needs to pick one */
        if ((v = red_yaml_get(n, "grouping_column"))) {
                r = red_contract_load_ident(ld, v, what, 63,
                                            &a->grouping_column);
        } else if (!(a->grouping_column = strdup("aggregation_type"))) {
                r = -ENOMEM;
        }
        if (r) {
                return r;
        }
        if (!(v = red_contract_load_required(ld, n, what, "key_columns", "",
                                             &r)) ||
            (r = key_columns_of(ld, v, what, a))) {
                return r;
        }
        if (!(v = red_contract_load_required(ld, n, what, "groupings", "",
                                             &r)) ||
            (r = groupings_of(ld, v, what, a))) {
                return r;
        }
        if (!(v = red_contract_load_required(ld, n, what, "measures", "",
                                             &r)) ||
            (r = red_contract_load_measures(ld, v, what, false, &a->measures,
                                            &a->measure_cnt))) {
                return r;
        }
        if (!(v = red_contract_load_required(ld, n, what, "columns", "", &r)) ||
            (r = columns_of(ld, v, what, a))) {
                return r;
        }
        if ((v = red_yaml_get(n, "publish")) &&
            (r = red_contract_load_publish(ld, v, what, &a->publish))) {
                return r;
        }
        if ((v = red_yaml_get(n, "column_types")) &&
            (r = red_contract_load_coltypes(ld, v, what, &a->coltypes,
                                            &a->coltype_cnt))) {
                return r;
        }
        if ((v = red_yaml_get(n, "indexes")) &&
            (r = red_contract_load_indexes(ld, v, what, &a->indexes,
                                           &a->index_cnt))) {
                return r;
        }
        return agg_table_check(ld, n, what, a);
}

int red_contract_load_aggs(red_loader_t *ld, const red_yaml_node_t *n)
{
        red_contract_t *c = ld->c;

        if (red_yaml_expect(n, RED_YAML_SEQ, "aggregations", ld->errstr,
                            ld->size)) {
                return -EINVAL;
        }
        c->aggs = calloc(red_yaml_size(n) + 1, sizeof(*c->aggs));
        if (!c->aggs) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < red_yaml_size(n); i++) {
                int r;
                c->aggs[i].index = (int)i;
                c->aggs[i].weighted = c->weight != NULL;
                c->agg_cnt++;
                if ((r = agg_of(ld, red_yaml_item(n, i), &c->aggs[i]))) {
                        return r;
                }
                for (size_t j = 0; j < i; j++) {
                        if (!strcmp(c->aggs[j].name, c->aggs[i].name) ||
                            !strcmp(c->aggs[j].table, c->aggs[i].table)) {
                                return red_yaml_error(
                                        ld->errstr, ld->size,
                                        red_yaml_item(n, i),
                                        "aggregation %s: name or table "
                                        "already used by aggregation %s",
                                        c->aggs[i].name, c->aggs[j].name);
                        }
                }
        }
        return 0;
}

void red_contract_load_free_aggs(red_agg_t *a, size_t cnt)
{
        for (size_t i = 0; a && i < cnt; i++) {
                free(a[i].name);
                free(a[i].table);
                free(a[i].description);
                red_tz_destroy(a[i].tz);
                free(a[i].grouping_column);
                red_contract_load_free_coltypes(a[i].coltypes,
                                                a[i].coltype_cnt);
                red_contract_load_free_indexes(a[i].indexes, a[i].index_cnt);
                red_contract_load_strlist_free(a[i].key_columns, a[i].key_cnt);
                for (size_t g = 0; a[i].groupings && g < a[i].grouping_cnt;
                     g++) {
                        free(a[i].groupings[g].name);
                        free(a[i].groupings[g].dims);
                }
                free(a[i].groupings);
                red_contract_load_free_measures(a[i].measures,
                                                a[i].measure_cnt);
                for (size_t k = 0; a[i].columns && k < a[i].column_cnt; k++) {
                        red_contract_load_free_column(&a[i].columns[k]);
                }
                free(a[i].columns);
                free(a[i].publish.topic);
                free(a[i].publish.event_type);
        }
        free(a);
}
