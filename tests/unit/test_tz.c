/* Unit tests for red_tz: TZif loading, POSIX TZ footers, offsets, errors. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "red_test.h"
#include "red_tz.h"

#define US      RED_TIME_US_PER_SEC
#define HOUR_US RED_TIME_US_PER_HOUR
#define DAY_US  RED_TIME_US_PER_DAY

/* The system's tzdata, whatever TZDIR an earlier test (CK_FORK=no) set. */
static red_tz_t *load_system(const char *name)
{
        char err[512];
        red_tz_t *tz;

        unsetenv("TZDIR");
        tz = red_tz_load(name, err, sizeof(err));
        ck_assert_msg(tz != NULL, "loading %s: %s", name, err);
        return tz;
}

/* --- writing TZif files -------------------------------------------------- */

typedef struct bytes_s {
        unsigned char b[8192];
        size_t n;
} bytes_t;

static void put(bytes_t *o, const void *p, size_t len)
{
        ck_assert_uint_le(o->n + len, sizeof(o->b));
        if (len) { /* p may be NULL then */
                memcpy(o->b + o->n, p, len);
        }
        o->n += len;
}

static void put32(bytes_t *o, uint32_t v)
{
        unsigned char b[4] = {v >> 24, v >> 16, v >> 8, v};

        put(o, b, 4);
}

static void put64(bytes_t *o, int64_t v)
{
        put32(o, (uint32_t)((uint64_t)v >> 32));
        put32(o, (uint32_t)v);
}

static void put_header(bytes_t *o, char version, uint32_t timecnt,
                       uint32_t typecnt)
{
        static const unsigned char zero[15];

        put(o, "TZif", 4);
        put(o, &version, 1);
        put(o, zero, sizeof(zero));
        put32(o, 0); /* isutcnt */
        put32(o, 0); /* isstdcnt */
        put32(o, 0); /* leapcnt */
        put32(o, timecnt);
        put32(o, typecnt);
        put32(o, 4); /* charcnt: "ZZZ\0" */
}

/*
 * A TZif file as RFC 8536 lays it out: a version 1 block with one UTC type
 * and no transitions, then (unless @p version is 0) the 64-bit block with
 * @p n transitions at[] to types idx[] of offsets offs[], and the footer.
 */
static void make_tzif(bytes_t *o, char version, const int64_t *at,
                      const unsigned char *idx, size_t n, const int32_t *offs,
                      size_t ntypes, const char *footer)
{
        o->n = 0;
        put_header(o, version, 0, 1);
        put32(o, 0);
        put(o, "\0\0ZZZ\0", 6); /* isdst 0, desigidx 0, "ZZZ" */
        if (version == 0) {
                return;
        }
        put_header(o, version, (uint32_t)n, (uint32_t)ntypes);
        for (size_t i = 0; i < n; i++) {
                put64(o, at[i]);
        }
        put(o, idx, n);
        for (size_t i = 0; i < ntypes; i++) {
                put32(o, (uint32_t)offs[i]);
                put(o, "\0\0", 2);
        }
        put(o, "ZZZ\0", 4);
        put(o, "\n", 1);
        put(o, footer, strlen(footer));
        put(o, "\n", 1);
}

/* A temporary TZDIR with files the test writes; removed by tzdir_done. */
static char *tzdir_new(void)
{
        char *dir = test_tmpdir();

        setenv("TZDIR", dir, 1);
        return dir;
}

static void tzdir_write(const char *dir, const char *name, const void *data,
                        size_t len)
{
        char path[512];

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        test_write_file(path, data, len);
}

static void tzdir_done(char *dir)
{
        DIR *d = opendir(dir);
        struct dirent *e;
        char path[512];

        ck_assert_ptr_nonnull(d);
        while ((e = readdir(d))) {
                if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
                        ck_assert_int_eq(unlink(path), 0);
                }
        }
        closedir(d);
        ck_assert_int_eq(rmdir(dir), 0);
        unsetenv("TZDIR");
        free(dir);
}

/* A zone with no transitions and @p footer as its rule, from a temp dir. */
static red_tz_t *load_footer_only(const char *dir, const char *footer,
                                  int32_t type0)
{
        char err[512];
        bytes_t f;
        red_tz_t *tz;

        make_tzif(&f, '2', NULL, NULL, 0, &type0, 1, footer);
        tzdir_write(dir, "Footer", f.b, f.n);
        tz = red_tz_load("Footer", err, sizeof(err));
        ck_assert_msg(tz != NULL, "footer \"%s\": %s", footer, err);
        return tz;
}

/* --- checking transitions ------------------------------------------------ */

typedef struct tr_case_s {
        const char *at; /* UTC instant of the change */
        int32_t before, after;
} tr_case_t;

/* Every way of asking for the transition at @p c->at gives it. */
static void check_transition(const red_tz_t *tz, const tr_case_t *c)
{
        red_time_t at = test_ts(c->at);
        red_tz_transition_t tr;
        red_tz_span_t sp;
        const char *name = red_tz_name(tz);

        ck_assert_msg(red_tz_offset(tz, at - 1) == c->before,
                      "%s: offset just before %s: %d, want %d", name, c->at,
                      red_tz_offset(tz, at - 1), c->before);
        ck_assert_msg(red_tz_offset(tz, at) == c->after,
                      "%s: offset at %s: %d, want %d", name, c->at,
                      red_tz_offset(tz, at), c->after);
        /* prev is "at or before", next "strictly after" */
        ck_assert(red_tz_prev_transition(tz, at, &tr));
        ck_assert_int_eq(tr.at, at);
        ck_assert_int_eq(tr.off_before, c->before);
        ck_assert_int_eq(tr.off_after, c->after);
        ck_assert(red_tz_next_transition(tz, at - 1, &tr));
        ck_assert_int_eq(tr.at, at);
        ck_assert_int_eq(tr.off_before, c->before);
        ck_assert_int_eq(tr.off_after, c->after);
        ck_assert(!red_tz_prev_transition(tz, at - 1, &tr) || tr.at < at);
        ck_assert(!red_tz_next_transition(tz, at, &tr) || tr.at > at);
        red_tz_span(tz, at, &sp);
        ck_assert_int_eq(sp.start, at);
        ck_assert_int_eq(sp.off, c->after);
        ck_assert_int_eq(sp.off_before, c->before);
        red_tz_span(tz, at - 1, &sp);
        ck_assert_int_eq(sp.end, at);
        ck_assert_int_eq(sp.off, c->before);
        ck_assert_int_eq(sp.off_after, c->after);
}

/*
 * The transitions from @p from on are exactly cases[0..n) and the next one
 * comes at or after @p until (or never).
 */
static void check_transitions(const red_tz_t *tz, const char *from,
                              const char *until, const tr_case_t *cases,
                              size_t n)
{
        red_time_t t = test_ts(from);
        red_tz_transition_t tr;
        char buf[RED_TIME_FMT_SIZE];

        for (size_t i = 0; i < n; i++) {
                check_transition(tz, &cases[i]);
                ck_assert_msg(red_tz_next_transition(tz, t, &tr),
                              "%s: no transition after %s", red_tz_name(tz),
                              test_ts_text(t, buf));
                ck_assert_msg(tr.at == test_ts(cases[i].at),
                              "%s: transition after %s: %s, want %s",
                              red_tz_name(tz), test_ts_text(t, buf),
                              test_ts_text(tr.at, (char[RED_TIME_FMT_SIZE]){0}),
                              cases[i].at);
                t = tr.at;
        }
        ck_assert(!red_tz_next_transition(tz, t, &tr) ||
                  tr.at >= test_ts(until));
}

/*
 * Expected values below come from Python 3.11's zoneinfo over Debian 12's
 * tzdata 2025b, obtained once with
 *   datetime.fromtimestamp(s, ZoneInfo(zone)).utcoffset()
 * and a bisection for the instants where it changes, unless noted.
 */

START_TEST(test_berlin)
{
        static const tr_case_t c2026[] = {
                {"2026-03-29T01:00:00Z", 3600, 7200},
                {"2026-10-25T01:00:00Z", 7200, 3600},
                {"2027-03-28T01:00:00Z", 3600, 7200},
                {"2027-10-31T01:00:00Z", 7200, 3600},
        };
        red_tz_t *tz = load_system("Europe/Berlin");
        int32_t lo, hi;

        ck_assert_str_eq(red_tz_name(tz), "Europe/Berlin");
        check_transitions(tz, "2026-01-01T00:00:00Z", "2028-01-01T00:00:00Z",
                          c2026, 4);
        ck_assert_int_eq(red_tz_offset(tz, test_ts("2026-07-01T12:00:00Z")),
                         7200);
        ck_assert_int_eq(red_tz_offset(tz, test_ts("2026-12-24T18:00:00Z")),
                         3600);
        /* local mean time +00:53:28 before 1893; CEMT +03:00 in 1945 */
        red_tz_offset_range(tz, &lo, &hi);
        ck_assert_int_eq(lo, 3208);
        ck_assert_int_eq(hi, 10800);
        ck_assert_int_eq(red_tz_offset(tz, test_ts("1890-01-01T00:00:00Z")),
                         3208);
        ck_assert(!red_tz_prev_transition(tz, test_ts("1890-01-01T00:00:00Z"),
                                          &(red_tz_transition_t){0}));
        red_tz_destroy(tz);
}
END_TEST

START_TEST(test_new_york)
{
        static const tr_case_t c2026[] = {
                {"2026-03-08T07:00:00Z", -18000, -14400},
                {"2026-11-01T06:00:00Z", -14400, -18000},
                {"2027-03-14T07:00:00Z", -18000, -14400},
                {"2027-11-07T06:00:00Z", -14400, -18000},
        };
        red_tz_t *tz = load_system("America/New_York");

        check_transitions(tz, "2026-01-01T00:00:00Z", "2028-01-01T00:00:00Z",
                          c2026, 4);
        ck_assert_int_eq(red_tz_offset(tz, test_ts("2026-07-04T16:00:00Z")),
                         -14400);
        red_tz_destroy(tz);
}
END_TEST

START_TEST(test_lord_howe)
{
        /* +10:30 standard, +11:00 daylight: a 30-minute shift */
        static const tr_case_t c2026[] = {
                {"2026-04-04T15:00:00Z", 39600, 37800},
                {"2026-10-03T15:30:00Z", 37800, 39600},
                {"2027-04-03T15:00:00Z", 39600, 37800},
                {"2027-10-02T15:30:00Z", 37800, 39600},
        };
        red_tz_t *tz = load_system("Australia/Lord_Howe");

        check_transitions(tz, "2026-01-01T00:00:00Z", "2028-01-01T00:00:00Z",
                          c2026, 4);
        ck_assert_int_eq(red_tz_offset(tz, test_ts("2026-07-01T00:00:00Z")),
                         37800);
        red_tz_destroy(tz);
}
END_TEST

START_TEST(test_kathmandu)
{
        /* +05:45 since 1986, no DST */
        static const tr_case_t last = {"1985-12-31T18:30:00Z", 19800, 20700};
        red_tz_t *tz = load_system("Asia/Kathmandu");
        red_tz_transition_t tr;

        check_transition(tz, &last);
        ck_assert_int_eq(red_tz_offset(tz, test_ts("2026-03-29T01:00:00Z")),
                         20700);
        ck_assert_int_eq(red_tz_offset(tz, test_ts("2100-06-01T00:00:00Z")),
                         20700);
        ck_assert(red_tz_prev_transition(tz, test_ts("2027-10-31T00:00:00Z"),
                                         &tr));
        ck_assert_int_eq(tr.at, test_ts(last.at));
        ck_assert(!red_tz_next_transition(tz, test_ts("1986-01-01T00:00:00Z"),
                                          &tr));
        red_tz_destroy(tz);
}
END_TEST

/* Debian's files are "fat" up to 2037; later instants use the footer rule. */
START_TEST(test_footer_years)
{
        static const tr_case_t berlin[] = {
                {"2100-03-28T01:00:00Z", 3600, 7200},
                {"2100-10-31T01:00:00Z", 7200, 3600},
                {"2500-03-28T01:00:00Z", 3600, 7200},
                {"2500-10-31T01:00:00Z", 7200, 3600},
                {"9000-03-30T01:00:00Z", 3600, 7200},
                {"9000-10-26T01:00:00Z", 7200, 3600},
        };
        static const tr_case_t new_york[] = {
                {"2100-03-14T07:00:00Z", -18000, -14400},
                {"2100-11-07T06:00:00Z", -14400, -18000},
        };
        static const tr_case_t lord_howe[] = {
                {"2100-04-03T15:00:00Z", 39600, 37800},
                {"2100-10-02T15:30:00Z", 37800, 39600},
                {"9000-04-05T15:00:00Z", 39600, 37800},
                {"9000-10-04T15:30:00Z", 37800, 39600},
        };
        red_tz_t *tz = load_system("Europe/Berlin");

        check_transitions(tz, "2100-01-01T00:00:00Z", "2101-01-01T00:00:00Z",
                          berlin, 2);
        check_transitions(tz, "2500-01-01T00:00:00Z", "2501-01-01T00:00:00Z",
                          berlin + 2, 2);
        check_transitions(tz, "9000-01-01T00:00:00Z", "9001-01-01T00:00:00Z",
                          berlin + 4, 2);
        red_tz_destroy(tz);
        tz = load_system("America/New_York");
        check_transitions(tz, "2100-01-01T00:00:00Z", "2101-01-01T00:00:00Z",
                          new_york, 2);
        red_tz_destroy(tz);
        tz = load_system("Australia/Lord_Howe");
        check_transitions(tz, "2100-01-01T00:00:00Z", "2101-01-01T00:00:00Z",
                          lord_howe, 2);
        check_transitions(tz, "9000-01-01T00:00:00Z", "9001-01-01T00:00:00Z",
                          lord_howe + 2, 2);
        red_tz_destroy(tz);
}
END_TEST

/*
 * Walking the transitions of two zones from @p from to @p until gives the
 * same list, and offsets agree at every @p step.
 */
static void check_same_zone(const red_tz_t *a, const red_tz_t *b,
                            const char *from, const char *until,
                            red_time_t step)
{
        red_tz_transition_t ta, tb;
        red_time_t t = test_ts(from), end = test_ts(until);
        char buf[RED_TIME_FMT_SIZE];
        int n = 0;

        while (red_tz_next_transition(a, t, &ta) && ta.at < end) {
                ck_assert_msg(
                        red_tz_next_transition(b, t, &tb) && tb.at == ta.at &&
                                tb.off_before == ta.off_before &&
                                tb.off_after == ta.off_after,
                        "transition after %s differs", test_ts_text(t, buf));
                t = ta.at;
                n++;
        }
        ck_assert(!red_tz_next_transition(b, t, &tb) || tb.at >= end);
        ck_assert_int_gt(n, 0);
        for (t = test_ts(from); t < end; t += step) {
                if (red_tz_offset(a, t) != red_tz_offset(b, t)) {
                        ck_abort_msg("offsets differ at %s",
                                     test_ts_text(t, buf));
                }
        }
}

/*
 * A "slim" file (transitions only until the rule takes over, as zic -b slim
 * writes) and a footer-only file behave like Debian's fat Berlin file.
 */
START_TEST(test_slim_and_footer_only)
{
        static const int64_t at[] = {
                828234000, /* 1996-03-31T01:00:00Z */
                846378000, /* 1996-10-27T01:00:00Z */
        };
        static const unsigned char idx[] = {1, 0};
        static const int32_t offs[] = {3600, 7200};
        const char *rule = "CET-1CEST,M3.5.0,M10.5.0/3";
        red_tz_t *fat = load_system("Europe/Berlin"), *slim, *bare;
        char *dir = tzdir_new(), err[512];
        bytes_t f;

        make_tzif(&f, '2', at, idx, 2, offs, 2, rule);
        tzdir_write(dir, "Slim", f.b, f.n);
        slim = red_tz_load("Slim", err, sizeof(err));
        ck_assert_msg(slim != NULL, "%s", err);
        bare = load_footer_only(dir, rule, 3600);
        /* both sides of 2038, where rules stop being tabulated */
        check_same_zone(fat, slim, "1996-11-01", "2200-01-01", 7 * HOUR_US);
        check_same_zone(fat, bare, "1996-11-01", "2200-01-01", 7 * HOUR_US);
        check_same_zone(slim, bare, "1996-11-01", "2200-01-01", 7 * HOUR_US);
        red_tz_destroy(slim);
        red_tz_destroy(bare);
        red_tz_destroy(fat);
        tzdir_done(dir);
}
END_TEST

/*
 * Footer rules beyond Europe's: expectations from Python's zoneinfo reading
 * the same bytes (ZoneInfo.from_file), except where noted.
 */
typedef struct footer_case_s {
        const char *footer;
        int32_t jan1; /* offset on January 1st 00:00Z of the year */
        const char *year, *next_year;
        tr_case_t tr[2];
        size_t n;
} footer_case_t;

static const footer_case_t footer_cases[] = {
        /* fixed offsets, no DST */
        {"<+0545>-5:45", 20700, "2026-01-01", "2027-01-01", {{0}}, 0},
        {"<-0330>3:30", -12600, "2026-01-01", "2027-01-01", {{0}}, 0},
        {"CET-1CEST,M3.5.0,M10.5.0/3",
         3600,
         "2026-01-01",
         "2027-01-01",
         {{"2026-03-29T01:00:00Z", 3600, 7200},
          {"2026-10-25T01:00:00Z", 7200, 3600}},
         2},
        /* southern hemisphere, 30-minute DST */
        {"<+1030>-10:30<+11>-11,M10.1.0,M4.1.0",
         39600,
         "2026-01-01",
         "2027-01-01",
         {{"2026-04-04T15:00:00Z", 39600, 37800},
          {"2026-10-03T15:30:00Z", 37800, 39600}},
         2},
        /* America/Santiago: the change at 24:00 */
        {"<-04>4<-03>,M9.1.6/24,M4.1.6/24",
         -10800,
         "2024-01-01",
         "2025-01-01",
         {{"2024-04-07T03:00:00Z", -10800, -14400},
          {"2024-09-08T04:00:00Z", -14400, -10800}},
         2},
        /* America/Nuuk: a negative time, -1:00 on the last Sunday of March */
        {"<-02>2<-01>,M3.5.0/-1,M10.5.0/0",
         -7200,
         "2026-01-01",
         "2027-01-01",
         {{"2026-03-29T01:00:00Z", -7200, -3600},
          {"2026-10-25T01:00:00Z", -3600, -7200}},
         2},
        /* Asia/Jerusalem: a time over 24 h (Thursday 26:00 = Friday 02:00) */
        {"IST-2IDT,M3.4.4/26,M10.5.0",
         7200,
         "2026-01-01",
         "2027-01-01",
         {{"2026-03-27T00:00:00Z", 7200, 10800},
          {"2026-10-24T23:00:00Z", 10800, 7200}},
         2},
        /* Jn never counts February 29th: J60 is March 1st in 2024 too */
        {"XXX3YYY,J60/2,J300/2",
         -10800,
         "2024-01-01",
         "2025-01-01",
         {{"2024-03-01T05:00:00Z", -10800, -7200},
          {"2024-10-27T04:00:00Z", -7200, -10800}},
         2},
        /*
         * n is zero-based and counts February 29th: 59 is Feb 29 in 2024.
         * From glibc (TZ='XXX3YYY,59/2,299/2' date -d @...): Python 3.11's
         * zoneinfo reads this form one day early.
         */
        {"XXX3YYY,59/2,299/2",
         -10800,
         "2024-01-01",
         "2025-01-01",
         {{"2024-02-29T05:00:00Z", -10800, -7200},
          {"2024-10-26T04:00:00Z", -7200, -10800}},
         2},
        {"XXX3YYY,59/2,299/2",
         -10800,
         "2026-01-01",
         "2027-01-01",
         {{"2026-03-01T05:00:00Z", -10800, -7200},
          {"2026-10-27T04:00:00Z", -7200, -10800}},
         2},
        /* Asia/Tehran's old rule: Julian days at 24:00, half-hour offsets */
        {"<+0330>-3:30<+0430>-4:30,J79/24,J263/24",
         12600,
         "2026-01-01",
         "2027-01-01",
         {{"2026-03-20T20:30:00Z", 12600, 16200},
          {"2026-09-20T19:30:00Z", 16200, 12600}},
         2},
        /* permanent DST as RFC 8536 writes it: the end meets the next start */
        {"EST5EDT,0/0,J365/25", -14400, "2026-01-01", "2027-01-01", {{0}}, 0},
};

/*
 * The rule starts after the file's last transition even when that one
 * changes only the abbreviation: America/Grand_Turk kept -04:00 from 2015
 * (AST) into DST 2018 (EDT) and follows the footer from then on. Values
 * from Python's zoneinfo for the real zone.
 */
START_TEST(test_rule_after_type_change)
{
        static const int64_t at[] = {
                1414908000, /* 2014-11-02T06:00:00Z EST */
                1425798000, /* 2015-03-08T07:00:00Z AST */
                1520751600, /* 2018-03-11T07:00:00Z EDT, same offset */
        };
        static const unsigned char idx[] = {0, 1, 2};
        static const int32_t offs[] = {-18000, -14400, -14400};
        static const tr_case_t want[] = {
                {"2015-03-08T07:00:00Z", -18000, -14400},
                {"2018-11-04T06:00:00Z", -14400, -18000},
                {"2019-03-10T07:00:00Z", -18000, -14400},
                {"2019-11-03T06:00:00Z", -14400, -18000},
        };
        char *dir = tzdir_new(), err[512];
        red_tz_t *tz;
        bytes_t f;

        make_tzif(&f, '2', at, idx, 3, offs, 3, "EST5EDT,M3.2.0,M11.1.0");
        tzdir_write(dir, "Turk", f.b, f.n);
        tz = red_tz_load("Turk", err, sizeof(err));
        ck_assert_msg(tz != NULL, "%s", err);
        check_transitions(tz, "2015-01-01", "2020-01-01", want, 4);
        ck_assert_int_eq(red_tz_offset(tz, test_ts("2016-01-15")), -14400);
        red_tz_destroy(tz);
        tzdir_done(dir);
}
END_TEST

/*
 * A footer that disagrees with the last transition (DST in January): the
 * transition holds until the rule next changes the offset, and a rule
 * change to the offset already in force is no transition. Dates of the
 * last Sundays of March and October 2040 and March 2041 from Python's
 * calendar module.
 */
START_TEST(test_footer_disagrees)
{
        static const int64_t at[] = {2210198400}; /* 2040-01-15T00:00:00Z */
        static const unsigned char idx[] = {1};
        static const int32_t offs[] = {3600, 7200};
        static const tr_case_t want[] = {
                {"2040-01-15T00:00:00Z", 3600, 7200},
                {"2040-10-28T01:00:00Z", 7200, 3600},
                {"2041-03-31T01:00:00Z", 3600, 7200},
        };
        static const int32_t odd_offs[] = {3600, 5400};
        static const tr_case_t odd_want[] = {
                {"2040-01-15T00:00:00Z", 3600, 5400},
                {"2040-03-25T01:00:00Z", 5400, 7200},
                {"2040-10-28T01:00:00Z", 7200, 3600},
        };
        char *dir = tzdir_new(), err[512];
        red_tz_transition_t tr;
        red_tz_t *tz;
        bytes_t f;

        make_tzif(&f, '2', at, idx, 1, offs, 2, "CET-1CEST,M3.5.0,M10.5.0/3");
        tzdir_write(dir, "Odd", f.b, f.n);
        tz = red_tz_load("Odd", err, sizeof(err));
        ck_assert_msg(tz != NULL, "%s", err);
        check_transitions(tz, "2040-01-01", "2041-06-01", want, 3);
        ck_assert_int_eq(red_tz_offset(tz, test_ts("2040-04-01")), 7200);
        /* the rule's change in March 2040 is none here */
        ck_assert(red_tz_prev_transition(tz, test_ts("2040-04-01"), &tr));
        ck_assert_int_eq(tr.at, test_ts(want[0].at));
        ck_assert(red_tz_prev_transition(tz, test_ts("2040-12-01"), &tr));
        ck_assert_int_eq(tr.at, test_ts(want[1].at));
        ck_assert_int_eq(tr.off_before, 7200);
        red_tz_destroy(tz);

        /* an offset the rule never uses: its first change ends it */
        make_tzif(&f, '2', at, idx, 1, odd_offs, 2,
                  "CET-1CEST,M3.5.0,M10.5.0/3");
        tzdir_write(dir, "Odd", f.b, f.n);
        tz = red_tz_load("Odd", err, sizeof(err));
        ck_assert_msg(tz != NULL, "%s", err);
        check_transitions(tz, "2040-01-01", "2041-03-01", odd_want, 3);
        red_tz_destroy(tz);
        tzdir_done(dir);
}
END_TEST

START_TEST(test_footer_rules)
{
        char *dir = tzdir_new();

        for (size_t i = 0; i < sizeof(footer_cases) / sizeof(footer_cases[0]);
             i++) {
                const footer_case_t *c = &footer_cases[i];
                red_tz_t *tz = load_footer_only(dir, c->footer, 0);

                ck_assert_msg(red_tz_offset(tz, test_ts(c->year)) == c->jan1,
                              "%s: offset on %s: %d, want %d", c->footer,
                              c->year, red_tz_offset(tz, test_ts(c->year)),
                              c->jan1);
                check_transitions(tz, c->year, c->next_year, c->tr, c->n);
                /* a rule without changes has no transitions at all */
                ck_assert(c->n > 0 ||
                          !red_tz_prev_transition(tz, test_ts(c->year),
                                                  &(red_tz_transition_t){0}));
                red_tz_destroy(tz);
        }
        tzdir_done(dir);
}
END_TEST

START_TEST(test_utc)
{
        char *dir = tzdir_new(); /* empty: UTC needs no file */
        char err[256];
        red_tz_t *tz = red_tz_load("UTC", err, sizeof(err));
        red_tz_transition_t tr;
        red_tz_span_t sp;
        int32_t lo, hi;

        ck_assert_msg(tz != NULL, "%s", err);
        ck_assert_str_eq(red_tz_name(tz), "UTC");
        ck_assert_int_eq(red_tz_offset(tz, test_ts("2026-03-29T01:00:00Z")), 0);
        ck_assert(!red_tz_prev_transition(tz, 0, &tr));
        ck_assert(!red_tz_next_transition(tz, 0, &tr));
        red_tz_span(tz, 0, &sp);
        ck_assert_int_eq(sp.start, INT64_MIN);
        ck_assert_int_eq(sp.end, INT64_MAX);
        red_tz_offset_range(tz, &lo, &hi);
        ck_assert_int_eq(lo, 0);
        ck_assert_int_eq(hi, 0);
        red_tz_destroy(tz);
        /* a NULL zone is UTC */
        ck_assert_str_eq(red_tz_name(NULL), "UTC");
        ck_assert_int_eq(red_tz_offset(NULL, test_ts("2026-07-01")), 0);
        ck_assert(!red_tz_next_transition(NULL, 0, &tr));
        red_tz_destroy(NULL);
        tzdir_done(dir);
}
END_TEST

/* Loading fails and the message contains each of @p want (NULL-ended). */
static void check_load_error(const char *name, const char *const want[])
{
        char err[512] = "";
        red_tz_t *tz = red_tz_load(name, err, sizeof(err));

        ck_assert_msg(tz == NULL, "\"%s\" loaded", name ? name : "(null)");
        for (size_t i = 0; want[i]; i++) {
                ck_assert_msg(strstr(err, want[i]) != NULL,
                              "\"%s\": error \"%s\" lacks \"%s\"",
                              name ? name : "(null)", err, want[i]);
        }
}

#define ERR(...) ((const char *const[]){__VA_ARGS__, NULL})

START_TEST(test_bad_names)
{
        static const char *const not_iana[] = {
                "../etc/passwd",  "/etc/passwd", "Europe/../../etc/passwd",
                "Europe//Berlin", "Europe/",     "..",
        };
        char longname[300];

        unsetenv("TZDIR");
        for (size_t i = 0; i < sizeof(not_iana) / sizeof(not_iana[0]); i++) {
                check_load_error(not_iana[i],
                                 ERR(not_iana[i], "not an IANA name"));
        }
        check_load_error("", ERR("empty"));
        check_load_error(NULL, ERR("empty"));
        check_load_error("Europe/Berlin ", ERR("byte 0x20 is not allowed"));
        check_load_error("Europe\\Berlin", ERR("byte 0x5c is not allowed"));
        memset(longname, 'A', sizeof(longname) - 1);
        longname[sizeof(longname) - 1] = '\0';
        check_load_error(longname, ERR("too long"));
        check_load_error("Mars/Olympus_Mons",
                         ERR("unknown time zone \"Mars/Olympus_Mons\"",
                             "/usr/share/zoneinfo/Mars/Olympus_Mons"));
        check_load_error("europe/berlin", ERR("unknown time zone"));
        check_load_error("Europe",
                         ERR("/usr/share/zoneinfo/Europe", "is a directory"));
        check_load_error("right/Europe/Berlin", ERR("leap-second"));
        /* the name is relative to TZDIR when it is set */
        setenv("TZDIR", "/nonexistent/zoneinfo", 1);
        check_load_error("Europe/Berlin",
                         ERR("/nonexistent/zoneinfo/Europe/Berlin"));
        unsetenv("TZDIR");
}
END_TEST

/* Every proper prefix of a real file is refused with a message naming it. */
START_TEST(test_truncated)
{
        char *dir = tzdir_new(), path[512];
        size_t len = 0;
        char *full = test_read_file("/usr/share/zoneinfo/Europe/Berlin", &len);
        red_tz_t *tz;

        snprintf(path, sizeof(path), "%s/Trunc", dir);
        for (size_t n = 0; n < len; n++) {
                test_write_file(path, full, n);
                check_load_error("Trunc", ERR(path, n < 5 ? "not a TZif file"
                                                          : "truncated"));
        }
        /* the whole file is fine */
        test_write_file(path, full, len);
        tz = red_tz_load("Trunc", NULL, 0);
        ck_assert_ptr_nonnull(tz);
        red_tz_destroy(tz);
        check_load_error("Trunc/x", ERR("unknown time zone"));
        free(full);
        tzdir_done(dir);
}
END_TEST

START_TEST(test_bad_files)
{
        static const int64_t at[] = {100, 50};
        static const int64_t type_at[] = {50, 100};
        static const unsigned char idx[] = {0, 1};
        static const unsigned char bad_idx[] = {0, 7};
        static const int32_t offs[] = {3600, 7200};
        static const int32_t huge[] = {100000};
        char *dir = tzdir_new();
        bytes_t f;

        tzdir_write(dir, "Text", "hello, world\n", 13);
        check_load_error("Text", ERR("/Text", "not a TZif file"));
        make_tzif(&f, 0, NULL, NULL, 0, offs, 1, "");
        tzdir_write(dir, "V1", f.b, f.n);
        check_load_error("V1", ERR("/V1", "version 1"));
        make_tzif(&f, '2', at, idx, 2, offs, 2, "");
        tzdir_write(dir, "Order", f.b, f.n);
        check_load_error("Order", ERR("/Order", "not later"));
        make_tzif(&f, '2', type_at, bad_idx, 2, offs, 2, "");
        tzdir_write(dir, "Type", f.b, f.n);
        check_load_error("Type", ERR("/Type", "local time type"));
        make_tzif(&f, '2', NULL, NULL, 0, huge, 1, "");
        tzdir_write(dir, "Offset", f.b, f.n);
        check_load_error("Offset", ERR("/Offset", "out of range"));
        make_tzif(&f, '2', NULL, NULL, 0, offs, 1, "");
        f.b[f.n - 8] = 2; /* the type's DST flag, which must be 0 or 1 */
        tzdir_write(dir, "Flag", f.b, f.n);
        check_load_error("Flag", ERR("/Flag", "DST flag 2"));
        make_tzif(&f, '2', NULL, NULL, 0, offs, 1, "CET-1");
        f.b[f.n - 1] = 'x'; /* no closing newline */
        tzdir_write(dir, "Open", f.b, f.n);
        check_load_error("Open", ERR("/Open", "no closing newline"));
        tzdir_done(dir);
}
END_TEST

START_TEST(test_bad_footers)
{
        static const char *const bad[] = {
                "CET-1CEST",                     /* DST without a rule */
                "CET-1CEST,M3.5.0",              /* no end */
                "CET-1CEST,M13.5.0,M10.5.0",     /* month */
                "CET-1CEST,M3.6.0,M10.5.0",      /* week */
                "CET-1CEST,M3.5.7,M10.5.0",      /* weekday */
                "CET-1CEST,M3.5,M10.5.0",        /* no weekday */
                "CET-1CEST,J0,J365",             /* Julian day 0 */
                "CET-1CEST,366,1",               /* day of year */
                "CET-1CEST,M3.5.0/168,M10.5.0",  /* time over 167 h */
                "CET-1CEST,M3.5.0,M10.5.0/3x",   /* trailing text */
                "CET-1CEST,M3.5.0,M10.5.0/3:60", /* minutes */
                "CET-25",                        /* offset over 24 h */
                "CE-1",                          /* short abbreviation */
                "<CE>-1",                        /* short <> abbreviation */
                "<CET-1",                        /* unterminated <> */
                "CET",                           /* no offset */
                "CET-1:5:5:5",                   /* too many fields */
                "CET-1CEST-2x,M3.5.0,M10.5.0",   /* junk after the DST offset */
        };
        char *dir = tzdir_new();
        int32_t off = 3600;
        bytes_t f;

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                make_tzif(&f, '2', NULL, NULL, 0, &off, 1, bad[i]);
                tzdir_write(dir, "Foot", f.b, f.n);
                check_load_error("Foot", ERR("/Foot", "bad TZ rule", bad[i]));
        }
        /* an empty footer is allowed: the last offset stays */
        make_tzif(&f, '2', NULL, NULL, 0, &off, 1, "");
        tzdir_write(dir, "Empty", f.b, f.n);
        {
                char err[256];
                red_tz_t *tz = red_tz_load("Empty", err, sizeof(err));

                ck_assert_msg(tz != NULL, "%s", err);
                ck_assert_int_eq(red_tz_offset(tz, test_ts("2300-07-01")),
                                 3600);
                red_tz_destroy(tz);
        }
        tzdir_done(dir);
}
END_TEST

static Suite *tz_suite(void)
{
        Suite *s = suite_create("red_tz");
        TCase *tc = tcase_create("core");

        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_berlin);
        tcase_add_test(tc, test_new_york);
        tcase_add_test(tc, test_lord_howe);
        tcase_add_test(tc, test_kathmandu);
        tcase_add_test(tc, test_footer_years);
        tcase_add_test(tc, test_slim_and_footer_only);
        tcase_add_test(tc, test_rule_after_type_change);
        tcase_add_test(tc, test_footer_disagrees);
        tcase_add_test(tc, test_footer_rules);
        tcase_add_test(tc, test_utc);
        tcase_add_test(tc, test_bad_names);
        tcase_add_test(tc, test_truncated);
        tcase_add_test(tc, test_bad_files);
        tcase_add_test(tc, test_bad_footers);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        return test_main(tz_suite());
}
