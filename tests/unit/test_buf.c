/* Tests for red_buf: growth, number/JSON/COPY encodings. */
#include "red_buf.h"
#include "red_test.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

START_TEST(grows_and_formats)
{
        red_buf_t b;

        red_buf_init(&b);
        for (int i = 0; i < 10000; i++) {
                red_buf_put_i64(&b, i);
                red_buf_putc(&b, ',');
        }
        ck_assert(!b.failed);
        ck_assert_int_eq(strncmp(b.data, "0,1,2,3,", 8), 0);
        ck_assert_uint_eq(b.len, strlen(b.data));
        red_buf_reset(&b);
        red_buf_put_i64(&b, INT64_MIN);
        ck_assert_str_eq(b.data, "-9223372036854775808");
        red_buf_reset(&b);
        red_buf_printf(&b, "%s=%d", "x", 42);
        ck_assert_str_eq(b.data, "x=42");
        red_buf_destroy(&b);
}
END_TEST

START_TEST(doubles_round_trip)
{
        const double vals[] = {0.1,        1.0 / 3, 12.0, -2.5, 1e-7,
                               123456.789, 1e20,    0.6,  0.8};
        const char *want[] = {"0.1",   "0.3333333333333333", "12",    "-2.5",
                              "1e-07", "123456.789",         "1e+20", "0.6",
                              "0.8"};
        red_buf_t b;

        red_buf_init(&b);
        for (size_t i = 0; i < sizeof(vals) / sizeof(*vals); i++) {
                red_buf_reset(&b);
                red_buf_put_double(&b, vals[i]);
                ck_assert_double_eq(strtod(b.data, NULL), vals[i]);
                ck_assert_str_eq(b.data, want[i]);
        }
        red_buf_reset(&b);
        red_buf_put_double(&b, NAN);
        ck_assert_str_eq(b.data, "null");
        red_buf_destroy(&b);
}
END_TEST

/* The shortest of %.15g..%.17g that reads back: what red_buf_put_double
 * prints, however it gets there. */
static void reference_double(double v, char *out, size_t size)
{
        if (fabs(v) < 1e15 && v == (double)(int64_t)v) {
                snprintf(out, size, "%lld", (long long)v);
                return;
        }
        for (int prec = 15; prec <= 17; prec++) {
                snprintf(out, size, "%.*g", prec, v);
                if (strtod(out, NULL) == v) {
                        return;
                }
        }
}

START_TEST(doubles_match_the_reference)
{
        uint64_t x = 12345;
        red_buf_t b;
        char want[40];

        red_buf_init(&b);
        for (int i = 0; i < 200000; i++) {
                double v;
                x = x * 6364136223846793005ULL + 1442695040888963407ULL;
                switch (i % 4) {
                case 0: /* few decimals, any magnitude in range */
                        v = (double)(int64_t)(x >> 20) /
                            pow(10, (double)(x % 8)) * ((x >> 3) % 2 ? 1 : -1);
                        break;
                case 1: /* random bits of a double in [1e-6, 1e10] */
                        v = ldexp((double)(x >> 11), -53) *
                            pow(10, (double)((x >> 7) % 17) - 6);
                        break;
                case 2: /* averages of small integers */
                        v = (double)(x % 100000) / (double)(1 + (x >> 40) % 97);
                        break;
                default: /* near the fast path's edges */
                        v = ((x >> 5) % 2 ? 1e-4 : 1e9) *
                            (1 + ((double)(x % 1000) - 500) * 1e-9);
                        break;
                }
                red_buf_reset(&b);
                red_buf_put_double(&b, v);
                reference_double(v, want, sizeof(want));
                ck_assert_msg(!strcmp(b.data, want), "%.17g: %s, want %s", v,
                              b.data, want);
        }
        red_buf_destroy(&b);
}
END_TEST

START_TEST(json_and_copy_escapes)
{
        red_buf_t b;
        const char s[] = "a\"b\\c\nd\te\x01";

        red_buf_init(&b);
        red_buf_put_json_str(&b, s, sizeof(s) - 1);
        ck_assert_str_eq(b.data, "\"a\\\"b\\\\c\\nd\\te\\u0001\"");
        red_buf_reset(&b);
        red_buf_put_copy_str(&b, s, sizeof(s) - 1);
        ck_assert_str_eq(b.data, "a\"b\\\\c\\nd\\te\x01");
        /* backspace and form feed in their short forms, as jsonb prints */
        red_buf_reset(&b);
        red_buf_put_json_str(&b, "\b\f\x1f", 3);
        ck_assert_str_eq(b.data, "\"\\b\\f\\u001f\"");
        red_buf_destroy(&b);
}
END_TEST

/* COPY text escaping, one byte at a time: what the word-at-a-time scan
 * must produce. */
static void copy_reference(red_buf_t *b, const unsigned char *s, size_t len)
{
        for (size_t i = 0; i < len; i++) {
                switch (s[i]) {
                case '\\':
                        red_buf_puts(b, "\\\\");
                        break;
                case '\t':
                        red_buf_puts(b, "\\t");
                        break;
                case '\n':
                        red_buf_puts(b, "\\n");
                        break;
                case '\r':
                        red_buf_puts(b, "\\r");
                        break;
                default:
                        red_buf_putc(b, (char)s[i]);
                }
        }
}

START_TEST(copy_escapes_match_the_reference)
{
        /* bytes near the boundaries of the word test, at every offset */
        static const unsigned char pool[] = {'a',  '\\', '\t', '\n', '\r', 0x01,
                                             0x1f, 0x20, 0x5b, 0x5d, 0x7f, 0x80,
                                             0xc3, 0xdc, 0xff, '"'};
        unsigned char s[64];
        red_buf_t got, want;

        srand(7);
        red_buf_init(&got);
        red_buf_init(&want);
        for (int round = 0; round < 100000; round++) {
                size_t len = (size_t)(rand() % 40);
                int plain = rand() % 4; /* mostly plain text, like real rows */

                for (size_t i = 0; i < len; i++) {
                        s[i] = plain ? (unsigned char)('a' + rand() % 26)
                                     : pool[rand() % sizeof(pool)];
                        if (plain && rand() % 16 == 0) {
                                s[i] = pool[rand() % sizeof(pool)];
                        }
                }
                red_buf_reset(&got);
                red_buf_reset(&want);
                red_buf_put_copy_str(&got, (const char *)s, len);
                copy_reference(&want, s, len);
                ck_assert_uint_eq(got.len, want.len);
                ck_assert(memcmp(got.data ? got.data : "",
                                 want.data ? want.data : "", got.len) == 0);
        }
        red_buf_destroy(&got);
        red_buf_destroy(&want);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("buf");
        TCase *tc = tcase_create("buf");

        tcase_add_test(tc, grows_and_formats);
        tcase_add_test(tc, doubles_round_trip);
        tcase_add_test(tc, doubles_match_the_reference);
        tcase_add_test(tc, json_and_copy_escapes);
        tcase_add_test(tc, copy_escapes_match_the_reference);
        suite_add_tcase(s, tc);
        return test_main(s);
}
