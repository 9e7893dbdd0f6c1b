/* red_tz - TZif reader: UTC offsets of IANA time zones from tzdata. */
#include "red_tz.h"

#include "red_tz_rule.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TZ_DEFAULT_DIR "/usr/share/zoneinfo"
#define TZ_NAME_MAX    255
#define TZ_PATH_MAX    4096
/* TZif files are a few KiB; anything this large is not one. */
#define TZ_FILE_MAX   (1 << 20)
#define TZ_FOOTER_MAX 255
#define TZIF_HDR_LEN  44
/*
 * Rule transitions are written into the table up to this year, as zic's
 * "fat" files do, so that slim files (transitions only until the rule takes
 * over) are as fast as fat ones for the instants that matter; later
 * instants evaluate the rule on the fly.
 */
#define TZ_EXPAND_UNTIL_YEAR 2038
#define TZ_EXPAND_FROM_YEAR  1900
#define SEC_PER_DAY          INT64_C(86400)
/* Instants in seconds whose microseconds fit red_time_t. */
#define SEC_MAX (INT64_MAX / RED_TIME_US_PER_SEC)
#define SEC_MIN (INT64_MIN / RED_TIME_US_PER_SEC)
/* RFC 8536 3.2: a UT offset "SHOULD be in the range [-89999, 93599]". */
#define OFF_MIN (-89999)
#define OFF_MAX 93599

/* A span in seconds; INT64_MIN / INT64_MAX stand for "no transition". */
typedef struct tz_span_s {
        int64_t start, end;
        int32_t off, before, after;
} tz_span_t;

struct red_tz_s {
        char name[TZ_NAME_MAX + 1];
        int64_t *at;  /* n transition instants (seconds), ascending */
        int32_t *off; /* off[i]: the offset from at[i] on, != off[i - 1] */
        size_t n;
        int32_t off0;  /* the offset before at[0], or always if n == 0 */
        bool has_rule; /* a DST rule takes over after the table */
        red_tz_rule_t rule;
        red_tz_change_t first; /* the rule's first change of the table's last
                                * offset (at INT64_MIN: the rule holds from the
                                * start; INT64_MAX: never) */
        int32_t min_off, max_off;
};

static const red_tz_t utc_zone = {.name = "UTC"};

RED_PRINTF(3, 4)
static void set_err(char *errstr, size_t size, const char *fmt, ...)
{
        va_list ap;

        if (!errstr || !size) {
                return;
        }
        va_start(ap, fmt);
        vsnprintf(errstr, size, fmt, ap);
        va_end(ap);
}

static inline bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

static inline bool is_alpha(char c)
{
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* --- lookups ------------------------------------------------------------- */

/* How many table transitions are at or before @p sec. */
static size_t table_upto(const red_tz_t *tz, int64_t sec)
{
        size_t lo = 0, hi = tz->n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (tz->at[mid] <= sec) {
                        lo = mid + 1;
                } else {
                        hi = mid;
                }
        }
        return lo;
}

static void span_sec(const red_tz_t *tz, int64_t sec, tz_span_t *sp)
{
        size_t k = table_upto(tz, sec);
        red_tz_change_t prev, next;
        bool has_prev, has_next;
        int32_t off;

        sp->start = k ? tz->at[k - 1] : INT64_MIN;
        sp->off = k ? tz->off[k - 1] : tz->off0;
        sp->before = k > 1 ? tz->off[k - 2] : tz->off0;
        if (k < tz->n) {
                sp->end = tz->at[k];
                sp->after = tz->off[k];
                return;
        }
        sp->end = INT64_MAX;
        sp->after = sp->off;
        if (!tz->has_rule) {
                return;
        }
        if (sec < tz->first.at) {
                /* the table's last offset holds until the rule changes it */
                sp->end = tz->first.at;
                sp->after = tz->first.after;
                return;
        }
        /* from the rule's first change on, the rule alone decides */
        off = red_tz_rule_find(&tz->rule, sec, &prev, &has_prev, &next,
                               &has_next);
        if (has_prev) {
                sp->start = prev.at;
                sp->before = prev.at == tz->first.at ? tz->first.before
                                                     : prev.before;
                sp->off = prev.after;
        } else {
                /* footer only, and the rule never changes (permanent DST) */
                sp->off = sp->before = off;
        }
        if (has_next) {
                sp->end = next.at;
                sp->after = next.after;
        }
}

/* Seconds to microseconds; instants beyond red_time_t mean "none". */
static red_time_t sec_us(int64_t sec, red_time_t none)
{
        if (sec <= SEC_MIN || sec >= SEC_MAX) {
                return none;
        }
        return sec * RED_TIME_US_PER_SEC;
}

void red_tz_span(const red_tz_t *tz, red_time_t t, red_tz_span_t *out)
{
        tz_span_t sp;

        /* floor: 1 us before the epoch is in second -1 */
        span_sec(tz ? tz : &utc_zone,
                 t / RED_TIME_US_PER_SEC - (t % RED_TIME_US_PER_SEC < 0), &sp);
        out->start = sec_us(sp.start, INT64_MIN);
        out->end = sec_us(sp.end, INT64_MAX);
        out->off = sp.off;
        out->off_before = out->start == INT64_MIN ? sp.off : sp.before;
        out->off_after = out->end == INT64_MAX ? sp.off : sp.after;
}

int32_t red_tz_offset(const red_tz_t *tz, red_time_t t)
{
        red_tz_span_t sp;

        red_tz_span(tz, t, &sp);
        return sp.off;
}

bool red_tz_prev_transition(const red_tz_t *tz, red_time_t t,
                            red_tz_transition_t *out)
{
        red_tz_span_t sp;

        red_tz_span(tz, t, &sp);
        if (sp.start == INT64_MIN) {
                return false;
        }
        out->at = sp.start;
        out->off_before = sp.off_before;
        out->off_after = sp.off;
        return true;
}

bool red_tz_next_transition(const red_tz_t *tz, red_time_t t,
                            red_tz_transition_t *out)
{
        red_tz_span_t sp;

        red_tz_span(tz, t, &sp);
        if (sp.end == INT64_MAX) {
                return false;
        }
        out->at = sp.end;
        out->off_before = sp.off;
        out->off_after = sp.off_after;
        return true;
}

const char *red_tz_name(const red_tz_t *tz)
{
        return tz ? tz->name : utc_zone.name;
}

void red_tz_offset_range(const red_tz_t *tz, int32_t *min_off, int32_t *max_off)
{
        *min_off = tz ? tz->min_off : 0;
        *max_off = tz ? tz->max_off : 0;
}

/* --- TZif files (RFC 8536) ----------------------------------------------- */

typedef struct tzif_s {
        const unsigned char *buf;
        size_t len;
        const char *path;
        char *errstr;
        size_t errstr_size;
} tzif_t;

typedef struct tzif_hdr_s {
        uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
} tzif_hdr_t;

static uint32_t be32(const unsigned char *p)
{
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
               (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
        return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* Bytes of a data block with @p tsize-byte times (4 for v1, 8 for v2+). */
static uint64_t tzif_block_len(const tzif_hdr_t *h, unsigned tsize)
{
        return (uint64_t)h->timecnt * (tsize + 1) + (uint64_t)h->typecnt * 6 +
               h->charcnt + (uint64_t)h->leapcnt * (tsize + 4) + h->isstdcnt +
               h->isutcnt;
}

static int tzif_header(tzif_t *f, size_t pos, tzif_hdr_t *h)
{
        const unsigned char *p = f->buf + pos;

        if (f->len - pos < 5 || memcmp(p, "TZif", 4) != 0) {
                if (pos == 0) {
                        set_err(f->errstr, f->errstr_size,
                                "%s: not a TZif file (it does not start with "
                                "\"TZif\")",
                                f->path);
                } else {
                        set_err(f->errstr, f->errstr_size,
                                "%s: truncated or damaged TZif file: no "
                                "second header at byte %zu",
                                f->path, pos);
                }
                return -1;
        }
        if (p[4] == 0) {
                set_err(f->errstr, f->errstr_size,
                        "%s: TZif version 1 file: it has no 64-bit data and "
                        "no rule for later years (version 2 or later needed; "
                        "install a current tzdata)",
                        f->path);
                return -1;
        }
        if (p[4] < '2' || p[4] > '9') {
                set_err(f->errstr, f->errstr_size,
                        "%s: unknown TZif version byte 0x%02x", f->path, p[4]);
                return -1;
        }
        if (f->len - pos < TZIF_HDR_LEN) {
                set_err(f->errstr, f->errstr_size,
                        "%s: truncated TZif file: the header at byte %zu "
                        "needs %d bytes, %zu are left",
                        f->path, pos, TZIF_HDR_LEN, f->len - pos);
                return -1;
        }
        h->isutcnt = be32(p + 20);
        h->isstdcnt = be32(p + 24);
        h->leapcnt = be32(p + 28);
        h->timecnt = be32(p + 32);
        h->typecnt = be32(p + 36);
        h->charcnt = be32(p + 40);
        return 0;
}

/* Checks a block's counts and that it fits the file at @p pos. */
static int tzif_block(tzif_t *f, const tzif_hdr_t *h, size_t pos,
                      unsigned tsize, const char *what)
{
        uint64_t need = tzif_block_len(h, tsize);

        if (h->typecnt == 0 || h->charcnt == 0 ||
            (h->isstdcnt != 0 && h->isstdcnt != h->typecnt) ||
            (h->isutcnt != 0 && h->isutcnt != h->typecnt)) {
                set_err(f->errstr, f->errstr_size,
                        "%s: damaged TZif file: bad counts in the %s header "
                        "(%u types, %u designation bytes, %u std/wall and %u "
                        "UT/local indicators)",
                        f->path, what, h->typecnt, h->charcnt, h->isstdcnt,
                        h->isutcnt);
                return -1;
        }
        if (need > f->len - pos) {
                set_err(f->errstr, f->errstr_size,
                        "%s: truncated TZif file: the %s data block needs "
                        "%llu bytes at byte %zu, %zu are left",
                        f->path, what, (unsigned long long)need, pos,
                        f->len - pos);
                return -1;
        }
        return 0;
}

/* Reads the newline-framed footer at @p pos into @p out (NUL-terminated). */
static int tzif_footer(tzif_t *f, size_t pos, char out[TZ_FOOTER_MAX + 1])
{
        const unsigned char *nl;
        size_t len;

        if (pos >= f->len || f->buf[pos] != '\n') {
                set_err(f->errstr, f->errstr_size,
                        "%s: truncated TZif file: no footer (the TZ rule line "
                        "that ends a version 2+ file) at byte %zu",
                        f->path, pos);
                return -1;
        }
        nl = memchr(f->buf + pos + 1, '\n', f->len - pos - 1);
        if (!nl) {
                set_err(f->errstr, f->errstr_size,
                        "%s: truncated TZif file: the footer at byte %zu has "
                        "no closing newline",
                        f->path, pos);
                return -1;
        }
        len = (size_t)(nl - (f->buf + pos + 1));
        if (len > TZ_FOOTER_MAX) {
                set_err(f->errstr, f->errstr_size,
                        "%s: damaged TZif file: footer of %zu bytes", f->path,
                        len);
                return -1;
        }
        for (size_t i = 0; i < len; i++) {
                unsigned char c = f->buf[pos + 1 + i];

                if (c < 0x20 || c > 0x7e) {
                        set_err(f->errstr, f->errstr_size,
                                "%s: damaged TZif file: byte 0x%02x in the "
                                "footer",
                                f->path, c);
                        return -1;
                }
        }
        memcpy(out, f->buf + pos + 1, len);
        out[len] = '\0';
        return 0;
}

/* The types' UT offsets, checked; caller frees. */
static int32_t *tzif_types(tzif_t *f, const tzif_hdr_t *h,
                           const unsigned char *p)
{
        int32_t *utoff = malloc(h->typecnt * sizeof(*utoff));

        if (!utoff) {
                set_err(f->errstr, f->errstr_size, "%s: out of memory",
                        f->path);
                return NULL;
        }
        for (uint32_t i = 0; i < h->typecnt; i++, p += 6) {
                int32_t o = (int32_t)be32(p);

                if (o < OFF_MIN || o > OFF_MAX || p[4] > 1 ||
                    p[5] >= h->charcnt) {
                        set_err(f->errstr, f->errstr_size,
                                "%s: damaged TZif file: local time type %u "
                                "(UT offset %ld s, DST flag %u, designation "
                                "%u of %u bytes) is out of range",
                                f->path, i, (long)o, p[4], p[5], h->charcnt);
                        free(utoff);
                        return NULL;
                }
                utoff[i] = o;
        }
        return utoff;
}

/* Appends a transition to the table unless it keeps the offset. */
static void table_add(red_tz_t *tz, int64_t at, int32_t off)
{
        int32_t cur = tz->n ? tz->off[tz->n - 1] : tz->off0;

        if (off != cur) {
                tz->at[tz->n] = at;
                tz->off[tz->n++] = off;
        }
}

/*
 * Fills the table from the 64-bit block at @p p (already bounds-checked).
 * *raw_last is the file's last transition, even one that keeps the offset
 * (a change of abbreviation): the footer rule starts after it.
 */
static int tzif_table(tzif_t *f, const tzif_hdr_t *h, const unsigned char *p,
                      red_tz_t *tz, int64_t *raw_last)
{
        const unsigned char *idx = p + (size_t)h->timecnt * 8;
        int32_t *utoff = tzif_types(f, h, idx + h->timecnt);

        if (!utoff) {
                return -1;
        }
        tz->at = malloc(((size_t)h->timecnt + 1) * sizeof(*tz->at));
        tz->off = malloc(((size_t)h->timecnt + 1) * sizeof(*tz->off));
        if (!tz->at || !tz->off) {
                set_err(f->errstr, f->errstr_size, "%s: out of memory",
                        f->path);
                goto err;
        }
        /* RFC 8536 3.2: type 0 holds before the first transition */
        tz->off0 = utoff[0];
        *raw_last = INT64_MIN;
        for (uint32_t i = 0; i < h->timecnt; i++) {
                int64_t at = be64(p + (size_t)i * 8);

                if (idx[i] >= h->typecnt ||
                    (i > 0 && at <= be64(p + (size_t)(i - 1) * 8))) {
                        set_err(f->errstr, f->errstr_size,
                                "%s: damaged TZif file: transition %u %s",
                                f->path, i,
                                idx[i] >= h->typecnt
                                        ? "names a local time type that does "
                                          "not "
                                          "exist"
                                        : "is not later than the one before");
                        goto err;
                }
                if (at <= SEC_MIN) {
                        /* before any red_time_t: in force from the start */
                        tz->off0 = utoff[idx[i]];
                } else if (at < SEC_MAX) {
                        table_add(tz, at, utoff[idx[i]]);
                        *raw_last = at;
                }
        }
        free(utoff);
        return 0;
err:
        free(utoff);
        return -1;
}

/*
 * The rule's first change, at or after @p from, of the offset the table
 * ends with: where the rule takes over. A footer agrees with the table's
 * last offset, but should one not, the table's offset holds until then.
 */
static void tz_rule_first(red_tz_t *tz, int64_t from)
{
        int32_t cur = tz->n ? tz->off[tz->n - 1] : tz->off0;
        red_tz_change_t prev, next;
        bool has_prev, has_next;

        for (;;) {
                red_tz_rule_find(&tz->rule, from - 1, &prev, &has_prev, &next,
                                 &has_next);
                if (!has_next) {
                        tz->first = (red_tz_change_t){INT64_MAX, cur, cur};
                        return;
                }
                if (next.after != cur) {
                        tz->first = (red_tz_change_t){next.at, cur, next.after};
                        return;
                }
                from = next.at + 1;
        }
}

/*
 * Writes the rule's transitions after the file's last one (@p last,
 * INT64_MIN for none) and before TZ_EXPAND_UNTIL_YEAR into the table, then
 * finds where the rule takes over.
 */
static int tz_expand_rule(red_tz_t *tz, tzif_t *f, int64_t last)
{
        int64_t until, y0, y1;
        size_t cap, n, i = 0;
        red_tz_event_t *ev;
        int32_t state;
        red_tz_change_t tr;
        void *p;

        if (last == INT64_MIN) {
                /* RFC 8536 3.3: no transitions, the rule holds for all */
                tz->first = (red_tz_change_t){INT64_MIN, 0, 0};
                return 0;
        }
        until = red_time_days_from_civil(TZ_EXPAND_UNTIL_YEAR, 1, 1) *
                SEC_PER_DAY;
        if (last < red_time_days_from_civil(TZ_EXPAND_FROM_YEAR, 1, 1) *
                            SEC_PER_DAY ||
            last >= until) {
                tz_rule_first(tz, last + 1);
                return 0;
        }
        y0 = red_tz_rule_approx_year(last) - 1;
        y1 = red_tz_rule_approx_year(until) + 1;
        cap = (size_t)(y1 - y0 + 1) * 2;
        ev = malloc(cap * sizeof(*ev));
        if (!ev) {
                goto oom;
        }
        if (!(p = realloc(tz->at, (tz->n + cap) * sizeof(*tz->at)))) {
                goto oom;
        }
        tz->at = p;
        if (!(p = realloc(tz->off, (tz->n + cap) * sizeof(*tz->off)))) {
                goto oom;
        }
        tz->off = p;
        n = red_tz_rule_events(&tz->rule, y0, y1, ev);
        while (i < n && ev[i].at <= last) {
                i++;
        }
        state = tz->n ? tz->off[tz->n - 1] : tz->off0;
        while (red_tz_rule_next_change(ev, n, &i, &state, &tr) &&
               tr.at < until) {
                table_add(tz, tr.at, tr.after);
        }
        free(ev);
        tz_rule_first(tz, until);
        return 0;
oom:
        free(ev);
        set_err(f->errstr, f->errstr_size, "%s: out of memory", f->path);
        return -1;
}

static int tzif_parse(tzif_t *f, red_tz_t *tz)
{
        tzif_hdr_t h1, h2;
        size_t pos, data;
        char footer[TZ_FOOTER_MAX + 1];
        const char *err = NULL;
        int64_t raw_last;

        if (tzif_header(f, 0, &h1) < 0 ||
            tzif_block(f, &h1, TZIF_HDR_LEN, 4, "version 1") < 0) {
                return -1;
        }
        pos = TZIF_HDR_LEN + (size_t)tzif_block_len(&h1, 4);
        if (tzif_header(f, pos, &h2) < 0) {
                return -1;
        }
        data = pos + TZIF_HDR_LEN;
        if (tzif_block(f, &h2, data, 8, "64-bit") < 0) {
                return -1;
        }
        if (h2.leapcnt) {
                set_err(f->errstr, f->errstr_size,
                        "%s: leap-second zone (%u leap seconds, as in the "
                        "right/ tree) is not supported: event times count no "
                        "leap seconds",
                        f->path, h2.leapcnt);
                return -1;
        }
        if (tzif_footer(f, data + (size_t)tzif_block_len(&h2, 8), footer) < 0 ||
            tzif_table(f, &h2, f->buf + data, tz, &raw_last) < 0) {
                return -1;
        }
        if (!footer[0]) {
                return 0; /* no rule: the last offset stays */
        }
        if (red_tz_rule_parse(footer, &tz->rule, &err) < 0) {
                set_err(f->errstr, f->errstr_size,
                        "%s: bad TZ rule \"%s\" in the footer: %s", f->path,
                        footer, err);
                return -1;
        }
        if (!tz->rule.has_dst) {
                /* a fixed offset; with transitions it repeats the last */
                if (raw_last == INT64_MIN) {
                        tz->off0 = tz->rule.std;
                }
                return 0;
        }
        if (tz->rule.std < OFF_MIN || tz->rule.std > OFF_MAX ||
            tz->rule.dst < OFF_MIN || tz->rule.dst > OFF_MAX) {
                set_err(f->errstr, f->errstr_size,
                        "%s: bad TZ rule \"%s\" in the footer: offset out of "
                        "range",
                        f->path, footer);
                return -1;
        }
        tz->has_rule = true;
        return tz_expand_rule(tz, f, raw_last);
}

/* --- loading ------------------------------------------------------------- */

static bool name_ok(const char *name, char *errstr, size_t size)
{
        size_t len;

        if (!name || !*name) {
                set_err(errstr, size, "time zone name is empty");
                return false;
        }
        len = strlen(name);
        if (len > TZ_NAME_MAX) {
                set_err(errstr, size,
                        "time zone name of %zu bytes is too long (at most %d)",
                        len, TZ_NAME_MAX);
                return false;
        }
        if (name[0] == '/' || strstr(name, "..") || strstr(name, "//") ||
            name[len - 1] == '/') {
                set_err(errstr, size,
                        "time zone \"%s\" is not an IANA name (a relative "
                        "name like Europe/Berlin, without \"..\" or empty "
                        "parts)",
                        name);
                return false;
        }
        for (const char *p = name; *p; p++) {
                if (!is_alpha(*p) && !is_digit(*p) && !strchr("/_-+.", *p)) {
                        set_err(errstr, size,
                                "time zone \"%s\": byte 0x%02x is not allowed "
                                "(IANA names use letters, digits, '/', '_', "
                                "'-', '+' and '.')",
                                name, (unsigned char)*p);
                        return false;
                }
        }
        return true;
}

/* The whole file, or NULL with a message; caller frees. */
static unsigned char *read_zone_file(const char *path, const char *name,
                                     size_t *len, char *errstr, size_t size)
{
        unsigned char *buf = NULL;
        char ebuf[128];
        struct stat st;
        size_t got = 0;
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd < 0) {
                if (errno == ENOENT || errno == ENOTDIR) {
                        set_err(errstr, size,
                                "unknown time zone \"%s\": no file %s (zones "
                                "are IANA names such as Europe/Berlin; is "
                                "tzdata installed?)",
                                name, path);
                } else {
                        set_err(errstr, size, "%s: %s", path,
                                strerror_r(errno, ebuf, sizeof(ebuf)));
                }
                return NULL;
        }
        if (fstat(fd, &st) < 0) {
                set_err(errstr, size, "%s: %s", path,
                        strerror_r(errno, ebuf, sizeof(ebuf)));
                goto err;
        }
        if (!S_ISREG(st.st_mode) || st.st_size > TZ_FILE_MAX) {
                set_err(errstr, size,
                        "time zone \"%s\": %s is %s, not a zone file", name,
                        path,
                        S_ISDIR(st.st_mode)   ? "a directory of zones"
                        : S_ISREG(st.st_mode) ? "too large"
                                              : "not a regular file");
                goto err;
        }
        if (!(buf = malloc((size_t)st.st_size + 1))) {
                set_err(errstr, size, "%s: out of memory", path);
                goto err;
        }
        while (got < (size_t)st.st_size) {
                ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);

                if (r < 0 && errno == EINTR) {
                        continue;
                }
                if (r <= 0) {
                        set_err(errstr, size, "%s: %s", path,
                                r < 0 ? strerror_r(errno, ebuf, sizeof(ebuf))
                                      : "file shrank while being read");
                        goto err;
                }
                got += (size_t)r;
        }
        close(fd);
        *len = got;
        return buf;
err:
        free(buf);
        close(fd);
        return NULL;
}

static void tz_offset_bounds(red_tz_t *tz)
{
        tz->min_off = tz->max_off = tz->off0;
        for (size_t i = 0; i < tz->n; i++) {
                if (tz->off[i] < tz->min_off) {
                        tz->min_off = tz->off[i];
                }
                if (tz->off[i] > tz->max_off) {
                        tz->max_off = tz->off[i];
                }
        }
        if (tz->has_rule) {
                int32_t lo = tz->rule.std < tz->rule.dst ? tz->rule.std
                                                         : tz->rule.dst;
                int32_t hi = tz->rule.std < tz->rule.dst ? tz->rule.dst
                                                         : tz->rule.std;

                tz->min_off = lo < tz->min_off ? lo : tz->min_off;
                tz->max_off = hi > tz->max_off ? hi : tz->max_off;
        }
}

red_tz_t *red_tz_load(const char *name, char *errstr, size_t errstr_size)
{
        char path[TZ_PATH_MAX];
        unsigned char *buf = NULL;
        const char *dir;
        red_tz_t *tz = NULL;
        tzif_t f;
        size_t len = 0;

        if (!name_ok(name, errstr, errstr_size)) {
                return NULL;
        }
        if (!(tz = calloc(1, sizeof(*tz)))) {
                set_err(errstr, errstr_size, "out of memory");
                return NULL;
        }
        memcpy(tz->name, name, strlen(name) + 1);
        if (strcmp(name, "UTC") == 0) {
                return tz; /* offset 0 for ever: all fields are zero */
        }
        dir = getenv("TZDIR");
        if (!dir || !*dir) {
                dir = TZ_DEFAULT_DIR;
        }
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
            sizeof(path)) {
                set_err(errstr, errstr_size,
                        "time zone \"%s\": path under %s is too long", name,
                        dir);
                goto err;
        }
        buf = read_zone_file(path, name, &len, errstr, errstr_size);
        if (!buf) {
                goto err;
        }
        f = (tzif_t){buf, len, path, errstr, errstr_size};
        if (tzif_parse(&f, tz) < 0) {
                goto err;
        }
        tz_offset_bounds(tz);
        free(buf);
        return tz;
err:
        free(buf);
        red_tz_destroy(tz);
        return NULL;
}

void red_tz_destroy(red_tz_t *tz)
{
        if (!tz) {
                return;
        }
        free(tz->at);
        free(tz->off);
        free(tz);
}
