/* red_top_data - the numbers of a `reducerd top` frame: queries, /metrics. */
#include "red_top_data.h"

#include "red_buf.h"
#include "red_pg.h"
#include "red_query.h"
#include "red_query_pg.h"

#include <curl/curl.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Most daemons one top sums (--metrics a,b,c). */
#define MAX_DAEMONS 16
/* Samples of the live trend: a minute of them at 1 s, an hour at 5 s. */
#define MAX_SAMPLES 4096

typedef struct sample_s {
        red_time_t t;
        double consumed;
} sample_t;

struct red_top_src_s {
        const red_config_t *conf;
        const red_contract_set_t *set;
        PGconn *pg;
        CURL *curl;
        char *daemons[MAX_DAEMONS]; /* "host:port" */
        size_t daemon_cnt;
        char metrics_desc[256];
        /* the live trend, per contract name (reset when it changes) */
        char live_contract[64];
        sample_t samples[MAX_SAMPLES];
        size_t sample_cnt;
        red_time_t prev_t;
        double prev_consumed;
};

/* --- set-up --------------------------------------------------------------- */

/* http.listen names where the daemon listens; a wildcard address is
 * reached on loopback. */
static char *daemon_addr(const char *listen)
{
        const char *colon = strrchr(listen, ':');
        char *out;
        int hl;

        if (!colon) {
                return strdup(listen);
        }
        hl = (int)(colon - listen);
        if ((hl == 7 && !strncmp(listen, "0.0.0.0", 7)) || hl == 0) {
                return asprintf(&out, "127.0.0.1%s", colon) < 0 ? NULL : out;
        }
        if ((hl == 4 && !strncmp(listen, "[::]", 4)) ||
            (hl == 2 && !strncmp(listen, "::", 2))) {
                return asprintf(&out, "[::1]%s", colon) < 0 ? NULL : out;
        }
        return strdup(listen);
}

red_top_src_t *red_top_src_new(const red_config_t *conf,
                               const red_contract_set_t *set,
                               const char *metrics)
{
        red_top_src_t *src = calloc(1, sizeof(*src));
        char *list, *save = NULL;

        if (!src) {
                return NULL;
        }
        src->conf = conf;
        src->set = set;
        src->prev_t = INT64_MIN;
        list = strdup(metrics ? metrics : conf->http_listen);
        for (char *a = list ? strtok_r(list, ",", &save) : NULL;
             a && src->daemon_cnt < MAX_DAEMONS;
             a = strtok_r(NULL, ",", &save)) {
                if ((src->daemons[src->daemon_cnt] = daemon_addr(a))) {
                        src->daemon_cnt++;
                }
        }
        free(list);
        for (size_t i = 0, pos = 0; i < src->daemon_cnt; i++) {
                pos += (size_t)snprintf(src->metrics_desc + pos,
                                        pos < sizeof(src->metrics_desc)
                                                ? sizeof(src->metrics_desc) -
                                                          pos
                                                : 0,
                                        "%s%s", i ? "," : "", src->daemons[i]);
                if (pos >= sizeof(src->metrics_desc)) {
                        break;
                }
        }
        src->curl = curl_easy_init();
        return src;
}

void red_top_src_destroy(red_top_src_t *src)
{
        if (!src) {
                return;
        }
        if (src->pg) {
                PQfinish(src->pg);
        }
        if (src->curl) {
                curl_easy_cleanup(src->curl);
        }
        for (size_t i = 0; i < src->daemon_cnt; i++) {
                free(src->daemons[i]);
        }
        free(src);
}

const char *red_top_src_metrics(const red_top_src_t *src)
{
        return src->daemon_cnt ? src->metrics_desc : "(no http.listen)";
}

void red_top_sel_init(red_top_sel_t *sel, const red_contract_t *c)
{
        memset(sel, 0, sizeof(*sel));
        sel->c = c;
        sel->total = -1;
        if (!c->agg_cnt) {
                return;
        }
        sel->agg = &c->aggs[0];
        for (size_t g = 0; g < sel->agg->grouping_cnt; g++) {
                bool constant = true;
                for (size_t k = 0; k < sel->agg->key_cnt; k++) {
                        int d = sel->agg->groupings[g].dims[k];
                        constant &= c->dims[d].kind == RED_DIM_CONSTANT;
                }
                if (constant && sel->total < 0) {
                        sel->total = (int)g;
                }
        }
        /* the GROUPS table starts on a grouping with something to compare */
        sel->grouping = sel->total == 0 && sel->agg->grouping_cnt > 1 ? 1 : 0;
        sel->window = (red_window_type_t)__builtin_ctz(sel->agg->windows);
}

/* --- queries -------------------------------------------------------------- */

static bool pg_ready(red_top_src_t *src, char *err, size_t size)
{
        if (src->pg && PQstatus(src->pg) == CONNECTION_OK) {
                return true;
        }
        if (src->pg) {
                PQfinish(src->pg);
        }
        src->pg = red_pg_connect(src->conf->postgres_conninfo, err, size);
        if (src->pg &&
            red_query_pg_session(
                    src->pg, (long)src->conf->api_statement_timeout_ms,
                    (long)src->conf->api_statement_timeout_ms + 120000, err,
                    size)) {
                PQfinish(src->pg);
                src->pg = NULL;
        }
        return src->pg != NULL;
}

/*
 * Plans and runs one query with @p params (format json is added) and
 * returns its "data" rows (new reference), or NULL with a message in
 * @p err. A failed connection is dropped and made again next time.
 */
static json_t *run(red_top_src_t *src, red_query_kind_t kind, const char *name,
                   red_query_param_t *params, size_t cnt, red_time_t now,
                   char *err, size_t size)
{
        const red_contract_t *const *cs =
                (const red_contract_t *const *)src->set->items;
        red_query_limits_t lim = {src->conf->api_max_rows,
                                  src->conf->api_max_export_rows, now};
        red_query_error_t qe;
        red_query_pg_t *x = NULL;
        red_query_t *q;
        json_t *root = NULL, *rows = NULL;
        red_buf_t out;
        int status, more = 1;

        params[cnt].name = "format";
        params[cnt++].value = "json";
        if (!(q = red_query_plan(cs, src->set->cnt, kind, name, params, cnt,
                                 &lim, &qe))) {
                snprintf(err, size, "%s: %.60s%s%.300s",
                         red_query_kind_name(kind), qe.param,
                         qe.param[0] ? ": " : "", qe.message);
                return NULL;
        }
        red_buf_init(&out);
        if (pg_ready(src, err, size) &&
            (x = red_query_pg_start(src->pg, q, cs, src->set->cnt, &status, err,
                                    size))) {
                while (more > 0) {
                        more = red_query_pg_fill(x, &out, 1 << 16, err, size);
                }
                if (!more) {
                        red_buf_putc(&out, '\0');
                        root = json_loads(out.data, 0, NULL);
                        rows = json_incref(json_object_get(root, "data"));
                }
        }
        if (!red_query_pg_destroy(x) ||
            (src->pg && PQstatus(src->pg) != CONNECTION_OK)) {
                PQfinish(src->pg);
                src->pg = NULL;
        }
        if (!rows && !*err) {
                snprintf(err, size, "%s: unreadable answer",
                         red_query_kind_name(kind));
        }
        json_decref(root);
        red_buf_destroy(&out);
        red_query_destroy(q);
        return rows;
}

/* An ISO time parameter (the buffers live as long as the params). */
static const char *iso(red_time_t t, char buf[RED_TIME_FMT_SIZE])
{
        red_time_format(t, buf, RED_TIME_FMT_SIZE);
        return buf;
}

static json_t *summary(red_top_src_t *src, const red_top_sel_t *sel, int g,
                       red_time_t from, red_time_t to, red_time_t now,
                       char *err, size_t size)
{
        char f[RED_TIME_FMT_SIZE], t[RED_TIME_FMT_SIZE];
        red_query_param_t p[8] = {
                {"grouping", sel->agg->groupings[g].name},
                {"from", iso(from, f)},
                {"to", iso(to, t)},
                {"quantiles", "0.5,0.95,0.99"},
        };

        return run(src, RED_QUERY_SUMMARY, sel->agg->name, p, 4, now, err,
                   size);
}

/* The trend's window starts: the last ones up to the window of now. */
static size_t trend_starts(red_window_type_t wt, red_time_t now,
                           red_time_t *starts)
{
        static const size_t want[RED_WINDOW__CNT] = {24, 30, 12, 12};
        size_t n = want[wt];
        red_time_t s = red_window_start(wt, now);

        for (size_t i = n; i-- > 0;) {
                starts[i] = s;
                s = red_window_start(wt, s - 1);
        }
        return n;
}

/*
 * The trend: series rows of the total group, or of group @p group (its
 * key columns as filters) when there is none.
 */
static json_t *trend(red_top_src_t *src, const red_top_sel_t *sel,
                     red_top_data_t *d, const json_t *group, char *err,
                     size_t size)
{
        const red_agg_t *a = sel->agg;
        int g = sel->total >= 0 ? sel->total : sel->grouping;
        char f[RED_TIME_FMT_SIZE], t[RED_TIME_FMT_SIZE];
        red_query_param_t p[8 + RED_METRIC_MAX_LABELS] = {
                {"window", red_window_type_name(sel->window)},
                {"grouping", a->groupings[g].name},
                {"from", iso(d->starts[0], f)},
                {"to",
                 iso(red_window_end(sel->window, d->starts[d->start_cnt - 1]),
                     t)},
                {"limit", "1000"},
        };
        size_t n = 5, pos = 0;

        d->trend_group[0] = '\0';
        if (sel->total < 0 && !group) {
                return json_array(); /* no group: nothing to show */
        }
        for (size_t k = 0; k < a->key_cnt && k < RED_METRIC_MAX_LABELS; k++) {
                const char *v = json_string_value(
                        json_object_get(group, a->key_columns[k]));
                int dim = a->groupings[g].dims[k];
                if (sel->total >= 0 || !v ||
                    sel->c->dims[dim].kind == RED_DIM_CONSTANT) {
                        continue;
                }
                p[n].name = a->key_columns[k];
                p[n++].value = v;
                pos += (size_t)snprintf(d->trend_group + pos,
                                        sizeof(d->trend_group) - pos, "%s%s",
                                        pos ? " " : "", v);
                if (pos >= sizeof(d->trend_group)) {
                        break;
                }
        }
        return run(src, RED_QUERY_SERIES, a->name, p, n, d->now, err, size);
}

void red_top_fetch_trend(red_top_src_t *src, const red_top_sel_t *sel,
                         red_top_data_t *d, const json_t *group)
{
        char err[512] = "";

        json_decref(d->trend);
        d->trend = NULL;
        if (!sel->agg || *d->error) {
                return;
        }
        d->start_cnt = trend_starts(sel->window, d->now, d->starts);
        if (!(d->trend = trend(src, sel, d, group, err, sizeof(err)))) {
                snprintf(d->error, sizeof(d->error), "%s", err);
        }
}

static void fetch_queries(red_top_src_t *src, const red_top_sel_t *sel,
                          red_top_data_t *d)
{
        char err[512] = "", f[RED_TIME_FMT_SIZE], t[RED_TIME_FMT_SIZE];
        red_time_t end = d->hour_from + RED_TIME_US_PER_HOUR;

        if (sel->agg) {
                if (sel->total >= 0 &&
                    (!(d->hour = summary(src, sel, sel->total, d->hour_from,
                                         end, d->now, err, sizeof(err))) ||
                     !(d->day = summary(src, sel, sel->total, d->day_from, end,
                                        d->now, err, sizeof(err))))) {
                        goto done;
                }
                if (!(d->groups = summary(src, sel, sel->grouping, d->day_from,
                                          end, d->now, err, sizeof(err)))) {
                        goto done;
                }
        }
        if (sel->c->alerts && sel->c->alerts->table) {
                red_query_param_t p[8] = {{"contract", sel->c->name},
                                          {"from", iso(d->day_from, f)},
                                          {"to", iso(end, t)},
                                          {"order", "desc"},
                                          {"limit", "20"}};
                if (!(d->alerts = run(src, RED_QUERY_ALERTS, NULL, p, 5, d->now,
                                      err, sizeof(err)))) {
                        goto done;
                }
        }
        if (sel->c->fsm) {
                red_query_param_t p[4] = {{"contract", sel->c->name}};
                d->workflows = run(src, RED_QUERY_WORKFLOWS, NULL, p, 1, d->now,
                                   err, sizeof(err));
        }
done:
        snprintf(d->error, sizeof(d->error), "%s", err);
}

/* --- /metrics ------------------------------------------------------------- */

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
        red_buf_append(arg, ptr, size * nmemb);
        return size * nmemb;
}

/* Whether the labels "{...}" of a sample hold contract="@p c", or there
 * are none (the outbox series belong to every contract). */
static bool for_contract(const char *labels, size_t len, const char *c)
{
        char want[128];
        int n = snprintf(want, sizeof(want), "contract=\"%s\"", c);

        return len == 0 || memmem(labels, len, want, (size_t)n) != NULL;
}

static bool name_is(const char *line, size_t len, const char *name)
{
        return strlen(name) == len && !strncmp(line, name, len);
}

/* Adds the samples of one daemon's text that belong to contract @p c. */
static void parse_metrics(const char *text, const char *c, red_top_pipe_t *p,
                          bool first)
{
        static const struct {
                const char *name;
                size_t off;
        } sums[] = {
                {"reducerd_events_consumed_total",
                 offsetof(red_top_pipe_t, consumed)},
                {"reducerd_events_applied_total",
                 offsetof(red_top_pipe_t, applied)},
                {"reducerd_events_dead_lettered_total",
                 offsetof(red_top_pipe_t, dead)},
                {"reducerd_consumer_lag_messages",
                 offsetof(red_top_pipe_t, lag)},
                {"reducerd_outbox_depth", offsetof(red_top_pipe_t, outbox)},
                {"reducerd_partitions_assigned",
                 offsetof(red_top_pipe_t, partitions)},
        };
        double kafka = 1, pg = 1;

        for (const char *l = text; l && *l; l = strchr(l, '\n'), l += !!l) {
                size_t nl = strcspn(l, "{ \n"), ll = 0;
                const char *labels = l + nl, *v;
                double x;

                if (*l == '#') {
                        continue;
                }
                if (*labels == '{') {
                        ll = strcspn(labels, "}") + 1;
                }
                v = labels + ll;
                if (*v != ' ' || !for_contract(labels, ll, c)) {
                        continue;
                }
                x = strtod(v + 1, NULL);
                for (size_t i = 0; i < sizeof(sums) / sizeof(*sums); i++) {
                        if (name_is(l, nl, sums[i].name)) {
                                *(double *)((char *)p + sums[i].off) += x;
                        }
                }
                if (name_is(l, nl, "reducerd_events_late_total")) {
                        if (memmem(labels, ll, "\"applied\"", 9)) {
                                p->late_applied += x;
                        } else {
                                p->late_dropped += x;
                        }
                } else if (name_is(l, nl, "reducerd_kafka_up")) {
                        kafka = fmin(kafka, x);
                } else if (name_is(l, nl, "reducerd_postgres_up")) {
                        pg = fmin(pg, x);
                }
        }
        p->kafka_up = first ? kafka : fmin(p->kafka_up, kafka);
        p->pg_up = first ? pg : fmin(p->pg_up, pg);
}

static void scrape(red_top_src_t *src, const char *contract, red_top_pipe_t *p)
{
        red_buf_t body;
        bool first = true;

        memset(p, 0, sizeof(*p));
        p->rate = NAN;
        if (!src->curl || !src->daemon_cnt) {
                snprintf(p->error, sizeof(p->error),
                         "no daemon to ask (http.listen is empty)");
                return;
        }
        red_buf_init(&body);
        for (size_t i = 0; i < src->daemon_cnt; i++) {
                char url[512];
                long code = 0;
                CURLcode rc;

                red_buf_reset(&body);
                snprintf(url, sizeof(url), "http://%s/metrics",
                         src->daemons[i]);
                curl_easy_reset(src->curl);
                curl_easy_setopt(src->curl, CURLOPT_URL, url);
                curl_easy_setopt(src->curl, CURLOPT_WRITEFUNCTION, on_body);
                curl_easy_setopt(src->curl, CURLOPT_WRITEDATA, &body);
                curl_easy_setopt(src->curl, CURLOPT_TIMEOUT_MS, 2000L);
                curl_easy_setopt(src->curl, CURLOPT_NOSIGNAL, 1L);
                rc = curl_easy_perform(src->curl);
                curl_easy_getinfo(src->curl, CURLINFO_RESPONSE_CODE, &code);
                if (rc != CURLE_OK || code != 200) {
                        snprintf(p->error, sizeof(p->error), "%s: %s",
                                 src->daemons[i],
                                 rc != CURLE_OK ? curl_easy_strerror(rc)
                                                : "not 200");
                        continue;
                }
                red_buf_putc(&body, '\0');
                parse_metrics(body.data, contract, p, first);
                first = false;
                p->ok = true;
        }
        if (p->ok) {
                p->error[0] = '\0';
        }
        red_buf_destroy(&body);
}

/* The live trend: consumed per minute of the last hour, from the samples
 * this process took (a new contract starts a new trend). */
static void live(red_top_src_t *src, const char *contract, red_time_t now,
                 red_top_data_t *d)
{
        red_top_pipe_t *p = &d->pipe;
        red_time_t from = now - RED_TOP_LIVE_MINUTES * RED_TIME_US_PER_MIN;
        size_t keep = 0;

        if (strcmp(src->live_contract, contract)) {
                snprintf(src->live_contract, sizeof(src->live_contract), "%s",
                         contract);
                src->sample_cnt = 0;
                src->prev_t = INT64_MIN;
        }
        if (p->ok && src->prev_t != INT64_MIN && now > src->prev_t &&
            p->consumed >= src->prev_consumed) {
                p->rate = (p->consumed - src->prev_consumed) /
                          ((double)(now - src->prev_t) / 1e6);
                if (src->sample_cnt == MAX_SAMPLES) {
                        memmove(src->samples, src->samples + 1,
                                (MAX_SAMPLES - 1) * sizeof(sample_t));
                        src->sample_cnt--;
                }
                src->samples[src->sample_cnt++] =
                        (sample_t){now, p->consumed - src->prev_consumed};
        }
        if (p->ok) {
                src->prev_t = now;
                src->prev_consumed = p->consumed;
        }
        for (size_t i = 0; i < RED_TOP_LIVE_MINUTES; i++) {
                d->live[i] = NAN;
        }
        for (size_t i = 0; i < src->sample_cnt; i++) {
                sample_t *s = &src->samples[i];
                long m;
                if (s->t <= from) {
                        continue;
                }
                src->samples[keep++] = *s;
                m = (long)((s->t - from - 1) / RED_TIME_US_PER_MIN);
                if (m >= 0 && m < RED_TOP_LIVE_MINUTES) {
                        d->live[m] = (isnan(d->live[m]) ? 0 : d->live[m]) +
                                     s->consumed;
                }
        }
        src->sample_cnt = keep;
}

/* --- a frame -------------------------------------------------------------- */

void red_top_data_clear(red_top_data_t *d)
{
        json_decref(d->hour);
        json_decref(d->day);
        json_decref(d->groups);
        json_decref(d->trend);
        json_decref(d->alerts);
        json_decref(d->workflows);
        memset(d, 0, sizeof(*d));
}

void red_top_fetch(red_top_src_t *src, const red_top_sel_t *sel, red_time_t now,
                   red_top_data_t *d)
{
        red_top_data_clear(d);
        d->now = now;
        d->hour_from = red_window_start(RED_WINDOW_HOURLY, now);
        d->day_from = d->hour_from - 23 * RED_TIME_US_PER_HOUR;
        fetch_queries(src, sel, d);
        scrape(src, sel->c->name, &d->pipe);
        live(src, sel->c->name, red_time_now(), d);
}
