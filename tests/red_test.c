/* Test support: process runner, throwaway databases, condition waits, decoded
 * events. */
#include "red_test.h"

#include "red_decode.h"
#include "red_rows.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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
        ck_assert_msg(posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv,
                                  env) == 0,
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
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
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

        ck_assert_msg(st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK, "%s: %s",
                      sql, PQresultErrorMessage(res));
        PQclear(res);
}

char *test_pg_value(PGconn *conn, const char *sql)
{
        PGresult *res = PQexec(conn, sql);
        char *v = NULL;

        ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql,
                      PQresultErrorMessage(res));
        ck_assert_msg(PQntuples(res) == 1, "%s: %d rows", sql, PQntuples(res));
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

        ck_assert_msg(fp != NULL, "cannot open %s: %s", path, strerror(errno));
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

        ck_assert_msg(fp != NULL, "cannot write %s: %s", path, strerror(errno));
        ck_assert_int_eq(fwrite(data, 1, len, fp), len);
        ck_assert_int_eq(fclose(fp), 0);
}

void test_migrations_before(const char *dir, int before)
{
        const char *src = test_path("migrations");
        struct dirent *e;
        DIR *d = opendir(src);
        int copied = 0;

        ck_assert_msg(d != NULL, "cannot read %s: %s", src, strerror(errno));
        while ((e = readdir(d))) {
                char from[4200], to[4200], *sql;
                size_t n = strlen(e->d_name), len;
                int num;

                if (n < 6 || strcmp(e->d_name + n - 4, ".sql") ||
                    sscanf(e->d_name, "%4d_", &num) != 1 || num >= before) {
                        continue;
                }
                snprintf(from, sizeof(from), "%s/%s", src, e->d_name);
                snprintf(to, sizeof(to), "%s/%s", dir, e->d_name);
                sql = test_read_file(from, &len);
                test_write_file(to, sql, len);
                free(sql);
                copied++;
        }
        closedir(d);
        ck_assert_int_gt(copied, 0);
}

uint64_t test_rand(uint64_t *state)
{
        uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
}

double test_unif(uint64_t *state)
{
        return (double)(test_rand(state) >> 11) / 9007199254740992.0;
}

char *test_tmpdir(void)
{
        char tmpl[] = "/tmp/reducerd-test-XXXXXX";
        char *d = mkdtemp(tmpl);

        ck_assert_ptr_nonnull(d);
        chmod(d, 0755);
        return strdup(d);
}

red_time_t test_ts(const char *iso)
{
        red_time_t t = 0;

        ck_assert_msg(red_time_parse(iso, strlen(iso), &t) == 0,
                      "bad time literal %s", iso);
        return t;
}

const char *test_ts_text(red_time_t t, char buf[RED_TIME_FMT_SIZE])
{
        red_time_format(t, buf, RED_TIME_FMT_SIZE);
        return buf;
}

long long test_now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool test_wait_every(bool (*cond)(void *opaque), void *opaque, long timeout_ms,
                     long interval_ms)
{
        long long deadline = test_now_ms() + timeout_ms;
        struct timespec ts = {interval_ms / 1000,
                              (interval_ms % 1000) * 1000000};

        for (;;) {
                bool late = test_now_ms() > deadline;

                /* judged before the call: a condition that blocks (or a
                 * slow machine) still gets its last look at the deadline */
                if (cond(opaque)) {
                        return true;
                }
                if (late) {
                        return false;
                }
                if (interval_ms > 0) {
                        nanosleep(&ts, NULL);
                }
        }
}

bool test_wait_for(bool (*cond)(void *opaque), void *opaque, long timeout_ms)
{
        return test_wait_every(cond, opaque, timeout_ms, 20);
}

/* --- contracts and events -------------------------------------------- */

red_contract_t *test_contract(const char *rel)
{
        char err[2048];
        red_contract_t *c = red_contract_load(test_path(rel), err, sizeof(err));

        ck_assert_msg(c != NULL, "%s", err);
        return c;
}

red_contract_t *test_contract_text(const char *text)
{
        char *dir = test_tmpdir(), path[4096], err[2048];
        red_contract_t *c;

        snprintf(path, sizeof(path), "%s/contract.yaml", dir);
        test_write_file(path, text, strlen(text));
        c = red_contract_load(path, err, sizeof(err));
        ck_assert_msg(c != NULL, "%s", err);
        unlink(path);
        rmdir(dir);
        free(dir);
        return c;
}

red_contract_t *test_contract_with(const char *rel, const char *more)
{
        char *base = test_read_file(test_path(rel), NULL), *text;
        red_contract_t *c;

        ck_assert_int_ge(asprintf(&text, "%s%s", base, more), 0);
        c = test_contract_text(text);
        free(text);
        free(base);
        return c;
}

red_time_t test_time(const char *iso)
{
        red_time_t t;

        ck_assert_msg(!red_time_parse(iso, strlen(iso), &t), "bad time %s",
                      iso);
        return t;
}

test_event_t *test_event(const red_contract_t *c, const char *topic,
                         int32_t partition, int64_t offset, red_time_t now,
                         const char *fmt, ...)
{
        test_event_t *te = calloc(1, sizeof(*te));
        char detail[512];
        red_dlq_code_t code;
        va_list ap;

        ck_assert_ptr_nonnull(te);
        va_start(ap, fmt);
        ck_assert_int_ge(vasprintf(&te->text, fmt, ap), 0);
        va_end(ap);
        te->topic = strdup(topic);
        te->ev.values =
                calloc(c->slot_cnt ? c->slot_cnt : 1, sizeof(red_value_t));
        ck_assert(te->topic && te->ev.values);
        te->msg.topic = te->topic;
        te->msg.partition = partition;
        te->msg.offset = offset;
        te->msg.value = te->text;
        te->msg.value_len = strlen(te->text);
        te->msg.timestamp = -1;
        code = red_decode(c, &te->msg, now, &te->ev, detail, sizeof(detail));
        ck_assert_msg(code == RED_DLQ_NONE, "%s: %s (%s)",
                      red_dlq_code_name(code), detail, te->text);
        return te;
}

void test_event_free(test_event_t *te)
{
        if (!te) {
                return;
        }
        red_decode_release(&te->ev);
        free(te->ev.values);
        free(te->text);
        free(te->topic);
        free(te);
}

/* --- aggregation cells ----------------------------------------------- */

red_cell_t *test_cell_find(red_aggregator_t *ag, red_window_type_t wt,
                           const char *start, const char *grouping,
                           const char *key)
{
        red_time_t t = test_time(start);
        size_t n;
        red_cell_t **cells = red_aggregator_cells(ag, &n);

        for (size_t i = 0; i < n; i++) {
                const red_agg_t *a = red_cell_agg(cells[i]);

                if (red_cell_window_type(cells[i]) == wt &&
                    red_cell_window_start(cells[i]) == t &&
                    !strcmp(a->groupings[red_cell_grouping(cells[i])].name,
                            grouping) &&
                    !strcmp(red_cell_key(cells[i], 0), key)) {
                        return cells[i];
                }
        }
        return NULL;
}

red_cell_t *test_cell(red_aggregator_t *ag, red_window_type_t wt,
                      const char *start, const char *grouping, const char *key)
{
        red_cell_t *cell = test_cell_find(ag, wt, start, grouping, key);

        ck_assert_msg(cell != NULL, "no %s cell at %s for %s=%s",
                      red_window_type_name(wt), start, grouping, key);
        return cell;
}

json_t *test_cell_row(const red_cell_t *cell)
{
        red_buf_t b;
        json_error_t err;
        json_t *j;

        red_buf_init(&b);
        red_rows_cell_json(cell, NULL, &b);
        ck_assert(!b.failed);
        j = json_loadb(b.data, b.len, 0, &err);
        ck_assert_msg(j != NULL, "%s: %s", err.text, b.data);
        red_buf_destroy(&b);
        return j;
}

double test_json_number(json_t *j, ...)
{
        const char *k;
        va_list ap;

        va_start(ap, j);
        while ((k = va_arg(ap, const char *))) {
                j = json_object_get(j, k);
                ck_assert_msg(j != NULL, "no member %s", k);
        }
        va_end(ap);
        if (json_is_null(j)) {
                return NAN;
        }
        ck_assert_msg(json_is_number(j), "not a number");
        return json_number_value(j);
}

double test_cell_number(const red_cell_t *cell, const char *column)
{
        json_t *row = test_cell_row(cell);
        double v = test_json_number(row, column, NULL);

        json_decref(row);
        return v;
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

int test_free_port(void)
{
        struct sockaddr_in sa = {.sin_family = AF_INET};
        socklen_t len = sizeof(sa);
        int fd = socket(AF_INET, SOCK_STREAM, 0);

        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
        close(fd);
        return ntohs(sa.sin_port);
}

char *test_pg_partitions(PGconn *conn, const char *parent)
{
        char sql[512];

        snprintf(sql, sizeof(sql),
                 "SELECT coalesce(string_agg(c.relname, ' ' ORDER BY "
                 "c.relname), '') FROM pg_inherits i JOIN pg_class c ON c.oid "
                 "= i.inhrelid WHERE i.inhparent = '%s'::regclass",
                 parent);
        return test_pg_value(conn, sql);
}
