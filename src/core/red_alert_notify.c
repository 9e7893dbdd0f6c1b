/* red_alert_notify - Alertmanager and webhook bodies, labels, annotations. */
#include "red_alert_notify.h"

#include <stdio.h>
#include <string.h>

/* --- bodies ------------------------------------------------------------- */

static red_time_t ends_of(const red_alert_note_t *n, red_time_t now)
{
        if (n->ends_at != INT64_MIN) {
                /* Alertmanager rejects an end before the start */
                return n->ends_at < n->starts_at ? n->starts_at : n->ends_at;
        }
        return (now > n->starts_at ? now : n->starts_at) + n->hold_us;
}

static void put_time(red_buf_t *out, red_time_t t)
{
        char ts[RED_TIME_FMT_SIZE];

        red_time_format(t, ts, sizeof(ts));
        red_buf_printf(out, "\"%s\"", ts);
}

/* base + path as a JSON string (one slash between them). */
static void put_generator(red_buf_t *out, const red_alert_note_t *n,
                          const char *base)
{
        size_t blen = strlen(base);
        red_buf_t url;

        while (blen && base[blen - 1] == '/') {
                blen--;
        }
        red_buf_init(&url);
        red_buf_append(&url, base, blen);
        red_buf_puts(&url, n->generator);
        red_buf_put_json_str(out, url.data ? url.data : "", url.len);
        red_buf_destroy(&url);
}

void red_alert_notify_am(const red_alert_note_t *n, size_t cnt, red_time_t now,
                         const char *base, red_buf_t *out)
{
        red_buf_putc(out, '[');
        for (size_t i = 0; i < cnt; i++) {
                red_buf_puts(out, i ? ",{\"labels\":" : "{\"labels\":");
                red_buf_puts(out, n[i].labels);
                red_buf_puts(out, ",\"annotations\":");
                red_buf_puts(out, n[i].annotations);
                red_buf_puts(out, ",\"startsAt\":");
                put_time(out, n[i].starts_at);
                red_buf_puts(out, ",\"endsAt\":");
                put_time(out, ends_of(&n[i], now));
                if (base && *base && n[i].generator && *n[i].generator) {
                        red_buf_puts(out, ",\"generatorURL\":");
                        put_generator(out, &n[i], base);
                }
                red_buf_putc(out, '}');
        }
        red_buf_putc(out, ']');
}

void red_alert_notify_webhook(const red_alert_note_t *n, const char *base,
                              red_buf_t *out)
{
        red_buf_puts(out, "{\"version\":\"1\",\"alert_id\":");
        red_buf_put_json_str(out, n->alert_id, strlen(n->alert_id));
        red_buf_puts(out, ",\"status\":");
        red_buf_put_json_str(out, n->status, strlen(n->status));
        red_buf_puts(out, ",\"contract\":");
        red_buf_put_json_str(out, n->contract, strlen(n->contract));
        red_buf_puts(out, ",\"rule_id\":");
        red_buf_put_json_str(out, n->rule_id, strlen(n->rule_id));
        red_buf_puts(out, ",\"severity\":");
        red_buf_put_json_str(out, n->severity, strlen(n->severity));
        red_buf_puts(out, ",\"starts_at\":");
        put_time(out, n->starts_at);
        red_buf_puts(out, ",\"ends_at\":");
        if (n->ends_at == INT64_MIN) {
                red_buf_puts(out, "null");
        } else {
                put_time(out, ends_of(n, 0));
        }
        red_buf_puts(out, ",\"labels\":");
        red_buf_puts(out, n->labels);
        red_buf_puts(out, ",\"annotations\":");
        red_buf_puts(out, n->annotations);
        red_buf_puts(out, ",\"generator_url\":");
        if (base && *base && n->generator && *n->generator) {
                put_generator(out, n, base);
        } else {
                red_buf_puts(out, "null");
        }
        red_buf_puts(out, ",\"alert\":");
        red_buf_puts(out, n->payload);
        red_buf_putc(out, '}');
}

/* --- per-event alerts ------------------------------------------------------
 */

/* "name":"value" (strings only: Alertmanager's labels and annotations). */
static void member(red_buf_t *out, bool first, const char *name,
                   const char *value, size_t len)
{
        if (!first) {
                red_buf_putc(out, ',');
        }
        red_buf_put_json_str(out, name, strlen(name));
        red_buf_putc(out, ':');
        red_buf_put_json_str(out, value, len);
}

static void member_double(red_buf_t *out, const char *name, double v)
{
        red_buf_t num;

        red_buf_init(&num);
        red_buf_put_double(&num, v);
        member(out, false, name, num.data ? num.data : "", num.len);
        red_buf_destroy(&num);
}

static void member_id(red_buf_t *out, const red_uuid_t *id)
{
        char uid[RED_UUID_STR_SIZE];

        red_uuid_format(id, uid);
        member(out, false, "alert_id", uid, strlen(uid));
}

void red_alert_notify_labels(const red_contract_t *c,
                             const red_alert_match_t *m, red_buf_t *out)
{
        const red_alerts_t *a = c->alerts;
        const red_alert_rule_t *r = &a->rules[m->rule];

        red_buf_putc(out, '{');
        member(out, true, "alertname", r->id, strlen(r->id));
        member(out, false, "severity", r->severity, strlen(r->severity));
        member(out, false, "contract", c->name, strlen(c->name));
        member(out, false, "metric_name", r->metric, strlen(r->metric));
        if (a->scope_slot >= 0 && m->scope[0]) {
                member(out, false, c->slot_names[a->scope_slot], m->scope,
                       strlen(m->scope));
        }
        member(out, false, "source", "reducerd", 8);
        red_buf_putc(out, '}');
}

void red_alert_notify_annotations(const red_contract_t *c,
                                  const red_alert_match_t *m,
                                  const red_uuid_t *id, red_buf_t *out)
{
        const red_alert_rule_t *r = &c->alerts->rules[m->rule];
        red_buf_t msg;

        red_buf_init(&msg);
        red_alert_message(c, m, &msg);
        red_buf_putc(out, '{');
        member(out, true, "summary", msg.data ? msg.data : "", msg.len);
        member_double(out, "value", m->value);
        member_double(out, "threshold", r->threshold);
        member_id(out, id);
        red_buf_putc(out, '}');
        red_buf_destroy(&msg);
}

void red_alert_notify_window_annotations(const red_contract_t *c,
                                         const red_alert_window_eval_t *e,
                                         const red_uuid_t *id, red_buf_t *out)
{
        const red_window_rule_t *r = &c->alerts->window_rules[e->rule];
        char ts[RED_TIME_FMT_SIZE];
        red_buf_t msg;

        red_buf_init(&msg);
        red_alert_window_message(c, e, &msg);
        red_buf_putc(out, '{');
        member(out, true, "summary", msg.data ? msg.data : "", msg.len);
        member_double(out, "value", e->value);
        member_double(out, "threshold", r->threshold);
        red_time_format(e->window_start, ts, sizeof(ts));
        member(out, false, "window_start", ts, strlen(ts));
        red_time_format(e->window_end, ts, sizeof(ts));
        member(out, false, "window_end", ts, strlen(ts));
        member_id(out, id);
        red_buf_putc(out, '}');
        red_buf_destroy(&msg);
}

/* --- links into the read API -------------------------------------------------
 */

/* Query values here are names ([a-z0-9_.-]) and timestamps: only ':'
 * and '+' would need care, and red_time_format writes neither '+'. */
void red_alert_notify_generator(const red_contract_t *c,
                                const red_alert_match_t *m, red_buf_t *out)
{
        char from[RED_TIME_FMT_SIZE], to[RED_TIME_FMT_SIZE];

        red_time_format(m->time - RED_TIME_US_PER_HOUR, from, sizeof(from));
        red_time_format(m->time + RED_TIME_US_PER_HOUR, to, sizeof(to));
        red_buf_printf(out, "/v1/alerts?contract=%s&rule=%s&from=%s&to=%s",
                       c->name, c->alerts->rules[m->rule].id, from, to);
}

void red_alert_notify_window_generator(const red_contract_t *c,
                                       const red_alert_window_eval_t *e,
                                       red_buf_t *out)
{
        const red_window_rule_t *r = &c->alerts->window_rules[e->rule];
        const red_agg_t *a = &c->aggs[r->agg];
        char from[RED_TIME_FMT_SIZE], to[RED_TIME_FMT_SIZE];

        red_time_format(e->window_start, from, sizeof(from));
        red_time_format(e->window_end, to, sizeof(to));
        red_buf_printf(out,
                       "/v1/aggregations/%s/series?window=%s&grouping=%s&"
                       "from=%s&to=%s",
                       a->name, red_window_type_name(e->wt),
                       a->groupings[e->grouping].name, from, to);
}
