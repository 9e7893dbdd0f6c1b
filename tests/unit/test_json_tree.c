/* Tests for red_json_tree_parse: json_loadb()'s trees, built faster. */
#include "red_json_tree.h"
#include "red_test.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const size_t flag_sets[] = {0, JSON_DECODE_ANY, JSON_ALLOW_NUL,
                                   JSON_DECODE_ANY | JSON_ALLOW_NUL};

/* The tree red_json_tree_parse() gives for @p text is json_loadb()'s: both
 * NULL, or equal values with the same text (member order, integer or
 * real, -0.0) under every flag set. */
static void same_as_jansson(const char *text, size_t len)
{
        for (size_t i = 0; i < sizeof(flag_sets) / sizeof(*flag_sets); i++) {
                json_t *want = json_loadb(text, len, flag_sets[i], NULL);
                json_t *got = red_json_tree_parse(text, len, flag_sets[i]);

                if (!want) {
                        ck_assert_msg(!got, "parsed what jansson refuses: %.*s",
                                      (int)len, text);
                        continue;
                }
                ck_assert_msg(got != NULL, "refused what jansson parses: %.*s",
                              (int)len, text);
                ck_assert(json_equal(want, got));
                {
                        size_t f = JSON_COMPACT | JSON_ENCODE_ANY;
                        char *a = json_dumps(want, f), *b = json_dumps(got, f);
                        ck_assert_ptr_nonnull(a);
                        ck_assert_ptr_nonnull(b);
                        ck_assert_str_eq(a, b);
                        free(a);
                        free(b);
                }
                json_decref(want);
                json_decref(got);
        }
}

static void same(const char *text)
{
        same_as_jansson(text, strlen(text));
}

static void put_nested(char **p, const char *s)
{
        size_t n = strlen(s);
        memcpy(*p, s, n);
        *p += n;
}

START_TEST(values)
{
        static const char *const texts[] = {
                "{}",
                "[]",
                " [ 1 , 2 ] ",
                "{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"e\"}}",
                "[{\"name\":\"capability_1\",\"description\":\"Capability 1 "
                "of the bench\"},{\"name\":\"http_api\"}]",
                /* duplicate names: the last value, the first place */
                "{\"a\":1,\"b\":2,\"a\":3}",
                "{\"a\":{\"x\":1},\"a\":[2]}",
                /* escapes, in names too */
                "{\"q\\\"b\\\\c\\/\":\"tab\\there\\nnl\\r\\b\\f\"}",
                "[\"\\u00e9\\u20AC\\ud83d\\ude00\",\"caf\xc3\xa9 "
                "\xf0\x9f\x98\x80\"]",
                "{\"\\u00e9\":\"\\u0001\\u001f\"}",
                /* \u0000: in a string (JSON_ALLOW_NUL), in a name (never) */
                "[\"a\\u0000b\"]",
                "{\"k\":\"\\u0000\"}",
                "{\"a\\u0000\":1}",
                /* numbers */
                "[0,-0,1,-1,9223372036854775807,-9223372036854775808]",
                "[9223372036854775808]",
                "[-9223372036854775809]",
                "[12345678901234567890123]",
                "[0.0,-0.0,1.0,1e5,1E5,1e+5,1e-5,-1.5e-7,0.1,1."
                "7976931348623157e308]",
                "[1e400]",
                "[-1e400]",
                "[1e-400,-1e-400,4.9e-324,2.2250738585072014e-308]",
                "[123456789012345678901234567890.5]",
                /* scalars at the top (JSON_DECODE_ANY) */
                "1",
                "-0",
                "2.5",
                "\"s\"",
                "\"\\u0000\"",
                "true",
                "null",
                /* invalid */
                "",
                " ",
                "{",
                "[1,]",
                "{\"a\":}",
                "{\"a\" 1}",
                "[01]",
                "[1.]",
                "[.5]",
                "[NaN]",
                "[Infinity]",
                "[\"\\ud800\"]",
                "[\"\\udc00\"]",
                "[\"\\x\"]",
                "[\"\t\"]",
                "[\"\xc3\"]",
                "[\"\xed\xa0\x80\"]",
                "[\"\xf4\x90\x80\x80\"]",
                "[1] x",
                "[1][2]",
                "{\"a\":1}}",
        };
        char deep[1024], *p = deep;

        for (size_t i = 0; i < sizeof(texts) / sizeof(*texts); i++) {
                same(texts[i]);
        }
        /* nesting beyond the fast builder's depth (64): json_loadb's tree */
        for (int i = 0; i < 100; i++) {
                put_nested(&p, i % 2 ? "[" : "{\"k\":");
        }
        put_nested(&p, "1");
        for (int i = 100; i-- > 0;) {
                put_nested(&p, i % 2 ? "]" : "}");
        }
        same_as_jansson(deep, (size_t)(p - deep));
}
END_TEST

START_TEST(long_strings)
{
        /* longer than the builder's scratch on the stack */
        size_t n = 5000;
        char *text = malloc(4 * n + 64), *p = text;

        p += sprintf(p, "{\"");
        for (size_t i = 0; i < n / 4; i++) {
                p += sprintf(p, "\\n%c", (char)('a' + i % 26));
        }
        p += sprintf(p, "\":\"");
        for (size_t i = 0; i < n / 4; i++) {
                p += sprintf(p, "\\u00e9%c", (char)('a' + i % 26));
        }
        p += sprintf(p, "\"}");
        same_as_jansson(text, (size_t)(p - text));
        free(text);
}
END_TEST

/* --- random texts ---------------------------------------------------------
 */

static void put(char **p, const char *s)
{
        size_t n = strlen(s);
        memcpy(*p, s, n);
        *p += n;
}

static void random_string(uint64_t *st, char **p)
{
        static const char *const pieces[] = {
                "a", "Z", "\\\"", "\\\\", "\\/", "\\n", "\\u00e9", "\\u20ac",
                "\\ud83d\\ude00", "\xc3\xa9", "\\u0000", " ", "\\t", "\\u001F",
                "0",
                /* invalid now and then */
                "\\ud800", "\\q", "\x01", "\xff"};
        size_t n = test_rand(st) % 6;
        size_t choices = test_rand(st) % 20 ? 15 : 19;

        put(p, "\"");
        for (size_t i = 0; i < n; i++) {
                put(p, pieces[test_rand(st) % choices]);
        }
        put(p, "\"");
}

static void random_value(uint64_t *st, char **p, int depth)
{
        static const char *const numbers[] = {"0",
                                              "-0",
                                              "7",
                                              "-12",
                                              "3.25",
                                              "-0.0",
                                              "1e5",
                                              "1E-3",
                                              "2e+2",
                                              "1e400",
                                              "1e-400",
                                              "9223372036854775807",
                                              "-9223372036854775808",
                                              "9223372036854775808",
                                              "0.1"};
        static const char *const ws[] = {"", "", "", " ", "\n", "\t ", "\r"};
        int n;

        put(p, ws[test_rand(st) % 7]);
        switch (test_rand(st) % (depth > 5 ? 5 : 7)) {
        case 0:
                put(p, test_rand(st) % 2 ? "true" : "null");
                break;
        case 1:
                put(p, "false");
                break;
        case 2:
                put(p, numbers[test_rand(st) % 15]);
                break;
        case 3:
        case 4:
                random_string(st, p);
                break;
        case 5:
                put(p, "[");
                n = (int)(test_rand(st) % 4);
                for (int i = 0; i < n; i++) {
                        if (i) {
                                put(p, ",");
                        }
                        random_value(st, p, depth + 1);
                }
                put(p, "]");
                break;
        default:
                put(p, "{");
                n = (int)(test_rand(st) % 5);
                for (int i = 0; i < n; i++) {
                        if (i) {
                                put(p, ",");
                        }
                        if (test_rand(st) % 3) {
                                /* few names: duplicates */
                                put(p, test_rand(st) % 2 ? "\"a\"" : "\"b\"");
                        } else {
                                random_string(st, p);
                        }
                        put(p, ws[test_rand(st) % 7]);
                        put(p, ":");
                        random_value(st, p, depth + 1);
                }
                put(p, "}");
                break;
        }
        put(p, ws[test_rand(st) % 7]);
}

START_TEST(random_texts)
{
        uint64_t st = 0x7ee5;
        char *text = malloc(1 << 20);

        for (int i = 0; i < 20000; i++) {
                char *p = text;
                random_value(&st, &p, 0);
                /* now and then a byte too many or too few */
                if (test_rand(&st) % 50 == 0 && p > text) {
                        p--;
                } else if (test_rand(&st) % 50 == 0) {
                        put(&p, ",");
                }
                same_as_jansson(text, (size_t)(p - text));
        }
        free(text);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("json_tree");
        TCase *tc = tcase_create("json_tree");

        tcase_add_test(tc, values);
        tcase_add_test(tc, long_strings);
        tcase_add_test(tc, random_texts);
        suite_add_tcase(s, tc);
        return test_main(s);
}
