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

/* What `reducerd nodes search` answers on @p ci with @p args, without its
 * execution time (malloc'd). */
static char *search(const char *ci, const char *const *args)
{
        char env[512], paths[4200], *out, *err, *t;
        const char *envs[] = {env, paths, NULL};
        const char *argv[16];
        int n = 0;

        argv[n++] = test_bin();
        argv[n++] = "nodes";
        argv[n++] = "search";
        for (; *args && n < 15; args++) {
                argv[n++] = *args;
        }
        argv[n] = NULL;
        snprintf(env, sizeof(env), "REDUCERD_POSTGRES_CONNINFO=%s", ci);
        snprintf(paths, sizeof(paths), "REDUCERD_CONTRACTS_PATHS=%s",
                 test_path("contracts/node_registry.yaml"));
        ck_assert_msg(test_run(argv, envs, &out, &err) == 0, "%s", err);
        free(err);
        ck_assert_ptr_nonnull(t = strstr(out, ",\"execution_time_ms\":"));
        *t = '\0';
        return out;
}

/*
 * A registry at migration 0012, with nodes in it, upgrades in place: 0013
 * keeps every row and its search text (no longer generated), and the
 * search answers every query as before.
 */
START_TEST(registry_upgrade_keeps_search_answers)
{
        static const char *const queries[][8] = {
                {"--query", "capability_1", NULL},
                {"--query", "Capability 1", "--page_size", "100", NULL},
                {"--query", "foo-bar", "--sort_by", "name", NULL},
                {"--query", "bench or widget", "--page", "2", NULL},
                {"--query", "category_4 x_y", NULL},
                {"--query", "\"of the\"", NULL},
                {"--query", "Node 7 bench", NULL},
                {"--query", "SearchTestNode01", NULL},
                {"--query", "SerchTestNode011", NULL},
                {"--query", "100%", NULL},
                {"--query", "[2.5, true]", NULL},
                {"--query", "2.5 true", NULL},
                {"--capability", "foo-bar", "--node_type", "reducer", NULL},
                {"--version_min", "1.2.0", "--version_max", "1.9.9", NULL},
                {"--query", "zzz", NULL}};
        const size_t nq = sizeof(queries) / sizeof(*queries);
        char *ci = test_pg_create_db("migrate_registry"), *dir = test_tmpdir();
        char *before[sizeof(queries) / sizeof(*queries)], *texts, *out, *err;
        char *v;
        PGconn *c;

        test_migrations_before(dir, 13);
        ck_assert_msg(migrate(ci, dir, &out, &err) == 0, "%s", err);
        free(out);
        free(err);
        c = test_pg_connect(ci);
        test_pg_exec(c, "SET client_min_messages = warning");
        test_pg_exec(
                c,
                "INSERT INTO registered_nodes (node_id, node_name, node_type, "
                "version, capabilities, metadata) SELECT format('n-%s', "
                "lpad(i::text, 4, '0')), format('SearchTestNode%s', "
                "lpad(i::text, 3, '0')), (ARRAY['effect', 'compute', "
                "'reducer', 'orchestrator'])[i % 4 + 1], format('1.%s.%s', "
                "i / 10, i % 10), jsonb_build_array(jsonb_build_object("
                "'name', format('capability_%s', i % 13), 'description', "
                "format('Capability %s of the bench', i % 7)), "
                "jsonb_build_object('name', CASE WHEN i % 5 = 0 THEN "
                "'foo-bar' ELSE 'http_api' END, 'description', CASE WHEN i "
                "% 6 = 0 THEN '{\"a\": 1, \"b\": [2.5, true]}'::jsonb END)), "
                "jsonb_build_object('index', i, 'category', "
                "format('category_%s', i % 11), 'note', CASE WHEN i % 9 = 0 "
                "THEN 'a widget, O''K at 100% x_y' ELSE 'node ' || i END) "
                "FROM generate_series(0, 299) AS i");
        texts = test_pg_value(c, "SELECT md5(string_agg(node_id || ':' || "
                                 "search_text, E'\\n' ORDER BY node_id)) "
                                 "FROM registered_nodes");
        PQfinish(c);
        for (size_t i = 0; i < nq; i++) {
                before[i] = search(ci, queries[i]);
        }
        /* answers that prove something: matches, pages, a miss */
        ck_assert_ptr_nonnull(strstr(before[0], "\"n-0001\""));
        ck_assert_ptr_nonnull(strstr(before[10], "\"total_count\":50,"));
        ck_assert_ptr_nonnull(strstr(before[12], "\"n-0010\""));
        ck_assert_ptr_nonnull(strstr(before[14], "\"total_count\":0"));

        ck_assert_msg(migrate(ci, NULL, &out, &err) == 0, "%s", err);
        ck_assert_msg(
                strstr(out, "0013_node_registry_text_by_reducerd") ||
                        strstr(err, "0013_node_registry_text_by_reducerd"),
                "%s%s", out, err);
        free(out);
        free(err);
        c = test_pg_connect(ci);
        v = test_pg_value(c, "SELECT count(*) FROM registered_nodes");
        ck_assert_str_eq(v, "300");
        free(v);
        v = test_pg_value(c, "SELECT is_generated FROM "
                             "information_schema.columns WHERE table_name = "
                             "'registered_nodes' AND column_name = "
                             "'search_text'");
        ck_assert_str_eq(v, "NEVER");
        free(v);
        v = test_pg_value(c, "SELECT md5(string_agg(node_id || ':' || "
                             "search_text, E'\\n' ORDER BY node_id)) FROM "
                             "registered_nodes");
        ck_assert_str_eq(v, texts);
        free(v);
        free(texts);
        PQfinish(c);
        for (size_t i = 0; i < nq; i++) {
                char *after = search(ci, queries[i]);

                ck_assert_msg(!strcmp(after, before[i]),
                              "query %zu: %s, before the upgrade %s", i, after,
                              before[i]);
                free(after);
                free(before[i]);
        }
        free(dir);
        free(ci);
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
        tcase_add_test(tc, registry_upgrade_keeps_search_answers);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        return test_main(suite());
}
