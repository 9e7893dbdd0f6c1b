/*
 * Tests for red_format (rows as JSON, NDJSON, CSV and a table) and
 * red_cursor (page tokens): typed values, RFC 4180 quoting, the
 * envelopes, and tokens that round-trip and refuse anything else.
 */
#include "red_cursor.h"
#include "red_format.h"
#include "red_test.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static red_format_t *fmt3(red_format_kind_t kind)
{
        red_format_t *f = red_format_new(kind, 3);

        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(red_format_column(f, 0, "name", RED_VAL_TEXT), 0);
        ck_assert_int_eq(red_format_column(f, 1, "n", RED_VAL_NUMBER), 0);
        ck_assert_int_eq(red_format_column(f, 2, "at", RED_VAL_TIME), 0);
        return f;
}

static void rows(red_format_t *f, red_buf_t *out)
{
        const char *r1[] = {"a,\"b\"\nc", "1.5", "2026-01-02 03:04:05+00"};
        const char *r2[] = {NULL, "NaN", "not a time"};

        red_format_begin(f, out);
        ck_assert_int_eq(red_format_row(f, r1, NULL, out), 0);
        ck_assert_int_eq(red_format_row(f, r2, NULL, out), 0);
}

START_TEST(json_envelope)
{
        red_format_t *f = fmt3(RED_FORMAT_JSON);
        red_buf_t b;
        json_error_t je;
        json_t *doc, *data;

        red_buf_init(&b);
        rows(f, &b);
        red_format_end(f, "abc", "\"meta\":{\"x\":1}", &b);
        doc = json_loads(b.data, 0, &je);
        ck_assert_msg(doc != NULL, "%s: %s", je.text, b.data);
        data = json_object_get(doc, "data");
        ck_assert_int_eq(json_array_size(data), 2);
        ck_assert_str_eq(json_string_value(json_object_get(
                                 json_array_get(data, 0), "name")),
                         "a,\"b\"\nc");
        ck_assert(json_real_value(json_object_get(json_array_get(data, 0),
                                                  "n")) == 1.5);
        /* times come out canonical; NaN is null; unparsable time stays text */
        ck_assert_str_eq(json_string_value(json_object_get(
                                 json_array_get(data, 0), "at")),
                         "2026-01-02T03:04:05Z");
        ck_assert(json_is_null(json_object_get(json_array_get(data, 1), "n")));
        ck_assert(
                json_is_null(json_object_get(json_array_get(data, 1), "name")));
        ck_assert_str_eq(json_string_value(json_object_get(
                                 json_array_get(data, 1), "at")),
                         "not a time");
        ck_assert_str_eq(json_string_value(json_object_get(doc, "next_cursor")),
                         "abc");
        ck_assert_int_eq(json_integer_value(json_object_get(
                                 json_object_get(doc, "meta"), "x")),
                         1);
        ck_assert_uint_eq(red_format_rows(f), 2);
        json_decref(doc);
        red_buf_destroy(&b);
        red_format_destroy(f);
}
END_TEST

START_TEST(ndjson_lines)
{
        red_format_t *f = fmt3(RED_FORMAT_NDJSON);
        red_buf_t b;
        char *line, *save = NULL;
        int n = 0;

        red_buf_init(&b);
        rows(f, &b);
        red_format_end(f, "next", NULL, &b);
        for (line = strtok_r(b.data, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save), n++) {
                json_t *o = json_loads(line, 0, NULL);
                ck_assert_msg(o && json_is_object(o), "line %d: %s", n, line);
                if (n == 2) {
                        ck_assert_str_eq(json_string_value(json_object_get(
                                                 o, "next_cursor")),
                                         "next");
                }
                json_decref(o);
        }
        ck_assert_int_eq(n, 3);
        red_buf_destroy(&b);
        red_format_destroy(f);
}
END_TEST

START_TEST(csv_rfc4180)
{
        red_format_t *f = fmt3(RED_FORMAT_CSV);
        red_buf_t b;

        red_buf_init(&b);
        rows(f, &b);
        red_format_end(f, "ignored", "\"x\":1", &b);
        ck_assert_str_eq(b.data,
                         "name,n,at\r\n"
                         "\"a,\"\"b\"\"\nc\",1.5,2026-01-02T03:04:05Z\r\n"
                         ",NaN,not a time\r\n");
        red_buf_destroy(&b);
        red_format_destroy(f);
}
END_TEST

START_TEST(table_aligned)
{
        red_format_t *f = red_format_new(RED_FORMAT_TABLE, 2);
        const char *r1[] = {"élan", "5"};
        const char *r2[] = {"x", "12345"};
        red_buf_t b;

        red_buf_init(&b);
        ck_assert_int_eq(red_format_column(f, 0, "word", RED_VAL_TEXT), 0);
        ck_assert_int_eq(red_format_column(f, 1, "n", RED_VAL_INT), 0);
        red_format_begin(f, &b);
        ck_assert_int_eq(red_format_row(f, r1, NULL, &b), 0);
        ck_assert_int_eq(red_format_row(f, r2, NULL, &b), 0);
        ck_assert_uint_eq(b.len, 0); /* a table waits for every row */
        red_format_end(f, NULL, NULL, &b);
        /* widths count characters, numbers are right-aligned */
        ck_assert_str_eq(b.data, "word      n\n"
                                 "----  -----\n"
                                 "élan      5\n"
                                 "x     12345\n"
                                 "(2 rows)\n");
        red_buf_destroy(&b);
        red_format_destroy(f);
}
END_TEST

START_TEST(formats_by_name)
{
        red_format_kind_t k;

        ck_assert_int_eq(red_format_parse("csv", &k), 0);
        ck_assert_int_eq(k, RED_FORMAT_CSV);
        ck_assert_int_ne(red_format_parse("xml", &k), 0);
        ck_assert_str_eq(red_format_name(RED_FORMAT_NDJSON), "ndjson");
        ck_assert_ptr_nonnull(
                strstr(red_format_content_type(RED_FORMAT_CSV), "text/csv"));
        ck_assert_ptr_null(red_format_new(RED_FORMAT_PROMETHEUS, 1));
}
END_TEST

START_TEST(cursor_round_trip)
{
        const char *vals[] = {"2026-01-01 00:00:00+00", "", "a:b\x1f\xc3\xa9"};
        red_buf_t b;
        char **out = NULL;

        red_buf_init(&b);
        red_cursor_encode(vals, NULL, 3, &b);
        ck_assert_uint_eq(strspn(b.data, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefgh"
                                         "ijklmnopqrstuvwxyz0123456789-_"),
                          b.len);
        ck_assert_int_eq(red_cursor_decode(b.data, 3, &out), 0);
        for (int i = 0; i < 3; i++) {
                ck_assert_str_eq(out[i], vals[i]);
        }
        red_cursor_free(out, 3);
        /* another arity, other characters, a truncated token */
        ck_assert_int_eq(red_cursor_decode(b.data, 2, &out), -EINVAL);
        ck_assert_int_eq(red_cursor_decode(b.data, 4, &out), -EINVAL);
        ck_assert_int_eq(red_cursor_decode("abc=", 1, &out), -EINVAL);
        ck_assert_int_eq(red_cursor_decode("';DROP TABLE x", 1, &out), -EINVAL);
        b.data[b.len / 2] = '\0';
        ck_assert_int_eq(red_cursor_decode(b.data, 3, &out), -EINVAL);
        red_buf_destroy(&b);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("format");
        TCase *tc = tcase_create("format");

        tcase_add_test(tc, json_envelope);
        tcase_add_test(tc, ndjson_lines);
        tcase_add_test(tc, csv_rfc4180);
        tcase_add_test(tc, table_aligned);
        tcase_add_test(tc, formats_by_name);
        tcase_add_test(tc, cursor_round_trip);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        return test_main(suite());
}
