/* red_decode - envelope and payload decoding with typed dead-letter reasons. */

/*
 * Two paths produce the same events, codes and details:
 *
 * - The fast path scans the message once with the strict JSON scanner of
 *   base/red_json_scan (it accepts exactly what jansson accepts) and keeps
 *   the members of the envelope and of the payload as spans of the
 *   message. Values are converted straight from the spans; jansson values
 *   are built only for what is later read as JSON: the envelope metadata,
 *   object fields, and the payload members the FSM's guards and history
 *   rows read (the guard keys and "metadata"). A decoded event then owns a
 *   few small allocations instead of a complete tree of ~50; with a batch
 *   of thousands of events alive until commit, the trees cost more than
 *   the parse itself (malloc consolidation, page faults).
 *
 * - The tree path parses with jansson, as the reference (red_json_tree:
 *   json_loadb, and a tree of its own for member names with \u0000). It
 *   takes whatever the scanner declines: every invalid input (so errors
 *   read as jansson words them) and a few rare valid constructs (escaped
 *   keys, \u0000, integers of 19+ digits, numbers near the double range,
 *   nesting deeper than 64, more than 64 members in the envelope or
 *   payload), and whatever the fast path gives up on (out of memory, more
 *   than RED_DECODE_KEEP_SLOTS unescaped strings).
 *
 * With the fast path, ev->payload holds only the members named above (or
 * is NULL when there are none); string values point into the message (it
 * outlives its event: red_core keeps messages until they are done), into
 * the contract (enum values), or, when unescaped, into a string ev->root
 * owns (red_decode_keep). A typical event allocates nothing.
 */
#include "red_decode.h"

#include "red_decode_jv.h"
#include "red_decode_keep.h"
#include "red_decode_range.h"
#include "red_json_scan.h"
#include "red_json_tree.h"
#include "red_weight.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef red_decode_jv_t jv_t;

/* ------------------------------------------------------------------ */
/* the decoder, over either path                                       */
/* ------------------------------------------------------------------ */

typedef struct dec_s {
        const red_contract_t *c;
        const red_msg_t *msg;
        red_event_t *ev;
        char *detail;
        size_t size;
        bool fast;
        const char *member; /* the name the field being read was found as */
        /* tree path */
        json_t *root, *payload; /* payload == root when flat */
        /* fast path */
        const red_json_doc_t *doc;
        red_decode_keep_t keep; /* what the event will own */
} dec_t;

static red_dlq_code_t bad(dec_t *d, red_dlq_code_t code, const char *fmt, ...)
        RED_PRINTF(3, 4);

static red_dlq_code_t bad(dec_t *d, red_dlq_code_t code, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(d->detail, d->size, fmt, ap);
        va_end(ap);
        return code;
}

/* The value of a REAL: read from the token (fast), or jansson's. */
static double jv_real(const dec_t *d, const jv_t *v)
{
        return d->fast ? red_json_real(v->p, v->len) : v->d;
}

/* Internal: the fast path gives up (out of memory); the tree path retries. */
#define DECLINE ((red_dlq_code_t)-1)

static bool nested(const dec_t *d)
{
        return d->fast ? d->doc->sub_object : d->payload != d->root;
}

/* Member @p name of the payload (or the envelope). */
static bool get(const dec_t *d, bool payload, const char *name, jv_t *out)
{
        size_t len = strlen(name);

        if (d->fast) {
                const red_json_member_t *m = d->doc->top;
                size_t n = d->doc->top_cnt;
                if (payload && d->doc->sub_object) {
                        m = d->doc->sub;
                        n = d->doc->sub_cnt;
                }
                /* the last of duplicate names counts, as in jansson */
                for (size_t i = n; i-- > 0;) {
                        if (m[i].klen == len && !memcmp(m[i].k, name, len)) {
                                red_decode_jv_of(out, &m[i].v);
                                return true;
                        }
                }
                return false;
        } else {
                json_t *j =
                        json_object_get(payload ? d->payload : d->root, name);
                if (!j) {
                        return false;
                }
                red_decode_jv_from_json(j, out);
                return true;
        }
}

/* Looks a name up in the payload, then (flat-with-envelope producers)
 * in the envelope. JSON null counts as absent. */
static bool lookup(const dec_t *d, const char *name, jv_t *out)
{
        bool got = get(d, true, name, out);

        if ((!got || out->t == RED_JSON_NULL) && nested(d)) {
                got = get(d, false, name, out);
        }
        return got && out->t != RED_JSON_NULL;
}

/* The token a fast-path value was read from. */
static red_json_tok_t tok_of(const jv_t *v)
{
        red_json_tok_t t = {
                .t = v->t, .esc = v->esc, .p = v->p, .len = v->len, .i = v->i};

        return t;
}

/*
 * The text of a string value. Tree path: the value itself. Fast path:
 * the span when it has no escapes (borrowed from the message), else the
 * unescaped text in the keep buffer. -1 on OOM.
 */
static int str_text(dec_t *d, const jv_t *v, const char **p, size_t *len)
{
        red_json_tok_t t;

        if (!d->fast || !v->esc) {
                *p = v->p;
                *len = v->len;
                return 0;
        }
        t = tok_of(v);
        return red_decode_keep_text(&d->keep, &t, p, len);
}

/*
 * Stores a string value: the text in the tree, or in the message (fast
 * path without escapes: the message outlives the event), or the text
 * str_text() unescaped, which the event will own. -1: too many such
 * strings (the tree path copes).
 */
static int str_keep(dec_t *d, red_value_t *v, int slot, const char *p,
                    size_t len)
{
        v->type = RED_FT_STRING;
        v->s.len = len;
        v->s.p = p;
        return d->fast ? red_decode_keep_string(&d->keep, v, slot) : 0;
}

/* A JSON value the event keeps: the tree's, or (fast path) built from its
 * span. */
static json_t *owned_json(dec_t *d, const jv_t *v)
{
        red_json_tok_t t;

        if (!d->fast) {
                return v->j;
        }
        t = tok_of(v);
        return red_decode_keep_json(&d->keep, &t);
}

static void set_const(red_value_t *v, const red_const_t *k)
{
        v->type = k->type;
        switch (k->type) {
        case RED_FT_INTEGER:
                v->i = k->i;
                break;
        case RED_FT_NUMBER:
                v->d = k->d;
                break;
        case RED_FT_BOOLEAN:
                v->b = k->b;
                break;
        default:
                v->s.p = k->s;
                v->s.len = strlen(k->s);
                v->type = RED_FT_STRING;
                break;
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

/* At most 64 bytes of a string for a detail (stops at a NUL, like %s). */
static int clip(size_t len)
{
        return len > 64 ? 64 : (int)len;
}

/*
 * The text of a JSON real, for the underflow check: its token (fast path)
 * or, as jansson keeps only the double, found again in the message (tree
 * path: only for a value that read as 0). False when unknown.
 */
static bool real_text(const dec_t *d, const jv_t *j, const char **p,
                      size_t *len)
{
        red_json_tok_t top, sub, *t;
        bool in_sub;

        if (j->t != RED_JSON_REAL) {
                return false;
        }
        if (d->fast) {
                *p = j->p;
                *len = j->len;
                return true;
        }
        if (jv_real(d, j) != 0 || !d->member) {
                return false;
        }
        in_sub = d->payload != d->root &&
                 json_object_get(d->payload, d->member) == j->j;
        if (red_json_scan_find(d->msg->value, d->msg->value_len,
                               JSON_PARSER_MAX_DEPTH, "payload", d->member,
                               &top, &sub)) {
                return false;
        }
        t = in_sub ? &sub : &top;
        if (t->t != RED_JSON_REAL) {
                return false;
        }
        *p = t->p;
        *len = t->len;
        return true;
}

/* The number (or integer) @p x of field @p f, read from @p j, in range. */
static red_dlq_code_t check_number(dec_t *d, const red_field_t *f, double x,
                                   const jv_t *j)
{
        const char *p = NULL;
        size_t len = 0;

        if (!real_text(d, j, &p, &len)) {
                p = NULL;
        }
        return red_decode_range_number(f, x, p, len, d->detail, d->size)
                       ? RED_DLQ_OUT_OF_RANGE
                       : RED_DLQ_NONE;
}

/* Time @p t of @p what within the times reducerd stores. */
static red_dlq_code_t check_time(dec_t *d, const char *what, red_time_t t)
{
        return red_decode_range_time(what, t, d->detail, d->size)
                       ? RED_DLQ_OUT_OF_RANGE
                       : RED_DLQ_NONE;
}

/* The dead letter for JSON the event would store with a \u0000 in a
 * name or a value: the same reason wherever it is. */
static red_dlq_code_t nul_in_json(dec_t *d, const char *name)
{
        return bad(d, RED_DLQ_WRONG_TYPE,
                   "%s: contains \\u0000, which PostgreSQL cannot store", name);
}

/*
 * An object field on the fast path: its members checked on the spans
 * (the last of duplicate keys counts, as in jansson), its text kept as it
 * is in the message; no jansson tree is built. The scanner declined
 * \u0000 and escaped keys already (the tree path handles them).
 */
static red_dlq_code_t object_text(dec_t *d, const red_field_t *f, const jv_t *j,
                                  red_value_t *v)
{
        red_json_member_t m[RED_JSON_SCAN_MAX_MEMBERS];
        size_t cnt = 0;

        if (j->len > UINT32_MAX ||
            red_json_scan_object(j->p, j->len, m, &cnt)) {
                return DECLINE;
        }
        /* in the order of first occurrence, with the last value */
        for (size_t i = 0; f->values != RED_FT_NONE && i < cnt; i++) {
                const red_json_tok_t *val = &m[i].v;
                bool seen = false;

                for (size_t k = 0; k < i && !seen; k++) {
                        seen = m[k].klen == m[i].klen &&
                               !memcmp(m[k].k, m[i].k, m[i].klen);
                }
                if (seen) {
                        continue;
                }
                for (size_t k = i + 1; k < cnt; k++) {
                        if (m[k].klen == m[i].klen &&
                            !memcmp(m[k].k, m[i].k, m[i].klen)) {
                                val = &m[k].v;
                        }
                }
                if (!red_decode_range_member_tok(f->values, val)) {
                        return bad(d, RED_DLQ_WRONG_TYPE,
                                   "%s.%.*s: expected a %s, got %s", f->name,
                                   (int)(m[i].klen < 64 ? m[i].klen : 64),
                                   m[i].k,
                                   red_contract_field_type_name(f->values),
                                   red_decode_jv_type_name(val->t));
                }
        }
        v->type = RED_FT_OBJECT;
        v->j = NULL;
        v->raw = j->p;
        v->raw_len = (uint32_t)j->len;
        return RED_DLQ_NONE;
}

static red_dlq_code_t field(dec_t *d, const red_field_t *f, const jv_t *j,
                            double scale, red_value_t *v)
{
        const char *s;
        size_t len;

        switch (f->type) {
        case RED_FT_STRING:
                if (j->t != RED_JSON_STR) {
                        break;
                }
                if (str_text(d, j, &s, &len)) {
                        return DECLINE;
                }
                if (memchr(s, '\0', len)) {
                        /* valid JSON, but no text column can hold it */
                        return bad(d, RED_DLQ_WRONG_TYPE,
                                   "%s: a string with a NUL character "
                                   "(\\u0000)",
                                   f->name);
                }
                if (!len && f->required && f->missing_detail) {
                        /* the reference treats "" as missing too */
                        return bad(d, RED_DLQ_MISSING_FIELD, "%s",
                                   f->missing_detail);
                }
                if (f->min_length >= 0 || f->max_length >= 0) {
                        size_t chars = utf8_len(s, len);
                        if ((f->min_length >= 0 &&
                             chars < (size_t)f->min_length) ||
                            (f->max_length >= 0 &&
                             chars > (size_t)f->max_length)) {
                                return bad(d, RED_DLQ_OUT_OF_RANGE,
                                           "%s: %zu characters, allowed "
                                           "%lld..%lld",
                                           f->name, chars,
                                           (long long)(f->min_length < 0
                                                               ? 0
                                                               : f->min_length),
                                           (long long)f->max_length);
                        }
                }
                if (f->regex && !red_decode_range_pattern(f, s, len)) {
                        return bad(d, RED_DLQ_NOT_ALLOWED,
                                   "%s: \"%.*s\" does not match the pattern "
                                   "%s",
                                   f->name, clip(len), s, f->pattern);
                }
                if (f->enum_cnt) {
                        for (size_t k = 0; k < f->enum_cnt; k++) {
                                const char *e = f->enum_values[k];
                                if (strlen(e) == len && !memcmp(e, s, len)) {
                                        /* the contract's copy outlives us */
                                        v->type = RED_FT_STRING;
                                        v->s.p = e;
                                        v->s.len = len;
                                        return RED_DLQ_NONE;
                                }
                        }
                        return bad(d, RED_DLQ_NOT_ALLOWED,
                                   "%s: \"%.*s\" is not one of the allowed "
                                   "values",
                                   f->name, clip(len), s);
                }
                return str_keep(d, v, f->slot, s, len) ? DECLINE : RED_DLQ_NONE;
        case RED_FT_INTEGER: {
                double x = j->t != RED_JSON_REAL ? 0.5 : jv_real(d, j);
                if (j->t == RED_JSON_INT) {
                        v->i = j->i;
                } else if (j->t == RED_JSON_REAL && x == floor(x) &&
                           fabs(x) < 9.0e15) {
                        v->i = (int64_t)x;
                } else {
                        break;
                }
                v->type = RED_FT_INTEGER;
                return check_number(d, f, (double)v->i, j);
        }
        case RED_FT_NUMBER:
                if (j->t == RED_JSON_INT) {
                        v->d = (double)j->i * scale;
                } else if (j->t == RED_JSON_REAL) {
                        v->d = jv_real(d, j) * scale;
                } else {
                        break;
                }
                if (d->fast && scale == 1.0) {
                        /* the token reads back as the same double */
                        v->num = j->p;
                        v->raw_len = (uint32_t)j->len;
                }
                v->type = RED_FT_NUMBER;
                return check_number(d, f, v->d, j);
        case RED_FT_BOOLEAN:
                if (j->t != RED_JSON_TRUE && j->t != RED_JSON_FALSE) {
                        break;
                }
                v->type = RED_FT_BOOLEAN;
                v->b = j->t == RED_JSON_TRUE;
                return RED_DLQ_NONE;
        case RED_FT_UUID:
                if (j->t != RED_JSON_STR) {
                        break;
                }
                if (str_text(d, j, &s, &len)) {
                        return DECLINE;
                }
                if (red_uuid_parse(s, len, &v->u)) {
                        return bad(d, RED_DLQ_WRONG_TYPE,
                                   "%s: \"%.*s\" is not a UUID", f->name,
                                   clip(len), s);
                }
                v->type = RED_FT_UUID;
                return RED_DLQ_NONE;
        case RED_FT_TIMESTAMP:
                if (j->t != RED_JSON_STR) {
                        break;
                }
                if (str_text(d, j, &s, &len)) {
                        return DECLINE;
                }
                if (red_time_parse(s, len, &v->t)) {
                        return bad(d, RED_DLQ_INVALID_TIMESTAMP,
                                   "%s: \"%.*s\" is not an ISO-8601 time",
                                   f->name, clip(len), s);
                }
                v->type = RED_FT_TIMESTAMP;
                return check_time(d, f->name, v->t);
        case RED_FT_OBJECT: {
                json_t *obj;
                red_dlq_code_t code;
                if (j->t != RED_JSON_OBJ) {
                        break;
                }
                if (d->fast) {
                        return object_text(d, f, j, v);
                }
                if (!(obj = owned_json(d, j))) {
                        return DECLINE;
                }
                if (red_decode_range_has_nul(obj)) {
                        return nul_in_json(d, f->name);
                }
                if ((code = red_decode_range_members(f, obj, d->detail,
                                                     d->size))) {
                        return code;
                }
                v->type = RED_FT_OBJECT;
                v->j = obj;
                return RED_DLQ_NONE;
        }
        case RED_FT_ARRAY: {
                json_t *arr;
                red_dlq_code_t code;
                if (j->t != RED_JSON_ARR) {
                        break;
                }
                if (!(arr = owned_json(d, j))) {
                        return DECLINE;
                }
                if (red_decode_range_has_nul(arr)) {
                        return nul_in_json(d, f->name);
                }
                if ((code = red_decode_range_items(f, arr, d->detail,
                                                   d->size))) {
                        return code;
                }
                v->type = RED_FT_ARRAY;
                v->j = arr;
                v->raw = NULL;
                return RED_DLQ_NONE;
        }
        default:
                break;
        }
        return bad(d, RED_DLQ_WRONG_TYPE, "%s: expected %s %s, got %s", f->name,
                   f->type == RED_FT_INTEGER || f->type == RED_FT_OBJECT ||
                                   f->type == RED_FT_ARRAY
                           ? "an"
                           : "a",
                   red_contract_field_type_name(f->type),
                   red_decode_jv_type_name(j->t));
}

static red_dlq_code_t event_time(dec_t *d, red_time_t now)
{
        static const char *const names[] = {"event_timestamp", "timestamp"};
        const red_contract_t *c = d->c;
        red_event_t *ev = d->ev;
        const char *name = NULL, *s;
        red_dlq_code_t code;
        bool have = false;
        size_t len;
        jv_t ts;

        for (int i = 0; i < 2 && !have; i++) {
                have = get(d, false, names[i], &ts);
                if (!have && nested(d)) {
                        have = get(d, true, names[i], &ts);
                }
                if (have && ts.t == RED_JSON_NULL) {
                        have = false;
                }
                name = names[i];
        }
        if (!have) {
                if (d->msg->timestamp < 0) {
                        return bad(d, RED_DLQ_MISSING_TIMESTAMP,
                                   "no timestamp or event_timestamp, and no "
                                   "Kafka message timestamp");
                }
                ev->time = d->msg->timestamp;
        } else if (ts.t != RED_JSON_STR) {
                return bad(d, RED_DLQ_INVALID_TIMESTAMP,
                           "%s: expected an ISO-8601 string, got %s", name,
                           red_decode_jv_type_name(ts.t));
        } else {
                if (str_text(d, &ts, &s, &len)) {
                        return DECLINE;
                }
                if (red_time_parse(s, len, &ev->time)) {
                        return bad(d, RED_DLQ_INVALID_TIMESTAMP,
                                   "%s: \"%.*s\" is not an ISO-8601 time", name,
                                   clip(len), s);
                }
        }
        if ((code = check_time(d, have ? name : "Kafka message timestamp",
                               ev->time))) {
                return code;
        }
        if (ev->time > now + c->max_future_skew_us) {
                char t[RED_TIME_FMT_SIZE];
                red_time_format(ev->time, t, sizeof(t));
                return bad(d, RED_DLQ_FUTURE_TIMESTAMP,
                           "event time %s is more than %lld s ahead of the "
                           "clock",
                           t,
                           (long long)(c->max_future_skew_us /
                                       RED_TIME_US_PER_SEC));
        }
        return RED_DLQ_NONE;
}

/* Everything after the JSON is read: kind, fields, event time. */
static red_dlq_code_t decode_event(dec_t *d, red_time_t now)
{
        const red_contract_t *c = d->c;
        const red_msg_t *msg = d->msg;
        red_event_t *ev = d->ev;
        const red_input_t *in;
        red_dlq_code_t code;
        bool have;
        jv_t type;

        have = get(d, false, "event_type", &type);
        if (!have && nested(d)) {
                have = get(d, true, "event_type", &type);
        }
        if (have && type.t != RED_JSON_NULL) {
                const char *s;
                size_t len;
                if (type.t != RED_JSON_STR) {
                        return bad(d, RED_DLQ_WRONG_TYPE,
                                   "event_type: expected a string, got %s",
                                   red_decode_jv_type_name(type.t));
                }
                if (str_text(d, &type, &s, &len)) {
                        return DECLINE;
                }
                ev->kind = red_contract_kind_by_type(c, s, len);
                if (!ev->kind) {
                        return bad(d, RED_DLQ_UNKNOWN_EVENT_TYPE,
                                   "event_type \"%.*s\" is not handled by "
                                   "contract %s",
                                   clip(len), s, c->name);
                }
        } else if (msg->header_type) {
                ev->kind = red_contract_kind_by_type(c, msg->header_type,
                                                     msg->header_type_len);
                if (!ev->kind) {
                        return bad(d, RED_DLQ_UNKNOWN_EVENT_TYPE,
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
                return bad(d, RED_DLQ_MISSING_EVENT_TYPE,
                           "no event_type in the envelope or the headers, and "
                           "topic %s carries several event kinds",
                           msg->topic ? msg->topic : "(none)");
        }

        for (size_t i = 0; i < ev->kind->field_cnt; i++) {
                const red_field_t *f = &ev->kind->fields[i];
                red_value_t *v = &ev->values[f->slot];
                double scale = 1.0;
                bool found = false;
                jv_t j;

                for (size_t s = 0; s < f->from_cnt && !found; s++) {
                        found = lookup(d, f->from[s].name, &j);
                        scale = f->from[s].scale;
                        d->member = f->from[s].name;
                }
                if (!found) {
                        if (f->has_default) {
                                set_const(v, &f->def);
                                continue;
                        }
                        if (f->required && f->missing_detail) {
                                return bad(d, RED_DLQ_MISSING_FIELD, "%s",
                                           f->missing_detail);
                        }
                        if (f->required) {
                                return bad(d, RED_DLQ_MISSING_FIELD,
                                           "%s: required field is missing",
                                           f->name);
                        }
                        continue;
                }
                if ((code = field(d, f, &j, scale, v))) {
                        return code;
                }
        }
        if (red_weight_of(c, ev, d->detail, d->size)) {
                return RED_DLQ_OUT_OF_RANGE;
        }
        return event_time(d, now);
}

/* ------------------------------------------------------------------ */
/* the two paths                                                       */
/* ------------------------------------------------------------------ */

#define GUARDS_MAX 32

/* The FSM's guard keys, with their lengths (once per event, not per member). */
typedef struct guards_s {
        const char *k[GUARDS_MAX];
        size_t len[GUARDS_MAX];
        size_t cnt;
        bool all; /* every guard fits in the table */
} guards_t;

static void guards_init(guards_t *g, const red_fsm_t *fsm)
{
        g->cnt = 0;
        g->all = true;
        for (size_t t = 0; fsm && t < fsm->transition_cnt; t++) {
                const red_transition_t *tr = &fsm->transitions[t];
                for (size_t i = 0; i < tr->guard_cnt; i++) {
                        if (g->cnt == GUARDS_MAX) {
                                g->all = false;
                                return;
                        }
                        g->k[g->cnt] = tr->guards[i];
                        g->len[g->cnt++] = strlen(tr->guards[i]);
                }
        }
}

static bool is_guard(const guards_t *g, const red_fsm_t *fsm, const char *k,
                     size_t len)
{
        for (size_t i = 0; i < g->cnt; i++) {
                if (g->len[i] == len && !memcmp(g->k[i], k, len)) {
                        return true;
                }
        }
        for (size_t t = 0; !g->all && t < fsm->transition_cnt; t++) {
                const red_transition_t *tr = &fsm->transitions[t];
                for (size_t i = 0; i < tr->guard_cnt; i++) {
                        if (strlen(tr->guards[i]) == len &&
                            !memcmp(tr->guards[i], k, len)) {
                                return true;
                        }
                }
        }
        return false;
}

/*
 * Fast path, after decode_event(): builds what the event owns (unescaped
 * strings, the envelope metadata, the payload members the FSM reads) and
 * points the event at it. A typical event owns nothing: ev->root and
 * ev->payload stay NULL and its strings point into the message.
 */
static red_dlq_code_t fast_finish(dec_t *d)
{
        const red_json_doc_t *s = d->doc;
        red_event_t *ev = d->ev;
        const red_json_member_t *pm = s->sub_object ? s->sub : s->top;
        size_t pn = s->sub_object ? s->sub_cnt : s->top_cnt;
        json_t *payload = NULL, *meta = NULL;
        guards_t guards;
        jv_t v;

        if (get(d, false, "metadata", &v) && v.t == RED_JSON_OBJ &&
            !(meta = owned_json(d, &v))) {
                return DECLINE;
        }
        guards_init(&guards, d->c->fsm);
        /* the last of duplicate keys wins: walk backwards */
        for (size_t i = pn; d->c->fsm && i-- > 0;) {
                const red_json_member_t *m = &pm[i];
                bool is_meta = m->klen == 8 && !memcmp(m->k, "metadata", 8);
                json_t *j;

                if ((!is_meta &&
                     !is_guard(&guards, d->c->fsm, m->k, m->klen)) ||
                    (payload && json_object_getn(payload, m->k, m->klen))) {
                        continue;
                }
                if (!payload &&
                    !(payload = red_decode_keep_json(&d->keep, NULL))) {
                        return DECLINE;
                }
                if (is_meta && !s->sub_object && meta) {
                        j = meta; /* flat: the envelope's, one object */
                } else if (!(j = red_decode_keep_json(&d->keep, &m->v))) {
                        return DECLINE;
                }
                if (json_object_setn_nocheck(payload, m->k, m->klen, j)) {
                        return DECLINE;
                }
        }
        if (red_decode_keep_finish(&d->keep, ev)) {
                return DECLINE;
        }
        ev->payload = payload;
        ev->metadata = meta;
        return RED_DLQ_NONE;
}

static red_dlq_code_t decode_fast(dec_t *d, red_time_t now)
{
        red_dlq_code_t code;

        d->fast = true;
        red_decode_keep_init(&d->keep);
        code = decode_event(d, now);
        if (code == RED_DLQ_NONE) {
                code = fast_finish(d);
        }
        red_decode_keep_destroy(&d->keep);
        return code;
}

/*
 * The metadata object an FSM history row would store for this event (its
 * kind triggers the FSM): the payload's "metadata", else the envelope's
 * @p meta (red_fsm.c picks it so), or NULL. Only the tree path can meet a
 * \u0000 in it: the scanner declines \u0000 anywhere in a message.
 */
static const json_t *stored_metadata(const dec_t *d, const json_t *meta)
{
        const red_fsm_t *fsm = d->c->fsm;
        const json_t *pm;
        bool triggers = false;

        for (size_t i = 0; fsm && i < fsm->trigger_cnt && !triggers; i++) {
                triggers = fsm->triggers[i].on &
                           (UINT64_C(1) << d->ev->kind->index);
        }
        if (!triggers) {
                return NULL;
        }
        pm = json_object_get(d->payload, "metadata");
        return json_is_object(pm) ? pm : json_is_object(meta) ? meta : NULL;
}

static red_dlq_code_t decode_tree(dec_t *d, red_time_t now)
{
        const red_msg_t *msg = d->msg;
        red_event_t *ev = d->ev;
        json_t *payload, *meta;
        json_error_t jerr;
        red_dlq_code_t code;

        d->fast = false;
        /* json_loadb, and a tree of our own where it refuses \u0000 in
         * a name: valid JSON, judged like \u0000 in a value */
        d->root = red_json_tree_load(msg->value, msg->value_len, &jerr);
        if (!d->root) {
                /* Python's json.dumps writes float('nan') and float('inf')
                 * as bare words: say so */
                bool nonfinite = strstr(jerr.text, "near 'NaN'") ||
                                 strstr(jerr.text, "near 'Infinity'") ||
                                 strstr(jerr.text, "near '-Infinity'");
                return bad(d, RED_DLQ_INVALID_JSON, "%s at line %d column %d%s",
                           jerr.text, jerr.line, jerr.column,
                           nonfinite ? " (NaN and Infinity are not JSON "
                                       "numbers; a value must be finite)"
                                     : "");
        }
        if (!json_is_object(d->root)) {
                jv_t v;
                red_decode_jv_from_json(d->root, &v);
                json_decref(d->root);
                return bad(d, RED_DLQ_NOT_AN_OBJECT,
                           "the message is %s, not a JSON object",
                           red_decode_jv_type_name(v.t));
        }
        payload = json_object_get(d->root, "payload");
        d->payload = json_is_object(payload) ? payload : d->root;
        meta = json_object_get(d->root, "metadata");
        code = decode_event(d, now);
        if (code == RED_DLQ_NONE &&
            red_decode_range_has_nul(stored_metadata(d, meta))) {
                code = nul_in_json(d, "metadata");
        }
        if (code != RED_DLQ_NONE) {
                json_decref(d->root);
                return code;
        }
        ev->root = d->root;
        ev->payload = d->payload;
        ev->metadata = json_is_object(meta) ? meta : NULL;
        return RED_DLQ_NONE;
}

static void reset(const red_contract_t *c, const red_msg_t *msg,
                  red_event_t *ev, char *detail)
{
        memset(ev->values, 0, c->slot_cnt * sizeof(*ev->values));
        ev->kind = NULL;
        ev->root = ev->payload = ev->metadata = NULL;
        ev->msg = msg;
        ev->time = 0;
        ev->weight = RED_WEIGHT_ONE;
        detail[0] = '\0';
}

static red_dlq_code_t run(const red_contract_t *c, const red_msg_t *msg,
                          red_time_t now, red_event_t *ev, char *detail,
                          size_t detail_size, bool try_fast)
{
        dec_t d = {.c = c,
                   .msg = msg,
                   .ev = ev,
                   .detail = detail,
                   .size = detail_size};
        red_dlq_code_t code;
        red_json_doc_t doc;

        reset(c, msg, ev, detail);
        if (!msg->value_len) {
                /* consumed like any other message, so accounted for */
                return bad(&d, RED_DLQ_EMPTY_VALUE, "%s",
                           msg->value ? "the message value is empty"
                                      : "the message has no value (a "
                                        "tombstone)");
        }
        if (msg->value_len > RED_DECODE_MAX_BYTES) {
                return bad(&d, RED_DLQ_TOO_LARGE,
                           "%zu bytes, at most %d are accepted", msg->value_len,
                           RED_DECODE_MAX_BYTES);
        }
        if (try_fast &&
            !red_json_scan_doc(&doc, msg->value, msg->value_len, "payload")) {
                d.doc = &doc;
                code = decode_fast(&d, now);
                if (code != DECLINE) {
                        return code;
                }
                reset(c, msg, ev, detail);
        }
        return decode_tree(&d, now);
}

red_dlq_code_t red_decode(const red_contract_t *c, const red_msg_t *msg,
                          red_time_t now, red_event_t *ev, char *detail,
                          size_t detail_size)
{
        return run(c, msg, now, ev, detail, detail_size, true);
}

red_dlq_code_t red_decode_tree(const red_contract_t *c, const red_msg_t *msg,
                               red_time_t now, red_event_t *ev, char *detail,
                               size_t detail_size)
{
        return run(c, msg, now, ev, detail, detail_size, false);
}

void red_decode_release(red_event_t *ev)
{
        json_decref(ev->root);
        ev->root = ev->payload = ev->metadata = NULL;
}
