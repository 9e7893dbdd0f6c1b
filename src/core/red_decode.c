/* red_decode - envelope and payload decoding with typed dead-letter reasons. */

/*
 * Two paths produce the same events, codes and details:
 *
 * - The fast path scans the message once with a strict JSON scanner that
 *   accepts exactly what jansson accepts (RFC 8259 grammar, UTF-8 checked
 *   as jansson checks it, no NaN, no trailing garbage) and keeps the
 *   members of the envelope and of the payload as spans of the message.
 *   Values are converted straight from the spans; jansson values are built
 *   only for what is later read as JSON: the envelope metadata, object
 *   fields, and the payload members the FSM's guards and history rows
 *   read (the guard keys and "metadata"). A decoded event then owns a few
 *   small allocations instead of a complete tree of ~50; with a batch of
 *   thousands of events alive until commit, the trees cost more than the
 *   parse itself (malloc consolidation, page faults).
 *
 * - The tree path parses with jansson, as the reference. It takes
 *   whatever the scanner declines: every invalid input (so errors read as
 *   jansson words them) and a few rare valid constructs (escaped keys,
 *   \u0000, integers of 19+ digits, numbers near the double range, nesting
 *   deeper than 64, more than 64 members in the envelope or payload).
 *
 * With the fast path, ev->payload holds only the members named above (or
 * is NULL when there are none); string values point into the message (it
 * outlives its event: red_core keeps messages until they are done), into
 * the contract (enum values), or, when unescaped, into a string ev->root
 * owns. A typical event allocates nothing.
 */
#include "red_decode.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* clang-format off */
static const char *const code_names[RED_DLQ__CNT] = {
        "none",           "invalid_json",      "not_an_object",
        "too_large",      "unknown_event_type", "missing_event_type",
        "missing_field",  "wrong_type",        "out_of_range",
        "not_allowed",    "invalid_timestamp", "missing_timestamp",
        "future_timestamp", "late",          "empty_value"};
/* clang-format on */

const char *red_dlq_code_name(red_dlq_code_t code)
{
        return (unsigned)code < RED_DLQ__CNT ? code_names[code] : "unknown";
}

/* ------------------------------------------------------------------ */
/* JSON value views, common to both paths                              */
/* ------------------------------------------------------------------ */

typedef enum {
        V_NULL,
        V_TRUE,
        V_FALSE,
        V_INT,
        V_REAL,
        V_STR,
        V_OBJ,
        V_ARR,
} vtype_t;

/* A JSON value: a jansson value (tree path) or a span of the message. */
typedef struct jv_s {
        vtype_t t;
        bool esc;      /* fast string: has escapes */
        const char *p; /* fast: the token (strings: between the quotes);
                          tree strings: the value */
        size_t len;
        int64_t i; /* V_INT */
        double d;  /* V_REAL, tree path */
        json_t *j; /* tree path: the value */
} jv_t;

typedef struct member_s {
        const char *k;
        size_t klen;
        jv_t v;
} member_t;

#define SCAN_MAX_MEMBERS 64
#define SCAN_MAX_DEPTH   64
#define SCAN_MAX_NUMBER  300 /* longer number tokens go the tree path */

static const char *jv_type_name(const jv_t *v)
{
        switch (v->t) {
        case V_OBJ:
                return "an object";
        case V_ARR:
                return "an array";
        case V_STR:
                return "a string";
        case V_INT:
                return "an integer";
        case V_REAL:
                return "a number";
        case V_TRUE:
        case V_FALSE:
                return "a boolean";
        default:
                return "null";
        }
}

static void jv_from_json(json_t *j, jv_t *v)
{
        memset(v, 0, sizeof(*v));
        v->j = j;
        switch (json_typeof(j)) {
        case JSON_OBJECT:
                v->t = V_OBJ;
                break;
        case JSON_ARRAY:
                v->t = V_ARR;
                break;
        case JSON_STRING:
                v->t = V_STR;
                v->p = json_string_value(j);
                v->len = json_string_length(j);
                break;
        case JSON_INTEGER:
                v->t = V_INT;
                v->i = (int64_t)json_integer_value(j);
                break;
        case JSON_REAL:
                v->t = V_REAL;
                v->d = json_real_value(j);
                break;
        case JSON_TRUE:
                v->t = V_TRUE;
                break;
        case JSON_FALSE:
                v->t = V_FALSE;
                break;
        default:
                v->t = V_NULL;
                break;
        }
}

/* ------------------------------------------------------------------ */
/* the scanner                                                         */
/* ------------------------------------------------------------------ */

/* Byte classes inside strings: 0 plain ASCII, 1 '"', 2 '\\', 3 control,
 * 4 the lead byte of a multi-byte sequence or invalid. */
/* clang-format off */
static const unsigned char str_class[256] = {
        3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
        3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
        0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
        4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
        4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
        4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
        4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
        4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
        4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
        4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
};
/* clang-format on */

typedef struct scan_s {
        const unsigned char *p, *end;
        member_t rm[SCAN_MAX_MEMBERS]; /* the envelope's members */
        size_t rn;
        member_t pm[SCAN_MAX_MEMBERS]; /* the last "payload" object's */
        size_t pn;
        bool nested; /* the last "payload" member is an object */
} scan_t;

static inline void skip_ws(scan_t *s)
{
        while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' ||
                                 *s->p == '\r' || *s->p == '\t')) {
                s->p++;
        }
}

static inline int hexval(unsigned char c)
{
        if (c >= '0' && c <= '9') {
                return c - '0';
        }
        c |= 0x20;
        return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Four hex digits at p (bounds checked by the caller), or -1. */
static int32_t hex4(const unsigned char *p)
{
        int32_t v = 0;

        for (int i = 0; i < 4; i++) {
                int h = hexval(p[i]);
                if (h < 0) {
                        return -1;
                }
                v = v << 4 | h;
        }
        return v;
}

/* Length of the valid UTF-8 sequence at p (lead byte >= 0x80) as jansson
 * checks it (no overlongs, surrogates or values past U+10FFFF), or 0. */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end)
{
        unsigned char c = p[0];
        size_t n;
        uint32_t v;

        if (c >= 0xc2 && c <= 0xdf) {
                n = 2;
                v = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
                n = 3;
                v = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
                n = 4;
                v = c & 0x07;
        } else {
                return 0;
        }
        if ((size_t)(end - p) < n) {
                return 0;
        }
        for (size_t i = 1; i < n; i++) {
                if ((p[i] & 0xc0) != 0x80) {
                        return 0;
                }
                v = v << 6 | (p[i] & 0x3f);
        }
        if ((n == 3 && v < 0x800) || (n == 4 && v < 0x10000) || v > 0x10ffff ||
            (v >= 0xd800 && v <= 0xdfff)) {
                return 0;
        }
        return n;
}

/* A string; s->p at the opening quote. */
static int scan_string(scan_t *s, jv_t *v)
{
        const unsigned char *p = s->p + 1, *end = s->end;

        v->t = V_STR;
        v->esc = false;
        v->p = (const char *)p;
        for (;;) {
                while (p < end && !str_class[*p]) {
                        p++;
                }
                if (p >= end) {
                        return -1;
                }
                switch (str_class[*p]) {
                case 1:
                        v->len = (size_t)(p - (const unsigned char *)v->p);
                        s->p = p + 1;
                        return 0;
                case 2:
                        v->esc = true;
                        if (end - p < 2) {
                                return -1;
                        }
                        switch (p[1]) {
                        case '"':
                        case '\\':
                        case '/':
                        case 'b':
                        case 'f':
                        case 'n':
                        case 'r':
                        case 't':
                                p += 2;
                                break;
                        case 'u': {
                                int32_t u;
                                if (end - p < 6 || (u = hex4(p + 2)) <= 0) {
                                        return -1; /* \u0000: tree path */
                                }
                                p += 6;
                                if (u >= 0xdc00 && u <= 0xdfff) {
                                        return -1;
                                }
                                if (u >= 0xd800 && u <= 0xdbff) {
                                        int32_t lo;
                                        if (end - p < 6 || p[0] != '\\' ||
                                            p[1] != 'u' ||
                                            (lo = hex4(p + 2)) < 0xdc00 ||
                                            lo > 0xdfff) {
                                                return -1;
                                        }
                                        p += 6;
                                }
                                break;
                        }
                        default:
                                return -1;
                        }
                        break;
                case 3:
                        return -1;
                default: {
                        size_t n = utf8_seq(p, end);
                        if (!n) {
                                return -1;
                        }
                        p += n;
                        break;
                }
                }
        }
}

/* A number, strictly -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?. */
static int scan_number(scan_t *s, jv_t *v)
{
        const unsigned char *p = s->p, *end = s->end, *int_start;
        size_t int_digits, lead_zero;
        bool real = false;
        long exp = 0;

        v->p = (const char *)p;
        if (*p == '-') {
                p++;
        }
        int_start = p;
        if (p < end && *p == '0') {
                p++;
                if (p < end && *p >= '0' && *p <= '9') {
                        return -1;
                }
        } else if (p < end && *p >= '1' && *p <= '9') {
                while (p < end && *p >= '0' && *p <= '9') {
                        p++;
                }
        } else {
                return -1;
        }
        int_digits = (size_t)(p - int_start);
        lead_zero = *int_start == '0';
        if (p < end && *p == '.') {
                real = true;
                p++;
                if (p >= end || *p < '0' || *p > '9') {
                        return -1;
                }
                while (p < end && *p >= '0' && *p <= '9') {
                        p++;
                }
        }
        if (p < end && (*p == 'e' || *p == 'E')) {
                bool neg = false;
                real = true;
                p++;
                if (p < end && (*p == '+' || *p == '-')) {
                        neg = *p == '-';
                        p++;
                }
                if (p >= end || *p < '0' || *p > '9') {
                        return -1;
                }
                while (p < end && *p >= '0' && *p <= '9') {
                        if (exp < 100000) {
                                exp = exp * 10 + (*p - '0');
                        }
                        p++;
                }
                if (neg) {
                        exp = -exp;
                }
        }
        v->len = (size_t)(p - (const unsigned char *)v->p);
        if (v->len > SCAN_MAX_NUMBER) {
                return -1;
        }
        if (real) {
                /* jansson rejects overflow; leave anything near it to it */
                if ((long)(int_digits - lead_zero) + exp > 300) {
                        return -1;
                }
                v->t = V_REAL;
        } else {
                uint64_t u = 0;
                if (int_digits > 18) {
                        return -1; /* jansson decides what overflows */
                }
                for (const unsigned char *q = int_start; q < p; q++) {
                        u = u * 10 + (uint64_t)(*q - '0');
                }
                v->t = V_INT;
                v->i = *v->p == '-' ? -(int64_t)u : (int64_t)u;
        }
        s->p = p;
        return 0;
}

static int scan_literal(scan_t *s, const char *word, size_t len)
{
        if ((size_t)(s->end - s->p) < len || memcmp(s->p, word, len)) {
                return -1;
        }
        s->p += len;
        /* jansson reads a whole run of letters as one word */
        if (s->p < s->end && ((*s->p | 0x20) >= 'a' && (*s->p | 0x20) <= 'z')) {
                return -1;
        }
        return 0;
}

static int scan_value(scan_t *s, jv_t *v, int depth);

/* An object; s->p at '{'. Its members go to @p m (when not NULL). */
static int scan_object(scan_t *s, member_t *m, size_t *cntp, int depth)
{
        if (depth > SCAN_MAX_DEPTH) {
                return -1;
        }
        s->p++;
        skip_ws(s);
        if (s->p < s->end && *s->p == '}') {
                s->p++;
                return 0;
        }
        for (;;) {
                jv_t key, val;

                if (s->p >= s->end || *s->p != '"' || scan_string(s, &key) ||
                    key.esc) {
                        return -1; /* escaped keys: tree path */
                }
                skip_ws(s);
                if (s->p >= s->end || *s->p != ':') {
                        return -1;
                }
                s->p++;
                skip_ws(s);
                if (scan_value(s, &val, depth)) {
                        return -1;
                }
                if (m) {
                        if (*cntp == SCAN_MAX_MEMBERS) {
                                return -1;
                        }
                        m[*cntp].k = key.p;
                        m[*cntp].klen = key.len;
                        m[*cntp].v = val;
                        (*cntp)++;
                }
                skip_ws(s);
                if (s->p >= s->end) {
                        return -1;
                }
                if (*s->p == '}') {
                        s->p++;
                        return 0;
                }
                if (*s->p != ',') {
                        return -1;
                }
                s->p++;
                skip_ws(s);
        }
}

static int scan_array(scan_t *s, int depth)
{
        if (depth > SCAN_MAX_DEPTH) {
                return -1;
        }
        s->p++;
        skip_ws(s);
        if (s->p < s->end && *s->p == ']') {
                s->p++;
                return 0;
        }
        for (;;) {
                jv_t val;

                if (scan_value(s, &val, depth)) {
                        return -1;
                }
                skip_ws(s);
                if (s->p >= s->end) {
                        return -1;
                }
                if (*s->p == ']') {
                        s->p++;
                        return 0;
                }
                if (*s->p != ',') {
                        return -1;
                }
                s->p++;
                skip_ws(s);
        }
}

static int scan_value(scan_t *s, jv_t *v, int depth)
{
        const unsigned char *start = s->p;
        int r;

        if (s->p >= s->end) {
                return -1;
        }
        v->esc = false;
        switch (*s->p) {
        case '{':
                v->t = V_OBJ;
                r = scan_object(s, NULL, NULL, depth + 1);
                break;
        case '[':
                v->t = V_ARR;
                r = scan_array(s, depth + 1);
                break;
        case '"':
                return scan_string(s, v);
        case 't':
                v->t = V_TRUE;
                r = scan_literal(s, "true", 4);
                break;
        case 'f':
                v->t = V_FALSE;
                r = scan_literal(s, "false", 5);
                break;
        case 'n':
                v->t = V_NULL;
                r = scan_literal(s, "null", 4);
                break;
        default:
                return scan_number(s, v);
        }
        v->p = (const char *)start;
        v->len = (size_t)(s->p - start);
        return r;
}

/*
 * Scans a whole message that is one JSON object, keeping the envelope's
 * members and those of its (last) "payload" object. -1: the tree path
 * decides (invalid, not an object, or a construct left to jansson).
 */
static int scan_message(scan_t *s, const void *data, size_t len)
{
        size_t payload_at = SIZE_MAX;

        s->p = data;
        s->end = s->p + len;
        s->rn = s->pn = 0;
        s->nested = false;
        skip_ws(s);
        if (s->p >= s->end || *s->p != '{') {
                return -1;
        }
        s->p++;
        skip_ws(s);
        if (s->p < s->end && *s->p == '}') {
                s->p++;
        } else {
                for (;;) {
                        member_t *m;

                        if (s->rn == SCAN_MAX_MEMBERS || s->p >= s->end ||
                            *s->p != '"') {
                                return -1;
                        }
                        m = &s->rm[s->rn];
                        if (scan_string(s, &m->v) || m->v.esc) {
                                return -1;
                        }
                        m->k = m->v.p;
                        m->klen = m->v.len;
                        skip_ws(s);
                        if (s->p >= s->end || *s->p != ':') {
                                return -1;
                        }
                        s->p++;
                        skip_ws(s);
                        if (m->klen == 7 && !memcmp(m->k, "payload", 7) &&
                            s->p < s->end && *s->p == '{') {
                                const unsigned char *start = s->p;
                                s->pn = 0;
                                if (scan_object(s, s->pm, &s->pn, 1)) {
                                        return -1;
                                }
                                m->v.t = V_OBJ;
                                m->v.esc = false;
                                m->v.p = (const char *)start;
                                m->v.len = (size_t)(s->p - start);
                                payload_at = s->rn;
                        } else if (scan_value(s, &m->v, 1)) {
                                return -1;
                        }
                        s->rn++;
                        skip_ws(s);
                        if (s->p >= s->end) {
                                return -1;
                        }
                        if (*s->p == '}') {
                                s->p++;
                                break;
                        }
                        if (*s->p != ',') {
                                return -1;
                        }
                        s->p++;
                        skip_ws(s);
                }
        }
        skip_ws(s);
        if (s->p != s->end) {
                return -1;
        }
        /* duplicate keys: the last one counts, as in jansson */
        for (size_t i = s->rn; i-- > 0;) {
                if (s->rm[i].klen == 7 && !memcmp(s->rm[i].k, "payload", 7)) {
                        s->nested = i == payload_at;
                        break;
                }
        }
        return 0;
}

/* The value of a real token, as jansson's strtod gives it. */
static double scan_real(const jv_t *v)
{
        static const double p10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,
                                     1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                     1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
                                     1e18, 1e19, 1e20, 1e21, 1e22};
        const char *p = v->p, *end = v->p + v->len;
        bool neg = *p == '-', seen = false;
        uint64_t m = 0;
        int digits = 0;
        long e10 = 0, exp = 0;
        char buf[SCAN_MAX_NUMBER + 1];
        const struct lconv *lc;

        /*
         * Clinger's fast path: at most 15 significant digits and a power
         * of ten up to 22 are exact doubles, so one IEEE multiplication or
         * division rounds correctly, like strtod.
         */
        if (neg) {
                p++;
        }
        for (; p < end && *p != 'e' && *p != 'E'; p++) {
                if (*p == '.') {
                        seen = true;
                        continue;
                }
                if (m || *p != '0') {
                        if (++digits > 15) {
                                goto slow;
                        }
                        m = m * 10 + (uint64_t)(*p - '0');
                }
                if (seen) {
                        e10--;
                }
        }
        if (p < end) {
                bool eneg = false;
                p++;
                if (*p == '+' || *p == '-') {
                        eneg = *p++ == '-';
                }
                for (; p < end; p++) {
                        if (exp < 1000) {
                                exp = exp * 10 + (*p - '0');
                        }
                }
                e10 += eneg ? -exp : exp;
        }
        if (e10 >= -22 && e10 <= 22) {
                double d = (double)m;
                d = e10 >= 0 ? d * p10[e10] : d / p10[-e10];
                return neg ? -d : d;
        }
slow:
        memcpy(buf, v->p, v->len);
        buf[v->len] = '\0';
        lc = localeconv();
        if (lc && lc->decimal_point && lc->decimal_point[0] != '.' &&
            lc->decimal_point[0]) {
                char *dot = strchr(buf, '.');
                if (dot) {
                        *dot = lc->decimal_point[0];
                }
        }
        return strtod(buf, NULL);
}

/* ------------------------------------------------------------------ */
/* the decoder, over either path                                       */
/* ------------------------------------------------------------------ */

#define KEEP_STACK 2048
#define KEEP_SLOTS 32

typedef struct dec_s {
        const red_contract_t *c;
        const red_msg_t *msg;
        red_event_t *ev;
        char *detail;
        size_t size;
        bool fast;
        /* tree path */
        json_t *root, *payload; /* payload == root when flat */
        /* fast path */
        scan_t *scan;
        json_t *owned; /* array of the JSON values the event keeps */
        char *keep;    /* unescaped string values, copied at the end */
        size_t keep_len, keep_cap;
        int keep_slots[KEEP_SLOTS]; /* values holding offsets into keep */
        size_t keep_slot_cnt;
        char keep_stack[KEEP_STACK];
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

/* Internal: the fast path gives up (out of memory); the tree path retries. */
#define DECLINE ((red_dlq_code_t)-1)

static bool nested(const dec_t *d)
{
        return d->fast ? d->scan->nested : d->payload != d->root;
}

/* Member @p name of the payload (or the envelope). */
static bool get(const dec_t *d, bool payload, const char *name, jv_t *out)
{
        size_t len = strlen(name);

        if (d->fast) {
                const member_t *m = d->scan->rm;
                size_t n = d->scan->rn;
                if (payload && d->scan->nested) {
                        m = d->scan->pm;
                        n = d->scan->pn;
                }
                for (size_t i = n; i-- > 0;) {
                        if (m[i].klen == len && !memcmp(m[i].k, name, len)) {
                                *out = m[i].v;
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
                jv_from_json(j, out);
                return true;
        }
}

/* Looks a name up in the payload, then (flat-with-envelope producers)
 * in the envelope. JSON null counts as absent. */
static bool lookup(const dec_t *d, const char *name, jv_t *out)
{
        bool got = get(d, true, name, out);

        if ((!got || out->t == V_NULL) && nested(d)) {
                got = get(d, false, name, out);
        }
        return got && out->t != V_NULL;
}

/* Room for @p n more bytes of kept strings. */
static int keep_reserve(dec_t *d, size_t n)
{
        char *nk;
        size_t ncap;

        if (d->keep_cap - d->keep_len >= n) {
                return 0;
        }
        ncap = (d->keep_len + n) * 2;
        if (d->keep == d->keep_stack) {
                if (!(nk = malloc(ncap))) {
                        return -1;
                }
                memcpy(nk, d->keep, d->keep_len);
        } else if (!(nk = realloc(d->keep, ncap))) {
                return -1;
        }
        d->keep = nk;
        d->keep_cap = ncap;
        return 0;
}

static char *put_utf8(char *t, uint32_t u)
{
        if (u < 0x80) {
                *t++ = (char)u;
        } else if (u < 0x800) {
                *t++ = (char)(0xc0 | u >> 6);
                *t++ = (char)(0x80 | (u & 0x3f));
        } else if (u < 0x10000) {
                *t++ = (char)(0xe0 | u >> 12);
                *t++ = (char)(0x80 | (u >> 6 & 0x3f));
                *t++ = (char)(0x80 | (u & 0x3f));
        } else {
                *t++ = (char)(0xf0 | u >> 18);
                *t++ = (char)(0x80 | (u >> 12 & 0x3f));
                *t++ = (char)(0x80 | (u >> 6 & 0x3f));
                *t++ = (char)(0x80 | (u & 0x3f));
        }
        return t;
}

/*
 * The text of a string value. Tree path: the value itself. Fast path:
 * the span when it has no escapes (borrowed from the message), else the
 * unescaped text appended to the keep buffer (validated by the scanner).
 * -1 on OOM.
 */
static int str_text(dec_t *d, const jv_t *v, const char **p, size_t *len)
{
        const unsigned char *s, *end;
        char *t;

        if (!d->fast || !v->esc) {
                *p = v->p;
                *len = v->len;
                return 0;
        }
        if (keep_reserve(d, v->len)) {
                return -1;
        }
        s = (const unsigned char *)v->p;
        end = s + v->len;
        t = d->keep + d->keep_len;
        while (s < end) {
                if (*s != '\\') {
                        *t++ = (char)*s++;
                        continue;
                }
                switch (s[1]) {
                case 'b':
                        *t++ = '\b';
                        break;
                case 'f':
                        *t++ = '\f';
                        break;
                case 'n':
                        *t++ = '\n';
                        break;
                case 'r':
                        *t++ = '\r';
                        break;
                case 't':
                        *t++ = '\t';
                        break;
                case 'u': {
                        uint32_t u = (uint32_t)hex4(s + 2);
                        if (u >= 0xd800 && u <= 0xdbff) {
                                uint32_t lo = (uint32_t)hex4(s + 8);
                                u = ((u - 0xd800) << 10) + (lo - 0xdc00) +
                                    0x10000;
                                s += 6;
                        }
                        t = put_utf8(t, u);
                        s += 6;
                        continue;
                }
                default:
                        *t++ = (char)s[1];
                        break;
                }
                s += 2;
        }
        *p = d->keep + d->keep_len;
        *len = (size_t)(t - *p);
        return 0;
}

/*
 * Stores a string value: the text in the tree, or in the message (fast
 * path without escapes: the message outlives the event), or the text
 * str_text() unescaped into the keep buffer, which the event will own.
 */
static int str_keep(dec_t *d, red_value_t *v, int slot, const char *p,
                    size_t len)
{
        v->type = RED_FT_STRING;
        v->s.len = len;
        v->s.p = p;
        if (!d->fast || p != d->keep + d->keep_len) {
                return 0;
        }
        if (d->keep_slot_cnt == KEEP_SLOTS) {
                return -1; /* the tree path copes */
        }
        /* an offset until the keep buffer has its final place */
        v->s.p = (const char *)(uintptr_t)d->keep_len;
        d->keep_slots[d->keep_slot_cnt++] = slot;
        d->keep_len += len;
        return 0;
}

/* A JSON value the event keeps (fast path: built from its span; a new
 * empty object for @p v NULL). */
static json_t *owned_json(dec_t *d, const jv_t *v)
{
        json_t *j;

        if (!d->fast) {
                return v->j;
        }
        if (!d->owned && !(d->owned = json_array())) {
                return NULL;
        }
        switch (v ? v->t : V_OBJ) {
        case V_NULL:
                j = json_null();
                break;
        case V_TRUE:
                j = json_true();
                break;
        case V_FALSE:
                j = json_false();
                break;
        case V_INT:
                j = json_integer(v->i);
                break;
        case V_REAL:
                j = json_real(scan_real(v));
                break;
        default:
                /* validated already: this parse cannot fail but for OOM */
                j = v ? json_loadb(v->p, v->len,
                                   JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL)
                      : json_object();
                break;
        }
        if (!j || json_array_append_new(d->owned, j)) {
                return NULL;
        }
        return j;
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

/* The shortest text that reads back as @p x ("0.1", not "0.10000000000000001").
 */
static const char *num_text(double x, char buf[32])
{
        for (int prec = 15; prec <= 17; prec++) {
                snprintf(buf, 32, "%.*g", prec, x);
                if (strtod(buf, NULL) == x) {
                        break;
                }
        }
        return buf;
}

static red_dlq_code_t check_number(dec_t *d, const red_field_t *f, double x)
{
        char a[32], b[32];

        if (!isfinite(x)) {
                return bad(d, RED_DLQ_OUT_OF_RANGE, "%s: not a finite number",
                           f->name);
        }
        if (f->has_min && x < f->min) {
                return bad(d, RED_DLQ_OUT_OF_RANGE,
                           "%s: %s is below the minimum %s", f->name,
                           num_text(x, a), num_text(f->min, b));
        }
        if (f->has_max && x > f->max) {
                return bad(d, RED_DLQ_OUT_OF_RANGE,
                           "%s: %s is above the maximum %s", f->name,
                           num_text(x, a), num_text(f->max, b));
        }
        return RED_DLQ_NONE;
}

static bool member_type_ok(red_field_type_t want, const json_t *item)
{
        switch (want) {
        case RED_FT_STRING:
                return json_is_string(item);
        case RED_FT_NUMBER:
                return json_is_number(item);
        case RED_FT_INTEGER:
                return json_is_integer(item);
        case RED_FT_BOOLEAN:
                return json_is_boolean(item);
        default:
                return true;
        }
}

/* A member value of the fast path has the type of an object field's
 * `values` (as member_type_ok() judges the same value parsed). */
static bool member_jv_ok(red_field_type_t want, const jv_t *v)
{
        switch (want) {
        case RED_FT_STRING:
                return v->t == V_STR;
        case RED_FT_NUMBER:
                return v->t == V_INT || v->t == V_REAL;
        case RED_FT_INTEGER:
                return v->t == V_INT;
        case RED_FT_BOOLEAN:
                return v->t == V_TRUE || v->t == V_FALSE;
        default:
                return true;
        }
}

/* Any string or key with \u0000 (jsonb cannot hold it). */
static bool has_nul(const json_t *j)
{
        const char *key;
        json_t *item;
        size_t i;

        if (json_is_string(j)) {
                return strlen(json_string_value(j)) != json_string_length(j);
        }
        if (json_is_object(j)) {
                json_object_foreach((json_t *)j, key, item) {
                        if (has_nul(item)) {
                                return true;
                        }
                }
                return false;
        }
        if (json_is_array(j)) {
                json_array_foreach(j, i, item) {
                        if (has_nul(item)) {
                                return true;
                        }
                }
        }
        return false;
}

/*
 * An object field on the fast path: its members checked on the spans
 * (the last of duplicate keys counts, as in jansson), its text kept as it
 * is in the message; no jansson tree is built. The scanner declined
 * \u0000 and escaped keys already (the tree path handles them).
 */
static red_dlq_code_t object_text(dec_t *d, const red_field_t *f,
                                  const jv_t *j, red_value_t *v)
{
        member_t m[SCAN_MAX_MEMBERS];
        size_t cnt = 0;
        scan_t sc;

        memset(&sc, 0, sizeof(sc));
        sc.p = (const unsigned char *)j->p;
        sc.end = sc.p + j->len;
        if (j->len > UINT32_MAX || scan_object(&sc, m, &cnt, 1)) {
                return DECLINE;
        }
        /* in the order of first occurrence, with the last value */
        for (size_t i = 0; f->values != RED_FT_NONE && i < cnt; i++) {
                const jv_t *val = &m[i].v;
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
                if (!member_jv_ok(f->values, val)) {
                        return bad(d, RED_DLQ_WRONG_TYPE,
                                   "%s.%.*s: expected a %s, got %s", f->name,
                                   (int)(m[i].klen < 64 ? m[i].klen : 64),
                                   m[i].k, red_field_type_name(f->values),
                                   jv_type_name(val));
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
                if (j->t != V_STR) {
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
                double x = j->t != V_REAL ? 0.5 : d->fast ? scan_real(j) : j->d;
                if (j->t == V_INT) {
                        v->i = j->i;
                } else if (j->t == V_REAL && x == floor(x) &&
                           fabs(x) < 9.0e15) {
                        v->i = (int64_t)x;
                } else {
                        break;
                }
                v->type = RED_FT_INTEGER;
                return check_number(d, f, (double)v->i);
        }
        case RED_FT_NUMBER:
                if (j->t == V_INT) {
                        v->d = (double)j->i * scale;
                } else if (j->t == V_REAL) {
                        v->d = (d->fast ? scan_real(j) : j->d) * scale;
                } else {
                        break;
                }
                if (d->fast && scale == 1.0) {
                        /* the token reads back as the same double */
                        v->num = j->p;
                        v->raw_len = (uint32_t)j->len;
                }
                v->type = RED_FT_NUMBER;
                return check_number(d, f, v->d);
        case RED_FT_BOOLEAN:
                if (j->t != V_TRUE && j->t != V_FALSE) {
                        break;
                }
                v->type = RED_FT_BOOLEAN;
                v->b = j->t == V_TRUE;
                return RED_DLQ_NONE;
        case RED_FT_UUID:
                if (j->t != V_STR) {
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
                if (j->t != V_STR) {
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
                return RED_DLQ_NONE;
        case RED_FT_OBJECT: {
                json_t *obj;
                if (j->t != V_OBJ) {
                        break;
                }
                if (d->fast) {
                        return object_text(d, f, j, v);
                }
                if (!(obj = owned_json(d, j))) {
                        return DECLINE;
                }
                if (has_nul(obj)) {
                        return bad(d, RED_DLQ_WRONG_TYPE,
                                   "%s: contains \\u0000, which PostgreSQL "
                                   "cannot store",
                                   f->name);
                }
                if (f->values != RED_FT_NONE) {
                        const char *key;
                        json_t *item;
                        json_object_foreach(obj, key, item)
                        {
                                if (!member_type_ok(f->values, item)) {
                                        jv_t iv;
                                        jv_from_json(item, &iv);
                                        return bad(
                                                d, RED_DLQ_WRONG_TYPE,
                                                "%s.%.64s: expected a %s, "
                                                "got %s",
                                                f->name, key,
                                                red_field_type_name(f->values),
                                                jv_type_name(&iv));
                                }
                        }
                }
                v->type = RED_FT_OBJECT;
                v->j = obj;
                return RED_DLQ_NONE;
        }
        default:
                break;
        }
        return bad(d, RED_DLQ_WRONG_TYPE, "%s: expected %s %s, got %s", f->name,
                   f->type == RED_FT_INTEGER || f->type == RED_FT_OBJECT ? "an"
                                                                         : "a",
                   red_field_type_name(f->type), jv_type_name(j));
}

static red_dlq_code_t event_time(dec_t *d, red_time_t now)
{
        static const char *const names[] = {"event_timestamp", "timestamp"};
        const red_contract_t *c = d->c;
        red_event_t *ev = d->ev;
        const char *name = NULL, *s;
        bool have = false;
        size_t len;
        jv_t ts;

        for (int i = 0; i < 2 && !have; i++) {
                have = get(d, false, names[i], &ts);
                if (!have && nested(d)) {
                        have = get(d, true, names[i], &ts);
                }
                if (have && ts.t == V_NULL) {
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
        } else if (ts.t != V_STR) {
                return bad(d, RED_DLQ_INVALID_TIMESTAMP,
                           "%s: expected an ISO-8601 string, got %s", name,
                           jv_type_name(&ts));
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
        if (have && type.t != V_NULL) {
                const char *s;
                size_t len;
                if (type.t != V_STR) {
                        return bad(d, RED_DLQ_WRONG_TYPE,
                                   "event_type: expected a string, got %s",
                                   jv_type_name(&type));
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
                }
                if (!found) {
                        if (f->has_default) {
                                set_const(v, &f->def);
                                continue;
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
        const scan_t *s = d->scan;
        red_event_t *ev = d->ev;
        const member_t *pm = s->nested ? s->pm : s->rm;
        size_t pn = s->nested ? s->pn : s->rn;
        json_t *payload = NULL, *meta = NULL, *str;
        guards_t guards;
        jv_t v;

        if (get(d, false, "metadata", &v) && v.t == V_OBJ &&
            !(meta = owned_json(d, &v))) {
                return DECLINE;
        }
        guards_init(&guards, d->c->fsm);
        /* the last of duplicate keys wins: walk backwards */
        for (size_t i = pn; d->c->fsm && i-- > 0;) {
                const member_t *m = &pm[i];
                bool is_meta = m->klen == 8 && !memcmp(m->k, "metadata", 8);
                json_t *j;

                if ((!is_meta &&
                     !is_guard(&guards, d->c->fsm, m->k, m->klen)) ||
                    (payload && json_object_getn(payload, m->k, m->klen))) {
                        continue;
                }
                if (!payload && (!(payload = owned_json(d, NULL)))) {
                        return DECLINE;
                }
                if (is_meta && !s->nested && meta) {
                        j = meta; /* flat: the envelope's, one object */
                } else if (!(j = owned_json(d, &m->v))) {
                        return DECLINE;
                }
                if (json_object_setn_nocheck(payload, m->k, m->klen, j)) {
                        return DECLINE;
                }
        }
        if (d->keep_slot_cnt) {
                const char *base;
                if (!(d->owned || (d->owned = json_array())) ||
                    !(str = json_stringn_nocheck(d->keep, d->keep_len)) ||
                    json_array_append_new(d->owned, str)) {
                        return DECLINE;
                }
                base = json_string_value(str);
                for (size_t i = 0; i < d->keep_slot_cnt; i++) {
                        red_value_t *val = &ev->values[d->keep_slots[i]];
                        val->s.p = base + (uintptr_t)val->s.p;
                }
        }
        ev->root = d->owned;
        ev->payload = payload;
        ev->metadata = meta;
        d->owned = NULL;
        return RED_DLQ_NONE;
}

static red_dlq_code_t decode_fast(dec_t *d, red_time_t now)
{
        red_dlq_code_t code;

        d->fast = true;
        d->owned = NULL;
        d->keep = d->keep_stack;
        d->keep_len = 0;
        d->keep_cap = sizeof(d->keep_stack);
        d->keep_slot_cnt = 0;
        code = decode_event(d, now);
        if (code == RED_DLQ_NONE) {
                code = fast_finish(d);
        }
        json_decref(d->owned);
        d->owned = NULL;
        if (d->keep != d->keep_stack) {
                free(d->keep);
        }
        return code;
}

static red_dlq_code_t decode_tree(dec_t *d, red_time_t now)
{
        const red_msg_t *msg = d->msg;
        red_event_t *ev = d->ev;
        json_t *payload, *meta;
        json_error_t jerr;
        red_dlq_code_t code;

        d->fast = false;
        d->root = json_loadb(msg->value, msg->value_len,
                             JSON_ALLOW_NUL | JSON_DECODE_ANY, &jerr);
        if (!d->root) {
                /* Python's json.dumps writes float('nan') and float('inf')
                 * as bare words: say so */
                bool nonfinite = strstr(jerr.text, "near 'NaN'") ||
                                 strstr(jerr.text, "near 'Infinity'") ||
                                 strstr(jerr.text, "near '-Infinity'");
                return bad(d, RED_DLQ_INVALID_JSON,
                           "%s at line %d column %d%s", jerr.text, jerr.line,
                           jerr.column,
                           nonfinite ? " (NaN and Infinity are not JSON "
                                       "numbers; a value must be finite)"
                                     : "");
        }
        if (!json_is_object(d->root)) {
                jv_t v;
                jv_from_json(d->root, &v);
                json_decref(d->root);
                return bad(d, RED_DLQ_NOT_AN_OBJECT,
                           "the message is %s, not a JSON object",
                           jv_type_name(&v));
        }
        payload = json_object_get(d->root, "payload");
        d->payload = json_is_object(payload) ? payload : d->root;
        meta = json_object_get(d->root, "metadata");
        code = decode_event(d, now);
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
        scan_t scan;

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
        if (try_fast && msg->value &&
            !scan_message(&scan, msg->value, msg->value_len)) {
                d.scan = &scan;
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
