/* Integration tests for `reducerd migrate` against a real PostgreSQL. */
#include "red_test.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* `reducerd migrate`: with @p dir only the numbered migrations of that
 * directory (the tracker's tests), else the built-in ones and the tables
 * of the shipped contracts. */
static int migrate(const char *conninfo, const char *dir, char **out,
                   char **err)
{
        char env[512], codegen[4096], agent[4096];
        const char *envs[] = {env, NULL};
        const char *with_dir[] = {test_bin(), "migrate", "--engine-only",
                                  "--dir",    dir,       NULL};
        const char *builtin[] = {test_bin(), "migrate", codegen, agent, NULL};
        const char *const *argv = dir ? with_dir : builtin;

        snprintf(codegen, sizeof(codegen), "%s",
                 test_path("contracts/codegen_metrics.yaml"));
        snprintf(agent, sizeof(agent), "%s",
                 test_path("contracts/agent_metrics.yaml"));

        snprintf(env, sizeof(env), "REDUCERD_POSTGRES_CONNINFO=%s", conninfo);
        return test_run(argv, envs, out, err);
}

static int applied_count(const char *conninfo)
{
        PGconn *c = test_pg_connect(conninfo);
        char *v = test_pg_value(
                c, "SELECT count(*) FROM reducerd_schema_migrations");
        int n = atoi(v);

        free(v);
        PQfinish(c);
        return n;
}

START_TEST(twice_applies_once)
{
        char *ci = test_pg_create_db("migrate_twice"), *out, *err;
        int n;

        ck_assert_msg(migrate(ci, NULL, &out, &err) == 0, "%s", err);
        ck_assert_ptr_nonnull(strstr(out, "applied"));
        free(out);
        free(err);
        n = applied_count(ci);
        ck_assert_int_ge(n, 1);
        ck_assert_msg(migrate(ci, NULL, &out, &err) == 0, "%s", err);
        ck_assert_ptr_nonnull(strstr(out, "up to date"));
        ck_assert_int_eq(applied_count(ci), n);
        free(out);
        free(err);
        free(ci);
}
END_TEST

START_TEST(changed_migration_refused)
{
        char *ci = test_pg_create_db("migrate_changed"), *out, *err;
        char *dir = test_tmpdir(), path[4096];
        const char *one = "CREATE TABLE t1 (a int);\n";
        const char *two = "CREATE TABLE t2 (b int);\n";

        snprintf(path, sizeof(path), "%s/0001_first.sql", dir);
        test_write_file(path, one, strlen(one));
        snprintf(path, sizeof(path), "%s/0002_second.sql", dir);
        test_write_file(path, two, strlen(two));
        ck_assert_msg(migrate(ci, dir, &out, &err) == 0, "%s", err);
        free(out);
        free(err);

        /* edit an applied file */
        test_write_file(path, "CREATE TABLE t2 (b bigint);\n", 28);
        ck_assert_int_eq(migrate(ci, dir, &out, &err), 1);
        ck_assert_msg(strstr(err, "migration 0002_second.sql was changed "
                                  "after it was applied"),
                      "%s", err);
        ck_assert_ptr_nonnull(strstr(err, "put the change in a new migration"));
        free(out);
        free(err);
        ck_assert_int_eq(applied_count(ci), 2);
        free(dir);
        free(ci);
}
END_TEST

START_TEST(failing_migration_rolls_back)
{
        char *ci = test_pg_create_db("migrate_fail"), *out, *err;
        char *dir = test_tmpdir(), path[4096];
        const char *bad = "CREATE TABLE ok1 (a int);\nCREATE TABLE (;\n";
        PGconn *c;
        char *v;

        snprintf(path, sizeof(path), "%s/0001_bad.sql", dir);
        test_write_file(path, bad, strlen(bad));
        ck_assert_int_eq(migrate(ci, dir, &out, &err), 1);
        ck_assert_ptr_nonnull(strstr(err, "migration 0001_bad.sql failed"));
        free(out);
        free(err);
        c = test_pg_connect(ci);
        v = test_pg_value(c, "SELECT to_regclass('ok1')::text");
        ck_assert_ptr_null(v);
        PQfinish(c);
        ck_assert_int_eq(applied_count(ci), 0);
        free(dir);
        free(ci);
}
END_TEST

/* Two replicas starting together: both succeed, each migration applies once. */
START_TEST(concurrent_runs_apply_once)
{
        char *ci = test_pg_create_db("migrate_race");
        char env[512];
        pid_t pids[4];
        int ok = 0;

        snprintf(env, sizeof(env), "REDUCERD_POSTGRES_CONNINFO=%s", ci);
        for (int i = 0; i < 4; i++) {
                pids[i] = fork();
                ck_assert_int_ge(pids[i], 0);
                if (pids[i] == 0) {
                        putenv(env);
                        execl(test_bin(), test_bin(), "migrate",
                              test_path("contracts/codegen_metrics.yaml"),
                              test_path("contracts/agent_metrics.yaml"),
                              (char *)NULL);
                        _exit(127);
                }
        }
        for (int i = 0; i < 4; i++) {
                int st;
                waitpid(pids[i], &st, 0);
                ok += WIFEXITED(st) && WEXITSTATUS(st) == 0;
        }
        ck_assert_int_eq(ok, 4);
        {
                PGconn *c = test_pg_connect(ci);
                char *dup = test_pg_value(
                        c, "SELECT count(*) - count(DISTINCT version) FROM "
                           "reducerd_schema_migrations");
                ck_assert_str_eq(dup, "0");
                free(dup);
                PQfinish(c);
        }
        free(ci);
}
END_TEST

START_TEST(unreachable_postgres_is_a_clear_error)
{
        char *out, *err;
        int rc = migrate("host=127.0.0.1 port=1 dbname=x connect_timeout=3",
                         NULL, &out, &err);

        ck_assert_int_eq(rc, 1);
        ck_assert_msg(strstr(err, "cannot connect to PostgreSQL at "
                                  "127.0.0.1:1: "),
                      "%s", err);
        free(out);
        free(err);
}
END_TEST

START_TEST(malformed_conninfo_hides_the_password)
{
        /* libpq quotes a conninfo it cannot parse, or the token it choked
         * on, in its message: the password must not reach the log */
        static const struct {
                const char *conninfo;
                const char *reason; /* what the message still says */
        } cases[] = {
                {"postgresql://u:S3cret@[::1", "IPv6 host address"},
                {"postgresql://u:S3cret%zz@host/db", "percent-encoded"},
                {"postgresql://u:S3%63ret@[::1/db", "IPv6 host address"},
                {"postgresql://u@host/db?password=S3cret&bogus=1", "bogus"},
                {"host=127.0.0.1 password='S3cret x' bogus=1", "bogus"},
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char *out, *err;
                int rc = migrate(cases[i].conninfo, NULL, &out, &err);

                ck_assert_int_eq(rc, 1);
                ck_assert_msg(strstr(err, "cannot connect to PostgreSQL"), "%s",
                              err);
                ck_assert_msg(strstr(err, cases[i].reason), "%s: %s",
                              cases[i].conninfo, err);
                ck_assert_msg(!strstr(err, "S3cret") && !strstr(err, "S3%63"),
                              "%s: %s", cases[i].conninfo, err);
                free(out);
                free(err);
        }
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("migrate");
        TCase *tc = tcase_create("migrate");

        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, twice_applies_once);
        tcase_add_test(tc, changed_migration_refused);
        tcase_add_test(tc, failing_migration_rolls_back);
        tcase_add_test(tc, concurrent_runs_apply_once);
        tcase_add_test(tc, unreachable_postgres_is_a_clear_error);
        tcase_add_test(tc, malformed_conninfo_hides_the_password);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        return test_main(suite());
}
