/* red_alert - threshold matching, cooldowns and rendering of alerts. */
#include "red_alert.h"

#include "red_map.h"
#include "red_rows.h"
#include "red_time.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool red_alert_crosses(red_alert_op_t op, double v, double threshold)
{
        switch (op) {
        case RED_OP_GT:
                return v > threshold;
        case RED_OP_LT:
                return v < threshold;
        case RED_OP_GTE:
                return v >= threshold;
        case RED_OP_LTE:
                return v <= threshold;
        }
        return false;
}

/* A string/integer/uuid value as text (for scopes and templates). */
static size_t text_of(const red_value_t *v, char *buf, size_t size)
{
        if (!v) {
                buf[0] = '\0';
                return 0;
        }
        switch (v->type) {
        case RED_FT_STRING:
                return (size_t)snprintf(buf, size, "%.*s", (int)v->s.len,
                                        v->s.p);
        case RED_FT_INTEGER:
                return (size_t)snprintf(buf, size, "%lld", (long long)v->i);
        case RED_FT_NUMBER:
                return (size_t)snprintf(buf, size, "%g", v->d);
        case RED_FT_BOOLEAN:
                return (size_t)snprintf(buf, size, "%s",
                                        v->b ? "true" : "false");
        case RED_FT_UUID:
                if (size >= RED_UUID_STR_SIZE) {
                        red_uuid_format(&v->u, buf);
                        return 36;
                }
                break;
        default:
                break;
        }
        buf[0] = '\0';
        return 0;
}

bool red_alert_critical(const red_alerts_t *a, const red_event_t *ev)
{
        const red_value_t *name, *val;
        double v;

        if (!(a->on & (UINT64_C(1) << ev->kind->index)) ||
            !(name = red_event_value(ev, a->match_slot)) ||
            !(val = red_event_value(ev, a->value_slot))) {
                return false;
        }
        v = val->type == RED_FT_INTEGER ? (double)val->i : val->d;
        for (size_t i = 0; i < a->rule_cnt; i++) {
                const red_alert_rule_t *r = &a->rules[i];

                if (r->severity[0] == 'C' && strlen(r->metric) == name->s.len &&
                    !memcmp(r->metric, name->s.p, name->s.len) &&
                    red_alert_crosses(r->op, v, r->threshold)) {
                        return true;
                }
        }
        return false;
}

int red_alert_evaluate(const red_alerts_t *a, const red_event_t *ev,
                       red_alert_matches_t *out)
{
        const red_value_t *name, *val;
        double v;

        if (!(a->on & (UINT64_C(1) << ev->kind->index)) ||
            !(name = red_event_value(ev, a->match_slot)) ||
            !(val = red_event_value(ev, a->value_slot))) {
                return 0;
        }
        v = val->type == RED_FT_INTEGER ? (double)val->i : val->d;
        for (size_t i = 0; i < a->rule_cnt; i++) {
                const red_alert_rule_t *r = &a->rules[i];
                red_alert_match_t *m;

                if (strlen(r->metric) != name->s.len ||
                    memcmp(r->metric, name->s.p, name->s.len) ||
                    !red_alert_crosses(r->op, v, r->threshold)) {
                        continue;
                }
                if (out->cnt == out->cap) {
                        size_t ncap = out->cap ? out->cap * 2 : 64;
                        red_alert_match_t *n =
                                realloc(out->items, ncap * sizeof(*n));
                        if (!n) {
                                return -ENOMEM;
                        }
                        out->items = n;
                        out->cap = ncap;
                }
                m = &out->items[out->cnt++];
                memset(m, 0, sizeof(*m));
                m->rule = (int)i;
                m->time = ev->time;
                m->value = v;
                m->ev = ev;
                if (a->scope_slot >= 0) {
                        text_of(red_event_value(ev, a->scope_slot), m->scope,
                                sizeof(m->scope));
                }
        }
        return 0;
}

/* ------------------------------------------------------------------ */
/* cooldown state                                                      */
/* ------------------------------------------------------------------ */

typedef struct slot_s {
        char *key; /* "rule\x1fscope" */
        red_time_t last;
} slot_t;

struct red_alert_state_s {
        red_map_t *map;
};

static bool slot_eq(const void *item, const void *key)
{
        return !strcmp(((const slot_t *)item)->key, key);
}

static void state_key(const char *rule, const char *scope, char *buf,
                      size_t size)
{
        snprintf(buf, size, "%s\x1f%s", rule, scope);
}

red_alert_state_t *red_alert_state_new(void)
{
        red_alert_state_t *st = calloc(1, sizeof(*st));

        if (st && !(st->map = red_map_new())) {
                free(st);
                return NULL;
        }
        return st;
}

void red_alert_state_destroy(red_alert_state_t *st)
{
        size_t pos = 0;
        slot_t *s;

        if (!st) {
                return;
        }
        while ((s = red_map_next(st->map, &pos))) {
                free(s->key);
                free(s);
        }
        red_map_destroy(st->map);
        free(st);
}

red_time_t red_alert_state_get(const red_alert_state_t *st, const char *rule_id,
                               const char *scope)
{
        char key[384];
        slot_t *s;

        state_key(rule_id, scope, key, sizeof(key));
        s = red_map_find(st->map, red_map_hash_bytes(key, strlen(key), 0),
                         slot_eq, key);
        return s ? s->last : INT64_MIN;
}

int red_alert_state_set(red_alert_state_t *st, const char *rule_id,
                        const char *scope, red_time_t t)
{
        char key[384];
        uint64_t h;
        slot_t *s;

        state_key(rule_id, scope, key, sizeof(key));
        h = red_map_hash_bytes(key, strlen(key), 0);
        if ((s = red_map_find(st->map, h, slot_eq, key))) {
                s->last = t;
                return 0;
        }
        if (!(s = calloc(1, sizeof(*s))) || !(s->key = strdup(key))) {
                free(s);
                return -ENOMEM;
        }
        s->last = t;
        if (red_map_insert(st->map, h, s)) {
                free(s->key);
                free(s);
                return -ENOMEM;
        }
        return 0;
}

int red_alert_cooldown(const red_alerts_t *a, red_alert_match_t *m, size_t cnt,
                       red_alert_state_t *st)
{
        for (size_t i = 0; i < cnt; i++) {
                const red_alert_rule_t *r = &a->rules[m[i].rule];
                red_time_t last = red_alert_state_get(st, r->id, m[i].scope);

                m[i].fires =
                        last == INT64_MIN || m[i].time >= last + r->cooldown_us;
                if (m[i].fires &&
                    red_alert_state_set(st, r->id, m[i].scope, m[i].time)) {
                        return -ENOMEM;
                }
        }
        return 0;
}

/* ------------------------------------------------------------------ */
/* rendering                                                           */
/* ------------------------------------------------------------------ */

void red_alert_template(const char *tpl, red_alert_fill_fn *fill,
                        const void *ctx, red_buf_t *out)
{
        for (const char *p = tpl; *p;) {
                const char *close;
                char name[64];
                size_t len;

                if (*p != '{' || !(close = strchr(p, '}')) ||
                    (len = (size_t)(close - p - 1)) >= sizeof(name)) {
                        red_buf_putc(out, *p++);
                        continue;
                }
                memcpy(name, p + 1, len);
                name[len] = '\0';
                if (!fill(ctx, name, out)) {
                        red_buf_append(out, p, len + 2);
                }
                p = close + 1;
        }
}

bool red_alert_fill_rule(const char *name, double value, double threshold,
                         red_alert_op_t op, const char *severity,
                         red_buf_t *out)
{
        if (!strcmp(name, "value")) {
                red_buf_put_double(out, value);
        } else if (!strcmp(name, "threshold")) {
                red_buf_put_double(out, threshold);
        } else if (!strcmp(name, "operator")) {
                red_buf_puts(out, red_contract_alert_op_name(op));
        } else if (!strcmp(name, "severity")) {
                red_buf_puts(out, severity);
        } else {
                return false;
        }
        return true;
}

/* What a per-event rule's placeholders stand for. */
typedef struct match_ctx_s {
        const red_contract_t *c;
        const red_alert_match_t *m;
} match_ctx_t;

static bool fill_match(const void *ctx, const char *name, red_buf_t *out)
{
        const match_ctx_t *mc = ctx;
        const red_alert_rule_t *r = &mc->c->alerts->rules[mc->m->rule];
        int agent;
        char val[256];

        if (red_alert_fill_rule(name, mc->m->value, r->threshold, r->op,
                                r->severity, out)) {
                return true;
        }
        if (!strcmp(name, "metric_name")) {
                red_buf_puts(out, r->metric);
        } else if (!strcmp(name, "agent_id") &&
                   (agent = red_contract_slot(mc->c, "agent_id")) >= 0) {
                text_of(red_event_value(mc->m->ev, agent), val, sizeof(val));
                red_buf_puts(out, val);
        } else {
                return false;
        }
        return true;
}

void red_alert_message(const red_contract_t *c, const red_alert_match_t *m,
                       red_buf_t *out)
{
        match_ctx_t mc = {c, m};

        red_alert_template(c->alerts->rules[m->rule].message, fill_match, &mc,
                           out);
}

void red_alert_id(const red_contract_t *c, const red_alert_match_t *m,
                  red_uuid_t *out)
{
        char name[512];
        const red_msg_t *msg = m->ev->msg;

        snprintf(name, sizeof(name), "%s/%s/%s/%d/%lld", c->name,
                 c->alerts->rules[m->rule].id,
                 msg && msg->topic ? msg->topic : "",
                 msg ? (int)msg->partition : -1,
                 msg ? (long long)msg->offset : -1LL);
        red_uuid_v5(out, &red_uuid_ns_reducerd, name, strlen(name));
}

void red_alert_json(const red_contract_t *c, const red_alert_match_t *m,
                    red_buf_t *out)
{
        const red_alerts_t *a = c->alerts;
        const red_alert_rule_t *r = &a->rules[m->rule];
        char id[RED_UUID_STR_SIZE], ts[RED_TIME_FMT_SIZE], val[256];
        red_uuid_t uid;
        red_buf_t msg;
        const red_value_t *v;

        red_alert_id(c, m, &uid);
        red_uuid_format(&uid, id);
        red_time_format(m->time, ts, sizeof(ts));
        red_buf_init(&msg);
        red_alert_message(c, m, &msg);
        red_buf_printf(out, "{\"alert_id\":\"%s\",\"rule_id\":", id);
        red_buf_put_json_str(out, r->id, strlen(r->id));
        red_buf_printf(out,
                       ",\"severity\":\"%s\",\"metric_name\":", r->severity);
        red_buf_put_json_str(out, r->metric, strlen(r->metric));
        red_buf_puts(out, ",\"threshold\":");
        red_buf_put_double(out, r->threshold);
        red_buf_puts(out, ",\"actual_value\":");
        red_buf_put_double(out, m->value);
        red_buf_puts(out, ",\"message\":");
        red_buf_put_json_str(out, msg.data ? msg.data : "", msg.len);
        red_buf_puts(out, ",\"tags\":");
        v = a->tags_slot >= 0 ? red_event_value(m->ev, a->tags_slot) : NULL;
        if (v && v->type == RED_FT_OBJECT) {
                red_rows_object_json(v, out);
        } else {
                red_buf_puts(out, "{}");
        }
        red_buf_puts(out, ",\"correlation_id\":");
        v = a->correlation_slot >= 0
                    ? red_event_value(m->ev, a->correlation_slot)
                    : NULL;
        if (v) {
                text_of(v, val, sizeof(val));
                red_buf_put_json_str(out, val, strlen(val));
        } else {
                red_buf_puts(out, "null");
        }
        if (a->scope_slot >= 0) {
                /* the scope under its field's name (e.g. agent_id) */
                const char *name = c->slot_names[a->scope_slot];

                red_buf_putc(out, ',');
                red_buf_put_json_str(out, name, strlen(name));
                red_buf_putc(out, ':');
                if (m->scope[0]) {
                        red_buf_put_json_str(out, m->scope, strlen(m->scope));
                } else {
                        red_buf_puts(out, "null");
                }
        }
        red_buf_printf(out, ",\"triggered_at\":\"%s\"}", ts);
        red_buf_destroy(&msg);
}
