/*
 * The dashboards people look at (issue 18), against data whose numbers
 * are known:
 *
 * - every SQL query of every panel of the domain Grafana dashboards
 *   (the JSON files of deploy/grafana, read by this test) runs against a
 *   database filled with tests/data/dashboards/, as the read-only role of
 *   deploy/grafana/reader.sql, and returns the values written below.
 */
#include "red_itest.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CODEGEN_DATA "tests/data/dashboards/codegen.jsonl"
#define AGENT_DATA   "tests/data/dashboards/agent.jsonl"
#define CODEGEN_JSON "deploy/grafana/codegen-dashboard.json"
#define AGENT_JSON   "deploy/grafana/agent-metrics-dashboard.json"

/* Grafana's $__timeFilter(column) for the dashboards' time range. */
#define RANGE_FROM "2026-03-02T00:00:00Z"
#define RANGE_TO   "2026-03-03T00:00:00Z"

/* ------------------------------------------------------------------ */
/* comparing numbers                                                   */
/* ------------------------------------------------------------------ */

/*
 * Whether @p got matches @p want: "NULL" is SQL NULL; "~x" a number
 * within 1 % of x (a quantile read from a sketch); other numbers within
 * 1e-9 relative; anything else exactly.
 */
static bool same(const char *got, const char *want)
{
        char *end;
        double w, g;
        bool approx = want[0] == '~';

        if (!strcmp(want, "NULL")) {
                return got == NULL;
        }
        if (!got) {
                return false;
        }
        w = strtod(want + approx, &end);
        if (*end || end == want + approx) {
                return !strcmp(got, want);
        }
        g = strtod(got, &end);
        if (*end) {
                return false;
        }
        return fabs(g - w) <= (approx ? 0.01 : 1e-9) * fmax(1, fabs(w));
}

/* ------------------------------------------------------------------ */
/* Grafana: every panel's SQL against known events                     */
/* ------------------------------------------------------------------ */

/*
 * What each panel must return for tests/data/dashboards/ over
 * 2026-03-02: rows separated by newlines, values by "|", as Postgres
 * prints them (times in UTC). Worked out from the events by hand: seven
 * generations ended (five completed, two failed), quality 0.9, 0.7, 0.5,
 * 0.85, 0.95; durations 2, 4, 1 s in hour 10, 3 s in hour 11, 6 s in hour
 * 12; the agent metrics' p95 are percentile_cont over their raw values.
 * A panel missing here fails the test: a new panel needs its numbers.
 */
static const struct {
        const char *file, *panel, *rows;
} expect[] = {
        {CODEGEN_JSON, "Generation Success Rate", "0.7142857142857143"},
        {CODEGEN_JSON, "Average Quality Score", "0.78"},
        {CODEGEN_JSON, "Generations Per Hour",
         "2026-03-02 10:00:00+00|3|1\n"
         "2026-03-02 11:00:00+00|1|1\n"
         "2026-03-02 12:00:00+00|1|0"},
        {CODEGEN_JSON, "Generation Duration p50/p95/p99",
         "2026-03-02 10:00:00+00|~2|~4|~4\n"
         "2026-03-02 11:00:00+00|~3|~3|~3\n"
         "2026-03-02 12:00:00+00|~6|~6|~6"},
        {CODEGEN_JSON, "Cost Tracking",
         "2026-03-02 10:00:00+00|0.35|3500\n"
         "2026-03-02 11:00:00+00|0.15|1500\n"
         "2026-03-02 12:00:00+00|0.3|3000"},
        {CODEGEN_JSON, "Generations by Node Type",
         "effect|3\ncompute|2\norchestrator|1\nreducer|1"},
        {CODEGEN_JSON, "Quality Bucket Distribution",
         "low|1\nmedium|1\nhigh|3"},
        {CODEGEN_JSON, "Domain Distribution", "api|4\nml|2\ndata|1"},
        {CODEGEN_JSON, "Workflow State Distribution",
         "completed|5\nfailed|2\ngenerating|1\npending|1"},
        {AGENT_JSON, "Metrics recorded per category",
         "2026-03-02 10:00:00+00|coordination|4\n"
         "2026-03-02 10:00:00+00|quorum|4\n"
         "2026-03-02 10:00:00+00|routing|5\n"
         "2026-03-02 10:00:00+00|state|4\n"
         "2026-03-02 10:00:00+00|workflow|4\n"
         "2026-03-02 11:00:00+00|routing|2"},
        {AGENT_JSON, "Alerts by severity", "CRITICAL|2\nWARNING|2\nINFO|1"},
        {AGENT_JSON, "Latest alerts",
         "2026-03-02 11:40:00+00|CRITICAL|routing_decision_critical|"
         "routing_decision_time_ms|120|100|agent-1|Routing too slow: 120ms "
         "(>100ms)\n"
         "2026-03-02 11:40:00+00|INFO|routing_decision_info|routing_decision_"
         "time_ms|120|20|agent-1|routing_decision_time_ms gt 20: actual=120\n"
         "2026-03-02 11:40:00+00|WARNING|routing_decision_warning|routing_"
         "decision_time_ms|120|50|agent-1|Routing slow: 120ms (>50ms)\n"
         "2026-03-02 10:30:00+00|WARNING|routing_cache_hit_rate_warning|"
         "routing_cache_hit_rate|55|60|agent-1|Routing cache hit rate 55% "
         "(<60%)\n"
         "2026-03-02 10:27:00+00|CRITICAL|state_lock_contention_critical|"
         "state_lock_contention_ms|60|50|agent-2|State lock contention: 60ms "
         "(>50ms)"},
        /* p95 of 2, 4, 6, 8, 120: 8 + 0.8 * 112 */
        {AGENT_JSON, "Routing decision time (p95)", "97.6"},
        {AGENT_JSON, "Routing confidence (mean)", "NULL"},
        {AGENT_JSON, "Routing cache hit rate (mean)", "70"},
        {AGENT_JSON, "Routing fallback rate (mean)", "NULL"},
        {AGENT_JSON, "Routing: hourly p95",
         "2026-03-02 10:00:00+00|routing_decision_time_ms|~6\n"
         "2026-03-02 11:00:00+00|routing_decision_time_ms|~120"},
        {AGENT_JSON, "State get time (p95)", "2.9"},
        {AGENT_JSON, "State set time (p95)", "NULL"},
        {AGENT_JSON, "State lock contention (p95)", "57.1"},
        {AGENT_JSON, "State snapshot size (mean)", "NULL"},
        {AGENT_JSON, "State operations: hourly p95",
         "2026-03-02 10:00:00+00|state_get_time_ms|~3\n"
         "2026-03-02 10:00:00+00|state_lock_contention_ms|~60"},
        {AGENT_JSON, "Coordination overhead (p95)", "1950"},
        {AGENT_JSON, "Coordination sync time (p95)", "290"},
        {AGENT_JSON, "Dependency wait (p95)", "NULL"},
        {AGENT_JSON, "Coordination: hourly p95",
         "2026-03-02 10:00:00+00|coordination_overhead_ms|~2000\n"
         "2026-03-02 10:00:00+00|coordination_sync_time_ms|~300"},
        {AGENT_JSON, "Workflow execution time (p95)", "3950"},
        {AGENT_JSON, "Workflow success rate (mean)", "98"},
        {AGENT_JSON, "Parallel speedup (mean)", "NULL"},
        {AGENT_JSON, "Error recovery time (p95)", "NULL"},
        {AGENT_JSON, "Workflow: hourly p95",
         "2026-03-02 10:00:00+00|workflow_execution_time_ms|~4000"},
        {AGENT_JSON, "Quorum participation (mean)", "NULL"},
        {AGENT_JSON, "Quorum consensus score (mean)", "0.875"},
        {AGENT_JSON, "Quorum latency (p95)", "390"},
        {AGENT_JSON, "AI quorum: hourly p95",
         "2026-03-02 10:00:00+00|quorum_latency_ms|~400"},
};

#define EXPECT_CNT (sizeof(expect) / sizeof(*expect))

/* The panel's SQL with Grafana's macro expanded for the test's range
 * (malloc'd); any other $ macro or variable fails the test. */
static char *expand(const char *panel, const char *sql)
{
        red_buf_t b;
        const char *p = sql, *d;

        red_buf_init(&b);
        while ((d = strchr(p, '$'))) {
                const char *close;
                red_buf_append(&b, p, (size_t)(d - p));
                ck_assert_msg(!strncmp(d, "$__timeFilter(", 14),
                              "%s: unknown macro in %s", panel, d);
                close = strchr(d, ')');
                ck_assert_ptr_nonnull(close);
                red_buf_printf(
                        &b, "%.*s BETWEEN '" RANGE_FROM "' AND '" RANGE_TO "'",
                        (int)(close - d - 14), d + 14);
                p = close + 1;
        }
        red_buf_puts(&b, p);
        red_buf_putc(&b, '\0');
        return red_buf_steal(&b, NULL);
}

/* Runs one panel's query and compares every row and value. */
static void check_panel(PGconn *pg, const char *panel, const char *sql,
                        const char *want)
{
        char *text = expand(panel, sql), *rows = strdup(want), *save = NULL;
        PGresult *res = PQexec(pg, text);
        int r = 0;

        ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s\n%s",
                      panel, PQerrorMessage(pg), text);
        for (char *line = strtok_r(rows, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save), r++) {
                char *vsave = NULL;
                int c = 0;
                ck_assert_msg(r < PQntuples(res), "%s: %d rows, want more",
                              panel, PQntuples(res));
                for (char *v = strtok_r(line, "|", &vsave); v;
                     v = strtok_r(NULL, "|", &vsave), c++) {
                        const char *got = PQgetisnull(res, r, c)
                                                  ? NULL
                                                  : PQgetvalue(res, r, c);
                        ck_assert_msg(c < PQnfields(res),
                                      "%s: row %d has %d values", panel, r,
                                      PQnfields(res));
                        ck_assert_msg(same(got, v),
                                      "%s: row %d column %s is %s, want %s",
                                      panel, r, PQfname(res, c),
                                      got ? got : "NULL", v);
                }
                ck_assert_msg(c == PQnfields(res), "%s: %d columns, want %d",
                              panel, PQnfields(res), c);
        }
        ck_assert_msg(r == PQntuples(res), "%s: %d rows, want %d", panel,
                      PQntuples(res), r);
        PQclear(res);
        free(rows);
        free(text);
}

/* Every panel with a query in @p file, against its expectation. */
static int check_dashboard(PGconn *pg, const char *file, bool *used)
{
        json_error_t jerr;
        json_t *d = json_load_file(test_path(file), 0, &jerr), *p;
        size_t i;
        int n = 0;

        ck_assert_msg(d != NULL, "%s: %s", file, jerr.text);
        json_array_foreach(json_object_get(d, "panels"), i, p)
        {
                const char *title =
                        json_string_value(json_object_get(p, "title"));
                json_t *tg;
                size_t k;
                json_array_foreach(json_object_get(p, "targets"), k, tg)
                {
                        const char *sql = json_string_value(
                                json_object_get(tg, "rawSql"));
                        size_t e;
                        ck_assert_msg(sql != NULL,
                                      "%s: %s: a target without "
                                      "rawSql",
                                      file, title);
                        for (e = 0; e < EXPECT_CNT; e++) {
                                if (!strcmp(expect[e].file, file) &&
                                    !strcmp(expect[e].panel, title)) {
                                        break;
                                }
                        }
                        ck_assert_msg(e < EXPECT_CNT,
                                      "%s: panel \"%s\" has no expected "
                                      "values in this test",
                                      file, title);
                        check_panel(pg, title, sql, expect[e].rows);
                        used[e] = true;
                        n++;
                }
        }
        json_decref(d);
        return n;
}

START_TEST(grafana_panels_return_the_known_values)
{
        itest_t t;
        char conninfo[512], pw[] = "pw=reader-test", *out, *err;
        const char *argv[] = {"/usr/bin/psql",
                              "-X",
                              "-q",
                              "-v",
                              "ON_ERROR_STOP=1",
                              "-v",
                              pw,
                              "-d",
                              NULL,
                              "-f",
                              NULL,
                              NULL};
        bool used[EXPECT_CNT] = {false};
        PGconn *pg;
        int n, rc;

        itest_init(&t, "dash_grafana");
        ck_assert_int_eq(itest_load(&t,
                                    test_path("contracts/codegen_metrics.yaml"),
                                    test_path(CODEGEN_DATA)),
                         33);
        ck_assert_int_eq(itest_load(&t,
                                    test_path("contracts/agent_metrics.yaml"),
                                    test_path(AGENT_DATA)),
                         23);
        /* the role Grafana logs in as: SELECT only, read-only sessions */
        argv[8] = t.conninfo;
        argv[10] = test_path("deploy/grafana/reader.sql");
        rc = test_run(argv, NULL, &out, &err);
        ck_assert_msg(rc == 0, "reader.sql: %s%s", out, err);
        free(out);
        free(err);
        snprintf(conninfo, sizeof(conninfo), "%s user=grafana_reader",
                 t.conninfo);
        pg = test_pg_connect(conninfo);
        test_pg_exec(pg, "SET TimeZone = 'UTC'");
        /* the role cannot write */
        {
                PGresult *res = PQexec(pg, "DELETE FROM agent_alerts");
                ck_assert_int_eq(PQresultStatus(res), PGRES_FATAL_ERROR);
                PQclear(res);
        }
        n = check_dashboard(pg, CODEGEN_JSON, used);
        ck_assert_int_eq(n, 9); /* seed 001's panels but the registry's */
        n += check_dashboard(pg, AGENT_JSON, used);
        for (size_t e = 0; e < EXPECT_CNT; e++) {
                ck_assert_msg(used[e], "%s: no panel \"%s\"", expect[e].file,
                              expect[e].panel);
        }
        ck_assert_int_eq(n, (int)EXPECT_CNT);
        PQfinish(pg);
        itest_fini(&t);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("dashboards");

        test_add_case(s, "grafana", grafana_panels_return_the_known_values,
                      300);
        return s;
}

int main(void)
{
        return test_main(suite());
}
