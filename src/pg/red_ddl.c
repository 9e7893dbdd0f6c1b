/* red_ddl - CREATE TABLE, CREATE INDEX and COMMENT ON for table
 * definitions derived from contracts. */
#include "red_ddl.h"

#include "red_pg.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int red_ddl_name(const char *declared, int gen, char *out, size_t size)
{
        char q[80];
        int n = gen > 0 ? snprintf(out, size, "%s_g%d", declared, gen)
                        : snprintf(out, size, "%s", declared);

        if (n < 0 || (size_t)n >= size) {
                return -EINVAL;
        }
        return red_pg_ident(out, q, sizeof(q));
}

int red_ddl_rename(const char *table, const char *name, int gen, char *out,
                   size_t size)
{
        size_t tlen = strlen(table);
        char base[80], q[80];
        int n;

        if (strncmp(name, table, tlen) ||
            red_ddl_name(table, gen, base, sizeof(base))) {
                return -EINVAL;
        }
        n = snprintf(out, size, "%s%s", base, name + tlen);
        if (n < 0 || (size_t)n >= size) {
                return -EINVAL;
        }
        return red_pg_ident(out, q, sizeof(q));
}

void red_ddl_ident(red_buf_t *b, const char *name)
{
        char q[80];

        if (red_pg_ident(name, q, sizeof(q))) {
                /* never produce a statement with a name we cannot quote */
                b->failed = true;
                return;
        }
        red_buf_puts(b, q);
}

void red_ddl_literal(red_buf_t *b, const char *s)
{
        red_buf_putc(b, '\'');
        for (; *s; s++) {
                if (*s == '\'') {
                        red_buf_putc(b, '\'');
                }
                red_buf_putc(b, *s);
        }
        red_buf_putc(b, '\'');
}

/* "schema."name"" of a table (or index) name. */
static void qualified(red_buf_t *b, const char *schema, const char *name)
{
        if (schema) {
                red_buf_printf(b, "%s.", schema);
        }
        red_ddl_ident(b, name);
}

void red_ddl_column(red_buf_t *b, const red_coldef_t *col)
{
        red_ddl_ident(b, col->name);
        red_buf_printf(b, " %s", col->type);
        if (col->not_null) {
                red_buf_puts(b, " NOT NULL");
        }
        if (col->def) {
                red_buf_printf(b, " DEFAULT %s", col->def);
        }
}

static const char *gran_name(red_partition_t g)
{
        return g == RED_PART_DAILY ? "daily" : "monthly";
}

int red_ddl_index(red_buf_t *b, const red_tabledef_t *t, const red_idxdef_t *ix,
                  int gen, const char *schema)
{
        char table[80], name[80];

        if (red_ddl_name(t->name, gen, table, sizeof(table)) ||
            red_ddl_rename(t->name, ix->name, gen, name, sizeof(name))) {
                return -EINVAL;
        }
        red_buf_puts(b, ix->unique ? "CREATE UNIQUE INDEX " : "CREATE INDEX ");
        red_ddl_ident(b, name);
        red_buf_puts(b, " ON ");
        qualified(b, schema, table);
        red_buf_printf(b, " USING %s (", ix->method);
        for (size_t k = 0; k < ix->column_cnt; k++) {
                if (k) {
                        red_buf_puts(b, ", ");
                }
                red_ddl_ident(b, ix->columns[k]);
        }
        red_buf_putc(b, ')');
        if (ix->where) {
                /* engine-made: "col IS NULL" / "col IS NOT NULL AND ..." of
                 * validated column names */
                red_buf_printf(b, " WHERE %s", ix->where);
        }
        red_buf_puts(b, ";\n");
        return b->failed ? -EINVAL : 0;
}

void red_ddl_comment(red_buf_t *b, const char *table, const char *column,
                     const char *text, const char *schema)
{
        red_buf_printf(b, "COMMENT ON %s ", column ? "COLUMN" : "TABLE");
        qualified(b, schema, table);
        if (column) {
                red_buf_putc(b, '.');
                red_ddl_ident(b, column);
        }
        red_buf_puts(b, " IS ");
        red_ddl_literal(b, text);
        red_buf_puts(b, ";\n");
}

/* COMMENT ON TABLE / COLUMN statements of @p t (the text quoted as a
 * literal by the server's rules: single quotes doubled). */
static int red_ddl_comments(red_buf_t *b, const red_tabledef_t *t, int gen,
                            const char *schema)
{
        char table[80];

        if (red_ddl_name(t->name, gen, table, sizeof(table))) {
                return -EINVAL;
        }
        if (t->comment) {
                red_ddl_comment(b, table, NULL, t->comment, schema);
        }
        for (size_t i = 0; i < t->col_cnt; i++) {
                if (t->cols[i].comment) {
                        red_ddl_comment(b, table, t->cols[i].name,
                                        t->cols[i].comment, schema);
                }
        }
        return b->failed ? -EINVAL : 0;
}

int red_ddl_create(red_buf_t *b, const red_tabledef_t *t, int gen,
                   const char *schema)
{
        char table[80];

        if (red_ddl_name(t->name, gen, table, sizeof(table))) {
                return -EINVAL;
        }
        red_buf_puts(b, "CREATE TABLE ");
        qualified(b, schema, table);
        red_buf_puts(b, " (\n");
        for (size_t i = 0; i < t->col_cnt; i++) {
                red_buf_puts(b, "    ");
                red_ddl_column(b, &t->cols[i]);
                red_buf_puts(b,
                             i + 1 < t->col_cnt || t->pkey_cnt ? ",\n" : "\n");
        }
        if (t->pkey_cnt) {
                red_buf_puts(b, "    PRIMARY KEY (");
                for (size_t i = 0; i < t->pkey_cnt; i++) {
                        if (i) {
                                red_buf_puts(b, ", ");
                        }
                        red_ddl_ident(b, t->pkey[i]);
                }
                red_buf_puts(b, ")\n");
        }
        red_buf_putc(b, ')');
        if (t->part == RED_TPART_RANGE) {
                red_buf_puts(b, " PARTITION BY RANGE (");
                red_ddl_ident(b, t->part_column);
                red_buf_putc(b, ')');
        } else if (t->part == RED_TPART_WINDOWS) {
                red_buf_puts(b, " PARTITION BY LIST (window_type)");
        } else if (t->fillfactor) {
                /* a partitioned table has no storage of its own: its
                 * partitions get the fill factor when they are created */
                red_buf_printf(b, " WITH (fillfactor = %d)", t->fillfactor);
        }
        red_buf_puts(b, ";\n");
        if (t->part == RED_TPART_WINDOWS) {
                for (int w = 0; w < RED_WINDOW__CNT; w++) {
                        const char *wn =
                                red_window_type_name((red_window_type_t)w);
                        char child[80], declared[80];

                        if (!(t->windows & (1u << w))) {
                                continue;
                        }
                        snprintf(declared, sizeof(declared), "%s_%s", t->name,
                                 wn);
                        if (red_ddl_rename(t->name, declared, gen, child,
                                           sizeof(child))) {
                                return -EINVAL;
                        }
                        red_buf_puts(b, "CREATE TABLE ");
                        qualified(b, schema, child);
                        red_buf_puts(b, " PARTITION OF ");
                        qualified(b, schema, table);
                        red_buf_printf(b,
                                       " FOR VALUES IN ('%s') PARTITION BY "
                                       "RANGE (",
                                       wn);
                        red_ddl_ident(b, t->part_column);
                        red_buf_printf(b, ");\n");
                        red_buf_puts(b, "COMMENT ON TABLE ");
                        qualified(b, schema, child);
                        red_buf_printf(b,
                                       " IS '%s cells of %s, in %s "
                                       "partitions';\n",
                                       wn, t->name,
                                       gran_name(t->window_gran[w]));
                }
        }
        for (size_t i = 0; i < t->idx_cnt; i++) {
                if (red_ddl_index(b, t, &t->idx[i], gen, schema)) {
                        return -EINVAL;
                }
        }
        if (red_ddl_comments(b, t, gen, schema)) {
                return -EINVAL;
        }
        return b->failed ? -EINVAL : 0;
}
