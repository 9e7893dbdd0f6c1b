/* red_outputs - names of measure outputs ("duration.p99") and their refs. */
#include "red_outputs.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "p50", "p99_9", "p99_99" for the quantile code of a ref. */
static void percentile_name(int out, char *buf, size_t size)
{
        int bp = out - RED_OUT_Q0; /* basis points of a percent: q * 10000 */
        int whole = bp / 100, frac = bp % 100;

        if (!frac) {
                snprintf(buf, size, "p%d", whole);
        } else if (frac % 10 == 0) {
                snprintf(buf, size, "p%d_%d", whole, frac / 10);
        } else {
                snprintf(buf, size, "p%d_%02d", whole, frac);
        }
}

void red_outputs_name(const red_agg_t *agg, int ref, char *buf, size_t size)
{
        const red_measure_t *m = &agg->measures[RED_REF_MEASURE(ref)];
        int out = RED_REF_OUTPUT(ref);
        char p[16];

        if ((m->kind == RED_MEAS_COUNT && out == RED_OUT_COUNT) ||
            (m->kind == RED_MEAS_SUM && out == RED_OUT_SUM)) {
                snprintf(buf, size, "%s", m->name);
                return;
        }
        switch (out) {
        case RED_OUT_COUNT:
                snprintf(buf, size, "%s.count", m->name);
                return;
        case RED_OUT_SUM:
                snprintf(buf, size, "%s.sum", m->name);
                return;
        case RED_OUT_AVG:
                snprintf(buf, size, "%s.avg", m->name);
                return;
        case RED_OUT_MIN:
                snprintf(buf, size, "%s.min", m->name);
                return;
        case RED_OUT_MAX:
                snprintf(buf, size, "%s.max", m->name);
                return;
        case RED_OUT_EVENTS:
                snprintf(buf, size, "%s.events", m->name);
                return;
        default:
                percentile_name(out, p, sizeof(p));
                snprintf(buf, size, "%s.%s", m->name, p);
                return;
        }
}

int red_outputs_quantile(const char *s)
{
        char *end;
        double q;

        if (s[0] == 'p' && isdigit((unsigned char)s[1])) {
                long whole = strtol(s + 1, &end, 10);
                long frac = 0;
                if (*end == '_') {
                        const char *d = end + 1;
                        size_t digits = strspn(d, "0123456789");
                        if (digits < 1 || digits > 2 || d[digits]) {
                                return -1;
                        }
                        frac = strtol(d, &end, 10) * (digits == 1 ? 10 : 1);
                }
                if (*end || whole > 100 || (whole == 100 && frac)) {
                        return -1;
                }
                return RED_OUT_Q0 + (int)(whole * 100 + frac);
        }
        if (!isdigit((unsigned char)s[0])) {
                return -1;
        }
        q = strtod(s, &end);
        if (*end || !(q >= 0 && q <= 1)) {
                return -1;
        }
        /* four decimals at most (0.9999): the code holds basis points */
        if (fabs(q * 10000 - round(q * 10000)) > 1e-6) {
                return -1;
        }
        return RED_OUT_Q0 + (int)lround(q * 10000);
}

int red_outputs_parse(const red_agg_t *agg, const char *name)
{
        const char *dot = strchr(name, '.');
        size_t len = dot ? (size_t)(dot - name) : strlen(name);

        for (size_t i = 0; i < agg->measure_cnt; i++) {
                const red_measure_t *m = &agg->measures[i];
                int out = -1, base = (int)i << 16;
                if (strlen(m->name) != len || strncmp(m->name, name, len)) {
                        continue;
                }
                if (m->kind >= RED_MEAS_COUNT_BY) {
                        return -1;
                }
                if (!dot) {
                        return m->kind == RED_MEAS_COUNT ? base | RED_OUT_COUNT
                               : m->kind == RED_MEAS_SUM ? base | RED_OUT_SUM
                                                         : -1;
                }
                if (!strcmp(dot + 1, "events")) {
                        return base | RED_OUT_EVENTS;
                }
                if (m->kind == RED_MEAS_COUNT) {
                        return -1;
                }
                if (!strcmp(dot + 1, "count")) {
                        out = RED_OUT_COUNT;
                } else if (!strcmp(dot + 1, "sum") && m->kind != RED_MEAS_SUM) {
                        out = RED_OUT_SUM;
                } else if (m->kind == RED_MEAS_SUM) {
                        return -1;
                } else if (!strcmp(dot + 1, "avg")) {
                        out = RED_OUT_AVG;
                } else if (!strcmp(dot + 1, "min")) {
                        out = RED_OUT_MIN;
                } else if (!strcmp(dot + 1, "max")) {
                        out = RED_OUT_MAX;
                } else if (m->kind == RED_MEAS_SKETCH && dot[1] == 'p') {
                        out = red_outputs_quantile(dot + 1);
                }
                return out < 0 ? -1 : base | out;
        }
        return -1;
}
