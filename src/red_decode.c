/* red_decode - envelope and payload decoding with typed dead-letter reasons. */
#include "red_decode.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const code_names[RED_DLQ__CNT] = {
        "none",           "invalid_json",      "not_an_object",
        "too_large",      "unknown_event_type", "missing_event_type",
        "missing_field",  "wrong_type",        "out_of_range",
        "not_allowed",    "invalid_timestamp", "missing_timestamp",
        "future_timestamp", "late"};

const char *red_dlq_code_name(red_dlq_code_t code)
{
        return (unsigned)code < RED_DLQ__CNT ? code_names[code] : "unknown";
}

static const char *json_type_name(const json_t *j)
{
        switch (json_typeof(j)) {
        case JSON_OBJECT: return "an object";
        case JSON_ARRAY: return "an array";
        case JSON_STRING: return "a string";
        case JSON_INTEGER: return "an integer";
        case JSON_REAL: return "a number";
        case JSON_TRUE:
        case JSON_FALSE: return "a boolean";
        default: return "null";
        }
}

/* Characters (code points) of valid UTF-8 text. */
static size_t utf8_len(const char *s, size_t len)
{
        size_t n = 0;

        for (size_t i = 0; i < len; i++) {
                n += ((unsigned char)s[i] & 0xc0) != 0x80;
        }
        return n;
}

/* Looks a name up in the payload, then (flat-with-envelope producers)
 * in the envelope. JSON null counts as absent. */
static json_t *lookup(const red_event_t *ev, const char *name)
{
        json_t *v = json_object_get(ev->payload, name);

        if ((!v || json_is_null(v)) && ev->payload != ev->root) {
                v = json_object_get(ev->root, name);
        }
        return v && !json_is_null(v) ? v : NULL;
}

static red_dlq_code_t bad(char *detail, size_t size, red_dlq_code_t code,
                          const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static red_dlq_code_t bad(char *detail, size_t size, red_dlq_code_t code,
                          const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(detail, size, fmt, ap);
        va_end(ap);
        return code;
}

static void set_const(red_value_t *v, const red_const_t *k)
{
        v->type = k->type;
        switch (k->type) {
        case RED_FT_INTEGER: v->i = k->i; break;
        case RED_FT_NUMBER: v->d = k->d; break;
        case RED_FT_BOOLEAN: v->b = k->b; break;
        default:
                v->s.p = k->s;
                v->s.len = strlen(k->s);
                v->type = RED_FT_STRING;
                break;
        }
}

static red_dlq_code_t check_number(const red_field_t *f, double d, char *detail,
                                   size_t size)
{
        if (!isfinite(d)) {
                return bad(detail, size, RED_DLQ_OUT_OF_RANGE,
                           "%s: not a finite number", f->name);
        }
        if (f->has_min && d < f->min) {
                return bad(detail, size, RED_DLQ_OUT_OF_RANGE,
                           "%s: %.17g is below the minimum %.17g", f->name, d,
                           f->min);
        }
        if (f->has_max && d > f->max) {
                return bad(detail, size, RED_DLQ_OUT_OF_RANGE,
                           "%s: %.17g is above the maximum %.17g", f->name, d,
                           f->max);
        }
        return RED_DLQ_NONE;
}

static red_dlq_code_t field(const red_field_t *f, json_t *j, double scale,
                           red_value_t *v, char *detail, size_t size)
{
        const char *s;
        size_t len;

        switch (f->type) {
        case RED_FT_STRING:
                if (!json_is_string(j)) {
                        break;
                }
                s = json_string_value(j);
                len = json_string_length(j);
                if (f->min_length >= 0 || f->max_length >= 0) {
                        size_t chars = utf8_len(s, len);
                        if ((f->min_length >= 0 &&
                             chars < (size_t)f->min_length) ||
                            (f->max_length >= 0 &&
                             chars > (size_t)f->max_length)) {
                                return bad(detail, size, RED_DLQ_OUT_OF_RANGE,
                                           "%s: %zu characters, allowed "
                                           "%lld..%lld",
                                           f->name, chars,
                                           (long long)(f->min_length < 0
                                                               ? 0
                                                               : f->min_length),
                                           (long long)f->max_length);
                        }
                }
                if (f->enum_cnt) {
                        size_t k;
                        for (k = 0; k < f->enum_cnt; k++) {
                                if (strlen(f->enum_values[k]) == len &&
                                    !memcmp(f->enum_values[k], s, len)) {
                                        break;
                                }
                        }
                        if (k == f->enum_cnt) {
                                return bad(detail, size, RED_DLQ_NOT_ALLOWED,
                                           "%s: \"%.64s\" is not one of the "
                                           "allowed values",
                                           f->name, s);
                        }
                }
                v->type = RED_FT_STRING;
                v->s.p = s;
                v->s.len = len;
                return RED_DLQ_NONE;
        case RED_FT_INTEGER: {
                double d = json_is_real(j) ? json_real_value(j) : 0.5;
                if (json_is_integer(j)) {
                        v->i = (int64_t)json_integer_value(j);
                } else if (d == floor(d) && fabs(d) < 9.0e15) {
                        v->i = (int64_t)d;
                } else {
                        break;
                }
                v->type = RED_FT_INTEGER;
                return check_number(f, (double)v->i, detail, size);
        }
        case RED_FT_NUMBER:
                if (!json_is_number(j)) {
                        break;
                }
                v->type = RED_FT_NUMBER;
                v->d = json_number_value(j) * scale;
                return check_number(f, v->d, detail, size);
        case RED_FT_BOOLEAN:
                if (!json_is_boolean(j)) {
                        break;
                }
                v->type = RED_FT_BOOLEAN;
                v->b = json_is_true(j);
                return RED_DLQ_NONE;
        case RED_FT_UUID:
                if (!json_is_string(j)) {
                        break;
                }
                if (red_uuid_parse(json_string_value(j), json_string_length(j),
                                   &v->u)) {
                        return bad(detail, size, RED_DLQ_WRONG_TYPE,
                                   "%s: \"%.64s\" is not a UUID", f->name,
                                   json_string_value(j));
                }
                v->type = RED_FT_UUID;
                return RED_DLQ_NONE;
        case RED_FT_TIMESTAMP:
                if (!json_is_string(j)) {
                        break;
                }
                if (red_time_parse(json_string_value(j), json_string_length(j),
                                   &v->t)) {
                        return bad(detail, size, RED_DLQ_INVALID_TIMESTAMP,
                                   "%s: \"%.64s\" is not an ISO-8601 time",
                                   f->name, json_string_value(j));
                }
                v->type = RED_FT_TIMESTAMP;
                return RED_DLQ_NONE;
        case RED_FT_OBJECT:
                if (!json_is_object(j)) {
                        break;
                }
                if (f->values != RED_FT_NONE) {
                        const char *key;
                        json_t *item;
                        json_object_foreach(j, key, item) {
                                bool ok = f->values == RED_FT_STRING
                                                  ? json_is_string(item)
                                          : f->values == RED_FT_NUMBER
                                                  ? json_is_number(item)
                                          : f->values == RED_FT_INTEGER
                                                  ? json_is_integer(item)
                                          : f->values == RED_FT_BOOLEAN
                                                  ? json_is_boolean(item)
                                                  : true;
                                if (!ok) {
                                        return bad(detail, size,
                                                   RED_DLQ_WRONG_TYPE,
                                                   "%s.%.64s: expected a %s, "
                                                   "got %s",
                                                   f->name, key,
                                                   red_field_type_name(
                                                           f->values),
                                                   json_type_name(item));
                                }
                        }
                }
                v->type = RED_FT_OBJECT;
                v->j = j;
                return RED_DLQ_NONE;
        default:
                break;
        }
        return bad(detail, size, RED_DLQ_WRONG_TYPE, "%s: expected %s %s, got %s",
                   f->name,
                   f->type == RED_FT_INTEGER || f->type == RED_FT_OBJECT ? "an"
                                                                         : "a",
                   red_field_type_name(f->type), json_type_name(j));
}

static red_dlq_code_t event_time(const red_contract_t *c, const red_msg_t *msg,
                                 red_time_t now, red_event_t *ev, char *detail,
                                 size_t size)
{
        static const char *const names[] = {"event_timestamp", "timestamp"};
        json_t *ts = NULL;
        const char *name = NULL;

        for (int i = 0; i < 2 && !ts; i++) {
                ts = json_object_get(ev->root, names[i]);
                if (!ts && ev->payload != ev->root) {
                        ts = json_object_get(ev->payload, names[i]);
                }
                if (ts && json_is_null(ts)) {
                        ts = NULL;
                }
                name = names[i];
        }
        if (!ts) {
                if (msg->timestamp < 0) {
                        return bad(detail, size, RED_DLQ_MISSING_TIMESTAMP,
                                   "no timestamp or event_timestamp, and no "
                                   "Kafka message timestamp");
                }
                ev->time = msg->timestamp;
        } else if (!json_is_string(ts)) {
                return bad(detail, size, RED_DLQ_INVALID_TIMESTAMP,
                           "%s: expected an ISO-8601 string, got %s", name,
                           json_type_name(ts));
        } else if (red_time_parse(json_string_value(ts), json_string_length(ts),
                                  &ev->time)) {
                return bad(detail, size, RED_DLQ_INVALID_TIMESTAMP,
                           "%s: \"%.64s\" is not an ISO-8601 time", name,
                           json_string_value(ts));
        }
        if (ev->time > now + c->max_future_skew_us) {
                char t[RED_TIME_FMT_SIZE];
                red_time_format(ev->time, t, sizeof(t));
                return bad(detail, size, RED_DLQ_FUTURE_TIMESTAMP,
                           "event time %s is more than %lld s ahead of the "
                           "clock",
                           t,
                           (long long)(c->max_future_skew_us /
                                       RED_TIME_US_PER_SEC));
        }
        return RED_DLQ_NONE;
}

static red_dlq_code_t decode(const red_contract_t *c, const red_msg_t *msg,
                             red_time_t now, red_event_t *ev, char *detail,
                             size_t size)
{
        const red_input_t *in;
        json_t *type, *payload, *meta;
        red_dlq_code_t code;
        json_error_t jerr;

        if (msg->value_len > RED_DECODE_MAX_BYTES) {
                return bad(detail, size, RED_DLQ_TOO_LARGE,
                           "%zu bytes, at most %d are accepted",
                           msg->value_len, RED_DECODE_MAX_BYTES);
        }
        ev->root = json_loadb(msg->value, msg->value_len,
                              JSON_ALLOW_NUL | JSON_DECODE_ANY, &jerr);
        if (!ev->root) {
                return bad(detail, size, RED_DLQ_INVALID_JSON,
                           "%s at line %d column %d", jerr.text, jerr.line,
                           jerr.column);
        }
        if (!json_is_object(ev->root)) {
                return bad(detail, size, RED_DLQ_NOT_AN_OBJECT,
                           "the message is %s, not a JSON object",
                           json_type_name(ev->root));
        }
        payload = json_object_get(ev->root, "payload");
        ev->payload = json_is_object(payload) ? payload : ev->root;
        meta = json_object_get(ev->root, "metadata");
        ev->metadata = json_is_object(meta) ? meta : NULL;

        type = json_object_get(ev->root, "event_type");
        if (!type && ev->payload != ev->root) {
                type = json_object_get(ev->payload, "event_type");
        }
        if (type && !json_is_null(type)) {
                if (!json_is_string(type)) {
                        return bad(detail, size, RED_DLQ_WRONG_TYPE,
                                   "event_type: expected a string, got %s",
                                   json_type_name(type));
                }
                ev->kind = red_contract_kind_by_type(c, json_string_value(type),
                                                     json_string_length(type));
                if (!ev->kind) {
                        return bad(detail, size, RED_DLQ_UNKNOWN_EVENT_TYPE,
                                   "event_type \"%.64s\" is not handled by "
                                   "contract %s",
                                   json_string_value(type), c->name);
                }
        } else if (msg->header_type) {
                ev->kind = red_contract_kind_by_type(c, msg->header_type,
                                                     msg->header_type_len);
                if (!ev->kind) {
                        return bad(detail, size, RED_DLQ_UNKNOWN_EVENT_TYPE,
                                   "event_type header \"%.*s\" is not "
                                   "handled by contract %s",
                                   (int)(msg->header_type_len > 64
                                                 ? 64
                                                 : msg->header_type_len),
                                   msg->header_type, c->name);
                }
        } else if (msg->topic && (in = red_contract_input(c, msg->topic)) &&
                   in->default_kind >= 0) {
                ev->kind = &c->kinds[in->default_kind];
        } else {
                return bad(detail, size, RED_DLQ_MISSING_EVENT_TYPE,
                           "no event_type in the envelope or the headers, and "
                           "topic %s carries several event kinds",
                           msg->topic ? msg->topic : "(none)");
        }

        for (size_t i = 0; i < ev->kind->field_cnt; i++) {
                const red_field_t *f = &ev->kind->fields[i];
                red_value_t *v = &ev->values[f->slot];
                json_t *j = NULL;
                double scale = 1.0;

                for (size_t s = 0; s < f->from_cnt && !j; s++) {
                        j = lookup(ev, f->from[s].name);
                        scale = f->from[s].scale;
                }
                if (!j) {
                        if (f->has_default) {
                                set_const(v, &f->def);
                                continue;
                        }
                        if (f->required) {
                                return bad(detail, size, RED_DLQ_MISSING_FIELD,
                                           "%s: required field is missing",
                                           f->name);
                        }
                        continue;
                }
                if ((code = field(f, j, scale, v, detail, size))) {
                        return code;
                }
        }
        return event_time(c, msg, now, ev, detail, size);
}

red_dlq_code_t red_decode(const red_contract_t *c, const red_msg_t *msg,
                          red_time_t now, red_event_t *ev, char *detail,
                          size_t detail_size)
{
        red_dlq_code_t code;

        memset(ev->values, 0, c->slot_cnt * sizeof(*ev->values));
        ev->kind = NULL;
        ev->root = ev->payload = ev->metadata = NULL;
        ev->msg = msg;
        ev->time = 0;
        detail[0] = '\0';
        code = decode(c, msg, now, ev, detail, detail_size);
        if (code != RED_DLQ_NONE) {
                red_decode_release(ev);
        }
        return code;
}

void red_decode_release(red_event_t *ev)
{
        json_decref(ev->root);
        ev->root = ev->payload = ev->metadata = NULL;
}
