/*
 * Integration: contracts own their tables (red_schema). The shipped
 * contracts' tables as `reducerd migrate` derives them equal, in the
 * catalog, what the numbered migrations of earlier releases made (kept in
 * tests/data/legacy_migrations/), and such a database is adopted in place;
 * additive changes apply online; a change of what stored cells mean is
 * refused, or with a new version builds a new table generation; retention
 * per window type drops the partitions past each tier and keeps the rest.
 */
#include "red_itest.h"
#include "red_time.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* --- helpers --------------------------------------------------------- */

static char *codegen(void)
{
        return strdup(test_path("contracts/codegen_metrics.yaml"));
}

static char *agent(void)
{
        return strdup(test_path("contracts/agent_metrics.yaml"));
}

/* Columns the shipped contracts gained after the legacy migrations: an
 * upgraded database adds them last, so their position is not compared
 * (nor do they count in the position of the others). */
#define LATER "('failed_stage_errors', 'sampled_count')"

/*
 * The catalog of the public schema as text, one line per relation,
 * column (type, NOT NULL, default, position), constraint, index (with its
 * storage options) and partition bound: what two databases must agree on
 * to hold the same tables. Written here, not taken from red_catalog, so
 * the comparison does not depend on the code under test.
 */
static char *catalog(const char *conninfo)
{
        static const char sql[] =
                "SELECT c.relname || ' ' || c.relkind::text || ' ' || "
                "coalesce(pg_get_partkeydef(c.oid), '-') || ' ' || "
                "coalesce(c.reloptions::text, '-') || ' ' || "
                "coalesce(pg_get_expr(c.relpartbound, c.oid), '-') FROM "
                "pg_class c WHERE c.relnamespace = 'public'::regnamespace AND "
                "c.relkind IN ('r', 'p') "
                "UNION ALL SELECT c.relname || '.' || a.attname || ' ' || "
                "format_type(a.atttypid, a.atttypmod) || CASE WHEN "
                "a.attnotnull THEN ' NOT NULL' ELSE '' END || coalesce(' "
                "DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '') || ' #' || "
                "CASE WHEN a.attname IN " LATER " THEN 'later' ELSE (SELECT "
                "count(*) FROM pg_attribute b WHERE b.attrelid = a.attrelid "
                "AND b.attnum > 0 AND b.attnum <= a.attnum AND NOT "
                "b.attisdropped AND b.attname NOT IN " LATER ")::text END "
                "FROM pg_attribute a JOIN pg_class c ON c.oid = "
                "a.attrelid LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid "
                "AND d.adnum = a.attnum WHERE c.relnamespace = "
                "'public'::regnamespace AND c.relkind IN ('r', 'p') AND "
                "a.attnum > 0 AND NOT a.attisdropped "
                "UNION ALL SELECT c.relname || ' constraint ' || k.conname || "
                "' ' || pg_get_constraintdef(k.oid) FROM pg_constraint k JOIN "
                "pg_class c ON c.oid = k.conrelid WHERE c.relnamespace = "
                "'public'::regnamespace "
                "UNION ALL SELECT 'index ' || pg_get_indexdef(i.indexrelid) || "
                "' ' || coalesce(ic.reloptions::text, '-') FROM pg_index i "
                "JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class c ON "
                "c.oid = i.indrelid WHERE c.relnamespace = "
                "'public'::regnamespace ORDER BY 1";
        PGconn *c = test_pg_connect(conninfo);
        PGresult *res = PQexec(c, sql);
        size_t len = 0, cap = 1;
        char *text = calloc(1, 1);

        ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s",
                      PQerrorMessage(c));
        for (int i = 0; i < PQntuples(res); i++) {
                const char *line = PQgetvalue(res, i, 0);
                size_t l = strlen(line);
                if (len + l + 2 > cap) {
                        cap = 2 * (len + l + 2);
                        text = realloc(text, cap);
                        ck_assert_ptr_nonnull(text);
                }
                memcpy(text + len, line, l);
                len += l;
                text[len++] = '\n';
                text[len] = '\0';
        }
        PQclear(res);
        PQfinish(c);
        return text;
}

/* The first line where @p a and @p b differ, for the failure message. */
static void assert_same_text(const char *a, const char *b, const char *what)
{
        size_t line = 1;
        const char *pa = a, *pb = b;

        while (*pa && *pa == *pb) {
                line += *pa == '\n';
                pa++;
                pb++;
        }
        if (*pa || *pb) {
                while (pa > a && pa[-1] != '\n') {
                        pa--;
                }
                while (pb > b && pb[-1] != '\n') {
                        pb--;
                }
                ck_abort_msg("%s differ at line %zu:\n  %.200s\n  %.200s", what,
                             line, pa, pb);
        }
}

/* --- the catalog ----------------------------------------------------- */

/*
 * A database migrated by an earlier release (the numbered migrations
 * 0001-0006, which made the shipped contracts' tables by hand), then by
 * this one, has the same catalog as a database this release made from
 * the contracts: tables, columns, types, defaults, keys, partitioning,
 * indexes, fill factors, partitions. The upgrade creates, drops and
 * changes nothing but the columns that came after those migrations
 * (`added`: added online, null in the stored rows).
 */
/* The numbered migrations of the release before contracts owned their
 * tables, in a directory of @p t's: the engine's (still in migrations/)
 * and the retired ones (tests/data/legacy_migrations/). */
static const char *legacy_dir(itest_t *t)
{
        static const char *const files[] = {
                "migrations/0001_reducerd_core.sql",
                "migrations/0004_reducerd_alert_state.sql",
                "tests/data/legacy_migrations/0002_codegen_metrics.sql",
                "tests/data/legacy_migrations/0003_workflow_state.sql",
                "tests/data/legacy_migrations/0005_agent_metrics.sql",
                "tests/data/legacy_migrations/0006_fillfactor.sql"};
        static char dir[4096];

        snprintf(dir, sizeof(dir), "%s/legacy", t->dir);
        ck_assert_int_eq(mkdir(dir, 0755), 0);
        for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++) {
                char path[4200];
                size_t len;
                char *sql = test_read_file(test_path(files[i]), &len);

                snprintf(path, sizeof(path), "%s/%s", dir,
                         strrchr(files[i], '/') + 1);
                test_write_file(path, sql, len);
                free(sql);
        }
        return dir;
}

/* Occurrences of @p what in @p s. */
static size_t count_of(const char *s, const char *what)
{
        size_t n = 0;

        while ((s = strstr(s, what))) {
                n++;
                s += strlen(what);
        }
        return n;
}

START_TEST(catalog_equals_the_legacy_migrations)
{
        /* the columns of issue 20 (the agents' sampling, why stages fail) */
        static const char *const added[] = {
                "ALTER TABLE \"codegen_metrics_aggregated\" ADD COLUMN "
                "\"failed_stage_errors\" jsonb;",
                "ALTER TABLE \"agent_metrics_rollup\" ADD COLUMN "
                "\"sampled_count\" bigint;"};
        char *cg = codegen(), *am = agent(), *out, *plan, *a, *b;
        const char *legacy[] = {"migrate", "--engine-only", "--dir", NULL,
                                NULL};
        const char *mig[] = {"migrate", cg, am, NULL};
        const char *mig_plan[] = {"migrate", "--plan", cg, am, NULL};
        const char *contracts[] = {cg, am, NULL};
        const char *maintain[] = {
                "maintain", "-c", NULL, "--now", "2026-03-10T12:00:00Z", NULL};
        itest_t old = {0}, fresh = {0};

        old.dir = test_tmpdir();
        old.conninfo = test_pg_create_db("schema_legacy");
        fresh.dir = test_tmpdir();
        fresh.conninfo = test_pg_create_db("schema_fresh");
        /* an earlier release: its numbered migrations only */
        legacy[3] = legacy_dir(&old);
        free(itest_cmd_ok(&old, legacy));
        plan = itest_cmd_ok(&old, mig_plan);
        /* the contracts' part of the plan: comments, the columns added, the
         * record */
        a = strstr(plan, "-- contract ");
        ck_assert_ptr_nonnull(a);
        ck_assert_msg(!strstr(a, "CREATE ") && !strstr(a, "DROP "),
                      "the upgrade creates or drops tables");
        for (size_t i = 0; i < sizeof(added) / sizeof(*added); i++) {
                ck_assert_msg(strstr(a, added[i]), "no %s", added[i]);
        }
        ck_assert_int_eq(count_of(a, "ALTER "), sizeof(added) / sizeof(*added));
        ck_assert_ptr_nonnull(strstr(a, "not recorded yet"));
        free(plan);
        free(itest_cmd_ok(&old, mig));
        out = itest_cmd_ok(&fresh, mig);
        ck_assert_ptr_nonnull(strstr(out, "CREATE TABLE \"agent_alerts\""));
        free(out);
        /* the same partitions on both sides */
        maintain[2] = itest_db_config(&old, contracts);
        free(itest_cmd_ok(&old, maintain));
        maintain[2] = itest_db_config(&fresh, contracts);
        free(itest_cmd_ok(&fresh, maintain));
        a = catalog(old.conninfo);
        b = catalog(fresh.conninfo);
        ck_assert_ptr_nonnull(strstr(a, "codegen_metrics_aggregated_2026_03 "));
        ck_assert_ptr_nonnull(strstr(a, "agent_quorum_metrics_2026_03_10 "));
        ck_assert_ptr_nonnull(strstr(a, "{fillfactor=50}"));
        assert_same_text(a, b,
                         "the catalogs of the legacy and the fresh "
                         "database");
        /* and both are recorded: nothing left to do */
        out = itest_cmd_ok(&old, mig_plan);
        ck_assert_ptr_nonnull(strstr(out, "would run 0 statements"));
        free(out);
        free(a);
        free(b);
        free(cg);
        free(am);
        itest_fini(&old);
        itest_fini(&fresh);
}
END_TEST

/* --- evolution ------------------------------------------------------- */

/* The cells of the codegen table: key, revision and the listed columns. */
static char *cells(const char *conninfo, const char *cols)
{
        char sql[1024];

        snprintf(sql, sizeof(sql),
                 "SELECT coalesce(string_agg(concat_ws('|', window_type, "
                 "window_start, aggregation_type, group_key, %s), E'\\n' "
                 "ORDER BY window_type, window_start, aggregation_type, "
                 "group_key), '') FROM codegen_metrics_aggregated",
                 cols);
        return itest_value(conninfo, sql);
}

/*
 * A new measure and column: migrate adds the column online, stored rows
 * keep every value and get the column's default, and the next batches
 * fill it from the merged state.
 */
START_TEST(new_measure_is_added_online)
{
        itest_t t;
        const char *events1, *events2;
        const char *const edits[] = {
                "      failed_stages: {count_by: failed_stage, on: [failed]}\n",
                "      failed_stages: {count_by: failed_stage, on: [failed]}\n"
                "      stage_failures: {count: stage_completed, where: "
                "{success: false}}\n",
                "      failed_stage_counts: failed_stages\n",
                "      failed_stage_counts: failed_stages\n"
                "      stage_failures: stage_failures\n",
                NULL};
        char *v2, *before, *after, *out;
        const char *mig[] = {"migrate", NULL, NULL};
        const char *old_cols = "revision, total_generations, success_rate, "
                               "duration_statistics::text";
        PGconn *c;
        char *v;

        itest_init(&t, "schema_add");
        events1 = itest_generate(&t, "e1.jsonl",
                                 "--events 600 --days 1 --start "
                                 "2026-02-02T00:00:00Z --seed 3 "
                                 "--partitions 1");
        itest_load(&t, test_path("contracts/codegen_metrics.yaml"), events1);
        before = cells(t.conninfo, old_cols);
        ck_assert_ptr_nonnull(strstr(before, "hourly"));

        v2 = itest_edit(&t, "contracts/codegen_metrics.yaml", "v2.yaml", edits);
        mig[1] = v2;
        out = itest_cmd_ok(&t, mig);
        ck_assert_msg(strstr(out, "ADD COLUMN \"stage_failures\" bigint NOT "
                                  "NULL DEFAULT 0"),
                      "%s", out);
        ck_assert_ptr_nonnull(strstr(out, "new column stage_failures"));
        free(out);
        after = cells(t.conninfo, old_cols);
        assert_same_text(before, after, "the stored cells before and after");
        c = test_pg_connect(t.conninfo);
        v = test_pg_value(c, "SELECT count(*) FILTER (WHERE stage_failures "
                             "<> 0) FROM codegen_metrics_aggregated");
        ck_assert_str_eq(v, "0");
        free(v);
        /* the next events (the same days) fill it */
        events2 = itest_generate(&t, "e2.jsonl",
                                 "--events 600 --days 1 --start "
                                 "2026-02-02T00:00:00Z --seed 4 "
                                 "--partitions 1");
        itest_load(&t, v2, events2);
        v = test_pg_value(c, "SELECT count(*) FILTER (WHERE stage_failures "
                             "> 0 AND revision > 1) FROM "
                             "codegen_metrics_aggregated WHERE "
                             "aggregation_type = 'time_window' AND "
                             "window_type = 'daily'");
        ck_assert_str_eq(v, "1");
        free(v);
        PQfinish(c);
        free(before);
        free(after);
        free(v2);
        itest_fini(&t);
}
END_TEST

static const char *const thresholds[] = {"{key: low, below: 0.6}",
                                         "{key: low, below: 0.5}", NULL};

/* New bucket thresholds under the same version: refused, naming the
 * change, the old and new definition and the two ways forward; nothing
 * changes in the database. */
START_TEST(changed_thresholds_are_refused)
{
        itest_t t;
        char *v2, *out, *err, *rec_before, *rec_after;
        const char *mig[] = {"migrate", NULL, NULL};
        PGconn *c;
        int rc;

        itest_init(&t, "schema_refuse");
        c = test_pg_connect(t.conninfo);
        rec_before = test_pg_value(c, "SELECT parts::text FROM "
                                      "reducerd_contract_schema WHERE "
                                      "contract = 'codegen_metrics'");
        v2 = itest_edit(&t, "contracts/codegen_metrics.yaml", "v2.yaml",
                        thresholds);
        mig[1] = v2;
        rc = itest_cmd(&t, mig, &out, &err);
        ck_assert_int_eq(rc, 1);
        ck_assert_msg(strstr(err, "table codegen_metrics_aggregated: "
                                  "grouping quality_buckets changed"),
                      "%s", err);
        ck_assert_msg(strstr(err, "was: group_key: quality_bucket = buckets "
                                  "of quality_score: low < 0.6,"),
                      "%s", err);
        ck_assert_ptr_nonnull(strstr(err, "now: group_key: quality_bucket = "
                                          "buckets of quality_score: low < "
                                          "0.5,"));
        ck_assert_ptr_nonnull(strstr(err, "Either keep the old definition, "
                                          "or bump the contract's version"));
        ck_assert_ptr_nonnull(
                strstr(err, "reducerd backfill --contract codegen_metrics"));
        rec_after = test_pg_value(c, "SELECT parts::text FROM "
                                     "reducerd_contract_schema WHERE "
                                     "contract = 'codegen_metrics'");
        ck_assert_str_eq(rec_before, rec_after);
        free(rec_after);
        rec_after = test_pg_value(c, "SELECT count(*) FROM "
                                     "reducerd_contract_generations WHERE "
                                     "status = 'building'");
        ck_assert_str_eq(rec_after, "0");
        free(rec_after);
        free(rec_before);
        free(out);
        free(err);
        PQfinish(c);
        free(v2);
        itest_fini(&t);
}
END_TEST

/* With a new version the same change builds generation 2 of the table
 * next to the live one; a worker running the new version refuses to
 * write until it is switched in; going back to the live definition drops
 * it again. */
START_TEST(new_version_builds_a_generation)
{
        itest_t t;
        const char *const edits[] = {"{key: low, below: 0.6}",
                                     "{key: low, below: 0.5}", "version: 1.0.0",
                                     "version: 1.1.0", NULL};
        char *v2, *out, *err, *v;
        const char *mig[] = {"migrate", NULL, NULL};
        const char *events;
        const char *load[] = {
                getenv("RED_LOAD_EVENTS"), "-c", NULL, "-d", NULL, NULL, NULL};
        PGconn *c;
        int rc;

        itest_init(&t, "schema_gen");
        c = test_pg_connect(t.conninfo);
        v2 = itest_edit(&t, "contracts/codegen_metrics.yaml", "v2.yaml", edits);
        mig[1] = v2;
        out = itest_cmd_ok(&t, mig);
        ck_assert_msg(strstr(out, "CREATE TABLE \"codegen_metrics_"
                                  "aggregated_g2\""),
                      "%s", out);
        free(out);
        v = test_pg_value(c, "SELECT version || ' ' || generation FROM "
                             "reducerd_contract_schema WHERE contract = "
                             "'codegen_metrics'");
        ck_assert_str_eq(v, "1.0.0 1");
        free(v);
        v = test_pg_value(c, "SELECT version || ' ' || status || ' ' || "
                             "tables::text FROM reducerd_contract_generations "
                             "WHERE contract = 'codegen_metrics' AND "
                             "generation = 2");
        ck_assert_str_eq(v, "1.1.0 building {codegen_metrics_aggregated}");
        free(v);
        /* again: nothing to do while it is being built */
        out = itest_cmd_ok(&t, mig);
        ck_assert_ptr_nonnull(strstr(out, "generation 2 of version 1.1.0 is "
                                          "being built"));
        ck_assert_ptr_nonnull(strstr(out, "ran 0 statements"));
        free(out);
        /* a worker with the new version does not write the live tables */
        events = itest_generate(&t, "e.jsonl",
                                "--events 100 --days 1 --start "
                                "2026-02-02T00:00:00Z --partitions 1");
        load[2] = v2;
        load[4] = t.conninfo;
        load[5] = events;
        rc = test_run(load, NULL, &out, &err);
        ck_assert_int_ne(rc, 0);
        ck_assert_msg(strstr(err, "not what the database's tables were built "
                                  "for (version 1.0.0, generation 1)"),
                      "%s", err);
        free(out);
        free(err);
        /* back to the live definition */
        mig[1] = test_path("contracts/codegen_metrics.yaml");
        out = itest_cmd_ok(&t, mig);
        ck_assert_msg(strstr(out, "generation 2 (version 1.1.0) is no longer "
                                  "wanted"),
                      "%s", out);
        free(out);
        v = test_pg_value(c, "SELECT to_regclass('codegen_metrics_aggregated_"
                             "g2') IS NULL");
        ck_assert_str_eq(v, "t");
        free(v);
        PQfinish(c);
        free(v2);
        itest_fini(&t);
}
END_TEST

/* --- retention tiers -------------------------------------------------- */

/*
 * tests/data/contracts/task_tiers.yaml keeps hourly cells 30 days and
 * daily ones 90, in partitions sized to each (daily and monthly): maintain
 * drops exactly the partitions past each tier (as of 14 March the
 * hourly ones, as of 10 May the daily ones too). Its second aggregation
 * keeps both in monthly partitions: the hourly cells past 30 days are
 * deleted, a partition goes once past 90 days.
 */
START_TEST(retention_tiers_drop_partitions)
{
        itest_t t;
        char *tiers = strdup(test_path("tests/data/contracts/task_tiers.yaml"));
        const char *contracts[] = {tiers, NULL};
        const char *mig[] = {"migrate", tiers, NULL};
        const char *maintain[] = {"maintain", "-c", NULL, "--now", NULL, NULL};
        char path[4096], *v;
        FILE *fp;
        PGconn *c;

        itest_init(&t, "schema_tiers");
        free(itest_cmd_ok(&t, mig));
        maintain[2] = itest_db_config(&t, contracts);
        /* synthetic old partitions: maintenance as of early January */
        maintain[4] = "2026-01-01T00:00:00Z";
        free(itest_cmd_ok(&t, maintain));
        c = test_pg_connect(t.conninfo);
        v = test_pg_partitions(c, "task_tiers_hourly");
        ck_assert_ptr_nonnull(strstr(v, "task_tiers_hourly_2026_01_01"));
        free(v);
        /* some cells in January and March, in both aggregations */
        snprintf(path, sizeof(path), "%s/tasks.jsonl", t.dir);
        fp = fopen(path, "w");
        ck_assert_ptr_nonnull(fp);
        for (int i = 0; i < 40; i++) {
                fprintf(fp,
                        "{\"event_type\": \"TASK_COMPLETED\", \"task_id\": "
                        "\"t%d\", \"agent_id\": \"a%d\", \"success\": %s, "
                        "\"duration_ms\": %d, \"timestamp\": "
                        "\"2026-%s-0%dT%02d:10:00Z\"}\n",
                        i, i % 3, i % 4 ? "true" : "false", 100 + i,
                        i < 20 ? "01" : "03", 1 + i % 5, i % 24);
        }
        ck_assert_int_eq(fclose(fp), 0);
        itest_load(&t, tiers, path);
        /* 14 March: hourly past 30 days (before 12 Feb) goes, daily past
         * 90 days (before 14 Dec) stays */
        maintain[4] = "2026-03-14T00:00:00Z";
        free(itest_cmd_ok(&t, maintain));
        v = test_pg_partitions(c, "task_tiers_hourly");
        ck_assert_msg(!strstr(v, "task_tiers_hourly_2026_01_"), "%s", v);
        ck_assert_msg(strstr(v, "task_tiers_hourly_2026_03_01"), "%s", v);
        ck_assert_msg(strstr(v, "task_tiers_hourly_2026_03_14"), "%s", v);
        free(v);
        v = test_pg_partitions(c, "task_tiers_daily");
        ck_assert_msg(strstr(v, "task_tiers_daily_2026_01"), "%s", v);
        free(v);
        v = test_pg_value(c, "SELECT string_agg(window_type || ' ' || "
                             "to_char(m, 'MM'), ',' ORDER BY window_type, m) "
                             "FROM (SELECT DISTINCT window_type, "
                             "date_trunc('month', window_start) AS m FROM "
                             "task_tiers) s");
        ck_assert_str_eq(v, "daily 01,daily 03,hourly 03");
        free(v);
        /* one partitioning for both: cells deleted, partitions kept */
        v = test_pg_value(c, "SELECT string_agg(window_type || ' ' || "
                             "to_char(m, 'MM'), ',' ORDER BY window_type, m) "
                             "FROM (SELECT DISTINCT window_type, "
                             "date_trunc('month', window_start) AS m FROM "
                             "task_tiers_single) s");
        ck_assert_str_eq(v, "daily 01,daily 03,hourly 03");
        free(v);
        v = test_pg_partitions(c, "task_tiers_single");
        ck_assert_msg(strstr(v, "task_tiers_single_2026_01"), "%s", v);
        free(v);
        /* 10 May: the daily tier's January partition (past 90 days since
         * 9 Feb) goes too, March stays; the hourly tier keeps nothing
         * before 10 April */
        maintain[4] = "2026-05-10T00:00:00Z";
        free(itest_cmd_ok(&t, maintain));
        v = test_pg_partitions(c, "task_tiers_daily");
        ck_assert_msg(!strstr(v, "task_tiers_daily_2026_01"), "%s", v);
        ck_assert_msg(strstr(v, "task_tiers_daily_2026_03"), "%s", v);
        free(v);
        v = test_pg_partitions(c, "task_tiers_hourly");
        ck_assert_msg(!strstr(v, "task_tiers_hourly_2026_03_"), "%s", v);
        free(v);
        v = test_pg_value(c, "SELECT string_agg(window_type || ' ' || "
                             "to_char(m, 'MM'), ',' ORDER BY window_type, m) "
                             "FROM (SELECT DISTINCT window_type, "
                             "date_trunc('month', window_start) AS m FROM "
                             "task_tiers) s");
        ck_assert_str_eq(v, "daily 03");
        free(v);
        /* in the shared partitioning the longest tier decides */
        v = test_pg_partitions(c, "task_tiers_single");
        ck_assert_msg(!strstr(v, "task_tiers_single_2026_01"), "%s", v);
        ck_assert_msg(strstr(v, "task_tiers_single_2026_03"), "%s", v);
        free(v);
        v = test_pg_value(c, "SELECT string_agg(window_type || ' ' || "
                             "to_char(m, 'MM'), ',' ORDER BY window_type, m) "
                             "FROM (SELECT DISTINCT window_type, "
                             "date_trunc('month', window_start) AS m FROM "
                             "task_tiers_single) s");
        ck_assert_str_eq(v, "daily 03");
        free(v);
        PQfinish(c);
        free(tiers);
        itest_fini(&t);
}
END_TEST

/* --- the dedupe table's upgrade ---------------------------------------- */

/* The engine's numbered migrations before 0014 in a directory of @p t's:
 * what a database of the release before migration 0014 has. */
static const char *before_0014_dir(itest_t *t)
{
        static char dir[4096];

        snprintf(dir, sizeof(dir), "%s/before_0014", t->dir);
        ck_assert_int_eq(mkdir(dir, 0755), 0);
        test_migrations_before(dir, 14);
        return dir;
}

/* The seen keys as text, every column, in a fixed order. */
static char *seen_keys(const char *conninfo)
{
        return itest_value(conninfo,
                           "SELECT coalesce(string_agg(concat_ws('|', "
                           "key_hash, source, contract, key, event_time, "
                           "topic, partition, \"offset\"), E'\\n' ORDER BY "
                           "key_hash, event_time), '') FROM reducerd_dedupe");
}

/*
 * Migration 0014 (narrow keys of reducerd_dedupe) on a database whose
 * seen keys were stored in 0007's table: each stored row gets the
 * key_hash and source this release's sink computes (the same events
 * loaded into a fresh database by the sink give the same rows, hashes
 * included), the table has the new keys, and the upgraded keys still
 * make the events duplicates (loaded again, nothing is applied), found
 * by the assignment-time load (`source`) or, stored from elsewhere, by
 * the primary key and the lookup (key_hash).
 */
START_TEST(dedupe_keys_upgrade_in_place)
{
        char *cg = codegen(), *ddl, *ins, *a, *b, *v;
        const char *engine[] = {"migrate", "--engine-only", "--dir", NULL,
                                NULL};
        const char *mig[] = {"migrate", cg, NULL};
        const char *file;
        itest_t old = {0}, fresh = {0};
        PGconn *c;
        long n;

        old.dir = test_tmpdir();
        old.conninfo = test_pg_create_db("schema_dedupe_old");
        fresh.dir = test_tmpdir();
        fresh.conninfo = test_pg_create_db("schema_dedupe_fresh");
        file = itest_generate(&fresh, "events.jsonl",
                              "--events 3000 --days 2 --partitions 3 "
                              "--seed 13");
        /* the keys as this release's sink writes them */
        free(itest_cmd_ok(&fresh, mig));
        n = itest_load(&fresh, cg, file);
        ck_assert_int_eq(n, itest_lines(file));
        /* several sources, one `source` each */
        v = itest_value(fresh.conninfo,
                        "SELECT count(DISTINCT (topic, partition)) >= 3 AND "
                        "count(DISTINCT (topic, partition)) = count(DISTINCT "
                        "source) FROM reducerd_dedupe");
        ck_assert_str_eq(v, "t");
        free(v);

        /* the same rows in 0007's table, before 0014 */
        engine[3] = before_0014_dir(&old);
        free(itest_cmd_ok(&old, engine));
        v = itest_value(old.conninfo,
                        "SELECT count(*) FROM information_schema.columns "
                        "WHERE table_name = 'reducerd_dedupe' AND "
                        "column_name = 'key_hash'");
        ck_assert_str_eq(v, "0");
        free(v);
        ddl = itest_value(fresh.conninfo,
                          "SELECT string_agg(format('CREATE TABLE %I "
                          "PARTITION OF reducerd_dedupe %s;', c.relname, "
                          "pg_get_expr(c.relpartbound, c.oid)), ' ') FROM "
                          "pg_inherits i JOIN pg_class c ON c.oid = "
                          "i.inhrelid WHERE i.inhparent = "
                          "'reducerd_dedupe'::regclass");
        ins = itest_value(fresh.conninfo,
                          "SELECT 'INSERT INTO reducerd_dedupe (contract, "
                          "key, event_time, topic, partition, \"offset\") "
                          "VALUES ' || string_agg(format('(%L, %L, %L, %L, "
                          "%s, %s)', contract, key, event_time, topic, "
                          "partition, \"offset\"), ', ') FROM "
                          "reducerd_dedupe");
        c = test_pg_connect(old.conninfo);
        test_pg_exec(c, ddl);
        test_pg_exec(c, ins);
        PQfinish(c);
        free(ddl);
        free(ins);

        /* the upgrade */
        free(itest_cmd_ok(&old, mig));
        a = seen_keys(old.conninfo);
        b = seen_keys(fresh.conninfo);
        ck_assert_int_gt((long)strlen(a), 1000);
        assert_same_text(a, b, "the upgraded and the freshly written keys");
        free(a);
        free(b);
        a = itest_value(old.conninfo,
                        "SELECT string_agg(regexp_replace(indexdef, "
                        "'^.* USING ', ''), E'\\n' ORDER BY indexname) FROM "
                        "pg_indexes WHERE tablename = 'reducerd_dedupe'");
        ck_assert_str_eq(a, "btree (key_hash, event_time)\n"
                            "btree (source, event_time)");
        b = itest_value(fresh.conninfo,
                        "SELECT string_agg(regexp_replace(indexdef, "
                        "'^.* USING ', ''), E'\\n' ORDER BY indexname) FROM "
                        "pg_indexes WHERE tablename = 'reducerd_dedupe'");
        ck_assert_str_eq(a, b);
        free(a);
        free(b);

        /* a replica of the release before, during a rolling upgrade,
         * writes rows without the hashes: they get the same */
        c = test_pg_connect(old.conninfo);
        test_pg_exec(c, "INSERT INTO reducerd_dedupe (contract, key, "
                        "event_time, topic, partition, \"offset\") SELECT "
                        "contract, key, event_time + interval '1 "
                        "microsecond', topic, partition, \"offset\" FROM "
                        "reducerd_dedupe ORDER BY key_hash, event_time LIMIT "
                        "1");
        PQfinish(c);
        v = itest_value(old.conninfo,
                        "SELECT count(*) || ' ' || count(DISTINCT (key_hash, "
                        "source)) FROM reducerd_dedupe WHERE key = (SELECT "
                        "key FROM reducerd_dedupe ORDER BY key_hash, "
                        "event_time LIMIT 1)");
        ck_assert_str_eq(v, "2 1");
        free(v);

        /* the upgraded keys are seen: every event is a duplicate */
        ck_assert_int_eq(itest_load(&old, cg, file), n);
        v = itest_value(old.conninfo,
                        "SELECT (SELECT count(*) FROM "
                        "codegen_metrics_aggregated) + (SELECT count(*) FROM "
                        "workflow_state_history)");
        ck_assert_str_eq(v, "0");
        free(v);
        /* and found by key alone: stored from other partitions (nothing
         * for the assignment-time load to find), each event's key at its
         * time breaks the primary key, the batch is consumed again and
         * the lookup by key_hash finds them */
        c = test_pg_connect(old.conninfo);
        test_pg_exec(c, "UPDATE reducerd_dedupe SET partition = partition "
                        "+ 100, source = reducerd_dedupe_source(contract, "
                        "topic, partition + 100)");
        PQfinish(c);
        ck_assert_int_eq(itest_load(&old, cg, file), n);
        v = itest_value(old.conninfo,
                        "SELECT (SELECT count(*) FROM "
                        "codegen_metrics_aggregated) + (SELECT count(*) FROM "
                        "workflow_state_history) + (SELECT count(*) FROM "
                        "reducerd_dedupe WHERE partition < 100)");
        ck_assert_str_eq(v, "0");
        free(v);
        free(cg);
        itest_fini(&old);
        itest_fini(&fresh);
}
END_TEST


/* --- state sinks ------------------------------------------------------- */

/* The registry's tables, one line per column (type, NOT NULL, default),
 * unique index (the primary keys too) and partition key. */
static char *registry_catalog(const char *conninfo)
{
        return itest_value(
                conninfo,
                "SELECT string_agg(l, E'\\n' ORDER BY l) FROM (SELECT "
                "c.relname || '.' || a.attname || ' ' || "
                "format_type(a.atttypid, a.atttypmod) || CASE WHEN "
                "a.attnotnull THEN ' NOT NULL' ELSE '' END || coalesce(' "
                "DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '') AS l FROM "
                "pg_attribute a JOIN pg_class c ON c.oid = a.attrelid LEFT "
                "JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = "
                "a.attnum WHERE c.relname IN ('registered_nodes', "
                "'node_capability_index', 'node_heartbeats') AND a.attnum > "
                "0 AND NOT a.attisdropped UNION ALL SELECT "
                "pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class "
                "c ON c.oid = i.indrelid WHERE c.relname IN "
                "('registered_nodes', 'node_capability_index', "
                "'node_heartbeats') AND i.indisunique UNION ALL SELECT "
                "relname || ' ' || coalesce(pg_get_partkeydef(oid), '-') "
                "FROM pg_class WHERE relname IN ('registered_nodes', "
                "'node_capability_index', 'node_heartbeats')) x");
}

/*
 * The node registry's tables come from its contract, and the contract
 * describes the tables migrations 0011-0013 made before: a database
 * those made is adopted with one new index and comments (nothing
 * dropped, altered or refused), and a database that never ran them gets
 * from the contract alone every column (type, NOT NULL, default), key,
 * unique index and partitioning they have. What the search adds beside
 * the contract (generated version key, search indexes, functions) stays
 * migrations' work.
 */
START_TEST(registry_tables_from_the_contract)
{
        char contract[4096], dir[4200], *out, *a, *b, *line, *save;
        const char *mig[] = {"migrate", contract, NULL};
        const char *plan[] = {"migrate", "--plan", contract, NULL};
        const char *bare[] = {"migrate", "--dir", dir, contract, NULL};
        itest_t t, fresh = {0};
        long lines = 0;

        snprintf(contract, sizeof(contract), "%s",
                 test_path("contracts/node_registry.yaml"));
        itest_init(&t, "schema_registry");
        out = itest_cmd_ok(&t, plan);
        a = strstr(out, "-- contract node_registry");
        ck_assert_ptr_nonnull(a);
        ck_assert_msg(!strstr(a, "refused") && !strstr(a, "CREATE TABLE") &&
                              !strstr(a, "ALTER ") && !strstr(a, "DROP "),
                      "%s", a);
        ck_assert_int_eq(count_of(a, "CREATE INDEX"), 1);
        ck_assert_ptr_nonnull(
                strstr(a, "CREATE INDEX \"node_heartbeats_time\""));
        ck_assert_ptr_nonnull(strstr(a, "column version_key is not the "
                                        "contract's; left as it is"));
        free(out);
        free(itest_cmd_ok(&t, mig));
        out = itest_cmd_ok(&t, plan);
        ck_assert_ptr_nonnull(strstr(out, "would run 0 statements"));
        free(out);

        /* the engine's migrations before the registry's, then the
         * contract */
        fresh.dir = test_tmpdir();
        fresh.conninfo = test_pg_create_db("schema_registry_bare");
        snprintf(dir, sizeof(dir), "%s/before_0011", fresh.dir);
        ck_assert_int_eq(mkdir(dir, 0755), 0);
        test_migrations_before(dir, 11);
        out = itest_cmd_ok(&fresh, bare);
        ck_assert_ptr_nonnull(strstr(out, "CREATE TABLE \"registered_nodes\""));
        free(out);
        /* every line of the contract's tables, a whole line of the
         * migrations' */
        b = registry_catalog(t.conninfo);
        ck_assert_int_gt(asprintf(&a, "\n%s\n", b), 0);
        free(b);
        b = registry_catalog(fresh.conninfo);
        for (line = strtok_r(b, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
                char want[1024];
                snprintf(want, sizeof(want), "\n%s\n", line);
                ck_assert_msg(strstr(a, want),
                              "the contract makes \"%s\", migrations "
                              "0011-0013 do not:%s",
                              line, a);
                lines++;
        }
        /* 24 columns, 7 list and history columns, 3 keys, one unique, 3
         * partition keys */
        ck_assert_int_ge(lines, 30);
        ck_assert_ptr_nonnull(strstr(a, "UNIQUE INDEX node_capability_index_"
                                        "node_id_capability_name_key"));
        free(a);
        free(b);
        itest_fini(&fresh);
        itest_fini(&t);
}
END_TEST

/* Services announcing themselves, pinging and retiring, in partition
 * i % 2 of each topic; returns the number of lines. */
static long write_services(const char *path, int services)
{
        FILE *fp = fopen(path, "w");
        red_time_t t0 = red_time_now() - 10 * RED_TIME_US_PER_MIN;
        char ts[RED_TIME_FMT_SIZE];
        long n = 0;

        ck_assert_ptr_nonnull(fp);
        for (int round = 0; round < 4; round++) {
                for (int i = 0; i < services; i++) {
                        red_time_format(t0 + round * RED_TIME_US_PER_MIN +
                                                i * 1000,
                                        ts, sizeof(ts));
                        if (round == 0 || (round == 2 && i % 4 == 0)) {
                                fprintf(fp,
                                        "{\"event_type\":\"SERVICE_UP\","
                                        "\"timestamp\":\"%s\",\"payload\":{"
                                        "\"service_id\":\"svc-%03d\","
                                        "\"name\":\"Service %d\",%s"
                                        "\"owner\":\"team-%d\","
                                        "\"endpoints\":[{\"url\":\"http://"
                                        "svc-%d.%d\",\"region\":\"eu\"},"
                                        "{\"url\":\"http://svc-%d.b\"}],"
                                        "\"labels\":{\"round\":\"r%d\","
                                        "\"n\":%d}},\"_topic\":\"t.services."
                                        "announce\",\"_key\":\"svc-%03d\","
                                        "\"_partition\":%d}\n",
                                        ts, i, i,
                                        i % 3 ? "\"tier\":\"gold\"," : "",
                                        i % 5, i, round, i, round, i, i, i % 2);
                        } else if (round == 3 && i % 6 == 0) {
                                fprintf(fp,
                                        "{\"event_type\":\"SERVICE_RETIRED\","
                                        "\"timestamp\":\"%s\",\"payload\":{"
                                        "\"service_id\":\"svc-%03d\"},"
                                        "\"_topic\":\"t.services.retire\","
                                        "\"_key\":\"svc-%03d\","
                                        "\"_partition\":%d}\n",
                                        ts, i, i, i % 2);
                        } else {
                                fprintf(fp,
                                        "{\"event_type\":\"SERVICE_PING\","
                                        "\"timestamp\":\"%s\",\"payload\":{"
                                        "\"service_id\":\"svc-%03d\","
                                        "\"latency_ms\":%d.25},"
                                        "\"_topic\":\"t.services.ping\","
                                        "\"_key\":\"svc-%03d\","
                                        "\"_partition\":%d}\n",
                                        ts, i, i * round, i, i % 2);
                        }
                        n++;
                }
        }
        fclose(fp);
        return n;
}

/*
 * A latest-state reducer written as YAML only (no migration, no C):
 * `reducerd migrate` creates its table, list table and partitioned
 * history from the contract, with the types, keys and indexes it
 * declares; `reducerd run` fills them with what `reducerd reduce`
 * computes from the same events; a new column in a new version is added
 * online, and a changed rule is refused.
 */
START_TEST(state_tables_from_the_contract)
{
        const char *contract =
                test_path("tests/data/contracts/state_services.yaml");
        const char *cs[] = {contract, NULL};
        const char *mig[] = {"migrate", contract, NULL};
        const char *list_ignore[] = {"created_at", NULL};
        const char *hist_ignore[] = {"ping_id", "created_at", NULL};
        const char *add[] = {"version: 1.0.0", "version: 1.1.0",
                             "      pings: {count: [ping]}\n",
                             "      pings: {count: [ping]}\n"
                             "      last_latency: {latest: latency_ms, on: "
                             "[ping]}\n",
                             NULL};
        const char *change[] = {"version: 1.0.0", "version: 1.2.0",
                                "name: {latest: name}", "name: {first: name}",
                                NULL};
        char events[4200], *out, *err, *v, *expected;
        itest_t t;
        long n;
        pid_t pid;

        itest_init(&t, "schema_state");
        out = itest_cmd_ok(&t, mig);
        ck_assert_ptr_nonnull(strstr(out, "CREATE TABLE \"services\""));
        ck_assert_ptr_nonnull(
                strstr(out, "CREATE TABLE \"service_endpoints\""));
        ck_assert_ptr_nonnull(strstr(out, "CREATE TABLE \"service_pings\""));
        free(out);
        v = itest_value(t.conninfo,
                        "SELECT string_agg(format_type(atttypid, atttypmod) "
                        "|| CASE WHEN attnotnull THEN ' not null' ELSE '' END, "
                        "', ' ORDER BY attname) FROM pg_attribute WHERE "
                        "attrelid = 'services'::regclass AND attname IN "
                        "('service_id', 'name', 'tier', 'owner', 'pings', "
                        "'retired_at')");
        ck_assert_str_eq(v, "character varying(100) not null, text, bigint "
                            "not null, timestamp with time zone, character "
                            "varying(64) not null, character varying(10) not "
                            "null");
        free(v);
        v = itest_value(t.conninfo,
                        "SELECT string_agg(pg_get_constraintdef(oid), ' ' "
                        "ORDER BY conrelid::regclass::text) FROM "
                        "pg_constraint WHERE contype = 'p' AND conrelid IN "
                        "('services'::regclass, "
                        "'service_endpoints'::regclass, "
                        "'service_pings'::regclass)");
        ck_assert_str_eq(v, "PRIMARY KEY (service_id, url) PRIMARY KEY "
                            "(ping_id, pinged_at) PRIMARY KEY (service_id)");
        free(v);
        v = itest_value(t.conninfo,
                        "SELECT pg_get_partkeydef('service_pings'::regclass) "
                        "|| ' ' || (SELECT indexdef FROM pg_indexes WHERE "
                        "indexname = 'services_owner')");
        ck_assert_str_eq(v, "RANGE (pinged_at) CREATE INDEX services_owner ON "
                            "public.services USING btree (owner) WHERE "
                            "(owner IS NOT NULL)");
        free(v);

        /* rows land as `reducerd reduce` computes them */
        snprintf(events, sizeof(events), "%s/services.jsonl", t.dir);
        n = write_services(events, 24);
        expected = itest_reduce(contract, events);
        ck_assert_int_eq(itest_dead_letters(expected), 0);
        itest_kafka(&t, 2, cs);
        itest_config(&t, cs, 40, 100, "");
        pid = itest_start(&t, NULL, 0);
        itest_produce(&t, events, 1, n);
        ck_assert(
                itest_wait_committed(&t, "reducerd.state_services", n, 60000));
        ck_assert_int_eq(itest_stop(pid, SIGTERM, 30000), 0);
        ck_assert_int_eq(
                itest_compare_table(&t, expected, "services", "service_id"),
                24);
        ck_assert_int_eq(itest_compare_rows(&t, expected, "service_endpoints",
                                            list_ignore),
                         2 * 24); /* soft delete: a retired service keeps
                                     them */
        ck_assert_int_gt(
                itest_compare_rows(&t, expected, "service_pings", hist_ignore),
                40);
        free(expected);

        /* a new column: added online; a changed rule: refused */
        mig[1] = itest_edit(&t, "tests/data/contracts/state_services.yaml",
                            "v2.yaml", add);
        out = itest_cmd_ok(&t, mig);
        ck_assert_msg(strstr(out, "ALTER TABLE \"services\" ADD COLUMN "
                                  "\"last_latency\" double precision;"),
                      "%s", out);
        free(out);
        free((char *)mig[1]);
        mig[1] = itest_edit(&t, "tests/data/contracts/state_services.yaml",
                            "v3.yaml", change);
        ck_assert_int_ne(itest_cmd(&t, mig, &out, &err), 0);
        ck_assert_msg(strstr(err, "table services: column name changed"), "%s",
                      err);
        free(out);
        free(err);
        free((char *)mig[1]);
        itest_fini(&t);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("schema");

        test_add_case(s, "catalog_equals_the_legacy_migrations",
                      catalog_equals_the_legacy_migrations, 120);
        test_add_case(s, "new_measure_is_added_online",
                      new_measure_is_added_online, 120);
        test_add_case(s, "changed_thresholds_are_refused",
                      changed_thresholds_are_refused, 60);
        test_add_case(s, "new_version_builds_a_generation",
                      new_version_builds_a_generation, 60);
        test_add_case(s, "retention_tiers_drop_partitions",
                      retention_tiers_drop_partitions, 120);
        test_add_case(s, "dedupe_keys_upgrade_in_place",
                      dedupe_keys_upgrade_in_place, 180);
        test_add_case(s, "registry_tables_from_the_contract",
                      registry_tables_from_the_contract, 120);
        test_add_case(s, "state_tables_from_the_contract",
                      state_tables_from_the_contract, 180);
        return test_main(s);
}
