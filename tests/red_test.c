/* Test support: process runner, throwaway databases, condition waits. */
#include "red_test.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

const char *test_srcdir(void)
{
        const char *s = getenv("RED_SRCDIR");
        return s ? s : ".";
}

const char *test_bin(void)
{
        const char *s = getenv("RED_BIN");
        return s ? s : "reducerd";
}

const char *test_path(const char *rel)
{
        static char bufs[8][4096];
        static int next;
        char *b = bufs[next++ % 8];

        snprintf(b, sizeof(bufs[0]), "%s/%s", test_srcdir(), rel);
        return b;
}

static void drain(int fd, char **buf, size_t *len, size_t *cap)
{
        char tmp[8192];
        ssize_t n = read(fd, tmp, sizeof(tmp));

        if (n <= 0) {
                return;
        }
        if (*len + (size_t)n + 1 > *cap) {
                *cap = (*len + (size_t)n + 1) * 2;
                *buf = realloc(*buf, *cap);
                ck_assert_ptr_nonnull(*buf);
        }
        memcpy(*buf + *len, tmp, (size_t)n);
        *len += (size_t)n;
        (*buf)[*len] = '\0';
}

int test_run(const char *const argv[], const char *const env_extra[],
             char **out, char **err)
{
        int po[2], pe[2], status;
        posix_spawn_file_actions_t fa;
        char **env;
        size_t n = 0, k = 0, olen = 0, ocap = 0, elen = 0, ecap = 0;
        char *obuf = calloc(1, 1), *ebuf = calloc(1, 1);
        pid_t pid;
        bool o_open = true, e_open = true;

        ck_assert_int_eq(pipe(po), 0);
        ck_assert_int_eq(pipe(pe), 0);
        while (environ[n]) {
                n++;
        }
        while (env_extra && env_extra[k]) {
                k++;
        }
        env = calloc(n + k + 1, sizeof(*env));
        for (size_t i = 0; i < k; i++) {
                env[i] = (char *)env_extra[i];
        }
        for (size_t i = 0; i < n; i++) {
                env[k + i] = environ[i];
        }
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, po[1], 1);
        posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
        posix_spawn_file_actions_addclose(&fa, po[0]);
        posix_spawn_file_actions_addclose(&fa, pe[0]);
        ck_assert_msg(posix_spawn(&pid, argv[0], &fa, NULL,
                                  (char *const *)argv, env) == 0,
                      "cannot run %s", argv[0]);
        posix_spawn_file_actions_destroy(&fa);
        free(env);
        close(po[1]);
        close(pe[1]);
        while (o_open || e_open) {
                struct pollfd p[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
                if (poll(p, 2, -1) < 0) {
                        continue;
                }
                if (p[0].revents) {
                        size_t before = olen;
                        drain(po[0], &obuf, &olen, &ocap);
                        o_open = olen != before;
                }
                if (p[1].revents) {
                        size_t before = elen;
                        drain(pe[0], &ebuf, &elen, &ecap);
                        e_open = elen != before;
                }
        }
        close(po[0]);
        close(pe[0]);
        waitpid(pid, &status, 0);
        if (out) {
                *out = obuf;
        } else {
                free(obuf);
        }
        if (err) {
                *err = ebuf;
        } else {
                free(ebuf);
        }
        return WIFEXITED(status) ? WEXITSTATUS(status)
                                 : 128 + WTERMSIG(status);
}

PGconn *test_pg_connect(const char *conninfo)
{
        PGconn *conn = PQconnectdb(conninfo);

        ck_assert_msg(PQstatus(conn) == CONNECTION_OK,
                      "integration tests need PostgreSQL (PGHOST/PGPORT; "
                      "./dev test starts one): %s",
                      PQerrorMessage(conn));
        return conn;
}

void test_pg_exec(PGconn *conn, const char *sql)
{
        PGresult *res = PQexec(conn, sql);
        ExecStatusType st = PQresultStatus(res);

        ck_assert_msg(st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK,
                      "%s: %s", sql, PQresultErrorMessage(res));
        PQclear(res);
}

char *test_pg_value(PGconn *conn, const char *sql)
{
        PGresult *res = PQexec(conn, sql);
        char *v = NULL;

        ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql,
                      PQresultErrorMessage(res));
        ck_assert_msg(PQntuples(res) == 1, "%s: %d rows", sql,
                      PQntuples(res));
        if (!PQgetisnull(res, 0, 0)) {
                v = strdup(PQgetvalue(res, 0, 0));
        }
        PQclear(res);
        return v;
}

char *test_pg_create_db(const char *prefix)
{
        char name[128], sql[256], *ci;
        PGconn *conn = test_pg_connect("dbname=postgres");
        static unsigned seq;

        snprintf(name, sizeof(name), "%s_%d_%u_%ld", prefix, (int)getpid(),
                 seq++, (long)time(NULL) % 100000);
        test_pg_exec(conn, "SET client_min_messages = warning");
        snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", name);
        test_pg_exec(conn, sql);
        snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
        test_pg_exec(conn, sql);
        PQfinish(conn);
        ck_assert_int_ge(asprintf(&ci, "dbname=%s", name), 0);
        return ci;
}

TCase *test_add_case(Suite *s, const char *name, const TTest *test,
                     double timeout_s)
{
        TCase *tc = tcase_create(name);

        tcase_set_timeout(tc, timeout_s);
        tcase_add_test(tc, test);
        suite_add_tcase(s, tc);
        return tc;
}

char *test_markdown_section(const char *path, const char *heading,
                            int *first_line)
{
        char *md = test_read_file(path, NULL), *sec;
        const char *start = NULL, *end = NULL;
        bool fence = false;
        int line = 1, found = 0;

        for (const char *p = md; *p; line++) {
                const char *eol = strchr(p, '\n');
                size_t len = eol ? (size_t)(eol - p) : strlen(p);
                if (!strncmp(p, "```", 3)) {
                        fence = !fence;
                } else if (!fence && len == strlen(heading) &&
                           !strncmp(p, heading, len)) {
                        found++;
                        start = p;
                        if (first_line) {
                                *first_line = line;
                        }
                } else if (!fence && start && !end && !strncmp(p, "## ", 3)) {
                        end = p;
                }
                p += len + (eol != NULL);
        }
        ck_assert_msg(found == 1, "%s: %d \"%s\" headings, want one", path,
                      found, heading);
        ck_assert_msg(!fence, "%s: a code block is not closed", path);
        sec = strndup(start, end ? (size_t)(end - start) : strlen(start));
        free(md);
        return sec;
}

char *test_read_file(const char *path, size_t *lenp)
{
        FILE *fp = fopen(path, "rb");
        char *buf;
        long len;

        ck_assert_msg(fp != NULL, "cannot open %s: %s", path,
                      strerror(errno));
        fseek(fp, 0, SEEK_END);
        len = ftell(fp);
        rewind(fp);
        buf = malloc((size_t)len + 1);
        ck_assert_ptr_nonnull(buf);
        ck_assert_int_eq(fread(buf, 1, (size_t)len, fp), (size_t)len);
        buf[len] = '\0';
        fclose(fp);
        if (lenp) {
                *lenp = (size_t)len;
        }
        return buf;
}

void test_write_file(const char *path, const char *data, size_t len)
{
        FILE *fp = fopen(path, "wb");

        ck_assert_msg(fp != NULL, "cannot write %s: %s", path,
                      strerror(errno));
        ck_assert_int_eq(fwrite(data, 1, len, fp), len);
        ck_assert_int_eq(fclose(fp), 0);
}

char *test_tmpdir(void)
{
        char tmpl[] = "/tmp/reducerd-test-XXXXXX";
        char *d = mkdtemp(tmpl);

        ck_assert_ptr_nonnull(d);
        chmod(d, 0755);
        return strdup(d);
}

long long test_now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool test_wait_for(bool (*cond)(void *opaque), void *opaque, long timeout_ms)
{
        long long deadline = test_now_ms() + timeout_ms;

        for (;;) {
                if (cond(opaque)) {
                        return true;
                }
                if (test_now_ms() > deadline) {
                        return false;
                }
                struct timespec ts = {0, 20 * 1000000};
                nanosleep(&ts, NULL);
        }
}

int test_main(Suite *s)
{
        SRunner *sr = srunner_create(s);
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? 1 : 0;
}
