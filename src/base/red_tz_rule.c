/* red_tz_rule - POSIX TZ strings: parsing and evaluation for any year. */
#include "red_tz_rule.h"

#include "red_time.h"

#include <string.h>

#define SEC_PER_DAY      INT64_C(86400)
#define SEC_PER_AVG_YEAR INT64_C(31556952) /* 365.2425 days */

static inline bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

static inline bool is_alpha(char c)
{
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}
/* --- POSIX TZ strings (the TZif footer) ---------------------------------- */

/* A zone abbreviation: 3+ letters, or <...> of letters, digits, '+', '-'. */
static const char *parse_abbr(const char *p, const char **err)
{
        const char *q;

        if (*p == '<') {
                for (q = p + 1;
                     is_alpha(*q) || is_digit(*q) || *q == '+' || *q == '-';
                     q++) {
                }
                if (*q != '>' || q - p - 1 < 3) {
                        *err = "expected a <...> abbreviation of 3 or more "
                               "letters, digits, '+' or '-'";
                        return NULL;
                }
                return q + 1;
        }
        for (q = p; is_alpha(*q); q++) {
        }
        if (q - p < 3) {
                *err = "expected an abbreviation of 3 or more letters";
                return NULL;
        }
        return q;
}

/* Up to @p max_digits digits, value at most @p max, into *out. */
static const char *parse_num(const char *p, int max_digits, int max, int *out,
                             const char **err, const char *what)
{
        int v = 0, k;

        for (k = 0; k < max_digits && is_digit(p[k]); k++) {
                v = v * 10 + (p[k] - '0');
        }
        if (k == 0 || is_digit(p[k]) || v > max) {
                *err = what;
                return NULL;
        }
        *out = v;
        return p + k;
}

/* [+|-]hh[:mm[:ss]], hours at most @p max_h, as signed seconds. */
static const char *parse_hms(const char *p, int max_h, int32_t *out,
                             const char **err)
{
        int sign = 1, h = 0, m = 0, s = 0;

        if (*p == '+' || *p == '-') {
                sign = *p == '-' ? -1 : 1;
                p++;
        }
        p = parse_num(p, 3, max_h, &h, err, "expected hours in range");
        if (p && *p == ':') {
                p = parse_num(p + 1, 2, 59, &m, err, "expected minutes 0..59");
        }
        if (p && *p == ':') {
                p = parse_num(p + 1, 2, 59, &s, err, "expected seconds 0..59");
        }
        if (p) {
                *out = sign * (h * 3600 + m * 60 + s);
        }
        return p;
}

/* Jn | n | Mm.w.d, then an optional /time (default 02:00). */
static const char *parse_date(const char *p, red_tz_date_t *d, const char **err)
{
        memset(d, 0, sizeof(*d));
        if (*p == 'J') {
                d->kind = 'J';
                p = parse_num(p + 1, 3, 365, &d->n, err,
                              "expected a Julian day 1..365 after 'J'");
                if (p && d->n < 1) {
                        *err = "expected a Julian day 1..365 after 'J'";
                        p = NULL;
                }
        } else if (*p == 'M') {
                d->kind = 'M';
                p = parse_num(p + 1, 2, 12, &d->m, err,
                              "expected a month 1..12 after 'M'");
                if (p && (d->m < 1 || *p != '.')) {
                        *err = "expected Mm.w.d with a month 1..12";
                        p = NULL;
                }
                if (p) {
                        p = parse_num(p + 1, 1, 5, &d->w, err,
                                      "expected a week 1..5 in Mm.w.d");
                }
                if (p && (d->w < 1 || *p != '.')) {
                        *err = "expected Mm.w.d with a week 1..5";
                        p = NULL;
                }
                if (p) {
                        p = parse_num(p + 1, 1, 6, &d->d, err,
                                      "expected a weekday 0..6 in Mm.w.d");
                }
        } else if (is_digit(*p)) {
                d->kind = 'D';
                p = parse_num(p, 3, 365, &d->n, err,
                              "expected a day of the year 0..365");
        } else {
                *err = "expected a date: Jn, n or Mm.w.d";
                return NULL;
        }
        d->time = 2 * 3600;
        if (p && *p == '/') {
                /* RFC 8536 3.3.1 extends POSIX's 0..24 h to -167..167 h. */
                p = parse_hms(p + 1, 167, &d->time, err);
        }
        return p;
}

/*
 * Parses a POSIX TZ string: std offset [dst [offset] ,start[/time],end[/time]].
 * POSIX offsets count hours west of Greenwich; stored as seconds east. Returns
 * 0, or -1 with *err set.
 */
int red_tz_rule_parse(const char *s, red_tz_rule_t *r, const char **err)
{
        const char *p = s;
        int32_t west;

        memset(r, 0, sizeof(*r));
        p = parse_abbr(p, err);
        if (p) {
                p = parse_hms(p, 24, &west, err);
        }
        if (!p) {
                goto fail;
        }
        r->std = -west;
        if (*p == '\0') {
                r->dst = r->std;
                return 0;
        }
        if (!(p = parse_abbr(p, err))) {
                goto fail;
        }
        r->has_dst = true;
        r->dst = r->std + 3600;
        if (*p != ',' && *p != '\0') {
                if (!(p = parse_hms(p, 24, &west, err))) {
                        goto fail;
                }
                r->dst = -west;
        }
        if (*p != ',') {
                /* POSIX leaves the rule to the implementation; zic always
                 * writes one, so its absence means a damaged file. */
                *err = "daylight saving time without a rule "
                       "(,start[/time],end[/time])";
                goto fail;
        }
        if (!(p = parse_date(p + 1, &r->start, err))) {
                goto fail;
        }
        if (*p != ',') {
                *err = "expected ',' and the end date";
                goto fail;
        }
        if (!(p = parse_date(p + 1, &r->end, err))) {
                goto fail;
        }
        if (*p != '\0') {
                *err = "unexpected characters after the rule";
                goto fail;
        }
        return 0;
fail:
        return -1;
}

/* --- rule evaluation ----------------------------------------------------- */

int64_t red_tz_rule_approx_year(int64_t sec)
{
        /* within a year of the true one: the Gregorian drift against the
         * average year stays under two days */
        return 1970 + sec / SEC_PER_AVG_YEAR - (sec % SEC_PER_AVG_YEAR < 0);
}

/* Days since the epoch of the rule date @p d in @p year. */
static int64_t rule_day(const red_tz_date_t *d, int64_t year)
{
        int64_t first;
        int weekday, day, dim;

        switch (d->kind) {
        case 'J': /* Feb 29 is never counted: day 60 is always March 1 */
                return red_time_days_from_civil(year, 1, 1) + d->n - 1 +
                       (d->n >= 60 && red_time_is_leap_year((int)year));
        case 'D':
                return red_time_days_from_civil(year, 1, 1) + d->n;
        default:
                first = red_time_days_from_civil(year, d->m, 1);
                /* 1970-01-01 was a Thursday; 0 = Sunday as in POSIX */
                weekday = (int)(((first + 4) % 7 + 7) % 7);
                day = (d->d - weekday + 7) % 7 + 7 * (d->w - 1);
                dim = red_time_days_in_month((int)year, d->m);
                while (day >= dim) { /* week 5 means the last one */
                        day -= 7;
                }
                return first + day;
        }
}

/* The rule's changes in years y0..y1, sorted by instant (ties by year). */
size_t red_tz_rule_events(const red_tz_rule_t *r, int64_t y0, int64_t y1,
                          red_tz_event_t *ev)
{
        size_t n = 0, i, j;

        for (int64_t y = y0; y <= y1; y++) {
                ev[n].at = rule_day(&r->start, y) * SEC_PER_DAY +
                           r->start.time - r->std;
                ev[n].order = 2 * y;
                ev[n++].off = r->dst;
                ev[n].at = rule_day(&r->end, y) * SEC_PER_DAY + r->end.time -
                           r->dst;
                ev[n].order = 2 * y + 1;
                ev[n++].off = r->std;
        }
        /* insertion sort: the input is sorted but for southern rules */
        for (i = 1; i < n; i++) {
                red_tz_event_t e = ev[i];

                for (j = i; j > 0 && (ev[j - 1].at > e.at ||
                                      (ev[j - 1].at == e.at &&
                                       ev[j - 1].order > e.order));
                     j--) {
                        ev[j] = ev[j - 1];
                }
                ev[j] = e;
        }
        return n;
}

/*
 * Walks events from @p *i, merging those at one instant (the later year
 * wins, so a permanent-DST rule whose end meets next year's start makes no
 * change). Returns true with the next change of *state in *tr.
 */
bool red_tz_rule_next_change(const red_tz_event_t *ev, size_t n, size_t *i,
                             int32_t *state, red_tz_change_t *tr)
{
        while (*i < n) {
                size_t j = *i + 1;

                while (j < n && ev[j].at == ev[*i].at) {
                        j++;
                }
                tr->at = ev[*i].at;
                tr->before = *state;
                tr->after = ev[j - 1].off;
                *i = j;
                *state = tr->after;
                if (tr->after != tr->before) {
                        return true;
                }
        }
        return false;
}

/*
 * The rule's transitions around @p sec: the last at or before it and the
 * first after it (flags false when there is none, as with permanent DST).
 * Returns the rule's offset at @p sec.
 */
int32_t red_tz_rule_find(const red_tz_rule_t *r, int64_t sec,
                         red_tz_change_t *prev, bool *has_prev,
                         red_tz_change_t *next, bool *has_next)
{
        red_tz_event_t ev[7 * RED_TZ_RULE_EVENTS_PER_YEAR];
        int64_t y = red_tz_rule_approx_year(sec);
        /* y is within a year of the true year Y: years from Y - 2 give a
         * previous change, up to Y + 2 a next one */
        size_t n = red_tz_rule_events(r, y - 3, y + 3, ev), i = 0;
        int32_t state = ev[0].off == r->dst ? r->std : r->dst;
        red_tz_change_t tr;

        *has_prev = *has_next = false;
        while (red_tz_rule_next_change(ev, n, &i, &state, &tr)) {
                if (tr.at > sec) {
                        *next = tr;
                        *has_next = true;
                        return tr.before;
                }
                /* a change at the first events rests on a guessed state */
                if (tr.at != ev[0].at) {
                        *prev = tr;
                        *has_prev = true;
                }
        }
        return state;
}
