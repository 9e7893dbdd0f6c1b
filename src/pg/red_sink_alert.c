/* red_sink_alert - alert cooldowns under row locks, alert rows and
 * alert.triggered events, in the batch transaction. */
#include "red_sink_alert.h"

#include "red_alert_notify.h"
#include "red_buf.h"
#include "red_log.h"
#include "red_pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct red_sink_alert_s {
        const red_contract_t *c;
        const red_alerts_t *a; /* NULL: no rules */
        char *copy;            /* COPY into the alerts table; NULL: none */
        size_t fired;          /* alerts of the last write */
        size_t fired_by[3];    /* ... by severity: CRITICAL, WARNING, INFO */
        size_t *rule_fired;    /* ... by rule */
        red_buf_t buf;         /* COPY data */
        red_buf_t json;        /* rendering */
};

red_sink_alert_t *red_sink_alert_new(const red_contract_t *c)
{
        red_sink_alert_t *w = calloc(1, sizeof(*w));

        if (!w) {
                return NULL;
        }
        w->c = c;
        w->a = c->alerts;
        red_buf_init(&w->buf);
        red_buf_init(&w->json);
        if (!(w->rule_fired = calloc((c->alerts ? c->alerts->rule_cnt : 0) + 1,
                                     sizeof(size_t)))) {
                red_sink_alert_destroy(w);
                return NULL;
        }
        return w;
}

void red_sink_alert_destroy(red_sink_alert_t *w)
{
        if (!w) {
                return;
        }
        free(w->copy);
        free(w->rule_fired);
        red_buf_destroy(&w->buf);
        red_buf_destroy(&w->json);
        free(w);
}

int red_sink_alert_prepare(red_sink_alert_t *w, red_sink_io_t *io, char *errstr,
                           size_t size)
{
        static const char *const state_cols[] = {"contract", "rule_id", "scope",
                                                 "last_fired"};
        const red_alerts_t *a = w->a;
        const char *cols[12] = {"alert_id",    "rule_id",   "severity",
                                "metric_name", "threshold", "actual_value",
                                "message",     "tags",      "correlation_id",
                                "triggered_at"};
        size_t n = 10;
        char table[80], scope[80] = "";

        free(w->copy);
        w->copy = NULL;
        if (!a) {
                return 0;
        }
        if (red_sink_io_check_columns(io, w->c->name, "reducerd_alert_state",
                                      state_cols, 4, errstr, size)) {
                return -1;
        }
        if (!a->table) {
                return 0;
        }
        if (a->scope_slot >= 0) {
                cols[n++] = w->c->slot_names[a->scope_slot];
                if (red_pg_ident(cols[n - 1], scope + 2, sizeof(scope) - 2)) {
                        snprintf(errstr, size, "invalid scope column");
                        return -1;
                }
                scope[0] = ',';
                scope[1] = ' ';
        }
        if (red_pg_ident(a->table, table, sizeof(table))) {
                snprintf(errstr, size, "invalid alerts table name");
                return -1;
        }
        if (red_sink_io_check_columns(io, w->c->name, a->table, cols, n, errstr,
                                      size)) {
                return -1;
        }
        if (asprintf(&w->copy,
                     "COPY %s (alert_id, rule_id, severity, metric_name, "
                     "threshold, actual_value, message, tags, correlation_id, "
                     "triggered_at%s) FROM STDIN",
                     table, scope) < 0) {
                w->copy = NULL;
                snprintf(errstr, size, "out of memory");
                return -1;
        }
        return 0;
}

/* [{"r": rule, "s": scope}, ...] of the matches (@p fired: only those that
 * fired, with "t": the time they last fired). */
static void keys_json(const red_alerts_t *a, const red_alert_match_t *m,
                      size_t cnt, const red_alert_state_t *st, red_buf_t *out)
{
        bool first = true;

        red_buf_putc(out, '[');
        for (size_t i = 0; i < cnt; i++) {
                const char *rule = a->rules[m[i].rule].id;

                if (st && !m[i].fires) {
                        continue;
                }
                red_buf_puts(out, first ? "{\"r\":" : ",{\"r\":");
                first = false;
                red_buf_put_json_str(out, rule, strlen(rule));
                red_buf_puts(out, ",\"s\":");
                red_buf_put_json_str(out, m[i].scope, strlen(m[i].scope));
                if (st) {
                        char ts[RED_TIME_FMT_SIZE];
                        red_time_format(
                                red_alert_state_get(st, rule, m[i].scope), ts,
                                sizeof(ts));
                        red_buf_printf(out, ",\"t\":\"%s\"", ts);
                }
                red_buf_putc(out, '}');
        }
        red_buf_putc(out, ']');
}

/* Locks (creating) the state rows of the matched rules and loads when each
 * last fired into @p st. */
static red_sink_result_t lock_state(red_sink_alert_t *w, red_sink_io_t *io,
                                    red_alert_matches_t *am,
                                    red_alert_state_t *st, char *errstr,
                                    size_t size)
{
        red_sink_result_t r;
        PGresult *res;

        red_buf_reset(&w->json);
        keys_json(w->a, am->items, am->cnt, NULL, &w->json);
        /* in key order, like the cells, so replicas cannot deadlock */
        if ((r = red_sink_io_exec_json(
                     io,
                     "INSERT INTO reducerd_alert_state AS st (contract, "
                     "rule_id, scope) SELECT DISTINCT $1, v.r, v.s FROM "
                     "jsonb_to_recordset($2::jsonb) AS v(r text, s text) "
                     "ORDER BY 2, 3 ON CONFLICT (contract, rule_id, scope) DO "
                     "UPDATE SET updated_at = now() RETURNING st.rule_id, "
                     "st.scope, (extract(epoch FROM st.last_fired) * "
                     "1000000)::bigint",
                     w->c->name, &w->json, &res, errstr, size))) {
                return r;
        }
        for (int row = 0; row < PQntuples(res) && !r; row++) {
                if (PQgetisnull(res, row, 2)) {
                        continue;
                }
                if (red_alert_state_set(
                            st, PQgetvalue(res, row, 0),
                            PQgetvalue(res, row, 1),
                            strtoll(PQgetvalue(res, row, 2), NULL, 10))) {
                        snprintf(errstr, size, "out of memory");
                        r = RED_SINK_RETRY;
                }
        }
        PQclear(res);
        return r;
}

void red_sink_alert_add_row(red_sink_alert_t *w,
                            const red_sink_alert_row_t *row)
{
        const red_alerts_t *a = w->a;
        red_buf_t *b = &w->buf;

        if (!w->copy) {
                return;
        }
        red_sink_io_put_uuid(b, row->id);
        red_buf_putc(b, '\t');
        red_buf_put_copy_str(b, row->rule_id, strlen(row->rule_id));
        red_buf_printf(b, "\t%s\t", row->severity);
        red_buf_put_copy_str(b, row->metric, strlen(row->metric));
        red_buf_putc(b, '\t');
        red_buf_put_double(b, row->threshold);
        red_buf_putc(b, '\t');
        red_buf_put_double(b, row->value);
        red_buf_putc(b, '\t');
        red_buf_put_copy_str(b, row->message, row->message_len);
        red_buf_putc(b, '\t');
        if (row->tags && row->tags->type == RED_FT_OBJECT) {
                red_sink_io_put_object(b, row->tags);
        } else if (row->tags_json) {
                red_buf_put_copy_str(b, row->tags_json, strlen(row->tags_json));
        } else {
                red_buf_puts(b, "{}");
        }
        red_buf_putc(b, '\t');
        if (row->correlation && row->correlation[0]) {
                red_buf_put_copy_str(b, row->correlation,
                                     strlen(row->correlation));
        } else {
                red_buf_puts(b, "\\N");
        }
        red_buf_putc(b, '\t');
        red_sink_io_put_time(b, row->time);
        if (a->scope_slot >= 0) {
                red_buf_putc(b, '\t');
                if (row->scope && row->scope[0]) {
                        red_buf_put_copy_str(b, row->scope, strlen(row->scope));
                } else {
                        red_buf_puts(b, "\\N");
                }
        }
        red_buf_putc(b, '\n');
}

/* A fired alert: its row, its event in the outbox, its delivery. */
static void alert_row(red_sink_alert_t *w, const red_alert_match_t *m,
                      red_sink_outbox_t *out, red_sink_alertq_t *q)
{
        const red_contract_t *c = w->c;
        const red_alerts_t *a = w->a;
        const red_alert_rule_t *rule = &a->rules[m->rule];
        const red_value_t *v;
        red_sink_alert_row_t row;
        red_buf_t payload;
        red_uuid_t id;
        char corr[128] = "";

        red_alert_id(c, m, &id);
        v = a->correlation_slot >= 0
                    ? red_event_value(m->ev, a->correlation_slot)
                    : NULL;
        if (v && v->type == RED_FT_STRING) {
                snprintf(corr, sizeof(corr), "%.*s", (int)v->s.len, v->s.p);
        }
        red_buf_reset(&w->json);
        red_alert_message(c, m, &w->json);
        memset(&row, 0, sizeof(row));
        row.id = &id;
        row.rule_id = rule->id;
        row.severity = rule->severity;
        row.metric = rule->metric;
        row.threshold = rule->threshold;
        row.value = m->value;
        row.message = w->json.data ? w->json.data : "";
        row.message_len = w->json.len;
        row.tags =
                a->tags_slot >= 0 ? red_event_value(m->ev, a->tags_slot) : NULL;
        row.correlation = corr;
        row.time = m->time;
        row.scope = m->scope;
        red_sink_alert_add_row(w, &row);
        red_buf_init(&payload);
        red_alert_json(c, m, &payload);
        if (a->publish.topic) {
                /* keyed by metric: the alerts of a metric stay in order */
                red_sink_outbox_add(out, a->publish.topic, rule->metric,
                                    a->publish.event_type, &id,
                                    corr[0] ? corr : NULL, payload.data);
        }
        if (red_sink_alertq_enabled(q)) {
                red_sink_alertq_item_t it = {0};
                red_buf_t labels, notes, gen;

                red_buf_init(&labels);
                red_buf_init(&notes);
                red_buf_init(&gen);
                red_alert_notify_labels(c, m, &labels);
                red_alert_notify_annotations(c, m, &id, &notes);
                red_alert_notify_generator(c, m, &gen);
                it.alert_id = &id;
                it.rule_id = rule->id;
                it.severity = rule->severity;
                it.labels = labels.data ? labels.data : "{}";
                it.annotations = notes.data ? notes.data : "{}";
                it.payload = payload.data ? payload.data : "{}";
                it.starts_at = m->time;
                it.ends_at = INT64_MIN;
                /* the rule is quiet for its cooldown: the alert stands
                 * for that long */
                it.hold_us = rule->cooldown_us;
                it.generator = gen.data;
                red_sink_alertq_add(q, &it);
                red_buf_destroy(&labels);
                red_buf_destroy(&notes);
                red_buf_destroy(&gen);
        }
        red_buf_destroy(&payload);
}

/* The rows of the fired alerts, and when their rules last fired. */
static red_sink_result_t store_fired(red_sink_alert_t *w, red_sink_io_t *io,
                                     red_alert_matches_t *am,
                                     const red_alert_state_t *st, char *errstr,
                                     size_t size)
{
        red_sink_result_t r;

        if (w->copy && (w->buf.len || w->buf.failed) &&
            (r = red_sink_io_copy_in(io, w->copy, &w->buf, errstr, size))) {
                return r;
        }
        red_buf_reset(&w->buf);
        if (!w->fired) {
                return RED_SINK_OK;
        }
        red_buf_reset(&w->json);
        keys_json(w->a, am->items, am->cnt, st, &w->json);
        return red_sink_io_exec_json(
                io,
                "UPDATE reducerd_alert_state st SET last_fired = v.t, "
                "updated_at = now() FROM (SELECT DISTINCT * FROM "
                "jsonb_to_recordset($2::jsonb) AS v(r text, s text, t "
                "timestamptz)) v WHERE st.contract = $1 AND st.rule_id = v.r "
                "AND st.scope = v.s",
                w->c->name, &w->json, NULL, errstr, size);
}

void red_sink_alert_reset(red_sink_alert_t *w)
{
        red_buf_reset(&w->buf);
        w->fired = 0;
        memset(w->fired_by, 0, sizeof(w->fired_by));
        if (w->a) {
                memset(w->rule_fired, 0, w->a->rule_cnt * sizeof(size_t));
        }
}

red_sink_result_t red_sink_alert_write(red_sink_alert_t *w, red_sink_io_t *io,
                                       red_alert_matches_t *am,
                                       red_sink_outbox_t *out,
                                       red_sink_alertq_t *q, size_t *n,
                                       char *errstr, size_t size)
{
        const red_alerts_t *a = w->a;
        red_alert_state_t *st;
        red_sink_result_t r;
        size_t window_rows = w->buf.len;

        w->fired = 0;
        memset(w->fired_by, 0, sizeof(w->fired_by));
        if (a) {
                memset(w->rule_fired, 0, a->rule_cnt * sizeof(size_t));
        }
        if (!a || (!am->cnt && !window_rows)) {
                return RED_SINK_OK;
        }
        if (!am->cnt) {
                /* only the rows of window alerts */
                return store_fired(w, io, am, NULL, errstr, size);
        }
        if (!(st = red_alert_state_new())) {
                snprintf(errstr, size, "out of memory");
                return RED_SINK_RETRY;
        }
        if ((r = lock_state(w, io, am, st, errstr, size))) {
                goto done;
        }
        if (red_alert_cooldown(a, am->items, am->cnt, st)) {
                snprintf(errstr, size, "out of memory");
                r = RED_SINK_RETRY;
                goto done;
        }
        for (size_t i = 0; i < am->cnt; i++) {
                const char *sev = a->rules[am->items[i].rule].severity;

                if (!am->items[i].fires) {
                        continue;
                }
                alert_row(w, &am->items[i], out, q);
                w->fired++;
                w->fired_by[red_sink_alert_severity(sev)]++;
                w->rule_fired[am->items[i].rule]++;
        }
        r = store_fired(w, io, am, st, errstr, size);
        *n += w->fired;
done:
        red_alert_state_destroy(st);
        return r;
}

int red_sink_alert_severity(const char *severity)
{
        return !strcmp(severity, "CRITICAL")  ? 0
               : !strcmp(severity, "WARNING") ? 1
                                              : 2;
}

const size_t *red_sink_alert_fired(const red_sink_alert_t *w)
{
        return w->fired_by;
}

const size_t *red_sink_alert_rule_fired(const red_sink_alert_t *w)
{
        return w->rule_fired;
}

/* --- the log --------------------------------------------------------- */

/* Alert lines logged per batch; a storm is summarised in one more line (the
 * alerts table and topic have every alert). */
#define ALERT_LOG_LINES 10

static red_log_level_t alert_level(const char *severity)
{
        if (!strcmp(severity, "CRITICAL")) {
                return RED_LOG_ERROR;
        }
        if (!strcmp(severity, "WARNING")) {
                return RED_LOG_WARN;
        }
        return RED_LOG_INFO;
}

void red_sink_alert_log(const red_sink_alert_t *w,
                        const red_alert_matches_t *am)
{
        const red_alerts_t *a = w->a;
        red_log_level_t rest_level = RED_LOG_INFO;
        size_t logged = 0, rest = 0;
        red_buf_t msg;

        if (!a || !w->fired) {
                return;
        }
        red_buf_init(&msg);
        for (size_t i = 0; i < am->cnt; i++) {
                const red_alert_match_t *m = &am->items[i];
                const red_alert_rule_t *rule = &a->rules[m->rule];
                red_log_level_t level = alert_level(rule->severity);

                if (!m->fires) {
                        continue;
                }
                if (logged == ALERT_LOG_LINES) {
                        rest++;
                        if (level > rest_level) {
                                rest_level = level;
                        }
                        continue;
                }
                logged++;
                red_buf_reset(&msg);
                red_alert_message(w->c, m, &msg);
                red_log(level, "alert",
                        "%s %s: %s (%s, value %g, threshold %g%s%s)",
                        rule->severity, rule->id, msg.data ? msg.data : "",
                        rule->metric, m->value, rule->threshold,
                        m->scope[0] ? ", " : "", m->scope);
        }
        if (rest) {
                red_log(rest_level, "alert",
                        "%s: %zu more alerts in this batch, not logged "
                        "one by one (every alert is in table %s%s%s)",
                        w->c->name, rest, a->table,
                        a->publish.topic ? " and on topic " : "",
                        a->publish.topic ? a->publish.topic : "");
        }
        red_buf_destroy(&msg);
}
