/*
 * The dashboards people look at (issue 18), against data whose numbers
 * are known:
 *
 * - every SQL query of every panel of the domain Grafana dashboards
 *   (the JSON files of deploy/grafana, read by this test) runs against a
 *   database filled with tests/data/dashboards/, as the read-only role of
 *   deploy/grafana/reader.sql, and returns the values written below;
 * - `reducerd top --once` shows what the query layer answers (`reducerd
 *   query`) and what the daemon's /metrics say;
 * - `reducerd top` inside tmux, at 80x24 and at 120x40, shows the same
 *   numbers, fits the terminal, colours what the alert rules say, and
 *   follows its keys.
 */
#include "red_itest.h"

#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define CODEGEN_DATA "tests/data/dashboards/codegen.jsonl"
#define AGENT_DATA   "tests/data/dashboards/agent.jsonl"
#define CODEGEN_JSON "deploy/grafana/codegen-dashboard.json"
#define AGENT_JSON   "deploy/grafana/agent-metrics-dashboard.json"

/* Grafana's $__timeFilter(column) for the dashboards' time range. */
#define RANGE_FROM "2026-03-02T00:00:00Z"
#define RANGE_TO   "2026-03-03T00:00:00Z"

/* top's "now": half past noon of the known day */
#define AT "2026-03-02T12:30:00Z"

/* ------------------------------------------------------------------ */
/* cleaning up on every path                                           */
/* ------------------------------------------------------------------ */

/* A failed assertion ends the test process with exit(): whatever a test
 * started is stopped here, on that path and on the normal one. */
static pid_t children[8];
static char tmux_socket[64];

static void cleanup(void)
{
        if (*tmux_socket) {
                char cmd[128];
                snprintf(cmd, sizeof(cmd),
                         "tmux -L %s kill-server >/dev/null 2>&1", tmux_socket);
                if (system(cmd)) {
                        /* no server left */
                }
                *tmux_socket = '\0';
        }
        for (size_t i = 0; i < sizeof(children) / sizeof(*children); i++) {
                if (children[i] > 0) {
                        kill(children[i], SIGKILL);
                        children[i] = 0;
                }
        }
}

static void keep_child(pid_t pid)
{
        static bool registered;

        if (!registered) {
                atexit(cleanup);
                registered = true;
        }
        for (size_t i = 0; i < sizeof(children) / sizeof(*children); i++) {
                if (children[i] <= 0) {
                        children[i] = pid;
                        return;
                }
        }
        ck_abort_msg("too many children");
}

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

/* ------------------------------------------------------------------ */
/* reducerd top                                                        */
/* ------------------------------------------------------------------ */

typedef struct top_env_s {
        itest_t t;
        pid_t daemon;
        int port; /* the daemon's /metrics */
        char metrics[64];
} top_env_t;

/* A daemon on the embedded Kafka that consumed both known data sets. */
static void top_env(top_env_t *e, const char *name)
{
        const char *cs[] = {test_path("contracts/agent_metrics.yaml"),
                            test_path("contracts/codegen_metrics.yaml"), NULL};

        itest_init(&e->t, name);
        itest_kafka(&e->t, 1, cs);
        itest_config(&e->t, cs, 1000, 200,
                     "http:\n  listen: \"127.0.0.1:0\"\n");
        e->daemon = itest_start(&e->t, NULL, 1);
        keep_child(e->daemon);
        e->port = itest_http_port(&e->t, 1);
        snprintf(e->metrics, sizeof(e->metrics), "127.0.0.1:%d", e->port);
        itest_produce(&e->t, test_path(CODEGEN_DATA), 1, 33);
        itest_produce(&e->t, test_path(AGENT_DATA), 1, 23);
        ck_assert(itest_wait_committed(&e->t, "reducerd.codegen_metrics", 33,
                                       60000));
        ck_assert(itest_wait_committed(&e->t, "reducerd.agent_metrics", 23,
                                       60000));
        ck_assert(itest_wait_metric(e->port,
                                    "reducerd_events_consumed_total{"
                                    "contract=\"codegen_metrics\"}",
                                    33, 10000));
}

static void top_env_fini(top_env_t *e)
{
        ck_assert_int_eq(itest_stop(e->daemon, SIGTERM, 30000), 0);
        itest_fini(&e->t);
}

/* `reducerd query KIND ... --format json`'s data array (new reference). */
static json_t *query(top_env_t *e, const char *const *args)
{
        const char *argv[32] = {test_bin(), "query", "-c", e->t.config};
        size_t n = 4;
        char *out, *err;
        json_t *root, *data;
        int rc;

        for (; *args; args++) {
                argv[n++] = *args;
        }
        argv[n++] = "--format";
        argv[n++] = "json";
        argv[n] = NULL;
        rc = test_run(argv, NULL, &out, &err);
        ck_assert_msg(rc == 0, "reducerd query: %s", err);
        root = json_loads(out, 0, NULL);
        ck_assert_ptr_nonnull(root);
        data = json_incref(json_object_get(root, "data"));
        json_decref(root);
        free(out);
        free(err);
        return data;
}

static double jnum(const json_t *row, const char *key)
{
        const json_t *v = json_object_get(row, key);

        return json_is_number(v) ? json_number_value(v) : NAN;
}

/*
 * Whether top's text @p shown stands for @p want, to the digits shown:
 * "71.4%" for 0.714285, "3.20" for 3.2, "-" for no value.
 */
static bool shows(const char *shown, double want)
{
        char *end;
        const char *dot;
        double v, tol;
        bool percent = shown[strlen(shown) - 1] == '%';

        if (!strcmp(shown, "-")) {
                return isnan(want);
        }
        v = strtod(shown, &end);
        if (end == shown) {
                return false;
        }
        dot = strchr(shown, '.');
        tol = 0.5 * pow(10, -(dot ? (double)strcspn(dot + 1, "%") : 0));
        return percent ? fabs(v - want * 100) <= tol + 1e-9
                       : fabs(v - want) <= tol + 1e-9;
}

/* The line of @p text that starts with @p prefix (static copy). */
static const char *line_of(const char *text, const char *prefix)
{
        static char line[1024];
        size_t len = strlen(prefix);

        for (const char *p = text; p && *p; p = strchr(p, '\n'), p += !!p) {
                if (!strncmp(p, prefix, len)) {
                        snprintf(line, sizeof(line), "%.*s",
                                 (int)strcspn(p, "\n"), p);
                        return line;
                }
        }
        return NULL;
}

/* The whitespace-separated words of @p line after its first @p skip
 * characters, into @p w (at most @p max); returns how many. */
static int words(const char *line, size_t skip, char w[][64], int max)
{
        int n = 0;

        for (const char *p = line + skip; *p && n < max;) {
                size_t len;
                p += strspn(p, " ");
                len = strcspn(p, " ");
                if (len) {
                        snprintf(w[n++], 64, "%.*s", (int)len, p);
                }
                p += len;
        }
        return n;
}

/* SUMMARY of codegen_metrics: the hour and the 24 hours, each line. */
static void check_summary(top_env_t *e, const char *frame)
{
        const char *hour[] = {"summary",    "codegen_metrics",
                              "--grouping", "time_window",
                              "--from",     "2026-03-02T12:00:00Z",
                              "--to",       "2026-03-02T13:00:00Z",
                              NULL};
        const char *day[] = {"summary",    "codegen_metrics",
                             "--grouping", "time_window",
                             "--from",     "2026-03-01T13:00:00Z",
                             "--to",       "2026-03-02T13:00:00Z",
                             NULL};
        static const struct {
                const char *label, *key;
        } lines[] = {{" started ", "started"},
                     {" completed ", "completed"},
                     {" failed ", "failed"},
                     {" success_rate ", "success_rate"},
                     {" duration avg ", "duration.avg"},
                     {" duration p95 ", "duration.p95"},
                     {" duration p99 ", "duration.p99"}};
        json_t *h = query(e, hour), *d = query(e, day);

        for (size_t i = 0; i < sizeof(lines) / sizeof(*lines); i++) {
                const char *l = line_of(frame, lines[i].label);
                char w[4][64];
                ck_assert_msg(l != NULL, "no SUMMARY line%s in\n%s",
                              lines[i].label, frame);
                ck_assert_int_ge(words(l, strlen(lines[i].label), w, 4), 2);
                ck_assert_msg(
                        shows(w[0], jnum(json_array_get(h, 0), lines[i].key)),
                        "%s: hour shows %s, query says %g", lines[i].key, w[0],
                        jnum(json_array_get(h, 0), lines[i].key));
                ck_assert_msg(
                        shows(w[1], jnum(json_array_get(d, 0), lines[i].key)),
                        "%s: 24 h shows %s, query says %g", lines[i].key, w[1],
                        jnum(json_array_get(d, 0), lines[i].key));
        }
        json_decref(h);
        json_decref(d);
}

/* GROUPS: one row per group with the query layer's numbers; the columns
 * of the header line in order. */
static void check_groups(top_env_t *e, const char *frame, const char *agg,
                         const char *grouping, const char *key_column,
                         const char *const *keys, size_t key_cnt)
{
        const char *q[] = {"summary",    agg,
                           "--grouping", grouping,
                           "--from",     "2026-03-01T13:00:00Z",
                           "--to",       "2026-03-02T13:00:00Z",
                           NULL};
        json_t *rows = query(e, q), *row;
        size_t i;

        ck_assert_uint_gt(json_array_size(rows), 0);
        json_array_foreach(rows, i, row)
        {
                const char *name =
                        json_string_value(json_object_get(row, key_column));
                char prefix[128], w[16][64];
                const char *l = NULL;
                int n;
                for (const char *m = " \xe2\x96\xbc\xe2\x96\xb2"; !l && *m;) {
                        /* a row starts with its marker: space, ▼ or ▲ */
                        size_t ml = *m == ' ' ? 1 : 3;
                        snprintf(prefix, sizeof(prefix), "%.*s%s ", (int)ml, m,
                                 name);
                        l = line_of(frame, prefix);
                        m += ml;
                }
                ck_assert_msg(l != NULL, "GROUPS: no row %s in\n%s", name,
                              frame);
                n = words(l, strlen(prefix), w, 16);
                ck_assert_int_eq(n, (int)key_cnt);
                for (size_t k = 0; k < key_cnt; k++) {
                        ck_assert_msg(shows(w[k], jnum(row, keys[k])),
                                      "GROUPS %s %s: shows %s, query says %g",
                                      name, keys[k], w[k], jnum(row, keys[k]));
                }
        }
        json_decref(rows);
}

static char *top_once(top_env_t *e, const char *contract, const char *width)
{
        const char *argv[] = {test_bin(),   "top",      "-c",     e->t.config,
                              "--contract", contract,   "--at",   AT,
                              "--metrics",  e->metrics, "--once", "--width",
                              width,        NULL};
        const char *env[] = {"LC_ALL=C.UTF-8", NULL};
        char *out, *err;
        int rc = test_run(argv, env, &out, &err);

        ck_assert_msg(rc == 0, "reducerd top --once: exit %d: %s", rc, err);
        free(err);
        return out;
}

/* A line's shape: numbers (digits, '.', '%') as '#', blanks as one. */
static void shape(const char *line, size_t len, red_buf_t *out)
{
        for (size_t i = 0; i < len;) {
                if (strchr("0123456789.%", line[i])) {
                        while (i < len && strchr("0123456789.%", line[i])) {
                                i++;
                        }
                        red_buf_putc(out, '#');
                } else if (line[i] == ' ') {
                        while (i < len && line[i] == ' ') {
                                i++;
                        }
                        red_buf_putc(out, ' ');
                } else {
                        red_buf_putc(out, line[i++]);
                }
        }
        red_buf_putc(out, '\n');
}

/* The README's sample frame ("## Dashboards", the text block) has the
 * shape of @p frame, a real run of the command it names. */
static void readme_sample_is_real(const char *frame)
{
        char *sec = test_markdown_section(test_path("README.md"),
                                          "## Dashboards", NULL);
        const char *b = strstr(sec, "```text\n"), *e;
        red_buf_t want, got;

        ck_assert_msg(b != NULL, "README.md: no sample frame");
        b += 8;
        e = strstr(b, "```");
        ck_assert_ptr_nonnull(e);
        red_buf_init(&want);
        red_buf_init(&got);
        for (const char *l = b; l < e;) {
                size_t len = strcspn(l, "\n");
                shape(l, len, &want);
                l += len + 1;
        }
        for (const char *l = frame; *l;) {
                size_t len = strcspn(l, "\n");
                shape(l, len, &got);
                l += len + (l[len] == '\n');
        }
        red_buf_putc(&want, '\0');
        red_buf_putc(&got, '\0');
        ck_assert_msg(!strcmp(want.data, got.data),
                      "README.md's sample frame is not what `reducerd top "
                      "--once --width 80` shows:\n%s\nshapes:\n%s\nvs\n%s",
                      frame, want.data, got.data);
        red_buf_destroy(&want);
        red_buf_destroy(&got);
        free(sec);
}

START_TEST(top_once_shows_the_query_layer)
{
        static const char *const codegen_cols[] = {
                "started",      "completed",    "failed",      "success_rate",
                "duration.avg", "duration.p95", "duration.p99"};
        static const char *const agent_cols[] = {"value.count", "value.avg",
                                                 "value.p95", "value.p99"};
        const char *wf[] = {"workflows", "--contract", "codegen_metrics", NULL};
        top_env_t e;
        char *frame, *m, want[128];
        json_t *rows, *row;
        size_t i;

        top_env(&e, "dash_top_once");
        frame = top_once(&e, "codegen_metrics", "80");
        readme_sample_is_real(frame);
        free(frame);
        frame = top_once(&e, "codegen_metrics", "100");
        check_summary(&e, frame);
        check_groups(&e, frame, "codegen_metrics", "node_type_grouping",
                     "group_key", codegen_cols, 7);
        /* the pipeline: the daemon's own counters */
        ck_assert_int_eq(itest_http_get(e.port, "/metrics", &m), 200);
        snprintf(want, sizeof(want), " consumed %.0f  applied %.0f",
                 itest_metric(m, "reducerd_events_consumed_total{contract="
                                 "\"codegen_metrics\"}"),
                 itest_metric(m, "reducerd_events_applied_total{contract="
                                 "\"codegen_metrics\"}"));
        ck_assert_msg(strstr(frame, want), "no \"%s\" in\n%s", want, frame);
        ck_assert_msg(strstr(frame, "kafka up  postgres up"), "%s", frame);
        /* workflows by state, as the query layer counts them */
        rows = query(&e, wf);
        json_array_foreach(rows, i, row)
        {
                snprintf(want, sizeof(want), " %s %.0f",
                         json_string_value(
                                 json_object_get(row, "current_state")),
                         jnum(row, "count"));
                ck_assert_msg(strstr(line_of(frame, "WORKFLOWS"), want),
                              "no \"%s\" in\n%s", want, frame);
        }
        json_decref(rows);
        /* the trend's newest window: hour 12, all completed */
        ck_assert_ptr_nonnull(strstr(frame, "\nTRENDS hourly"));
        ck_assert_msg(
                line_of(strstr(frame, "\nTRENDS") + 1, " success_rate ") &&
                        strstr(line_of(strstr(frame, "\nTRENDS") + 1,
                                       " success_rate "),
                               " 100.0%"),
                "%s", frame);
        free(frame);
        free(m);

        /* agent metrics: the per-metric view, the alert rules first */
        frame = top_once(&e, "agent_metrics", "100");
        check_groups(&e, frame, "agent_metrics_rollup", "per_metric",
                     "metric_name", agent_cols, 4);
        ck_assert_msg(line_of(frame, "\xe2\x96\xbc"
                                     "routing_decision_time_ms "),
                      "the metric past its CRITICAL threshold is not first:\n"
                      "%s",
                      frame);
        ck_assert_msg(strstr(frame, "CRITICAL routing_decision_critical "
                                    "120>100 agent-1"),
                      "%s", frame);
        ck_assert_msg(strstr(frame, "WARNING  routing_cache_hit_rate_warning "
                                    "55<60 agent-1"),
                      "%s", frame);
        free(frame);
        top_env_fini(&e);
}
END_TEST

/* --- tmux ----------------------------------------------------------------- */

/* `tmux -L SOCKET ARGS...`; returns its stdout (malloc'd). */
static char *tmux(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *tmux(const char *fmt, ...)
{
        char cmd[4096], args[3800];
        const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
        char *out, *err;
        va_list ap;
        int rc;

        va_start(ap, fmt);
        vsnprintf(args, sizeof(args), fmt, ap);
        va_end(ap);
        snprintf(cmd, sizeof(cmd), "tmux -L %s %s", tmux_socket, args);
        rc = test_run(argv, NULL, &out, &err);
        ck_assert_msg(rc == 0, "%s: %s", cmd, err);
        free(err);
        return out;
}

static bool session_gone(void *opaque)
{
        char *ls = tmux("list-sessions -F '#S' 2>/dev/null || true");
        bool gone = !strstr(ls, (const char *)opaque);

        free(ls);
        return gone;
}

typedef struct pane_s {
        const char *session;
        const char *want[4]; /* all of them on the screen */
        bool escapes;        /* capture with colours */
        char *screen;
} pane_t;

static bool pane_shows(void *opaque)
{
        pane_t *p = opaque;

        free(p->screen);
        p->screen = tmux("capture-pane -p %s -t %s", p->escapes ? "-e" : "",
                         p->session);
        for (int i = 0; i < 4 && p->want[i]; i++) {
                if (!strstr(p->screen, p->want[i])) {
                        return false;
                }
        }
        return true;
}

/*
 * Starts top in a detached session of @p cols x @p rows. The tmux server
 * this may start lives on after the client: it must hold none of this
 * process's descriptors (test_run's pipes would never reach end of file,
 * the mock Kafka's stdin would never close), so the client starts with
 * /dev/null and nothing else.
 */
static void tmux_top(top_env_t *e, const char *session, int cols, int rows)
{
        char cmd[8400], x[16], y[16];
        pid_t pid;
        int st;

        snprintf(cmd, sizeof(cmd),
                 "env LC_ALL=C.UTF-8 TERM=tmux-256color %s top -c %s "
                 "--contract codegen_metrics --at %s --metrics %s --interval 1",
                 test_bin(), e->t.config, AT, e->metrics);
        snprintf(x, sizeof(x), "%d", cols);
        snprintf(y, sizeof(y), "%d", rows);
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                int fd = open("/dev/null", O_RDWR);
                dup2(fd, 0);
                dup2(fd, 1);
                dup2(fd, 2);
                for (int i = 3; i < 4096; i++) {
                        close(i);
                }
                execlp("tmux", "tmux", "-L", tmux_socket, "-u", "new-session",
                       "-d", "-s", session, "-x", x, "-y", y, cmd,
                       (char *)NULL);
                _exit(127);
        }
        ck_assert_int_eq(waitpid(pid, &st, 0), pid);
        ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                      "tmux new-session failed");
}

/* Every line of the screen fits @p cols; there are @p rows of them. */
static void fits(const char *screen, int cols, int rows)
{
        int n = 0;

        for (const char *p = screen; *p; n++) {
                size_t len = strcspn(p, "\n"), w = 0;
                for (size_t i = 0; i < len; i++) {
                        w += ((unsigned char)p[i] & 0xc0) != 0x80;
                }
                ck_assert_msg(w <= (size_t)cols, "line %d is %zu wide:\n%s", n,
                              w, screen);
                p += len + (p[len] == '\n');
        }
        ck_assert_msg(n <= rows, "%d lines:\n%s", n, screen);
}

START_TEST(top_in_tmux)
{
        static const char *const codegen_cols[] = {
                "started",      "completed",    "failed",      "success_rate",
                "duration.avg", "duration.p95", "duration.p99"};
        top_env_t e;
        pane_t p = {.session = "small"};
        char consumed[64];
        const char *q;

        snprintf(tmux_socket, sizeof(tmux_socket), "red-top-%d", (int)getpid());
        top_env(&e, "dash_top_tmux");
        snprintf(consumed, sizeof(consumed), " consumed 33  applied 33");

        /* 80x24: everything that matters fits */
        tmux_top(&e, "small", 80, 24);
        p.want[0] = consumed;
        p.want[1] = " success_rate ";
        p.want[2] = "WORKFLOWS";
        p.want[3] = "q quit";
        ck_assert_msg(test_wait_every(pane_shows, &p, 30000, 200),
                      "the 80x24 pane shows:\n%s", p.screen);
        fits(p.screen, 80, 24);
        check_summary(&e, p.screen);
        check_groups(&e, p.screen, "codegen_metrics", "node_type_grouping",
                     "group_key", codegen_cols, 7);

        /* g: the next grouping, with the query layer's numbers */
        free(tmux("send-keys -t small g"));
        p.want[0] = "quality_buckets";
        p.want[1] = "GROUPS quality_buckets";
        p.want[2] = p.want[3] = NULL;
        ck_assert_msg(test_wait_every(pane_shows, &p, 20000, 200), "%s",
                      p.screen);
        check_groups(&e, p.screen, "codegen_metrics", "quality_buckets",
                     "group_key", codegen_cols, 7);

        /* w: the daily trend */
        free(tmux("send-keys -t small w"));
        p.want[0] = "TRENDS daily, last 30";
        ck_assert_msg(test_wait_every(pane_shows, &p, 20000, 200), "%s",
                      p.screen);

        /* c: the next contract, coloured by its alert rules */
        free(tmux("send-keys -t small c"));
        p.want[0] = "agent_metrics";
        p.want[1] = "routing_decision_time_ms";
        p.escapes = true;
        ck_assert_msg(test_wait_every(pane_shows, &p, 20000, 200), "%s",
                      p.screen);
        q = strstr(p.screen, "routing_decision_time_ms");
        /* its p95, 120, past the CRITICAL threshold 100: red (SGR 31) */
        ck_assert_msg(q && strstr(q, "31m") &&
                              strstr(q, "31m") < strstr(q, "120"),
                      "the p95 past the CRITICAL threshold is not red:\n%s",
                      p.screen);
        p.escapes = false;

        /* q: top ends, and with it the session */
        free(tmux("send-keys -t small q"));
        ck_assert_msg(test_wait_every(session_gone, "small", 10000, 200),
                      "top did not quit");

        /* 120x40: a larger terminal shows more */
        p.session = "large";
        tmux_top(&e, "large", 120, 40);
        p.want[0] = consumed;
        p.want[1] = "TRENDS hourly";
        p.want[2] = "cost.total_cost_usd";
        p.want[3] = "WORKFLOWS";
        ck_assert_msg(test_wait_every(pane_shows, &p, 30000, 200),
                      "the 120x40 pane shows:\n%s", p.screen);
        fits(p.screen, 120, 40);
        check_summary(&e, p.screen);
        free(p.screen);
        cleanup(); /* the tmux server (kills top) and the daemon */
        itest_fini(&e.t);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("dashboards");

        test_add_case(s, "grafana", grafana_panels_return_the_known_values,
                      300);
        test_add_case(s, "top_once", top_once_shows_the_query_layer, 300);
        test_add_case(s, "top_tmux", top_in_tmux, 300);
        return s;
}

int main(void)
{
        return test_main(suite());
}
