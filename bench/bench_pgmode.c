/* bench_pgmode - restart the benchmarks' PostgreSQL durable or fast. */
#include "bench_pgmode.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static PGconn *connect_admin(void)
{
        PGconn *c = PQconnectdb("dbname=postgres");

        if (PQstatus(c) != CONNECTION_OK) {
                fprintf(stderr, "bench: %s (set PG* as ./dev pg prints)\n",
                        PQerrorMessage(c));
                exit(1);
        }
        return c;
}

static char *show(PGconn *c, const char *name)
{
        char sql[128];
        PGresult *r;
        char *v;

        snprintf(sql, sizeof(sql), "SHOW %s", name);
        r = PQexec(c, sql);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
                fprintf(stderr, "bench: %s: %s", sql, PQresultErrorMessage(r));
                exit(1);
        }
        v = strdup(PQgetvalue(r, 0, 0));
        PQclear(r);
        return v;
}

bool bench_pgmode_durable(void)
{
        PGconn *c = connect_admin();
        char *f = show(c, "fsync"), *s = show(c, "synchronous_commit");
        bool on = !strcmp(f, "on") && strcmp(s, "off") != 0;

        free(f);
        free(s);
        PQfinish(c);
        return on;
}

bool bench_pgmode_set(bool durable)
{
        const char *pgctl = getenv("REDUCERD_TEST_PGCTL");
        const char *v = durable ? "on" : "off";
        char cmd[4096], *la, *port, *sock, *maxc, *data, *slash;
        PGconn *c;

        if (bench_pgmode_durable() == durable) {
                return true;
        }
        if (!pgctl || !*pgctl) {
                return false;
        }
        c = connect_admin();
        la = show(c, "listen_addresses");
        port = show(c, "port");
        sock = show(c, "unix_socket_directories");
        maxc = show(c, "max_connections");
        data = show(c, "data_directory");
        PQfinish(c);
        if ((slash = strrchr(data, '/'))) {
                *slash = '\0';
        }
        snprintf(cmd, sizeof(cmd),
                 "%s restart -m fast -l '%s/postgres.log' -o \"-c "
                 "listen_addresses='%s' -p %s -k '%s' -c max_connections=%s "
                 "-c fsync=%s -c synchronous_commit=%s -c "
                 "full_page_writes=%s\" >/dev/null",
                 pgctl, data, la, port, sock, maxc, v, v, v);
        free(la);
        free(port);
        free(sock);
        free(maxc);
        free(data);
        if (system(cmd) != 0) {
                fprintf(stderr, "bench: failed: %s\n", cmd);
                exit(1);
        }
        return bench_pgmode_durable() == durable;
}

const char *bench_pgmode_name(bool durable)
{
        return durable ? "durable (fsync, synchronous_commit and "
                         "full_page_writes on)"
                       : "fast (fsync, synchronous_commit and "
                         "full_page_writes off)";
}
