/* red_dmetrics - counts and renders a contract's domain Prometheus series. */
#include "red_dmetrics.h"

#include "red_aggregator.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct red_dmetrics_s {
        const red_contract_t *c;
        double *batch;  /* c->metric_values: what the open batch added */
        double *totals; /* c->metric_values: the committed batches */
};

red_dmetrics_t *red_dmetrics_new(const red_contract_t *c)
{
        size_t n = c->metric_values ? c->metric_values : 1;
        red_dmetrics_t *m = calloc(1, sizeof(*m));

        if (!m || !(m->batch = calloc(n, sizeof(double))) ||
            !(m->totals = calloc(n, sizeof(double)))) {
                red_dmetrics_destroy(m);
                return NULL;
        }
        m->c = c;
        /* the gauges are unknown until the caller reads them */
        for (size_t i = 0; i < c->metric_cnt; i++) {
                const red_metric_t *mt = &c->metrics[i];
                if (mt->type == RED_METRIC_GAUGE) {
                        for (size_t k = 0; k < mt->series_cnt; k++) {
                                m->totals[mt->offset + k] = NAN;
                        }
                }
        }
        return m;
}

void red_dmetrics_destroy(red_dmetrics_t *m)
{
        if (!m) {
                return;
        }
        free(m->batch);
        free(m->totals);
        free(m);
}

/* --- counting ------------------------------------------------------------ */

/* The series of @p ev in @p mt, or -1 when a label has no known value
 * (the loader rules that out: every label value set is complete). */
static long event_series(const red_metric_t *mt, const red_contract_t *c,
                         const red_event_t *ev)
{
        long s = 0;

        for (size_t l = 0; l < mt->label_cnt; l++) {
                const red_metric_label_t *lb = &mt->labels[l];
                char buf[48];
                const char *p;
                size_t len, v;

                if (!red_aggregator_dim_text(&c->dims[lb->dim], ev, buf, &p,
                                             &len)) {
                        return -1;
                }
                for (v = 0; v < lb->value_cnt; v++) {
                        if (strlen(lb->values[v]) == len &&
                            !memcmp(lb->values[v], p, len)) {
                                break;
                        }
                }
                if (v == lb->value_cnt) {
                        return -1;
                }
                s = s * (long)lb->value_cnt + (long)v;
        }
        return s;
}

/* Adds one observation @p x to series @p s of @p mt in @p vals. */
static void observe(const red_metric_t *mt, double *vals, long s, double x)
{
        double *v = vals + mt->offset + (size_t)s * mt->width;
        size_t b = 0;

        if (mt->type == RED_METRIC_COUNTER) {
                v[0] += x;
                return;
        }
        while (b < mt->bucket_cnt && x > mt->buckets[b]) {
                b++;
        }
        v[b]++;
        v[mt->bucket_cnt + 1] += x;
}

void red_dmetrics_event(red_dmetrics_t *m, const red_event_t *ev)
{
        const red_contract_t *c = m->c;

        for (size_t i = 0; i < c->metric_cnt; i++) {
                const red_metric_t *mt = &c->metrics[i];
                const red_value_t *v;
                double x = 1;
                long s;

                if (mt->source != RED_MSRC_EVENTS ||
                    !(mt->on >> ev->kind->index & 1) ||
                    (s = event_series(mt, c, ev)) < 0) {
                        continue;
                }
                if (mt->value_slot >= 0) {
                        if (!(v = red_event_value(ev, mt->value_slot))) {
                                continue;
                        }
                        x = v->type == RED_FT_INTEGER ? (double)v->i : v->d;
                }
                observe(mt, m->batch, s, x);
        }
}

/* The index of a row's label value: states, then "none" after them. */
static size_t row_value(const red_metric_label_t *lb, const red_fsm_t *fsm,
                        const red_fsm_row_t *row)
{
        int state;

        switch (lb->kind) {
        case RED_MLABEL_RESULT:
                return (size_t)row->result;
        case RED_MLABEL_FROM_STATE:
                state = row->from_state;
                break;
        default:
                state = row->to_state;
                break;
        }
        return state >= 0 ? (size_t)state : fsm->state_cnt;
}

void red_dmetrics_rows(red_dmetrics_t *m, const red_fsm_rows_t *rows)
{
        const red_contract_t *c = m->c;

        for (size_t i = 0; i < c->metric_cnt; i++) {
                const red_metric_t *mt = &c->metrics[i];

                if (mt->source != RED_MSRC_TRANSITIONS) {
                        continue;
                }
                for (size_t r = 0; r < rows->cnt; r++) {
                        long s = 0;
                        for (size_t l = 0; l < mt->label_cnt; l++) {
                                s = s * (long)mt->labels[l].value_cnt +
                                    (long)row_value(&mt->labels[l], c->fsm,
                                                    &rows->items[r]);
                        }
                        observe(mt, m->batch, s, 1);
                }
        }
}

void red_dmetrics_commit(red_dmetrics_t *m)
{
        for (size_t i = 0; i < m->c->metric_cnt; i++) {
                const red_metric_t *mt = &m->c->metrics[i];
                size_t n = mt->series_cnt * mt->width;

                if (mt->type == RED_METRIC_GAUGE) {
                        continue;
                }
                for (size_t k = mt->offset; k < mt->offset + n; k++) {
                        m->totals[k] += m->batch[k];
                }
        }
        red_dmetrics_rollback(m);
}

void red_dmetrics_rollback(red_dmetrics_t *m)
{
        memset(m->batch, 0, m->c->metric_values * sizeof(double));
}

const double *red_dmetrics_totals(const red_dmetrics_t *m)
{
        return m->totals;
}

/* --- workflow gauges ------------------------------------------------------ */

bool red_dmetrics_has_states(const red_contract_t *c)
{
        for (size_t i = 0; i < c->metric_cnt; i++) {
                if (c->metrics[i].source == RED_MSRC_WORKFLOWS) {
                        return true;
                }
        }
        return false;
}

void red_dmetrics_set_states(const red_contract_t *c, double *vals,
                             const int64_t *counts)
{
        for (size_t i = 0; i < c->metric_cnt; i++) {
                const red_metric_t *mt = &c->metrics[i];
                size_t s = 0;

                if (mt->source != RED_MSRC_WORKFLOWS) {
                        continue;
                }
                for (size_t k = 0; k < mt->series_cnt; k++) {
                        vals[mt->offset + k] = 0;
                }
                for (size_t st = 0; st < c->fsm->state_cnt; st++) {
                        if (!(mt->states >> st & 1)) {
                                continue;
                        }
                        /* with a state label, series s is the s-th state
                         * counted; without, one series sums them */
                        vals[mt->offset + (mt->label_cnt ? s++ : 0)] +=
                                (double)counts[st];
                }
        }
}

/* --- Prometheus text --------------------------------------------------- */

/* A label value or HELP text with \, " (labels) and newlines escaped. */
static void put_escaped(red_buf_t *out, const char *s, bool quote)
{
        for (; *s; s++) {
                if (*s == '\\' || (quote && *s == '"')) {
                        red_buf_putc(out, '\\');
                        red_buf_putc(out, *s);
                } else if (*s == '\n') {
                        red_buf_puts(out, "\\n");
                } else {
                        red_buf_putc(out, *s);
                }
        }
}

/* name{contract="c",labels of series s[,le="x"]} */
static void put_series(red_buf_t *out, const red_contract_t *c,
                       const red_metric_t *mt, const char *suffix, size_t s,
                       const char *le)
{
        size_t idx[RED_METRIC_MAX_LABELS], rest = s;

        for (size_t l = mt->label_cnt; l-- > 0;) {
                size_t n = mt->labels[l].value_cnt;
                idx[l] = rest % n;
                rest /= n;
        }
        red_buf_printf(out, "%s%s{contract=\"", mt->name, suffix);
        put_escaped(out, c->name, true);
        red_buf_putc(out, '"');
        for (size_t l = 0; l < mt->label_cnt; l++) {
                red_buf_printf(out, ",%s=\"", mt->labels[l].name);
                put_escaped(out, mt->labels[l].values[idx[l]], true);
                red_buf_putc(out, '"');
        }
        if (le) {
                red_buf_printf(out, ",le=\"%s\"", le);
        }
        red_buf_puts(out, "} ");
}

static void put_value(red_buf_t *out, double v)
{
        red_buf_printf(out, "%.15g\n", v);
}

static void render_histogram(red_buf_t *out, const red_contract_t *c,
                             const red_metric_t *mt, const double *v, size_t s)
{
        double cum = 0;
        char le[32];

        for (size_t b = 0; b <= mt->bucket_cnt; b++) {
                cum += v[b];
                if (b < mt->bucket_cnt) {
                        snprintf(le, sizeof(le), "%g", mt->buckets[b]);
                } else {
                        strcpy(le, "+Inf");
                }
                put_series(out, c, mt, "_bucket", s, le);
                put_value(out, cum);
        }
        put_series(out, c, mt, "_sum", s, NULL);
        put_value(out, v[mt->bucket_cnt + 1]);
        put_series(out, c, mt, "_count", s, NULL);
        put_value(out, cum);
}

void red_dmetrics_render(const red_contract_t *c, const double *vals,
                         red_buf_t *out)
{
        static const char *const types[] = {"counter", "histogram", "gauge"};

        for (size_t i = 0; i < c->metric_cnt; i++) {
                const red_metric_t *mt = &c->metrics[i];

                if (mt->type == RED_METRIC_GAUGE && isnan(vals[mt->offset])) {
                        continue; /* not read yet */
                }
                red_buf_printf(out, "# HELP %s ", mt->name);
                put_escaped(out, mt->help, false);
                red_buf_printf(out, "\n# TYPE %s %s\n", mt->name,
                               types[mt->type]);
                for (size_t s = 0; s < mt->series_cnt; s++) {
                        const double *v = vals + mt->offset + s * mt->width;
                        if (mt->type == RED_METRIC_HISTOGRAM) {
                                render_histogram(out, c, mt, v, s);
                        } else {
                                put_series(out, c, mt, "", s, NULL);
                                put_value(out, v[0]);
                        }
                }
        }
}
