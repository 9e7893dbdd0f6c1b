/* red_schema_diff - a contract's tables against what was recorded and
 * what exists: the statements and refusals of a plan. */
#include "red_schema_diff.h"

#include "red_ddl.h"
#include "red_pg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- small helpers ------------------------------------------------------ */

static char *vfmt(const char *f, va_list ap)
{
        char *s;

        if (vasprintf(&s, f, ap) < 0) {
                return NULL;
        }
        return s;
}

/* Adds a statement (or a note, @p sql NULL) with why it is there. */
int red_schema_step(cplan_t *cp, char *sql, const char *why, ...)
{
        step_t *n = realloc(cp->steps, (cp->step_cnt + 1) * sizeof(*n));
        va_list ap;

        if (!n) {
                free(sql);
                return -ENOMEM;
        }
        cp->steps = n;
        va_start(ap, why);
        n[cp->step_cnt].why = vfmt(why, ap);
        va_end(ap);
        n[cp->step_cnt].sql = sql;
        cp->step_cnt++;
        return n[cp->step_cnt - 1].why ? 0 : -ENOMEM;
}

int red_schema_refuse(cplan_t *cp, const char *f, ...)
{
        char **n = realloc(cp->refused, (cp->refused_cnt + 1) * sizeof(*n));
        va_list ap;

        if (!n) {
                return -ENOMEM;
        }
        cp->refused = n;
        va_start(ap, f);
        n[cp->refused_cnt] = vfmt(f, ap);
        va_end(ap);
        return n[cp->refused_cnt++] ? 0 : -ENOMEM;
}

/* The buffer's text as a statement, or NULL (and -EINVAL) if a name in it
 * could not be used. */
char *red_schema_take_sql(red_buf_t *b)
{
        if (b->failed) {
                red_buf_destroy(b);
                return NULL;
        }
        while (b->len && b->data[b->len - 1] == '\n') {
                b->data[--b->len] = '\0';
        }
        return red_buf_steal(b, NULL);
}

/* --- what the parts mean ------------------------------------------------ */

/* Compares the meanings of table @p t with what was recorded; refusals
 * for what changes stored rows. Returns the number of them (or -ENOMEM). */
int red_schema_meaning_diff(cplan_t *cp, const red_tabledef_t *t)
{
        json_t *rec =
                cp->recorded ? json_object_get(cp->recorded, t->name) : NULL;
        const char *name;
        json_t *v;
        int n = 0, r;

        if (!rec) {
                return 0;
        }
        for (size_t i = 0; i < t->meaning_cnt; i++) {
                const red_meaning_t *m = &t->meanings[i];
                const char *was =
                        json_string_value(json_object_get(rec, m->name));

                if (!was || !strcmp(was, m->text) ||
                    m->kind == RED_MEANING_INDEX) {
                        continue;
                }
                if ((r = red_schema_refuse(
                             cp,
                             "contract %s: table %s: %s changed:\n"
                             "    was: %s\n    now: %s\n"
                             "  Rows stored with the old definition "
                             "would mean something else.",
                             cp->c->name, t->name, m->name, was, m->text))) {
                        return r;
                }
                n++;
        }
        json_object_foreach(rec, name, v)
        {
                const red_meaning_t *m = red_tabledef_meaning(t, name);
                bool keep = !strncmp(name, "index ", 6) ||
                            !strncmp(name, "layout", 6);

                if (m || keep) {
                        continue;
                }
                if ((r = red_schema_refuse(
                             cp,
                             "contract %s: table %s: %s was removed "
                             "(it was: %s)\n"
                             "  Its stored rows would no longer match "
                             "the contract.",
                             cp->c->name, t->name, name,
                             json_string_value(v)))) {
                        return r;
                }
                n++;
        }
        return n;
}

/* --- the tables as they are --------------------------------------------- */

static bool str_eq(const char *a, const char *b)
{
        return a == b || (a && b && !strcmp(a, b));
}

static char *sql_alter(const char *table, const char *action, ...)
        RED_PRINTF(2, 3);
static char *sql_alter(const char *table, const char *action, ...)
{
        red_buf_t b;
        va_list ap;
        char *tail;

        va_start(ap, action);
        tail = vfmt(action, ap);
        va_end(ap);
        if (!tail) {
                return NULL;
        }
        red_buf_init(&b);
        red_buf_puts(&b, "ALTER TABLE ");
        red_ddl_ident(&b, table);
        red_buf_printf(&b, " %s;", tail);
        free(tail);
        return red_schema_take_sql(&b);
}

/* Columns of an existing table: missing ones added, defaults, nullness
 * and comments set; other types refused. */
static int columns_diff(cplan_t *cp, const red_tabledef_t *t,
                        const red_catalog_table_t *want,
                        const red_catalog_table_t *have)
{
        int r = 0;

        for (size_t i = 0; !r && i < want->col_cnt; i++) {
                const red_catcol_t *w = &want->cols[i];
                const red_catcol_t *h = red_catalog_table_col(have, w->name);
                const red_coldef_t *cd = red_tabledef_col(t, w->name);
                red_buf_t b;

                if (!cd) {
                        continue;
                }
                red_buf_init(&b);
                if (!h) {
                        red_buf_puts(&b, "ALTER TABLE ");
                        red_ddl_ident(&b, t->name);
                        red_buf_puts(&b, " ADD COLUMN ");
                        red_ddl_column(&b, cd);
                        red_buf_puts(&b, ";\n");
                        if (cd->comment) {
                                red_ddl_comment(&b, t->name, cd->name,
                                                cd->comment, NULL);
                        }
                        r = red_schema_step(
                                cp, red_schema_take_sql(&b),
                                "table %s: new column %s (added online; "
                                "existing rows get %s)",
                                t->name, w->name, cd->def ? cd->def : "null");
                        continue;
                }
                red_buf_destroy(&b);
                if (!str_eq(w->type, h->type)) {
                        char part[96];
                        snprintf(part, sizeof(part), "column %s", w->name);
                        if (cp->recorded &&
                            json_object_get(
                                    json_object_get(cp->recorded, t->name),
                                    part)) {
                                continue; /* refused as a meaning change */
                        }
                        r = red_schema_refuse(
                                cp,
                                "contract %s: table %s: column %s is %s in "
                                "the database, the contract makes it %s.\n"
                                "  To keep the table as it is, declare "
                                "column_types: {%s: \"%s\"} in the "
                                "contract.",
                                cp->c->name, t->name, w->name, h->type, w->type,
                                w->name, h->type);
                        continue;
                }
                if (w->not_null != h->not_null) {
                        r = red_schema_step(
                                cp,
                                sql_alter(t->name, "ALTER COLUMN \"%s\" %s",
                                          w->name,
                                          w->not_null ? "SET NOT NULL"
                                                      : "DROP NOT NULL"),
                                "table %s: column %s %s", t->name, w->name,
                                w->not_null ? "becomes NOT NULL (checked "
                                              "against the stored rows)"
                                            : "may be null");
                }
                if (!r && !str_eq(w->def, h->def)) {
                        r = red_schema_step(
                                cp,
                                cd->def ? sql_alter(t->name,
                                                    "ALTER COLUMN \"%s\" SET "
                                                    "DEFAULT %s",
                                                    w->name, cd->def)
                                        : sql_alter(t->name,
                                                    "ALTER COLUMN \"%s\" DROP "
                                                    "DEFAULT",
                                                    w->name),
                                "table %s: column %s: default %s (was %s)",
                                t->name, w->name, w->def ? w->def : "none",
                                h->def ? h->def : "none");
                }
                if (!r && !str_eq(w->comment, h->comment) && cd->comment) {
                        red_buf_init(&b);
                        red_ddl_comment(&b, t->name, cd->name, cd->comment,
                                        NULL);
                        r = red_schema_step(cp, red_schema_take_sql(&b),
                                            "table %s: comment of column %s",
                                            t->name, w->name);
                }
        }
        for (size_t i = 0; !r && i < have->col_cnt; i++) {
                if (!red_catalog_table_col(want, have->cols[i].name) &&
                    !red_tabledef_col(t, have->cols[i].name)) {
                        r = red_schema_step(
                                cp, NULL,
                                "table %s: column %s is not the contract's; "
                                "left as it is",
                                t->name, have->cols[i].name);
                }
        }
        return r;
}

static int indexes_diff(cplan_t *cp, const red_tabledef_t *t,
                        const red_catalog_table_t *want,
                        const red_catalog_table_t *have)
{
        json_t *rec =
                cp->recorded ? json_object_get(cp->recorded, t->name) : NULL;
        int r = 0;

        for (size_t i = 0; !r && i < t->idx_cnt; i++) {
                const red_idxdef_t *ix = &t->idx[i];
                const red_catidx_t *w = red_catalog_table_idx(want, ix->name);
                const red_catidx_t *h = red_catalog_table_idx(have, ix->name);
                red_buf_t b;

                if (h && w && str_eq(w->def, h->def)) {
                        continue;
                }
                red_buf_init(&b);
                if (h) {
                        red_buf_puts(&b, "DROP INDEX ");
                        red_ddl_ident(&b, ix->name);
                        red_buf_puts(&b, ";\n");
                }
                if (red_ddl_index(&b, t, ix, 0, NULL)) {
                        red_buf_destroy(&b);
                        return -EINVAL;
                }
                r = red_schema_step(cp, red_schema_take_sql(&b),
                                    "table %s: index %s %s", t->name, ix->name,
                                    h ? "changed (was: "
                                      : "is new (for the queries)");
                if (!r && h) {
                        /* finish the sentence with the old definition */
                        step_t *s = &cp->steps[cp->step_cnt - 1];
                        char *why;
                        if (asprintf(&why, "%s%s)", s->why, h->def) < 0) {
                                return -ENOMEM;
                        }
                        free(s->why);
                        s->why = why;
                }
        }
        for (size_t i = 0; !r && i < have->idx_cnt; i++) {
                char part[128];
                red_buf_t b;

                snprintf(part, sizeof(part), "index %s", have->idx[i].name);
                if (red_catalog_table_idx(want, have->idx[i].name) ||
                    !json_object_get(rec, part)) {
                        continue; /* not ours: left alone */
                }
                red_buf_init(&b);
                red_buf_puts(&b, "DROP INDEX ");
                red_ddl_ident(&b, have->idx[i].name);
                red_buf_puts(&b, ";");
                r = red_schema_step(
                        cp, red_schema_take_sql(&b),
                        "table %s: index %s is no longer in the contract",
                        t->name, have->idx[i].name);
        }
        return r;
}

/* Child tables per window type: a new window type gets its child. */
static int children_diff(cplan_t *cp, const red_tabledef_t *t,
                         const red_catalog_table_t *want,
                         const red_catalog_table_t *have)
{
        int r = 0;

        for (size_t i = 0; !r && i < want->child_cnt; i++) {
                const red_catchild_t *w = &want->children[i];
                red_buf_t b;

                if (red_catalog_table_child(have, w->name)) {
                        continue;
                }
                red_buf_init(&b);
                red_buf_puts(&b, "CREATE TABLE ");
                red_ddl_ident(&b, w->name);
                red_buf_puts(&b, " PARTITION OF ");
                red_ddl_ident(&b, t->name);
                /* the bound and key as the server printed them for the
                 * temporary twin: FOR VALUES IN ('x'), RANGE (column) */
                red_buf_printf(&b, " %s PARTITION BY %s;", w->bound,
                               w->partkey);
                r = red_schema_step(cp, red_schema_take_sql(&b),
                                    "table %s: new window type: %s", t->name,
                                    w->bound);
        }
        return r;
}

/* An existing table against the one the contract wants. */
int red_schema_table_diff(cplan_t *cp, const red_tabledef_t *t,
                          const red_catalog_table_t *want,
                          const red_catalog_table_t *have)
{
        int r;

        if (!str_eq(want->partkey, have->partkey) ||
            !str_eq(want->pkey, have->pkey)) {
                char part[] = "layout";
                json_t *rec = cp->recorded
                                      ? json_object_get(cp->recorded, t->name)
                                      : NULL;
                const red_meaning_t *m = red_tabledef_meaning(t, part);
                const char *was = json_string_value(json_object_get(rec, part));

                if (was && m && strcmp(was, m->text)) {
                        return 0; /* refused as a meaning change */
                }
                return red_schema_refuse(
                        cp,
                        "contract %s: table %s: its key or "
                        "partitioning differs: the database has "
                        "primary key (%s) %s, the contract wants "
                        "primary key (%s) %s",
                        cp->c->name, t->name, have->pkey ? have->pkey : "none",
                        have->partkey ? have->partkey : "(not partitioned)",
                        want->pkey ? want->pkey : "none",
                        want->partkey ? want->partkey : "(not partitioned)");
        }
        if ((r = columns_diff(cp, t, want, have)) ||
            (r = indexes_diff(cp, t, want, have)) ||
            (r = children_diff(cp, t, want, have))) {
                return r;
        }
        if (want->fillfactor != have->fillfactor && !want->partkey) {
                r = red_schema_step(
                        cp,
                        want->fillfactor
                                ? sql_alter(t->name, "SET (fillfactor = %d)",
                                            want->fillfactor)
                                : sql_alter(t->name, "RESET (fillfactor)"),
                        "table %s: fill factor %d (was %d)", t->name,
                        want->fillfactor, have->fillfactor);
        }
        if (!r && !str_eq(want->comment, have->comment) && t->comment) {
                red_buf_t b;
                red_buf_init(&b);
                red_ddl_comment(&b, t->name, NULL, t->comment, NULL);
                r = red_schema_step(cp, red_schema_take_sql(&b),
                                    "table %s: its comment", t->name);
        }
        return r;
}

/* What the server makes of the contract's tables: created as temporary
 * tables in a transaction that is rolled back, and read back. */
int red_schema_wanted(PGconn *conn, const red_tabledef_set_t *defs,
                      red_catalog_table_t *out, char *errstr, size_t size)
{
        char ignore[256];
        red_buf_t b;
        int r = -1;

        red_buf_init(&b);
        if (red_pg_exec(conn, "BEGIN; SET LOCAL client_min_messages = warning",
                        errstr, size)) {
                return -1;
        }
        for (size_t i = 0; i < defs->cnt; i++) {
                red_buf_reset(&b);
                if (red_ddl_create(&b, &defs->items[i], 0, "pg_temp")) {
                        snprintf(errstr, size,
                                 "table %s: a name is not usable in SQL",
                                 defs->items[i].name);
                        goto done;
                }
                if (red_pg_exec(conn, b.data, errstr, size)) {
                        goto done;
                }
        }
        for (size_t i = 0; i < defs->cnt; i++) {
                if (red_catalog_table(conn, true, defs->items[i].name, &out[i],
                                      errstr, size)) {
                        goto done;
                }
        }
        r = 0;
done:
        red_buf_destroy(&b);
        if (red_pg_exec(conn, "ROLLBACK", ignore, sizeof(ignore))) {
                r = -1;
        }
        return r;
}
