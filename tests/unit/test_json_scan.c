/*
 * Tests for red_json_scan: documents and objects scanned into spans, the
 * constructs the fast scanners leave to jansson (and which they must
 * decline, not misread), numbers and escapes read as jansson reads them,
 * and the walk that takes everything valid, \u0000 in names included.
 * tests/unit/test_decode.c holds the scanner to jansson on generated and
 * mutated messages through the decoder's two paths.
 */
#include "red_json_scan.h"
#include "red_test.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int scan_doc(red_json_doc_t *doc, const char *text)
{
        return red_json_scan_doc(doc, text, strlen(text), "payload");
}

static bool member_is(const red_json_member_t *m, const char *name,
                      red_json_type_t t, const char *text)
{
        return m->klen == strlen(name) && !memcmp(m->k, name, m->klen) &&
               m->v.t == t && m->v.len == strlen(text) &&
               !memcmp(m->v.p, text, m->v.len);
}

START_TEST(doc_members_as_spans)
{
        red_json_doc_t doc;

        ck_assert_int_eq(scan_doc(&doc, " {\"a\" : 1, \"s\":\"x\\ny\", "
                                        "\"payload\":{\"b\":[1,{\"c\":2}],"
                                        "\"t\":true}, \"n\":null}\n"),
                         0);
        ck_assert_uint_eq(doc.top_cnt, 4);
        ck_assert(member_is(&doc.top[0], "a", RED_JSON_INT, "1"));
        ck_assert_int_eq(doc.top[0].v.i, 1);
        /* strings: between the quotes, flagged when escaped */
        ck_assert(member_is(&doc.top[1], "s", RED_JSON_STR, "x\\ny"));
        ck_assert(doc.top[1].v.esc);
        ck_assert(member_is(&doc.top[2], "payload", RED_JSON_OBJ,
                            "{\"b\":[1,{\"c\":2}],\"t\":true}"));
        ck_assert(member_is(&doc.top[3], "n", RED_JSON_NULL, "null"));
        ck_assert(doc.sub_object);
        ck_assert_uint_eq(doc.sub_cnt, 2);
        ck_assert(member_is(&doc.sub[0], "b", RED_JSON_ARR, "[1,{\"c\":2}]"));
        ck_assert(member_is(&doc.sub[1], "t", RED_JSON_TRUE, "true"));

        /* the last of duplicate names is jansson's: not an object here */
        ck_assert_int_eq(scan_doc(&doc, "{\"payload\":{\"b\":1},"
                                        "\"payload\":2}"),
                         0);
        ck_assert(!doc.sub_object);
        ck_assert_int_eq(scan_doc(&doc, "{\"payload\":2,"
                                        "\"payload\":{\"b\":1}}"),
                         0);
        ck_assert(doc.sub_object);
        ck_assert_uint_eq(doc.sub_cnt, 1);
        ck_assert_int_eq(scan_doc(&doc, "{}"), 0);
        ck_assert_uint_eq(doc.top_cnt, 0);
        ck_assert(!doc.sub_object);
}
END_TEST

START_TEST(invalid_and_left_to_jansson)
{
        static const char *const declined[] = {
                /* invalid */
                "",
                "[]",
                "1",
                "{",
                "{\"a\":1,}",
                "{\"a\":1}x",
                "{\"a\":01}",
                "{\"a\":1.}",
                "{\"a\":NaN}",
                "{\"a\":truex}",
                "{\"a\":\"\xc0\xaf\"}",
                "{\"a\":\"\\ud800\"}",
                "{\"a\":\"tab\there\"}",
                /* valid, but jansson's to read */
                "{\"\\u0061\":1}",
                "{\"a\":\"\\u0000\"}",
                "{\"a\":1234567890123456789}",
                "{\"a\":1e308}",
        };
        red_json_doc_t doc;
        red_json_member_t m[RED_JSON_SCAN_MAX_MEMBERS];
        char buf[4096];
        size_t n = 0, cnt;

        for (size_t i = 0; i < sizeof(declined) / sizeof(*declined); i++) {
                ck_assert_msg(scan_doc(&doc, declined[i]) == -1, "%s accepted",
                              declined[i]);
        }
        ck_assert_int_eq(red_json_scan_doc(&doc, NULL, 0, "payload"), -1);
        /* 18 digits are the scanner's, 19 jansson's */
        ck_assert_int_eq(scan_doc(&doc, "{\"a\":-123456789012345678}"), 0);
        ck_assert_int_eq(doc.top[0].v.i, INT64_C(-123456789012345678));

        /* nesting: 64 levels below the document, not 65 */
        for (int depth = 64; depth <= 65; depth++) {
                n = (size_t)snprintf(buf, sizeof(buf), "{\"a\":");
                for (int i = 1; i < depth; i++) {
                        buf[n++] = '[';
                }
                for (int i = 1; i < depth; i++) {
                        buf[n++] = ']';
                }
                buf[n++] = '}';
                buf[n] = '\0';
                ck_assert_int_eq(scan_doc(&doc, buf), depth == 64 ? 0 : -1);
        }
        /* 64 members collected, not 65 */
        for (int members = 64; members <= 65; members++) {
                n = 0;
                buf[n++] = '{';
                for (int i = 0; i < members; i++) {
                        n += (size_t)snprintf(buf + n, sizeof(buf) - n,
                                              "%s\"m%d\":%d", i ? "," : "", i,
                                              i);
                }
                buf[n++] = '}';
                buf[n] = '\0';
                ck_assert_int_eq(scan_doc(&doc, buf), members == 64 ? 0 : -1);
                ck_assert_int_eq(red_json_scan_object(buf, n, m, &cnt),
                                 members == 64 ? 0 : -1);
        }
        ck_assert_uint_eq(red_json_scan_object("{\"a\":1} ", 7, m, &cnt), 0);
        ck_assert_uint_eq(cnt, 1);
        ck_assert_int_eq(red_json_scan_object("[1]", 3, m, &cnt), -1);
        ck_assert_int_eq(red_json_scan_object("{\"a\":1}x", 8, m, &cnt), -1);
}
END_TEST

START_TEST(numbers_and_escapes_as_jansson_reads_them)
{
        static const char *const reals[] = {
                "0.1",
                "-2.5e-3",
                "123456.789",
                "1e22",
                "1e23",
                "0.30000000000000004",
                "9007199254740993.0",
                "4.9e-324",
                "1.7976931348623157e308",
        };
        static const char *const strings[] = {
                "plain",          "a\\\"b\\\\c\\/d", "\\b\\f\\n\\r\\t",
                "\\u00e9\\u20ac", "\\ud83d\\ude00",  "caf\xc3\xa9",
        };
        char out[64];

        for (size_t i = 0; i < sizeof(reals) / sizeof(*reals); i++) {
                json_t *j = json_loads(reals[i], JSON_DECODE_ANY, NULL);
                ck_assert_ptr_nonnull(j);
                ck_assert_msg(red_json_real(reals[i], strlen(reals[i])) ==
                                      json_real_value(j),
                              "%s", reals[i]);
                json_decref(j);
        }
        for (size_t i = 0; i < sizeof(strings) / sizeof(*strings); i++) {
                char quoted[64];
                json_t *j;
                size_t len;

                snprintf(quoted, sizeof(quoted), "\"%s\"", strings[i]);
                j = json_loads(quoted, JSON_DECODE_ANY, NULL);
                ck_assert_ptr_nonnull(j);
                len = red_json_unescape(strings[i], strlen(strings[i]), out);
                ck_assert_uint_le(len, strlen(strings[i]));
                ck_assert_uint_eq(len, json_string_length(j));
                ck_assert_int_eq(memcmp(out, json_string_value(j), len), 0);
                json_decref(j);
        }
}
END_TEST

/* What a walk reported, as text: {name:scalar,...} with types. */
typedef struct trace_s {
        char text[1024];
        size_t len;
        int stop_at; /* the event number that stops the walk, or -1 */
        int events;
} trace_t;

static int trace_put(trace_t *t, const char *s, size_t len)
{
        ck_assert_uint_lt(t->len + len, sizeof(t->text));
        memcpy(t->text + t->len, s, len);
        t->len += len;
        t->text[t->len] = '\0';
        return t->events++ == t->stop_at ? 42 : 0;
}

static int tr_begin(void *o, red_json_type_t type)
{
        return trace_put(o, type == RED_JSON_OBJ ? "{" : "[", 1);
}

static int tr_key(void *o, const red_json_tok_t *k)
{
        char buf[128];
        size_t n = red_json_unescape(k->p, k->len, buf);

        for (size_t i = 0; i < n; i++) {
                buf[i] = buf[i] ? buf[i] : '0'; /* NUL shows as 0 */
        }
        buf[n++] = ':';
        return trace_put(o, buf, n);
}

static int tr_scalar(void *o, const red_json_tok_t *v)
{
        char buf[128];
        int n = snprintf(buf, sizeof(buf), "%d%s%.*s,", (int)v->t,
                         v->wide ? "w" : "", (int)v->len, v->p);

        return trace_put(o, buf, (size_t)n);
}

static int tr_end(void *o)
{
        return trace_put(o, "}", 1);
}

static int walk(trace_t *t, const char *text, int max_depth)
{
        red_json_walk_t w = {tr_begin, tr_key, tr_scalar, tr_end, t};

        t->len = 0;
        t->text[0] = '\0';
        t->events = 0;
        return red_json_scan_walk(text, strlen(text), max_depth, &w);
}

START_TEST(walk_takes_everything_valid)
{
        trace_t t = {.stop_at = -1};
        char buf[256];
        size_t n = 0;

        /* names with escapes and \u0000, wide integers, top-level scalars */
        ck_assert_int_eq(walk(&t,
                              " {\"a\\u0000b\":[1,\"\\u0000\"],"
                              "\"\\u0063\":12345678901234567890,"
                              "\"d\":{}}",
                              8),
                         0);
        ck_assert_str_eq(t.text, "{a0b:[31,5\\u0000,}c:3w12345678901234567890,"
                                 "d:{}}");
        ck_assert_int_eq(walk(&t, "1e400", 8), 0);
        ck_assert_str_eq(t.text, "41e400,");
        /* invalid JSON, wherever it is */
        ck_assert_int_eq(walk(&t, "{\"a\\u0000\":1,}", 8), -1);
        ck_assert_int_eq(walk(&t, "{\"a\":1} x", 8), -1);
        ck_assert_int_eq(walk(&t, "[\"\\ud800\"]", 8), -1);
        ck_assert_int_eq(walk(&t, "", 8), -1);
        ck_assert_int_eq(red_json_scan_walk(NULL, 0, 8, NULL), -1);
        /* the depth limit: 3 levels, not 4 */
        for (int depth = 3; depth <= 4; depth++) {
                n = 0;
                for (int i = 0; i < depth; i++) {
                        buf[n++] = '[';
                }
                for (int i = 0; i < depth; i++) {
                        buf[n++] = ']';
                }
                buf[n] = '\0';
                ck_assert_int_eq(walk(&t, buf, 3), depth == 3 ? 0 : -1);
        }
        /* a callback stops the walk with its value */
        t.stop_at = 2;
        ck_assert_int_eq(walk(&t, "{\"a\":1,\"b\":2}", 8), 42);
        ck_assert_str_eq(t.text, "{a:31,");
}
END_TEST

/* The span of a found member, as text. */
static bool tok_is(const red_json_tok_t *t, red_json_type_t type,
                   const char *text)
{
        return t->t == type && t->p && t->len == strlen(text) &&
               !memcmp(t->p, text, t->len);
}

START_TEST(find_members_by_name)
{
        red_json_tok_t top, sub;
        const char *doc;

        doc = "{\"v\":1e-400,\"payload\":{\"v\":2.5,\"x\":{\"v\":9}}}";
        ck_assert_int_eq(red_json_scan_find(doc, strlen(doc), 64, "payload",
                                            "v", &top, &sub),
                         0);
        ck_assert(tok_is(&top, RED_JSON_REAL, "1e-400"));
        ck_assert(tok_is(&sub, RED_JSON_REAL, "2.5"));
        /* the last of duplicates counts, names compare unescaped, and a
         * nested value is no scalar member */
        doc = "{\"\\u0076\":1,\"v\":[1],\"payload\":{\"v\":3,\"v\":4},"
              "\"payload\":{\"\\u0076\":5e-999}}";
        ck_assert_int_eq(red_json_scan_find(doc, strlen(doc), 64, "payload",
                                            "v", &top, &sub),
                         0);
        ck_assert_int_eq(top.t, RED_JSON_NULL);
        ck_assert_ptr_null(top.p);
        ck_assert(tok_is(&sub, RED_JSON_REAL, "5e-999"));
        /* a payload that is not an object has no members */
        doc = "{\"payload\":{\"v\":1},\"payload\":7,\"v\":0.0}";
        ck_assert_int_eq(red_json_scan_find(doc, strlen(doc), 64, "payload",
                                            "v", &top, &sub),
                         0);
        ck_assert(tok_is(&top, RED_JSON_REAL, "0.0"));
        ck_assert_ptr_null(sub.p);
        ck_assert_int_eq(
                red_json_scan_find("{\"v\":", 5, 64, NULL, "v", &top, &sub),
                -1);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("json_scan");
        TCase *tc = tcase_create("json_scan");

        tcase_add_test(tc, doc_members_as_spans);
        tcase_add_test(tc, invalid_and_left_to_jansson);
        tcase_add_test(tc, numbers_and_escapes_as_jansson_reads_them);
        tcase_add_test(tc, walk_takes_everything_valid);
        tcase_add_test(tc, find_members_by_name);
        suite_add_tcase(s, tc);
        return test_main(s);
}
