/* red_discovery_pg - the healthy nodes the discovery mirror wants. */
#include "red_discovery_pg.h"

#include "red_buf.h"
#include "red_pg.h"
#include "red_state_sql.h"
#include "red_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int red_discovery_pg_wanted(PGconn *conn, const red_state_t *sink,
                            const char *prefix, double factor,
                            red_discovery_set_t *out, char *errstr, size_t size)
{
        const red_staleness_t *stale = sink->stale;
        char table[80], interval[80] = "NULL";
        double def_s = stale ? (double)stale->default_interval_us /
                                       (double)RED_TIME_US_PER_SEC
                             : 30.0;
        red_buf_t sql, eff, key;
        PGresult *res = NULL;
        int r = -1;

        red_buf_init(&sql);
        red_buf_init(&eff);
        red_buf_init(&key);
        if (red_pg_ident(sink->table, table, sizeof(table)) ||
            red_state_sql_effective(sink, "n.", "now()", &eff) || eff.failed ||
            (stale && stale->interval_col >= 0 &&
             red_pg_ident(sink->columns[stale->interval_col].name, interval,
                          sizeof(interval)))) {
                snprintf(errstr, size, "registry table: not an identifier");
                goto done;
        }
        /* jsonb's text is canonical (keys ordered, one spacing), so equal
         * nodes give equal values whatever wrote them */
        red_buf_printf(
                &sql,
                "SELECT n.node_id, jsonb_build_object('node_id', n.node_id, "
                "'node_name', n.node_name, 'node_type', n.node_type, "
                "'version', n.version, 'endpoints', coalesce(n.endpoints, "
                "'{}'::jsonb), 'capabilities', coalesce(n.capabilities, "
                "'[]'::jsonb), 'health_status', %s, 'health_check', "
                "n.health_check_config)::text, (%s%s)::float8 FROM %s n "
                "WHERE n.deleted_at IS NULL AND (%s) = 'healthy' ORDER BY "
                "n.node_id COLLATE \"C\"",
                eff.data, strcmp(interval, "NULL") ? "n." : "", interval, table,
                eff.data);
        if (sql.failed) {
                snprintf(errstr, size, "out of memory");
                goto done;
        }
        res = PQexecParams(conn, sql.data, 0, NULL, NULL, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
                red_pg_error(conn, res, errstr, size);
                goto done;
        }
        for (int i = 0; i < PQntuples(res); i++) {
                bool has = !PQgetisnull(res, i, 2);
                int64_t ttl =
                        red_discovery_ttl(has ? atof(PQgetvalue(res, i, 2)) : 0,
                                          has, def_s, factor);

                red_buf_reset(&key);
                red_buf_puts(&key, prefix);
                red_buf_puts(&key, PQgetvalue(res, i, 0));
                red_buf_putc(&key, '\0');
                if (key.failed ||
                    red_discovery_set_add(out, key.data, PQgetvalue(res, i, 1),
                                          ttl, 0)) {
                        snprintf(errstr, size, "out of memory");
                        goto done;
                }
        }
        /* COLLATE "C" is byte order already; sorting again costs little
         * and makes the order the comparison needs a fact here */
        red_discovery_set_sort(out);
        r = 0;
done:
        PQclear(res);
        red_buf_destroy(&sql);
        red_buf_destroy(&eff);
        red_buf_destroy(&key);
        return r;
}

/* Whether node @p id is among the keys of @p held (sorted). */
static bool held_has(const red_discovery_set_t *held, const char *prefix,
                     const char *id)
{
        size_t lo = 0, hi = held->cnt, plen = strlen(prefix);

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                const char *k = held->items[mid].key;
                int c = strncmp(k, prefix, plen);

                if (!c) {
                        c = strcmp(k + plen, id);
                }
                if (!c) {
                        return true;
                }
                if (c < 0) {
                        lo = mid + 1;
                } else {
                        hi = mid;
                }
        }
        return false;
}

long red_discovery_pg_flag(PGconn *conn, const red_state_t *sink,
                           const char *prefix, const red_discovery_set_t *held,
                           char *errstr, size_t size)
{
        char table[80], sql[512];
        PGresult *res;
        long changed = 0;
        int n;

        if (red_pg_ident(sink->table, table, sizeof(table))) {
                snprintf(errstr, size, "registry table: not an identifier");
                return -1;
        }
        snprintf(sql, sizeof(sql),
                 "SELECT node_id, discovery_registered FROM %s WHERE "
                 "discovery_registered OR deleted_at IS NULL",
                 table);
        res = PQexecParams(conn, sql, 0, NULL, NULL, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
                red_pg_error(conn, res, errstr, size);
                PQclear(res);
                return -1;
        }
        n = PQntuples(res);
        snprintf(sql, sizeof(sql),
                 "UPDATE %s SET discovery_registered = $2 WHERE node_id = $1 "
                 "AND discovery_registered IS DISTINCT FROM $2",
                 table);
        for (int i = 0; i < n; i++) {
                const char *id = PQgetvalue(res, i, 0);
                bool on = held_has(held, prefix, id);
                const char *vals[2] = {id, on ? "true" : "false"};
                PGresult *u;

                if (on == (PQgetvalue(res, i, 1)[0] == 't')) {
                        continue;
                }
                u = PQexecParams(conn, sql, 2, NULL, vals, NULL, NULL, 0);
                if (PQresultStatus(u) != PGRES_COMMAND_OK) {
                        red_pg_error(conn, u, errstr, size);
                        PQclear(u);
                        PQclear(res);
                        return -1;
                }
                changed += atol(PQcmdTuples(u));
                PQclear(u);
        }
        PQclear(res);
        return changed;
}
