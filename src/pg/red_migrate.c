/* red_migrate - ordered, checksummed, lock-protected schema migrations. */
#include "red_migrate.h"

#include "red_log.h"
#include "red_pg.h"

#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Defined in the generated red_migrations_data.c. */
extern const red_migration_t red_migrations_data[];
extern const size_t red_migrations_data_cnt;

/* pg_advisory_lock key: "redumigr" */
#define MIGRATE_LOCK_KEY "7310597925069711730"

/*
 * Migrations of earlier releases that made the shipped contracts' tables
 * by hand. Contracts own their tables now (red_schema), so these files
 * are gone from migrations/ and their numbers are never used again. A
 * database that applied them is fine as it is: its tables are adopted by
 * the contracts (their definitions equal what those files made, which
 * tests/integration/test_schema.c checks against the files kept in
 * tests/data/legacy_migrations/). Only a different file under one of
 * these numbers is suspicious.
 */
static const struct {
        int version;
        const char *name;
        const char *sha256;
} retired[] = {
        {2, "0002_codegen_metrics.sql",
         "74c2f9ac17db7c4874b80036f44781d611bad276c3e0f999610989faf72acebe"},
        {3, "0003_workflow_state.sql",
         "82f96ab283eeedb9aba13e2b6effe486ca7d145db78a18ef6995988cdbf1f680"},
        {5, "0005_agent_metrics.sql",
         "94f0db15f2d25fbf34ae564a1da0c3b8b64a40d0c1ccc88a63b4d117f0c3c01b"},
        {6, "0006_fillfactor.sql",
         "9661064b11e94516fb8a681dffa4e47dbc50023cdbeac704d8b10920c5db4d55"},
};

/* Whether applied row (@p version, @p name, @p sum) is a retired
 * migration as it was released. */
static bool is_retired(int version, const char *name, const char *sum)
{
        for (size_t i = 0; i < sizeof(retired) / sizeof(*retired); i++) {
                if (retired[i].version == version &&
                    !strcmp(retired[i].name, name) &&
                    !strcmp(retired[i].sha256, sum)) {
                        return true;
                }
        }
        return false;
}

const red_migration_t *red_migrate_builtin(size_t *cntp)
{
        *cntp = red_migrations_data_cnt;
        return red_migrations_data;
}

/* The version number of "0012_x.sql", or -1 when the name is malformed. */
static int version_of(const char *name)
{
        int v = 0, digits = 0;

        for (; name[digits] >= '0' && name[digits] <= '9'; digits++) {
                v = v * 10 + (name[digits] - '0');
        }
        if (digits != 4 || name[4] != '_') {
                return -1;
        }
        return v;
}

static int cmp_migration(const void *a, const void *b)
{
        return strcmp(((const red_migration_t *)a)->name,
                      ((const red_migration_t *)b)->name);
}

void red_migrate_free(red_migration_t *m, size_t cnt)
{
        for (size_t i = 0; m && i < cnt; i++) {
                free((char *)m[i].name);
                free((char *)m[i].sql);
        }
        free(m);
}

int red_migrate_read_dir(const char *dir, red_migration_t **out, size_t *cntp,
                         char *errstr, size_t errstr_size)
{
        DIR *d = opendir(dir);
        struct dirent *de;
        red_migration_t *m = NULL;
        size_t cnt = 0;

        if (!d) {
                snprintf(errstr, errstr_size, "%s: cannot open: %s", dir,
                         strerror(errno));
                return -1;
        }
        while ((de = readdir(d))) {
                size_t len = strlen(de->d_name);
                char path[4096];
                FILE *fp;
                long size;
                red_migration_t *nm;

                if (len < 5 || strcmp(de->d_name + len - 4, ".sql")) {
                        continue;
                }
                if (version_of(de->d_name) < 0) {
                        snprintf(errstr, errstr_size,
                                 "%s/%s: migration names must look like "
                                 "NNNN_name.sql",
                                 dir, de->d_name);
                        goto err;
                }
                nm = realloc(m, (cnt + 1) * sizeof(*m));
                if (!nm) {
                        goto oom;
                }
                m = nm;
                memset(&m[cnt], 0, sizeof(*m));
                snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
                if (!(fp = fopen(path, "rb"))) {
                        snprintf(errstr, errstr_size, "%s: cannot open: %s",
                                 path, strerror(errno));
                        goto err;
                }
                fseek(fp, 0, SEEK_END);
                size = ftell(fp);
                rewind(fp);
                m[cnt].name = strdup(de->d_name);
                m[cnt].sql = calloc(1, (size_t)size + 1);
                m[cnt].len = (size_t)size;
                cnt++;
                if (!m[cnt - 1].name || !m[cnt - 1].sql ||
                    fread((char *)m[cnt - 1].sql, 1, (size_t)size, fp) !=
                            (size_t)size) {
                        fclose(fp);
                        snprintf(errstr, errstr_size, "%s: cannot read", path);
                        goto err;
                }
                fclose(fp);
        }
        closedir(d);
        qsort(m, cnt, sizeof(*m), cmp_migration);
        *out = m;
        *cntp = cnt;
        return 0;
oom:
        snprintf(errstr, errstr_size, "out of memory");
err:
        closedir(d);
        red_migrate_free(m, cnt);
        return -1;
}

/* SHA-256 of the file text, computed by the server (no crypto library
 * needed here, and the same function anyone can run in psql). */
static int checksum(PGconn *conn, const red_migration_t *m, char *out,
                    size_t size, char *errstr, size_t errstr_size)
{
        const char *vals[1] = {m->sql};
        int lens[1] = {(int)m->len}, fmts[1] = {1};
        PGresult *res =
                PQexecParams(conn, "SELECT encode(sha256($1::bytea), 'hex')", 1,
                             NULL, vals, lens, fmts, 0);
        int r = 0;

        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
                red_pg_error(conn, res, errstr, errstr_size);
                r = -1;
        } else {
                snprintf(out, size, "%s", PQgetvalue(res, 0, 0));
        }
        PQclear(res);
        return r;
}

static int apply_one(PGconn *conn, const red_migration_t *m, int version,
                     const char *sum, char *errstr, size_t errstr_size)
{
        char ver[16], err[1024];
        const char *vals[3] = {ver, m->name, sum};
        PGresult *res;
        char *sql;

        snprintf(ver, sizeof(ver), "%d", version);
        if (red_pg_exec(conn, "BEGIN", err, sizeof(err))) {
                goto fail;
        }
        /* The file may hold many statements: simple-query protocol. */
        sql = strndup(m->sql, m->len);
        if (!sql) {
                snprintf(err, sizeof(err), "out of memory");
                goto rollback;
        }
        if (red_pg_exec(conn, sql, err, sizeof(err))) {
                free(sql);
                goto rollback;
        }
        free(sql);
        res = PQexecParams(conn,
                           "INSERT INTO reducerd_schema_migrations "
                           "(version, name, checksum) VALUES ($1, $2, $3)",
                           3, NULL, vals, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
                red_pg_error(conn, res, err, sizeof(err));
                PQclear(res);
                goto rollback;
        }
        PQclear(res);
        if (red_pg_exec(conn, "COMMIT", err, sizeof(err))) {
                goto fail;
        }
        return 0;
rollback:
        if (red_pg_exec(conn, "ROLLBACK", errstr, errstr_size)) {
                /* the connection is gone; the server rolls back */
        }
fail:
        snprintf(errstr, errstr_size, "migration %s failed: %s", m->name, err);
        return -1;
}

int red_migrate_apply(PGconn *conn, const red_migration_t *m, size_t cnt,
                      int *applied, char *errstr, size_t errstr_size)
{
        PGresult *res = NULL;
        int r = -1;

        *applied = 0;
        for (size_t i = 0; i < cnt; i++) {
                if (version_of(m[i].name) < 0 ||
                    (i > 0 &&
                     version_of(m[i].name) == version_of(m[i - 1].name))) {
                        snprintf(errstr, errstr_size,
                                 "migration %s: names must be NNNN_name.sql "
                                 "with unique numbers",
                                 m[i].name);
                        return -1;
                }
        }
        if (red_pg_exec(conn, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")",
                        errstr, errstr_size)) {
                return -1;
        }
        if (red_pg_exec(
                    conn,
                    "SET client_min_messages = warning;"
                    "CREATE TABLE IF NOT EXISTS reducerd_schema_migrations ("
                    " version integer PRIMARY KEY,"
                    " name text NOT NULL,"
                    " checksum text NOT NULL,"
                    " applied_at timestamptz NOT NULL DEFAULT now())",
                    errstr, errstr_size)) {
                goto done;
        }
        res = PQexec(conn, "SELECT version, name, checksum FROM "
                           "reducerd_schema_migrations ORDER BY version");
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
                red_pg_error(conn, res, errstr, errstr_size);
                goto done;
        }
        for (int row = 0; row < PQntuples(res); row++) {
                int v = atoi(PQgetvalue(res, row, 0));
                bool known = false;

                for (size_t i = 0; i < cnt; i++) {
                        known |= version_of(m[i].name) == v;
                }
                if (!known && is_retired(v, PQgetvalue(res, row, 1),
                                         PQgetvalue(res, row, 2))) {
                        continue;
                }
                if (!known) {
                        red_log_warn("migrate",
                                     "the database has migration %s, which "
                                     "this build does not know (newer "
                                     "release?)",
                                     PQgetvalue(res, row, 1));
                }
        }
        for (size_t i = 0; i < cnt; i++) {
                int v = version_of(m[i].name), row;
                char sum[80];

                if (checksum(conn, &m[i], sum, sizeof(sum), errstr,
                             errstr_size)) {
                        goto done;
                }
                for (row = 0; row < PQntuples(res); row++) {
                        if (atoi(PQgetvalue(res, row, 0)) == v) {
                                break;
                        }
                }
                if (row < PQntuples(res)) {
                        if (strcmp(PQgetvalue(res, row, 2), sum)) {
                                snprintf(errstr, errstr_size,
                                         "migration %s was changed after it "
                                         "was applied (applied as %s with "
                                         "sha256 %.12s…, now %.12s…); restore "
                                         "the file and put the change in a "
                                         "new migration",
                                         m[i].name, PQgetvalue(res, row, 1),
                                         PQgetvalue(res, row, 2), sum);
                                goto done;
                        }
                        continue;
                }
                if (apply_one(conn, &m[i], v, sum, errstr, errstr_size)) {
                        goto done;
                }
                red_log_info("migrate", "applied %s", m[i].name);
                (*applied)++;
        }
        r = 0;
done:
        PQclear(res);
        {
                char ignore[256];
                if (red_pg_exec(conn,
                                "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY
                                ")",
                                ignore, sizeof(ignore))) {
                        /* a lost connection releases the lock too */
                }
        }
        return r;
}

int red_migrate_pending(PGconn *conn, const red_migration_t *m, size_t cnt,
                        FILE *out, int *pending, char *errstr,
                        size_t errstr_size)
{
        PGresult *res = PQexec(conn, "SELECT to_regclass("
                                     "'reducerd_schema_migrations') IS NULL");
        bool none;

        *pending = 0;
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
                red_pg_error(conn, res, errstr, errstr_size);
                PQclear(res);
                return -1;
        }
        none = PQgetvalue(res, 0, 0)[0] == 't';
        PQclear(res);
        res = PQexec(conn, none ? "SELECT NULL::int WHERE false"
                                : "SELECT version FROM "
                                  "reducerd_schema_migrations");
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
                red_pg_error(conn, res, errstr, errstr_size);
                PQclear(res);
                return -1;
        }
        for (size_t i = 0; i < cnt; i++) {
                int v = version_of(m[i].name), row = 0;

                while (row < PQntuples(res) &&
                       atoi(PQgetvalue(res, row, 0)) != v) {
                        row++;
                }
                if (row < PQntuples(res)) {
                        continue;
                }
                fprintf(out, "-- migration %s (the engine's tables)\n%.*s\n",
                        m[i].name, (int)m[i].len, m[i].sql);
                (*pending)++;
        }
        PQclear(res);
        return 0;
}
