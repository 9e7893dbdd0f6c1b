/* red_time - UTC microsecond times: ISO-8601 parse/format, civil dates. */
#include "red_time.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/*
 * ------------------------------------------------------------------------
 * Integer helpers
 * ------------------------------------------------------------------------
 */

/* Division rounding towards minus infinity (C rounds towards zero). b > 0. */
static inline int64_t floor_div(int64_t a, int64_t b)
{
        int64_t q = a / b;

        if ((a % b) < 0) {
                q--;
        }
        return q;
}

/* The matching non-negative remainder, 0 <= r < b. b > 0. */
static inline int64_t floor_mod(int64_t a, int64_t b)
{
        int64_t r = a % b;

        if (r < 0) {
                r += b;
        }
        return r;
}

/*
 * ------------------------------------------------------------------------
 * Calendar
 *
 * Days are counted from 1970-01-01. Both conversions shift the year so it
 * starts on March 1st: the leap day then falls at the very end of the
 * shifted year, and months March..January have lengths that follow the
 * repeating 31,30,31,30,31 pattern, so the day of the shifted year is a
 * linear function of the month ((153 * mp + 2) / 5). Years are grouped in
 * 400-year eras of exactly 146097 days, which makes both directions pure
 * integer arithmetic with no loops or tables.
 * ------------------------------------------------------------------------
 */

/* Days from 0000-03-01 to 1970-01-01. */
#define EPOCH_SHIFT_DAYS INT64_C(719468)
#define DAYS_PER_ERA     INT64_C(146097)

int64_t red_time_days_from_civil(int64_t y, int m, int d)
{
        int64_t era, yoe, doy, doe;
        int mp;

        if (m <= 2) {
                y--;
        }
        era = floor_div(y, 400);
        yoe = y - era * 400;              /* 0..399 */
        mp = m > 2 ? m - 3 : m + 9;       /* March = 0 .. February = 11 */
        doy = (153 * mp + 2) / 5 + d - 1; /* 0..365 */
        doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; /* 0..146096 */
        return era * DAYS_PER_ERA + doe - EPOCH_SHIFT_DAYS;
}

static void civil_from_days(int64_t z, int64_t *yp, int *mp_out, int *dp)
{
        int64_t era, doe, yoe, doy, y;
        int mp, m;

        z += EPOCH_SHIFT_DAYS;
        era = floor_div(z, DAYS_PER_ERA);
        doe = z - era * DAYS_PER_ERA; /* 0..146096 */
        /* Remove the leap days before doe so a plain /365 gives the year. */
        yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        mp = (int)((5 * doy + 2) / 153);
        m = mp < 10 ? mp + 3 : mp - 9;
        y = yoe + era * 400 + (m <= 2 ? 1 : 0);
        *yp = y;
        *mp_out = m;
        *dp = (int)(doy - (153 * mp + 2) / 5 + 1);
}

bool red_time_is_leap_year(int year)
{
        return (year % 4 == 0) && (year % 100 != 0 || year % 400 == 0);
}

int red_time_days_in_month(int year, int month)
{
        static const int dim[12] = {31, 28, 31, 30, 31, 30,
                                    31, 31, 30, 31, 30, 31};

        if (month < 1 || month > 12) {
                return 0;
        }
        if (month == 2 && red_time_is_leap_year(year)) {
                return 29;
        }
        return dim[month - 1];
}

red_time_t red_time_from_civil(const red_civil_t *c)
{
        int64_t m0 = (int64_t)c->month - 1;
        int64_t y = (int64_t)c->year + floor_div(m0, 12);
        int m = (int)floor_mod(m0, 12) + 1;
        int64_t days =
                red_time_days_from_civil(y, m, 1) + ((int64_t)c->day - 1);
        int64_t secs =
                ((days * 24 + c->hour) * 60 + c->minute) * 60 + c->second;

        return secs * RED_TIME_US_PER_SEC + c->usec;
}

void red_time_to_civil(red_time_t t, red_civil_t *out)
{
        int64_t days = floor_div(t, RED_TIME_US_PER_DAY);
        /* Not t - days * day: that product overflows near INT64_MIN. */
        int64_t tod = floor_mod(t, RED_TIME_US_PER_DAY);
        int64_t secs = tod / RED_TIME_US_PER_SEC;
        int64_t y;

        civil_from_days(days, &y, &out->month, &out->day);
        out->year = (int)y;
        out->hour = (int)(secs / 3600);
        out->minute = (int)(secs / 60 % 60);
        out->second = (int)(secs % 60);
        out->usec = (int)(tod % RED_TIME_US_PER_SEC);
}

int red_time_weekday(red_time_t t)
{
        int64_t days = floor_div(t, RED_TIME_US_PER_DAY);

        /* 1970-01-01 was a Thursday (4). */
        return (int)floor_mod(days + 3, 7) + 1;
}

/*
 * ------------------------------------------------------------------------
 * Parsing (hot path: every event carries a timestamp)
 * ------------------------------------------------------------------------
 */

/* Two ASCII digits at s into *v; false if either is not a digit. */
static inline bool digits2(const char *s, int *v)
{
        unsigned a = (unsigned)(unsigned char)s[0] - '0';
        unsigned b = (unsigned)(unsigned char)s[1] - '0';

        if (a > 9 || b > 9) {
                return false;
        }
        *v = (int)(a * 10 + b);
        return true;
}

static inline bool digits4(const char *s, int *v)
{
        int hi, lo;

        if (!digits2(s, &hi) || !digits2(s + 2, &lo)) {
                return false;
        }
        *v = hi * 100 + lo;
        return true;
}

int red_time_parse(const char *s, size_t len, red_time_t *out)
{
        static const int32_t scale[7] = {1000000, 100000, 10000, 1000,
                                         100,     10,     1};
        int year, month, day, hour = 0, minute = 0, second = 0;
        int32_t usec = 0;
        int off_min = 0;
        bool leap = false;
        size_t p;
        int64_t days, secs;
        red_time_t t;

        if (!s || !out || len < 10) {
                return -EINVAL;
        }
        if (!digits4(s, &year) || s[4] != '-' || !digits2(s + 5, &month) ||
            s[7] != '-' || !digits2(s + 8, &day)) {
                return -EINVAL;
        }
        if (month < 1 || month > 12 || day < 1 ||
            day > red_time_days_in_month(year, month)) {
                return -EINVAL;
        }
        p = 10;
        if (p == len) {
                goto done;
        }

        if (s[p] != 'T' && s[p] != 't' && s[p] != ' ') {
                return -EINVAL;
        }
        p++;
        if (len - p < 5 || !digits2(s + p, &hour) || s[p + 2] != ':' ||
            !digits2(s + p + 3, &minute)) {
                return -EINVAL;
        }
        if (hour > 23 || minute > 59) {
                return -EINVAL;
        }
        p += 5;

        if (p < len && s[p] == ':') {
                if (len - p < 3 || !digits2(s + p + 1, &second) ||
                    second > 60) {
                        return -EINVAL;
                }
                p += 3;
                if (p < len && s[p] == '.') {
                        size_t start = ++p;
                        size_t n;

                        while (p < len &&
                               (unsigned)(unsigned char)s[p] - '0' <= 9) {
                                if (p - start < 6) {
                                        usec = usec * 10 + (s[p] - '0');
                                }
                                p++;
                        }
                        n = p - start;
                        if (n == 0 || n > 9) {
                                return -EINVAL;
                        }
                        if (n < 6) {
                                usec *= scale[n];
                        }
                }
        }

        if (p < len) {
                char c = s[p++];

                if (c == 'Z' || c == 'z') {
                        /* UTC */
                } else if (c == '+' || c == '-') {
                        int oh, om = 0;

                        if (len - p < 2 || !digits2(s + p, &oh)) {
                                return -EINVAL;
                        }
                        p += 2;
                        if (p < len) {
                                if (s[p] == ':') {
                                        p++;
                                }
                                if (len - p < 2 || !digits2(s + p, &om)) {
                                        return -EINVAL;
                                }
                                p += 2;
                        }
                        if (om > 59 || oh * 60 + om > 18 * 60) {
                                return -EINVAL;
                        }
                        off_min = c == '-' ? -(oh * 60 + om) : oh * 60 + om;
                } else {
                        return -EINVAL;
                }
                if (p != len) {
                        return -EINVAL;
                }
        }

        if (second == 60) {
                leap = true;
                second = 59;
                usec = 999999;
        }

done:
        days = red_time_days_from_civil(year, month, day);
        secs = ((days * 24 + hour) * 60 + minute - off_min) * 60 + second;
        t = secs * RED_TIME_US_PER_SEC + usec;
        if (leap &&
            floor_mod(t, RED_TIME_US_PER_DAY) != RED_TIME_US_PER_DAY - 1) {
                /* :60 that is not 23:59:60 UTC cannot be a leap second. */
                return -EINVAL;
        }
        *out = t;
        return 0;
}

/*
 * ------------------------------------------------------------------------
 * Formatting
 * ------------------------------------------------------------------------
 */

static inline char *put2(char *p, int v)
{
        p[0] = (char)('0' + v / 10);
        p[1] = (char)('0' + v % 10);
        return p + 2;
}

/* Four digits for 0..9999, else ISO-8601 expanded form (sign, 6+ digits). */
static char *put_year(char *p, int y)
{
        if (y >= 0 && y <= 9999) {
                p = put2(p, y / 100);
                return put2(p, y % 100);
        }
        return p + snprintf(p, 16, "%+07d", y);
}

/* Copies the n-byte text in tmp to buf like snprintf would; returns n. */
static size_t emit(char *buf, size_t size, const char *tmp, size_t n)
{
        if (size > 0) {
                size_t c = n < size ? n : size - 1;

                memcpy(buf, tmp, c);
                buf[c] = '\0';
        }
        return n;
}

size_t red_time_format(red_time_t t, char *buf, size_t size)
{
        char tmp[RED_TIME_FMT_SIZE + 8];
        char *p = tmp;
        red_civil_t c;

        red_time_to_civil(t, &c);
        p = put_year(p, c.year);
        *p++ = '-';
        p = put2(p, c.month);
        *p++ = '-';
        p = put2(p, c.day);
        *p++ = 'T';
        p = put2(p, c.hour);
        *p++ = ':';
        p = put2(p, c.minute);
        *p++ = ':';
        p = put2(p, c.second);
        if (c.usec != 0) {
                *p++ = '.';
                p = put2(p, c.usec / 10000);
                p = put2(p, c.usec / 100 % 100);
                p = put2(p, c.usec % 100);
        }
        *p++ = 'Z';
        return emit(buf, size, tmp, (size_t)(p - tmp));
}

static size_t format_ymd(red_time_t t, char *buf, size_t size, char sep,
                         bool with_day)
{
        char tmp[RED_TIME_FMT_SIZE];
        char *p = tmp;
        red_civil_t c;

        red_time_to_civil(t, &c);
        p = put_year(p, c.year);
        *p++ = sep;
        p = put2(p, c.month);
        if (with_day) {
                *p++ = sep;
                p = put2(p, c.day);
        }
        return emit(buf, size, tmp, (size_t)(p - tmp));
}

size_t red_time_format_date(red_time_t t, char *buf, size_t size)
{
        return format_ymd(t, buf, size, '-', true);
}

size_t red_time_format_day_suffix(red_time_t t, char *buf, size_t size)
{
        return format_ymd(t, buf, size, '_', true);
}

size_t red_time_format_month_suffix(red_time_t t, char *buf, size_t size)
{
        return format_ymd(t, buf, size, '_', false);
}

/*
 * ------------------------------------------------------------------------
 * Clocks
 * ------------------------------------------------------------------------
 */

static int64_t clock_us(clockid_t id)
{
        struct timespec ts;

        if (clock_gettime(id, &ts) != 0) {
                return 0;
        }
        return (int64_t)ts.tv_sec * RED_TIME_US_PER_SEC + ts.tv_nsec / 1000;
}

red_time_t red_time_now(void)
{
        return clock_us(CLOCK_REALTIME);
}

int64_t red_time_mono_us(void)
{
        return clock_us(CLOCK_MONOTONIC);
}

/*
 * ------------------------------------------------------------------------
 * Durations
 * ------------------------------------------------------------------------
 */

int red_time_parse_duration(const char *s, size_t len, int64_t default_unit_us,
                            int64_t *out_us)
{
        int64_t v = 0, unit;
        size_t p = 0, ulen;
        const char *u;

        if (!s || !out_us || default_unit_us <= 0) {
                return -EINVAL;
        }
        while (p < len && (unsigned)(unsigned char)s[p] - '0' <= 9) {
                int d = s[p] - '0';

                if (v > (INT64_MAX - d) / 10) {
                        return -EINVAL;
                }
                v = v * 10 + d;
                p++;
        }
        if (p == 0) {
                return -EINVAL;
        }
        u = s + p;
        ulen = len - p;
        if (ulen == 0) {
                unit = default_unit_us;
        } else if (ulen == 2 && u[0] == 'u' && u[1] == 's') {
                unit = 1;
        } else if (ulen == 2 && u[0] == 'm' && u[1] == 's') {
                unit = 1000;
        } else if (ulen == 1 && u[0] == 's') {
                unit = RED_TIME_US_PER_SEC;
        } else if (ulen == 1 && u[0] == 'm') {
                unit = RED_TIME_US_PER_MIN;
        } else if (ulen == 1 && u[0] == 'h') {
                unit = RED_TIME_US_PER_HOUR;
        } else if (ulen == 1 && u[0] == 'd') {
                unit = RED_TIME_US_PER_DAY;
        } else if (ulen == 1 && u[0] == 'w') {
                unit = 7 * RED_TIME_US_PER_DAY;
        } else {
                return -EINVAL;
        }
        if (v > INT64_MAX / unit) {
                return -EINVAL;
        }
        *out_us = v * unit;
        return 0;
}
