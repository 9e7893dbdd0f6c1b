/* Tests for red_buf: growth, number/JSON/COPY encodings. */
#include "red_buf.h"
#include "red_test.h"

#include <math.h>
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
        const double vals[] = {0.1, 1.0 / 3, 12.0, -2.5, 1e-7, 123456.789,
                               1e20, 0.6, 0.8};
        const char *want[] = {"0.1", "0.3333333333333333", "12", "-2.5",
                              "1e-07", "123456.789", "1e+20",
                              "0.6", "0.8"};
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
        red_buf_destroy(&b);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("buf");
        TCase *tc = tcase_create("buf");

        tcase_add_test(tc, grows_and_formats);
        tcase_add_test(tc, doubles_round_trip);
        tcase_add_test(tc, json_and_copy_escapes);
        suite_add_tcase(s, tc);
        return test_main(s);
}
