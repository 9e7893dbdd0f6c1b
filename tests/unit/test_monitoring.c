/*
 * The monitoring half of the deploy kit, offline: the Prometheus rules
 * (promtool check rules, promtool test rules, only series of
 * deploy/METRICS.md), the Prometheus and Grafana provisioning of the
 * compose file, and the structure of the domain Grafana dashboards
 * (panels on the grid, the PostgreSQL data source, SQL over the
 * contracts' tables only, seed 001's panels, the agent dashboard's
 * thresholds against the agent_metrics contract's alert rules). What the
 * panels' SQL returns is tests/integration/test_dashboards.c's part.
 */
#include "red_contract.h"
#include "red_test.h"
#include "red_yaml.h"

#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RULES      "deploy/prometheus/reducerd-rules.yaml"
#define RULE_TESTS "deploy/prometheus/reducerd-rules.test.yaml"
#define PROM_CFG   "deploy/prometheus/prometheus.yml"
#define DATASOURCE "deploy/grafana/provisioning/datasources/reducerd.yaml"
#define PROVIDER   "deploy/grafana/provisioning/dashboards/reducerd.yaml"

static const char *const dashboards[] = {
        "deploy/grafana/reducerd-dashboard.json",
        "deploy/grafana/codegen-dashboard.json",
        "deploy/grafana/agent-metrics-dashboard.json", NULL};

/* --- helpers -------------------------------------------------------------- */

static char *promtool(const char *args, int *rc)
{
        char cmd[4096], *out, *err, *all;
        const char *argv[] = {"/bin/sh", "-c", cmd, NULL};

        ck_assert_msg(!access("/usr/bin/promtool", X_OK),
                      "promtool is missing (Debian package prometheus; ./dev "
                      "installs it)");
        snprintf(cmd, sizeof(cmd), "cd '%s' && promtool %s", test_srcdir(),
                 args);
        *rc = test_run(argv, NULL, &out, &err);
        ck_assert_int_ge(asprintf(&all, "%s%s", out, err), 0);
        free(out);
        free(err);
        return all;
}

static red_yaml_doc_t *yaml(const char *rel)
{
        char err[1024];
        red_yaml_doc_t *d =
                red_yaml_load_file(test_path(rel), err, sizeof(err));

        ck_assert_msg(d != NULL, "%s", err);
        return d;
}

/* The node at a '/'-separated path of map keys, or NULL. */
static const red_yaml_node_t *at(const red_yaml_node_t *n, const char *path)
{
        char key[128];

        while (n && *path) {
                size_t len = strcspn(path, "/");
                snprintf(key, sizeof(key), "%.*s", (int)len, path);
                n = red_yaml_get(n, key);
                path += len + (path[len] == '/');
        }
        return n;
}

static json_t *dashboard(const char *rel)
{
        json_error_t jerr;
        json_t *d = json_load_file(test_path(rel), 0, &jerr);

        ck_assert_msg(d != NULL, "%s:%d:%d: %s", rel, jerr.line, jerr.column,
                      jerr.text);
        return d;
}

static const char *jstr(const json_t *o, const char *key)
{
        return json_string_value(json_object_get(o, key));
}

/* Whether the series name @p name (or the histogram it is a part of) is
 * a series of deploy/METRICS.md. */
static bool listed(const char *md, const char *name)
{
        static const char *const parts[] = {"", "_bucket", "_sum", "_count",
                                            NULL};
        size_t len = strlen(name);

        for (const char *const *p = parts; *p; p++) {
                size_t pl = strlen(*p);
                char row[160];
                if (len <= pl || strcmp(name + len - pl, *p)) {
                        continue;
                }
                snprintf(row, sizeof(row), "| `%.*s` |", (int)(len - pl), name);
                if (strstr(md, row)) {
                        return true;
                }
        }
        return false;
}

static int index_of(char *const *names, size_t cnt, const char *name)
{
        for (size_t i = 0; i < cnt; i++) {
                if (!strcmp(names[i], name)) {
                        return (int)i;
                }
        }
        return -1;
}

/* --- Prometheus ----------------------------------------------------------- */

START_TEST(rules_pass_promtool)
{
        int rc;
        char *out;

        out = promtool("check rules " RULES, &rc);
        ck_assert_msg(rc == 0, "promtool check rules: %s", out);
        ck_assert_msg(strstr(out, "SUCCESS"), "%s", out);
        free(out);
        out = promtool("test rules " RULE_TESTS, &rc);
        ck_assert_msg(rc == 0, "promtool test rules: %s", out);
        free(out);
        out = promtool("check config " PROM_CFG, &rc);
        ck_assert_msg(rc == 0, "promtool check config: %s", out);
        free(out);
}
END_TEST

/*
 * Every series an expression names is one reducerd exports (METRICS.md,
 * its own or the domain series) or a recording rule of the file; every
 * alert is tested (the test file names it) and carries a severity.
 */
START_TEST(rules_use_listed_series)
{
        char *md = test_read_file(test_path("deploy/METRICS.md"), NULL);
        char *tests = test_read_file(test_path(RULE_TESTS), NULL);
        red_yaml_doc_t *d = yaml(RULES);
        const red_yaml_node_t *groups = at(red_yaml_doc_root(d), "groups");
        char *records[64];
        size_t rec_cnt = 0, alerts = 0;

        ck_assert_ptr_nonnull(groups);
        for (size_t g = 0; g < red_yaml_size(groups); g++) {
                const red_yaml_node_t *rules =
                        at(red_yaml_item(groups, g), "rules");
                for (size_t r = 0; r < red_yaml_size(rules); r++) {
                        const red_yaml_node_t *rec =
                                at(red_yaml_item(rules, r), "record");
                        if (rec) {
                                ck_assert_uint_lt(rec_cnt, 64);
                                records[rec_cnt++] = (char *)red_yaml_str(rec);
                        }
                }
        }
        for (size_t g = 0; g < red_yaml_size(groups); g++) {
                const red_yaml_node_t *rules =
                        at(red_yaml_item(groups, g), "rules");
                for (size_t r = 0; r < red_yaml_size(rules); r++) {
                        const red_yaml_node_t *rule = red_yaml_item(rules, r);
                        const char *e = red_yaml_str(at(rule, "expr"));
                        const red_yaml_node_t *alert = at(rule, "alert");

                        ck_assert_ptr_nonnull(e);
                        /* identifiers followed by { [ ) space or end that
                         * look like series: reducerd_, codegen_, workflow_,
                         * active_, or recorded a:b:c */
                        for (const char *p = e; *p;) {
                                char id[128];
                                size_t n = 0;
                                if (!(isalpha((unsigned char)*p) || *p == '_' ||
                                      *p == ':') ||
                                    (p > e && (isalnum((unsigned char)p[-1]) ||
                                               p[-1] == '_' || p[-1] == '"'))) {
                                        p++;
                                        continue;
                                }
                                while (isalnum((unsigned char)p[n]) ||
                                       p[n] == '_' || p[n] == ':') {
                                        n++;
                                }
                                snprintf(id, sizeof(id), "%.*s", (int)n, p);
                                p += n;
                                if (strchr(id, ':')) {
                                        ck_assert_msg(
                                                index_of(records, rec_cnt,
                                                         id) >= 0,
                                                "%s: %s is recorded by no "
                                                "rule",
                                                RULES, id);
                                } else if (!strncmp(id, "reducerd_", 9) ||
                                           !strncmp(id, "codegen_", 8) ||
                                           !strncmp(id, "workflow_", 9) ||
                                           !strncmp(id, "active_", 7)) {
                                        ck_assert_msg(listed(md, id),
                                                      "%s: series %s is not "
                                                      "in deploy/METRICS.md",
                                                      RULES, id);
                                }
                        }
                        if (alert) {
                                char name[160];
                                const red_yaml_node_t *sev =
                                        at(rule, "labels/severity");
                                alerts++;
                                ck_assert_msg(
                                        sev && (!strcmp(red_yaml_str(sev),
                                                        "critical") ||
                                                !strcmp(red_yaml_str(sev),
                                                        "warning")),
                                        "%s: alert %s: severity critical or "
                                        "warning",
                                        RULES, red_yaml_str(alert));
                                snprintf(name, sizeof(name), "alertname: %s\n",
                                         red_yaml_str(alert));
                                ck_assert_msg(strstr(tests, name),
                                              "%s: alert %s has no test in "
                                              "%s",
                                              RULES, red_yaml_str(alert),
                                              RULE_TESTS);
                        }
                }
        }
        /* seed 002's error rate and slow responses, and the pipeline's */
        ck_assert_uint_ge(alerts, 9);
        red_yaml_doc_destroy(d);
        free(tests);
        free(md);
}
END_TEST

/* --- Grafana: provisioning ------------------------------------------------ */

/* The service of compose.yaml mounting host path @p host: its target. */
static const char *compose_mount(const red_yaml_node_t *svc, const char *host)
{
        const red_yaml_node_t *vols = at(svc, "volumes");
        size_t len = strlen(host);

        for (size_t i = 0; vols && i < red_yaml_size(vols); i++) {
                const char *v = red_yaml_str(red_yaml_item(vols, i));
                if (v && !strncmp(v, host, len) && v[len] == ':') {
                        return v + len + 1;
                }
        }
        return NULL;
}

START_TEST(grafana_is_provisioned)
{
        red_yaml_doc_t *ds = yaml(DATASOURCE), *pv = yaml(PROVIDER),
                       *cp = yaml("deploy/compose.yaml");
        const red_yaml_node_t *list = at(red_yaml_doc_root(ds), "datasources");
        const red_yaml_node_t *grafana =
                at(red_yaml_doc_root(cp), "services/grafana");
        const red_yaml_node_t *prom =
                at(red_yaml_doc_root(cp), "services/prometheus");
        const red_yaml_node_t *prov =
                red_yaml_item(at(red_yaml_doc_root(pv), "providers"), 0);
        const char *path = red_yaml_str(at(prov, "options/path")), *m;
        char *reader =
                test_read_file(test_path("deploy/grafana/reader.sql"), NULL);
        bool pg = false, pr = false;

        ck_assert_ptr_nonnull(list);
        for (size_t i = 0; i < red_yaml_size(list); i++) {
                const red_yaml_node_t *d = red_yaml_item(list, i);
                const char *type = red_yaml_str(at(d, "type"));
                const char *uid = red_yaml_str(at(d, "uid"));
                if (!strcmp(type, "grafana-postgresql-datasource")) {
                        pg = !strcmp(uid, "reducerd-postgres");
                        /* the role reader.sql makes, its password from the
                         * environment */
                        ck_assert_str_eq(red_yaml_str(at(d, "user")),
                                         "grafana_reader");
                        ck_assert(strstr(reader, "ROLE grafana_reader"));
                        ck_assert_str_eq(
                                red_yaml_str(at(d, "secureJsonData/password")),
                                "$GRAFANA_DB_PASSWORD");
                        ck_assert_str_eq(
                                red_yaml_str(at(d, "jsonData/database")),
                                "reducerd");
                } else if (!strcmp(type, "prometheus")) {
                        pr = !strcmp(uid, "prometheus");
                        ck_assert_str_eq(red_yaml_str(at(d, "url")),
                                         "http://prometheus:9090");
                }
        }
        ck_assert_msg(pg && pr,
                      "%s: the PostgreSQL (reducerd-postgres) and "
                      "Prometheus (prometheus) data sources",
                      DATASOURCE);
        /* compose brings them up: the provisioning, the dashboards where
         * the provider looks, Prometheus with its config and rules */
        ck_assert_ptr_nonnull(grafana);
        ck_assert_ptr_nonnull(prom);
        m = compose_mount(grafana, "./grafana/provisioning");
        ck_assert_msg(m && !strncmp(m, "/etc/grafana/provisioning", 25),
                      "grafana does not mount the provisioning");
        m = compose_mount(grafana, "./grafana");
        ck_assert_msg(m && path && !strncmp(m, path, strlen(path)),
                      "grafana mounts ./grafana at %s, the provider reads %s",
                      m ? m : "nothing", path ? path : "nothing");
        m = compose_mount(prom, "./prometheus");
        ck_assert_msg(m && !strncmp(m, "/etc/prometheus", 15),
                      "prometheus does not mount ./prometheus");
        ck_assert_msg(at(red_yaml_doc_root(cp), "services/grafana-reader"),
                      "compose does not create the reader role");
        free(reader);
        red_yaml_doc_destroy(ds);
        red_yaml_doc_destroy(pv);
        red_yaml_doc_destroy(cp);
}
END_TEST

/* --- Grafana: the dashboards ---------------------------------------------- */

/* The tables the shipped contracts write. */
static bool contract_table(const red_contract_set_t *set, const char *t)
{
        for (size_t i = 0; i < set->cnt; i++) {
                const red_contract_t *c = set->items[i];
                for (size_t a = 0; a < c->agg_cnt; a++) {
                        if (!strcmp(c->aggs[a].table, t)) {
                                return true;
                        }
                }
                for (size_t r = 0; r < c->raw_cnt; r++) {
                        for (size_t k = 0; k < c->raws[r].table_cnt; k++) {
                                if (!strcmp(c->raws[r].tables[k], t)) {
                                        return true;
                                }
                        }
                }
                if ((c->fsm && (!strcmp(c->fsm->current_table, t) ||
                                !strcmp(c->fsm->history_table, t))) ||
                    (c->alerts && c->alerts->table &&
                     !strcmp(c->alerts->table, t))) {
                        return true;
                }
        }
        return false;
}

/* SQL reads only the contracts' tables and uses only $__timeFilter. */
static void check_sql(const char *file, const char *title, const char *sql,
                      const red_contract_set_t *set, bool series)
{
        for (const char *p = sql; (p = strstr(p, "FROM ")); p += 5) {
                char t[128];
                if (sscanf(p + 5, "%127[a-z0-9_]", t) == 1) {
                        ck_assert_msg(contract_table(set, t),
                                      "%s: %s reads %s, which no contract "
                                      "writes",
                                      file, title, t);
                }
        }
        for (const char *p = sql; (p = strchr(p, '$')); p++) {
                ck_assert_msg(!strncmp(p, "$__timeFilter(", 14),
                              "%s: %s uses %s (only $__timeFilter)", file,
                              title, p);
        }
        if (series) {
                ck_assert_msg(strstr(sql, " AS \"time\""),
                              "%s: %s: a time series selects \"time\"", file,
                              title);
        }
}

/* Panels stay on the 24-column grid and do not overlap. */
static void check_grid(const char *file, json_t *panels)
{
        size_t i, j;
        json_t *p, *q;

        json_array_foreach(panels, i, p)
        {
                json_t *g = json_object_get(p, "gridPos");
                long x = (long)json_integer_value(json_object_get(g, "x")),
                     w = (long)json_integer_value(json_object_get(g, "w"));
                ck_assert_msg(x >= 0 && w > 0 && x + w <= 24,
                              "%s: %s leaves the grid", file, jstr(p, "title"));
                json_array_foreach(panels, j, q)
                {
                        json_t *h = json_object_get(q, "gridPos");
                        long x2, y2, w2, h2, y, hh;
                        if (j <= i) {
                                continue;
                        }
                        ck_assert_msg(
                                json_integer_value(json_object_get(p, "id")) !=
                                        json_integer_value(
                                                json_object_get(q, "id")),
                                "%s: two panels with id %lld", file,
                                json_integer_value(json_object_get(p, "id")));
                        x2 = (long)json_integer_value(json_object_get(h, "x"));
                        y2 = (long)json_integer_value(json_object_get(h, "y"));
                        w2 = (long)json_integer_value(json_object_get(h, "w"));
                        h2 = (long)json_integer_value(json_object_get(h, "h"));
                        y = (long)json_integer_value(json_object_get(g, "y"));
                        hh = (long)json_integer_value(json_object_get(g, "h"));
                        ck_assert_msg(x + w <= x2 || x2 + w2 <= x ||
                                              y + hh <= y2 || y2 + h2 <= y,
                                      "%s: %s overlaps %s", file,
                                      jstr(p, "title"), jstr(q, "title"));
                }
        }
}

START_TEST(dashboards_are_well_formed)
{
        red_contract_set_t set = {0};
        char *paths[] = {(char *)test_path("contracts")}, err[2048];
        const char *uids[8];
        size_t n = 0;

        ck_assert_int_eq(
                red_contract_set_load(&set, paths, 1, NULL, err, sizeof(err)),
                0);
        for (const char *const *f = dashboards; *f; f++, n++) {
                json_t *d = dashboard(*f), *p, *var;
                size_t i;
                bool pg = strcmp(*f, dashboards[0]) != 0;

                uids[n] = strdup(jstr(d, "uid"));
                for (size_t k = 0; k < n; k++) {
                        ck_assert_msg(strcmp(uids[k], uids[n]),
                                      "%s: uid %s twice", *f, uids[n]);
                }
                ck_assert_ptr_nonnull(jstr(d, "title"));
                check_grid(*f, json_object_get(d, "panels"));
                if (!pg) {
                        /* Prometheus: tests/unit/test_deploy.c */
                        json_decref(d);
                        continue;
                }
                /* the data source variable defaults to the provisioned
                 * PostgreSQL data source */
                var = json_array_get(
                        json_object_get(json_object_get(d, "templating"),
                                        "list"),
                        0);
                ck_assert_str_eq(jstr(var, "type"), "datasource");
                ck_assert_str_eq(jstr(var, "query"),
                                 "grafana-postgresql-datasource");
                ck_assert_str_eq(jstr(json_object_get(var, "current"), "value"),
                                 "reducerd-postgres");
                json_array_foreach(json_object_get(d, "panels"), i, p)
                {
                        const char *title = jstr(p, "title");
                        json_t *tg;
                        size_t k;
                        if (!strcmp(jstr(p, "type"), "row")) {
                                continue;
                        }
                        ck_assert_msg(
                                json_array_size(json_object_get(p, "targets")),
                                "%s: %s has no query", *f, title);
                        ck_assert_str_eq(
                                jstr(json_object_get(p, "datasource"), "uid"),
                                "${datasource}");
                        ck_assert_msg(jstr(p, "description"),
                                      "%s: %s has no description", *f, title);
                        json_array_foreach(json_object_get(p, "targets"), k, tg)
                        {
                                const char *fmt = jstr(tg, "format");
                                ck_assert_msg(
                                        fmt && (!strcmp(fmt, "table") ||
                                                !strcmp(fmt, "time_series")),
                                        "%s: %s: format %s", *f, title, fmt);
                                ck_assert_str_eq(
                                        jstr(json_object_get(tg, "datasource"),
                                             "type"),
                                        "grafana-postgresql-datasource");
                                check_sql(*f, title, jstr(tg, "rawSql"), &set,
                                          !strcmp(fmt, "time_series"));
                        }
                }
                json_decref(d);
        }
        for (size_t k = 0; k < n; k++) {
                free((char *)uids[k]);
        }
        red_contract_set_destroy(&set);
}
END_TEST

/* Seed 001's dashboard: its twelve panels but the three of the registry,
 * which come with the registry contract (absent, not faked). */
START_TEST(codegen_dashboard_has_seed_panels)
{
        static const char *const seed[] = {"Generation Success Rate",
                                           "Generations Per Hour",
                                           "Generation Duration p50/p95/p99",
                                           "Average Quality Score",
                                           "Generations by Node Type",
                                           "Quality Bucket Distribution",
                                           "Domain Distribution",
                                           "Cost Tracking",
                                           "Workflow State Distribution",
                                           NULL};
        json_t *d = dashboard(dashboards[1]), *p;
        size_t i, n = 0;

        for (const char *const *s = seed; *s; s++) {
                bool found = false;
                json_array_foreach(json_object_get(d, "panels"), i, p)
                {
                        found |= !strcmp(jstr(p, "title"), *s);
                }
                ck_assert_msg(found, "codegen dashboard: no panel \"%s\"", *s);
        }
        json_array_foreach(json_object_get(d, "panels"), i, p)
        {
                const char *t = jstr(p, "title");
                n++;
                ck_assert_msg(!strcasestr(t, "registr") &&
                                      !strcasestr(t, "consistency"),
                              "a registry panel before the registry exists: "
                              "%s",
                              t);
        }
        ck_assert_uint_eq(n, 9);
        json_decref(d);
}
END_TEST

/* The colour of @p v under threshold steps (the last step whose value is
 * at most v; the first has none). */
static const char *color_at(json_t *steps, double v)
{
        const char *c = NULL;
        size_t i;
        json_t *s;

        json_array_foreach(steps, i, s)
        {
                json_t *val = json_object_get(s, "value");
                if (json_is_null(val) || json_number_value(val) <= v) {
                        c = jstr(s, "color");
                }
        }
        return c;
}

/*
 * Each stat of the agent dashboard reads one metric; where the contract
 * has CRITICAL or WARNING rules for it, a value just past the threshold
 * is red or orange, and a target (green) exists.
 */
START_TEST(agent_thresholds_follow_the_rules)
{
        red_contract_t *c = test_contract("contracts/agent_metrics.yaml");
        json_t *d = dashboard(dashboards[2]), *p;
        size_t i, stats = 0, checked = 0;
        char rows[8][64];
        size_t row_cnt = 0;

        json_array_foreach(json_object_get(d, "panels"), i, p)
        {
                const char *sql =
                        jstr(json_array_get(json_object_get(p, "targets"), 0),
                             "rawSql");
                json_t *steps;
                char metric[128];
                const char *q;
                bool green = false;
                size_t k;
                json_t *s;

                if (!strcmp(jstr(p, "type"), "row")) {
                        ck_assert_uint_lt(row_cnt, 8);
                        snprintf(rows[row_cnt++], 64, "%s", jstr(p, "title"));
                        continue;
                }
                if (strcmp(jstr(p, "type"), "stat")) {
                        continue;
                }
                stats++;
                q = strstr(sql, "metric_name = '");
                ck_assert_msg(q && sscanf(q + 15, "%127[a-z0-9_]", metric) == 1,
                              "%s: no metric_name in %s", jstr(p, "title"),
                              sql);
                steps = json_object_get(
                        json_object_get(
                                json_object_get(
                                        json_object_get(p, "fieldConfig"),
                                        "defaults"),
                                "thresholds"),
                        "steps");
                json_array_foreach(steps, k, s)
                {
                        green |= !strcmp(jstr(s, "color"), "green");
                }
                ck_assert_msg(green, "%s: no target (green step)", metric);
                for (size_t r = 0; r < c->alerts->rule_cnt; r++) {
                        const red_alert_rule_t *rule = &c->alerts->rules[r];
                        double eps = fabs(rule->threshold) * 1e-6 + 1e-9;
                        const char *want, *got;
                        if (strcmp(rule->metric, metric) ||
                            !strcmp(rule->severity, "INFO")) {
                                continue;
                        }
                        want = !strcmp(rule->severity, "CRITICAL") ? "red"
                                                                   : "orange";
                        got = color_at(steps,
                                       rule->op == RED_OP_GT ||
                                                       rule->op == RED_OP_GTE
                                               ? rule->threshold + eps
                                               : rule->threshold - eps);
                        ck_assert_msg(got && !strcmp(got, want),
                                      "%s: past rule %s (%s %g) the stat is "
                                      "%s, want %s",
                                      metric, rule->id,
                                      red_contract_alert_op_name(rule->op),
                                      rule->threshold, got ? got : "none",
                                      want);
                        checked++;
                }
        }
        /* the five categories, the targets of seed 000, every rule */
        ck_assert_uint_eq(row_cnt, 6); /* overview + five categories */
        ck_assert_uint_ge(stats, 18);
        ck_assert_uint_eq(checked, 10); /* CRITICAL and WARNING rules */
        json_decref(d);
        red_contract_destroy(c);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("monitoring");
        TCase *tc = tcase_create("monitoring");

        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, rules_pass_promtool);
        tcase_add_test(tc, rules_use_listed_series);
        tcase_add_test(tc, grafana_is_provisioned);
        tcase_add_test(tc, dashboards_are_well_formed);
        tcase_add_test(tc, codegen_dashboard_has_seed_panels);
        tcase_add_test(tc, agent_thresholds_follow_the_rules);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        return test_main(suite());
}
