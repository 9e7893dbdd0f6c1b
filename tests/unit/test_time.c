/* Unit tests for red_time: parsing, formatting, civil conversion, durations. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "red_time.h"

#define US     RED_TIME_US_PER_SEC
#define DAY_US RED_TIME_US_PER_DAY

/*
 * Check's ck_assert_* records a checkpoint on every call, too slow for loops
 * over hundreds of thousands of values; this only calls into Check on failure.
 */
#define REQUIRE_EQ(a, b)                                                       \
        do {                                                                   \
                long long a_ = (a), b_ = (b);                                  \
                if (a_ != b_) {                                                \
                        ck_abort_msg("%s:%d: %s == %s failed (%lld vs %lld)",  \
                                     __FILE__, __LINE__, #a, #b, a_, b_);      \
                }                                                              \
        } while (0)

static red_time_t parse_ok(const char *s)
{
        red_time_t t = 0;
        int r = red_time_parse(s, strlen(s), &t);

        ck_assert_msg(r == 0, "expected \"%s\" to parse, got %d", s, r);
        return t;
}

static void check_parse(const char *s, red_time_t want)
{
        red_time_t t = parse_ok(s);

        ck_assert_msg(t == want, "\"%s\": got %lld, want %lld", s, (long long)t,
                      (long long)want);
}

static void check_bad(const char *s)
{
        red_time_t t = 12345;
        int r = red_time_parse(s, strlen(s), &t);

        ck_assert_msg(r == -EINVAL, "expected \"%s\" to be rejected, got %d", s,
                      r);
        ck_assert_msg(t == 12345, "\"%s\": output written on error", s);
}

static void check_format(red_time_t t, const char *want)
{
        char buf[RED_TIME_FMT_SIZE];
        size_t n = red_time_format(t, buf, sizeof(buf));

        ck_assert_str_eq(buf, want);
        ck_assert_uint_eq(n, strlen(want));
}

/* format(parse(in)) == want */
static void check_canon(const char *in, const char *want)
{
        check_format(parse_ok(in), want);
}

START_TEST(test_parse_basic)
{
        check_parse("2025-11-06T12:34:56Z", INT64_C(1762432496000000));
        check_parse("2025-11-06T12:34:56z", INT64_C(1762432496000000));
        check_parse("2025-11-06t12:34:56Z", INT64_C(1762432496000000));
        check_parse("2025-11-06 12:34:56Z", INT64_C(1762432496000000));
        check_parse("2025-11-06T12:34:56", INT64_C(1762432496000000));
        check_parse("2025-11-06T12:34:56+00:00", INT64_C(1762432496000000));
        check_parse("2025-11-06T12:34:56-00:00", INT64_C(1762432496000000));
        check_parse("2025-11-06T12:34Z", INT64_C(1762432440000000));
        check_parse("2025-11-06T12:34", INT64_C(1762432440000000));
        check_parse("2025-11-06", INT64_C(1762387200000000));
        check_parse("1970-01-01T00:00:00Z", 0);
        check_parse("1970-01-01", 0);
        check_parse("1970-01-01T00:00:00.000001Z", 1);
}
END_TEST

START_TEST(test_parse_fraction)
{
        const red_time_t base = INT64_C(1762432496000000);

        check_parse("2025-11-06T12:34:56.1Z", base + 100000);
        check_parse("2025-11-06T12:34:56.12Z", base + 120000);
        check_parse("2025-11-06T12:34:56.123Z", base + 123000);
        check_parse("2025-11-06T12:34:56.1234Z", base + 123400);
        check_parse("2025-11-06T12:34:56.12345Z", base + 123450);
        check_parse("2025-11-06T12:34:56.123456Z", base + 123456);
        /* beyond microseconds: truncated, never rounded */
        check_parse("2025-11-06T12:34:56.1234567Z", base + 123456);
        check_parse("2025-11-06T12:34:56.12345678Z", base + 123456);
        check_parse("2025-11-06T12:34:56.123456789Z", base + 123456);
        check_parse("2025-11-06T12:34:56.999999999Z", base + 999999);
        check_parse("2025-11-06T12:34:56.000000999Z", base);
        check_parse("2025-11-06T12:34:56.000001", base + 1);
        check_parse("2025-11-06T12:34:56.5+01:00", base - 3600 * US + 500000);
}
END_TEST

START_TEST(test_parse_offsets)
{
        check_parse("2025-11-06T12:34:56+05:30", INT64_C(1762412696000000));
        check_parse("2025-11-06T12:34:56+0530", INT64_C(1762412696000000));
        check_parse("2025-11-06T12:34:56-08:00", INT64_C(1762461296000000));
        check_parse("2025-11-06T12:34:56-0800", INT64_C(1762461296000000));
        check_parse("2025-11-06T12:34:56-08", INT64_C(1762461296000000));
        check_parse("2025-11-06T12:34:56+02", INT64_C(1762425296000000));
        check_parse("2025-11-06T12:34+02", INT64_C(1762425240000000));
        check_parse("2025-11-06 12:34:56.25-08:00",
                    INT64_C(1762461296000000) + 250000);
        /* offsets move across day, month and year boundaries */
        check_parse("2025-01-01T01:00:00+02:00",
                    parse_ok("2024-12-31T23:00:00Z"));
        check_parse("2024-12-31T20:00:00-05:00",
                    parse_ok("2025-01-01T01:00:00Z"));
        check_parse("2025-11-06T00:00:00+18:00",
                    parse_ok("2025-11-05T06:00:00Z"));
        check_parse("2025-11-06T00:00:00-18:00",
                    parse_ok("2025-11-06T18:00:00Z"));
        check_parse("2025-11-06T00:00:00+17:59",
                    parse_ok("2025-11-05T06:01:00Z"));
}
END_TEST

START_TEST(test_parse_calendar)
{
        check_parse("2024-02-29T00:00:00Z", INT64_C(1709164800000000));
        check_parse("2000-02-29T12:00:00Z", INT64_C(951825600000000));
        check_bad("2023-02-29");
        check_bad("2023-02-29T00:00:00Z");
        check_bad("2100-02-29T00:00:00Z");
        check_bad("1900-02-29");
        check_parse("2100-02-28", parse_ok("2100-03-01") - DAY_US);
        check_parse("2000-03-01", parse_ok("2000-02-29") + DAY_US);
        check_bad("2025-04-31");
        check_bad("2025-06-31");
        check_bad("2025-09-31");
        check_bad("2025-11-31");
        check_parse("2025-12-31", parse_ok("2025-11-30") + 31 * DAY_US);
        /* year boundaries */
        check_parse("2025-01-01T00:00:00Z",
                    parse_ok("2024-12-31T23:59:59.999999Z") + 1);
        check_parse("2000-01-01T00:00:00Z", INT64_C(946684800000000));
        check_parse("9999-12-31T23:59:59.999999Z", INT64_C(253402300799999999));
        check_parse("0001-01-01T00:00:00Z", INT64_C(-62135596800000000));
        check_parse("0000-03-01",
                    parse_ok("0000-02-29") + DAY_US); /* 0 is leap */
        /* before 1970 */
        check_parse("1969-12-31T23:59:59Z", -US);
        check_parse("1969-12-31T23:59:59.999999Z", -1);
        check_parse("1969-07-20T20:17:40Z", INT64_C(-14182940000000));
        check_parse("1900-01-01T00:00:00Z", INT64_C(-2208988800000000));
}
END_TEST

START_TEST(test_parse_leap_second)
{
        const red_time_t last =
                INT64_C(1483228799999999); /* 2016-12-31T23:59:59.999999Z */

        check_parse("2016-12-31T23:59:60Z", last);
        check_parse("2016-12-31T23:59:60.5Z", last);
        check_parse("2016-12-31T23:59:60", last);
        check_parse("2017-01-01T05:29:60+05:30", last);
        check_parse("2016-12-31T15:59:60-08:00", last);
        ck_assert_int_lt(parse_ok("2016-12-31T23:59:59.5Z"), last + 1);
        ck_assert_int_lt(last, parse_ok("2017-01-01T00:00:00Z"));
        check_bad("2016-12-31T23:58:60Z");
        check_bad("2016-12-31T12:59:60Z");
        check_bad("2016-12-31T23:59:60+01:00");
        check_bad("2016-12-31T23:59:61Z");
        check_bad("2016-12-31T23:59:99Z");
}
END_TEST

START_TEST(test_parse_invalid)
{
        static const char *const bad[] = {
                "",
                "2025",
                "2025-11",
                "2025-11-0",
                "2025-1-06",
                "25-11-06",
                "2025/11/06",
                "20251106",
                " 2025-11-06",
                "2025-11-06 ",
                "+2025-11-06",
                "2025-13-01",
                "2025-00-10",
                "2025-11-00",
                "2025-11-32",
                "2025-11-06Z",
                "2025-11-06T",
                "2025-11-06T12",
                "2025-11-06T12Z",
                "2025-11-06T12:",
                "2025-11-06T12:3",
                "2025-11-06T1:34",
                "2025-11-06T12:34:",
                "2025-11-06T12:34:5",
                "2025-11-06T12:34:5Z",
                "2025-11-06T25:00",
                "2025-11-06T24:00",
                "2025-11-06T12:60",
                "2025-11-06T12:34:56.",
                "2025-11-06T12:34:56.Z",
                "2025-11-06T12:34:56.1234567890Z",
                "2025-11-06T12:34.5Z",
                "2025-11-06X12:34:56Z",
                "2025-11-06T12:34:56Zjunk",
                "2025-11-06T12:34:56ZZ",
                "2025-11-06T12:34:56 Z",
                "2025-11-06T12:34:56UTC",
                "2025-11-06T12:34:56GMT",
                "2025-11-06T12:34:56+",
                "2025-11-06T12:34:56+5",
                "2025-11-06T12:34:56+5:30",
                "2025-11-06T12:34:56+05:",
                "2025-11-06T12:34:56+05:3",
                "2025-11-06T12:34:56+053",
                "2025-11-06T12:34:56+05:30:00",
                "2025-11-06T12:34:56+05:60",
                "2025-11-06T12:34:56+18:01",
                "2025-11-06T12:34:56+19:00",
                "2025-11-06T12:34:56-19",
                "2025-11-06T12:34:56+99:99",
                "2025-11-06T12:34:56+ab:cd",
                "2025-11-06T12:34:56-0a00",
                "2025-11-06T12:34:56.12a",
                "2O25-11-06",
                "2025-11-06T12:34:56Z\n",
        };
        size_t i;

        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                check_bad(bad[i]);
        }
}
END_TEST

START_TEST(test_parse_len)
{
        const char s[] = "2025-11-06T12:34:56Zgarbage";
        const char nul[] = "2025-11-06T12:34:56\0Z";
        red_time_t t = 0;

        /* only len bytes are read; no NUL needed */
        ck_assert_int_eq(red_time_parse(s, 20, &t), 0);
        ck_assert_int_eq(t, INT64_C(1762432496000000));
        ck_assert_int_eq(red_time_parse(s, 10, &t), 0);
        ck_assert_int_eq(t, INT64_C(1762387200000000));
        ck_assert_int_eq(red_time_parse(s, 19, &t), 0);
        ck_assert_int_eq(t, INT64_C(1762432496000000));
        ck_assert_int_eq(red_time_parse(s, 21, &t), -EINVAL);
        ck_assert_int_eq(red_time_parse(s, 9, &t), -EINVAL);
        ck_assert_int_eq(red_time_parse(s, 0, &t), -EINVAL);
        /* an embedded NUL is just another bad byte */
        ck_assert_int_eq(red_time_parse(nul, sizeof(nul) - 1, &t), -EINVAL);
        ck_assert_int_eq(red_time_parse(NULL, 10, &t), -EINVAL);
        ck_assert_int_eq(red_time_parse(s, 20, NULL), -EINVAL);
}
END_TEST

START_TEST(test_format)
{
        char buf[RED_TIME_FMT_SIZE];
        size_t n;

        check_format(0, "1970-01-01T00:00:00Z");
        check_format(1, "1970-01-01T00:00:00.000001Z");
        check_format(-1, "1969-12-31T23:59:59.999999Z");
        check_format(-US, "1969-12-31T23:59:59Z");
        check_format(INT64_C(1762432496000000), "2025-11-06T12:34:56Z");
        check_format(INT64_C(1762432496123456), "2025-11-06T12:34:56.123456Z");
        check_format(INT64_C(1762432496100000), "2025-11-06T12:34:56.100000Z");
        check_format(INT64_C(1762432496000010), "2025-11-06T12:34:56.000010Z");
        check_format(INT64_C(253402300799999999),
                     "9999-12-31T23:59:59.999999Z");
        check_format(INT64_C(-62167219200000000), "0000-01-01T00:00:00Z");
        /* expanded years outside 0000..9999 */
        check_format(INT64_C(-62167219200000000) - 1,
                     "-000001-12-31T23:59:59.999999Z");
        check_format(INT64_C(253402300800000000), "+010000-01-01T00:00:00Z");
        /* the extremes fit RED_TIME_FMT_SIZE */
        check_format(INT64_MAX, "+294247-01-10T04:00:54.775807Z");
        check_format(INT64_MIN, "-290308-12-21T19:59:05.224192Z");

        /* snprintf-like truncation */
        memset(buf, 'x', sizeof(buf));
        n = red_time_format(INT64_C(1762432496000000), buf, 11);
        ck_assert_uint_eq(n, 20);
        ck_assert_str_eq(buf, "2025-11-06");
        ck_assert_int_eq(buf[11], 'x');
        buf[0] = 'q';
        n = red_time_format(0, buf, 0);
        ck_assert_uint_eq(n, 20);
        ck_assert_int_eq(buf[0], 'q');
        n = red_time_format(0, buf, 21);
        ck_assert_uint_eq(n, 20);
        ck_assert_str_eq(buf, "1970-01-01T00:00:00Z");
}
END_TEST

START_TEST(test_format_dates)
{
        char buf[RED_TIME_FMT_SIZE];
        red_time_t t =
                INT64_C(1762432496123456); /* 2025-11-06T12:34:56.123456Z */

        ck_assert_uint_eq(red_time_format_date(t, buf, sizeof(buf)), 10);
        ck_assert_str_eq(buf, "2025-11-06");
        ck_assert_uint_eq(red_time_format_day_suffix(t, buf, sizeof(buf)), 10);
        ck_assert_str_eq(buf, "2025_11_06");
        ck_assert_uint_eq(red_time_format_month_suffix(t, buf, sizeof(buf)), 7);
        ck_assert_str_eq(buf, "2025_11");
        /* the UTC day, also for negative times */
        ck_assert_uint_eq(red_time_format_date(-1, buf, sizeof(buf)), 10);
        ck_assert_str_eq(buf, "1969-12-31");
        ck_assert_uint_eq(red_time_format_day_suffix(-1, buf, sizeof(buf)), 10);
        ck_assert_str_eq(buf, "1969_12_31");
        ck_assert_uint_eq(red_time_format_month_suffix(-1, buf, sizeof(buf)),
                          7);
        ck_assert_str_eq(buf, "1969_12");
        red_time_format_date(parse_ok("2024-02-29T23:59:59.999999Z"), buf,
                             sizeof(buf));
        ck_assert_str_eq(buf, "2024-02-29");
        red_time_format_month_suffix(parse_ok("2025-01-01"), buf, sizeof(buf));
        ck_assert_str_eq(buf, "2025_01");
        ck_assert_uint_eq(red_time_format_month_suffix(t, buf, 5), 7);
        ck_assert_str_eq(buf, "2025");
}
END_TEST

START_TEST(test_round_trip)
{
        static const char *const canon[] = {
                "2025-11-06T12:34:56Z",        "2025-11-06T12:34:56.123456Z",
                "2025-11-06T12:34:56.000001Z", "1969-12-31T23:59:59.999999Z",
                "1900-01-01T00:00:00Z",        "0000-01-01T00:00:00Z",
                "9999-12-31T23:59:59.999999Z", "2024-02-29T00:00:00.500000Z",
                "2000-02-29T23:59:59Z",
        };
        size_t i;
        uint64_t x = 88172645463325252u;

        for (i = 0; i < sizeof(canon) / sizeof(canon[0]); i++) {
                check_canon(canon[i], canon[i]);
        }
        check_canon("2025-11-06t12:34:56.1z", "2025-11-06T12:34:56.100000Z");
        check_canon("2025-11-06 12:34:56+05:30", "2025-11-06T07:04:56Z");
        check_canon("2025-11-06T23:30:00-0800", "2025-11-07T07:30:00Z");
        check_canon("2025-01-01T00:30+02", "2024-12-31T22:30:00Z");
        check_canon("2025-11-06", "2025-11-06T00:00:00Z");
        check_canon("2025-11-06T12:34", "2025-11-06T12:34:00Z");
        check_canon("2025-11-06T12:34:56.123456789Z",
                    "2025-11-06T12:34:56.123456Z");
        check_canon("2025-11-06T12:34:56.000000999Z", "2025-11-06T12:34:56Z");
        check_canon("2016-12-31T23:59:60Z", "2016-12-31T23:59:59.999999Z");

        /* parse(format(t)) == t for pseudo-random t in years 0000..9999 */
        for (i = 0; i < 200000; i++) {
                const red_time_t lo = INT64_C(-62167219200000000);
                const red_time_t hi = INT64_C(253402300799999999);
                char buf[RED_TIME_FMT_SIZE];
                red_time_t t, back = 0;
                size_t n;

                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                t = lo + (red_time_t)(x % (uint64_t)(hi - lo));
                if (i % 3 == 0) {
                        t -= t % US; /* whole seconds too */
                }
                n = red_time_format(t, buf, sizeof(buf));
                REQUIRE_EQ(red_time_parse(buf, n, &back), 0);
                REQUIRE_EQ(back, t);
        }
}
END_TEST

/* Naive calendar: step one day at a time from 1900-01-01 (day -25567, a
 * Monday). */
START_TEST(test_civil_brute_force)
{
        static const int mdays[12] = {31, 28, 31, 30, 31, 30,
                                      31, 31, 30, 31, 30, 31};
        int64_t days = -25567;
        int y = 1900, m = 1, d = 1, wd = 1;
        int64_t count = 0;

        while (y <= 2400) {
                bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
                int dim = mdays[m - 1] + (m == 2 && leap ? 1 : 0);
                /* vary the time of day so every field is exercised */
                int hh = (int)(count % 24), mi = (int)(count * 7 % 60);
                int ss = (int)(count * 13 % 60),
                    us = (int)(count * 7919 % 1000000);
                red_civil_t c = {y, m, d, hh, mi, ss, us};
                red_civil_t back;
                red_time_t want =
                        days * DAY_US + ((hh * 60 + mi) * 60 + ss) * US + us;
                red_time_t t = red_time_from_civil(&c);
                char buf[RED_TIME_FMT_SIZE], exp[RED_TIME_FMT_SIZE];

                REQUIRE_EQ(t, want);
                red_time_to_civil(t, &back);
                REQUIRE_EQ(back.year, y);
                REQUIRE_EQ(back.month, m);
                REQUIRE_EQ(back.day, d);
                REQUIRE_EQ(back.hour, hh);
                REQUIRE_EQ(back.minute, mi);
                REQUIRE_EQ(back.second, ss);
                REQUIRE_EQ(back.usec, us);
                REQUIRE_EQ(red_time_weekday(t), wd);
                REQUIRE_EQ(red_time_days_in_month(y, m), dim);
                red_time_format_date(t, buf, sizeof(buf));
                snprintf(exp, sizeof(exp), "%04d-%02d-%02d", y, m, d);
                if (strcmp(buf, exp) != 0) {
                        ck_abort_msg("format_date: got %s, want %s", buf, exp);
                }
                red_time_to_civil(days * DAY_US, &back);
                REQUIRE_EQ(back.day, d);
                REQUIRE_EQ(back.hour, 0);
                red_time_to_civil(days * DAY_US - 1, &back);
                REQUIRE_EQ(back.hour, 23);
                REQUIRE_EQ(back.usec, 999999);

                days++;
                count++;
                wd = wd == 7 ? 1 : wd + 1;
                if (++d > dim) {
                        d = 1;
                        if (++m > 12) {
                                m = 1;
                                y++;
                        }
                }
        }
        /* 501 years: 1900..2400 has 122 leap years */
        ck_assert_int_eq(count, 501 * 365 + 122);
        ck_assert_int_eq(days, parse_ok("2401-01-01") / DAY_US);
}
END_TEST

START_TEST(test_civil_normalise)
{
        red_civil_t c;

        c = (red_civil_t){2025, 13, 1, 0, 0, 0, 0};
        ck_assert_int_eq(red_time_from_civil(&c), parse_ok("2026-01-01"));
        c = (red_civil_t){2025, 0, 1, 0, 0, 0, 0};
        ck_assert_int_eq(red_time_from_civil(&c), parse_ok("2024-12-01"));
        c = (red_civil_t){2025, -11, 1, 0, 0, 0, 0};
        ck_assert_int_eq(red_time_from_civil(&c), parse_ok("2024-01-01"));
        c = (red_civil_t){2025, 25, 1, 0, 0, 0, 0};
        ck_assert_int_eq(red_time_from_civil(&c), parse_ok("2027-01-01"));
        c = (red_civil_t){2025, 3, 0, 0, 0, 0, 0};
        ck_assert_int_eq(red_time_from_civil(&c), parse_ok("2025-02-28"));
        c = (red_civil_t){2024, 3, 0, 0, 0, 0, 0};
        ck_assert_int_eq(red_time_from_civil(&c), parse_ok("2024-02-29"));
        c = (red_civil_t){2025, 1, 32, 0, 0, 0, 0};
        ck_assert_int_eq(red_time_from_civil(&c), parse_ok("2025-02-01"));
        c = (red_civil_t){2025, 1, 1, 24, 0, 0, 0};
        ck_assert_int_eq(red_time_from_civil(&c), parse_ok("2025-01-02"));
        c = (red_civil_t){2025, 1, 1, 0, 0, -1, 0};
        ck_assert_int_eq(red_time_from_civil(&c),
                         parse_ok("2024-12-31T23:59:59Z"));
        c = (red_civil_t){2025, 1, 1, 0, 0, 0, 1500000};
        ck_assert_int_eq(red_time_from_civil(&c),
                         parse_ok("2025-01-01T00:00:01.5Z"));
        c = (red_civil_t){1969, 12, 31, 23, 59, 59, 999999};
        ck_assert_int_eq(red_time_from_civil(&c), -1);

        red_time_to_civil(INT64_C(1762432496123456), &c);
        ck_assert_int_eq(c.year, 2025);
        ck_assert_int_eq(c.month, 11);
        ck_assert_int_eq(c.day, 6);
        ck_assert_int_eq(c.hour, 12);
        ck_assert_int_eq(c.minute, 34);
        ck_assert_int_eq(c.second, 56);
        ck_assert_int_eq(c.usec, 123456);
}
END_TEST

START_TEST(test_weekday)
{
        ck_assert_int_eq(red_time_weekday(parse_ok("2025-11-06")), 4); /* Thu */
        ck_assert_int_eq(
                red_time_weekday(parse_ok("2025-11-09T23:59:59.999999Z")), 7);
        ck_assert_int_eq(red_time_weekday(parse_ok("2025-11-10")), 1);
        ck_assert_int_eq(red_time_weekday(parse_ok("2021-01-01")), 5); /* Fri */
        ck_assert_int_eq(red_time_weekday(0), 4);
        ck_assert_int_eq(red_time_weekday(-1), 3);
        ck_assert_int_eq(red_time_weekday(parse_ok("1969-12-29")), 1);
        ck_assert_int_eq(red_time_weekday(parse_ok("2000-01-01")), 6);
}
END_TEST

START_TEST(test_leap_helpers)
{
        ck_assert(red_time_is_leap_year(2024));
        ck_assert(red_time_is_leap_year(2000));
        ck_assert(red_time_is_leap_year(0));
        ck_assert(!red_time_is_leap_year(2023));
        ck_assert(!red_time_is_leap_year(2100));
        ck_assert(!red_time_is_leap_year(1900));
        ck_assert_int_eq(red_time_days_in_month(2024, 2), 29);
        ck_assert_int_eq(red_time_days_in_month(2100, 2), 28);
        ck_assert_int_eq(red_time_days_in_month(2025, 4), 30);
        ck_assert_int_eq(red_time_days_in_month(2025, 12), 31);
        ck_assert_int_eq(red_time_days_in_month(2025, 0), 0);
        ck_assert_int_eq(red_time_days_in_month(2025, 13), 0);
        /* day numbers from Python's datetime.date arithmetic */
        ck_assert_int_eq(red_time_days_from_civil(1970, 1, 1), 0);
        ck_assert_int_eq(red_time_days_from_civil(1969, 12, 31), -1);
        ck_assert_int_eq(red_time_days_from_civil(2000, 3, 1), 11017);
        ck_assert_int_eq(red_time_days_from_civil(2026, 3, 29), 20541);
        ck_assert_int_eq(red_time_days_from_civil(1, 1, 1), -719162);
        ck_assert_int_eq(red_time_days_from_civil(9999, 12, 31), 2932896);
        /* days count linearly past the month's ends */
        ck_assert_int_eq(red_time_days_from_civil(2024, 3, 0), 19782);
        ck_assert_int_eq(red_time_days_from_civil(2024, 2, 29), 19782);
        ck_assert_int_eq(red_time_days_from_civil(2026, 2, 57), 20541);
}
END_TEST

START_TEST(test_clocks)
{
        red_time_t now = red_time_now();
        int64_t m1 = red_time_mono_us(), m2;

        ck_assert_int_gt(now, parse_ok("2024-01-01"));
        ck_assert_int_lt(now, parse_ok("2100-01-01"));
        m2 = red_time_mono_us();
        ck_assert_int_gt(m1, 0);
        ck_assert_int_ge(m2, m1);
}
END_TEST

static void check_dur(const char *s, int64_t unit, int64_t want)
{
        int64_t v = -7;
        int r = red_time_parse_duration(s, strlen(s), unit, &v);

        ck_assert_msg(r == 0, "duration \"%s\" rejected", s);
        ck_assert_msg(v == want, "duration \"%s\": got %lld, want %lld", s,
                      (long long)v, (long long)want);
}

static void check_dur_bad(const char *s, int64_t unit)
{
        int64_t v = -7;
        int r = red_time_parse_duration(s, strlen(s), unit, &v);

        ck_assert_msg(r == -EINVAL, "duration \"%s\" accepted", s);
        ck_assert_int_eq(v, -7);
}

START_TEST(test_duration)
{
        check_dur("250ms", US, 250000);
        check_dur("5s", US, 5 * US);
        check_dur("2m", US, 120 * US);
        check_dur("1h", US, 3600 * US);
        check_dur("7d", US, 7 * DAY_US);
        check_dur("90d", US, 90 * DAY_US);
        check_dur("2w", US, 14 * DAY_US);
        check_dur("15us", US, 15);
        check_dur("0s", US, 0);
        check_dur("0", US, 0);
        check_dur("007s", US, 7 * US);
        check_dur("10", US, 10 * US);
        check_dur("10", 1000, 10000);
        check_dur("3", DAY_US, 3 * DAY_US);
        check_dur("9223372036854775807", 1, INT64_MAX);
        check_dur("9223372036854775807us", US, INT64_MAX);
        check_dur("106751991d", US, INT64_C(106751991) * DAY_US);

        check_dur_bad("", US);
        check_dur_bad("s", US);
        check_dur_bad("ms", US);
        check_dur_bad("-5s", US);
        check_dur_bad("+5s", US);
        check_dur_bad("5x", US);
        check_dur_bad("5S", US);
        check_dur_bad("5 s", US);
        check_dur_bad(" 5s", US);
        check_dur_bad("5s ", US);
        check_dur_bad("5sec", US);
        check_dur_bad("5mss", US);
        check_dur_bad("1.5h", US);
        check_dur_bad("5s5", US);
        check_dur_bad("1h30m", US);
        /* overflow of the number and of number * unit */
        check_dur_bad("9223372036854775808", 1);
        check_dur_bad("99999999999999999999999s", US);
        check_dur_bad("9223372036854775807ms", US);
        check_dur_bad("106751992d", US);
        check_dur_bad("9223372036855", US);
        /* the default unit must be positive */
        check_dur_bad("5", 0);
        check_dur_bad("5", -1);
}
END_TEST

static Suite *time_suite(void)
{
        Suite *s = suite_create("red_time");
        TCase *tc = tcase_create("core");

        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_parse_basic);
        tcase_add_test(tc, test_parse_fraction);
        tcase_add_test(tc, test_parse_offsets);
        tcase_add_test(tc, test_parse_calendar);
        tcase_add_test(tc, test_parse_leap_second);
        tcase_add_test(tc, test_parse_invalid);
        tcase_add_test(tc, test_parse_len);
        tcase_add_test(tc, test_format);
        tcase_add_test(tc, test_format_dates);
        tcase_add_test(tc, test_round_trip);
        tcase_add_test(tc, test_civil_brute_force);
        tcase_add_test(tc, test_civil_normalise);
        tcase_add_test(tc, test_weekday);
        tcase_add_test(tc, test_leap_helpers);
        tcase_add_test(tc, test_clocks);
        tcase_add_test(tc, test_duration);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(time_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
