/* red_top_view - the layout of a `reducerd top` frame (no I/O). */
#include "red_top_view.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A number of a row by column name ("duration.p95"), or of an object
 * column's member ("duration_statistics.p95_seconds"); NAN if none. */
static double val(const json_t *row, const char *key)
{
        const json_t *v = json_object_get(row, key);
        const char *dot;

        if (!v && (dot = strchr(key, '.'))) {
                char col[128];
                snprintf(col, sizeof(col), "%.*s", (int)(dot - key), key);
                v = json_object_get(json_object_get(row, col), dot + 1);
        }
        return json_is_number(v) ? json_number_value(v) : NAN;
}

static bool ends_with(const char *s, const char *suffix)
{
        size_t a = strlen(s), b = strlen(suffix);

        return a >= b && !strcmp(s + a - b, suffix);
}

/* --- what the contract offers --------------------------------------------- */

/* A value shown: a column of the summary rows and how to print it. */
typedef struct item_s {
        char key[128];   /* column of the row */
        char label[128]; /* what the reader sees */
        bool percent;    /* a ratio, shown as % */
        bool value;      /* a statistic of the values (avg, p95), which the
                            alert rules of the metric judge; not a count */
} item_t;

#define MAX_ITEMS 48

static size_t add_item(item_t *it, size_t n, const char *key, const char *label,
                       bool percent)
{
        if (n < MAX_ITEMS) {
                snprintf(it[n].key, sizeof(it[n].key), "%s", key);
                snprintf(it[n].label, sizeof(it[n].label), "%s", label);
                it[n].percent = percent;
                it[n].value = false;
                n++;
        }
        return n;
}

/*
 * The headline values of an aggregation: its counts, its ratio columns
 * (*_rate), and per sketch its average and tail quantiles; @p short_names
 * labels a sketch's outputs "avg", "p95" when it is the only sketch.
 */
static size_t headline(const red_agg_t *a, item_t *it, bool short_names)
{
        static const char *const outs[] = {"count", "avg", "p95", "p99"};
        size_t n = 0, sketches = 0, counts = 0;

        for (size_t i = 0; i < a->measure_cnt; i++) {
                sketches += a->measures[i].kind == RED_MEAS_SKETCH;
                counts += a->measures[i].kind == RED_MEAS_COUNT;
        }
        for (size_t i = 0; i < a->measure_cnt; i++) {
                if (a->measures[i].kind == RED_MEAS_COUNT) {
                        n = add_item(it, n, a->measures[i].name,
                                     a->measures[i].name, false);
                }
        }
        for (size_t i = 0; i < a->column_cnt; i++) {
                const red_column_t *col = &a->columns[i];
                if (col->kind == RED_COL_EXPR &&
                    ends_with(col->name, "_rate")) {
                        char label[128];
                        snprintf(label, sizeof(label), "%.*s%%",
                                 (int)(strlen(col->name) - 5), col->name);
                        n = add_item(it, n, col->name,
                                     short_names ? label : col->name, true);
                }
        }
        for (size_t i = 0; i < a->measure_cnt; i++) {
                const red_measure_t *m = &a->measures[i];
                char key[128], label[128];
                if (m->kind != RED_MEAS_SKETCH) {
                        continue;
                }
                /* without count measures the sketch's count says how many */
                for (int o = counts ? 1 : 0; o < 4; o++) {
                        snprintf(key, sizeof(key), "%s.%s", m->name, outs[o]);
                        snprintf(label, sizeof(label), "%s %s", m->name,
                                 outs[o]);
                        n = add_item(it, n, key,
                                     short_names && sketches == 1 ? outs[o]
                                                                  : label,
                                     false);
                        it[n - 1].value = o > 0;
                }
        }
        return n;
}

/* The count of a group: the first count measure, else the first
 * sketch's count. */
static bool count_key(const red_agg_t *a, char *key, size_t size)
{
        for (size_t i = 0; i < a->measure_cnt; i++) {
                if (a->measures[i].kind == RED_MEAS_COUNT) {
                        snprintf(key, size, "%s", a->measures[i].name);
                        return true;
                }
        }
        for (size_t i = 0; i < a->measure_cnt; i++) {
                if (a->measures[i].kind == RED_MEAS_SKETCH ||
                    a->measures[i].kind == RED_MEAS_STATS) {
                        snprintf(key, size, "%s.count", a->measures[i].name);
                        return true;
                }
        }
        return false;
}

/*
 * The colour the contract's alert rules give value @p v of metric
 * @p metric: the most severe rule it crosses, green when it crosses
 * none, plain when no rule names the metric.
 */
static red_top_style_t rule_style(const red_contract_t *c, const char *metric,
                                  double v)
{
        static const char *const sev[] = {"CRITICAL", "WARNING", "INFO"};
        static const red_top_style_t styles[] = {RED_TOP_BAD, RED_TOP_WARN,
                                                 RED_TOP_INFO};
        red_top_style_t st = RED_TOP_PLAIN;
        int best = 3;

        if (!c->alerts || !metric || isnan(v)) {
                return st;
        }
        for (size_t i = 0; i < c->alerts->rule_cnt; i++) {
                const red_alert_rule_t *r = &c->alerts->rules[i];
                bool crossed;
                if (strcmp(r->metric, metric)) {
                        continue;
                }
                st = best == 3 ? RED_TOP_OK : st;
                switch (r->op) {
                case RED_OP_GT:
                        crossed = v > r->threshold;
                        break;
                case RED_OP_LT:
                        crossed = v < r->threshold;
                        break;
                case RED_OP_GTE:
                        crossed = v >= r->threshold;
                        break;
                default:
                        crossed = v <= r->threshold;
                        break;
                }
                for (int s = 0; crossed && s < 3; s++) {
                        if (!strcmp(r->severity, sev[s]) && s < best) {
                                best = s;
                                st = styles[s];
                        }
                }
        }
        return st;
}

/* The key column of @p g that names the alert rules' metric, or -1. */
static int metric_key(const red_contract_t *c, const red_agg_t *a, int g)
{
        if (!c->alerts) {
                return -1;
        }
        for (size_t k = 0; k < a->key_cnt; k++) {
                const red_dim_t *d = &c->dims[a->groupings[g].dims[k]];
                if (d->kind == RED_DIM_FIELD &&
                    d->slot == c->alerts->match_slot) {
                        return (int)k;
                }
        }
        return -1;
}

/* --- sections ------------------------------------------------------------- */

typedef struct ctx_s {
        const red_top_sel_t *sel;
        const red_top_data_t *d;
        const red_top_opts_t *o;
        size_t width;
} ctx_t;

static void header(red_top_frame_t *f, const ctx_t *x)
{
        const red_top_sel_t *sel = x->sel;
        const red_top_data_t *d = x->d;
        const red_top_pipe_t *p = &d->pipe;
        red_top_line_t *l = red_top_frame_line(f);
        char t[RED_TIME_FMT_SIZE], right[80];
        size_t w = x->width;

        red_time_format(d->now, t, sizeof(t));
        snprintf(right, sizeof(right), "%s%.10s %.5sZ",
                 x->o->fixed_time ? "at " : "", t, t + 11);
        red_top_frame_put(l, RED_TOP_TITLE, "reducerd top", w);
        red_top_frame_putf(l, RED_TOP_PLAIN, w, "  %s", sel->c->name);
        if (sel->agg) {
                if (strcmp(sel->agg->name, sel->c->name)) {
                        red_top_frame_putf(l, RED_TOP_PLAIN, w, "/%s",
                                           sel->agg->name);
                }
                red_top_frame_putf(l, RED_TOP_DIM, w, "  %s · %s",
                                   sel->agg->groupings[sel->grouping].name,
                                   red_window_type_name(sel->window));
        }
        if (w >= l->width + red_top_frame_width(right) + 2) {
                red_top_frame_pad(l, w - red_top_frame_width(right), w);
                red_top_frame_put(l, RED_TOP_DIM, right, w);
                right[0] = '\0'; /* shown */
        }

        l = red_top_frame_line(f);
        red_top_frame_putf(l, RED_TOP_DIM, w, "daemon %s ", x->o->metrics);
        if (!p->ok) {
                red_top_frame_putf(l, RED_TOP_WARN, w, "unreachable: %s",
                                   p->error);
        } else {
                red_top_frame_put(
                        l, p->kafka_up >= 1 ? RED_TOP_OK : RED_TOP_BAD,
                        p->kafka_up >= 1 ? "kafka up" : "kafka DOWN", w);
                red_top_frame_put(l, RED_TOP_PLAIN, "  ", w);
                red_top_frame_put(
                        l, p->pg_up >= 1 ? RED_TOP_OK : RED_TOP_BAD,
                        p->pg_up >= 1 ? "postgres up" : "postgres DOWN", w);
                red_top_frame_putf(l, RED_TOP_PLAIN, w, "  %.0f partitions",
                                   p->partitions);
        }
        if (x->o->interval_s) {
                size_t len = strlen(right);
                snprintf(right + len, sizeof(right) - len, "%severy %d s",
                         len ? "  " : "", x->o->interval_s);
        }
        if (*right && w >= l->width + red_top_frame_width(right) + 2) {
                red_top_frame_pad(l, w - red_top_frame_width(right), w);
                red_top_frame_put(l, RED_TOP_DIM, right, w);
        }
        if (*d->error) {
                l = red_top_frame_line(f);
                red_top_frame_putf(l, RED_TOP_BAD, w, "query failed: %s",
                                   d->error);
        }
}

/* SUMMARY: the total group over the hour and the 24 hours. */
static void summary(red_top_frame_t *f, const ctx_t *x, size_t w)
{
        const red_top_sel_t *sel = x->sel;
        const red_top_data_t *d = x->d;
        const json_t *h = json_array_get(d->hour, 0),
                     *y = json_array_get(d->day, 0);
        item_t it[MAX_ITEMS];
        size_t n, lw;
        char a[64], b[64], key[128];
        red_top_line_t *l;

        if (!sel->agg) {
                return;
        }
        lw = w >= 36 ? w - 22 : 14;
        l = red_top_frame_line(f);
        red_top_frame_put(l, RED_TOP_TITLE, "SUMMARY", w);
        red_top_frame_pad(l, lw, w);
        red_top_frame_putf(l, RED_TOP_DIM, w, "%10s %10s", "hour", "24 h");
        if (sel->total < 0) {
                /* no total group: how much there is, over the groups */
                double events = 0;
                size_t i;
                json_t *row;
                count_key(sel->agg, key, sizeof(key));
                json_array_foreach(d->groups, i, row)
                {
                        double v = val(row, key);
                        events += isnan(v) ? 0 : v;
                }
                l = red_top_frame_line(f);
                red_top_frame_putf(l, RED_TOP_PLAIN, w, " %s", key);
                red_top_frame_pad(l, lw, w);
                red_top_frame_putf(l, RED_TOP_PLAIN, w, "%10s %10s", "",
                                   red_top_frame_num(events, b, sizeof(b)));
                l = red_top_frame_line(f);
                red_top_frame_putf(l, RED_TOP_PLAIN, w, " %s", "groups");
                red_top_frame_pad(l, lw, w);
                red_top_frame_putf(l, RED_TOP_PLAIN, w, "%10s %10zu", "",
                                   json_array_size(d->groups));
                return;
        }
        n = headline(sel->agg, it, false);
        for (size_t i = 0; i < n; i++) {
                double vh = val(h, it[i].key), vd = val(y, it[i].key);
                l = red_top_frame_line(f);
                red_top_frame_putf(l, RED_TOP_PLAIN, w, " %s", it[i].label);
                red_top_frame_pad(l, lw, w);
                red_top_frame_putf(
                        l, RED_TOP_PLAIN, w, "%10s %10s",
                        it[i].percent ? red_top_frame_pct(vh, a, sizeof(a))
                                      : red_top_frame_num(vh, a, sizeof(a)),
                        it[i].percent ? red_top_frame_pct(vd, b, sizeof(b))
                                      : red_top_frame_num(vd, b, sizeof(b)));
        }
}

/* A label and its number, coloured when @p warn. */
static void stat(red_top_line_t *l, const char *label, double v, bool warn,
                 size_t w)
{
        char b[64];

        red_top_frame_putf(l, RED_TOP_DIM, w, " %s ", label);
        red_top_frame_put(l, warn ? RED_TOP_WARN : RED_TOP_PLAIN,
                          red_top_frame_num(v, b, sizeof(b)), w);
}

/* PIPELINE: the daemon's counters for the contract; MEASURES under it. */
static void pipeline(red_top_frame_t *f, const ctx_t *x, size_t w)
{
        const red_top_data_t *d = x->d;
        const red_top_pipe_t *p = &d->pipe;
        char b[64], sp[RED_TOP_LIVE_MINUTES * 3 + 1];
        red_top_line_t *l = red_top_frame_line(f);
        size_t cols;
        double live[RED_TOP_LIVE_MINUTES];

        red_top_frame_put(l, RED_TOP_TITLE, "PIPELINE", w);
        red_top_frame_put(l, RED_TOP_DIM, " /metrics", w);
        if (!p->ok) {
                l = red_top_frame_line(f);
                red_top_frame_put(l, RED_TOP_WARN, " no daemon answered", w);
                return;
        }
        l = red_top_frame_line(f);
        stat(l, "consumed", p->consumed, false, w);
        stat(l, " applied", p->applied, false, w);
        if (!isnan(p->rate)) {
                red_top_frame_putf(l, RED_TOP_PLAIN, w, "  %s/s",
                                   red_top_frame_num(p->rate, b, sizeof(b)));
        }
        l = red_top_frame_line(f);
        stat(l, "lag", p->lag, p->lag > 0, w);
        stat(l, " dead letters", p->dead, p->dead > 0, w);
        stat(l, " outbox", p->outbox, false, w);
        l = red_top_frame_line(f);
        stat(l, "late applied", p->late_applied, false, w);
        stat(l, " dropped", p->late_dropped, p->late_dropped > 0, w);
        /* the last hour per minute, squeezed into what fits */
        cols = w > 14 ? w - 10 : 4;
        cols = cols < RED_TOP_LIVE_MINUTES ? cols : RED_TOP_LIVE_MINUTES;
        for (size_t i = 0; i < cols; i++) {
                size_t lo = i * RED_TOP_LIVE_MINUTES / cols,
                       hi = (i + 1) * RED_TOP_LIVE_MINUTES / cols;
                live[i] = NAN;
                for (size_t m = lo; m < hi; m++) {
                        if (!isnan(d->live[m])) {
                                live[i] = (isnan(live[i]) ? 0 : live[i]) +
                                          d->live[m];
                        }
                }
        }
        red_top_frame_spark(live, cols, x->o->utf8, sp, sizeof(sp));
        l = red_top_frame_line(f);
        red_top_frame_put(l, RED_TOP_DIM, " 60 min", w);
        red_top_frame_pad(l, 9, w);
        red_top_frame_put(l, RED_TOP_INFO, sp, w);
}

static void measures(red_top_frame_t *f, const ctx_t *x, size_t w)
{
        const red_agg_t *a = x->sel->agg;
        const json_t *y = json_array_get(x->d->day, 0);
        char k[128], s1[64], s2[64];
        red_top_line_t *l = NULL;

        if (!a || x->sel->total < 0) {
                return;
        }
        for (size_t i = 0; i < a->measure_cnt; i++) {
                const red_measure_t *m = &a->measures[i];
                double sum, avg;
                if (m->kind != RED_MEAS_STATS) {
                        continue;
                }
                if (!l) {
                        l = red_top_frame_line(f);
                        red_top_frame_put(l, RED_TOP_TITLE, "MEASURES", w);
                        red_top_frame_put(l, RED_TOP_DIM, " 24 h", w);
                        red_top_frame_pad(l, 14, w);
                        red_top_frame_putf(l, RED_TOP_DIM, w, "%10s %10s",
                                           "sum", "avg");
                }
                snprintf(k, sizeof(k), "%s.sum", m->name);
                sum = val(y, k);
                snprintf(k, sizeof(k), "%s.avg", m->name);
                avg = val(y, k);
                l = red_top_frame_line(f);
                red_top_frame_putf(l, RED_TOP_PLAIN, w, " %-13s%10s %10s",
                                   m->name,
                                   red_top_frame_num(sum, s1, sizeof(s1)),
                                   red_top_frame_num(avg, s2, sizeof(s2)));
        }
}

/* Side by side when the width allows, else one under the other. */
static void top_block(red_top_frame_t *f, const ctx_t *x)
{
        red_top_frame_t left = {0}, right = {0};
        size_t w = x->width, lw = w >= 76 ? w / 2 : w;

        summary(&left, x, lw - (lw < w ? 2 : 0));
        pipeline(&right, x, lw < w ? w - lw - 2 : w);
        measures(&right, x, lw < w ? w - lw - 2 : w);
        if (lw == w) {
                for (size_t i = 0; i < left.cnt; i++) {
                        red_top_frame_append(red_top_frame_line(f),
                                             &left.lines[i], w);
                }
                for (size_t i = 0; i < right.cnt; i++) {
                        red_top_frame_append(red_top_frame_line(f),
                                             &right.lines[i], w);
                }
        } else {
                size_t n = left.cnt > right.cnt ? left.cnt : right.cnt;
                for (size_t i = 0; i < n; i++) {
                        red_top_line_t *l = red_top_frame_line(f);
                        if (i < left.cnt) {
                                red_top_frame_append(l, &left.lines[i], w);
                        }
                        red_top_frame_pad(l, lw, w);
                        if (i < right.cnt) {
                                red_top_frame_append(l, &right.lines[i], w);
                        }
                }
        }
        red_top_frame_clear(&left);
        red_top_frame_clear(&right);
}

/* How alarming a style is: 3 CRITICAL ... 0 nothing. */
static int alarm(red_top_style_t st)
{
        return st == RED_TOP_BAD    ? 3
               : st == RED_TOP_WARN ? 2
               : st == RED_TOP_INFO ? 1
                                    : 0;
}

/* The value a group is ranked by, larger = worse: the alert rules its
 * values cross first, then the first ratio (lower is worse), else the
 * first p95 (higher is worse). */
static double badness(const red_top_sel_t *sel, const item_t *it, size_t n,
                      const json_t *row, int *alarmp)
{
        const red_agg_t *a = sel->agg;
        int mk = metric_key(sel->c, a, sel->grouping);
        const char *metric = mk >= 0 ? json_string_value(json_object_get(
                                               row, a->key_columns[mk]))
                                     : NULL;

        *alarmp = 0;
        for (size_t i = 0; metric && i < n; i++) {
                int al = it[i].value ? alarm(rule_style(sel->c, metric,
                                                        val(row, it[i].key)))
                                     : 0;
                *alarmp = al > *alarmp ? al : *alarmp;
        }
        for (size_t i = 0; i < n; i++) {
                if (it[i].percent) {
                        return -val(row, it[i].key);
                }
        }
        for (size_t i = 0; i < n; i++) {
                if (ends_with(it[i].key, ".p95")) {
                        return val(row, it[i].key);
                }
        }
        return 0;
}

typedef struct ranked_s {
        const json_t *row;
        int alarm;
        double bad;
} ranked_t;

static int by_badness(const void *a, const void *b)
{
        const ranked_t *x = a, *y = b;

        if (x->alarm != y->alarm) {
                return x->alarm > y->alarm ? -1 : 1;
        }
        if (isnan(x->bad) != isnan(y->bad)) {
                return isnan(x->bad) ? 1 : -1;
        }
        return x->bad > y->bad ? -1 : x->bad < y->bad ? 1 : 0;
}

/* The groups of @p d ranked worst first (malloc'd; *cnt rows). */
static ranked_t *rank(const red_top_sel_t *sel, const red_top_data_t *d,
                      size_t *cnt)
{
        size_t rows = json_array_size(d->groups), n, i;
        item_t it[MAX_ITEMS];
        ranked_t *r;
        json_t *row;

        *cnt = 0;
        if (!sel->agg || !(r = calloc(rows ? rows : 1, sizeof(*r)))) {
                return NULL;
        }
        n = headline(sel->agg, it, true);
        json_array_foreach(d->groups, i, row)
        {
                r[i].row = row;
                r[i].bad = badness(sel, it, n, row, &r[i].alarm);
        }
        qsort(r, rows, sizeof(*r), by_badness);
        *cnt = rows;
        return r;
}

const json_t *red_top_view_first(const red_top_sel_t *sel,
                                 const red_top_data_t *d)
{
        size_t cnt;
        ranked_t *r = rank(sel, d, &cnt);
        const json_t *first = cnt ? r[0].row : NULL;

        free(r);
        return first;
}

/* One row of the GROUPS table. */
/* The group's key values but the constant ones ("effect", "routing_ms
 * agent-1"), into @p buf; returns its length. */
static size_t row_keys(const red_top_sel_t *sel, const json_t *row, char *buf,
                       size_t size)
{
        const red_agg_t *a = sel->agg;
        const red_grouping_t *g = &a->groupings[sel->grouping];
        size_t pos = 0;

        buf[0] = '\0';
        for (size_t k = 0; k < a->key_cnt && pos < size; k++) {
                const char *v = json_string_value(
                        json_object_get(row, a->key_columns[k]));
                if (sel->c->dims[g->dims[k]].kind == RED_DIM_CONSTANT) {
                        continue;
                }
                pos += (size_t)snprintf(buf + pos, size - pos, "%s%s",
                                        pos ? " " : "", v ? v : "-");
        }
        return pos < size ? pos : size - 1;
}

static void group_row(red_top_frame_t *f, const ctx_t *x, const json_t *row,
                      const item_t *it, size_t n, size_t kw, const char *mark)
{
        const red_top_sel_t *sel = x->sel;
        const red_agg_t *a = sel->agg;
        int mk = metric_key(sel->c, a, sel->grouping);
        const char *metric = mk >= 0 ? json_string_value(json_object_get(
                                               row, a->key_columns[mk]))
                                     : NULL;
        red_top_line_t *l = red_top_frame_line(f);
        char keys[256], b[64];
        size_t w = x->width;

        row_keys(sel, row, keys, sizeof(keys));
        red_top_frame_putf(l, RED_TOP_DIM, w, "%s", mark);
        red_top_frame_put(l, RED_TOP_PLAIN, keys, w > kw + 2 ? kw + 2 : w);
        red_top_frame_pad(l, kw + 2, w);
        for (size_t i = 0; i < n; i++) {
                double v = val(row, it[i].key);
                size_t cw = red_top_frame_width(it[i].label) > 7
                                    ? red_top_frame_width(it[i].label)
                                    : 7;
                red_top_frame_putf(
                        l,
                        it[i].value ? rule_style(sel->c, metric, v)
                                    : RED_TOP_PLAIN,
                        w, " %*s", (int)cw,
                        it[i].percent ? red_top_frame_pct(v, b, sizeof(b))
                                      : red_top_frame_num(v, b, sizeof(b)));
        }
}

/* GROUPS: every group of the grouping over 24 h, worst first. */
static void groups(red_top_frame_t *f, const ctx_t *x)
{
        const red_top_sel_t *sel = x->sel;
        const red_agg_t *a = sel->agg;
        const red_grouping_t *g;
        size_t n, rows, kw = 9, i;
        item_t it[MAX_ITEMS];
        ranked_t *r;
        red_top_line_t *l;
        const char *worst = x->o->utf8 ? "▼" : "v",
                   *best = x->o->utf8 ? "▲" : "^";
        size_t w = x->width;

        if (!a) {
                return;
        }
        g = &a->groupings[sel->grouping];
        n = headline(a, it, true);
        if (!(r = rank(sel, x->d, &rows))) {
                return;
        }
        for (i = 0; i < rows; i++) {
                char keys[256];
                size_t len = row_keys(sel, r[i].row, keys, sizeof(keys));
                kw = len > kw ? (len < 48 ? len : 48) : kw;
        }
        l = red_top_frame_line(f);
        red_top_frame_put(l, RED_TOP_TITLE, "GROUPS", w);
        red_top_frame_putf(l, RED_TOP_DIM, w, " %s, 24 h, worst first%s",
                           g->name,
                           metric_key(sel->c, a, sel->grouping) >= 0
                                   ? " (colours: the contract's alert rules)"
                                   : "");
        l = red_top_frame_line(f);
        {
                char keys[128] = "";
                size_t pos = 0;
                for (size_t k = 0; k < a->key_cnt; k++) {
                        const red_dim_t *d = &sel->c->dims[g->dims[k]];
                        if (d->kind == RED_DIM_CONSTANT) {
                                continue;
                        }
                        pos += (size_t)snprintf(keys + pos, sizeof(keys) - pos,
                                                "%s%s", pos ? " " : "",
                                                d->name);
                        if (pos >= sizeof(keys)) {
                                break;
                        }
                }
                red_top_frame_putf(l, RED_TOP_DIM, w, "  %-*s", (int)kw, keys);
        }
        for (size_t k = 0; k < n; k++) {
                red_top_frame_putf(l, RED_TOP_DIM, w, " %7s", it[k].label);
        }
        for (i = 0; i < rows; i++) {
                group_row(f, x, r[i].row, it, n, kw,
                          rows < 2        ? " "
                          : i == 0        ? worst
                          : i == rows - 1 ? best
                                          : " ");
        }
        if (!rows) {
                l = red_top_frame_line(f);
                red_top_frame_put(l, RED_TOP_DIM,
                                  "  no data in the last 24 hours", w);
        }
        free(r);
}

/* "duration.p95_seconds" for member p95_seconds of duration_statistics:
 * the column's first word keeps trend labels short. */
static void member_label(const char *col, const char *key, char *out,
                         size_t size)
{
        snprintf(out, size, "%.*s.%s", (int)strcspn(col, "_"), col, key);
}

/* The columns a trend draws, most telling first: ratios, p95s, totals
 * and counts; the others are left to `reducerd query series`. */
static size_t trend_columns(const red_agg_t *a, item_t *it)
{
        item_t all[MAX_ITEMS];
        size_t n = 0, out = 0;

        for (size_t i = 0; i < a->column_cnt; i++) {
                const red_column_t *c = &a->columns[i];
                if (c->kind == RED_COL_EXPR) {
                        n = add_item(all, n, c->name, c->name,
                                     ends_with(c->name, "_rate"));
                } else if (c->kind == RED_COL_OBJECT) {
                        for (size_t k = 0; k < c->key_cnt; k++) {
                                char key[128], label[128];
                                snprintf(key, sizeof(key), "%s.%s", c->name,
                                         c->keys[k]);
                                member_label(c->name, c->keys[k], label,
                                             sizeof(label));
                                n = add_item(all, n, key, label, false);
                        }
                }
        }
        for (int pass = 0; pass < 3; pass++) {
                for (size_t i = 0; i < n; i++) {
                        const char *k = all[i].key;
                        int p = ends_with(k, "_rate")                       ? 0
                                : strstr(k, "p95")                          ? 1
                                : strstr(k, "total") || !strcmp(k, "count") ? 2
                                                                            : 3;
                        if (p == pass) {
                                it[out++] = all[i];
                        }
                }
        }
        return out;
}

/* TRENDS: a sparkline per column over the window type's last windows. */
static void trends(red_top_frame_t *f, const ctx_t *x)
{
        const red_top_data_t *d = x->d;
        const red_agg_t *a = x->sel->agg;
        item_t it[MAX_ITEMS];
        double v[RED_TOP_MAX_TREND];
        char sp[RED_TOP_MAX_TREND * 3 + 1], t[RED_TIME_FMT_SIZE], b[64];
        size_t n, w = x->width, k, first, last;
        red_top_line_t *l;

        if (!a || !d->start_cnt) {
                return;
        }
        n = trend_columns(a, it);
        k = d->start_cnt;
        /* what fits after the name and before the value */
        if (w < 21 + 10 + 4) {
                k = 4;
        } else if (k > w - 31) {
                k = w - 31;
        }
        first = d->start_cnt - k;
        red_time_format(d->starts[d->start_cnt - 1], t, sizeof(t));
        l = red_top_frame_line(f);
        red_top_frame_put(l, RED_TOP_TITLE, "TRENDS", w);
        red_top_frame_putf(l, RED_TOP_DIM, w, " %s, last %zu to %.10s %.5s%s%s",
                           red_window_type_name(x->sel->window), k, t, t + 11,
                           *d->trend_group ? ", " : "", d->trend_group);
        for (size_t c = 0; c < n; c++) {
                for (size_t s = 0; s < k; s++) {
                        size_t i;
                        json_t *row;
                        red_time_format(d->starts[first + s], t, sizeof(t));
                        v[s] = NAN;
                        json_array_foreach(d->trend, i, row)
                        {
                                const char *ws = json_string_value(
                                        json_object_get(row, "window_start"));
                                if (ws && !strcmp(ws, t)) {
                                        v[s] = val(row, it[c].key);
                                }
                        }
                }
                red_top_frame_spark(v, k, x->o->utf8, sp, sizeof(sp));
                l = red_top_frame_line(f);
                red_top_frame_putf(l, RED_TOP_PLAIN, w, " %-20.20s ",
                                   it[c].label);
                red_top_frame_put(l, RED_TOP_INFO, sp, w);
                /* the newest window with a value */
                for (last = k; last > 0 && isnan(v[last - 1]); last--) {
                }
                red_top_frame_putf(
                        l, RED_TOP_PLAIN, w, " %s",
                        !last ? "-"
                        : it[c].percent
                                ? red_top_frame_pct(v[last - 1], b, sizeof(b))
                                : red_top_frame_num(v[last - 1], b, sizeof(b)));
        }
}

static red_top_style_t severity_style(const char *s)
{
        return !s                       ? RED_TOP_PLAIN
               : !strcmp(s, "CRITICAL") ? RED_TOP_BAD
               : !strcmp(s, "WARNING")  ? RED_TOP_WARN
                                        : RED_TOP_INFO;
}

/* ALERTS (latest first) and WORKFLOWS (counts per state). */
static void alerts(red_top_frame_t *f, const ctx_t *x)
{
        const red_top_data_t *d = x->d;
        const red_contract_t *c = x->sel->c;
        size_t w = x->width, i;
        red_top_line_t *l;
        json_t *row;
        char a[64], b[64];

        if (d->workflows) {
                l = red_top_frame_line(f);
                red_top_frame_put(l, RED_TOP_TITLE, "WORKFLOWS", w);
                for (size_t s = 0; c->fsm && s < c->fsm->state_cnt; s++) {
                        double cnt = 0;
                        json_array_foreach(d->workflows, i, row)
                        {
                                const char *st = json_string_value(
                                        json_object_get(row, "current_state"));
                                if (st && !strcmp(st, c->fsm->states[s])) {
                                        cnt = val(row, "count");
                                }
                        }
                        red_top_frame_putf(l, RED_TOP_PLAIN, w, " %s ",
                                           c->fsm->states[s]);
                        red_top_frame_put(l, RED_TOP_TITLE,
                                          red_top_frame_num(cnt, a, sizeof(a)),
                                          w);
                }
        }
        if (!d->alerts) {
                return;
        }
        l = red_top_frame_line(f);
        red_top_frame_put(l, RED_TOP_TITLE, "ALERTS", w);
        red_top_frame_put(l, RED_TOP_DIM, " 24 h, latest first", w);
        json_array_foreach(d->alerts, i, row)
        {
                const char *at = json_string_value(
                                   json_object_get(row, "triggered_at")),
                           *sev = json_string_value(
                                   json_object_get(row, "severity")),
                           *rule = json_string_value(
                                   json_object_get(row, "rule_id")),
                           *scope = json_string_value(
                                   json_object_get(row, "agent_id")),
                           *msg = json_string_value(
                                   json_object_get(row, "message"));
                double v = val(row, "actual_value"), th = val(row, "threshold");
                l = red_top_frame_line(f);
                red_top_frame_putf(l, RED_TOP_DIM, w, " %.5s %.5s ",
                                   at ? at + 5 : "",
                                   at && strlen(at) > 11 ? at + 11 : "");
                red_top_frame_putf(l, severity_style(sev), w, "%-8s",
                                   sev ? sev : "?");
                red_top_frame_putf(
                        l, RED_TOP_PLAIN, w, " %s %s%s%s %s %s",
                        rule ? rule : "?", red_top_frame_num(v, a, sizeof(a)),
                        v > th ? ">" : "<", red_top_frame_num(th, b, sizeof(b)),
                        scope ? scope : "", msg ? msg : "");
        }
        if (!json_array_size(d->alerts)) {
                l = red_top_frame_line(f);
                red_top_frame_put(l, RED_TOP_DIM, " none in the last 24 hours",
                                  w);
        }
}

/* --- the frame ------------------------------------------------------------ */

/* Moves up to @p n lines of @p from into @p to. */
static void take(red_top_frame_t *to, red_top_frame_t *from, size_t n, size_t w)
{
        for (size_t i = 0; i < from->cnt && i < n; i++) {
                red_top_frame_append(red_top_frame_line(to), &from->lines[i],
                                     w);
        }
}

void red_top_view(red_top_frame_t *f, const red_top_sel_t *sel,
                  const red_top_data_t *d, const red_top_opts_t *o,
                  size_t width, size_t height)
{
        ctx_t x = {sel, d, o, width};
        red_top_frame_t head = {0}, block = {0}, sec[3] = {{0}};
        size_t want[3], give[3], room, min = 2;

        red_top_frame_clear(f);
        header(&head, &x);
        top_block(&block, &x);
        groups(&sec[0], &x);
        trends(&sec[1], &x);
        alerts(&sec[2], &x);
        take(f, &head, head.cnt, width);
        if (!height) {
                take(f, &block, block.cnt, width);
                for (int s = 0; s < 3; s++) {
                        take(f, &sec[s], sec[s].cnt, width);
                }
        } else {
                /* the header and the key line, then the top block, then
                 * each section's title and first line, then the rest in
                 * order */
                room = height > head.cnt + 1 ? height - head.cnt - 1 : 0;
                for (int s = 0; s < 3; s++) {
                        want[s] = sec[s].cnt;
                        give[s] = want[s] < min ? want[s] : min;
                        room -= give[s] <= room ? give[s] : room;
                }
                take(f, &block, room, width);
                room -= block.cnt < room ? block.cnt : room;
                for (int s = 0; s < 3; s++) {
                        size_t more = want[s] - give[s];
                        more = more < room ? more : room;
                        give[s] += more;
                        room -= more;
                        take(f, &sec[s], give[s], width);
                }
                while (f->cnt + 1 < height) {
                        red_top_frame_line(f);
                }
                red_top_frame_put(
                        red_top_frame_line(f), RED_TOP_DIM,
                        "c contract  a aggregation  g grouping  w window  r "
                        "refresh  q quit",
                        width);
        }
        red_top_frame_clear(&head);
        red_top_frame_clear(&block);
        for (int s = 0; s < 3; s++) {
                red_top_frame_clear(&sec[s]);
        }
}
