/* Unit tests for red_window: calendar window starts and ends, UTC and zoned. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "red_test.h"
#include "red_window.h"

#define H       RED_WINDOW_HOURLY
#define D       RED_WINDOW_DAILY
#define W       RED_WINDOW_WEEKLY
#define M       RED_WINDOW_MONTHLY
#define HOUR_US RED_TIME_US_PER_HOUR
#define DAY_US  RED_TIME_US_PER_DAY

/* start(wt, at) == want_start and end(wt, want_start) == want_end, as text. */
static void check_win(red_window_type_t wt, const char *at,
                      const char *want_start, const char *want_end)
{
        char b1[RED_TIME_FMT_SIZE], b2[RED_TIME_FMT_SIZE];
        red_time_t t = test_ts(at);
        red_time_t start = red_window_start(wt, t);
        red_time_t end = red_window_end(wt, start);
        red_time_t all[RED_WINDOW__CNT];

        ck_assert_msg(strcmp(test_ts_text(start, b1), want_start) == 0,
                      "%s start of %s: got %s, want %s",
                      red_window_type_name(wt), at, b1, want_start);
        ck_assert_msg(strcmp(test_ts_text(end, b2), want_end) == 0,
                      "%s end of %s: got %s, want %s", red_window_type_name(wt),
                      at, b2, want_end);
        /* end() of any instant inside the window is the same boundary */
        ck_assert_int_eq(red_window_end(wt, t), end);
        red_window_starts(t, all);
        ck_assert_int_eq(all[wt], start);
}

START_TEST(test_type_names)
{
        red_window_type_t wt = RED_WINDOW__CNT;
        int i;

        ck_assert_str_eq(red_window_type_name(H), "hourly");
        ck_assert_str_eq(red_window_type_name(D), "daily");
        ck_assert_str_eq(red_window_type_name(W), "weekly");
        ck_assert_str_eq(red_window_type_name(M), "monthly");
        ck_assert_ptr_null(red_window_type_name(RED_WINDOW__CNT));
        ck_assert_ptr_null(red_window_type_name((red_window_type_t)-1));

        ck_assert_int_eq(red_window_type_parse("weekly", &wt), 0);
        ck_assert_int_eq(wt, W);
        for (i = 0; i < RED_WINDOW__CNT; i++) {
                ck_assert_int_eq(
                        red_window_type_parse(
                                red_window_type_name((red_window_type_t)i),
                                &wt),
                        0);
                ck_assert_int_eq(wt, i);
        }
        wt = H;
        ck_assert_int_eq(red_window_type_parse("Daily", &wt), -EINVAL);
        ck_assert_int_eq(red_window_type_parse("DAILY", &wt), -EINVAL);
        ck_assert_int_eq(red_window_type_parse("day", &wt), -EINVAL);
        ck_assert_int_eq(red_window_type_parse("daily ", &wt), -EINVAL);
        ck_assert_int_eq(red_window_type_parse("", &wt), -EINVAL);
        ck_assert_int_eq(red_window_type_parse("yearly", &wt), -EINVAL);
        ck_assert_int_eq(red_window_type_parse(NULL, &wt), -EINVAL);
        ck_assert_int_eq(wt, H);
}
END_TEST

START_TEST(test_ordinary)
{
        const char *at = "2025-11-06T12:34:56.123456Z"; /* a Thursday */

        check_win(H, at, "2025-11-06T12:00:00Z", "2025-11-06T13:00:00Z");
        check_win(D, at, "2025-11-06T00:00:00Z", "2025-11-07T00:00:00Z");
        check_win(W, at, "2025-11-03T00:00:00Z", "2025-11-10T00:00:00Z");
        check_win(M, at, "2025-11-01T00:00:00Z", "2025-12-01T00:00:00Z");
}
END_TEST

START_TEST(test_month_end)
{
        const char *at = "2025-01-31T23:59:59.999999Z";

        check_win(H, at, "2025-01-31T23:00:00Z", "2025-02-01T00:00:00Z");
        check_win(D, at, "2025-01-31T00:00:00Z", "2025-02-01T00:00:00Z");
        check_win(W, at, "2025-01-27T00:00:00Z", "2025-02-03T00:00:00Z");
        check_win(M, at, "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z");
        check_win(M, "2025-04-30T12:00:00Z", "2025-04-01T00:00:00Z",
                  "2025-05-01T00:00:00Z");
        check_win(M, "2025-06-15T00:00:00Z", "2025-06-01T00:00:00Z",
                  "2025-07-01T00:00:00Z");
        check_win(M, "2025-08-31T23:00:00Z", "2025-08-01T00:00:00Z",
                  "2025-09-01T00:00:00Z");
}
END_TEST

START_TEST(test_year_end)
{
        const char *at = "2025-12-31T23:30:00Z"; /* a Wednesday */

        check_win(H, at, "2025-12-31T23:00:00Z", "2026-01-01T00:00:00Z");
        check_win(D, at, "2025-12-31T00:00:00Z", "2026-01-01T00:00:00Z");
        check_win(W, at, "2025-12-29T00:00:00Z", "2026-01-05T00:00:00Z");
        check_win(M, at, "2025-12-01T00:00:00Z", "2026-01-01T00:00:00Z");
        check_win(M, "1969-12-31T23:59:59.999999Z", "1969-12-01T00:00:00Z",
                  "1970-01-01T00:00:00Z");
}
END_TEST

START_TEST(test_leap_years)
{
        check_win(D, "2024-02-29T10:00:00Z", "2024-02-29T00:00:00Z",
                  "2024-03-01T00:00:00Z");
        check_win(M, "2024-02-29T10:00:00Z", "2024-02-01T00:00:00Z",
                  "2024-03-01T00:00:00Z");
        check_win(M, "2024-02-01T00:00:00Z", "2024-02-01T00:00:00Z",
                  "2024-03-01T00:00:00Z");
        check_win(D, "2023-02-28T23:59:59Z", "2023-02-28T00:00:00Z",
                  "2023-03-01T00:00:00Z");
        check_win(M, "2023-02-14T00:00:00Z", "2023-02-01T00:00:00Z",
                  "2023-03-01T00:00:00Z");
        check_win(D, "2100-02-28T12:00:00Z", "2100-02-28T00:00:00Z",
                  "2100-03-01T00:00:00Z");
        check_win(M, "2100-02-28T12:00:00Z", "2100-02-01T00:00:00Z",
                  "2100-03-01T00:00:00Z");
        check_win(D, "2000-02-28T12:00:00Z", "2000-02-28T00:00:00Z",
                  "2000-02-29T00:00:00Z");
        check_win(M, "2000-02-29T23:59:59Z", "2000-02-01T00:00:00Z",
                  "2000-03-01T00:00:00Z");
        /* window lengths in days */
        ck_assert_int_eq(red_window_end(M, test_ts("2024-02-01")) -
                                 test_ts("2024-02-01"),
                         29 * DAY_US);
        ck_assert_int_eq(red_window_end(M, test_ts("2100-02-01")) -
                                 test_ts("2100-02-01"),
                         28 * DAY_US);
        ck_assert_int_eq(red_window_end(M, test_ts("2000-02-01")) -
                                 test_ts("2000-02-01"),
                         29 * DAY_US);
        ck_assert_int_eq(red_window_end(M, test_ts("2023-02-01")) -
                                 test_ts("2023-02-01"),
                         28 * DAY_US);
}
END_TEST

START_TEST(test_iso_week)
{
        /* 2021-01-01 is a Friday: its ISO week starts in the previous year */
        check_win(W, "2021-01-01T08:00:00Z", "2020-12-28T00:00:00Z",
                  "2021-01-04T00:00:00Z");
        check_win(W, "2021-01-03T23:59:59.999999Z", "2020-12-28T00:00:00Z",
                  "2021-01-04T00:00:00Z");
        check_win(W, "2021-01-04T00:00:00Z", "2021-01-04T00:00:00Z",
                  "2021-01-11T00:00:00Z");
        /* Monday in the previous month */
        check_win(W, "2025-03-02T12:00:00Z", "2025-02-24T00:00:00Z",
                  "2025-03-03T00:00:00Z");
        check_win(W, "2024-03-01T00:00:00Z", "2024-02-26T00:00:00Z",
                  "2024-03-04T00:00:00Z");
        /* around and before the epoch (1970-01-01 was a Thursday) */
        check_win(W, "1970-01-01T00:00:00Z", "1969-12-29T00:00:00Z",
                  "1970-01-05T00:00:00Z");
        check_win(W, "1969-12-31T00:00:00Z", "1969-12-29T00:00:00Z",
                  "1970-01-05T00:00:00Z");
        check_win(W, "1969-12-28T23:59:59Z", "1969-12-22T00:00:00Z",
                  "1969-12-29T00:00:00Z");
        /* each day of one week maps to the same Monday */
        for (int i = 0; i < 7; i++) {
                red_time_t t = test_ts("2025-11-10T00:00:00Z") + i * DAY_US + 5;

                ck_assert_int_eq(red_window_start(W, t), test_ts("2025-11-10"));
        }
}
END_TEST

START_TEST(test_boundaries)
{
        static const char *const at[] = {
                "2025-11-06T12:00:00Z", "2025-11-06T00:00:00Z",
                "2025-11-03T00:00:00Z", "2025-11-01T00:00:00Z",
                "2026-01-01T00:00:00Z", "1970-01-01T00:00:00Z",
                "1969-12-01T00:00:00Z", "2024-03-01T00:00:00Z",
        };
        size_t i;
        int wt;

        for (i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
                red_time_t t = test_ts(at[i]);

                for (wt = 0; wt < RED_WINDOW__CNT; wt++) {
                        red_time_t s = red_window_start(wt, t);
                        red_time_t prev = red_window_start(wt, t - 1);

                        /* t - 1 is in the previous window iff t is one */
                        if (s == t) {
                                ck_assert_int_lt(prev, t);
                                ck_assert_int_eq(red_window_end(wt, prev), t);
                        } else {
                                ck_assert_int_eq(prev, s);
                        }
                }
        }
        /* explicit: the instant on the boundary starts the new window */
        ck_assert_int_eq(red_window_start(H, test_ts("2025-11-06T13:00:00Z")),
                         test_ts("2025-11-06T13:00:00Z"));
        ck_assert_int_eq(
                red_window_start(H, test_ts("2025-11-06T13:00:00Z") - 1),
                test_ts("2025-11-06T12:00:00Z"));
        ck_assert_int_eq(red_window_start(D, test_ts("2025-11-07")),
                         test_ts("2025-11-07"));
        ck_assert_int_eq(red_window_start(D, test_ts("2025-11-07") - 1),
                         test_ts("2025-11-06"));
        ck_assert_int_eq(red_window_start(W, test_ts("2025-11-10")),
                         test_ts("2025-11-10"));
        ck_assert_int_eq(red_window_start(W, test_ts("2025-11-10") - 1),
                         test_ts("2025-11-03"));
        ck_assert_int_eq(red_window_start(M, test_ts("2025-12-01")),
                         test_ts("2025-12-01"));
        ck_assert_int_eq(red_window_start(M, test_ts("2025-12-01") - 1),
                         test_ts("2025-11-01"));
        ck_assert_int_eq(red_window_start(M, test_ts("2026-01-01") - 1),
                         test_ts("2025-12-01"));
        /* before the epoch, floor (not truncation) */
        ck_assert_int_eq(red_window_start(H, -1), -HOUR_US);
        ck_assert_int_eq(red_window_start(D, -1), -DAY_US);
        ck_assert_int_eq(red_window_start(H, -HOUR_US), -HOUR_US);
        ck_assert_int_eq(red_window_start(D, -DAY_US), -DAY_US);
}
END_TEST

START_TEST(test_invalid_type)
{
        red_time_t t = test_ts("2025-11-06T12:34:56Z");

        ck_assert_int_eq(
                red_window_start((red_window_type_t)RED_WINDOW__CNT, t), t);
        ck_assert_int_eq(red_window_end((red_window_type_t)99, t), t);
}
END_TEST

/*
 * Check's ck_assert_* records a checkpoint on every call, which is far too
 * slow for a million iterations; these only call into Check on failure.
 */
#define REQUIRE_CMP(a, op, b)                                                  \
        do {                                                                   \
                long long a_ = (a), b_ = (b);                                  \
                if (!(a_ op b_)) {                                             \
                        ck_abort_msg("%s:%d: %s %s %s failed (%lld vs %lld), " \
                                     "t=%lld wt=%d",                           \
                                     __FILE__, __LINE__, #a, #op, #b, a_, b_,  \
                                     (long long)t, wt);                        \
                }                                                              \
        } while (0)
#define REQUIRE_EQ(a, b) REQUIRE_CMP(a, ==, b)
#define REQUIRE_LE(a, b) REQUIRE_CMP(a, <=, b)
#define REQUIRE_LT(a, b) REQUIRE_CMP(a, <, b)

/* A million pseudo-random instants in 1970..2100. */
START_TEST(test_random_instants)
{
        const red_time_t lo = 0;
        const red_time_t hi = test_ts("2100-12-31T23:59:59.999999Z");
        uint64_t x = 0x243f6a8885a308d3u;
        int i;

        for (i = 0; i < 1000000; i++) {
                red_time_t t, all[RED_WINDOW__CNT];
                red_civil_t c, sc;
                int wt;

                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                t = lo + (red_time_t)(x % (uint64_t)(hi - lo));
                if (i % 4 == 0) {
                        t -= t % HOUR_US; /* land on hour boundaries often */
                }
                red_time_to_civil(t, &c);
                red_window_starts(t, all);
                for (wt = 0; wt < RED_WINDOW__CNT; wt++) {
                        red_time_t s = red_window_start(wt, t);
                        red_time_t e = red_window_end(wt, s);

                        REQUIRE_EQ(all[wt], s);
                        REQUIRE_LE(s, t);
                        REQUIRE_LT(t, e);
                        REQUIRE_EQ(red_window_start(wt, e), e);
                        REQUIRE_EQ(red_window_start(wt, e - 1), s);
                        red_time_to_civil(s, &sc);
                        REQUIRE_EQ(sc.minute, 0);
                        REQUIRE_EQ(sc.second, 0);
                        REQUIRE_EQ(sc.usec, 0);
                        switch (wt) {
                        case RED_WINDOW_HOURLY:
                                REQUIRE_EQ(e - s, HOUR_US);
                                REQUIRE_EQ(sc.hour, c.hour);
                                REQUIRE_EQ(sc.day, c.day);
                                break;
                        case RED_WINDOW_DAILY:
                                REQUIRE_EQ(e - s, DAY_US);
                                REQUIRE_EQ(sc.hour, 0);
                                REQUIRE_EQ(sc.day, c.day);
                                REQUIRE_EQ(sc.month, c.month);
                                break;
                        case RED_WINDOW_WEEKLY:
                                REQUIRE_EQ(e - s, 7 * DAY_US);
                                REQUIRE_EQ(sc.hour, 0);
                                REQUIRE_EQ(red_time_weekday(s), 1);
                                REQUIRE_EQ(t - s < 7 * DAY_US, 1);
                                break;
                        case RED_WINDOW_MONTHLY:
                                REQUIRE_EQ(e - s,
                                           DAY_US * red_time_days_in_month(
                                                            c.year, c.month));
                                REQUIRE_EQ(sc.hour, 0);
                                REQUIRE_EQ(sc.day, 1);
                                REQUIRE_EQ(sc.month, c.month);
                                REQUIRE_EQ(sc.year, c.year);
                                break;
                        }
                }
        }
}
END_TEST

/* --- windows in a time zone ---------------------------------------------- */

static red_tz_t *load_zone(const char *name)
{
        char err[512];
        red_tz_t *tz;

        unsetenv("TZDIR"); /* the system's tzdata */
        tz = red_tz_load(name, err, sizeof(err));
        ck_assert_msg(tz != NULL, "loading %s: %s", name, err);
        return tz;
}

/*
 * The zoned window of @p at is [want_start, want_end), whichever function
 * is asked, and its neighbours touch it.
 */
static void check_win_tz(const red_tz_t *tz, red_window_type_t wt,
                         const char *at, const char *want_start,
                         const char *want_end)
{
        char b1[RED_TIME_FMT_SIZE], b2[RED_TIME_FMT_SIZE];
        red_time_t t = test_ts(at);
        red_time_t start = red_window_start_tz(wt, t, tz);
        red_time_t end = red_window_end_tz(wt, start, tz);
        red_time_t all[RED_WINDOW__CNT];

        ck_assert_msg(strcmp(test_ts_text(start, b1), want_start) == 0,
                      "%s %s start of %s: got %s, want %s", red_tz_name(tz),
                      red_window_type_name(wt), at, b1, want_start);
        ck_assert_msg(strcmp(test_ts_text(end, b2), want_end) == 0,
                      "%s %s end of %s: got %s, want %s", red_tz_name(tz),
                      red_window_type_name(wt), at, b2, want_end);
        ck_assert_int_eq(red_window_end_tz(wt, t, tz), end);
        red_window_starts_tz(t, tz, all);
        ck_assert_int_eq(all[wt], start);
        ck_assert_int_eq(red_window_start_tz(wt, start, tz), start);
        ck_assert_int_eq(red_window_start_tz(wt, end - 1, tz), start);
        ck_assert_int_eq(red_window_start_tz(wt, end, tz), end);
        ck_assert_int_eq(red_window_end_tz(wt, start - 1, tz), start);
}

typedef struct zoned_case_s {
        const char *zone;
        red_window_type_t wt;
        const char *at, *start, *end;
} zoned_case_t;

/*
 * Expected windows computed independently by brute force with Python 3.11's
 * zoneinfo (Debian 12, tzdata 2025b): for every minute around the instant,
 * the local time floored to the unit is the label; a window starts at the
 * first minute whose label exceeds every earlier one.
 */
static const zoned_case_t zoned_cases[] = {
        /* a 23-hour and a 25-hour day */
        {"Europe/Berlin", D, "2026-03-29T12:00:00Z", "2026-03-28T23:00:00Z",
         "2026-03-29T22:00:00Z"},
        {"Europe/Berlin", D, "2026-10-25T12:00:00Z", "2026-10-24T22:00:00Z",
         "2026-10-25T23:00:00Z"},
        /* ISO weeks and months across the changes */
        {"Europe/Berlin", W, "2026-03-27T12:00:00Z", "2026-03-22T23:00:00Z",
         "2026-03-29T22:00:00Z"},
        {"Europe/Berlin", W, "2026-10-22T12:00:00Z", "2026-10-18T22:00:00Z",
         "2026-10-25T23:00:00Z"},
        {"Europe/Berlin", M, "2026-03-15T00:00:00Z", "2026-02-28T23:00:00Z",
         "2026-03-31T22:00:00Z"},
        {"Europe/Berlin", M, "2026-10-15T00:00:00Z", "2026-09-30T22:00:00Z",
         "2026-10-31T23:00:00Z"},
        /* the repeated hour 02:00-03:00 is one window of two hours */
        {"Europe/Berlin", H, "2026-10-25T01:30:00Z", "2026-10-25T00:00:00Z",
         "2026-10-25T02:00:00Z"},
        {"Europe/Berlin", H, "2026-10-25T00:00:00Z", "2026-10-25T00:00:00Z",
         "2026-10-25T02:00:00Z"},
        {"Europe/Berlin", H, "2026-10-25T02:00:00Z", "2026-10-25T02:00:00Z",
         "2026-10-25T03:00:00Z"},
        /* the skipped hour 02:00-03:00 has no window */
        {"Europe/Berlin", H, "2026-03-29T00:30:00Z", "2026-03-29T00:00:00Z",
         "2026-03-29T01:00:00Z"},
        {"Europe/Berlin", H, "2026-03-29T01:00:00Z", "2026-03-29T01:00:00Z",
         "2026-03-29T02:00:00Z"},
        /* 2027 (issue 20's acceptance: the 2026 and 2027 changes) */
        {"Europe/Berlin", D, "2027-03-28T12:00:00Z", "2027-03-27T23:00:00Z",
         "2027-03-28T22:00:00Z"},
        {"Europe/Berlin", D, "2027-10-31T12:00:00Z", "2027-10-30T22:00:00Z",
         "2027-10-31T23:00:00Z"},
        {"Europe/Berlin", H, "2027-10-31T00:30:00Z", "2027-10-31T00:00:00Z",
         "2027-10-31T02:00:00Z"},
        {"America/New_York", D, "2027-03-14T12:00:00Z", "2027-03-14T05:00:00Z",
         "2027-03-15T04:00:00Z"},
        {"America/New_York", D, "2027-11-07T12:00:00Z", "2027-11-07T04:00:00Z",
         "2027-11-08T05:00:00Z"},
        {"America/New_York", H, "2027-11-07T06:10:00Z", "2027-11-07T05:00:00Z",
         "2027-11-07T07:00:00Z"},
        {"Australia/Lord_Howe", H, "2027-04-03T15:10:00Z",
         "2027-04-03T14:00:00Z", "2027-04-03T15:30:00Z"},
        {"Australia/Lord_Howe", H, "2027-10-02T15:40:00Z",
         "2027-10-02T15:30:00Z", "2027-10-02T16:00:00Z"},
        {"Australia/Lord_Howe", D, "2027-04-03T20:00:00Z",
         "2027-04-03T13:00:00Z", "2027-04-04T13:30:00Z"},
        {"Australia/Lord_Howe", D, "2027-10-02T20:00:00Z",
         "2027-10-02T13:30:00Z", "2027-10-03T13:00:00Z"},
        {"Asia/Kathmandu", H, "2027-01-01T00:00:00Z", "2026-12-31T23:15:00Z",
         "2027-01-01T00:15:00Z"},
        {"Asia/Kathmandu", D, "2027-01-01T00:00:00Z", "2026-12-31T18:15:00Z",
         "2027-01-01T18:15:00Z"},
        {"Asia/Kathmandu", M, "2027-01-01T00:00:00Z", "2026-12-31T18:15:00Z",
         "2027-01-31T18:15:00Z"},
        /* after the tabulated years: the footer rule */
        {"Europe/Berlin", D, "2100-03-28T12:00:00Z", "2100-03-27T23:00:00Z",
         "2100-03-28T22:00:00Z"},
        {"Europe/Berlin", D, "2100-10-31T12:00:00Z", "2100-10-30T22:00:00Z",
         "2100-10-31T23:00:00Z"},
        /* +05:45: hours start at :15 UTC, days at 18:15 UTC */
        {"Asia/Kathmandu", H, "2026-06-01T12:20:00Z", "2026-06-01T12:15:00Z",
         "2026-06-01T13:15:00Z"},
        {"Asia/Kathmandu", H, "2026-06-01T12:10:00Z", "2026-06-01T11:15:00Z",
         "2026-06-01T12:15:00Z"},
        {"Asia/Kathmandu", D, "2026-06-01T12:00:00Z", "2026-05-31T18:15:00Z",
         "2026-06-01T18:15:00Z"},
        {"Asia/Kathmandu", M, "2026-06-01T12:00:00Z", "2026-05-31T18:15:00Z",
         "2026-06-30T18:15:00Z"},
        /* Lord Howe's 30-minute changes: a 90-minute and a 30-minute hour */
        {"Australia/Lord_Howe", H, "2026-04-04T15:10:00Z",
         "2026-04-04T14:00:00Z", "2026-04-04T15:30:00Z"},
        {"Australia/Lord_Howe", H, "2026-04-04T14:00:00Z",
         "2026-04-04T14:00:00Z", "2026-04-04T15:30:00Z"},
        {"Australia/Lord_Howe", H, "2026-04-04T15:30:00Z",
         "2026-04-04T15:30:00Z", "2026-04-04T16:30:00Z"},
        {"Australia/Lord_Howe", H, "2026-10-03T15:00:00Z",
         "2026-10-03T14:30:00Z", "2026-10-03T15:30:00Z"},
        {"Australia/Lord_Howe", H, "2026-10-03T15:40:00Z",
         "2026-10-03T15:30:00Z", "2026-10-03T16:00:00Z"},
        {"Australia/Lord_Howe", D, "2026-04-04T20:00:00Z",
         "2026-04-04T13:00:00Z", "2026-04-05T13:30:00Z"},
        {"Australia/Lord_Howe", D, "2026-10-03T20:00:00Z",
         "2026-10-03T13:30:00Z", "2026-10-04T13:00:00Z"},
        /* Santiago: no midnight on 2026-09-06, the day starts at the change */
        {"America/Santiago", D, "2026-09-06T12:00:00Z", "2026-09-06T04:00:00Z",
         "2026-09-07T03:00:00Z"},
        {"America/Santiago", D, "2026-04-04T12:00:00Z", "2026-04-04T03:00:00Z",
         "2026-04-05T04:00:00Z"},
        /* Havana: midnight twice on 2026-11-01, the day starts at the first */
        {"America/Havana", D, "2026-11-01T12:00:00Z", "2026-11-01T04:00:00Z",
         "2026-11-02T05:00:00Z"},
        {"America/Havana", D, "2026-03-08T12:00:00Z", "2026-03-08T05:00:00Z",
         "2026-03-09T04:00:00Z"},
        {"America/New_York", D, "2026-03-08T12:00:00Z", "2026-03-08T05:00:00Z",
         "2026-03-09T04:00:00Z"},
        {"America/New_York", W, "2026-11-04T12:00:00Z", "2026-11-02T05:00:00Z",
         "2026-11-09T05:00:00Z"},
        /*
         * Chatham falls back from 03:45 to 02:45: 02:45-03:00 comes again
         * after 03:00 was reached and stays in hour 03, two hours long
         */
        {"Pacific/Chatham", H, "2026-04-04T14:05:00Z", "2026-04-04T13:15:00Z",
         "2026-04-04T15:15:00Z"},
        {"Pacific/Chatham", H, "2026-04-04T13:50:00Z", "2026-04-04T13:15:00Z",
         "2026-04-04T15:15:00Z"},
        {"Pacific/Chatham", H, "2026-04-04T15:20:00Z", "2026-04-04T15:15:00Z",
         "2026-04-04T16:15:00Z"},
        {"Pacific/Chatham", D, "2026-04-04T14:05:00Z", "2026-04-04T10:15:00Z",
         "2026-04-05T11:15:00Z"},
        /* Samoa skipped 2011-12-30: the 29th ends where the 31st starts */
        {"Pacific/Apia", D, "2011-12-29T12:00:00Z", "2011-12-29T10:00:00Z",
         "2011-12-30T10:00:00Z"},
        {"Pacific/Apia", D, "2011-12-30T12:00:00Z", "2011-12-30T10:00:00Z",
         "2011-12-31T10:00:00Z"},
};

START_TEST(test_zoned_cases)
{
        for (size_t i = 0; i < sizeof(zoned_cases) / sizeof(zoned_cases[0]);
             i++) {
                const zoned_case_t *c = &zoned_cases[i];
                red_tz_t *tz = load_zone(c->zone);

                check_win_tz(tz, c->wt, c->at, c->start, c->end);
                red_tz_destroy(tz);
        }
}
END_TEST

/* end - start of the zoned window of type @p wt that contains @p at. */
static red_time_t zoned_len(const red_tz_t *tz, red_window_type_t wt,
                            const char *at)
{
        red_time_t s = red_window_start_tz(wt, test_ts(at), tz);

        return red_window_end_tz(wt, s, tz) - s;
}

START_TEST(test_zoned_lengths)
{
        red_tz_t *berlin = load_zone("Europe/Berlin");
        red_tz_t *howe = load_zone("Australia/Lord_Howe");

        ck_assert_int_eq(zoned_len(berlin, D, "2026-03-29T12:00Z"),
                         23 * HOUR_US);
        ck_assert_int_eq(zoned_len(berlin, D, "2026-10-25T12:00Z"),
                         25 * HOUR_US);
        ck_assert_int_eq(zoned_len(berlin, D, "2026-06-01T12:00Z"), DAY_US);
        ck_assert_int_eq(zoned_len(berlin, W, "2026-03-25T12:00Z"),
                         7 * DAY_US - HOUR_US);
        ck_assert_int_eq(zoned_len(berlin, W, "2026-10-21T12:00Z"),
                         7 * DAY_US + HOUR_US);
        ck_assert_int_eq(zoned_len(berlin, M, "2026-03-10T12:00Z"),
                         31 * DAY_US - HOUR_US);
        ck_assert_int_eq(zoned_len(berlin, M, "2026-10-10T12:00Z"),
                         31 * DAY_US + HOUR_US);
        ck_assert_int_eq(zoned_len(berlin, M, "2026-02-10T12:00Z"),
                         28 * DAY_US);
        ck_assert_int_eq(zoned_len(berlin, H, "2026-10-25T00:30Z"),
                         2 * HOUR_US);
        ck_assert_int_eq(zoned_len(howe, H, "2026-04-04T14:30Z"),
                         HOUR_US + HOUR_US / 2);
        ck_assert_int_eq(zoned_len(howe, H, "2026-10-03T15:45Z"), HOUR_US / 2);
        ck_assert_int_eq(zoned_len(howe, D, "2026-04-05T00:00Z"),
                         DAY_US + HOUR_US / 2);
        red_tz_destroy(berlin);
        red_tz_destroy(howe);
}
END_TEST

static uint64_t xorshift(uint64_t *x)
{
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        return *x;
}

/* tz == NULL and a loaded "UTC" are exactly the UTC functions. */
START_TEST(test_zoned_utc_equals_utc)
{
        const red_time_t lo = test_ts("1900-01-01T00:00:00Z");
        const red_time_t hi = test_ts("2200-01-01T00:00:00Z");
        red_tz_t *utc = load_zone("UTC");
        uint64_t x = 0x9e3779b97f4a7c15u;
        int i;

        for (i = 0; i < 300000; i++) {
                red_time_t t =
                        lo + (red_time_t)(xorshift(&x) % (uint64_t)(hi - lo));
                red_time_t all[RED_WINDOW__CNT], a0[RED_WINDOW__CNT],
                        a1[RED_WINDOW__CNT];
                int wt;

                if (i % 4 == 0) {
                        t -= t % HOUR_US;
                }
                red_window_starts(t, all);
                red_window_starts_tz(t, NULL, a0);
                red_window_starts_tz(t, utc, a1);
                for (wt = 0; wt < RED_WINDOW__CNT; wt++) {
                        red_time_t s = red_window_start(wt, t);

                        REQUIRE_EQ(red_window_start_tz(wt, t, NULL), s);
                        REQUIRE_EQ(red_window_start_tz(wt, t, utc), s);
                        REQUIRE_EQ(red_window_end_tz(wt, t, NULL),
                                   red_window_end(wt, t));
                        REQUIRE_EQ(red_window_end_tz(wt, t, utc),
                                   red_window_end(wt, t));
                        REQUIRE_EQ(a0[wt], all[wt]);
                        REQUIRE_EQ(a1[wt], all[wt]);
                }
        }
        /* an invalid type returns the instant, as in UTC */
        ck_assert_int_eq(red_window_start_tz(RED_WINDOW__CNT, 12345, utc),
                         12345);
        ck_assert_int_eq(red_window_end_tz((red_window_type_t)99, 12345, utc),
                         12345);
        red_tz_destroy(utc);
}
END_TEST

/*
 * Random instants from local mean time to the footer years in zones with
 * odd offsets and changes: windows tile the timeline, nest, and start on a
 * label boundary unless the clocks jumped over it.
 */
START_TEST(test_zoned_random_instants)
{
        static const char *const zones[] = {
                "Europe/Berlin",  "America/New_York", "Australia/Lord_Howe",
                "Asia/Kathmandu", "America/Santiago", "America/Havana",
                "Pacific/Apia",   "Pacific/Chatham",
        };
        const red_time_t lo = test_ts("1850-01-01T00:00:00Z");
        const red_time_t hi = test_ts("2200-01-01T00:00:00Z");
        uint64_t x = 0x243f6a8885a308d3u;

        for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
                red_tz_t *tz = load_zone(zones[z]);

                for (int i = 0; i < 40000; i++) {
                        red_time_t t = lo + (red_time_t)(xorshift(&x) %
                                                         (uint64_t)(hi - lo));
                        red_time_t all[RED_WINDOW__CNT];
                        int wt;

                        if (i % 4 == 0) {
                                t -= t % HOUR_US;
                        }
                        red_window_starts_tz(t, tz, all);
                        for (wt = 0; wt < RED_WINDOW__CNT; wt++) {
                                red_time_t s = red_window_start_tz(wt, t, tz);
                                red_time_t e = red_window_end_tz(wt, s, tz);
                                red_time_t local =
                                        s + red_tz_offset(tz, s) *
                                                    RED_TIME_US_PER_SEC;
                                red_tz_transition_t tr;

                                REQUIRE_EQ(all[wt], s);
                                REQUIRE_LE(s, t);
                                REQUIRE_LT(t, e);
                                REQUIRE_EQ(red_window_end_tz(wt, t, tz), e);
                                REQUIRE_EQ(red_window_start_tz(wt, s, tz), s);
                                REQUIRE_EQ(red_window_start_tz(wt, e, tz), e);
                                REQUIRE_EQ(red_window_start_tz(wt, e - 1, tz),
                                           s);
                                /* nesting: every boundary is an hour's, week
                                 * and month boundaries are days' */
                                REQUIRE_EQ(red_window_start_tz(H, s, tz), s);
                                if (wt == W || wt == M) {
                                        REQUIRE_EQ(
                                                red_window_start_tz(D, s, tz),
                                                s);
                                }
                                /* local start on the label, or at a jump */
                                if (!red_tz_prev_transition(tz, s, &tr) ||
                                    tr.at != s) {
                                        REQUIRE_EQ(red_window_start(wt, local),
                                                   local);
                                }
                        }
                }
                red_tz_destroy(tz);
        }
}
END_TEST

static Suite *window_suite(void)
{
        Suite *s = suite_create("red_window");
        TCase *tc = tcase_create("core");

        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, test_type_names);
        tcase_add_test(tc, test_ordinary);
        tcase_add_test(tc, test_month_end);
        tcase_add_test(tc, test_year_end);
        tcase_add_test(tc, test_leap_years);
        tcase_add_test(tc, test_iso_week);
        tcase_add_test(tc, test_boundaries);
        tcase_add_test(tc, test_invalid_type);
        tcase_add_test(tc, test_random_instants);
        tcase_add_test(tc, test_zoned_cases);
        tcase_add_test(tc, test_zoned_lengths);
        tcase_add_test(tc, test_zoned_utc_equals_utc);
        tcase_add_test(tc, test_zoned_random_instants);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(window_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
