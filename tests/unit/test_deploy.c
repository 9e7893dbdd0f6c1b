/*
 * Tests for the deploy kit (deploy/): what can be checked without a Docker
 * engine or a Kubernetes cluster. Every YAML file parses; the Grafana
 * dashboard queries exactly the series of deploy/METRICS.md; the Dockerfile,
 * the compose file and the manifests point at files that exist and agree
 * with each other; the generated ConfigMaps hold the current contracts; the
 * container config is accepted by `reducerd check`; the systemd unit
 * verifies (when systemd-analyze is installed).
 */
#include "red_test.h"
#include "red_yaml.h"

#include <ctype.h>
#include <dirent.h>
#include <fnmatch.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* helpers                                                             */
/* ------------------------------------------------------------------ */

static bool exists(const char *rel)
{
        struct stat st;

        return stat(test_path(rel), &st) == 0;
}

static red_yaml_doc_t *load_yaml(const char *rel)
{
        char err[1024];
        red_yaml_doc_t *doc =
                red_yaml_load_file(test_path(rel), err, sizeof(err));

        ck_assert_msg(doc != NULL, "%s", err);
        ck_assert_msg(red_yaml_doc_root(doc) != NULL, "%s: empty document",
                      rel);
        return doc;
}

/* Walks "a/b/0/c": map keys, or list indexes when the node is a list. */
static const red_yaml_node_t *ypath(const red_yaml_node_t *n, const char *path)
{
        char buf[512], *save = NULL, *seg;

        snprintf(buf, sizeof(buf), "%s", path);
        for (seg = strtok_r(buf, "/", &save); n && seg;
             seg = strtok_r(NULL, "/", &save)) {
                if (red_yaml_kind(n) == RED_YAML_SEQ &&
                    isdigit((unsigned char)seg[0])) {
                        size_t i = strtoul(seg, NULL, 10);
                        n = i < red_yaml_size(n) ? red_yaml_item(n, i) : NULL;
                } else {
                        n = red_yaml_get(n, seg);
                }
        }
        return n;
}

/* Scalar text at @p path, or NULL. */
static const char *ystr(const red_yaml_node_t *n, const char *path)
{
        n = ypath(n, path);
        return n && red_yaml_kind(n) == RED_YAML_SCALAR ? red_yaml_str(n)
                                                        : NULL;
}

/* All scalars of a scalar or a list, joined by spaces (malloc'd). */
static char *yjoin(const red_yaml_node_t *n)
{
        size_t cap = 1;
        char *out;

        if (!n) {
                return strdup("");
        }
        if (red_yaml_kind(n) == RED_YAML_SCALAR) {
                return strdup(red_yaml_str(n));
        }
        for (size_t i = 0; i < red_yaml_size(n); i++) {
                const char *s = red_yaml_str(red_yaml_item(n, i));
                cap += (s ? strlen(s) : 0) + 1;
        }
        out = calloc(1, cap);
        ck_assert_ptr_nonnull(out);
        for (size_t i = 0; i < red_yaml_size(n); i++) {
                const char *s = red_yaml_str(red_yaml_item(n, i));
                if (s) {
                        if (*out) {
                                strcat(out, " ");
                        }
                        strcat(out, s);
                }
        }
        return out;
}

/* @p word occurs in @p text with no name character on either side. */
static bool has_word(const char *text, const char *word)
{
        size_t len = strlen(word);

        for (const char *p = strstr(text, word); p; p = strstr(p + 1, word)) {
                char before = p == text ? ' ' : p[-1];
                char after = p[len];
                if (!isalnum((unsigned char)before) && !strchr("._-", before) &&
                    (!after || (!isalnum((unsigned char)after) &&
                                !strchr("._-", after)))) {
                        return true;
                }
        }
        return false;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.yaml files the contract loader takes from contracts/, sorted. */
static size_t contract_files(char ***filesp)
{
        DIR *d = opendir(test_path("contracts"));
        struct dirent *de;
        char **files = NULL;
        size_t cnt = 0;

        ck_assert_ptr_nonnull(d);
        while ((de = readdir(d))) {
                size_t len = strlen(de->d_name);
                if (len < 6 || de->d_name[0] == '.' ||
                    strcmp(de->d_name + len - 5, ".yaml")) {
                        continue;
                }
                files = realloc(files, (cnt + 1) * sizeof(*files));
                ck_assert_ptr_nonnull(files);
                files[cnt++] = strdup(de->d_name);
        }
        closedir(d);
        qsort(files, cnt, sizeof(*files), cmp_str);
        ck_assert_msg(cnt > 0, "no contracts/*.yaml");
        *filesp = files;
        return cnt;
}

static void free_strs(char **v, size_t cnt)
{
        for (size_t i = 0; i < cnt; i++) {
                free(v[i]);
        }
        free(v);
}

/* Runs a shell command line; returns its status, output in *outp. */
static int sh(const char *cmd, char **outp, char **errp)
{
        const char *argv[] = {"/bin/sh", "-c", cmd, NULL};

        return test_run(argv, NULL, outp, errp);
}

/* The path of @p prog, or NULL when it is not installed (malloc'd). */
static char *which(const char *prog)
{
        char cmd[256], *out = NULL;
        int rc;

        snprintf(cmd, sizeof(cmd), "command -v %s", prog);
        rc = sh(cmd, &out, NULL);
        out[strcspn(out, "\n")] = '\0';
        if (rc != 0 || !*out) {
                free(out);
                return NULL;
        }
        return out;
}

static char *abs_srcdir(void)
{
        char *p = realpath(test_srcdir(), NULL);

        ck_assert_ptr_nonnull(p);
        return p;
}

static void rm_tree(const char *dir)
{
        char cmd[4200];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        ck_assert_int_eq(sh(cmd, NULL, NULL), 0);
}

/* ------------------------------------------------------------------ */
/* the kit is complete and every YAML file parses                      */
/* ------------------------------------------------------------------ */

START_TEST(kit_complete)
{
        static const char *const files[] = {
                "deploy/Dockerfile",
                "deploy/Dockerfile.dockerignore",
                "deploy/reducerd.yaml",
                "deploy/compose.yaml",
                "deploy/kubernetes/kustomization.yaml",
                "deploy/kubernetes/deployment.yaml",
                "deploy/kubernetes/migrate-job.yaml",
                "deploy/kubernetes/service.yaml",
                "deploy/kubernetes/configmap-env.yaml",
                "deploy/kubernetes/configmap-config.yaml",
                "deploy/kubernetes/configmap-contracts.yaml",
                "deploy/kubernetes/make-configmap.sh",
                "deploy/systemd/reducerd.service",
                "deploy/grafana/reducerd-dashboard.json",
                "deploy/alertmanager/alertmanager.yml",
                "deploy/kubernetes/configmap-alertmanager.yaml",
                "deploy/kubernetes/alertmanager-statefulset.yaml",
                "deploy/kubernetes/alertmanager-service.yaml",
                "deploy/kubernetes/etcd-statefulset.yaml",
                "deploy/kubernetes/etcd-service.yaml",
                "deploy/grafana/codegen-dashboard.json",
                "deploy/grafana/agent-metrics-dashboard.json",
                "deploy/grafana/reader.sql",
                "deploy/grafana/provisioning/datasources/reducerd.yaml",
                "deploy/grafana/provisioning/dashboards/reducerd.yaml",
                "deploy/prometheus/prometheus.yml",
                "deploy/prometheus/reducerd-rules.yaml",
                "deploy/prometheus/reducerd-rules.test.yaml",
                "deploy/METRICS.md",
                "deploy/README.md",
                NULL};

        for (const char *const *f = files; *f; f++) {
                ck_assert_msg(exists(*f), "%s is missing", *f);
        }
}
END_TEST

static void parse_yaml_under(const char *rel, int *cnt)
{
        DIR *d = opendir(test_path(rel));
        struct dirent *de;

        ck_assert_msg(d != NULL, "cannot open %s", rel);
        while ((de = readdir(d))) {
                char sub[1024];
                size_t len = strlen(de->d_name);
                struct stat st;

                if (de->d_name[0] == '.') {
                        continue;
                }
                snprintf(sub, sizeof(sub), "%s/%s", rel, de->d_name);
                ck_assert_int_eq(stat(test_path(sub), &st), 0);
                if (S_ISDIR(st.st_mode)) {
                        parse_yaml_under(sub, cnt);
                } else if ((len > 5 &&
                            !strcmp(de->d_name + len - 5, ".yaml")) ||
                           (len > 4 && !strcmp(de->d_name + len - 4, ".yml"))) {
                        red_yaml_doc_destroy(load_yaml(sub));
                        (*cnt)++;
                }
        }
        closedir(d);
}

START_TEST(yaml_files_parse)
{
        int cnt = 0;

        parse_yaml_under("deploy", &cnt);
        /* compose, reducerd.yaml and at least the 7 manifests */
        ck_assert_msg(cnt >= 9, "only %d YAML files under deploy/", cnt);
}
END_TEST

/* ------------------------------------------------------------------ */
/* deploy/METRICS.md and the dashboard                                 */
/* ------------------------------------------------------------------ */

typedef struct {
        char name[96];
        char type[16];
        char labels[8][32];
        int label_cnt;
        bool used;
} series_t;

#define MAX_SERIES 64

static int load_series(series_t *s)
{
        char *md = test_read_file(test_path("deploy/METRICS.md"), NULL);
        char *save = NULL;
        int cnt = 0;

        for (char *line = strtok_r(md, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
                char *col[5] = {0}, *p = line, *q, row[512];
                int c = 0;

                if (strncmp(line, "| `reducerd_", 12)) {
                        continue;
                }
                snprintf(row, sizeof(row), "%s", line);
                ck_assert_int_lt(cnt, MAX_SERIES);
                /* | name | type | labels | meaning | */
                while (c < 5 && (q = strchr(p, '|'))) {
                        *q = '\0';
                        col[c++] = q + 1;
                        p = q + 1;
                }
                ck_assert_msg(c >= 4, "METRICS.md: malformed row: %s", row);
                memset(&s[cnt], 0, sizeof(s[cnt]));
                sscanf(col[0], " `%95[a-z0-9_:]`", s[cnt].name);
                sscanf(col[1], " %15[a-z]", s[cnt].type);
                ck_assert_msg(*s[cnt].name && *s[cnt].type,
                              "METRICS.md: cannot read row %s", row);
                for (char *save2 = NULL, *l = strtok_r(col[2], ",", &save2); l;
                     l = strtok_r(NULL, ",", &save2)) {
                        char label[32] = "";
                        if (sscanf(l, " `%31[a-z_]`", label) != 1) {
                                sscanf(l, " %31[a-z_]", label);
                        }
                        if (*label) {
                                ck_assert_int_lt(s[cnt].label_cnt, 8);
                                strcpy(s[cnt].labels[s[cnt].label_cnt++],
                                       label);
                        }
                }
                cnt++;
        }
        free(md);
        ck_assert_msg(cnt >= 10, "METRICS.md lists only %d series", cnt);
        return cnt;
}

static series_t *find_series(series_t *s, int cnt, const char *name,
                             bool *bucketp)
{
        static const char *const parts[] = {"_bucket", "_sum", "_count", NULL};
        size_t len = strlen(name);

        *bucketp = false;
        for (int i = 0; i < cnt; i++) {
                if (!strcmp(s[i].name, name)) {
                        return &s[i];
                }
        }
        for (const char *const *p = parts; *p; p++) {
                size_t pl = strlen(*p);
                if (len <= pl || strcmp(name + len - pl, *p)) {
                        continue;
                }
                for (int i = 0; i < cnt; i++) {
                        if (strlen(s[i].name) == len - pl &&
                            !strncmp(s[i].name, name, len - pl) &&
                            !strcmp(s[i].type, "histogram")) {
                                *bucketp = !strcmp(*p, "_bucket");
                                return &s[i];
                        }
                }
        }
        return NULL;
}

static bool in_list(const char *const *list, const char *w)
{
        for (; *list; list++) {
                if (!strcmp(*list, w)) {
                        return true;
                }
        }
        return false;
}

/* clang-format off */
static const char *const promql_functions[] = {
        "abs", "absent", "absent_over_time", "avg", "avg_over_time",
        "bottomk", "ceil", "changes", "clamp", "clamp_max", "clamp_min",
        "count", "count_over_time", "count_values", "day_of_month",
        "day_of_week", "day_of_year", "days_in_month", "delta", "deriv",
        "exp", "floor", "group", "histogram_quantile", "hour", "idelta",
        "increase", "irate", "label_join", "label_replace", "last_over_time",
        "ln", "log10", "log2", "max", "max_over_time", "min", "min_over_time",
        "minute", "month", "predict_linear", "present_over_time", "quantile",
        "quantile_over_time", "rate", "resets", "round", "scalar", "sgn",
        "sort", "sort_desc", "sqrt", "stddev", "stddev_over_time", "stdvar",
        "stdvar_over_time", "sum", "sum_over_time", "time", "timestamp",
        "topk", "vector", "year", NULL};
static const char *const promql_operators[] = {"and", "or", "unless", "bool",
                                               "offset", "atan2", NULL};
static const char *const promql_grouping[] = {"by",        "without",
                                              "on",        "ignoring",
                                              "group_left", "group_right",
                                              NULL};
/* clang-format on */
/* added by Prometheus to every scraped series */
static const char *const target_labels[] = {"instance", "job", NULL};

static bool ident_start(char c)
{
        return isalpha((unsigned char)c) || c == '_' || c == ':';
}

static bool ident_char(char c)
{
        return isalnum((unsigned char)c) || c == '_' || c == ':';
}

static size_t read_ident(const char *s, size_t i, char *out, size_t size)
{
        size_t n = 0;

        while (ident_char(s[i])) {
                if (n + 1 < size) {
                        out[n++] = s[i];
                }
                i++;
        }
        out[n] = '\0';
        return i;
}

static size_t skip_quoted(const char *s, size_t i)
{
        char q = s[i++];

        while (s[i] && s[i] != q) {
                if (s[i] == '\\' && s[i + 1]) {
                        i++;
                }
                i++;
        }
        return s[i] ? i + 1 : i;
}

static void add_label(char labels[32][128], int *cnt, const char *id)
{
        if (*cnt < 32) {
                snprintf(labels[(*cnt)++], 128, "%s", id);
        }
}

/*
 * Checks one PromQL expression: every metric name is a series of
 * METRICS.md (histograms through _bucket/_sum/_count), every function is a
 * PromQL function, every label in a matcher or a by/without/on clause
 * belongs to a series used (or is a target label, or le of a histogram).
 * Marks the series used. Fills @p err and returns false otherwise.
 */
static bool check_promql(series_t *s, int cnt, const char *e, char *err,
                         size_t size)
{
        char labels[32][128], id[128];
        series_t *refs[32];
        int label_cnt = 0, ref_cnt = 0;
        bool bucket = false;
        size_t i = 0;

        while (e[i]) {
                char c = e[i];

                if (c == '"' || c == '\'' || c == '`') {
                        i = skip_quoted(e, i);
                } else if (c == '$') {
                        i++;
                        if (e[i] == '{') {
                                while (e[i] && e[i] != '}') {
                                        i++;
                                }
                                i += e[i] ? 1 : 0;
                        } else {
                                i = read_ident(e, i, id, sizeof(id));
                        }
                } else if (c == '[') {
                        while (e[i] && e[i] != ']') {
                                i++;
                        }
                        i += e[i] ? 1 : 0;
                } else if (c == '{') {
                        /* matchers: label op "value", ... */
                        i++;
                        while (e[i] && e[i] != '}') {
                                if (e[i] == '"' || e[i] == '\'' ||
                                    e[i] == '`') {
                                        i = skip_quoted(e, i);
                                } else if (ident_start(e[i])) {
                                        i = read_ident(e, i, id, sizeof(id));
                                        add_label(labels, &label_cnt, id);
                                } else {
                                        i++;
                                }
                        }
                        i += e[i] ? 1 : 0;
                } else if (isdigit((unsigned char)c) ||
                           (c == '.' && isdigit((unsigned char)e[i + 1]))) {
                        /* numbers and durations: 0.99, 5m, 1e3 */
                        while (isalnum((unsigned char)e[i]) || e[i] == '.') {
                                i++;
                        }
                } else if (ident_start(c)) {
                        size_t j;

                        i = read_ident(e, i, id, sizeof(id));
                        for (j = i; e[j] == ' ' || e[j] == '\t' || e[j] == '\n';
                             j++) {
                        }
                        if (in_list(promql_grouping, id)) {
                                if (e[j] != '(') {
                                        continue;
                                }
                                for (i = j + 1; e[i] && e[i] != ')';) {
                                        if (ident_start(e[i])) {
                                                i = read_ident(e, i, id,
                                                               sizeof(id));
                                                add_label(labels, &label_cnt,
                                                          id);
                                        } else {
                                                i++;
                                        }
                                }
                                i += e[i] ? 1 : 0;
                        } else if (in_list(promql_operators, id) ||
                                   in_list(promql_functions, id)) {
                                /* aggregations may be followed by by/without
                                 * before their parenthesis */
                                continue;
                        } else if (e[j] == '(') {
                                snprintf(err, size,
                                         "unknown PromQL function %s()", id);
                                return false;
                        } else {
                                bool b;
                                series_t *sr = find_series(s, cnt, id, &b);
                                if (!sr) {
                                        snprintf(err, size,
                                                 "series %s is not in "
                                                 "deploy/METRICS.md",
                                                 id);
                                        return false;
                                }
                                bucket |= b;
                                if (ref_cnt < 32) {
                                        refs[ref_cnt++] = sr;
                                }
                        }
                } else {
                        i++;
                }
        }
        if (!ref_cnt) {
                snprintf(err, size, "no reducerd series");
                return false;
        }
        for (int l = 0; l < label_cnt; l++) {
                bool ok = in_list(target_labels, labels[l]) ||
                          (bucket && !strcmp(labels[l], "le"));
                for (int r = 0; r < ref_cnt && !ok; r++) {
                        for (int k = 0; k < refs[r]->label_cnt && !ok; k++) {
                                ok = !strcmp(refs[r]->labels[k], labels[l]);
                        }
                }
                if (!ok) {
                        snprintf(err, size,
                                 "label %.100s is not a label of the series "
                                 "used (deploy/METRICS.md)",
                                 labels[l]);
                        return false;
                }
        }
        for (int r = 0; r < ref_cnt; r++) {
                refs[r]->used = true;
        }
        return true;
}

/* Collects every "expr" string of the panels (recursively). */
static void collect_exprs(json_t *j, const char **exprs, int *cnt, int max)
{
        const char *key;
        json_t *v;
        size_t i;

        if (json_is_object(j)) {
                json_object_foreach(j, key, v)
                {
                        if (!strcmp(key, "expr") && json_is_string(v)) {
                                ck_assert_int_lt(*cnt, max);
                                exprs[(*cnt)++] = json_string_value(v);
                        } else if (strcmp(key, "templating")) {
                                collect_exprs(v, exprs, cnt, max);
                        }
                }
        } else if (json_is_array(j)) {
                json_array_foreach(j, i, v)
                {
                        collect_exprs(v, exprs, cnt, max);
                }
        }
}

static json_t *load_dashboard(void)
{
        json_error_t jerr;
        json_t *d = json_load_file(
                test_path("deploy/grafana/reducerd-dashboard.json"), 0, &jerr);

        ck_assert_msg(d != NULL, "reducerd-dashboard.json:%d:%d: %s", jerr.line,
                      jerr.column, jerr.text);
        ck_assert_msg(json_is_array(json_object_get(d, "panels")),
                      "reducerd-dashboard.json: no panels");
        return d;
}

/* Template variable queries: label_values(series, label). */
static void check_template_queries(json_t *d, series_t *s, int cnt)
{
        json_t *list =
                json_object_get(json_object_get(d, "templating"), "list");
        json_t *v;
        size_t i;

        json_array_foreach(list, i, v)
        {
                json_t *q = json_object_get(v, "query");
                const char *text,
                        *type = json_string_value(json_object_get(v, "type"));
                char metric[128] = "", label[64] = "";
                series_t *sr;
                bool b, ok;

                if (!type || strcmp(type, "query")) {
                        continue;
                }
                text = json_is_string(q)
                               ? json_string_value(q)
                               : json_string_value(json_object_get(q, "query"));
                ck_assert_msg(text != NULL, "template variable without query");
                ck_assert_msg(sscanf(text,
                                     "label_values(%127[a-z0-9_:], "
                                     "%63[a-z_])",
                                     metric, label) == 2,
                              "template query is not "
                              "label_values(series, label): %s",
                              text);
                sr = find_series(s, cnt, metric, &b);
                ck_assert_msg(sr != NULL,
                              "template query: %s is not in "
                              "deploy/METRICS.md",
                              metric);
                ok = in_list(target_labels, label);
                for (int k = 0; k < sr->label_cnt && !ok; k++) {
                        ok = !strcmp(sr->labels[k], label);
                }
                ck_assert_msg(ok, "template query: %s has no label %s", metric,
                              label);
        }
}

START_TEST(dashboard_uses_only_listed_series)
{
        series_t s[MAX_SERIES];
        const char *exprs[256];
        int cnt = load_series(s), ecnt = 0;
        json_t *d = load_dashboard();
        char err[2048];

        collect_exprs(json_object_get(d, "panels"), exprs, &ecnt, 256);
        ck_assert_msg(ecnt >= 10, "the dashboard has only %d queries", ecnt);
        for (int i = 0; i < ecnt; i++) {
                ck_assert_msg(check_promql(s, cnt, exprs[i], err, sizeof(err)),
                              "reducerd-dashboard.json: %s, in: %s", err,
                              exprs[i]);
        }
        check_template_queries(d, s, cnt);
        json_decref(d);
}
END_TEST

START_TEST(dashboard_shows_every_series)
{
        series_t s[MAX_SERIES];
        const char *exprs[256];
        int cnt = load_series(s), ecnt = 0;
        json_t *d = load_dashboard();
        char err[2048];

        collect_exprs(json_object_get(d, "panels"), exprs, &ecnt, 256);
        for (int i = 0; i < ecnt; i++) {
                check_promql(s, cnt, exprs[i], err, sizeof(err));
        }
        for (int i = 0; i < cnt; i++) {
                ck_assert_msg(s[i].used,
                              "%s (deploy/METRICS.md) is on no panel of "
                              "reducerd-dashboard.json",
                              s[i].name);
        }
        json_decref(d);
}
END_TEST

/* The checker itself: it must reject what the tests above rely on. */
START_TEST(promql_checker_rejects)
{
        series_t s[MAX_SERIES];
        int cnt = load_series(s);
        char err[2048];
        static const char *const bad[] = {
                "rate(reducerd_events_consumed[5m])",
                "sum by (reason) (rate(reducerd_events_applied_total[5m]))",
                "reducerd_batches_total_bucket",
                "histogram_quantile(0.5, rate(reducerd_batch_commit_seconds_"
                "bucket{shard=\"1\"}[5m]))",
                "frobnicate(reducerd_outbox_depth)",
                "up{job=\"reducerd\"}",
                "sum(rate(node_cpu_seconds_total[5m]))",
                "1 + 1",
                NULL};
        static const char *const good[] = {
                "histogram_quantile(0.99, sum by (le, contract) "
                "(rate(reducerd_batch_commit_seconds_bucket{contract=~\"$c\"}"
                "[$__rate_interval])))",
                "sum by (reason) (rate(reducerd_events_dead_lettered_total"
                "[5m] offset 1h))",
                "max(reducerd_outbox_depth{instance=~\"$instance\"})", NULL};

        for (const char *const *b = bad; *b; b++) {
                ck_assert_msg(!check_promql(s, cnt, *b, err, sizeof(err)),
                              "accepted: %s", *b);
        }
        for (const char *const *g = good; *g; g++) {
                ck_assert_msg(check_promql(s, cnt, *g, err, sizeof(err)), "%s",
                              err);
        }
}
END_TEST

/* ------------------------------------------------------------------ */
/* Dockerfile                                                          */
/* ------------------------------------------------------------------ */

typedef struct {
        char *kw[128];   /* upper-case instruction */
        char *args[128]; /* the rest, continuation lines joined */
        int stage[128];  /* 0-based stage of each instruction */
        int cnt;
        int stages;
} dockerfile_t;

static void dockerfile_load(dockerfile_t *df)
{
        char *text = test_read_file(test_path("deploy/Dockerfile"), NULL);
        char *save = NULL, *acc = NULL;
        size_t acc_len = 0;

        memset(df, 0, sizeof(*df));
        for (char *line = strtok_r(text, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
                size_t len = strlen(line);
                bool cont;
                char *p = line;

                while (*p == ' ' || *p == '\t') {
                        p++;
                }
                if (*p == '#' || !*p) {
                        continue;
                }
                cont = len && line[len - 1] == '\\';
                if (cont) {
                        line[--len] = '\0';
                }
                acc = realloc(acc, acc_len + len + 2);
                ck_assert_ptr_nonnull(acc);
                memcpy(acc + acc_len, line, len);
                acc_len += len;
                acc[acc_len++] = ' ';
                acc[acc_len] = '\0';
                if (cont) {
                        continue;
                }
                {
                        char *a = acc, *kw;
                        while (isspace((unsigned char)*a)) {
                                a++;
                        }
                        kw = a;
                        while (*a && !isspace((unsigned char)*a)) {
                                *a = (char)toupper((unsigned char)*a);
                                a++;
                        }
                        ck_assert_int_lt(df->cnt, 128);
                        df->kw[df->cnt] = strndup(kw, (size_t)(a - kw));
                        while (isspace((unsigned char)*a)) {
                                a++;
                        }
                        df->args[df->cnt] = strdup(a);
                        /* trim the trailing blank */
                        len = strlen(df->args[df->cnt]);
                        while (len &&
                               isspace((unsigned char)
                                               df->args[df->cnt][len - 1])) {
                                df->args[df->cnt][--len] = '\0';
                        }
                        if (!strcmp(df->kw[df->cnt], "FROM")) {
                                df->stages++;
                        }
                        df->stage[df->cnt] = df->stages - 1;
                        df->cnt++;
                }
                free(acc);
                acc = NULL;
                acc_len = 0;
        }
        free(acc);
        free(text);
}

static void dockerfile_free(dockerfile_t *df)
{
        for (int i = 0; i < df->cnt; i++) {
                free(df->kw[i]);
                free(df->args[i]);
        }
}

/* Splits on blanks; returns the count. Modifies @p s. */
static int split_words(char *s, char **w, int max)
{
        int n = 0;
        char *save = NULL;

        for (char *t = strtok_r(s, " \t", &save); t && n < max;
             t = strtok_r(NULL, " \t", &save)) {
                w[n++] = t;
        }
        return n;
}

/* Dockerfile.dockerignore: last matching pattern wins; a pattern matches
 * the path or any of its parent directories. */
static bool docker_ignored(const char *path)
{
        char *text = test_read_file(test_path("deploy/Dockerfile.dockerignore"),
                                    NULL);
        char *save = NULL, norm[1024];
        bool ignored = false;

        snprintf(norm, sizeof(norm), "%s",
                 strncmp(path, "./", 2) ? path : path + 2);
        while (*norm && norm[strlen(norm) - 1] == '/') {
                norm[strlen(norm) - 1] = '\0';
        }
        for (char *line = strtok_r(text, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
                bool neg = false;
                char pat[1024], prefix[1024];
                size_t len;

                while (isspace((unsigned char)*line)) {
                        line++;
                }
                if (!*line || *line == '#') {
                        continue;
                }
                if (*line == '!') {
                        neg = true;
                        line++;
                }
                snprintf(pat, sizeof(pat), "%s", line + (*line == '/'));
                len = strlen(pat);
                while (len && (pat[len - 1] == '/' ||
                               isspace((unsigned char)pat[len - 1]))) {
                        pat[--len] = '\0';
                }
                snprintf(prefix, sizeof(prefix), "%s", norm);
                for (;;) {
                        char *slash;
                        if (!fnmatch(pat, prefix, FNM_PATHNAME)) {
                                ignored = !neg;
                                break;
                        }
                        if (!(slash = strrchr(prefix, '/'))) {
                                break;
                        }
                        *slash = '\0';
                }
        }
        free(text);
        return ignored;
}

/* Resolves ${NAME} from the ARG defaults before the first FROM. */
static void resolve_arg(const dockerfile_t *df, const char *in, char *out,
                        size_t size)
{
        char name[128];

        if (sscanf(in, "${%127[A-Za-z0-9_]}", name) == 1) {
                size_t nl = strlen(name);
                for (int i = 0; i < df->cnt; i++) {
                        if (!strcmp(df->kw[i], "ARG") &&
                            !strncmp(df->args[i], name, nl) &&
                            df->args[i][nl] == '=') {
                                snprintf(out, size, "%s", df->args[i] + nl + 1);
                                return;
                        }
                }
        }
        snprintf(out, size, "%s", in);
}

/* The packages of the apt-get install commands of @p stage. */
static void stage_packages(const dockerfile_t *df, int stage, char *out,
                           size_t size)
{
        *out = '\0';
        for (int i = 0; i < df->cnt; i++) {
                char *copy, *w[128], *inst;
                int n;

                if (df->stage[i] != stage || strcmp(df->kw[i], "RUN") ||
                    !(inst = strstr(df->args[i], "apt-get install"))) {
                        continue;
                }
                copy = strdup(inst + strlen("apt-get install"));
                n = split_words(copy, w, 128);
                for (int k = 0; k < n && strcmp(w[k], "&&"); k++) {
                        if (w[k][0] != '-') {
                                strncat(out, " ", size - strlen(out) - 1);
                                strncat(out, w[k], size - strlen(out) - 1);
                        }
                }
                free(copy);
        }
        strncat(out, " ", size - strlen(out) - 1);
}

START_TEST(dockerfile_consistent)
{
        dockerfile_t df;
        char from[256], pkgs[4096], word[128];
        bool has_cmd_config = false, has_bin = false, expose = false,
             health = false, user = false, entry = false, cmd = false,
             build = false;
        int copies = 0, last;
        static const char *const build_pkgs[] = {"gcc",
                                                 "meson",
                                                 "ninja-build",
                                                 "pkg-config",
                                                 "librdkafka-dev",
                                                 "libpq-dev",
                                                 "libjansson-dev",
                                                 "libyaml-dev",
                                                 "libmicrohttpd-dev",
                                                 "check",
                                                 NULL};
        static const char *const runtime_pkgs[] = {
                "librdkafka1", "libpq5",          "libjansson4",
                "libyaml-0-2", "libmicrohttpd12", "ca-certificates",
                NULL};

        dockerfile_load(&df);
        ck_assert_msg(df.stages >= 2, "deploy/Dockerfile: not multi-stage");
        last = df.stages - 1;
        for (int i = 0; i < df.cnt; i++) {
                char *copy, *w[64];
                int n;

                if (!strcmp(df.kw[i], "FROM")) {
                        copy = strdup(df.args[i]);
                        n = split_words(copy, w, 64);
                        ck_assert_int_ge(n, 1);
                        resolve_arg(&df, w[0], from, sizeof(from));
                        ck_assert_msg(!strcmp(from, "debian:bookworm-slim"),
                                      "deploy/Dockerfile: FROM %s, want "
                                      "debian:bookworm-slim",
                                      from);
                        free(copy);
                } else if (!strcmp(df.kw[i], "COPY") ||
                           !strcmp(df.kw[i], "ADD")) {
                        bool from_stage = false;
                        int first = 0;

                        ck_assert_msg(df.args[i][0] != '[',
                                      "deploy/Dockerfile: use the plain "
                                      "form of COPY: %s",
                                      df.args[i]);
                        copy = strdup(df.args[i]);
                        n = split_words(copy, w, 64);
                        while (first < n && !strncmp(w[first], "--", 2)) {
                                from_stage |= !strncmp(w[first], "--from=", 7);
                                first++;
                        }
                        ck_assert_msg(n - first >= 2,
                                      "deploy/Dockerfile: COPY %s", df.args[i]);
                        if (!strcmp(w[n - 1], "/etc/reducerd/reducerd.yaml")) {
                                has_cmd_config = true;
                        }
                        if (!strcmp(w[n - 1], "/usr/local/bin/reducerd")) {
                                has_bin = true;
                        }
                        for (int k = first; k < n - 1 && !from_stage; k++) {
                                ck_assert_msg(exists(w[k]),
                                              "deploy/Dockerfile: COPY "
                                              "source %s does not exist in "
                                              "the repository",
                                              w[k]);
                                ck_assert_msg(!docker_ignored(w[k]),
                                              "deploy/Dockerfile: COPY "
                                              "source %s is excluded by "
                                              "deploy/Dockerfile.dockerignore",
                                              w[k]);
                                copies++;
                        }
                        free(copy);
                } else if (!strcmp(df.kw[i], "EXPOSE")) {
                        expose |= has_word(df.args[i], "9464");
                } else if (!strcmp(df.kw[i], "HEALTHCHECK")) {
                        health = strstr(df.args[i], "/healthz") &&
                                 strstr(df.args[i], "9464");
                } else if (!strcmp(df.kw[i], "USER") && df.stage[i] == last) {
                        sscanf(df.args[i], "%127[^: ]", word);
                        user = strcmp(word, "root") && strcmp(word, "0");
                } else if (!strcmp(df.kw[i], "ENTRYPOINT")) {
                        json_t *j = json_loads(df.args[i], 0, NULL);
                        const char *e0 =
                                json_string_value(json_array_get(j, 0));
                        entry = e0 && (!strcmp(e0, "reducerd") ||
                                       !strcmp(e0, "/usr/local/bin/"
                                                   "reducerd"));
                        json_decref(j);
                } else if (!strcmp(df.kw[i], "CMD")) {
                        json_t *j = json_loads(df.args[i], 0, NULL);
                        cmd = json_array_size(j) == 3 &&
                              !strcmp(json_string_value(json_array_get(j, 0)),
                                      "run") &&
                              !strcmp(json_string_value(json_array_get(j, 1)),
                                      "-c") &&
                              !strcmp(json_string_value(json_array_get(j, 2)),
                                      "/etc/reducerd/reducerd.yaml");
                        json_decref(j);
                } else if (!strcmp(df.kw[i], "RUN") && df.stage[i] < last) {
                        build |= strstr(df.args[i], "meson setup build "
                                                    "-Dbuildtype=release") &&
                                 strstr(df.args[i],
                                        "ninja -C build src/reducerd");
                }
        }
        ck_assert_msg(copies >= 3, "deploy/Dockerfile copies %d sources",
                      copies);
        ck_assert_msg(has_bin, "deploy/Dockerfile: no COPY to "
                               "/usr/local/bin/reducerd");
        ck_assert_msg(has_cmd_config,
                      "deploy/Dockerfile: CMD's config "
                      "/etc/reducerd/reducerd.yaml is not copied");
        ck_assert_msg(build, "deploy/Dockerfile: no meson setup / ninja "
                             "build of src/reducerd");
        ck_assert_msg(expose, "deploy/Dockerfile: no EXPOSE 9464");
        ck_assert_msg(health, "deploy/Dockerfile: no HEALTHCHECK on "
                              ":9464/healthz");
        ck_assert_msg(user, "deploy/Dockerfile: the runtime stage runs as "
                            "root");
        ck_assert_msg(entry, "deploy/Dockerfile: ENTRYPOINT is not reducerd");
        ck_assert_msg(cmd, "deploy/Dockerfile: CMD is not [\"run\", \"-c\", "
                           "\"/etc/reducerd/reducerd.yaml\"]");

        stage_packages(&df, 0, pkgs, sizeof(pkgs));
        for (const char *const *p = build_pkgs; *p; p++) {
                ck_assert_msg(has_word(pkgs, *p),
                              "deploy/Dockerfile: the build stage does not "
                              "install %s",
                              *p);
        }
        stage_packages(&df, last, pkgs, sizeof(pkgs));
        for (const char *const *p = runtime_pkgs; *p; p++) {
                ck_assert_msg(has_word(pkgs, *p),
                              "deploy/Dockerfile: the runtime stage does not "
                              "install %s",
                              *p);
        }
        ck_assert_msg(!strstr(pkgs, "-dev "),
                      "deploy/Dockerfile: -dev package in the runtime "
                      "stage:%s",
                      pkgs);
        dockerfile_free(&df);

        /* the ignore file keeps the build tree and git out of the context */
        ck_assert_msg(docker_ignored("build"), "Dockerfile.dockerignore "
                                               "sends build/");
        ck_assert_msg(docker_ignored(".git"), "Dockerfile.dockerignore "
                                              "sends .git");
}
END_TEST

/* Every shared library the binary links (NEEDED) comes from a package the
 * runtime stage installs (libc6 is in the base image). */
START_TEST(dockerfile_installs_linked_libraries)
{
        dockerfile_t df;
        char pkgs[4096], cmd[4200], *out = NULL, *save = NULL, *bin;
        char *dpkg = which("dpkg-query"), *readelf = which("readelf");
        int rc;

        if (!dpkg || !readelf) {
                printf("dockerfile_installs_linked_libraries: skipped "
                       "(needs dpkg and readelf)\n");
                free(dpkg);
                free(readelf);
                return;
        }
        free(dpkg);
        free(readelf);
        bin = realpath(test_bin(), NULL);
        ck_assert_msg(bin != NULL, "RED_BIN %s not found", test_bin());
        snprintf(cmd, sizeof(cmd),
                 "set -e; b='%s'; "
                 "for so in $(readelf -d \"$b\" | "
                 "sed -n 's/.*Shared library: \\[\\(.*\\)\\].*/\\1/p'); do "
                 "p=$(ldd \"$b\" | awk -v s=\"$so\" '$1 == s { print $3 }'); "
                 "[ -n \"$p\" ] || { echo \"$so ?\"; continue; }; "
                 "pkg=$(dpkg -S \"$(readlink -f \"$p\")\" | head -n 1 | "
                 "cut -d: -f1); echo \"$so $pkg\"; done",
                 bin);
        free(bin);
        rc = sh(cmd, &out, NULL);
        ck_assert_msg(rc == 0, "cannot list the libraries of RED_BIN");
        dockerfile_load(&df);
        stage_packages(&df, df.stages - 1, pkgs, sizeof(pkgs));
        for (char *line = strtok_r(out, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
                char so[256] = "", pkg[256] = "";
                sscanf(line, "%255s %255s", so, pkg);
                if (!strcmp(pkg, "libc6") || !strncmp(so, "ld-", 3) ||
                    /* the runtime of a sanitizer build (./dev test's
                     * second leg), never of a release */
                    !strncmp(so, "libasan", 7) || !strncmp(so, "libubsan", 8)) {
                        continue;
                }
                ck_assert_msg(has_word(pkgs, pkg),
                              "reducerd links %s (Debian package %s), which "
                              "the runtime stage of deploy/Dockerfile does "
                              "not install",
                              so, pkg);
        }
        free(out);
        dockerfile_free(&df);
}
END_TEST

/* ------------------------------------------------------------------ */
/* the container config and docker compose                            */
/* ------------------------------------------------------------------ */

START_TEST(container_config_checks)
{
        char *src = abs_srcdir(), contracts[4200], *out = NULL, *err = NULL;
        char *text = test_read_file(test_path("deploy/reducerd.yaml"), NULL);
        const char *argv[] = {test_bin(), "check", "-c",
                              test_path("deploy/reducerd.yaml"), NULL};
        const char *env_ok[] = {"REDUCERD_KAFKA_BROKERS=kafka:9092", contracts,
                                NULL};
        const char *env_none[] = {"REDUCERD_KAFKA_BROKERS=", contracts, NULL};
        red_yaml_doc_t *doc = load_yaml("deploy/reducerd.yaml");
        const red_yaml_node_t *root = red_yaml_doc_root(doc);
        const char *s;
        int rc;

        snprintf(contracts, sizeof(contracts),
                 "REDUCERD_CONTRACTS_PATHS=%s/contracts", src);
        rc = test_run(argv, env_ok, &out, &err);
        ck_assert_msg(rc == 0, "reducerd check -c deploy/reducerd.yaml: %s%s",
                      out, err);
        free(out);
        free(err);
        /* the brokers come from the environment, never a silent default */
        rc = test_run(argv, env_none, &out, &err);
        ck_assert_msg(rc != 0 && strstr(err, "kafka.brokers is empty"),
                      "deploy/reducerd.yaml works without "
                      "REDUCERD_KAFKA_BROKERS: %s%s",
                      out, err);
        free(out);
        free(err);

        for (char *p = text; *p; p++) {
                *p = (char)tolower((unsigned char)*p);
        }
        ck_assert_msg(!strstr(text, "password:") && !strstr(text, "password="),
                      "deploy/reducerd.yaml holds a password");
        s = ystr(root, "kafka/brokers");
        ck_assert_msg(s && !*s,
                      "deploy/reducerd.yaml: kafka.brokers is \"%s\"; leave "
                      "it empty so that REDUCERD_KAFKA_BROKERS is required",
                      s);
        s = ystr(root, "http/listen");
        ck_assert_msg(s && !strcmp(s, "0.0.0.0:9464"),
                      "deploy/reducerd.yaml: http.listen is %s", s);
        s = ystr(root, "log/format");
        ck_assert_msg(s && !strcmp(s, "json"),
                      "deploy/reducerd.yaml: log.format is %s", s);
        /* co-partitioned inputs stay on one replica only with range */
        s = ystr(root, "kafka/properties/partition.assignment.strategy");
        ck_assert_msg(s && !strcmp(s, "range"),
                      "deploy/reducerd.yaml: partition.assignment.strategy "
                      "is %s, want range",
                      s);
        red_yaml_doc_destroy(doc);
        free(text);
        free(src);
}
END_TEST

/* Topic names a contract reads or writes: values of topic,
 * dead_letter_topic and any *_topic key, anywhere in the tree. */
static void collect_topics(const red_yaml_node_t *n, char ***topics,
                           size_t *cnt)
{
        if (red_yaml_kind(n) == RED_YAML_MAP) {
                for (size_t i = 0; i < red_yaml_size(n); i++) {
                        const char *k = red_yaml_str(red_yaml_key(n, i));
                        const red_yaml_node_t *v = red_yaml_value(n, i);
                        size_t kl = strlen(k);
                        if ((!strcmp(k, "topic") ||
                             (kl > 6 && !strcmp(k + kl - 6, "_topic"))) &&
                            red_yaml_kind(v) == RED_YAML_SCALAR) {
                                *topics = realloc(*topics,
                                                  (*cnt + 1) * sizeof(char *));
                                ck_assert_ptr_nonnull(*topics);
                                (*topics)[(*cnt)++] = strdup(red_yaml_str(v));
                        } else {
                                collect_topics(v, topics, cnt);
                        }
                }
        } else if (red_yaml_kind(n) == RED_YAML_SEQ) {
                for (size_t i = 0; i < red_yaml_size(n); i++) {
                        collect_topics(red_yaml_item(n, i), topics, cnt);
                }
        }
}

static size_t contract_topics(char ***topicsp)
{
        char **files, **topics = NULL;
        size_t fcnt = contract_files(&files), cnt = 0;

        for (size_t f = 0; f < fcnt; f++) {
                char rel[1024];
                red_yaml_doc_t *doc;

                snprintf(rel, sizeof(rel), "contracts/%s", files[f]);
                doc = load_yaml(rel);
                collect_topics(red_yaml_doc_root(doc), &topics, &cnt);
                red_yaml_doc_destroy(doc);
        }
        free_strs(files, fcnt);
        ck_assert_msg(cnt > 0, "no topics in contracts/*.yaml");
        *topicsp = topics;
        return cnt;
}

/* A host path of a volume ("./x:/y:ro", "../x:/y") exists. */
static void check_volume(const char *svc, const char *vol)
{
        char host[1024], rel[1100];

        if (strncmp(vol, "./", 2) && strncmp(vol, "../", 3)) {
                return; /* a named volume */
        }
        snprintf(host, sizeof(host), "%s", vol);
        host[strcspn(host, ":")] = '\0';
        snprintf(rel, sizeof(rel), "deploy/%s", host);
        ck_assert_msg(exists(rel),
                      "deploy/compose.yaml: service %s mounts %s, which "
                      "does not exist",
                      svc, host);
}

START_TEST(compose_consistent)
{
        red_yaml_doc_t *doc = load_yaml("deploy/compose.yaml");
        const red_yaml_node_t *svcs = ypath(red_yaml_doc_root(doc), "services");
        const red_yaml_node_t *worker = NULL, *topics_svc = NULL, *n;
        char **topics, *cmd;
        size_t tcnt = contract_topics(&topics);
        bool kraft = false, migrate = false, pg15 = false;
        long replicas, partitions;
        const char *s;

        ck_assert_msg(svcs && red_yaml_kind(svcs) == RED_YAML_MAP,
                      "deploy/compose.yaml: no services");
        for (size_t i = 0; i < red_yaml_size(svcs); i++) {
                const char *name = red_yaml_str(red_yaml_key(svcs, i));
                const red_yaml_node_t *svc = red_yaml_value(svcs, i);
                const char *image = ystr(svc, "image");
                const red_yaml_node_t *env = ypath(svc, "environment");
                const red_yaml_node_t *vols = ypath(svc, "volumes");
                char *command = yjoin(ypath(svc, "command"));

                if ((s = ystr(svc, "build/context"))) {
                        char rel[2048];
                        const char *file = ystr(svc, "build/dockerfile");
                        snprintf(rel, sizeof(rel), "deploy/%s", s);
                        ck_assert_msg(exists(rel),
                                      "deploy/compose.yaml: %s: build "
                                      "context %s does not exist",
                                      name, s);
                        snprintf(rel, sizeof(rel), "deploy/%s/%s", s,
                                 file ? file : "Dockerfile");
                        ck_assert_msg(exists(rel),
                                      "deploy/compose.yaml: %s: %s does not "
                                      "exist",
                                      name, rel);
                }
                for (size_t v = 0; vols && v < red_yaml_size(vols); v++) {
                        const char *vol = red_yaml_str(red_yaml_item(vols, v));
                        if (vol) {
                                check_volume(name, vol);
                        }
                }
                /* passwords only through ${...} from the environment */
                for (size_t e = 0; env && red_yaml_kind(env) == RED_YAML_MAP &&
                                   e < red_yaml_size(env);
                     e++) {
                        const char *k = red_yaml_str(red_yaml_key(env, e));
                        const char *v = red_yaml_str(red_yaml_value(env, e));
                        if (strstr(k, "PASSWORD")) {
                                ck_assert_msg(v && !strncmp(v, "${", 2),
                                              "deploy/compose.yaml: %s: %s "
                                              "is written in the file",
                                              name, k);
                        }
                }
                if (image && (strstr(image, "apache/kafka") ||
                              strstr(image, "bitnami/kafka"))) {
                        kraft |= ystr(svc, "environment/KAFKA_PROCESS_ROLES") ||
                                 ystr(svc, "environment/"
                                           "KAFKA_CFG_PROCESS_ROLES");
                        if (strstr(command, "kafka-topics.sh")) {
                                topics_svc = svc;
                        }
                }
                if (image && !strncmp(image, "postgres:15", 11)) {
                        pg15 = true;
                }
                if (!strncmp(command, "migrate", 7)) {
                        migrate = true;
                        ck_assert_msg(
                                strstr(command, "/etc/reducerd/reducerd.yaml"),
                                "deploy/compose.yaml: %s: migrate "
                                "without the container config",
                                name);
                }
                if (!strncmp(command, "run", 3)) {
                        worker = svc;
                        ck_assert_msg(
                                strstr(command, "/etc/reducerd/reducerd.yaml"),
                                "deploy/compose.yaml: %s: run without "
                                "the container config",
                                name);
                }
                free(command);
        }
        ck_assert_msg(kraft, "deploy/compose.yaml: no Kafka in KRaft mode");
        ck_assert_msg(pg15, "deploy/compose.yaml: no PostgreSQL 15");
        ck_assert_msg(migrate, "deploy/compose.yaml: no migrate service");
        ck_assert_msg(worker, "deploy/compose.yaml: no reducerd run service");
        ck_assert_msg(topics_svc, "deploy/compose.yaml: no topic creation");

        n = ypath(worker, "depends_on/migrate/condition");
        ck_assert_msg(
                n && !strcmp(red_yaml_str(n), "service_completed_successfully"),
                "deploy/compose.yaml: reducerd does not wait for "
                "migrate to complete");
        s = ystr(worker, "deploy/replicas");
        replicas = s ? strtol(s, NULL, 10) : 1;
        ck_assert_msg(replicas >= 2, "deploy/compose.yaml: %ld replica(s)",
                      replicas);

        /* every topic of the contracts is created, with enough partitions */
        cmd = yjoin(ypath(topics_svc, "command"));
        for (size_t t = 0; t < tcnt; t++) {
                ck_assert_msg(has_word(cmd, topics[t]),
                              "deploy/compose.yaml: topic %s (contracts/) is "
                              "not created",
                              topics[t]);
        }
        s = ystr(topics_svc, "environment/PARTITIONS");
        partitions = s ? strtol(s, NULL, 10) : 0;
        ck_assert_msg(partitions >= replicas,
                      "deploy/compose.yaml: %ld partitions for %ld "
                      "replicas",
                      partitions, replicas);
        free(cmd);
        free_strs(topics, tcnt);
        red_yaml_doc_destroy(doc);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Kubernetes                                                          */
/* ------------------------------------------------------------------ */

/* The data map of a generated ConfigMap holds exactly these files. */
static void check_configmap(const char *rel, const char *name,
                            const char *const *keys, const char *const *files,
                            size_t cnt)
{
        red_yaml_doc_t *doc = load_yaml(rel);
        const red_yaml_node_t *root = red_yaml_doc_root(doc);
        const red_yaml_node_t *data = ypath(root, "data");
        const char *s = ystr(root, "kind");

        ck_assert_msg(s && !strcmp(s, "ConfigMap"), "%s: not a ConfigMap", rel);
        s = ystr(root, "metadata/name");
        ck_assert_msg(s && !strcmp(s, name), "%s: name %s, want %s", rel, s,
                      name);
        ck_assert_msg(data && red_yaml_kind(data) == RED_YAML_MAP,
                      "%s: no data", rel);
        ck_assert_msg(red_yaml_size(data) == cnt,
                      "%s has %zu entries for %zu files; run "
                      "deploy/kubernetes/make-configmap.sh",
                      rel, red_yaml_size(data), cnt);
        for (size_t i = 0; i < cnt; i++) {
                const red_yaml_node_t *v = red_yaml_get(data, keys[i]);
                size_t len;
                char *want = test_read_file(test_path(files[i]), &len);

                ck_assert_msg(v != NULL,
                              "%s lacks %s; run "
                              "deploy/kubernetes/make-configmap.sh",
                              rel, keys[i]);
                ck_assert_msg(red_yaml_kind(v) == RED_YAML_SCALAR &&
                                      red_yaml_len(v) == len &&
                                      !memcmp(red_yaml_str(v), want, len),
                              "%s: %s differs from %s; run "
                              "deploy/kubernetes/make-configmap.sh",
                              rel, keys[i], files[i]);
                free(want);
        }
        red_yaml_doc_destroy(doc);
}

START_TEST(configmaps_hold_current_files)
{
        static const char *const ckey[] = {"reducerd.yaml"};
        static const char *const cfile[] = {"deploy/reducerd.yaml"};
        char **names, **files;
        size_t cnt = contract_files(&names);

        files = calloc(cnt, sizeof(*files));
        ck_assert_ptr_nonnull(files);
        for (size_t i = 0; i < cnt; i++) {
                ck_assert_int_gt(asprintf(&files[i], "contracts/%s", names[i]),
                                 0);
        }
        check_configmap("deploy/kubernetes/configmap-contracts.yaml",
                        "reducerd-contracts", (const char *const *)names,
                        (const char *const *)files, cnt);
        check_configmap("deploy/kubernetes/configmap-config.yaml",
                        "reducerd-config", ckey, cfile, 1);
        free_strs(files, cnt);
        free_strs(names, cnt);
}
END_TEST

/* The script reproduces the committed output byte for byte. */
START_TEST(make_configmap_reproduces)
{
        static const char *const outs[] = {"configmap-config.yaml",
                                           "configmap-contracts.yaml",
                                           "configmap-alertmanager.yaml", NULL};
        char *dir = test_tmpdir(), *out = NULL, *err = NULL;
        const char *argv[] = {"/bin/sh",
                              test_path("deploy/kubernetes/make-configmap.sh"),
                              dir, NULL};
        int rc = test_run(argv, NULL, &out, &err);

        ck_assert_msg(rc == 0, "make-configmap.sh: %s%s", out, err);
        for (const char *const *o = outs; *o; o++) {
                char got_path[4200], rel[256];
                size_t glen, wlen;
                char *got, *want;

                snprintf(got_path, sizeof(got_path), "%s/%s", dir, *o);
                snprintf(rel, sizeof(rel), "deploy/kubernetes/%s", *o);
                got = test_read_file(got_path, &glen);
                want = test_read_file(test_path(rel), &wlen);
                ck_assert_msg(glen == wlen && !memcmp(got, want, glen),
                              "%s is not what make-configmap.sh writes; run "
                              "deploy/kubernetes/make-configmap.sh",
                              rel);
                free(got);
                free(want);
        }
        free(out);
        free(err);
        rm_tree(dir);
        free(dir);
}
END_TEST

/* name and kind of a manifest */
typedef struct {
        char kind[64];
        char name[128];
} k8s_obj_t;

/* Probe on path @p path at port 9464 (by number or by the port name). */
static void check_probe(const red_yaml_node_t *c, const char *probe,
                        const char *path)
{
        const red_yaml_node_t *p = ypath(c, probe);
        const char *got = ystr(p, "httpGet/path"),
                   *port = ystr(p, "httpGet/port");
        bool port_ok = port && !strcmp(port, "9464");
        const red_yaml_node_t *ports = ypath(c, "ports");

        ck_assert_msg(got && !strcmp(got, path),
                      "deployment.yaml: %s is not GET %s", probe, path);
        for (size_t i = 0; !port_ok && ports && i < red_yaml_size(ports); i++) {
                const red_yaml_node_t *it = red_yaml_item(ports, i);
                const char *nm = ystr(it, "name"),
                           *num = ystr(it, "containerPort");
                port_ok = nm && num && port && !strcmp(nm, port) &&
                          !strcmp(num, "9464");
        }
        ck_assert_msg(port_ok, "deployment.yaml: %s is not on port 9464",
                      probe);
}

/* The container's config and contracts come from the ConfigMaps. */
static void check_pod_mounts(const char *rel, const red_yaml_node_t *spec,
                             const red_yaml_node_t *c, k8s_obj_t *objs,
                             int ocnt, bool need_contracts)
{
        const red_yaml_node_t *mounts = ypath(c, "volumeMounts");
        const red_yaml_node_t *vols = ypath(spec, "volumes");
        const red_yaml_node_t *envf = ypath(c, "envFrom");
        bool config = false, contracts = false, secret = false;
        char *args = yjoin(ypath(c, "args"));
        const red_yaml_node_t *env = ypath(c, "env");

        ck_assert_msg(strstr(args, "-c /etc/reducerd/reducerd.yaml"),
                      "%s: %s does not use /etc/reducerd/reducerd.yaml", rel,
                      ystr(c, "name"));
        for (size_t m = 0; mounts && m < red_yaml_size(mounts); m++) {
                const red_yaml_node_t *mt = red_yaml_item(mounts, m);
                const char *vname = ystr(mt, "name"),
                           *path = ystr(mt, "mountPath"),
                           *sub = ystr(mt, "subPath"), *cm = NULL;

                ck_assert_msg(vname && path,
                              "%s: volumeMount without name "
                              "or mountPath",
                              rel);
                for (size_t v = 0; vols && v < red_yaml_size(vols); v++) {
                        const red_yaml_node_t *vol = red_yaml_item(vols, v);
                        const char *vn = ystr(vol, "name");
                        if (vn && !strcmp(vn, vname)) {
                                cm = ystr(vol, "configMap/name");
                        }
                }
                ck_assert_msg(cm != NULL, "%s: volume %s is not a ConfigMap",
                              rel, vname);
                if (!strcmp(path, "/etc/reducerd/reducerd.yaml")) {
                        config = sub && !strcmp(sub, "reducerd.yaml") &&
                                 !strcmp(cm, "reducerd-config");
                }
                if (!strcmp(path, "/etc/reducerd/contracts")) {
                        contracts = !strcmp(cm, "reducerd-contracts");
                }
                {
                        bool defined = false;
                        for (int o = 0; o < ocnt; o++) {
                                defined |= !strcmp(objs[o].kind, "ConfigMap") &&
                                           !strcmp(objs[o].name, cm);
                        }
                        ck_assert_msg(defined,
                                      "%s: ConfigMap %s is not among the "
                                      "kustomization's resources",
                                      rel, cm);
                }
        }
        ck_assert_msg(config,
                      "%s: /etc/reducerd/reducerd.yaml is not the "
                      "reducerd.yaml of reducerd-config",
                      rel);
        ck_assert_msg(contracts || !need_contracts,
                      "%s: /etc/reducerd/contracts is not reducerd-contracts",
                      rel);
        for (size_t e = 0; envf && e < red_yaml_size(envf); e++) {
                const char *cm =
                        ystr(red_yaml_item(envf, e), "configMapRef/name");
                bool defined = false;
                for (int o = 0; cm && o < ocnt; o++) {
                        defined |= !strcmp(objs[o].kind, "ConfigMap") &&
                                   !strcmp(objs[o].name, cm);
                }
                ck_assert_msg(!cm || defined,
                              "%s: envFrom ConfigMap %s is not defined", rel,
                              cm);
        }
        for (size_t e = 0; env && e < red_yaml_size(env); e++) {
                const red_yaml_node_t *it = red_yaml_item(env, e);
                const char *en = ystr(it, "name");
                if (en && !strcmp(en, "PGPASSWORD")) {
                        secret = ystr(it, "valueFrom/secretKeyRef/name") &&
                                 ystr(it, "valueFrom/secretKeyRef/key");
                }
        }
        ck_assert_msg(secret, "%s: PGPASSWORD does not come from a Secret",
                      rel);
        free(args);
}

START_TEST(kubernetes_consistent)
{
        red_yaml_doc_t *kust =
                load_yaml("deploy/kubernetes/kustomization.yaml");
        const red_yaml_node_t *res =
                ypath(red_yaml_doc_root(kust), "resources");
        red_yaml_doc_t *docs[32];
        k8s_obj_t objs[32];
        int cnt = 0;
        const red_yaml_node_t *dep = NULL, *job = NULL, *svc = NULL;
        const char *s;
        char *kubectl;

        ck_assert_msg(res && red_yaml_size(res) > 0,
                      "kustomization.yaml: no resources");
        for (size_t i = 0; i < red_yaml_size(res); i++) {
                char rel[1024];
                const red_yaml_node_t *root;

                snprintf(rel, sizeof(rel), "deploy/kubernetes/%s",
                         red_yaml_str(red_yaml_item(res, i)));
                ck_assert_msg(exists(rel),
                              "kustomization.yaml: %s does not "
                              "exist",
                              rel);
                ck_assert_int_lt(cnt, 32);
                docs[cnt] = load_yaml(rel);
                root = red_yaml_doc_root(docs[cnt]);
                ck_assert_msg(ystr(root, "apiVersion") && ystr(root, "kind") &&
                                      ystr(root, "metadata/name"),
                              "%s: no apiVersion, kind or metadata.name", rel);
                snprintf(objs[cnt].kind, sizeof(objs[cnt].kind), "%s",
                         ystr(root, "kind"));
                snprintf(objs[cnt].name, sizeof(objs[cnt].name), "%s",
                         ystr(root, "metadata/name"));
                if (!strcmp(objs[cnt].kind, "Deployment")) {
                        dep = root;
                } else if (!strcmp(objs[cnt].kind, "Job")) {
                        job = root;
                } else if (!strcmp(objs[cnt].kind, "Service")) {
                        svc = root;
                }
                cnt++;
        }
        ck_assert_msg(dep && job && svc, "kustomization.yaml: a Deployment, "
                                         "a Job and a Service are needed");

        {
                const red_yaml_node_t *spec = ypath(dep, "spec/template/spec");
                const red_yaml_node_t *c = ypath(spec, "containers/0");
                const red_yaml_node_t *inits = ypath(spec, "initContainers");
                const red_yaml_node_t *sel = ypath(dep, "spec/selector/"
                                                        "matchLabels");
                const red_yaml_node_t *ssel = ypath(svc, "spec/selector");
                long grace;

                s = ystr(dep, "spec/replicas");
                ck_assert_msg(s && strtol(s, NULL, 10) >= 2,
                              "deployment.yaml: replicas %s", s);
                s = ystr(spec, "terminationGracePeriodSeconds");
                grace = s ? strtol(s, NULL, 10) : 30;
                ck_assert_msg(grace >= 30,
                              "deployment.yaml: terminationGracePeriodSeconds "
                              "%ld is too short for the drain",
                              grace);
                ck_assert_msg(ypath(c, "resources/requests") &&
                                      ypath(c, "resources/limits"),
                              "deployment.yaml: no resources");
                check_probe(c, "livenessProbe", "/healthz");
                check_probe(c, "readinessProbe", "/readyz");
                check_pod_mounts("deployment.yaml", spec, c, objs, cnt, true);
                for (size_t i = 0; inits && i < red_yaml_size(inits); i++) {
                        check_pod_mounts("deployment.yaml (init)", spec,
                                         red_yaml_item(inits, i), objs, cnt,
                                         false);
                }
                /* the Service selects the Deployment's pods */
                ck_assert_msg(ssel && red_yaml_size(ssel) > 0,
                              "service.yaml: no selector");
                for (size_t i = 0; i < red_yaml_size(ssel); i++) {
                        const char *k = red_yaml_str(red_yaml_key(ssel, i));
                        const char *v = red_yaml_str(red_yaml_value(ssel, i));
                        const red_yaml_node_t *dn = red_yaml_get(sel, k);
                        const char *d = dn ? red_yaml_str(dn) : NULL;
                        ck_assert_msg(d && !strcmp(d, v),
                                      "service.yaml: selector %s=%s does not "
                                      "match the Deployment",
                                      k, v);
                }
                s = ystr(svc, "spec/ports/0/port");
                ck_assert_msg(s && !strcmp(s, "9464"), "service.yaml: port %s",
                              s);
        }
        {
                const red_yaml_node_t *spec = ypath(job, "spec/template/spec");
                const red_yaml_node_t *c = ypath(spec, "containers/0");
                char *args = yjoin(ypath(c, "args"));

                ck_assert_msg(!strncmp(args, "migrate", 7),
                              "migrate-job.yaml: runs %s", args);
                check_pod_mounts("migrate-job.yaml", spec, c, objs, cnt, false);
                free(args);
        }

        /* kubectl renders the kustomization offline, when it is installed */
        if ((kubectl = which("kubectl"))) {
                const char *argv[] = {kubectl, "kustomize",
                                      test_path("deploy/kubernetes"), NULL};
                char *out = NULL, *err = NULL;
                int rc = test_run(argv, NULL, &out, &err);

                ck_assert_msg(rc == 0 && strstr(out, "kind: Deployment"),
                              "kubectl kustomize deploy/kubernetes: %s", err);
                free(out);
                free(err);
                free(kubectl);
        } else {
                printf("kubernetes_consistent: kubectl not installed, "
                       "kustomize rendering not checked\n");
        }
        for (int i = 0; i < cnt; i++) {
                red_yaml_doc_destroy(docs[i]);
        }
        red_yaml_doc_destroy(kust);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Alertmanager                                                        */
/* ------------------------------------------------------------------ */

/* Keys that would hold a receiver's secret inline (the *_file variants
 * read it from a mounted file). */
static void no_inline_secret(const red_yaml_node_t *n, const char *where)
{
        static const char *const inline_keys[] = {
                "slack_api_url", "api_url",
                "routing_key",   "service_key",
                "auth_password", "smtp_auth_password",
                "url",           NULL};

        if (!n) {
                return;
        }
        if (red_yaml_kind(n) == RED_YAML_MAP) {
                for (size_t i = 0; i < red_yaml_size(n); i++) {
                        const char *k = red_yaml_str(red_yaml_key(n, i));
                        const red_yaml_node_t *v = red_yaml_value(n, i);
                        size_t len = strlen(k);

                        ck_assert_msg(!in_list(inline_keys, k),
                                      "%s: %s holds a secret inline (use "
                                      "%s_file)",
                                      where, k, k);
                        if (len > 5 && !strcmp(k + len - 5, "_file")) {
                                ck_assert_msg(
                                        !strncmp(red_yaml_str(v),
                                                 "/etc/alertmanager/secrets/",
                                                 26),
                                        "%s: %s is not under "
                                        "/etc/alertmanager/secrets/",
                                        where, k);
                        }
                        no_inline_secret(v, where);
                }
        } else if (red_yaml_kind(n) == RED_YAML_SEQ) {
                for (size_t i = 0; i < red_yaml_size(n); i++) {
                        no_inline_secret(red_yaml_item(n, i), where);
                }
        }
}

/* The receiver named @p name has a @p kind list (pagerduty_configs,
 * slack_configs, ...). */
static bool receiver_has(const red_yaml_node_t *root, const char *name,
                         const char *kind)
{
        const red_yaml_node_t *rs = ypath(root, "receivers");

        for (size_t i = 0; rs && i < red_yaml_size(rs); i++) {
                const red_yaml_node_t *r = red_yaml_item(rs, i);
                const char *n = ystr(r, "name");

                if (n && !strcmp(n, name) && ypath(r, kind)) {
                        return true;
                }
        }
        return false;
}

/* Whether the routes for severity @p sev reach a @p kind receiver. */
static bool routes_to(const red_yaml_node_t *root, const char *sev,
                      const char *kind)
{
        const red_yaml_node_t *routes = ypath(root, "route/routes");
        char want[64];

        snprintf(want, sizeof(want), "severity=\"%s\"", sev);
        for (size_t i = 0; routes && i < red_yaml_size(routes); i++) {
                const red_yaml_node_t *r = red_yaml_item(routes, i);
                char *m = yjoin(ypath(r, "matchers"));
                bool match = strstr(m, want) != NULL;

                free(m);
                if (match && receiver_has(root, ystr(r, "receiver"), kind)) {
                        return true;
                }
        }
        return false;
}

/* deploy/alertmanager/alertmanager.yml routes CRITICAL to PagerDuty and
 * Slack and WARNING to Slack, with every secret in a file; compose and
 * Kubernetes run it, mount it and its secrets, and point reducerd at it. */
START_TEST(alertmanager_in_the_kit)
{
        static const char *const key[] = {"alertmanager.yml"};
        static const char *const file[] = {
                "deploy/alertmanager/alertmanager.yml"};
        red_yaml_doc_t *am = load_yaml("deploy/alertmanager/alertmanager.yml");
        red_yaml_doc_t *cmp = load_yaml("deploy/compose.yaml");
        red_yaml_doc_t *sts =
                load_yaml("deploy/kubernetes/alertmanager-statefulset.yaml");
        red_yaml_doc_t *svc =
                load_yaml("deploy/kubernetes/alertmanager-service.yaml");
        red_yaml_doc_t *env = load_yaml("deploy/kubernetes/configmap-env.yaml");
        red_yaml_doc_t *prom = load_yaml("deploy/prometheus/prometheus.yml");
        const red_yaml_node_t *root = red_yaml_doc_root(am), *spec;
        char *amtool, *vols, *m;
        const char *s;

        ck_assert(routes_to(root, "CRITICAL", "pagerduty_configs"));
        ck_assert(routes_to(root, "CRITICAL", "slack_configs"));
        ck_assert(routes_to(root, "WARNING", "slack_configs"));
        ck_assert(!routes_to(root, "WARNING", "pagerduty_configs"));
        /* a CRITICAL silences only the WARNING of its own scope */
        m = yjoin(ypath(root, "inhibit_rules/0/equal"));
        ck_assert_msg(strstr(m, "metric_name") && strstr(m, "agent_id") &&
                              strstr(m, "group"),
                      "alertmanager.yml: inhibit_rules equal: %s", m);
        free(m);
        no_inline_secret(root, "deploy/alertmanager/alertmanager.yml");
        /* the Debian package's amtool validates it offline */
        if ((amtool = which("amtool"))) {
                const char *argv[] = {
                        amtool, "check-config",
                        test_path("deploy/alertmanager/alertmanager.yml"),
                        NULL};
                char *out = NULL, *err = NULL;

                ck_assert_msg(test_run(argv, NULL, &out, &err) == 0,
                              "amtool check-config: %s%s", out, err);
                free(out);
                free(err);
                free(amtool);
        }
        /* compose: the service, its file and secrets, reducerd's URL */
        s = ystr(red_yaml_doc_root(cmp), "services/alertmanager/image");
        ck_assert_msg(s && strstr(s, "alertmanager"),
                      "compose.yaml: no alertmanager service");
        vols = yjoin(
                ypath(red_yaml_doc_root(cmp), "services/alertmanager/volumes"));
        ck_assert_ptr_nonnull(strstr(vols, "./alertmanager/alertmanager.yml:"
                                           "/etc/alertmanager/alertmanager."
                                           "yml"));
        ck_assert_ptr_nonnull(strstr(vols, "/etc/alertmanager/secrets"));
        free(vols);
        s = ystr(red_yaml_doc_root(cmp), "x-reducerd-env/"
                                         "REDUCERD_ALERTING_ALERTMANAGER_URLS");
        ck_assert_msg(s && !strcmp(s, "http://alertmanager:9093"),
                      "compose.yaml: reducerd does not post to alertmanager");
        /* compose's Prometheus sends its alerts there too, in the
         * severities the routes name */
        s = ystr(red_yaml_doc_root(prom),
                 "alerting/alertmanagers/0/static_configs/0/targets/0");
        ck_assert_msg(s && !strcmp(s, "alertmanager:9093"),
                      "prometheus.yml: alerts go to %s", s);
        for (int i = 0; i < 2; i++) {
                static const char *const from[] = {"critical", "warning"};
                static const char *const to[] = {"CRITICAL", "WARNING"};
                char path[64];
                const char *r, *v;

                snprintf(path, sizeof(path),
                         "alerting/alert_relabel_configs/%d/regex", i);
                r = ystr(red_yaml_doc_root(prom), path);
                snprintf(path, sizeof(path),
                         "alerting/alert_relabel_configs/%d/replacement", i);
                v = ystr(red_yaml_doc_root(prom), path);
                ck_assert_msg(r && v && !strcmp(r, from[i]) &&
                                      !strcmp(v, to[i]),
                              "prometheus.yml: severity %s becomes %s", r, v);
        }
        /* Kubernetes: the ConfigMap, the pod's mounts, the Service, env */
        check_configmap("deploy/kubernetes/configmap-alertmanager.yaml",
                        "reducerd-alertmanager", key, file, 1);
        spec = ypath(red_yaml_doc_root(sts), "spec/template/spec");
        s = ystr(spec, "containers/0/volumeMounts/0/mountPath");
        ck_assert_msg(s && !strcmp(s, "/etc/alertmanager/alertmanager.yml"),
                      "alertmanager-statefulset.yaml: config mounted at %s", s);
        s = ystr(spec, "containers/0/volumeMounts/1/mountPath");
        ck_assert_msg(s && !strcmp(s, "/etc/alertmanager/secrets"),
                      "alertmanager-statefulset.yaml: secrets mounted at %s",
                      s);
        m = yjoin(ypath(spec, "containers/0/args"));
        ck_assert_ptr_nonnull(strstr(m, "--cluster.listen-address="));
        free(m);
        s = ystr(spec, "volumes/0/configMap/name");
        ck_assert_msg(s && !strcmp(s, "reducerd-alertmanager"),
                      "alertmanager-statefulset.yaml: config volume %s", s);
        s = ystr(spec, "volumes/1/secret/secretName");
        ck_assert_msg(s && !strcmp(s, "reducerd-alertmanager"),
                      "alertmanager-statefulset.yaml: secret volume %s", s);
        s = ystr(red_yaml_doc_root(svc), "spec/ports/0/port");
        ck_assert_msg(s && !strcmp(s, "9093"),
                      "alertmanager-service.yaml: port %s", s);
        s = ystr(red_yaml_doc_root(env),
                 "data/REDUCERD_ALERTING_ALERTMANAGER_URLS");
        ck_assert_msg(s && !strcmp(s, "http://alertmanager:9093"),
                      "configmap-env.yaml: REDUCERD_ALERTING_ALERTMANAGER_URLS "
                      "%s",
                      s);
        red_yaml_doc_destroy(am);
        red_yaml_doc_destroy(cmp);
        red_yaml_doc_destroy(sts);
        red_yaml_doc_destroy(svc);
        red_yaml_doc_destroy(env);
        red_yaml_doc_destroy(prom);
}
END_TEST

/* ------------------------------------------------------------------ */
/* systemd                                                             */
/* ------------------------------------------------------------------ */

static bool unit_has(const char *unit, const char *prefix, const char *also)
{
        size_t pl = strlen(prefix);

        for (const char *l = unit; l && *l; l = strchr(l, '\n')) {
                if (*l == '\n') {
                        l++;
                }
                if (!strncmp(l, prefix, pl)) {
                        size_t ll = strcspn(l, "\n");
                        char line[1024];
                        snprintf(line, sizeof(line), "%.*s", (int)ll, l);
                        if (!also || strstr(line, also)) {
                                return true;
                        }
                }
        }
        return false;
}

START_TEST(systemd_unit_verifies)
{
        static const char *const need[][2] = {
                {"Type=", NULL},
                {"User=reducerd", NULL},
                {"EnvironmentFile=", "/etc/reducerd/env"},
                {"ExecStartPre=", " migrate -c /etc/reducerd/reducerd.yaml"},
                {"ExecStart=", " run -c /etc/reducerd/reducerd.yaml"},
                {"Restart=on-failure", NULL},
                {"KillSignal=SIGTERM", NULL},
                {"TimeoutStopSec=", NULL},
                {"ProtectSystem=strict", NULL},
                {"NoNewPrivileges=yes", NULL},
                {NULL, NULL}};
        size_t len;
        char *unit = test_read_file(
                test_path("deploy/systemd/reducerd.service"), &len);
        char *sa, *dir, *bin, *fixed, path[4200], *out = NULL, *err = NULL;
        size_t blen, cap;
        int rc;

        for (int i = 0; need[i][0]; i++) {
                ck_assert_msg(unit_has(unit, need[i][0], need[i][1]),
                              "reducerd.service: no %s%s", need[i][0],
                              need[i][1] ? need[i][1] : "");
        }
        if (!(sa = which("systemd-analyze"))) {
                printf("systemd_unit_verifies: systemd-analyze not installed, "
                       "`systemd-analyze verify` skipped\n");
                free(unit);
                return;
        }
        /* verify wants the executables to exist: use the build's binary */
        bin = realpath(test_bin(), NULL);
        ck_assert_ptr_nonnull(bin);
        blen = strlen(bin);
        cap = len * 2 + blen * 8 + 1;
        fixed = calloc(1, cap);
        ck_assert_ptr_nonnull(fixed);
        for (const char *p = unit; *p;) {
                static const char installed[] = "/usr/local/bin/reducerd";
                if (!strncmp(p, installed, sizeof(installed) - 1)) {
                        ck_assert_int_lt(strlen(fixed) + blen, cap);
                        strcat(fixed, bin);
                        p += sizeof(installed) - 1;
                } else {
                        size_t l = strlen(fixed);
                        ck_assert_int_lt(l + 1, cap);
                        fixed[l] = *p++;
                }
        }
        dir = test_tmpdir();
        snprintf(path, sizeof(path), "%s/reducerd.service", dir);
        test_write_file(path, fixed, strlen(fixed));
        {
                const char *argv[] = {sa, "verify", path, NULL};
                rc = test_run(argv, NULL, &out, &err);
                ck_assert_msg(rc == 0 && !strstr(out, "reducerd.service") &&
                                      !strstr(err, "reducerd.service"),
                              "systemd-analyze verify reducerd.service "
                              "(exit %d): %s%s",
                              rc, out, err);
                free(out);
                free(err);
        }
        {
                /* exposure 2.0 or less ("OK"); needs systemd >= 250 */
                const char *argv[] = {sa,
                                      "security",
                                      "--offline=true",
                                      "--threshold=20",
                                      "--no-pager",
                                      path,
                                      NULL};
                rc = test_run(argv, NULL, &out, &err);
                if (strstr(err, "unrecognized option") ||
                    strstr(err, "Unknown option")) {
                        printf("systemd_unit_verifies: this systemd-analyze "
                               "has no offline security check\n");
                } else {
                        ck_assert_msg(rc == 0,
                                      "systemd-analyze security: exposure "
                                      "above 2.0:\n%s%s",
                                      out, err);
                }
                free(out);
                free(err);
        }
        rm_tree(dir);
        free(dir);
        free(fixed);
        free(bin);
        free(sa);
        free(unit);
}
END_TEST

START_TEST(readme_documents_the_kit)
{
        static const char *const need[] = {
                "docker build -f deploy/Dockerfile",
                "docker compose -f deploy/compose.yaml",
                "kubectl apply -k deploy/kubernetes",
                "make-configmap.sh",
                "systemctl",
                "reducerd migrate",
                "SIGTERM",
                "co-partitioned",
                "promtool test rules",
                "reducerd top",
                "localhost:3000",
                NULL};
        char *readme = test_read_file(test_path("deploy/README.md"), NULL);

        for (const char *const *n = need; *n; n++) {
                ck_assert_msg(strstr(readme, *n),
                              "deploy/README.md does not mention %s", *n);
        }
        free(readme);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("deploy");
        TCase *tc = tcase_create("deploy");

        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, kit_complete);
        tcase_add_test(tc, yaml_files_parse);
        tcase_add_test(tc, dashboard_uses_only_listed_series);
        tcase_add_test(tc, dashboard_shows_every_series);
        tcase_add_test(tc, promql_checker_rejects);
        tcase_add_test(tc, dockerfile_consistent);
        tcase_add_test(tc, dockerfile_installs_linked_libraries);
        tcase_add_test(tc, container_config_checks);
        tcase_add_test(tc, compose_consistent);
        tcase_add_test(tc, configmaps_hold_current_files);
        tcase_add_test(tc, make_configmap_reproduces);
        tcase_add_test(tc, kubernetes_consistent);
        tcase_add_test(tc, alertmanager_in_the_kit);
        tcase_add_test(tc, systemd_unit_verifies);
        tcase_add_test(tc, readme_documents_the_kit);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        return test_main(suite());
}
