/*
 * red_time - UTC time points, ISO-8601/RFC 3339 parsing and formatting,
 * civil-date conversion and duration strings.
 *
 * A time point (red_time_t) is a signed count of microseconds since
 * 1970-01-01T00:00:00Z in UTC on the proleptic Gregorian calendar, without
 * leap seconds; negative values are instants before 1970. Everything here is
 * a pure function over plain values: no allocation, no locale, no time zone
 * database, no global state (red_time_now/red_time_mono_us read clocks).
 */
#ifndef RED_TIME_H
#define RED_TIME_H

#include "red_attr.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef int64_t red_time_t;

#define RED_TIME_US_PER_SEC  INT64_C(1000000)
#define RED_TIME_US_PER_MIN  (INT64_C(60) * RED_TIME_US_PER_SEC)
#define RED_TIME_US_PER_HOUR (INT64_C(3600) * RED_TIME_US_PER_SEC)
#define RED_TIME_US_PER_DAY  (INT64_C(86400) * RED_TIME_US_PER_SEC)

/** Buffer size that always holds red_time_format() output and its NUL. */
#define RED_TIME_FMT_SIZE 32

/**
 * A broken-down UTC date and time; a plain value with no ownership.
 * Produced by red_time_to_civil() with month 1..12, day 1..31, hour 0..23,
 * minute 0..59, second 0..59, usec 0..999999.
 */
typedef struct red_civil_s {
        int year;   /**< proleptic Gregorian; 0 is 1 BC, may be negative */
        int month;  /**< 1..12 */
        int day;    /**< 1..31 */
        int hour;   /**< 0..23 */
        int minute; /**< 0..59 */
        int second; /**< 0..59 */
        int usec;   /**< 0..999999 microseconds */
} red_civil_t;

/**
 * Parses a timestamp as producers write it (ISO-8601 / RFC 3339 subset):
 *
 *   YYYY-MM-DD                       date alone: midnight UTC
 *   YYYY-MM-DD{T|t|' '}HH:MM[:SS[.f{1,9}]][zone]
 *   zone = Z | z | +HH:MM | -HH:MM | +HHMM | -HHMM | +HH | -HH
 *
 * No zone means UTC. The fraction needs seconds before it; digits beyond
 * microseconds are truncated (not rounded). Years are exactly four digits
 * (0000..9999). Ranges are validated: month 1..12, day within its month
 * (Gregorian leap years), hour 0..23, minute 0..59, second 0..60, zone offset
 * at most 18:00 with minutes 0..59.
 *
 * Leap seconds: second 60 is accepted only where a leap second can occur,
 * i.e. when the instant, converted to UTC, is 23:59:60 (so "23:59:60Z" or
 * "05:29:60+05:30"); it maps to 23:59:59.999999 UTC of that day whatever
 * fraction follows, so ordering with the surrounding seconds is kept.
 *
 * @p s is borrowed and need not be NUL-terminated: exactly @p len bytes are
 * read and all of them must be consumed. On success stores the time in *out
 * and returns 0; otherwise returns -EINVAL and leaves *out unchanged.
 */
int red_time_parse(const char *s, size_t len, red_time_t *out) RED_MUSTCHECK;

/**
 * Canonical text of @p t: "2025-11-06T12:34:56Z", or with ".123456" before
 * the Z when the microseconds are not zero (always six digits). Years
 * outside 0000..9999 are written in the ISO-8601 expanded form ("+010000",
 * "-000001"), which red_time_parse() does not accept.
 *
 * Writes at most @p size bytes including a NUL (when size > 0) and returns
 * the length the full text has, like snprintf; RED_TIME_FMT_SIZE always
 * suffices.
 */
size_t red_time_format(red_time_t t, char *buf, size_t size);

/** "YYYY-MM-DD" of the UTC day of @p t; buffer/return as red_time_format. */
size_t red_time_format_date(red_time_t t, char *buf, size_t size);
/** "YYYY_MM_DD" of the UTC day of @p t, for daily partition names. */
size_t red_time_format_day_suffix(red_time_t t, char *buf, size_t size);
/** "YYYY_MM" of the UTC month of @p t, for monthly partition names. */
size_t red_time_format_month_suffix(red_time_t t, char *buf, size_t size);

/**
 * The instant of a civil UTC date and time. No validation: fields out of
 * their range are normalised arithmetically (month 13 is January of the
 * next year, day 0 is the last day of the previous month, hour 24 is the
 * next day, negative values count backwards). The result must fit int64.
 */
red_time_t red_time_from_civil(const red_civil_t *c);
/**
 * Days from 1970-01-01 to @p year-@p month-@p day (proleptic Gregorian;
 * negative before 1970). @p month must be 1..12; @p day is not checked and
 * counts linearly (day 0 is the day before the 1st, day 32 runs on into
 * the next month). Pure integer arithmetic, exact for any int32 year.
 */
int64_t red_time_days_from_civil(int64_t year, int month, int day);
/** Breaks @p t into its UTC civil date and time (floors for t < 0). */
void red_time_to_civil(red_time_t t, red_civil_t *out);
/** ISO weekday of the UTC day of @p t: Monday = 1 .. Sunday = 7. */
int red_time_weekday(red_time_t t);
/** Gregorian leap year: divisible by 4, centuries only if divisible by 400. */
bool red_time_is_leap_year(int year);
/** Days (28..31) of @p month (1..12) in @p year; 0 for a bad month. */
int red_time_days_in_month(int year, int month);

/** Wall-clock now (CLOCK_REALTIME) in microseconds since the epoch. */
red_time_t red_time_now(void);
/** CLOCK_MONOTONIC in microseconds; only differences are meaningful. */
int64_t red_time_mono_us(void);

/**
 * Parses a non-negative duration for configuration and contracts:
 * decimal digits followed by an optional unit, no spaces, no sign:
 *   us (microseconds), ms, s, m (minutes), h, d (days), w (weeks).
 * A bare integer is counted in @p default_unit_us (which must be > 0), e.g.
 * RED_TIME_US_PER_SEC. Examples: "250ms", "5s", "2m", "1h", "7d", "90d".
 * @p s is borrowed, exactly @p len bytes. Stores microseconds in *out_us and
 * returns 0; returns -EINVAL (leaving *out_us unchanged) on an empty string,
 * a sign, an unknown unit, trailing bytes or a value that overflows int64
 * microseconds.
 */
int red_time_parse_duration(const char *s, size_t len, int64_t default_unit_us,
                            int64_t *out_us) RED_MUSTCHECK;

#endif
