/*
 * Tests for red_dmetrics and the metrics: section: the shipped codegen
 * contract's series (seed 001's names) and their label sets; events,
 * history rows and state counts counted through the core exactly when a
 * batch commits; the Prometheus text, which promtool accepts; metric name
 * clashes.
 */
#include "red_core.h"
#include "red_dmetrics.h"
#include "red_test.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CODEGEN "contracts/codegen_metrics.yaml"

#define T_STARTED   "dev.omninode-bridge.codegen.generation-started.v1"
#define T_STAGE     "dev.omninode-bridge.codegen.stage-completed.v1"
#define T_COMPLETED "dev.omninode-bridge.codegen.generation-completed.v1"
#define T_FAILED    "dev.omninode-bridge.codegen.generation-failed.v1"

#define WF1 "a0000000-0000-4000-8000-000000000001"
#define WF2 "a0000000-0000-4000-8000-000000000002"
#define WF3 "a0000000-0000-4000-8000-000000000003"

/* --- a core fed with messages ---------------------------------------- */

#define MAX_MSGS 32

typedef struct {
        char *text[MAX_MSGS];
        red_msg_t msg[MAX_MSGS];
        size_t cnt;
        int64_t offset;
        red_core_t *core;
} feed_t;

static red_time_t now;

static void feed_init(feed_t *f, const red_contract_t *c)
{
        char err[256];

        memset(f, 0, sizeof(*f));
        now = test_time("2025-11-07T00:00:00Z");
        f->core = red_core_new(c, 1000, -1, NULL, NULL, err, sizeof(err));
        ck_assert_msg(f->core != NULL, "%s", err);
}

static void feed_fini(feed_t *f)
{
        red_core_destroy(f->core);
        for (size_t i = 0; i < f->cnt; i++) {
                free(f->text[i]);
        }
}

static void feed(feed_t *f, const char *topic, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void feed(feed_t *f, const char *topic, const char *fmt, ...)
{
        red_msg_t *m;
        va_list ap;

        ck_assert_uint_lt(f->cnt, MAX_MSGS);
        va_start(ap, fmt);
        ck_assert_int_ge(vasprintf(&f->text[f->cnt], fmt, ap), 0);
        va_end(ap);
        m = &f->msg[f->cnt];
        m->topic = topic;
        m->partition = 0;
        m->offset = f->offset++;
        m->value = f->text[f->cnt];
        m->value_len = strlen(f->text[f->cnt]);
        m->timestamp = -1;
        ck_assert_int_eq(red_core_add(f->core, m, now, NULL), 0);
        f->cnt++;
}

/* Releases and applies everything added; commit or roll back. */
static void batch(feed_t *f, bool commit)
{
        ck_assert_int_ge(red_core_release(f->core, INT64_MAX, 0), 0);
        ck_assert_int_eq(red_core_process(f->core), 0);
        if (commit) {
                red_core_commit(f->core);
        } else {
                red_core_rollback(f->core);
        }
}

/* --- reading the text -------------------------------------------------- */

/* The value of the line that starts with @p series followed by a space,
 * or NAN when there is none. */
static double value_of(const char *text, const char *series)
{
        size_t len = strlen(series);

        for (const char *p = text; p && *p; p = strchr(p, '\n'), p += !!p) {
                if (!strncmp(p, series, len) && p[len] == ' ') {
                        return strtod(p + len + 1, NULL);
                }
        }
        return NAN;
}

static char *render(const red_contract_t *c, const double *vals)
{
        red_buf_t b;

        red_buf_init(&b);
        red_dmetrics_render(c, vals, &b);
        red_buf_putc(&b, '\0');
        return red_buf_steal(&b, NULL);
}

static const red_metric_t *metric(const red_contract_t *c, const char *name)
{
        for (size_t i = 0; i < c->metric_cnt; i++) {
                if (!strcmp(c->metrics[i].name, name)) {
                        return &c->metrics[i];
                }
        }
        ck_abort_msg("no metric %s", name);
        return NULL;
}

/* --- the shipped contract ---------------------------------------------- */

START_TEST(codegen_declares_seed_series)
{
        static const char *const seed[] = {
                "codegen_generations_total",
                "codegen_generations_successful_total",
                "codegen_generations_failed_total",
                "codegen_generation_duration_seconds",
                "codegen_quality_score",
                "workflow_state_transitions_total",
                "workflow_state_count",
                "active_workflows_count",
                NULL};
        red_contract_t *c = test_contract(CODEGEN);
        const red_metric_t *m;

        for (const char *const *s = seed; *s; s++) {
                metric(c, *s);
        }
        m = metric(c, "codegen_generations_total");
        ck_assert_int_eq(m->type, RED_METRIC_COUNTER);
        ck_assert_uint_eq(m->label_cnt, 2);
        /* node_type: the enum and the default; domain: its enum (which
         * holds the default) */
        ck_assert_uint_eq(m->labels[0].value_cnt, 5);
        ck_assert_str_eq(m->labels[0].values[0], "effect");
        ck_assert_str_eq(m->labels[0].values[4], "unknown");
        ck_assert_uint_eq(m->labels[1].value_cnt, 7);
        ck_assert_uint_eq(m->series_cnt, 35);
        m = metric(c, "codegen_generation_duration_seconds");
        ck_assert_int_eq(m->type, RED_METRIC_HISTOGRAM);
        ck_assert_uint_eq(m->width, m->bucket_cnt + 2);
        m = metric(c, "workflow_state_transitions_total");
        ck_assert_int_eq(m->source, RED_MSRC_TRANSITIONS);
        /* six states and "none"; seven results */
        ck_assert_uint_eq(m->series_cnt, 7 * 7);
        m = metric(c, "active_workflows_count");
        ck_assert_int_eq(m->source, RED_MSRC_WORKFLOWS);
        ck_assert_uint_eq(m->series_cnt, 1);
        ck_assert_uint_eq(m->states, 0xf); /* the four non-terminal ones */
        ck_assert(red_dmetrics_has_states(c));
        red_contract_destroy(c);
}
END_TEST

/* --- counting through the core ----------------------------------------- */

static void started(feed_t *f, const char *wf, const char *type,
                    const char *domain, const char *iso)
{
        feed(f, T_STARTED,
             "{\"workflow_id\":\"%s\",\"node_type\":\"%s\",\"domain\":\"%s\","
             "\"timestamp\":\"%s\"}",
             wf, type, domain, iso);
}

/* Completed events carry no node_type: it comes from Started. */
static void completed(feed_t *f, const char *wf, double seconds, double q,
                      const char *iso)
{
        feed(f, T_COMPLETED,
             "{\"workflow_id\":\"%s\",\"total_duration_seconds\":%g,"
             "\"quality_score\":%g,\"total_tokens\":100,"
             "\"total_cost_usd\":0.25,\"timestamp\":\"%s\"}",
             wf, seconds, q, iso);
}

#define GEN(labels)                                                            \
        "codegen_generations_total{contract=\"codegen_metrics\"," labels "}"
#define DUR(suffix, labels)                                                    \
        "codegen_generation_duration_seconds" suffix                           \
        "{contract=\"codegen_metrics\",node_type=\"effect\"" labels "}"

START_TEST(events_count_when_the_batch_commits)
{
        red_contract_t *c = test_contract(CODEGEN);
        feed_t f;
        char *text;

        feed_init(&f, c);
        started(&f, WF1, "effect", "api", "2025-11-06T10:00:00Z");
        started(&f, WF2, "effect", "api", "2025-11-06T10:00:01Z");
        started(&f, WF3, "compute", "ml", "2025-11-06T10:00:02Z");
        completed(&f, WF1, 2.5, 0.88, "2025-11-06T10:00:10Z");
        completed(&f, WF2, 40, 0.55, "2025-11-06T10:00:11Z");
        feed(&f, T_FAILED,
             "{\"workflow_id\":\"" WF3 "\",\"failed_stage\":\"validation\","
             "\"timestamp\":\"2025-11-06T10:00:12Z\"}");
        batch(&f, true);

        text = render(c, red_core_metrics(f.core));
        ck_assert_double_eq(value_of(text, GEN("node_type=\"effect\","
                                               "domain=\"api\"")),
                            2);
        /* the failed event took compute/ml from its workflow's Started */
        ck_assert_double_eq(value_of(text, GEN("node_type=\"compute\","
                                               "domain=\"ml\"")),
                            1);
        ck_assert_double_eq(value_of(text, GEN("node_type=\"reducer\","
                                               "domain=\"data\"")),
                            0);
        ck_assert_double_eq(
                value_of(text, "codegen_generations_failed_total{contract="
                               "\"codegen_metrics\",node_type=\"compute\","
                               "domain=\"ml\"}"),
                1);
        ck_assert_double_eq(
                value_of(text, "codegen_generations_started_total{contract="
                               "\"codegen_metrics\",node_type=\"effect\","
                               "domain=\"api\"}"),
                2);
        /* 2.5 s falls in le=3, 40 s in le=60; cumulative */
        ck_assert_double_eq(value_of(text, DUR("_bucket", ",le=\"2\"")), 0);
        ck_assert_double_eq(value_of(text, DUR("_bucket", ",le=\"3\"")), 1);
        ck_assert_double_eq(value_of(text, DUR("_bucket", ",le=\"30\"")), 1);
        ck_assert_double_eq(value_of(text, DUR("_bucket", ",le=\"60\"")), 2);
        ck_assert_double_eq(value_of(text, DUR("_bucket", ",le=\"+Inf\"")), 2);
        ck_assert_double_eq(value_of(text, DUR("_sum", "")), 42.5);
        ck_assert_double_eq(value_of(text, DUR("_count", "")), 2);
        ck_assert_double_eq(
                value_of(text, "codegen_tokens_total{contract="
                               "\"codegen_metrics\",node_type=\"effect\"}"),
                200);
        ck_assert_double_eq(
                value_of(text, "codegen_cost_usd_total{contract="
                               "\"codegen_metrics\",node_type=\"effect\"}"),
                0.5);
        /* transitions: two completions accepted, one failure accepted */
        ck_assert_double_eq(
                value_of(text, "workflow_state_transitions_total{contract="
                               "\"codegen_metrics\",to_state=\"failed\","
                               "result=\"accepted\"}"),
                1);
        /* the completions were refused: no validation happened first */
        ck_assert_double_eq(
                value_of(text, "workflow_state_transitions_total{contract="
                               "\"codegen_metrics\",to_state=\"completed\","
                               "result=\"invalid_transition\"}"),
                2);
        /* the gauges are not known yet: not exported */
        ck_assert_ptr_null(strstr(text, "workflow_state_count"));
        free(text);

        /* a rolled-back batch counts nothing */
        completed(&f, WF1, 1, 0.9, "2025-11-06T10:00:20Z");
        batch(&f, false);
        text = render(c, red_core_metrics(f.core));
        ck_assert_double_eq(value_of(text, DUR("_count", "")), 2);
        free(text);
        feed_fini(&f);
        red_contract_destroy(c);
}
END_TEST

START_TEST(state_gauges)
{
        red_contract_t *c = test_contract(CODEGEN);
        int64_t counts[6] = {3, 1, 0, 2, 10, 4}; /* in the contract's order */
        double *vals = calloc(c->metric_values, sizeof(*vals));
        char *text;

        red_dmetrics_set_states(c, vals, counts);
        text = render(c, vals);
        ck_assert_double_eq(value_of(text, "workflow_state_count{contract="
                                           "\"codegen_metrics\",state="
                                           "\"pending\"}"),
                            3);
        ck_assert_double_eq(value_of(text, "workflow_state_count{contract="
                                           "\"codegen_metrics\",state="
                                           "\"completed\"}"),
                            10);
        ck_assert_double_eq(
                value_of(
                        text,
                        "active_workflows_count{contract=\"codegen_metrics\"}"),
                6);
        free(text);
        free(vals);
        red_contract_destroy(c);
}
END_TEST

/* The whole exposition, every series at zero and after some events, is
 * valid Prometheus text. */
START_TEST(promtool_accepts_the_text)
{
        red_contract_t *c = test_contract(CODEGEN);
        int64_t counts[6] = {1, 2, 3, 4, 5, 6};
        double *vals = calloc(c->metric_values, sizeof(*vals));
        char *dir = test_tmpdir(), path[4096], *text, *out, *err;
        const char *argv[] = {"/bin/sh", "-c", NULL, NULL};
        char cmd[8192];
        int rc;

        if (access("/usr/bin/promtool", X_OK)) {
                ck_abort_msg("promtool is missing (Debian package prometheus; "
                             "./dev installs it)");
        }
        red_dmetrics_set_states(c, vals, counts);
        text = render(c, vals);
        snprintf(path, sizeof(path), "%s/metrics.txt", dir);
        test_write_file(path, text, strlen(text));
        snprintf(cmd, sizeof(cmd), "promtool check metrics < '%s'", path);
        argv[2] = cmd;
        rc = test_run(argv, NULL, &out, &err);
        /* a parse error exits 1; lint problems exit 3, one line each. The
         * only one allowed: seed 001 names two gauges ..._count, a suffix
         * the linter keeps for histograms */
        ck_assert_msg(rc == 0 || rc == 3,
                      "promtool check metrics: exit %d: %s%s", rc, out, err);
        for (char *save = NULL, *l = strtok_r(err, "\n", &save); l;
             l = strtok_r(NULL, "\n", &save)) {
                ck_assert_msg((!strncmp(l, "workflow_state_count ", 21) ||
                               !strncmp(l, "active_workflows_count ", 23)) &&
                                      strstr(l, "should not have \"_count\" "
                                                "suffix"),
                              "promtool check metrics: %s", l);
        }
        free(out);
        free(err);
        free(text);
        free(vals);
        free(dir);
        red_contract_destroy(c);
}
END_TEST

START_TEST(names_clash)
{
        red_metric_t h = {.name = "job_seconds", .type = RED_METRIC_HISTOGRAM},
                     g = {.name = "job_seconds_count",
                          .type = RED_METRIC_GAUGE},
                     k = {.name = "job_seconds_total",
                          .type = RED_METRIC_COUNTER},
                     same = {.name = "job_seconds", .type = RED_METRIC_GAUGE};

        ck_assert(red_contract_metric_names_clash(&h, &g));
        ck_assert(red_contract_metric_names_clash(&g, &h));
        ck_assert(red_contract_metric_names_clash(&h, &same));
        ck_assert(!red_contract_metric_names_clash(&h, &k));
        ck_assert(!red_contract_metric_names_clash(&g, &k));
}
END_TEST

/* Two contracts must not export the same series. */
START_TEST(set_refuses_a_metric_twice)
{
        red_contract_set_t set = {0};
        char err[2048], *dir = test_tmpdir(), path[4096];
        char *text = test_read_file(test_path(CODEGEN), NULL);
        char *copy;
        size_t len;

        /* the same contract under another name, group and tables */
        ck_assert_int_ge(asprintf(&copy, "%s", text), 0);
        for (char *p; (p = strstr(copy, "codegen_metrics"));) {
                memcpy(p, "codegen_metricz", 15);
        }
        for (char *p; (p = strstr(copy, "workflow_state_"));) {
                memcpy(p, "workflow_statx_", 15);
        }
        len = strlen(copy);
        snprintf(path, sizeof(path), "%s/twin.yaml", dir);
        test_write_file(path, copy, len);
        ck_assert_int_eq(red_contract_set_add(&set, test_path(CODEGEN), err,
                                              sizeof(err)),
                         0);
        ck_assert_int_ne(red_contract_set_add(&set, path, err, sizeof(err)), 0);
        ck_assert_msg(strstr(err, "metric codegen_generations_total clashes "
                                  "with codegen_generations_total of") != NULL,
                      "%s", err);
        red_contract_set_destroy(&set);
        free(copy);
        free(text);
        free(dir);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("dmetrics");
        TCase *tc = tcase_create("dmetrics");

        tcase_add_test(tc, codegen_declares_seed_series);
        tcase_add_test(tc, events_count_when_the_batch_commits);
        tcase_add_test(tc, state_gauges);
        tcase_add_test(tc, promtool_accepts_the_text);
        tcase_add_test(tc, names_clash);
        tcase_add_test(tc, set_refuses_a_metric_twice);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        return test_main(suite());
}
