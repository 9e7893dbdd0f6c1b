/*
 * Tests for red_varint: shortest-form encoding at every length boundary,
 * and a decoder that takes exactly those forms: truncation, over-long
 * forms and values past 64 bits are told apart; zigzag at its edges.
 */
#include "red_varint.h"
#include "red_test.h"

#include <stdint.h>
#include <string.h>

/* An independent reading of the definition: 7 bits per byte, low group
 * first, high bit = more; the shortest form of v has
 * max(1, ceil(bits(v) / 7)) bytes. */
static size_t shortest_len(uint64_t v)
{
        size_t bits = 0;

        while (bits < 64 && v >> bits) {
                bits++;
        }
        return bits ? (bits + 6) / 7 : 1;
}

START_TEST(encodes_shortest_form)
{
        static const struct {
                uint64_t v;
                const char *bytes;
                size_t len;
        } cases[] = {
                {0, "\x00", 1},
                {1, "\x01", 1},
                {127, "\x7f", 1},
                {128, "\x80\x01", 2},
                {300, "\xac\x02", 2},
                {16383, "\xff\x7f", 2},
                {16384, "\x80\x80\x01", 3},
                {UINT64_C(1) << 63, "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01",
                 10},
                {UINT64_MAX, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10},
        };
        uint8_t buf[RED_VARINT_MAX];

        for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
                uint64_t back = 12345;
                size_t n = red_varint_encode(cases[i].v, buf);

                ck_assert_uint_eq(n, cases[i].len);
                ck_assert_uint_eq(red_varint_len(cases[i].v), n);
                ck_assert_mem_eq(buf, cases[i].bytes, n);
                ck_assert_int_eq(red_varint_decode(buf, n, &back), (int)n);
                ck_assert_uint_eq(back, cases[i].v);
        }
}
END_TEST

START_TEST(round_trips_every_length)
{
        uint8_t buf[RED_VARINT_MAX + 4];

        /* each power of two, and its neighbours */
        for (int b = 0; b < 64; b++) {
                uint64_t p = UINT64_C(1) << b;
                uint64_t vals[] = {p - 1, p, p + 1};

                for (size_t k = 0; k < 3; k++) {
                        uint64_t v = vals[k], back = 0;
                        size_t n = red_varint_encode(v, buf);

                        ck_assert_uint_eq(n, shortest_len(v));
                        ck_assert_uint_eq(red_varint_len(v), n);
                        /* the last byte ends it, every other continues */
                        for (size_t i = 0; i + 1 < n; i++) {
                                ck_assert(buf[i] & 0x80);
                        }
                        ck_assert(!(buf[n - 1] & 0x80));
                        /* bytes after it are not read */
                        memset(buf + n, 0xff, 4);
                        ck_assert_int_eq(red_varint_decode(buf, n + 4, &back),
                                         (int)n);
                        ck_assert_uint_eq(back, v);
                }
        }
}
END_TEST

START_TEST(truncation_is_told_apart)
{
        uint8_t buf[RED_VARINT_MAX];
        uint64_t v = 77;
        size_t n = red_varint_encode(UINT64_MAX, buf);

        /* every proper prefix, including the empty input */
        for (size_t len = 0; len < n; len++) {
                ck_assert_int_eq(red_varint_decode(buf, len, &v),
                                 RED_VARINT_TRUNCATED);
        }
        ck_assert_int_eq(red_varint_decode(NULL, 0, &v), RED_VARINT_TRUNCATED);
        ck_assert_uint_eq(v, 77); /* untouched on failure */
}
END_TEST

START_TEST(over_long_forms_are_rejected)
{
        static const struct {
                const char *bytes;
                size_t len;
        } bad[] = {
                {"\x80\x00", 2},     /* 0 in two bytes */
                {"\x81\x00", 2},     /* 1 in two bytes */
                {"\xff\x80\x00", 3}, /* 127 in three */
                {"\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00", 10},
        };
        uint64_t v = 77;

        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
                ck_assert_msg(red_varint_decode((const uint8_t *)bad[i].bytes,
                                                bad[i].len,
                                                &v) == RED_VARINT_BAD,
                              "case %zu accepted", i);
        }
        ck_assert_uint_eq(v, 77);
}
END_TEST

START_TEST(values_past_64_bits_are_rejected)
{
        /* a tenth byte may hold bit 63 only */
        static const char *const bad[] = {
                "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02",
                "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f",
                /* a continued tenth byte, and an eleventh */
                "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x81\x00",
                "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01",
        };
        uint64_t v = 77;

        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
                size_t len = i < 2 ? 10 : 11;
                ck_assert_msg(red_varint_decode((const uint8_t *)bad[i], len,
                                                &v) == RED_VARINT_BAD,
                              "case %zu accepted", i);
        }
        ck_assert_uint_eq(v, 77);
}
END_TEST

START_TEST(every_two_byte_input)
{
        /* all 65536 two-byte inputs against the definition */
        for (unsigned a = 0; a < 256; a++) {
                for (unsigned b = 0; b < 256; b++) {
                        uint8_t in[2] = {(uint8_t)a, (uint8_t)b};
                        uint64_t v = 0;
                        int r = red_varint_decode(in, 2, &v);

                        if (a < 0x80) {
                                ck_assert_int_eq(r, 1);
                                ck_assert_uint_eq(v, a);
                        } else if (b >= 0x80) {
                                ck_assert_int_eq(r, RED_VARINT_TRUNCATED);
                        } else if (b == 0) {
                                ck_assert_int_eq(r, RED_VARINT_BAD);
                        } else {
                                ck_assert_int_eq(r, 2);
                                ck_assert_uint_eq(v, (a & 0x7f) | b << 7);
                        }
                }
        }
}
END_TEST

START_TEST(zigzag_edges)
{
        static const struct {
                int64_t s;
                uint64_t u;
        } cases[] = {
                {0, 0},
                {-1, 1},
                {1, 2},
                {-2, 3},
                {2, 4},
                {INT64_MAX, UINT64_MAX - 1},
                {INT64_MIN, UINT64_MAX},
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
                ck_assert_uint_eq(red_varint_zigzag(cases[i].s), cases[i].u);
                ck_assert_int_eq(red_varint_unzigzag(cases[i].u), cases[i].s);
        }
        for (int64_t s = -1000; s <= 1000; s++) {
                ck_assert_int_eq(red_varint_unzigzag(red_varint_zigzag(s)), s);
        }
}
END_TEST

int main(void)
{
        Suite *s = suite_create("varint");
        TCase *tc = tcase_create("varint");

        tcase_add_test(tc, encodes_shortest_form);
        tcase_add_test(tc, round_trips_every_length);
        tcase_add_test(tc, truncation_is_told_apart);
        tcase_add_test(tc, over_long_forms_are_rejected);
        tcase_add_test(tc, values_past_64_bits_are_rejected);
        tcase_add_test(tc, every_two_byte_input);
        tcase_add_test(tc, zigzag_edges);
        suite_add_tcase(s, tc);
        return test_main(s);
}
