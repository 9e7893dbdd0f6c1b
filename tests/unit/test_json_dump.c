/* Tests for red_json_dump: the bytes of json_dumps(), tricky values and
 * random trees. */
#include "red_json_dump.h"
#include "red_test.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* @p j written by red_json_dump() (after a prefix, which must stay) is
 * json_dumps()'s text, or both refuse it. */
static void same_as_jansson(const json_t *j)
{
        for (int sort = 0; sort < 2; sort++) {
                size_t flags = JSON_COMPACT | JSON_ENCODE_ANY |
                               (sort ? JSON_SORT_KEYS : 0);
                char *want = json_dumps(j, flags);
                red_buf_t b;
                int r;

                red_buf_init(&b);
                red_buf_puts(&b, "prefix:");
                r = red_json_dump(j, sort, &b);
                ck_assert(!b.failed);
                if (!want) {
                        ck_assert_int_eq(r, -1);
                        ck_assert_str_eq(b.data, "prefix:");
                } else {
                        ck_assert_int_eq(r, 0);
                        ck_assert_uint_eq(b.len, 7 + strlen(want));
                        ck_assert_str_eq(b.data + 7, want);
                }
                free(want);
                red_buf_destroy(&b);
        }
}

static void same_string(const char *s, size_t len)
{
        json_t *j = json_stringn_nocheck(s, len);

        ck_assert_ptr_nonnull(j);
        same_as_jansson(j);
        json_decref(j);
}

START_TEST(strings)
{
        static const char *const texts[] = {
                "",
                "plain",
                "quote \" backslash \\ slash / tab \t nl \n cr \r",
                "\b\f\x01\x02\x1f\x1e\x7f",
                "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xef\xbf\xbf",
                "\xf4\x8f\xbf\xbf", /* U+10FFFF */
                /* not UTF-8: jansson refuses each */
                "\xc3",
                "\xc0\x80",
                "\xe0\x80\x80",
                "\xed\xa0\x80", /* a surrogate */
                "\xf4\x90\x80\x80",
                "\xf5\x80\x80\x80",
                "\x80",
                "ok \xff",
                "\xe2\x82",
        };
        char all[32];

        for (size_t i = 0; i < sizeof(texts) / sizeof(*texts); i++) {
                same_string(texts[i], strlen(texts[i]));
        }
        /* every byte below 0x20, and NUL inside a string */
        for (int c = 0; c < 32; c++) {
                all[c] = (char)c;
        }
        same_string(all, sizeof(all));
        same_string("a\0b", 3);
}
END_TEST

START_TEST(numbers)
{
        const json_int_t ints[] = {0,
                                   1,
                                   -1,
                                   INT64_MAX,
                                   INT64_MIN,
                                   INT64_MAX - 1,
                                   INT64_MIN + 1,
                                   9007199254740993LL,
                                   -1000000000000000LL};
        const double reals[] = {0.0,
                                -0.0,
                                1.0,
                                -1.0,
                                0.1,
                                1.0 / 3,
                                100.0,
                                1e15,
                                1e16,
                                1e17,
                                123456789012345678.0,
                                1e300,
                                -1e300,
                                1e-300,
                                1e-5,
                                1.5e-7,
                                5e-324,
                                DBL_MAX,
                                -DBL_MAX,
                                DBL_MIN,
                                -1.2345678901234567e-308,
                                9223372036854775808.0,
                                -9223372036854775808.0,
                                2.5e21,
                                1e21};

        for (size_t i = 0; i < sizeof(ints) / sizeof(*ints); i++) {
                json_t *j = json_integer(ints[i]);
                same_as_jansson(j);
                json_decref(j);
        }
        for (size_t i = 0; i < sizeof(reals) / sizeof(*reals); i++) {
                json_t *j = json_real(reals[i]);
                ck_assert_ptr_nonnull(j);
                same_as_jansson(j);
                json_decref(j);
        }
        same_as_jansson(json_true());
        same_as_jansson(json_false());
        same_as_jansson(json_null());
}
END_TEST

START_TEST(objects)
{
        static const char *const texts[] = {
                "{}",
                "[]",
                "{\"b\":1,\"a\":2}",
                "{\"ab\":1,\"a\":2,\"\":3,\"b\":[],\"aa\":{}}",
                "{\"\xc3\xa9\":1,\"z\":2,\"\\u0001\":3,\"Z\":4,\"~\":5}",
                "{\"z\":{\"y\":[{\"b\":1,\"a\":null}],\"x\":true},\"a\":[1,"
                "2.5,\"s\",false,[]]}",
                "[{\"name\":\"capability_1\",\"description\":\"Capability 1 "
                "of the bench\"},{\"name\":\"http_api\"}]",
                "{\"endpoint\":\"/health\",\"interval_seconds\":3600}",
        };
        json_t *j, *big, *keys;
        char k[32];

        for (size_t i = 0; i < sizeof(texts) / sizeof(*texts); i++) {
                ck_assert_ptr_nonnull(j = json_loads(texts[i], 0, NULL));
                same_as_jansson(j);
                json_decref(j);
        }
        /* more members than the sort keeps on the stack; names that are
         * prefixes of each other */
        big = json_object();
        for (int i = 40; i-- > 0;) {
                snprintf(k, sizeof(k), "k%d", i * 7 % 40);
                json_object_set_new(big, k, json_integer(i));
                snprintf(k, sizeof(k), "k%d_", i);
                json_object_set_new(big, k, json_string(k));
        }
        same_as_jansson(big);
        /* names with NUL, and a name that is not UTF-8 (jansson writes a
         * part of it and goes on: the fallback gives its bytes) */
        keys = json_object();
        json_object_setn_new(keys, "a\0b", 3, json_integer(1));
        json_object_setn_new(keys, "a", 1, json_integer(2));
        json_object_setn_new(keys, "a\0", 2, json_integer(3));
        same_as_jansson(keys);
        json_object_setn_new_nocheck(keys, "bad\xff", 4, json_integer(4));
        same_as_jansson(keys);
        json_decref(keys);
        json_decref(big);
}
END_TEST

START_TEST(deep)
{
        json_t *root = json_array(), *cur = root;

        for (int i = 0; i < 3000; i++) {
                json_t *n = i % 2 ? json_array() : json_object();
                if (json_is_array(cur)) {
                        json_array_append_new(cur, n);
                } else {
                        json_object_set_new(cur, "x", n);
                }
                cur = n;
        }
        /* deeper than the fast writer goes: json_dumps() writes it */
        same_as_jansson(root);
        json_decref(root);
}
END_TEST

/* --- random trees ---------------------------------------------------------
 */

static void random_text(uint64_t *st, char *s, size_t *lenp)
{
        static const char *const pieces[] = {"a",
                                             "B",
                                             "\"",
                                             "\\",
                                             "/",
                                             "\n",
                                             "\t",
                                             "\x01",
                                             "\x1f",
                                             "\x7f",
                                             "\xc3\xa9",
                                             "\xe2\x82\xac",
                                             "\xf0\x9f\x98\x80",
                                             " ",
                                             "0",
                                             "~",
                                             "\0",
                                             "\xff",
                                             "\xed\xa0\x80",
                                             "\xc3"};
        size_t n = test_rand(st) % 8, len = 0;
        /* mostly valid text; now and then a byte jansson refuses */
        size_t choices = test_rand(st) % 10 ? 17 : 20;

        for (size_t i = 0; i < n; i++) {
                const char *p = pieces[test_rand(st) % choices];
                size_t pl = *p ? strlen(p) : 1;
                memcpy(s + len, p, pl);
                len += pl;
        }
        *lenp = len;
}

static json_t *random_tree(uint64_t *st, int depth)
{
        char s[64];
        size_t len;
        json_t *j;
        int n;

        switch (test_rand(st) % (depth > 4 ? 6 : 8)) {
        case 0:
                return json_null();
        case 1:
                return json_boolean(test_rand(st) % 2);
        case 2:
                return json_integer((json_int_t)test_rand(st) >>
                                    (test_rand(st) % 64));
        case 3: {
                double d;
                uint64_t bits = test_rand(st);
                memcpy(&d, &bits, sizeof(d));
                if (!isfinite(d)) {
                        d = (double)(int64_t)bits / 7.0;
                }
                return json_real(d);
        }
        case 4:
        case 5:
                random_text(st, s, &len);
                return json_stringn_nocheck(s, len);
        case 6:
                j = json_array();
                n = (int)(test_rand(st) % 5);
                for (int i = 0; i < n; i++) {
                        json_array_append_new(j, random_tree(st, depth + 1));
                }
                return j;
        default:
                j = json_object();
                n = (int)(test_rand(st) % 24);
                for (int i = 0; i < n; i++) {
                        random_text(st, s, &len);
                        json_object_setn_new_nocheck(
                                j, s, len, random_tree(st, depth + 1));
                }
                return j;
        }
}

START_TEST(random_trees)
{
        uint64_t st = 0x5eed;

        for (int i = 0; i < 20000; i++) {
                json_t *j = random_tree(&st, 0);
                ck_assert_ptr_nonnull(j);
                same_as_jansson(j);
                json_decref(j);
        }
}
END_TEST

int main(void)
{
        Suite *s = suite_create("json_dump");
        TCase *tc = tcase_create("json_dump");

        tcase_add_test(tc, strings);
        tcase_add_test(tc, numbers);
        tcase_add_test(tc, objects);
        tcase_add_test(tc, deep);
        tcase_add_test(tc, random_trees);
        suite_add_tcase(s, tc);
        return test_main(s);
}
