/* red_json_scan - strict JSON scanning into spans, no tree (see the header). */
#include "red_json_scan.h"

#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The state of a scan. */
typedef struct scan_s {
        const unsigned char *p, *end;
        bool all; /* walk: take what the fast scanners leave to jansson */
} scan_t;

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


/* --- tokens ------------------------------------------------------- */

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

/* A \u escape at p (p[0] == '\\', p[1] == 'u'), with its low surrogate
 * when it is a high one: its length (6 or 12), or 0 when invalid or
 * \u0000 (jansson's, but for the walk). */
static size_t u_escape(const scan_t *s, const unsigned char *p)
{
        int32_t u, lo;

        if (s->end - p < 6 || (u = hex4(p + 2)) < 0 || (u == 0 && !s->all)) {
                return 0;
        }
        if (u >= 0xdc00 && u <= 0xdfff) {
                return 0;
        }
        if (u < 0xd800 || u > 0xdbff) {
                return 6;
        }
        if (s->end - p < 12 || p[6] != '\\' || p[7] != 'u' ||
            (lo = hex4(p + 8)) < 0xdc00 || lo > 0xdfff) {
                return 0;
        }
        return 12;
}

/* A string; s->p at the opening quote. */
static int scan_string(scan_t *s, red_json_tok_t *v)
{
        const unsigned char *p = s->p + 1, *end = s->end;

        v->t = RED_JSON_STR;
        v->esc = false;
        v->p = (const char *)p;
        for (;;) {
                size_t n;

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
                        case 'u':
                                if (!(n = u_escape(s, p))) {
                                        return -1;
                                }
                                p += n;
                                break;
                        default:
                                return -1;
                        }
                        break;
                case 3:
                        return -1;
                default:
                        if (!(n = utf8_seq(p, end))) {
                                return -1;
                        }
                        p += n;
                        break;
                }
        }
}

/* A number, strictly -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?. */
/* inlined: the scanners spend their time here and in scan_string */
static inline __attribute__((always_inline)) int scan_number(scan_t *s,
                                                             red_json_tok_t *v)
{
        const unsigned char *p = s->p, *end = s->end, *int_start;
        size_t int_digits, lead_zero;
        bool real = false;
        long exp = 0;

        v->p = (const char *)p;
        v->wide = false;
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
        if (v->len > RED_JSON_SCAN_MAX_NUMBER && !s->all) {
                return -1;
        }
        if (real) {
                /* jansson rejects overflow; leave anything near it to it */
                if ((long)(int_digits - lead_zero) + exp > 300 && !s->all) {
                        return -1;
                }
                v->t = RED_JSON_REAL;
        } else {
                uint64_t u = 0;
                v->t = RED_JSON_INT;
                v->i = 0;
                if (int_digits > 18) {
                        if (!s->all) {
                                return -1; /* jansson decides what overflows */
                        }
                        v->wide = true; /* the walk's caller decides */
                } else {
                        for (const unsigned char *q = int_start; q < p; q++) {
                                u = u * 10 + (uint64_t)(*q - '0');
                        }
                        v->i = *v->p == '-' ? -(int64_t)u : (int64_t)u;
                }
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

/* A scalar at s->p (not '{' or '['). */
static inline __attribute__((always_inline)) int scan_scalar(scan_t *s,
                                                             red_json_tok_t *v)
{
        if (s->p >= s->end) {
                return -1;
        }
        v->esc = false;
        v->p = (const char *)s->p;
        switch (*s->p) {
        case '"':
                return scan_string(s, v);
        case 't':
                v->t = RED_JSON_TRUE;
                v->len = 4;
                return scan_literal(s, "true", 4);
        case 'f':
                v->t = RED_JSON_FALSE;
                v->len = 5;
                return scan_literal(s, "false", 5);
        case 'n':
                v->t = RED_JSON_NULL;
                v->len = 4;
                return scan_literal(s, "null", 4);
        default:
                return scan_number(s, v);
        }
}

/* --- structure --------------------------------------------------- */

/* Enters an object or array at s->p ('{' or '['): 1 when it is empty
 * (and consumed), else 0 with s->p at its first item. */
static inline int open_nested(scan_t *s, unsigned char close)
{
        s->p++;
        skip_ws(s);
        if (s->p < s->end && *s->p == close) {
                s->p++;
                return 1;
        }
        return 0;
}

/* After an item: 1 at the closing @p close (consumed), 0 at a comma
 * (consumed, s->p at the next item), -1 at anything else. */
static inline int next_item(scan_t *s, unsigned char close)
{
        skip_ws(s);
        if (s->p >= s->end) {
                return -1;
        }
        if (*s->p == close) {
                s->p++;
                return 1;
        }
        if (*s->p != ',') {
                return -1;
        }
        s->p++;
        skip_ws(s);
        return 0;
}

/* A member name and its colon; s->p then at the value. */
static inline int scan_name(scan_t *s, red_json_tok_t *key)
{
        if (s->p >= s->end || *s->p != '"' || scan_string(s, key)) {
                return -1;
        }
        skip_ws(s);
        if (s->p >= s->end || *s->p != ':') {
                return -1;
        }
        s->p++;
        skip_ws(s);
        return 0;
}

/* --- the fast scanners -------------------------------------------- */

static int scan_value(scan_t *s, red_json_tok_t *v, int depth);

/* An object; s->p at '{'. Its members go to @p m (when not NULL). */
static int scan_object(scan_t *s, red_json_member_t *m, size_t *cntp, int depth)
{
        int r;

        if (depth > RED_JSON_SCAN_MAX_DEPTH) {
                return -1;
        }
        if (open_nested(s, '}')) {
                return 0;
        }
        do {
                red_json_tok_t key, val;

                if (scan_name(s, &key) || key.esc) {
                        return -1; /* escaped names: jansson */
                }
                if (scan_value(s, &val, depth)) {
                        return -1;
                }
                if (m) {
                        if (*cntp == RED_JSON_SCAN_MAX_MEMBERS) {
                                return -1;
                        }
                        m[*cntp].k = key.p;
                        m[*cntp].klen = key.len;
                        m[*cntp].v = val;
                        (*cntp)++;
                }
        } while (!(r = next_item(s, '}')));
        return r < 0 ? -1 : 0;
}

static int scan_array(scan_t *s, int depth)
{
        int r;

        if (depth > RED_JSON_SCAN_MAX_DEPTH) {
                return -1;
        }
        if (open_nested(s, ']')) {
                return 0;
        }
        do {
                red_json_tok_t val;

                if (scan_value(s, &val, depth)) {
                        return -1;
                }
        } while (!(r = next_item(s, ']')));
        return r < 0 ? -1 : 0;
}

/* Any value; objects and arrays come as their whole text. */
static int scan_value(scan_t *s, red_json_tok_t *v, int depth)
{
        const unsigned char *start = s->p;
        int r;

        if (s->p >= s->end) {
                return -1;
        }
        switch (*s->p) {
        case '"':
                return scan_string(s, v); /* the common case first */
        case '{':
                v->t = RED_JSON_OBJ;
                r = scan_object(s, NULL, NULL, depth + 1);
                break;
        case '[':
                v->t = RED_JSON_ARR;
                r = scan_array(s, depth + 1);
                break;
        default:
                return scan_scalar(s, v);
        }
        v->esc = false;
        v->p = (const char *)start;
        v->len = (size_t)(s->p - start);
        return r;
}

/* A member of the document; its value, when named @p sub_key and an
 * object, with its own members collected into doc->sub. 0, 1 when it was
 * that object, -1. */
static inline int scan_doc_member(scan_t *s, red_json_doc_t *doc,
                                  const char *sub_key, size_t sub_len)
{
        red_json_member_t *m = &doc->top[doc->top_cnt];
        const unsigned char *start;

        if (doc->top_cnt == RED_JSON_SCAN_MAX_MEMBERS || scan_name(s, &m->v) ||
            m->v.esc) {
                return -1;
        }
        m->k = m->v.p;
        m->klen = m->v.len;
        if (m->klen != sub_len || memcmp(m->k, sub_key, sub_len) ||
            s->p >= s->end || *s->p != '{') {
                return scan_value(s, &m->v, 1);
        }
        start = s->p;
        doc->sub_cnt = 0;
        if (scan_object(s, doc->sub, &doc->sub_cnt, 1)) {
                return -1;
        }
        m->v.t = RED_JSON_OBJ;
        m->v.esc = false;
        m->v.p = (const char *)start;
        m->v.len = (size_t)(s->p - start);
        return 1;
}

int red_json_scan_doc(red_json_doc_t *doc, const void *data, size_t len,
                      const char *sub_key)
{
        scan_t s = {data, (const unsigned char *)data + len, false};
        size_t sub_len = strlen(sub_key), sub_at = SIZE_MAX;
        int r = 1;

        doc->top_cnt = doc->sub_cnt = 0;
        doc->sub_object = false;
        if (!data) {
                return -1;
        }
        skip_ws(&s);
        if (s.p >= s.end || *s.p != '{') {
                return -1;
        }
        if (!open_nested(&s, '}')) {
                do {
                        int m = scan_doc_member(&s, doc, sub_key, sub_len);

                        if (m < 0) {
                                return -1;
                        }
                        if (m) {
                                sub_at = doc->top_cnt; /* its members: sub */
                        }
                        doc->top_cnt++;
                } while (!(r = next_item(&s, '}')));
        }
        skip_ws(&s);
        if (r < 0 || s.p != s.end) {
                return -1;
        }
        /* duplicate names: the last one counts, as in jansson */
        for (size_t i = doc->top_cnt; i-- > 0;) {
                if (doc->top[i].klen == sub_len &&
                    !memcmp(doc->top[i].k, sub_key, sub_len)) {
                        doc->sub_object = i == sub_at;
                        break;
                }
        }
        return 0;
}

int red_json_scan_object(const char *p, size_t len, red_json_member_t *m,
                         size_t *cnt)
{
        scan_t s = {(const unsigned char *)p, (const unsigned char *)p + len,
                    false};

        *cnt = 0;
        if (!len || *p != '{' || scan_object(&s, m, cnt, 1)) {
                return -1;
        }
        skip_ws(&s);
        return s.p == s.end ? 0 : -1;
}

/* --- values ------------------------------------------------------- */

double red_json_real(const char *tok, size_t len)
{
        static const double p10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,
                                     1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                     1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
                                     1e18, 1e19, 1e20, 1e21, 1e22};
        const char *p = tok, *end = tok + len;
        bool neg = *p == '-', seen = false;
        uint64_t m = 0;
        int digits = 0;
        long e10 = 0, exp = 0;
        char buf[RED_JSON_SCAN_MAX_NUMBER + 1], *copy = NULL, *text;
        const struct lconv *lc;
        double d;

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
                d = (double)m;
                d = e10 >= 0 ? d * p10[e10] : d / p10[-e10];
                return neg ? -d : d;
        }
slow:
        /* longer tokens (the walk's) get a copy of their own */
        if (len >= sizeof(buf) && !(copy = malloc(len + 1))) {
                return NAN;
        }
        text = copy ? copy : buf;
        memcpy(text, tok, len);
        text[len] = '\0';
        /* strtod reads the locale's decimal point; JSON has '.' */
        lc = localeconv();
        if (lc && lc->decimal_point && lc->decimal_point[0] != '.' &&
            lc->decimal_point[0]) {
                char *dot = strchr(text, '.');
                if (dot) {
                        *dot = lc->decimal_point[0];
                }
        }
        d = strtod(text, NULL);
        free(copy);
        return d;
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

size_t red_json_unescape(const char *p, size_t len, char *out)
{
        const unsigned char *s = (const unsigned char *)p, *end = s + len;
        char *t = out;

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
                        /* validated by the scanner: a high surrogate has
                         * its low one */
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
        return (size_t)(t - out);
}

/* --- the walk ----------------------------------------------------- */

static int walk_value(scan_t *s, int depth, int max_depth,
                      const red_json_walk_t *w);

/* The members of an object or the items of an array; s->p at '{' / '['. */
static int walk_nested(scan_t *s, int depth, int max_depth,
                       const red_json_walk_t *w)
{
        bool obj = *s->p == '{';
        unsigned char close = obj ? '}' : ']';
        int r;

        if (depth > max_depth) {
                return -1;
        }
        if ((r = w->begin(w->opaque, obj ? RED_JSON_OBJ : RED_JSON_ARR))) {
                return r;
        }
        if (open_nested(s, close)) {
                return w->end(w->opaque);
        }
        do {
                red_json_tok_t key;

                if (obj) {
                        if (scan_name(s, &key)) {
                                return -1;
                        }
                        if ((r = w->key(w->opaque, &key))) {
                                return r;
                        }
                }
                if ((r = walk_value(s, depth, max_depth, w))) {
                        return r;
                }
        } while (!(r = next_item(s, close)));
        return r < 0 ? -1 : w->end(w->opaque);
}

static int walk_value(scan_t *s, int depth, int max_depth,
                      const red_json_walk_t *w)
{
        red_json_tok_t v;

        if (s->p < s->end && (*s->p == '{' || *s->p == '[')) {
                return walk_nested(s, depth + 1, max_depth, w);
        }
        if (scan_scalar(s, &v)) {
                return -1;
        }
        return w->scalar(w->opaque, &v);
}

int red_json_scan_walk(const void *data, size_t len, int max_depth,
                       const red_json_walk_t *w)
{
        scan_t s = {data, (const unsigned char *)data + len, true};
        int r;

        if (!data) {
                return -1;
        }
        skip_ws(&s);
        if ((r = walk_value(&s, 0, max_depth, w))) {
                return r;
        }
        skip_ws(&s);
        return s.p == s.end ? 0 : -1;
}

/* --- finding members ---------------------------------------------- */

/* Member names longer than this (escaped) are never the one looked for. */
#define FIND_NAME_MAX 256

typedef struct find_s {
        const char *sub_key, *name;
        int depth;     /* objects and arrays open */
        bool cur_name; /* the pending value is a member named name */
        bool cur_sub;  /* ... the top's member named sub_key */
        bool in_sub;   /* inside the top's sub_key object */
        red_json_tok_t *top, *sub;
} find_t;

static bool name_is(const red_json_tok_t *k, const char *want)
{
        char buf[FIND_NAME_MAX];
        size_t len;

        if (!k->esc) {
                return strlen(want) == k->len && !memcmp(k->p, want, k->len);
        }
        if (k->len > sizeof(buf)) {
                return false;
        }
        len = red_json_unescape(k->p, k->len, buf);
        return strlen(want) == len && !memcmp(buf, want, len);
}

static void tok_absent(red_json_tok_t *t)
{
        memset(t, 0, sizeof(*t));
        t->t = RED_JSON_NULL;
}

static int find_begin(void *opaque, red_json_type_t t)
{
        find_t *f = opaque;

        /* a later member of the same name supersedes an earlier one */
        if (f->depth == 1 && f->cur_name) {
                tok_absent(f->top);
        }
        if (f->depth == 1 && f->cur_sub) {
                tok_absent(f->sub);
                f->in_sub = t == RED_JSON_OBJ;
        }
        if (f->depth == 2 && f->in_sub && f->cur_name) {
                tok_absent(f->sub);
        }
        f->cur_name = f->cur_sub = false;
        f->depth++;
        return 0;
}

static int find_key(void *opaque, const red_json_tok_t *name)
{
        find_t *f = opaque;

        f->cur_name = (f->depth == 1 || (f->depth == 2 && f->in_sub)) &&
                      name_is(name, f->name);
        f->cur_sub = f->depth == 1 && f->sub_key && name_is(name, f->sub_key);
        return 0;
}

static int find_scalar(void *opaque, const red_json_tok_t *v)
{
        find_t *f = opaque;

        if (f->depth == 1 && f->cur_name) {
                *f->top = *v;
        }
        if (f->depth == 1 && f->cur_sub) {
                tok_absent(f->sub); /* not an object: no sub members */
        }
        if (f->depth == 2 && f->in_sub && f->cur_name) {
                *f->sub = *v;
        }
        f->cur_name = f->cur_sub = false;
        return 0;
}

static int find_end(void *opaque)
{
        find_t *f = opaque;

        if (--f->depth == 1) {
                f->in_sub = false;
        }
        return 0;
}

int red_json_scan_find(const void *data, size_t len, int max_depth,
                       const char *sub_key, const char *name,
                       red_json_tok_t *top, red_json_tok_t *sub)
{
        find_t f = {.sub_key = sub_key, .name = name, .top = top, .sub = sub};
        red_json_walk_t w = {find_begin, find_key, find_scalar, find_end, &f};

        tok_absent(top);
        tok_absent(sub);
        return red_json_scan_walk(data, len, max_depth, &w) ? -1 : 0;
}
