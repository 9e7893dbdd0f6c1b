/* red_partition - create-on-demand, create-ahead and retention of range
 * partitions. */
#include "red_partition.h"

#include "red_log.h"
#include "red_map.h"
#include "red_pg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct red_partition_cache_s {
        red_map_t *names;
};

void red_partition_of(const char *table, red_partition_t gran, red_time_t t,
                      char *name, size_t size, red_time_t *from, red_time_t *to)
{
        char suffix[16];

        if (gran == RED_PART_DAILY) {
                *from = red_window_start(RED_WINDOW_DAILY, t);
                *to = red_window_end(RED_WINDOW_DAILY, *from);
                red_time_format_day_suffix(t, suffix, sizeof(suffix));
        } else {
                *from = red_window_start(RED_WINDOW_MONTHLY, t);
                *to = red_window_end(RED_WINDOW_MONTHLY, *from);
                red_time_format_month_suffix(t, suffix, sizeof(suffix));
        }
        snprintf(name, size, "%s_%s", table, suffix);
}

red_partition_cache_t *red_partition_cache_new(void)
{
        red_partition_cache_t *pc = calloc(1, sizeof(*pc));

        if (pc && !(pc->names = red_map_new())) {
                free(pc);
                return NULL;
        }
        return pc;
}

void red_partition_cache_clear(red_partition_cache_t *pc)
{
        size_t pos = 0;
        char *name;

        while ((name = red_map_next(pc->names, &pos))) {
                free(name);
        }
        red_map_clear(pc->names);
}

void red_partition_cache_destroy(red_partition_cache_t *pc)
{
        if (!pc) {
                return;
        }
        red_partition_cache_clear(pc);
        red_map_destroy(pc->names);
        free(pc);
}

static bool name_eq(const void *item, const void *key)
{
        return !strcmp(item, key);
}

/* CREATE TABLE IF NOT EXISTS ... PARTITION OF ..., serialised between
 * workers by an advisory lock on the partition's name so that two
 * transactions do not race to create the same one. */
static int create(PGconn *conn, const char *table, const char *name,
                  red_time_t from, red_time_t to, int fillfactor, char *errstr,
                  size_t size)
{
        char with[40] = "";

        char qt[80], qn[80], f[RED_TIME_FMT_SIZE], t[RED_TIME_FMT_SIZE];
        char sql[512];
        const char *vals[1] = {name};
        PGresult *res;

        if (red_pg_ident(table, qt, sizeof(qt)) ||
            red_pg_ident(name, qn, sizeof(qn))) {
                snprintf(errstr, size, "invalid table name %s", name);
                return -1;
        }
        res = PQexecParams(conn, "SELECT pg_advisory_xact_lock(hashtext($1))",
                           1, NULL, vals, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
                red_pg_error(conn, res, errstr, size);
                PQclear(res);
                return -1;
        }
        PQclear(res);
        red_time_format(from, f, sizeof(f));
        red_time_format(to, t, sizeof(t));
        if (fillfactor > 0) {
                snprintf(with, sizeof(with), " WITH (fillfactor = %d)",
                         fillfactor);
        }
        snprintf(sql, sizeof(sql),
                 "CREATE TABLE IF NOT EXISTS %s PARTITION OF %s FOR VALUES "
                 "FROM ('%s') TO ('%s')%s",
                 qn, qt, f, t, with);
        return red_pg_exec(conn, sql, errstr, size);
}

static bool cached(red_partition_cache_t *pc, const char *name)
{
        return red_map_find(pc->names,
                            red_map_hash_bytes(name, strlen(name), 0), name_eq,
                            name) != NULL;
}

/* Remembers @p name (best effort: a name forgotten is looked up again). */
static void remember(red_partition_cache_t *pc, const char *name)
{
        char *dup = strdup(name);

        if (dup &&
            red_map_insert(pc->names, red_map_hash_bytes(name, strlen(name), 0),
                           dup)) {
                free(dup);
        }
}

/* 1 when relation @p name exists, 0 when not, -1 on error. */
static int exists(PGconn *conn, const char *name, char *errstr, size_t size)
{
        const char *vals[1] = {name};
        PGresult *res = PQexecParams(
                conn, "SELECT to_regclass(quote_ident($1)) IS NOT NULL", 1,
                NULL, vals, NULL, NULL, 0);
        int r;

        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
                red_pg_error(conn, res, errstr, size);
                PQclear(res);
                return -1;
        }
        r = PQgetvalue(res, 0, 0)[0] == 't';
        PQclear(res);
        return r;
}

int red_partition_ensure(PGconn *conn, red_partition_cache_t *pc,
                         const char *table, red_partition_t gran,
                         int fillfactor, red_time_t t, char *errstr,
                         size_t errstr_size)
{
        char name[128];
        red_time_t from, to;

        red_partition_of(table, gran, t, name, sizeof(name), &from, &to);
        if (cached(pc, name)) {
                return 0;
        }
        if (create(conn, table, name, from, to, fillfactor, errstr,
                   errstr_size)) {
                return -1;
        }
        remember(pc, name);
        return 0;
}

int red_partition_exists(PGconn *conn, red_partition_cache_t *pc,
                         const char *table, red_partition_t gran, red_time_t t,
                         char *errstr, size_t errstr_size)
{
        char name[128];
        red_time_t from, to;
        int r;

        red_partition_of(table, gran, t, name, sizeof(name), &from, &to);
        if (cached(pc, name)) {
                return 1;
        }
        if ((r = exists(conn, name, errstr, errstr_size)) == 1) {
                remember(pc, name);
        }
        return r;
}

int red_partition_create_alone(PGconn *conn, red_partition_cache_t *pc,
                               const char *table, red_partition_t gran,
                               int fillfactor, red_time_t t, char *errstr,
                               size_t errstr_size)
{
        char name[128];
        red_time_t from, to;

        red_partition_of(table, gran, t, name, sizeof(name), &from, &to);
        if (red_pg_exec(conn, "BEGIN", errstr, errstr_size) ||
            create(conn, table, name, from, to, fillfactor, errstr,
                   errstr_size) ||
            red_pg_exec(conn, "COMMIT", errstr, errstr_size)) {
                char ignore[64];
                if (red_pg_exec(conn, "ROLLBACK", ignore, sizeof(ignore))) {
                        /* connection gone */
                }
                return -1;
        }
        if (pc) {
                remember(pc, name);
        }
        return 0;
}

int red_partition_maintain(PGconn *conn, const char *table,
                           red_partition_t gran, int fillfactor,
                           int64_t retention_us, red_time_t now, int days_ahead,
                           int *created, int *dropped, char *errstr,
                           size_t errstr_size)
{
        const char *vals[1] = {table};
        PGresult *res;
        size_t tlen = strlen(table);
        char name[128];
        red_time_t from, to, t;

        /* ahead: today's partition and the next days' */
        for (t = now; t <= now + (int64_t)days_ahead * RED_TIME_US_PER_DAY;
             t = to) {
                int there;

                red_partition_of(table, gran, t, name, sizeof(name), &from,
                                 &to);
                if ((there = exists(conn, name, errstr, errstr_size)) < 0) {
                        return -1;
                }
                if (there) {
                        continue;
                }
                if (red_partition_create_alone(conn, NULL, table, gran,
                                               fillfactor, t, errstr,
                                               errstr_size)) {
                        return -1;
                }
                (*created)++;
        }
        if (!retention_us) {
                return 0;
        }
        /* retention: children named <table>_YYYY_MM[_DD] whose range ended
         * before now - retention */
        res = PQexecParams(conn,
                           "SELECT c.relname FROM pg_inherits i "
                           "JOIN pg_class c ON c.oid = i.inhrelid "
                           "JOIN pg_class p ON p.oid = i.inhparent "
                           "WHERE p.relname = $1 ORDER BY c.relname",
                           1, NULL, vals, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
                red_pg_error(conn, res, errstr, errstr_size);
                PQclear(res);
                return -1;
        }
        for (int i = 0; i < PQntuples(res); i++) {
                const char *child = PQgetvalue(res, i, 0), *sfx;
                char iso[32], qn[80], sql[160];
                int y, m, d = 1, n = 0;
                red_time_t start, end;

                if (strncmp(child, table, tlen) || child[tlen] != '_') {
                        continue;
                }
                sfx = child + tlen + 1;
                if (gran == RED_PART_DAILY
                            ? sscanf(sfx, "%4d_%2d_%2d%n", &y, &m, &d, &n) != 3
                            : sscanf(sfx, "%4d_%2d%n", &y, &m, &n) != 2) {
                        continue;
                }
                if (sfx[n]) {
                        continue;
                }
                snprintf(iso, sizeof(iso), "%04d-%02d-%02dT00:00:00Z", y, m, d);
                if (red_time_parse(iso, strlen(iso), &start)) {
                        continue;
                }
                end = red_window_end(gran == RED_PART_DAILY
                                             ? RED_WINDOW_DAILY
                                             : RED_WINDOW_MONTHLY,
                                     start);
                if (end > now - retention_us ||
                    red_pg_ident(child, qn, sizeof(qn))) {
                        continue;
                }
                snprintf(sql, sizeof(sql), "DROP TABLE IF EXISTS %s", qn);
                if (red_pg_exec(conn, sql, errstr, errstr_size)) {
                        PQclear(res);
                        return -1;
                }
                red_log_info("maintain",
                             "dropped partition %s (past "
                             "retention)",
                             child);
                (*dropped)++;
        }
        PQclear(res);
        return 0;
}
