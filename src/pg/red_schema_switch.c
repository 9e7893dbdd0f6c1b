/* red_schema_switch - a new generation of a contract's tables made live
 * by renaming, in one transaction. */
#include "red_schema.h"

#include "red_buf.h"
#include "red_ddl.h"
#include "red_pg.h"
#include "red_tabledef.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Readers use the tables' declared names, so a switch renames: the live
 * table T (with its partitions and indexes) becomes T_g<live>, the new
 * generation T_g<new> becomes T. DDL is transactional: a reader sees the
 * old tables or the new ones, never neither (a query that waited for the
 * renames' locks resolves the name again and reads the new table).
 */

int red_schema_lock(PGconn *conn, const char *contract, int *generation,
                    char *errstr, size_t size)
{
        const char *vals[1] = {contract};
        PGresult *res =
                red_pg_params(conn,
                              "SELECT generation FROM "
                              "reducerd_contract_schema WHERE contract = $1 "
                              "FOR UPDATE",
                              1, vals, errstr, size);

        if (!res) {
                return -1;
        }
        *generation = PQntuples(res) ? atoi(PQgetvalue(res, 0, 0)) : 0;
        PQclear(res);
        return 0;
}

int red_schema_building(PGconn *conn, const red_contract_t *c, int *generation,
                        uint64_t *aggs, char *errstr, size_t size)
{
        red_tabledef_set_t defs;
        json_t *parts = json_object();
        char *text = NULL;
        const char *vals[2];
        PGresult *res = NULL;
        int r = -1;

        *generation = 0;
        *aggs = 0;
        if (!parts || red_tabledef_set_build(c, &defs, errstr, size)) {
                json_decref(parts);
                return -1;
        }
        for (size_t i = 0; i < defs.cnt; i++) {
                json_t *o = json_object();
                for (size_t k = 0; o && k < defs.items[i].meaning_cnt; k++) {
                        json_object_set_new(
                                o, defs.items[i].meanings[k].name,
                                json_string(defs.items[i].meanings[k].text));
                }
                json_object_set_new(parts, defs.items[i].name, o);
        }
        if (!(text = json_dumps(parts, JSON_COMPACT))) {
                snprintf(errstr, size, "out of memory");
                goto done;
        }
        vals[0] = c->name;
        vals[1] = text;
        if (!(res = red_pg_params(
                      conn,
                      "SELECT generation, unnest(tables) FROM "
                      "reducerd_contract_generations WHERE contract = $1 "
                      "AND status = 'building' AND parts = $2::jsonb",
                      2, vals, errstr, size))) {
                goto done;
        }
        for (int row = 0; row < PQntuples(res); row++) {
                const red_tabledef_t *t =
                        red_tabledef_set_find(&defs, PQgetvalue(res, row, 1));
                *generation = atoi(PQgetvalue(res, row, 0));
                if (t && t->agg >= 0 && t->agg < 64) {
                        *aggs |= UINT64_C(1) << t->agg;
                }
        }
        r = 0;
done:
        PQclear(res);
        free(text);
        json_decref(parts);
        red_tabledef_set_destroy(&defs);
        return r;
}

/* ALTER @p kind "from" RENAME TO "to". */
static int rename_one(PGconn *conn, const char *kind, const char *from,
                      const char *to, char *errstr, size_t size)
{
        red_buf_t b;
        int r;

        red_buf_init(&b);
        red_buf_printf(&b, "ALTER %s ", kind);
        red_ddl_ident(&b, from);
        red_buf_puts(&b, " RENAME TO ");
        red_ddl_ident(&b, to);
        if (b.failed) {
                red_buf_destroy(&b);
                snprintf(errstr, size, "cannot rename %s to %s", from, to);
                return -1;
        }
        r = red_pg_exec(conn, b.data, errstr, size);
        red_buf_destroy(&b);
        return r;
}

/* Renames table @p from, the tables partitioning it (at any depth) and
 * their indexes whose names start with @p from to start with @p to. */
static int rename_tree(PGconn *conn, const char *from, const char *to,
                       char *errstr, size_t size)
{
        const char *vals[1] = {from};
        size_t flen = strlen(from);
        PGresult *res;
        int r = 0;

        /* the indexes first, then the partitions, deepest first */
        res = red_pg_params(
                conn,
                "WITH RECURSIVE tree(oid, depth) AS (SELECT $1::regclass, "
                "0 UNION ALL SELECT i.inhrelid, t.depth + 1 FROM "
                "pg_inherits i JOIN tree t ON i.inhparent = t.oid) "
                "SELECT 'INDEX', c.relname, 100 FROM tree t JOIN pg_index "
                "x ON x.indrelid = t.oid JOIN pg_class c ON c.oid = "
                "x.indexrelid UNION ALL SELECT 'TABLE', c.relname, "
                "50 - t.depth FROM tree t JOIN pg_class c ON c.oid = "
                "t.oid WHERE t.depth > 0 ORDER BY 3 DESC, 2",
                1, vals, errstr, size);
        if (!res) {
                return -1;
        }
        for (int i = 0; !r && i < PQntuples(res); i++) {
                const char *name = PQgetvalue(res, i, 1);
                char to_name[128];

                if (strncmp(name, from, flen) ||
                    snprintf(to_name, sizeof(to_name), "%s%s", to,
                             name + flen) > 63) {
                        continue; /* not ours, or too long: keeps its name */
                }
                r = rename_one(conn, PQgetvalue(res, i, 0), name, to_name,
                               errstr, size);
        }
        PQclear(res);
        return r ? r : rename_one(conn, "TABLE", from, to, errstr, size);
}

int red_schema_switch(PGconn *conn, const red_contract_t *c, int generation,
                      int live, char *errstr, size_t size)
{
        char gen[16];
        const char *vals[2] = {c->name, gen};
        PGresult *res;
        int r = 0;

        snprintf(gen, sizeof(gen), "%d", generation);
        if (!(res = red_pg_params(
                      conn,
                      "SELECT unnest(tables) FROM "
                      "reducerd_contract_generations WHERE contract = $1 "
                      "AND generation = $2 AND status = 'building'",
                      2, vals, errstr, size))) {
                return -1;
        }
        if (!PQntuples(res)) {
                snprintf(errstr, size,
                         "contract %s: generation %d is not being built",
                         c->name, generation);
                PQclear(res);
                return -1;
        }
        /* both generations locked first, tables before their partitions
         * as readers lock them: renaming the partitions first would take
         * the locks the other way round and deadlock with a reader */
        for (int i = 0; !r && i < PQntuples(res); i++) {
                const char *table = PQgetvalue(res, i, 0);
                char next[80];
                red_buf_t b;

                red_buf_init(&b);
                red_buf_puts(&b, "LOCK TABLE ");
                red_ddl_ident(&b, table);
                red_buf_puts(&b, ", ");
                if (!red_ddl_name(table, generation, next, sizeof(next))) {
                        red_ddl_ident(&b, next);
                }
                red_buf_puts(&b, " IN ACCESS EXCLUSIVE MODE");
                r = b.failed ? -1 : red_pg_exec(conn, b.data, errstr, size);
                red_buf_destroy(&b);
        }
        for (int i = 0; !r && i < PQntuples(res); i++) {
                const char *table = PQgetvalue(res, i, 0);
                char old[80], next[80];

                if (red_ddl_name(table, live > 0 ? live : 1, old,
                                 sizeof(old)) ||
                    red_ddl_name(table, generation, next, sizeof(next))) {
                        snprintf(errstr, size, "table %s: unusable name",
                                 table);
                        r = -1;
                        break;
                }
                r = rename_tree(conn, table, old, errstr, size) ||
                    rename_tree(conn, next, table, errstr, size);
        }
        PQclear(res);
        if (r) {
                return -1;
        }
        if (!(res = red_pg_params(
                      conn,
                      "WITH g AS (SELECT version, parts, fingerprint FROM "
                      "reducerd_contract_generations WHERE contract = $1 AND "
                      "generation = $2) UPDATE reducerd_contract_schema s SET "
                      "version = g.version, generation = $2, parts = "
                      "g.parts, fingerprint = g.fingerprint, updated_at = "
                      "now() FROM g WHERE s.contract = $1",
                      2, vals, errstr, size))) {
                return -1;
        }
        PQclear(res);
        if (!(res = red_pg_params(
                      conn,
                      "UPDATE reducerd_contract_generations SET status = "
                      "CASE WHEN generation = $2 THEN 'live' ELSE "
                      "'retired' END, switched_at = now() WHERE contract "
                      "= $1 AND (generation = $2 OR status = 'live')",
                      2, vals, errstr, size))) {
                return -1;
        }
        PQclear(res);
        return 0;
}
