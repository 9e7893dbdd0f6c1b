/* red_tabledef - the tables of a contract, and what each part of them
 * means, derived from the contract alone. */
#include "red_tabledef.h"

#include "red_buf.h"
#include "red_expr.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The definitions reproduce the seed schema the shipped contracts were
 * written for (migrations 0002-0006 of earlier releases, kept under
 * tests/data/legacy_migrations/), so that a database migrated by hand
 * before is adopted as it is: the engine's columns, keys, indexes and
 * fill factors are those, and a contract's column_types: keeps the few
 * seed types that differ from the engine's own choice.
 *
 * Every builder appends tables with table_new() and fills them with the
 * helpers below; a failed allocation is remembered in the builder state
 * and reported once at the end, so the builders read as declarations.
 */

typedef struct build_s {
        const red_contract_t *c;
        red_tabledefs_t *out;
        bool oom;
        char *errstr;
        size_t size;
} build_t;

/* --- building blocks ---------------------------------------------------- */

static char *dup_or_null(build_t *b, const char *s)
{
        char *d;

        if (!s) {
                return NULL;
        }
        if (!(d = strdup(s))) {
                b->oom = true;
        }
        return d;
}

static char *fmt(build_t *b, const char *f, ...) RED_PRINTF(2, 3);
static char *fmt(build_t *b, const char *f, ...)
{
        va_list ap;
        char *s;

        va_start(ap, f);
        if (vasprintf(&s, f, ap) < 0) {
                s = NULL;
                b->oom = true;
        }
        va_end(ap);
        return s;
}

/* Grows an array of @p elem-sized items by one zeroed item; NULL on OOM. */
static void *grow(build_t *b, void **arr, size_t *cnt, size_t elem)
{
        char *n = realloc(*arr, (*cnt + 1) * elem);

        if (!n) {
                b->oom = true;
                return NULL;
        }
        memset(n + *cnt * elem, 0, elem);
        *arr = n;
        return n + (*cnt)++ * elem;
}

static red_tabledef_t *table_new(build_t *b, const char *name, const char *sink,
                                 const char *owner)
{
        red_tabledef_t *t =
                grow(b, (void **)&b->out->items, &b->out->cnt, sizeof(*t));

        if (!t) {
                return NULL;
        }
        t->name = dup_or_null(b, name);
        t->sink = sink;
        t->owner = dup_or_null(b, owner);
        t->agg = -1;
        return t;
}

static red_coldef_t *col_add(build_t *b, red_tabledef_t *t, const char *name,
                             const char *type, bool not_null, const char *def,
                             const char *comment)
{
        red_coldef_t *col =
                grow(b, (void **)&t->cols, &t->col_cnt, sizeof(*col));

        if (!col) {
                return NULL;
        }
        col->name = dup_or_null(b, name);
        col->type = dup_or_null(b, type);
        col->not_null = not_null;
        col->def = dup_or_null(b, def);
        col->comment = dup_or_null(b, comment);
        return col;
}

/* Applies the contract's column_types: entry of a column, if any. */
static void col_override(build_t *b, red_coldef_t *col, const red_coltype_t *ct)
{
        if (!col || !ct) {
                return;
        }
        if (ct->type) {
                free(col->type);
                col->type = dup_or_null(b, ct->type);
        }
        if (ct->not_null >= 0) {
                col->not_null = ct->not_null;
        }
        if (ct->def) {
                free(col->def);
                col->def = dup_or_null(b, ct->def);
        }
}

static void pkey_add(build_t *b, red_tabledef_t *t, const char *col)
{
        char **p = grow(b, (void **)&t->pkey, &t->pkey_cnt, sizeof(*p));

        if (p) {
                *p = dup_or_null(b, col);
        }
}

/* An index <table>_<suffix> on @p cols (a NULL-terminated list). */
static red_idxdef_t *idx_add(build_t *b, red_tabledef_t *t, const char *suffix,
                             const char *method, const char *where,
                             const char *const *cols)
{
        red_idxdef_t *ix = grow(b, (void **)&t->idx, &t->idx_cnt, sizeof(*ix));

        if (!ix) {
                return NULL;
        }
        ix->name = fmt(b, "%s_%s", t->name, suffix);
        ix->method = dup_or_null(b, method ? method : "btree");
        ix->where = dup_or_null(b, where);
        for (size_t i = 0; cols[i]; i++) {
                char **c = grow(b, (void **)&ix->columns, &ix->column_cnt,
                                sizeof(*c));
                if (c) {
                        *c = dup_or_null(b, cols[i]);
                }
        }
        return ix;
}

static void meaning_add(build_t *b, red_tabledef_t *t, red_meaning_kind_t kind,
                        char *name, char *text)
{
        red_meaning_t *m =
                grow(b, (void **)&t->meanings, &t->meaning_cnt, sizeof(*m));

        if (!m) {
                free(name);
                free(text);
                return;
        }
        m->kind = kind;
        m->name = name;
        m->text = text;
}

/* The meanings every table has: its columns' types, its layout and its
 * indexes (added after the columns and indexes are final). */
static void meanings_common(build_t *b, red_tabledef_t *t)
{
        red_buf_t lay;

        for (size_t i = 0; i < t->col_cnt; i++) {
                const red_coldef_t *col = &t->cols[i];
                const red_meaning_t *m = NULL;
                char name[96];

                snprintf(name, sizeof(name), "column %s", col->name);
                for (size_t k = 0; k < t->meaning_cnt; k++) {
                        if (!strcmp(t->meanings[k].name, name)) {
                                m = &t->meanings[k];
                        }
                }
                if (!m) {
                        /* an engine column: its type says it all */
                        meaning_add(b, t, RED_MEANING_COLUMN,
                                    fmt(b, "%s", name),
                                    fmt(b, "%s%s", col->type,
                                        col->not_null ? " not null" : ""));
                }
        }
        red_buf_init(&lay);
        red_buf_puts(&lay, "primary key (");
        for (size_t i = 0; i < t->pkey_cnt; i++) {
                red_buf_printf(&lay, "%s%s", i ? ", " : "", t->pkey[i]);
        }
        red_buf_puts(&lay, ")");
        if (t->part == RED_TPART_RANGE) {
                red_buf_printf(&lay, ", partitioned by range of %s, %s",
                               t->part_column,
                               t->gran == RED_PART_DAILY ? "daily" : "monthly");
        } else if (t->part == RED_TPART_WINDOWS) {
                red_buf_puts(&lay, ", partitioned by window_type");
                for (int w = 0; w < RED_WINDOW__CNT; w++) {
                        if (t->windows & (1u << w)) {
                                red_buf_printf(&lay,
                                               ", %s by range of window_start, "
                                               "%s",
                                               red_window_type_name(
                                                       (red_window_type_t)w),
                                               t->window_gran[w] ==
                                                               RED_PART_DAILY
                                                       ? "daily"
                                                       : "monthly");
                        }
                }
        }
        if (lay.failed) {
                b->oom = true;
        }
        meaning_add(b, t, RED_MEANING_LAYOUT, fmt(b, "layout"),
                    red_buf_steal(&lay, NULL));
        for (size_t i = 0; i < t->idx_cnt; i++) {
                const red_idxdef_t *ix = &t->idx[i];
                red_buf_t d;

                red_buf_init(&d);
                red_buf_printf(&d, "using %s (", ix->method);
                for (size_t k = 0; k < ix->column_cnt; k++) {
                        red_buf_printf(&d, "%s%s", k ? ", " : "",
                                       ix->columns[k]);
                }
                red_buf_printf(&d, ")%s%s", ix->where ? " where " : "",
                               ix->where ? ix->where : "");
                if (d.failed) {
                        b->oom = true;
                }
                meaning_add(b, t, RED_MEANING_INDEX,
                            fmt(b, "index %s", ix->name),
                            red_buf_steal(&d, NULL));
        }
}

/* The indexes a contract asks for (indexes:). */
static void idx_contract(build_t *b, red_tabledef_t *t, const red_index_t *ix,
                         size_t cnt)
{
        for (size_t i = 0; i < cnt; i++) {
                const char *cols[16] = {NULL};
                red_buf_t where;

                red_buf_init(&where);
                for (size_t k = 0; k < ix[i].column_cnt && k < 15; k++) {
                        cols[k] = ix[i].columns[k];
                        if (ix[i].not_null) {
                                red_buf_printf(&where, "%s%s IS NOT NULL",
                                               k ? " AND " : "", cols[k]);
                        }
                }
                if (where.failed) {
                        b->oom = true;
                }
                idx_add(b, t, ix[i].name, ix[i].method,
                        ix[i].not_null ? where.data : NULL, cols);
                red_buf_destroy(&where);
        }
}

/* varchar(n) for text of at most @p max characters, text when unbounded
 * (@p max < 0). */
static void text_type(int64_t max, char *out, size_t size)
{
        if (max < 0) {
                snprintf(out, size, "text");
        } else {
                snprintf(out, size, "character varying(%lld)",
                         (long long)(max ? max : 1));
        }
}

/* The longest text of a field's values: its max_length, the length of a
 * uuid, integer or boolean; -1 when unbounded. */
static int64_t field_max_len(const red_contract_t *c, int slot)
{
        int64_t max = -1;

        switch (c->slot_types[slot]) {
        case RED_FT_UUID:
                return 36;
        case RED_FT_INTEGER:
                return 20;
        case RED_FT_BOOLEAN:
                return 5;
        case RED_FT_STRING:
                break;
        default:
                return -1;
        }
        for (size_t k = 0; k < c->kind_cnt; k++) {
                for (size_t f = 0; f < c->kinds[k].field_cnt; f++) {
                        const red_field_t *fd = &c->kinds[k].fields[f];
                        if (fd->slot != slot) {
                                continue;
                        }
                        if (fd->max_length < 0) {
                                return -1;
                        }
                        max = fd->max_length > max ? fd->max_length : max;
                }
        }
        return max;
}

red_sqlt_class_t red_tabledef_field_class(red_field_type_t t)
{
        switch (t) {
        case RED_FT_INTEGER:
                return RED_SQLT_INTEGER;
        case RED_FT_NUMBER:
                return RED_SQLT_FLOAT;
        case RED_FT_BOOLEAN:
                return RED_SQLT_BOOLEAN;
        case RED_FT_UUID:
                return RED_SQLT_UUID;
        case RED_FT_TIMESTAMP:
                return RED_SQLT_TIME;
        case RED_FT_OBJECT:
                return RED_SQLT_JSON;
        default:
                return RED_SQLT_TEXT;
        }
}

/* The SQL type of a field's values in a raw column. */
static void field_type(const red_contract_t *c, int slot, char *out,
                       size_t size)
{
        static const char *const names[] = {
                [RED_SQLT_INTEGER] = "bigint",
                [RED_SQLT_FLOAT] = "double precision",
                [RED_SQLT_BOOLEAN] = "boolean",
                [RED_SQLT_UUID] = "uuid",
                [RED_SQLT_TIME] = "timestamp with time zone",
                [RED_SQLT_JSON] = "jsonb",
        };
        red_sqlt_class_t cls = red_tabledef_field_class(c->slot_types[slot]);

        if (cls == RED_SQLT_TEXT) {
                text_type(field_max_len(c, slot), out, size);
        } else {
                snprintf(out, size, "%s", names[cls]);
        }
}

/* The shortest text that reads back as @p d (0.6, not
 * 0.59999999999999998), as the contract wrote it. */
static void put_num(red_buf_t *d, double v)
{
        char buf[40];

        if (v == (double)(long long)v && v < 1e15 && v > -1e15) {
                red_buf_printf(d, "%lld", (long long)v);
                return;
        }
        for (int p = 1; p <= 17; p++) {
                snprintf(buf, sizeof(buf), "%.*g", p, v);
                if (strtod(buf, NULL) == v) {
                        break;
                }
        }
        red_buf_puts(d, buf);
}

/* What a field means to the rows it fills: its name, type and where its
 * value comes from (a changed scale changes every stored value). */
static void field_text(red_buf_t *d, const red_contract_t *c, int slot)
{
        red_buf_printf(d, "field %s (%s", c->slot_names[slot],
                       red_field_type_name(c->slot_types[slot]));
        for (size_t k = 0; k < c->kind_cnt; k++) {
                for (size_t f = 0; f < c->kinds[k].field_cnt; f++) {
                        const red_field_t *fd = &c->kinds[k].fields[f];
                        if (fd->slot != slot || fd->from_cnt < 2) {
                                continue;
                        }
                        red_buf_printf(d, "; %s from", c->kinds[k].name);
                        for (size_t s = 0; s < fd->from_cnt; s++) {
                                red_buf_printf(d, " %s", fd->from[s].name);
                                if (fd->from[s].scale != 1) {
                                        red_buf_putc(d, '*');
                                        put_num(d, fd->from[s].scale);
                                }
                        }
                }
        }
        red_buf_putc(d, ')');
}

/* --- aggregations ------------------------------------------------------- */

static void kinds_text(red_buf_t *d, const red_contract_t *c, uint64_t mask)
{
        bool first = true;

        red_buf_putc(d, '[');
        for (size_t k = 0; k < c->kind_cnt; k++) {
                if (mask & (UINT64_C(1) << c->kinds[k].index)) {
                        red_buf_printf(d, "%s%s", first ? "" : ", ",
                                       c->kinds[k].name);
                        first = false;
                }
        }
        red_buf_putc(d, ']');
}

static void const_text(red_buf_t *d, const red_const_t *v)
{
        switch (v->type) {
        case RED_FT_INTEGER:
                red_buf_printf(d, "%lld", (long long)v->i);
                break;
        case RED_FT_NUMBER:
                put_num(d, v->d);
                break;
        case RED_FT_BOOLEAN:
                red_buf_puts(d, v->b ? "true" : "false");
                break;
        default:
                red_buf_printf(d, "\"%s\"", v->s ? v->s : "");
                break;
        }
}

/* A measure's definition: what it counts or sums, over which events. */
static void measure_text(red_buf_t *d, const red_contract_t *c,
                         const red_measure_t *m)
{
        static const char *const kinds[] = {"count",  "sum",      "stats",
                                            "sketch", "count_by", "by"};

        red_buf_printf(d, "%s: %s", m->name, kinds[m->kind]);
        if (m->slot >= 0) {
                red_buf_putc(d, ' ');
                field_text(d, c, m->slot);
        }
        red_buf_puts(d, " on ");
        kinds_text(d, c, m->on);
        for (size_t i = 0; i < m->where_cnt; i++) {
                red_buf_printf(d, "%s%s = ", i ? ", " : " where ",
                               c->slot_names[m->where[i].slot]);
                const_text(d, &m->where[i].value);
        }
        if (m->kind == RED_MEAS_SUM || m->kind == RED_MEAS_STATS ||
            m->kind == RED_MEAS_SKETCH) {
                red_buf_printf(d, " precision %d", m->precision);
        }
        if (m->kind == RED_MEAS_SKETCH) {
                red_buf_puts(d, " accuracy ");
                put_num(d, c->sketch_alpha);
        }
        if (m->sub_cnt) {
                red_buf_puts(d, " {");
                for (size_t i = 0; i < m->sub_cnt; i++) {
                        if (i) {
                                red_buf_puts(d, "; ");
                        }
                        measure_text(d, c, &m->sub[i]);
                }
                red_buf_putc(d, '}');
        }
}

typedef struct refs_s {
        const red_agg_t *a;
        uint64_t measures; /* bit per measure referenced */
} refs_t;

static void note_ref(void *opaque, int ref)
{
        refs_t *r = opaque;
        int m = RED_REF_MEASURE(ref);

        if (m >= 0 && m < 64) {
                r->measures |= UINT64_C(1) << m;
        }
}

/* A reference is a count (an integer, never null) when it names a count
 * measure or any measure's .count. */
static bool ref_is_count(void *opaque, int ref)
{
        const red_agg_t *a = opaque;
        int m = RED_REF_MEASURE(ref);

        return RED_REF_OUTPUT(ref) == RED_OUT_COUNT && m >= 0 &&
               (size_t)m < a->measure_cnt;
}

red_sqlt_class_t red_tabledef_agg_class(const red_agg_t *a,
                                        const red_column_t *col, bool *integral)
{
        int ref;

        *integral = false;
        if (col->kind != RED_COL_EXPR) {
                return RED_SQLT_JSON;
        }
        if (red_expr_integral(col->expr, ref_is_count, (void *)a)) {
                *integral = true;
                return RED_SQLT_INTEGER;
        }
        if (red_expr_is_ref(col->expr, &ref) &&
            RED_REF_OUTPUT(ref) == RED_OUT_SUM) {
                return RED_SQLT_DECIMAL;
        }
        return RED_SQLT_FLOAT;
}

/* A contract column of an aggregation: its type from what the engine
 * writes, and what it means: its definition and the measures it reads. */
static void agg_column(build_t *b, red_tabledef_t *t, const red_agg_t *a,
                       const red_column_t *col)
{
        const red_contract_t *c = b->c;
        bool integral;
        red_sqlt_class_t cls = red_tabledef_agg_class(a, col, &integral);
        refs_t refs = {a, 0};
        red_coldef_t *cd;
        red_buf_t d;

        if (cls == RED_SQLT_INTEGER) {
                cd = col_add(b, t, col->name, "bigint", true, "0", NULL);
        } else {
                cd = col_add(b, t, col->name,
                             cls == RED_SQLT_JSON      ? "jsonb"
                             : cls == RED_SQLT_DECIMAL ? "numeric"
                                                       : "double precision",
                             false, NULL, NULL);
        }
        col_override(b, cd,
                     red_coltype_find(a->coltypes, a->coltype_cnt, col->name));
        if (cd) {
                cd->comment = fmt(b, "%s", col->source);
        }
        /* each: reads the by measure's own measures (in its text) */
        for (size_t k = 0; col->kind != RED_COL_EACH && k < col->key_cnt; k++) {
                red_expr_refs(col->exprs[k], note_ref, &refs);
        }
        if (col->expr && col->kind != RED_COL_EACH) {
                red_expr_refs(col->expr, note_ref, &refs);
        }
        if (col->measure >= 0 && col->measure < 64) {
                refs.measures |= UINT64_C(1) << col->measure;
        }
        red_buf_init(&d);
        red_buf_printf(&d, "%s%s%s%s = %s", cd ? cd->type : "",
                       cd && cd->not_null ? " not null" : "",
                       cd && cd->def ? " default " : "",
                       cd && cd->def ? cd->def : "", col->source);
        for (size_t m = 0; m < a->measure_cnt && m < 64; m++) {
                if (refs.measures & (UINT64_C(1) << m)) {
                        red_buf_puts(&d, "; ");
                        measure_text(&d, c, &a->measures[m]);
                }
        }
        if (d.failed) {
                b->oom = true;
        }
        meaning_add(b, t, RED_MEANING_COLUMN, fmt(b, "column %s", col->name),
                    red_buf_steal(&d, NULL));
}

/* The dimension filling a key column: text of at most how many
 * characters (-1: unbounded). */
static int64_t dim_max_len(const red_contract_t *c, const red_dim_t *dim)
{
        int64_t max = 0;

        switch (dim->kind) {
        case RED_DIM_CONSTANT:
                return (int64_t)strlen(dim->constant);
        case RED_DIM_BUCKETS:
                for (size_t i = 0; i < dim->bucket_cnt; i++) {
                        int64_t l = (int64_t)strlen(dim->buckets[i].key);
                        max = l > max ? l : max;
                }
                return max;
        default:
                max = field_max_len(c, dim->slot);
                if (max >= 0 && dim->def && (int64_t)strlen(dim->def) > max) {
                        max = (int64_t)strlen(dim->def);
                }
                return max;
        }
}

static void dim_text(red_buf_t *d, const red_contract_t *c,
                     const red_dim_t *dim)
{
        red_buf_printf(d, "%s = ", dim->name);
        switch (dim->kind) {
        case RED_DIM_CONSTANT:
                red_buf_printf(d, "constant \"%s\"", dim->constant);
                break;
        case RED_DIM_BUCKETS:
                red_buf_printf(d, "buckets of %s:", c->slot_names[dim->slot]);
                for (size_t i = 0; i < dim->bucket_cnt; i++) {
                        const red_bucket_t *bk = &dim->buckets[i];
                        red_buf_printf(d, " %s", bk->key);
                        if (bk->has_below) {
                                red_buf_puts(d, " < ");
                                put_num(d, bk->below);
                                red_buf_putc(d, ',');
                        }
                }
                break;
        default:
                red_buf_printf(d, "field %s", c->slot_names[dim->slot]);
                if (dim->def) {
                        red_buf_printf(d, " default \"%s\"", dim->def);
                }
                break;
        }
}

/* Cells of one aggregation: the seed's layout, e.g.
 * codegen_metrics_aggregated. */
static void agg_table(build_t *b, const red_agg_t *a)
{
        const red_contract_t *c = b->c;
        static const char *const id_cols[] = {"aggregation_id", NULL};
        static const char *const open_cols[] = {"window_end", NULL};
        char owner[160], type[64];
        red_tabledef_t *t;

        snprintf(owner, sizeof(owner), "aggregation %s", a->name);
        if (!(t = table_new(b, a->table, "aggregation", owner))) {
                return;
        }
        t->agg = a->index;
        t->comment = a->description ? fmt(b, "%s", a->description)
                                    : fmt(b,
                                          "Cells of aggregation %s of "
                                          "contract %s (reducerd).",
                                          a->name, c->name);
        col_add(b, t, "aggregation_id", "uuid", true, NULL,
                "uuid v5 of the cell key (stable)");
        col_add(b, t, "window_type", "character varying(50)", true, NULL,
                "hourly, daily, weekly or monthly");
        col_add(b, t, "window_start", "timestamp with time zone", true, NULL,
                "start of the calendar window");
        col_add(b, t, "window_end", "timestamp with time zone", true, NULL,
                "end of the window (exclusive)");
        col_override(b,
                     col_add(b, t, a->grouping_column, "character varying(50)",
                             true, NULL, "the grouping of the cell"),
                     red_coltype_find(a->coltypes, a->coltype_cnt,
                                      a->grouping_column));
        for (size_t k = 0; k < a->key_cnt; k++) {
                int64_t max = 0;
                red_buf_t d;

                red_buf_init(&d);
                red_buf_puts(&d, "dimension of each grouping:");
                for (size_t g = 0; g < a->grouping_cnt; g++) {
                        const red_dim_t *dim =
                                &c->dims[a->groupings[g].dims[k]];
                        int64_t l = dim_max_len(c, dim);
                        max = max < 0 || l < 0 ? -1 : (l > max ? l : max);
                        red_buf_printf(&d, " %s: %s;", a->groupings[g].name,
                                       dim->name);
                }
                text_type(max, type, sizeof(type));
                if (d.failed) {
                        b->oom = true;
                }
                col_override(b,
                             col_add(b, t, a->key_columns[k], type, true, NULL,
                                     d.data),
                             red_coltype_find(a->coltypes, a->coltype_cnt,
                                              a->key_columns[k]));
                red_buf_destroy(&d);
        }
        for (size_t k = 0; k < a->column_cnt; k++) {
                agg_column(b, t, a, &a->columns[k]);
        }
        col_add(b, t, "state", "bytea", true, NULL,
                "the mergeable state: counts, exact sums, sketches");
        col_add(b, t, "revision", "bigint", true, "0",
                "bumped on every change of the cell");
        col_add(b, t, "finalized_at", "timestamp with time zone", false, NULL,
                "when the watermark passed window_end + grace");
        col_add(b, t, "updated_at", "timestamp with time zone", true, "now()",
                NULL);
        pkey_add(b, t, "window_type");
        pkey_add(b, t, "window_start");
        pkey_add(b, t, a->grouping_column);
        for (size_t k = 0; k < a->key_cnt; k++) {
                pkey_add(b, t, a->key_columns[k]);
        }
        if (a->partition_by_window) {
                t->part = RED_TPART_WINDOWS;
                t->windows = a->windows;
                memcpy(t->window_gran, a->window_partition,
                       sizeof(t->window_gran));
        } else {
                t->part = RED_TPART_RANGE;
                t->gran = a->partition;
        }
        t->part_column = fmt(b, "window_start");
        t->fillfactor = RED_TABLEDEF_FILLFACTOR_UPDATED;
        idx_add(b, t, "id", NULL, NULL, id_cols);
        /* the finaliser looks for open cells whose window has passed */
        idx_add(b, t, "open", NULL, "finalized_at IS NULL", open_cols);
        idx_contract(b, t, a->indexes, a->index_cnt);
        for (int w = 0; w < RED_WINDOW__CNT; w++) {
                if (a->windows & (1u << w)) {
                        const char *wn =
                                red_window_type_name((red_window_type_t)w);
                        meaning_add(b, t, RED_MEANING_WINDOW,
                                    fmt(b, "window %s", wn),
                                    fmt(b, "%s windows in UTC", wn));
                }
        }
        for (size_t g = 0; g < a->grouping_cnt; g++) {
                red_buf_t d;

                red_buf_init(&d);
                for (size_t k = 0; k < a->key_cnt; k++) {
                        red_buf_printf(&d, "%s%s: ", k ? "; " : "",
                                       a->key_columns[k]);
                        dim_text(&d, c, &c->dims[a->groupings[g].dims[k]]);
                }
                if (d.failed) {
                        b->oom = true;
                }
                meaning_add(b, t, RED_MEANING_GROUPING,
                            fmt(b, "grouping %s", a->groupings[g].name),
                            red_buf_steal(&d, NULL));
        }
        meanings_common(b, t);
}

static int aggregation_tables(build_t *b)
{
        for (size_t i = 0; i < b->c->agg_cnt; i++) {
                agg_table(b, &b->c->aggs[i]);
        }
        return 0;
}

/* --- raw sinks ----------------------------------------------------------- */

/* Whether every stored kind that has the field always gives it a value. */
static bool field_always(const red_contract_t *c, uint64_t on, int slot)
{
        bool seen = false;

        for (size_t k = 0; k < c->kind_cnt; k++) {
                bool has = false;

                if (!(on & (UINT64_C(1) << c->kinds[k].index))) {
                        continue;
                }
                for (size_t f = 0; f < c->kinds[k].field_cnt; f++) {
                        const red_field_t *fd = &c->kinds[k].fields[f];
                        if (fd->slot == slot) {
                                has = fd->required || fd->has_default;
                                seen = true;
                                break;
                        }
                }
                if (!has) {
                        return false;
                }
        }
        return seen;
}

static void raw_table(build_t *b, const red_raw_t *r, const char *name,
                      const char *topic)
{
        const red_contract_t *c = b->c;
        const char *time_cols[] = {r->time_column, NULL};
        char owner[160], type[64];
        red_tabledef_t *t;

        snprintf(owner, sizeof(owner), "raw %s", r->name);
        if (!(t = table_new(b, name, "raw", owner))) {
                return;
        }
        t->comment = fmt(b,
                         "%s%sEvents of %s stored by raw sink %s of "
                         "contract %s (reducerd).",
                         r->description ? r->description : "",
                         r->description ? " " : "", topic, r->name, c->name);
        for (size_t i = 0; i < r->column_cnt; i++) {
                const red_raw_column_t *rc = &r->columns[i];
                red_coldef_t *cd;
                red_buf_t d;

                field_type(c, rc->slot, type, sizeof(type));
                cd = col_add(b, t, rc->name, type,
                             field_always(c, r->on, rc->slot), NULL, NULL);
                col_override(b, cd,
                             red_coltype_find(r->coltypes, r->coltype_cnt,
                                              rc->name));
                red_buf_init(&d);
                field_text(&d, c, rc->slot);
                if (cd) {
                        cd->comment = fmt(b, "%s", d.data ? d.data : "");
                }
                red_buf_reset(&d);
                red_buf_printf(&d, "%s%s%s%s = ", cd ? cd->type : "",
                               cd && cd->not_null ? " not null" : "",
                               cd && cd->def ? " default " : "",
                               cd && cd->def ? cd->def : "");
                field_text(&d, c, rc->slot);
                if (d.failed) {
                        b->oom = true;
                }
                meaning_add(b, t, RED_MEANING_COLUMN,
                            fmt(b, "column %s", rc->name),
                            red_buf_steal(&d, NULL));
        }
        col_add(b, t, r->time_column, "timestamp with time zone", true, NULL,
                "the event time");
        col_add(b, t, "created_at", "timestamp with time zone", true, "now()",
                "when reducerd stored the row");
        /* identity: the unique fields' columns and the event time */
        for (size_t u = 0; u < r->unique_cnt; u++) {
                for (size_t i = 0; i < r->column_cnt; i++) {
                        if (r->columns[i].slot == r->unique[u]) {
                                pkey_add(b, t, r->columns[i].name);
                                break;
                        }
                }
        }
        if (r->unique_cnt) {
                pkey_add(b, t, r->time_column);
        }
        t->part = RED_TPART_RANGE;
        t->part_column = fmt(b, "%s", r->time_column);
        t->gran = r->partition;
        /* reads are by time range */
        idx_add(b, t, "time", NULL, NULL, time_cols);
        idx_contract(b, t, r->indexes, r->index_cnt);
        meanings_common(b, t);
}

static int raw_tables(build_t *b)
{
        for (size_t i = 0; i < b->c->raw_cnt; i++) {
                const red_raw_t *r = &b->c->raws[i];
                for (size_t k = 0; k < r->table_cnt; k++) {
                        raw_table(b, r, r->tables[k], r->topics[k]);
                }
        }
        return 0;
}

/* --- the workflow state machine ------------------------------------------ */

static int fsm_tables(build_t *b)
{
        const red_contract_t *c = b->c;
        const red_fsm_t *fsm = c->fsm;
        static const char *const state_cols[] = {"current_state",
                                                 "state_entry_time", NULL};
        static const char *const wf_cols[] = {"workflow_id",
                                              "transition_timestamp", NULL};
        red_tabledef_t *t;

        if (!fsm) {
                return 0;
        }
        if ((t = table_new(b, fsm->current_table, "fsm", "fsm"))) {
                t->comment = fmt(b,
                                 "The current state of each workflow of "
                                 "contract %s (reducerd).",
                                 c->name);
                col_add(b, t, "workflow_id", "uuid", true, NULL, NULL);
                col_add(b, t, "current_state", "character varying(50)", true,
                        NULL, NULL);
                col_add(b, t, "previous_state", "character varying(50)", false,
                        NULL, NULL);
                col_add(b, t, "state_entry_time", "timestamp with time zone",
                        false, NULL, NULL);
                col_add(b, t, "transition_count", "integer", false, "0", NULL);
                col_add(b, t, "metadata", "jsonb", false, "'{}'", NULL);
                col_add(b, t, "updated_at", "timestamp with time zone", true,
                        "now()", NULL);
                pkey_add(b, t, "workflow_id");
                t->fillfactor = RED_TABLEDEF_FILLFACTOR_UPDATED;
                idx_add(b, t, "state", NULL, NULL, state_cols);
                meanings_common(b, t);
        }
        if ((t = table_new(b, fsm->history_table, "fsm", "fsm"))) {
                t->comment = fmt(b,
                                 "Every transition attempt of the workflows "
                                 "of contract %s (reducerd).",
                                 c->name);
                col_add(b, t, "transition_id", "uuid", true, NULL, NULL);
                col_add(b, t, "workflow_id", "uuid", true, NULL, NULL);
                col_add(b, t, "from_state", "character varying(50)", false,
                        NULL, NULL);
                col_add(b, t, "to_state", "character varying(50)", false, NULL,
                        NULL);
                col_add(b, t, "event", "character varying(50)", true, NULL,
                        NULL);
                col_add(b, t, "transition_timestamp",
                        "timestamp with time zone", true, NULL, NULL);
                col_add(b, t, "guard_conditions_met", "boolean", false, "true",
                        NULL);
                col_add(b, t, "reason", "text", false, NULL, NULL);
                col_add(b, t, "metadata", "jsonb", false, "'{}'", NULL);
                pkey_add(b, t, "transition_id");
                pkey_add(b, t, "transition_timestamp");
                t->part = RED_TPART_RANGE;
                t->part_column = fmt(b, "transition_timestamp");
                t->gran = fsm->history_partition;
                idx_add(b, t, "workflow", NULL, NULL, wf_cols);
                meanings_common(b, t);
        }
        return 0;
}

/* --- alerts -------------------------------------------------------------- */

static int alert_tables(build_t *b)
{
        const red_contract_t *c = b->c;
        const red_alerts_t *al = c->alerts;
        static const char *const time_cols[] = {"triggered_at", NULL};
        static const char *const sev_cols[] = {"severity", "triggered_at",
                                               NULL};
        static const char *const metric_cols[] = {"metric_name", "triggered_at",
                                                  NULL};
        char type[64];
        red_tabledef_t *t;

        if (!al || !al->table ||
            !(t = table_new(b, al->table, "alerts", "alerts"))) {
                return 0;
        }
        t->comment = fmt(b,
                         "Alerts fired by the rules of contract %s "
                         "(reducerd).",
                         c->name);
        col_add(b, t, "alert_id", "uuid", true, NULL, NULL);
        col_add(b, t, "rule_id", "character varying(100)", true, NULL, NULL);
        col_add(b, t, "severity", "character varying(10)", true, NULL, NULL);
        text_type(field_max_len(c, al->match_slot), type, sizeof(type));
        col_add(b, t, "metric_name", type, true, NULL, NULL);
        col_add(b, t, "threshold", "double precision", true, NULL, NULL);
        col_add(b, t, "actual_value", "double precision", true, NULL, NULL);
        col_add(b, t, "message", "text", true, NULL, NULL);
        col_add(b, t, "tags", "jsonb", true, "'{}'", NULL);
        text_type(al->correlation_slot >= 0
                          ? field_max_len(c, al->correlation_slot)
                          : 100,
                  type, sizeof(type));
        col_add(b, t, "correlation_id", type, false, NULL, NULL);
        if (al->scope_slot >= 0) {
                field_type(c, al->scope_slot, type, sizeof(type));
                col_add(b, t, c->slot_names[al->scope_slot], type, false, NULL,
                        NULL);
        }
        col_add(b, t, "triggered_at", "timestamp with time zone", true, NULL,
                NULL);
        col_add(b, t, "created_at", "timestamp with time zone", true, "now()",
                NULL);
        pkey_add(b, t, "alert_id");
        idx_add(b, t, "time", NULL, NULL, time_cols);
        idx_add(b, t, "severity", NULL, NULL, sev_cols);
        idx_add(b, t, "metric", NULL, NULL, metric_cols);
        meanings_common(b, t);
        return 0;
}

/* --- the builders -------------------------------------------------------- */

/* One builder per kind of sink, in the order tables are created. */
static const struct {
        const char *sink;
        int (*build)(build_t *b);
} builders[] = {
        {"aggregation", aggregation_tables},
        {"raw", raw_tables},
        {"fsm", fsm_tables},
        {"alerts", alert_tables},
};

static void coldef_free(red_coldef_t *col)
{
        free(col->name);
        free(col->type);
        free(col->def);
        free(col->comment);
}

static void tabledef_free(red_tabledef_t *t)
{
        free(t->name);
        free(t->owner);
        for (size_t i = 0; i < t->col_cnt; i++) {
                coldef_free(&t->cols[i]);
        }
        free(t->cols);
        for (size_t i = 0; i < t->pkey_cnt; i++) {
                free(t->pkey[i]);
        }
        free(t->pkey);
        free(t->part_column);
        for (size_t i = 0; i < t->idx_cnt; i++) {
                free(t->idx[i].name);
                free(t->idx[i].method);
                free(t->idx[i].where);
                for (size_t k = 0; k < t->idx[i].column_cnt; k++) {
                        free(t->idx[i].columns[k]);
                }
                free(t->idx[i].columns);
        }
        free(t->idx);
        free(t->comment);
        for (size_t i = 0; i < t->meaning_cnt; i++) {
                free(t->meanings[i].name);
                free(t->meanings[i].text);
        }
        free(t->meanings);
}

void red_tabledefs_destroy(red_tabledefs_t *defs)
{
        for (size_t i = 0; defs && i < defs->cnt; i++) {
                tabledef_free(&defs->items[i]);
        }
        if (defs) {
                free(defs->items);
                defs->items = NULL;
                defs->cnt = 0;
        }
}

int red_tabledefs_build(const red_contract_t *c, red_tabledefs_t *out,
                        char *errstr, size_t errstr_size)
{
        build_t b = {c, out, false, errstr, errstr_size};
        int r = 0;

        memset(out, 0, sizeof(*out));
        for (size_t i = 0; !r && i < sizeof(builders) / sizeof(*builders);
             i++) {
                r = builders[i].build(&b);
        }
        for (size_t i = 0; !r && !b.oom && i < out->cnt; i++) {
                for (size_t j = 0; j < i; j++) {
                        if (!strcmp(out->items[i].name, out->items[j].name)) {
                                snprintf(errstr, errstr_size,
                                         "contract %s: table %s is declared "
                                         "twice (%s and %s)",
                                         c->name, out->items[i].name,
                                         out->items[j].owner,
                                         out->items[i].owner);
                                r = -EINVAL;
                        }
                }
        }
        if (!r && b.oom) {
                snprintf(errstr, errstr_size, "out of memory");
                r = -ENOMEM;
        }
        if (r) {
                red_tabledefs_destroy(out);
        }
        return r;
}

const red_tabledef_t *red_tabledefs_find(const red_tabledefs_t *defs,
                                         const char *name)
{
        for (size_t i = 0; i < defs->cnt; i++) {
                if (!strcmp(defs->items[i].name, name)) {
                        return &defs->items[i];
                }
        }
        return NULL;
}

const red_coldef_t *red_tabledef_col(const red_tabledef_t *t, const char *name)
{
        for (size_t i = 0; i < t->col_cnt; i++) {
                if (!strcmp(t->cols[i].name, name)) {
                        return &t->cols[i];
                }
        }
        return NULL;
}

const red_meaning_t *red_tabledef_meaning(const red_tabledef_t *t,
                                          const char *name)
{
        for (size_t i = 0; i < t->meaning_cnt; i++) {
                if (!strcmp(t->meanings[i].name, name)) {
                        return &t->meanings[i];
                }
        }
        return NULL;
}
