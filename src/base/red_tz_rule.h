/*
 * red_tz_rule - POSIX TZ strings ("CET-1CEST,M3.5.0,M10.5.0/3"), the rule a
 * TZif file's footer gives for the years after its last transition: parsing
 * and evaluation for any year. Private to red_tz; instants here are
 * seconds since the epoch, offsets seconds east of UTC. Pure functions.
 */
#ifndef RED_TZ_RULE_H
#define RED_TZ_RULE_H

#include "red_attr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A day of the year in a POSIX TZ rule, and the local time on it. */
typedef struct red_tz_date_s {
        char kind;    /* 'J': Jn, 1..365 without Feb 29; 'D': n, 0..365;
                       * 'M': Mm.w.d */
        int n;        /* J and D: the day */
        int m, w, d;  /* M: month, week 1..5 (5 = last), weekday 0 = Sunday */
        int32_t time; /* seconds after local midnight, may be < 0 or > 24 h */
} red_tz_date_t;

/* A POSIX TZ string: a fixed offset or a yearly DST rule. */
typedef struct red_tz_rule_s {
        bool has_dst;
        int32_t std, dst;    /* seconds east of UTC */
        red_tz_date_t start; /* std -> dst, at a local standard time */
        red_tz_date_t end;   /* dst -> std, at a local daylight time */
} red_tz_rule_t;

/* One change a rule makes in some year, before redundant ones are merged. */
typedef struct red_tz_event_s {
        int64_t at;    /* seconds since the epoch */
        int64_t order; /* 2 * year (+1 for the end): breaks ties in `at` */
        int32_t off;   /* the offset from `at` on */
} red_tz_event_t;

/* A change of offset, in seconds since the epoch. */
typedef struct red_tz_change_s {
        int64_t at;
        int32_t before, after;
} red_tz_change_t;


/** Events red_tz_rule_events() writes per year. */
#define RED_TZ_RULE_EVENTS_PER_YEAR 2

/**
 * Parses the POSIX TZ string @p s (borrowed, NUL-terminated):
 *   std offset [dst [offset] ,start[/time],end[/time]]
 * with dates Jn (1..365, February 29th never counted), n (0..365, counted)
 * or Mm.w.d (week 5 = the last), and times up to 167 hours either side of
 * midnight (RFC 8536's extension of POSIX). A DST name without a rule is
 * refused (zic always writes one). Returns 0, or -1 with a static message
 * in *err.
 */
int red_tz_rule_parse(const char *s, red_tz_rule_t *r,
                      const char **err) RED_MUSTCHECK;

/** A year within one of the UTC year of @p sec, cheaply. */
int64_t red_tz_rule_approx_year(int64_t sec);

/**
 * The DST start and end of rule @p r (which has DST) in each year y0..y1,
 * 2 * (y1 - y0 + 1) events into @p ev, sorted by instant, ties by year.
 * Returns the count.
 */
size_t red_tz_rule_events(const red_tz_rule_t *r, int64_t y0, int64_t y1,
                          red_tz_event_t *ev);

/**
 * Walks @p ev[0..n) from *i, merging events at one instant (the later
 * year's wins, so a permanent-DST rule whose end meets next year's start
 * makes no change), and returns true with the next change of *state in
 * *out; false at the end.
 */
bool red_tz_rule_next_change(const red_tz_event_t *ev, size_t n, size_t *i,
                             int32_t *state, red_tz_change_t *out);

/**
 * The changes of rule @p r (which has DST) around @p sec: the last at or
 * before it and the first after it (a flag false when there is none, as
 * with permanent DST). Returns the rule's offset at @p sec.
 */
int32_t red_tz_rule_find(const red_tz_rule_t *r, int64_t sec,
                         red_tz_change_t *prev, bool *has_prev,
                         red_tz_change_t *next, bool *has_next);

#endif
