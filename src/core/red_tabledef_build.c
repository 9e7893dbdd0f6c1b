/* red_tabledef_build - the building blocks of the table definitions:
 * tables, columns, keys, indexes and meanings appended as declared. */
#include "red_tabledef_build.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The definitions reproduce the seed schema the shipped contracts were
 * written for (migrations 0002-0006 of earlier releases, kept under
 * tests/data/legacy_migrations/), so that a database migrated by them
 * before is adopted as it is: the engine's columns, keys, indexes and
 * fill factors are those, and a contract's column_types: keeps the few
 * seed types that differ from the engine's own choice.
 *
 * Every builder appends tables with red_tabledef_build_table() and fills them
 * with the helpers of red_tabledef_build; a failed allocation is remembered in
 * the builder state and reported once at the end, so the builders read as
 * declarations.
 */

static char *red_tabledef_build_dup(build_t *b, const char *s)
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

char *red_tabledef_build_fmt(build_t *b, const char *f, ...)
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

red_tabledef_t *red_tabledef_build_table(build_t *b, const char *name,
                                         const char *sink, const char *owner)
{
        red_tabledef_t *t =
                grow(b, (void **)&b->out->items, &b->out->cnt, sizeof(*t));

        if (!t) {
                return NULL;
        }
        t->name = red_tabledef_build_dup(b, name);
        t->sink = sink;
        t->owner = red_tabledef_build_dup(b, owner);
        t->agg = -1;
        return t;
}

red_coldef_t *red_tabledef_build_col(build_t *b, red_tabledef_t *t,
                                     const char *name, const char *type,
                                     bool not_null, const char *def,
                                     const char *comment)
{
        red_coldef_t *col =
                grow(b, (void **)&t->cols, &t->col_cnt, sizeof(*col));

        if (!col) {
                return NULL;
        }
        col->name = red_tabledef_build_dup(b, name);
        col->type = red_tabledef_build_dup(b, type);
        col->not_null = not_null;
        col->def = red_tabledef_build_dup(b, def);
        col->comment = red_tabledef_build_dup(b, comment);
        return col;
}

/* Applies the contract's column_types: entry of a column, if any. */
void red_tabledef_build_col_override(build_t *b, red_coldef_t *col,
                                     const red_coltype_t *ct)
{
        if (!col || !ct) {
                return;
        }
        if (ct->type) {
                free(col->type);
                col->type = red_tabledef_build_dup(b, ct->type);
        }
        if (ct->not_null >= 0) {
                col->not_null = ct->not_null;
        }
        if (ct->def) {
                free(col->def);
                col->def = red_tabledef_build_dup(b, ct->def);
        } else if (ct->no_default) {
                free(col->def);
                col->def = NULL;
        }
}

void red_tabledef_build_pkey(build_t *b, red_tabledef_t *t, const char *col)
{
        char **p = grow(b, (void **)&t->pkey, &t->pkey_cnt, sizeof(*p));

        if (p) {
                *p = red_tabledef_build_dup(b, col);
        }
}

/* An index <table>_<suffix> on @p cols (a NULL-terminated list). */
red_idxdef_t *red_tabledef_build_idx(build_t *b, red_tabledef_t *t,
                                     const char *suffix, const char *method,
                                     const char *where, const char *const *cols)
{
        red_idxdef_t *ix = grow(b, (void **)&t->idx, &t->idx_cnt, sizeof(*ix));

        if (!ix) {
                return NULL;
        }
        ix->name = red_tabledef_build_fmt(b, "%s_%s", t->name, suffix);
        ix->method = red_tabledef_build_dup(b, method ? method : "btree");
        ix->where = red_tabledef_build_dup(b, where);
        for (size_t i = 0; cols[i]; i++) {
                char **c = grow(b, (void **)&ix->columns, &ix->column_cnt,
                                sizeof(*c));
                if (c) {
                        *c = red_tabledef_build_dup(b, cols[i]);
                }
        }
        return ix;
}

void red_tabledef_build_meaning(build_t *b, red_tabledef_t *t,
                                red_meaning_kind_t kind, char *name, char *text)
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
void red_tabledef_build_meanings_common(build_t *b, red_tabledef_t *t)
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
                        red_tabledef_build_meaning(
                                b, t, RED_MEANING_COLUMN,
                                red_tabledef_build_fmt(b, "%s", name),
                                red_tabledef_build_fmt(
                                        b, "%s%s", col->type,
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
        red_tabledef_build_meaning(b, t, RED_MEANING_LAYOUT,
                                   red_tabledef_build_fmt(b, "layout"),
                                   red_buf_steal(&lay, NULL));
        for (size_t i = 0; i < t->idx_cnt; i++) {
                const red_idxdef_t *ix = &t->idx[i];
                red_buf_t d;

                red_buf_init(&d);
                red_buf_printf(&d, "%susing %s (", ix->unique ? "unique " : "",
                               ix->method);
                for (size_t k = 0; k < ix->column_cnt; k++) {
                        red_buf_printf(&d, "%s%s", k ? ", " : "",
                                       ix->columns[k]);
                }
                red_buf_printf(&d, ")%s%s", ix->where ? " where " : "",
                               ix->where ? ix->where : "");
                if (d.failed) {
                        b->oom = true;
                }
                red_tabledef_build_meaning(
                        b, t, RED_MEANING_INDEX,
                        red_tabledef_build_fmt(b, "index %s", ix->name),
                        red_buf_steal(&d, NULL));
        }
}

/* The indexes a contract asks for (indexes:). */
void red_tabledef_build_idx_contract(build_t *b, red_tabledef_t *t,
                                     const red_index_t *ix, size_t cnt)
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
                red_tabledef_build_idx(b, t, ix[i].name, ix[i].method,
                                       ix[i].not_null ? where.data : NULL,
                                       cols);
                red_buf_destroy(&where);
        }
}

/* varchar(n) for text of at most @p max characters, text when unbounded
 * (@p max < 0). */
void red_tabledef_build_text_type(int64_t max, char *out, size_t size)
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
int64_t red_tabledef_build_field_max_len(const red_contract_t *c, int slot)
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
        case RED_FT_ARRAY:
                return RED_SQLT_JSON;
        default:
                return RED_SQLT_TEXT;
        }
}

/* Whether every kind of @p kinds gives field @p slot a value (requires
 * it or has a default), and there is one. */
bool red_tabledef_build_field_always(const red_contract_t *c, uint64_t on,
                                     int slot)
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

/* The SQL type of a field's values in a raw column. */
void red_tabledef_build_field_type(const red_contract_t *c, int slot, char *out,
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
                red_tabledef_build_text_type(
                        red_tabledef_build_field_max_len(c, slot), out, size);
        } else {
                snprintf(out, size, "%s", names[cls]);
        }
}

/* The shortest text that reads back as @p d (0.6, not
 * 0.59999999999999998), as the contract wrote it. */
void red_tabledef_build_put_num(red_buf_t *d, double v)
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
void red_tabledef_build_field_text(red_buf_t *d, const red_contract_t *c,
                                   int slot)
{
        red_buf_printf(d, "field %s (%s", c->slot_names[slot],
                       red_contract_field_type_name(c->slot_types[slot]));
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
                                        red_tabledef_build_put_num(
                                                d, fd->from[s].scale);
                                }
                        }
                }
        }
        red_buf_putc(d, ')');
}

/* --- the builders -------------------------------------------------------- */

/* One builder per kind of sink, in the order tables are created. */
static const struct {
        const char *sink;
        int (*build)(build_t *b);
} builders[] = {
        {"aggregation", red_tabledef_build_aggregations},
        {"raw", red_tabledef_build_raws},
        {"fsm", red_tabledef_build_fsm},
        {"alerts", red_tabledef_build_alerts},
        {"state", red_tabledef_build_states},
};

int red_tabledef_set_build(const red_contract_t *c, red_tabledef_set_t *out,
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
                red_tabledef_set_destroy(out);
        }
        return r;
}
