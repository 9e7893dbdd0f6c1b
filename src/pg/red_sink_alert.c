/* red_sink_alert - alert cooldowns under row locks, alert rows and
 * alert.triggered events, in the batch transaction. */
#include "red_sink_alert.h"

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
        return w;
}

void red_sink_alert_destroy(red_sink_alert_t *w)
{
        if (!w) {
                return;
        }
        free(w->copy);
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
        const char *vals[2];
        red_sink_result_t r;
        PGresult *res;

        red_buf_reset(&w->json);
        keys_json(w->a, am->items, am->cnt, NULL, &w->json);
        if (w->json.failed) {
                snprintf(errstr, size, "out of memory");
                return RED_SINK_RETRY;
        }
        vals[0] = w->c->name;
        vals[1] = w->json.data;
        /* in key order, like the cells, so replicas cannot deadlock */
        if ((r = red_sink_io_exec(
                     io,
                     "INSERT INTO reducerd_alert_state AS st (contract, "
                     "rule_id, scope) SELECT DISTINCT $1, v.r, v.s FROM "
                     "jsonb_to_recordset($2::jsonb) AS v(r text, s text) "
                     "ORDER BY 2, 3 ON CONFLICT (contract, rule_id, scope) DO "
                     "UPDATE SET updated_at = now() RETURNING st.rule_id, "
                     "st.scope, (extract(epoch FROM st.last_fired) * "
                     "1000000)::bigint",
                     2, vals, &res, errstr, size))) {
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

/* One COPY line of a fired alert, and its event in the outbox. */
static void alert_row(red_sink_alert_t *w, const red_alert_match_t *m,
                      red_sink_outbox_t *out)
{
        const red_contract_t *c = w->c;
        const red_alerts_t *a = w->a;
        const red_alert_rule_t *rule = &a->rules[m->rule];
        const red_value_t *v;
        red_buf_t *b = &w->buf;
        red_uuid_t id;
        char corr[128] = "";

        red_alert_id(c, m, &id);
        v = a->correlation_slot >= 0
                    ? red_event_value(m->ev, a->correlation_slot)
                    : NULL;
        if (v && v->type == RED_FT_STRING) {
                snprintf(corr, sizeof(corr), "%.*s", (int)v->s.len, v->s.p);
        }
        if (w->copy) {
                red_sink_io_put_uuid(b, &id);
                red_buf_putc(b, '\t');
                red_buf_put_copy_str(b, rule->id, strlen(rule->id));
                red_buf_printf(b, "\t%s\t", rule->severity);
                red_buf_put_copy_str(b, rule->metric, strlen(rule->metric));
                red_buf_putc(b, '\t');
                red_buf_put_double(b, rule->threshold);
                red_buf_putc(b, '\t');
                red_buf_put_double(b, m->value);
                red_buf_putc(b, '\t');
                red_buf_reset(&w->json);
                red_alert_message(c, m, &w->json);
                red_buf_put_copy_str(b, w->json.data ? w->json.data : "",
                                     w->json.len);
                red_buf_putc(b, '\t');
                v = a->tags_slot >= 0 ? red_event_value(m->ev, a->tags_slot)
                                      : NULL;
                if (v && v->type == RED_FT_OBJECT) {
                        red_sink_io_put_object(b, v);
                } else {
                        red_buf_puts(b, "{}");
                }
                red_buf_putc(b, '\t');
                if (corr[0]) {
                        red_buf_put_copy_str(b, corr, strlen(corr));
                } else {
                        red_buf_puts(b, "\\N");
                }
                red_buf_putc(b, '\t');
                red_sink_io_put_time(b, m->time);
                if (a->scope_slot >= 0) {
                        red_buf_putc(b, '\t');
                        if (m->scope[0]) {
                                red_buf_put_copy_str(b, m->scope,
                                                     strlen(m->scope));
                        } else {
                                red_buf_puts(b, "\\N");
                        }
                }
                red_buf_putc(b, '\n');
        }
        if (a->publish.topic) {
                red_buf_t payload;

                red_buf_init(&payload);
                red_alert_json(c, m, &payload);
                /* keyed by metric: the alerts of a metric stay in order */
                red_sink_outbox_add(out, a->publish.topic, rule->metric,
                                    a->publish.event_type, &id,
                                    corr[0] ? corr : NULL, payload.data);
                red_buf_destroy(&payload);
        }
}

/* The rows of the fired alerts, and when their rules last fired. */
static red_sink_result_t store_fired(red_sink_alert_t *w, red_sink_io_t *io,
                                     red_alert_matches_t *am,
                                     const red_alert_state_t *st, char *errstr,
                                     size_t size)
{
        const char *vals[2];
        red_sink_result_t r;

        if (w->copy &&
            (r = red_sink_io_copy_in(io, w->copy, &w->buf, errstr, size))) {
                return r;
        }
        red_buf_reset(&w->json);
        keys_json(w->a, am->items, am->cnt, st, &w->json);
        if (w->json.failed) {
                snprintf(errstr, size, "out of memory");
                return RED_SINK_RETRY;
        }
        vals[0] = w->c->name;
        vals[1] = w->json.data;
        return red_sink_io_exec(
                io,
                "UPDATE reducerd_alert_state st SET last_fired = v.t, "
                "updated_at = now() FROM (SELECT DISTINCT * FROM "
                "jsonb_to_recordset($2::jsonb) AS v(r text, s text, t "
                "timestamptz)) v WHERE st.contract = $1 AND st.rule_id = v.r "
                "AND st.scope = v.s",
                2, vals, NULL, errstr, size);
}

red_sink_result_t red_sink_alert_write(red_sink_alert_t *w, red_sink_io_t *io,
                                       red_alert_matches_t *am,
                                       red_sink_outbox_t *out, size_t *n,
                                       char *errstr, size_t size)
{
        const red_alerts_t *a = w->a;
        red_alert_state_t *st;
        red_sink_result_t r;

        w->fired = 0;
        memset(w->fired_by, 0, sizeof(w->fired_by));
        if (!a || !am->cnt) {
                return RED_SINK_OK;
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
        red_buf_reset(&w->buf);
        for (size_t i = 0; i < am->cnt; i++) {
                const char *sev = a->rules[am->items[i].rule].severity;

                if (!am->items[i].fires) {
                        continue;
                }
                alert_row(w, &am->items[i], out);
                w->fired++;
                w->fired_by[!strcmp(sev, "CRITICAL")  ? 0
                            : !strcmp(sev, "WARNING") ? 1
                                                      : 2]++;
        }
        if (w->fired) {
                r = store_fired(w, io, am, st, errstr, size);
                *n += w->fired;
        }
done:
        red_alert_state_destroy(st);
        return r;
}

const size_t *red_sink_alert_fired(const red_sink_alert_t *w)
{
        return w->fired_by;
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
