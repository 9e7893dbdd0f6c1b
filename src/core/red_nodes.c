/* red_nodes - the node registry's search parameters; pure. */
#include "red_nodes.h"

#include "red_decode.h"
#include "red_qparam.h"
#include "red_uuid.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static const char *const sort_names[] = {"relevance",      "name",
                                         "version",        "registration_time",
                                         "last_heartbeat", NULL};

const char *red_nodes_sort_name(red_nodes_sort_t s)
{
        return (unsigned)s < 5 ? sort_names[s] : "?";
}

const red_state_t *red_nodes_find(const red_contract_t *const *cs, size_t cnt,
                                  const red_contract_t **contract)
{
        for (size_t i = 0; i < cnt; i++) {
                const red_state_t *s =
                        red_contract_state(cs[i], RED_NODES_TABLE);
                if (s) {
                        if (contract) {
                                *contract = cs[i];
                        }
                        return s;
                }
        }
        return NULL;
}

bool red_nodes_version_ok(const char *v)
{
        int parts = 0;

        for (const char *p = v; parts < 3;) {
                size_t n = strspn(p, "0123456789");
                if (!n || n > 60) {
                        return false;
                }
                p += n;
                parts++;
                if (parts < 3) {
                        if (*p != '.') {
                                return false;
                        }
                        p++;
                } else if (*p) {
                        return false;
                }
        }
        return parts == 3;
}

/* One dot-separated number, without leading zeros: <0, 0, >0. */
static int part_cmp(const char **a, const char **b)
{
        size_t la, lb;
        int r;

        while (**a == '0' && isdigit((unsigned char)(*a)[1])) {
                (*a)++;
        }
        while (**b == '0' && isdigit((unsigned char)(*b)[1])) {
                (*b)++;
        }
        la = strspn(*a, "0123456789");
        lb = strspn(*b, "0123456789");
        r = la != lb ? (la < lb ? -1 : 1) : strncmp(*a, *b, la);
        *a += la + ((*a)[la] == '.');
        *b += lb + ((*b)[lb] == '.');
        return r;
}

int red_nodes_version_cmp(const char *a, const char *b)
{
        for (int i = 0; i < 3; i++) {
                int r = part_cmp(&a, &b);
                if (r) {
                        return r;
                }
        }
        return 0;
}

/* The enum of field @p name in any kind of @p c (NULL-terminated copy of
 * the pointers, in a static-size array), or NULL. */
static const char *const *field_enum(const red_contract_t *c, const char *name,
                                     const char **buf, size_t max)
{
        for (size_t k = 0; k < c->kind_cnt; k++) {
                for (size_t f = 0; f < c->kinds[k].field_cnt; f++) {
                        const red_field_t *fd = &c->kinds[k].fields[f];
                        size_t n = 0;
                        if (strcmp(fd->name, name) || !fd->enum_cnt) {
                                continue;
                        }
                        for (; n < fd->enum_cnt && n + 1 < max; n++) {
                                buf[n] = fd->enum_values[n];
                        }
                        buf[n] = NULL;
                        return buf;
                }
        }
        return NULL;
}

/* An optional string parameter: copied, or NULL when absent/empty. */
static int str_param(red_qparam_ctx_t *pc, const char *name, char **out)
{
        const char *v;
        int r = red_qparam_get(pc, name, &v);

        *out = NULL;
        if (r <= 0) {
                return r;
        }
        while (isspace((unsigned char)*v)) {
                v++;
        }
        if (!*v) {
                return 0;
        }
        if (strlen(v) > 500) {
                return red_qparam_fail(pc->err, 400, name,
                                       "%s is longer than 500 bytes", name);
        }
        if (!(*out = strdup(v))) {
                return red_qparam_oom(pc->err);
        }
        for (size_t n = strlen(*out);
             n && isspace((unsigned char)(*out)[n - 1]); n--) {
                (*out)[n - 1] = '\0';
        }
        return 0;
}

/* An optional parameter that must be one of @p choices. */
static int enum_param(red_qparam_ctx_t *pc, const char *name,
                      const char *const *choices, char **out)
{
        int r = str_param(pc, name, out);

        if (r || !*out || !choices) {
                return r;
        }
        for (size_t i = 0; choices[i]; i++) {
                if (!strcmp(choices[i], *out)) {
                        return 0;
                }
        }
        red_qparam_fail(pc->err, 400, name, "%s \"%.64s\" is not allowed", name,
                        *out);
        red_qparam_allow_list(pc->err, choices);
        return -1;
}

static int version_param(red_qparam_ctx_t *pc, const char *name, char **out)
{
        int r = str_param(pc, name, out);

        if (r || !*out || red_nodes_version_ok(*out)) {
                return r;
        }
        return red_qparam_fail(pc->err, 400, name,
                               "%s \"%.64s\" is not a semantic version "
                               "MAJOR.MINOR.PATCH (e.g. 1.2.3)",
                               name, *out);
}

int red_nodes_search_parse(const red_contract_t *c, const red_query_param_t *p,
                           size_t cnt, red_nodes_search_t *s,
                           red_query_error_t *e)
{
        static const char *const orders[] = {"desc", "asc", NULL};
        const char *types[16], *statuses[16];
        bool *used = calloc(cnt + 1, sizeof(bool));
        red_qparam_ctx_t pc = {.p = p, .cnt = cnt, .used = used, .err = e};
        int sort = 0, order = 0, r;

        memset(s, 0, sizeof(*s));
        memset(e, 0, sizeof(*e));
        if (!used) {
                return red_qparam_oom(e);
        }
        r = str_param(&pc, "query", &s->query);
        if (!r) {
                r = enum_param(&pc, "node_type",
                               field_enum(c, "node_type", types, 16),
                               &s->node_type);
        }
        if (!r) {
                r = enum_param(&pc, "health_status",
                               field_enum(c, "health_status", statuses, 16),
                               &s->health_status);
        }
        if (!r) {
                r = str_param(&pc, "capability", &s->capability);
        }
        if (!r && !(r = version_param(&pc, "version", &s->version)) &&
            !(r = version_param(&pc, "version_min", &s->version_min))) {
                r = version_param(&pc, "version_max", &s->version_max);
        }
        if (!r && s->version_min && s->version_max &&
            red_nodes_version_cmp(s->version_min, s->version_max) > 0) {
                r = red_qparam_fail(e, 400, "version_min",
                                    "version_min %s is above version_max %s",
                                    s->version_min, s->version_max);
        }
        if (!r) {
                r = red_qparam_int(&pc, "page", 1, INT32_MAX, 1, &s->page);
        }
        if (!r) {
                r = red_qparam_int(&pc, "page_size", 1, RED_NODES_MAX_PAGE_SIZE,
                                   10, &s->page_size);
        }
        if (!r) {
                r = red_qparam_choice(&pc, "sort_by", sort_names, 0, &sort);
        }
        if (!r) {
                r = red_qparam_choice(&pc, "sort_order", orders, 0, &order);
        }
        if (!r) {
                r = red_qparam_check_unused(&pc, NULL, 0);
        }
        free(used);
        s->sort = (red_nodes_sort_t)sort;
        s->desc = order == 0;
        if (r) {
                red_nodes_search_free(s);
        }
        return r ? -1 : 0;
}

void red_nodes_search_free(red_nodes_search_t *s)
{
        free(s->query);
        free(s->node_type);
        free(s->health_status);
        free(s->capability);
        free(s->version);
        free(s->version_min);
        free(s->version_max);
        memset(s, 0, sizeof(*s));
}

static void put_opt(red_buf_t *out, const char *name, const char *v)
{
        red_buf_printf(out, "\"%s\":", name);
        if (v) {
                red_buf_put_json_str(out, v, strlen(v));
        } else {
                red_buf_puts(out, "null");
        }
        red_buf_putc(out, ',');
}

void red_nodes_search_json(const red_nodes_search_t *s, red_buf_t *out)
{
        red_buf_putc(out, '{');
        put_opt(out, "query", s->query);
        put_opt(out, "node_type", s->node_type);
        put_opt(out, "health_status", s->health_status);
        put_opt(out, "capability", s->capability);
        put_opt(out, "version", s->version);
        put_opt(out, "version_min", s->version_min);
        put_opt(out, "version_max", s->version_max);
        red_buf_printf(out,
                       "\"page\":%lld,\"page_size\":%lld,\"sort_by\":\"%s\","
                       "\"sort_order\":\"%s\"}",
                       (long long)s->page, (long long)s->page_size,
                       red_nodes_sort_name(s->sort), s->desc ? "desc" : "asc");
}

/* --- writes ----------------------------------------------------------- */

static const char *const op_types[] = {"NODE_INTROSPECTION", "NODE_HEARTBEAT",
                                       "NODE_DEREGISTRATION"};

void red_nodes_write_free(red_nodes_write_t *w)
{
        free(w->key);
        free(w->value);
        memset(w, 0, sizeof(*w));
}

void red_nodes_write_answer(const red_nodes_write_t *w, red_buf_t *out)
{
        red_buf_puts(out, "{\"success\":true,\"node_id\":");
        red_buf_put_json_str(out, w->key, strlen(w->key));
        red_buf_printf(out,
                       ",\"event_type\":\"%s\",\"topic\":\"%s\",\"event\":%s}"
                       "\n",
                       w->event_type, w->topic, w->value);
}

/* The body as an object (a new reference), or NULL with @p e set. */
static json_t *body_object(const char *body, size_t len, bool may_be_empty,
                           red_query_error_t *e)
{
        json_error_t jerr;
        json_t *o;
        size_t i = 0;

        while (i < len && isspace((unsigned char)body[i])) {
                i++;
        }
        if (i == len) {
                if (may_be_empty) {
                        return json_object();
                }
                red_qparam_fail(e, 400, "",
                                "the request needs a JSON object "
                                "body");
                return NULL;
        }
        if (!(o = json_loadb(body, len, 0, &jerr))) {
                red_qparam_fail(e, 400, "",
                                "the body is not JSON: %s (line %d "
                                "column %d)",
                                jerr.text, jerr.line, jerr.column);
                return NULL;
        }
        if (!json_is_object(o)) {
                json_decref(o);
                red_qparam_fail(e, 400, "", "the body must be a JSON object");
                return NULL;
        }
        return o;
}

int red_nodes_event(const red_contract_t *c, red_nodes_op_t op,
                    const char *body, size_t len, const char *node_id,
                    const char *source, red_time_t now, red_nodes_write_t *w,
                    red_query_error_t *e)
{
        const char *type = op_types[op];
        const red_kind_t *k = red_contract_kind_by_type(c, type, strlen(type));
        const red_input_t *in = NULL;
        json_t *payload = NULL, *env = NULL, *id;
        red_value_t *vals = NULL;
        red_event_t ev;
        red_msg_t msg;
        red_uuid_t uid;
        red_dlq_code_t code;
        char ts[RED_TIME_FMT_SIZE], us[RED_UUID_STR_SIZE], detail[512];
        int r = -1;

        memset(w, 0, sizeof(*w));
        memset(e, 0, sizeof(*e));
        for (size_t i = 0; k && i < c->input_cnt && !in; i++) {
                if (c->inputs[i].kinds & (UINT64_C(1) << k->index)) {
                        in = &c->inputs[i];
                }
        }
        if (!k || !in) {
                return red_qparam_fail(e, 500, "",
                                       "contract %s has no event kind of "
                                       "type %s read from a topic",
                                       c->name, type);
        }
        if (!(payload =
                      body_object(body, len, op == RED_NODES_DEREGISTER, e))) {
                return -1;
        }
        id = json_object_get(payload, "node_id");
        if (node_id) {
                if (id && !(json_is_string(id) &&
                            !strcmp(json_string_value(id), node_id))) {
                        red_qparam_fail(e, 400, "node_id",
                                        "the body's node_id differs from the "
                                        "path's %.200s",
                                        node_id);
                        goto done;
                }
                json_object_set_new(payload, "node_id", json_string(node_id));
        }
        if (op == RED_NODES_REGISTER && source &&
            !json_object_get(payload, "registration_source")) {
                json_object_set_new(payload, "registration_source",
                                    json_string(source));
        }
        red_time_format(now, ts, sizeof(ts));
        red_uuid_v4(&uid);
        red_uuid_format(&uid, us);
        env = json_pack("{s:s, s:s, s:s, s:s, s:O}", "event_type", type,
                        "event_id", us, "timestamp", ts, "source_service",
                        "reducerd", "payload", payload);
        if (!env || !(w->value = json_dumps(env, JSON_COMPACT))) {
                red_qparam_oom(e);
                goto done;
        }
        w->len = strlen(w->value);
        /* judged as the pipeline will judge it */
        memset(&msg, 0, sizeof(msg));
        msg.topic = in->topic;
        msg.value = w->value;
        msg.value_len = w->len;
        msg.timestamp = -1;
        if (!(vals = calloc(c->slot_cnt + 1, sizeof(*vals)))) {
                red_qparam_oom(e);
                goto done;
        }
        memset(&ev, 0, sizeof(ev));
        ev.values = vals;
        code = red_decode(c, &msg, now, &ev, detail, sizeof(detail));
        if (code != RED_DLQ_NONE) {
                red_qparam_fail(e, 400, "", "%s: %s", red_dlq_code_name(code),
                                detail);
                goto done;
        }
        red_decode_release(&ev);
        id = json_object_get(payload, "node_id");
        if (!json_is_string(id) || !(w->key = strdup(json_string_value(id)))) {
                red_qparam_oom(e);
                goto done;
        }
        w->topic = in->topic;
        w->event_type = type;
        r = 0;
done:
        free(vals);
        json_decref(env);
        json_decref(payload);
        if (r) {
                red_nodes_write_free(w);
        }
        return r;
}
