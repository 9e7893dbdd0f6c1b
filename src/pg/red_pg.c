/* red_pg - libpq helpers: connect, exec, error classification. */
#include "red_pg.h"

#include "red_redact.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

PGconn *red_pg_connect(const char *conninfo, char *errstr, size_t errstr_size)
{
        /* Our defaults come first; a conninfo or URI given as dbname is
         * expanded in its place and overrides them. */
        const char *keys[] = {"application_name", "connect_timeout", "dbname",
                              NULL};
        const char *vals[] = {"reducerd", "10", conninfo, NULL};
        PGconn *conn = PQconnectdbParams(keys, vals, 1);
        const char *host, *port, *msg, *nl;
        char reason[512];

        if (conn && PQstatus(conn) == CONNECTION_OK) {
                return conn;
        }
        if (!conn) {
                snprintf(errstr, errstr_size,
                         "cannot connect to PostgreSQL: out of memory");
                return NULL;
        }
        host = PQhost(conn);
        port = PQport(conn);
        msg = PQerrorMessage(conn);
        /* libpq repeats "connection to server at ... failed:" per attempt;
         * keep the last line that carries the reason. */
        while ((nl = strchr(msg, '\n')) && nl[1]) {
                msg = nl + 1;
        }
        /* a conninfo libpq cannot parse is quoted in its message, password
         * and all */
        red_redact(reason, sizeof(reason), msg, strcspn(msg, "\n"), conninfo,
                   PQpass(conn));
        snprintf(errstr, errstr_size,
                 "cannot connect to PostgreSQL at %s:%s: %s",
                 host && *host ? host : "(default socket)",
                 port && *port ? port : "5432", reason);
        PQfinish(conn);
        return NULL;
}

void red_pg_describe(const PGconn *conn, char *buf, size_t size)
{
        const char *host = PQhost(conn), *port = PQport(conn), *db = PQdb(conn);

        snprintf(buf, size, "%s:%s/%s", host && *host ? host : "socket",
                 port ? port : "", db ? db : "");
}

void red_pg_error(const PGconn *conn, const PGresult *res, char *errstr,
                  size_t errstr_size)
{
        const char *msg = res ? PQresultErrorMessage(res) : "";

        if (!msg || !*msg) {
                msg = PQerrorMessage(conn);
        }
        red_redact(errstr, errstr_size, msg, strcspn(msg, "\n"), NULL,
                   PQpass(conn));
}

int red_pg_exec(PGconn *conn, const char *sql, char *errstr, size_t errstr_size)
{
        PGresult *res = PQexec(conn, sql);
        ExecStatusType st = PQresultStatus(res);
        int r = 0;

        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
                red_pg_error(conn, res, errstr, errstr_size);
                r = -1;
        }
        PQclear(res);
        return r;
}

PGresult *red_pg_params(PGconn *conn, const char *sql, int n,
                        const char *const *vals, char *errstr,
                        size_t errstr_size)
{
        PGresult *res = PQexecParams(conn, sql, n, NULL, vals, NULL, NULL, 0);
        ExecStatusType st = PQresultStatus(res);

        if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
                red_pg_error(conn, res, errstr, errstr_size);
                PQclear(res);
                return NULL;
        }
        return res;
}

bool red_pg_retriable(const PGconn *conn, const PGresult *res)
{
        const char *state;

        if (PQstatus(conn) != CONNECTION_OK) {
                return true;
        }
        if (!res) {
                return true;
        }
        state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        if (!state) {
                /* No SQLSTATE: the client side failed (lost connection). */
                return PQresultStatus(res) == PGRES_FATAL_ERROR;
        }
        /* the connection and the server's resources: what passes; never
         * the data (22, 23) nor the schema (42), which a retry repeats */
        return !strncmp(state, "08", 2) || /* connection exceptions */
               !strncmp(state, "40", 2) || /* serialization, deadlock */
               !strncmp(state, "53", 2) || /* disk full, memory, slots */
               !strncmp(state, "57", 2) || /* shutdown, cancel, restart */
               !strncmp(state, "58", 2) || /* I/O errors */
               !strcmp(state, "55P03");    /* lock_not_available */
}

int red_pg_ident(const char *name, char *buf, size_t size)
{
        size_t len = strlen(name);

        if (len == 0 || len > 63 || len + 3 > size ||
            !((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_')) {
                return -EINVAL;
        }
        for (size_t i = 0; i < len; i++) {
                char c = name[i];
                if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '_')) {
                        return -EINVAL;
                }
        }
        snprintf(buf, size, "\"%s\"", name);
        return 0;
}
