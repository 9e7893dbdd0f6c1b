/* red_sink_walert - rules over windows: judged cells, locked instances. */
#include "red_sink_walert.h"

#include "red_alert_notify.h"
#include "red_buf.h"
#include "red_log.h"
#include "red_map.h"
#include "red_time.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An instance of the batch: its locked row, then its new state. */
typedef struct inst_s {
        char *key; /* "rule\x1fscope" */
        int rule;
        const char *scope; /* borrowed from a judgement */
        red_alert_window_t st;
        red_uuid_t alert_id; /* of the current or last firing */
        bool has_id;
        const red_alert_window_eval_t *last; /* the last judgement applied */
} inst_t;

/* Lines logged per write; the rest is summed up in one more line. */
#define WALERT_LOG_LINES 10

typedef struct log_line_s {
        int rule;
        bool resolved;
        char msg[256];
} log_line_t;

struct red_sink_walert_s {
        const red_contract_t *c;
        const red_alerts_t *a; /* NULL: no window rules */
        int64_t hold_us;
        red_alert_window_eval_t *evals;
        size_t cnt, cap;
        inst_t *insts;
        size_t inst_cnt;
        red_map_t *by_key;
        red_buf_t json;
        size_t fired_by[3], resolved_by[3];
        size_t *rule_fired, *rule_resolved;
        log_line_t log[WALERT_LOG_LINES]; /* of the last write */
        size_t log_cnt, log_rest;
};

red_sink_walert_t *red_sink_walert_new(const red_contract_t *c)
{
        red_sink_walert_t *w = calloc(1, sizeof(*w));
        size_t n = c->alerts ? c->alerts->window_rule_cnt : 0;

        if (!w) {
                return NULL;
        }
        w->c = c;
        w->a = n ? c->alerts : NULL;
        w->hold_us = 5 * RED_TIME_US_PER_MIN;
        red_buf_init(&w->json);
        w->by_key = red_map_new();
        w->rule_fired = calloc(n + 1, sizeof(size_t));
        w->rule_resolved = calloc(n + 1, sizeof(size_t));
        if (!w->by_key || !w->rule_fired || !w->rule_resolved) {
                red_sink_walert_destroy(w);
                return NULL;
        }
        return w;
}

void red_sink_walert_clear(red_sink_walert_t *w)
{
        for (size_t i = 0; i < w->inst_cnt; i++) {
                free(w->insts[i].key);
        }
        free(w->insts);
        w->insts = NULL;
        w->inst_cnt = 0;
        red_map_clear(w->by_key);
        w->cnt = 0;
}

/* One more log line (or one more for the summary). */
static void note(red_sink_walert_t *w, const red_alert_window_eval_t *e,
                 bool resolved)
{
        log_line_t *l;
        red_buf_t msg;

        if (w->log_cnt == WALERT_LOG_LINES) {
                w->log_rest++;
                return;
        }
        l = &w->log[w->log_cnt++];
        l->rule = e->rule;
        l->resolved = resolved;
        red_buf_init(&msg);
        red_alert_window_message(w->c, e, &msg);
        snprintf(l->msg, sizeof(l->msg), "%s", msg.data ? msg.data : "");
        red_buf_destroy(&msg);
}

void red_sink_walert_log(const red_sink_walert_t *w)
{
        for (size_t i = 0; i < w->log_cnt; i++) {
                const red_window_rule_t *r =
                        &w->a->window_rules[w->log[i].rule];
                red_log_level_t level =
                        w->log[i].resolved                 ? RED_LOG_INFO
                        : !strcmp(r->severity, "CRITICAL") ? RED_LOG_ERROR
                        : !strcmp(r->severity, "WARNING")  ? RED_LOG_WARN
                                                           : RED_LOG_INFO;

                red_log(level, "alert", "%s %s %s: %s", r->severity, r->id,
                        w->log[i].resolved ? "resolved" : "fired",
                        w->log[i].msg);
        }
        if (w->log_rest) {
                red_log_info("alert",
                             "%s: %zu more window alerts fired or resolved "
                             "(reducerd_alert_instances has their state)",
                             w->c->name, w->log_rest);
        }
}

void red_sink_walert_destroy(red_sink_walert_t *w)
{
        if (!w) {
                return;
        }
        red_sink_walert_clear(w);
        red_map_destroy(w->by_key);
        free(w->evals);
        free(w->rule_fired);
        free(w->rule_resolved);
        red_buf_destroy(&w->json);
        free(w);
}

bool red_sink_walert_any(const red_sink_walert_t *w, int agg)
{
        if (!w->a) {
                return false;
        }
        for (size_t i = 0; i < w->a->window_rule_cnt; i++) {
                if (agg < 0 || w->a->window_rules[i].agg == agg) {
                        return true;
                }
        }
        return false;
}

void red_sink_walert_set_hold(red_sink_walert_t *w, int64_t hold_us)
{
        w->hold_us = hold_us;
}

const size_t *red_sink_walert_fired(const red_sink_walert_t *w)
{
        return w->fired_by;
}

const size_t *red_sink_walert_resolved(const red_sink_walert_t *w)
{
        return w->resolved_by;
}

const size_t *red_sink_walert_rule_fired(const red_sink_walert_t *w)
{
        return w->rule_fired;
}

const size_t *red_sink_walert_rule_resolved(const red_sink_walert_t *w)
{
        return w->rule_resolved;
}

int red_sink_walert_observe(red_sink_walert_t *w, const red_cell_t *cell,
                            bool final)
{
        if (!w || !w->a) {
                return 0;
        }
        for (size_t r = 0; r < w->a->window_rule_cnt; r++) {
                if (w->cnt == w->cap) {
                        size_t ncap = w->cap ? w->cap * 2 : 64;
                        red_alert_window_eval_t *n =
                                realloc(w->evals, ncap * sizeof(*n));
                        if (!n) {
                                return -ENOMEM;
                        }
                        w->evals = n;
                        w->cap = ncap;
                }
                if (red_alert_window_judge(w->c, (int)r, cell, final,
                                           &w->evals[w->cnt])) {
                        w->cnt++;
                }
        }
        return 0;
}

/* --- locking the instances ------------------------------------------ */

/* Judgements in (rule, scope, window start) order: an instance's are
 * applied oldest window first, a change before the same window's final
 * judgement. */
static int cmp_eval(const void *x, const void *y)
{
        const red_alert_window_eval_t *a = x, *b = y;
        int r;

        if (a->rule != b->rule) {
                return a->rule < b->rule ? -1 : 1;
        }
        if ((r = strcmp(a->scope, b->scope))) {
                return r;
        }
        if (a->window_start != b->window_start) {
                return a->window_start < b->window_start ? -1 : 1;
        }
        return (int)a->final - (int)b->final;
}

static bool inst_eq(const void *item, const void *key)
{
        return !strcmp(((const inst_t *)item)->key, key);
}

static char *inst_key(const char *rule, const char *scope)
{
        char *k;

        return asprintf(&k, "%s\x1f%s", rule, scope) < 0 ? NULL : k;
}

/* The distinct instances of the sorted judgements. */
static int collect(red_sink_walert_t *w)
{
        if (!(w->insts = calloc(w->cnt + 1, sizeof(*w->insts)))) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < w->cnt; i++) {
                const red_alert_window_eval_t *e = &w->evals[i];
                inst_t *in;

                if (i && e->rule == w->evals[i - 1].rule &&
                    !strcmp(e->scope, w->evals[i - 1].scope)) {
                        continue;
                }
                in = &w->insts[w->inst_cnt];
                in->rule = e->rule;
                in->scope = e->scope;
                red_alert_window_init(&in->st);
                if (!(in->key = inst_key(w->a->window_rules[e->rule].id,
                                         e->scope)) ||
                    red_map_insert(
                            w->by_key,
                            red_map_hash_bytes(in->key, strlen(in->key), 0),
                            in)) {
                        free(in->key);
                        in->key = NULL;
                        return -ENOMEM;
                }
                w->inst_cnt++;
        }
        return 0;
}

static red_time_t time_col(PGresult *res, int row, int col)
{
        return PQgetisnull(res, row, col)
                       ? INT64_MIN
                       : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

/* Creates and locks the instances' rows (in key order: replicas judging
 * the same instances cannot deadlock) and loads their states. */
static red_sink_result_t lock_insts(red_sink_walert_t *w, red_sink_io_t *io,
                                    char *errstr, size_t size)
{
        red_sink_result_t r;
        PGresult *res;

        red_buf_reset(&w->json);
        red_buf_putc(&w->json, '[');
        for (size_t i = 0; i < w->inst_cnt; i++) {
                const char *id = w->a->window_rules[w->insts[i].rule].id;

                red_buf_puts(&w->json, i ? ",{\"r\":" : "{\"r\":");
                red_buf_put_json_str(&w->json, id, strlen(id));
                red_buf_puts(&w->json, ",\"s\":");
                red_buf_put_json_str(&w->json, w->insts[i].scope,
                                     strlen(w->insts[i].scope));
                red_buf_putc(&w->json, '}');
        }
        red_buf_putc(&w->json, ']');
        if ((r = red_sink_io_exec_json(
                     io,
                     "INSERT INTO reducerd_alert_instances AS i (contract, "
                     "rule_id, scope) SELECT $1, v.r, v.s FROM "
                     "jsonb_to_recordset($2::jsonb) AS v(r text, s text) "
                     "ORDER BY 2, 3 ON CONFLICT (contract, rule_id, scope) DO "
                     "UPDATE SET updated_at = now() RETURNING i.rule_id, "
                     "i.scope, i.state, (extract(epoch FROM i.window_start) * "
                     "1000000)::bigint, (extract(epoch FROM i.since) * "
                     "1000000)::bigint, (extract(epoch FROM i.resolved_at) * "
                     "1000000)::bigint, i.alert_id",
                     w->c->name, &w->json, &res, errstr, size))) {
                return r;
        }
        for (int row = 0; row < PQntuples(res); row++) {
                char *key = inst_key(PQgetvalue(res, row, 0),
                                     PQgetvalue(res, row, 1));
                inst_t *in = key ? red_map_find(w->by_key,
                                                red_map_hash_bytes(
                                                        key, strlen(key), 0),
                                                inst_eq, key)
                                 : NULL;
                int state =
                        red_alert_window_state_parse(PQgetvalue(res, row, 2));

                free(key);
                if (!in || state < 0) {
                        snprintf(errstr, size,
                                 "reducerd_alert_instances returned an "
                                 "unknown row (%s, %s)",
                                 PQgetvalue(res, row, 0),
                                 PQgetvalue(res, row, 2));
                        PQclear(res);
                        return RED_SINK_FATAL;
                }
                in->st.state = (red_alert_window_state_t)state;
                in->st.window_start = time_col(res, row, 3);
                in->st.since = time_col(res, row, 4);
                in->st.resolved = time_col(res, row, 5);
                in->has_id = !PQgetisnull(res, row, 6) &&
                             !red_uuid_parse(PQgetvalue(res, row, 6), 36,
                                             &in->alert_id);
        }
        PQclear(res);
        return RED_SINK_OK;
}

/* --- what a transition produces --------------------------------------- */

/* A fired or resolved alert: row, topic event, delivery. */
static void emit(red_sink_walert_t *w, inst_t *in,
                 const red_alert_window_eval_t *e, bool resolved,
                 red_time_t started, red_sink_alert_t *rows,
                 red_sink_outbox_t *out, red_sink_alertq_t *q)
{
        const red_contract_t *c = w->c;
        const red_alerts_t *a = w->a;
        const red_window_rule_t *r = &a->window_rules[e->rule];
        red_buf_t payload, labels, notes, gen, msg;
        int sev = red_sink_alert_severity(r->severity);

        red_buf_init(&payload);
        red_buf_init(&labels);
        red_buf_init(&notes);
        red_buf_init(&gen);
        red_buf_init(&msg);
        note(w, e, resolved);
        red_alert_window_json(c, e, &in->alert_id, resolved, &payload);
        red_alert_window_labels(c, e, &labels);
        red_alert_notify_window_annotations(c, e, &in->alert_id, &notes);
        red_alert_notify_window_generator(c, e, &gen);
        if (!resolved) {
                red_sink_alert_row_t row = {0};
                const red_agg_t *agg = &c->aggs[r->agg];
                const char *scope = NULL;

                /* the scope column (e.g. agent_id) from a key column of
                 * the same name */
                for (size_t k = 0;
                     a->scope_slot >= 0 && k < agg->key_cnt && k < 8; k++) {
                        if (!strcmp(agg->key_columns[k],
                                    c->slot_names[a->scope_slot])) {
                                scope = red_alert_window_key(e, k);
                        }
                }
                red_alert_window_message(c, e, &msg);
                row.id = &in->alert_id;
                row.rule_id = r->id;
                row.severity = r->severity;
                row.metric = r->metric;
                row.threshold = r->threshold;
                row.value = e->value;
                row.message = msg.data ? msg.data : "";
                row.message_len = msg.len;
                row.tags_json = labels.data;
                row.time = e->time;
                row.scope = scope;
                red_sink_alert_add_row(rows, &row);
                w->fired_by[sev]++;
                w->rule_fired[e->rule]++;
        } else {
                w->resolved_by[sev]++;
                w->rule_resolved[e->rule]++;
        }
        if (a->publish.topic) {
                red_sink_outbox_add(out, a->publish.topic, r->id,
                                    resolved ? "alert.resolved"
                                             : a->publish.event_type,
                                    &in->alert_id, NULL, payload.data);
        }
        if (red_sink_alertq_enabled(q)) {
                red_sink_alertq_item_t it = {0};

                it.alert_id = &in->alert_id;
                it.rule_id = r->id;
                it.severity = r->severity;
                it.resolved = resolved;
                it.labels = labels.data ? labels.data : "{}";
                it.annotations = notes.data ? notes.data : "{}";
                it.payload = payload.data ? payload.data : "{}";
                it.starts_at = started;
                it.ends_at = resolved ? e->time : INT64_MIN;
                it.hold_us = w->hold_us;
                it.generator = gen.data;
                red_sink_alertq_add(q, &it);
        }
        red_buf_destroy(&payload);
        red_buf_destroy(&labels);
        red_buf_destroy(&notes);
        red_buf_destroy(&gen);
        red_buf_destroy(&msg);
}

/* Applies the judgements, instance by instance. */
static void apply(red_sink_walert_t *w, red_sink_alert_t *rows,
                  red_sink_outbox_t *out, red_sink_alertq_t *q)
{
        inst_t *in = NULL;

        for (size_t i = 0; i < w->cnt; i++) {
                const red_alert_window_eval_t *e = &w->evals[i];
                const red_window_rule_t *r = &w->a->window_rules[e->rule];
                red_time_t started = in ? in->st.since : INT64_MIN;
                red_alert_window_event_t ev;

                if (!in || in->rule != e->rule || strcmp(in->scope, e->scope)) {
                        in = in ? in + 1 : w->insts;
                }
                started = in->st.since;
                ev = red_alert_window_step(r, &in->st, e);
                if (ev != RED_WA_NONE ||
                    in->st.window_start == e->window_start) {
                        in->last = e;
                }
                if (ev == RED_WA_FIRED) {
                        red_alert_window_id(w->c, e, e->time, &in->alert_id);
                        in->has_id = true;
                        emit(w, in, e, false, e->time, rows, out, q);
                } else if (ev == RED_WA_RESOLVED) {
                        if (!in->has_id) {
                                /* fired before this table kept ids */
                                red_alert_window_id(w->c, e, started,
                                                    &in->alert_id);
                                in->has_id = true;
                        }
                        emit(w, in, e, true, started, rows, out, q);
                }
        }
}

/* --- writing the instances back ------------------------------------------ */

static void put_time_or_null(red_buf_t *b, const char *name, red_time_t t)
{
        char ts[RED_TIME_FMT_SIZE];

        red_buf_printf(b, ",\"%s\":", name);
        if (t == INT64_MIN) {
                red_buf_puts(b, "null");
                return;
        }
        red_time_format(t, ts, sizeof(ts));
        red_buf_printf(b, "\"%s\"", ts);
}

/* One instance's new row as a JSON record; firing ones keep what the
 * delivery worker re-sends to Alertmanager. */
static void inst_json(red_sink_walert_t *w, const inst_t *in, red_buf_t *b)
{
        const char *id = w->a->window_rules[in->rule].id;
        char uid[RED_UUID_STR_SIZE];

        red_buf_puts(b, "{\"r\":");
        red_buf_put_json_str(b, id, strlen(id));
        red_buf_puts(b, ",\"s\":");
        red_buf_put_json_str(b, in->scope, strlen(in->scope));
        red_buf_printf(b, ",\"st\":\"%s\"",
                       red_alert_window_state_name(in->st.state));
        put_time_or_null(b, "ws", in->st.window_start);
        put_time_or_null(b, "si", in->st.since);
        put_time_or_null(b, "ra", in->st.resolved);
        if (in->has_id) {
                red_uuid_format(&in->alert_id, uid);
                red_buf_printf(b, ",\"id\":\"%s\"", uid);
        }
        if (in->last) {
                red_buf_puts(b, ",\"v\":");
                red_buf_put_double(b, in->last->value);
        }
        if (in->st.state == RED_WA_FIRING && in->last) {
                red_buf_puts(b, ",\"l\":");
                red_alert_window_labels(w->c, in->last, b);
                red_buf_puts(b, ",\"a\":");
                red_alert_notify_window_annotations(w->c, in->last,
                                                    &in->alert_id, b);
                red_buf_puts(b, ",\"g\":");
                {
                        red_buf_t gen;
                        red_buf_init(&gen);
                        red_alert_notify_window_generator(w->c, in->last, &gen);
                        red_buf_put_json_str(b, gen.data ? gen.data : "",
                                             gen.len);
                        red_buf_destroy(&gen);
                }
        }
        red_buf_putc(b, '}');
}

static red_sink_result_t store_insts(red_sink_walert_t *w, red_sink_io_t *io,
                                     char *errstr, size_t size)
{
        red_buf_reset(&w->json);
        red_buf_putc(&w->json, '[');
        for (size_t i = 0; i < w->inst_cnt; i++) {
                if (i) {
                        red_buf_putc(&w->json, ',');
                }
                inst_json(w, &w->insts[i], &w->json);
        }
        red_buf_putc(&w->json, ']');
        return red_sink_io_exec_json(
                io,
                "UPDATE reducerd_alert_instances i SET state = v.st, "
                "window_start = v.ws, since = v.si, resolved_at = v.ra, "
                "alert_id = v.id, value = coalesce(v.v, i.value), labels = "
                "v.l, annotations = v.a, generator = v.g, updated_at = now() "
                "FROM jsonb_to_recordset($2::jsonb) AS v(r text, s text, st "
                "text, ws timestamptz, si timestamptz, ra timestamptz, id "
                "uuid, v float8, l jsonb, a jsonb, g text) WHERE i.contract = "
                "$1 AND i.rule_id = v.r AND i.scope = v.s",
                w->c->name, &w->json, NULL, errstr, size);
}

red_sink_result_t red_sink_walert_write(red_sink_walert_t *w, red_sink_io_t *io,
                                        red_sink_alert_t *rows,
                                        red_sink_outbox_t *out,
                                        red_sink_alertq_t *q, char *errstr,
                                        size_t size)
{
        red_sink_result_t r;

        memset(w->fired_by, 0, sizeof(w->fired_by));
        memset(w->resolved_by, 0, sizeof(w->resolved_by));
        w->log_cnt = w->log_rest = 0;
        if (w->a) {
                memset(w->rule_fired, 0,
                       w->a->window_rule_cnt * sizeof(size_t));
                memset(w->rule_resolved, 0,
                       w->a->window_rule_cnt * sizeof(size_t));
        }
        if (!w->cnt) {
                return RED_SINK_OK;
        }
        qsort(w->evals, w->cnt, sizeof(*w->evals), cmp_eval);
        if (collect(w)) {
                snprintf(errstr, size, "out of memory");
                return RED_SINK_RETRY;
        }
        if ((r = lock_insts(w, io, errstr, size))) {
                return r;
        }
        apply(w, rows, out, q);
        return store_insts(w, io, errstr, size);
}
