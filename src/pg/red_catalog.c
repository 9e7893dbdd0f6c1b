/* red_catalog - a table as pg_catalog describes it. */
#include "red_catalog.h"

#include "red_pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The namespace: the current schema, or this session's temporary one. */
#define NSP(temp)                                                              \
        ((temp) ? "pg_my_temp_schema()"                                        \
                : "(SELECT oid FROM pg_namespace WHERE nspname = "             \
                  "current_schema())")

static char *dup_value(const PGresult *res, int row, int col)
{
        if (PQgetisnull(res, row, col)) {
                return NULL;
        }
        return strdup(PQgetvalue(res, row, col));
}

/* Runs @p sql with the table's oid as $1; NULL with a message. */
static PGresult *query(PGconn *conn, const char *sql, const char *oid,
                       char *errstr, size_t size)
{
        const char *vals[1] = {oid};

        return red_pg_params(conn, sql, 1, vals, errstr, size);
}

static int load_columns(PGconn *conn, const char *oid, red_catalog_table_t *t,
                        char *errstr, size_t size)
{
        PGresult *res = query(
                conn,
                "SELECT a.attname, format_type(a.atttypid, a.atttypmod), "
                "a.attnotnull, pg_get_expr(d.adbin, d.adrelid), "
                "col_description(a.attrelid, a.attnum) FROM pg_attribute a "
                "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND "
                "d.adnum = a.attnum WHERE a.attrelid = $1::oid AND "
                "a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
                oid, errstr, size);

        if (!res) {
                return -1;
        }
        t->cols = calloc((size_t)PQntuples(res) + 1, sizeof(*t->cols));
        for (int i = 0; t->cols && i < PQntuples(res); i++) {
                red_catcol_t *c = &t->cols[t->col_cnt++];
                c->name = dup_value(res, i, 0);
                c->type = dup_value(res, i, 1);
                c->not_null = PQgetvalue(res, i, 2)[0] == 't';
                c->def = dup_value(res, i, 3);
                c->comment = dup_value(res, i, 4);
        }
        PQclear(res);
        if (!t->cols) {
                snprintf(errstr, size, "out of memory");
                return -1;
        }
        return 0;
}

static int load_indexes(PGconn *conn, const char *oid, red_catalog_table_t *t,
                        char *errstr, size_t size)
{
        PGresult *res = query(
                conn,
                "SELECT i.relname, pg_get_indexdef(x.indexrelid), "
                "x.indisunique FROM pg_index x JOIN pg_class i ON i.oid = "
                "x.indexrelid WHERE x.indrelid = $1::oid AND NOT "
                "x.indisprimary ORDER BY 1",
                oid, errstr, size);

        if (!res) {
                return -1;
        }
        t->idx = calloc((size_t)PQntuples(res) + 1, sizeof(*t->idx));
        for (int i = 0; t->idx && i < PQntuples(res); i++) {
                red_catidx_t *x = &t->idx[t->idx_cnt++];
                const char *def = strstr(PQgetvalue(res, i, 1), " USING ");

                x->name = dup_value(res, i, 0);
                if (asprintf(&x->def, "%s%s",
                             PQgetvalue(res, i, 2)[0] == 't' ? "UNIQUE " : "",
                             def ? def + 7 : PQgetvalue(res, i, 1)) < 0) {
                        x->def = NULL;
                }
        }
        PQclear(res);
        if (!t->idx) {
                snprintf(errstr, size, "out of memory");
                return -1;
        }
        return 0;
}

static int load_children(PGconn *conn, const char *oid, red_catalog_table_t *t,
                         char *errstr, size_t size)
{
        PGresult *res = query(conn,
                              "SELECT c.relname, pg_get_expr(c.relpartbound, "
                              "c.oid), pg_get_partkeydef(c.oid) FROM "
                              "pg_inherits i JOIN pg_class c ON c.oid = "
                              "i.inhrelid WHERE i.inhparent = $1::oid AND "
                              "c.relkind = 'p' ORDER BY 1",
                              oid, errstr, size);

        if (!res) {
                return -1;
        }
        t->children = calloc((size_t)PQntuples(res) + 1, sizeof(*t->children));
        for (int i = 0; t->children && i < PQntuples(res); i++) {
                red_catchild_t *ch = &t->children[t->child_cnt++];
                ch->name = dup_value(res, i, 0);
                ch->bound = dup_value(res, i, 1);
                ch->partkey = dup_value(res, i, 2);
        }
        PQclear(res);
        if (!t->children) {
                snprintf(errstr, size, "out of memory");
                return -1;
        }
        return 0;
}

int red_catalog_table(PGconn *conn, bool temp, const char *name,
                      red_catalog_table_t *out, char *errstr, size_t size)
{
        char sql[1024], oid[32];
        const char *vals[1] = {name};
        PGresult *res;
        const char *opts;

        memset(out, 0, sizeof(*out));
        if (!(out->name = strdup(name))) {
                snprintf(errstr, size, "out of memory");
                return -1;
        }
        snprintf(sql, sizeof(sql),
                 "SELECT c.oid, c.reloptions::text, obj_description(c.oid, "
                 "'pg_class'), pg_get_partkeydef(c.oid), (SELECT "
                 "string_agg(a.attname, ', ' ORDER BY k.o) FROM "
                 "pg_constraint p CROSS JOIN unnest(p.conkey) WITH "
                 "ORDINALITY k(n, o) JOIN pg_attribute a ON a.attrelid = "
                 "p.conrelid AND a.attnum = k.n WHERE p.conrelid = c.oid AND "
                 "p.contype = 'p') FROM pg_class c WHERE c.relnamespace = %s "
                 "AND c.relname = $1 AND c.relkind IN ('r', 'p')",
                 NSP(temp));
        res = PQexecParams(conn, sql, 1, NULL, vals, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
                red_pg_error(conn, res, errstr, size);
                PQclear(res);
                return -1;
        }
        if (PQntuples(res) == 0) {
                PQclear(res);
                return 0;
        }
        out->exists = true;
        snprintf(oid, sizeof(oid), "%s", PQgetvalue(res, 0, 0));
        opts = PQgetisnull(res, 0, 1)
                       ? NULL
                       : strstr(PQgetvalue(res, 0, 1), "fillfactor=");
        out->fillfactor = opts ? atoi(opts + 11) : 0;
        out->comment = dup_value(res, 0, 2);
        out->partkey = dup_value(res, 0, 3);
        out->pkey = dup_value(res, 0, 4);
        PQclear(res);
        if (load_columns(conn, oid, out, errstr, size) ||
            load_indexes(conn, oid, out, errstr, size) ||
            load_children(conn, oid, out, errstr, size)) {
                return -1;
        }
        return 0;
}

void red_catalog_table_free(red_catalog_table_t *t)
{
        if (!t) {
                return;
        }
        free(t->name);
        for (size_t i = 0; i < t->col_cnt; i++) {
                free(t->cols[i].name);
                free(t->cols[i].type);
                free(t->cols[i].def);
                free(t->cols[i].comment);
        }
        free(t->cols);
        free(t->pkey);
        free(t->partkey);
        for (size_t i = 0; i < t->child_cnt; i++) {
                free(t->children[i].name);
                free(t->children[i].bound);
                free(t->children[i].partkey);
        }
        free(t->children);
        for (size_t i = 0; i < t->idx_cnt; i++) {
                free(t->idx[i].name);
                free(t->idx[i].def);
        }
        free(t->idx);
        free(t->comment);
        memset(t, 0, sizeof(*t));
}

const red_catcol_t *red_catalog_table_col(const red_catalog_table_t *t,
                                          const char *name)
{
        for (size_t i = 0; i < t->col_cnt; i++) {
                if (t->cols[i].name && !strcmp(t->cols[i].name, name)) {
                        return &t->cols[i];
                }
        }
        return NULL;
}

const red_catidx_t *red_catalog_table_idx(const red_catalog_table_t *t,
                                          const char *name)
{
        for (size_t i = 0; i < t->idx_cnt; i++) {
                if (t->idx[i].name && !strcmp(t->idx[i].name, name)) {
                        return &t->idx[i];
                }
        }
        return NULL;
}

const red_catchild_t *red_catalog_table_child(const red_catalog_table_t *t,
                                              const char *name)
{
        for (size_t i = 0; i < t->child_cnt; i++) {
                if (t->children[i].name && !strcmp(t->children[i].name, name)) {
                        return &t->children[i];
                }
        }
        return NULL;
}
