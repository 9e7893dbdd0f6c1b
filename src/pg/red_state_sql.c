/* red_state_sql - the effective status and stored values of state sinks. */
#include "red_state_sql.h"

#include "red_pg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void red_state_sql_literal(const char *text, red_buf_t *out)
{
        red_buf_putc(out, '\'');
        for (const char *p = text; *p; p++) {
                if (*p == '\'') {
                        red_buf_putc(out, '\'');
                }
                red_buf_putc(out, *p);
        }
        red_buf_putc(out, '\'');
}

/* alias + quoted identifier. */
static int column(const char *alias, const char *name, red_buf_t *out)
{
        char q[80];

        if (red_pg_ident(name, q, sizeof(q))) {
                return -EINVAL;
        }
        red_buf_puts(out, alias);
        red_buf_puts(out, q);
        return 0;
}

int red_state_sql_effective(const red_state_t *s, const char *alias,
                            const char *clock, red_buf_t *out)
{
        const red_staleness_t *st = s->stale;

        if (!st) {
                red_buf_puts(out, "NULL::text");
                return 0;
        }
        /* GREATEST skips NULLs, as the C rule skips absent times */
        red_buf_puts(out, "CASE WHEN GREATEST(");
        for (size_t i = 0; i < st->time_cnt; i++) {
                if (i) {
                        red_buf_puts(out, ", ");
                }
                if (column(alias, s->columns[st->time_cols[i]].name, out)) {
                        return -EINVAL;
                }
        }
        red_buf_printf(out, ") + make_interval(secs => %.17g * ", st->factor);
        if (st->interval_col >= 0) {
                red_buf_puts(out, "CASE WHEN ");
                if (column(alias, s->columns[st->interval_col].name, out)) {
                        return -EINVAL;
                }
                red_buf_puts(out, " > 0 THEN ");
                if (column(alias, s->columns[st->interval_col].name, out)) {
                        return -EINVAL;
                }
                red_buf_printf(out, "::double precision ELSE %.17g END",
                               (double)st->default_interval_us / 1e6);
        } else {
                red_buf_printf(out, "%.17g",
                               (double)st->default_interval_us / 1e6);
        }
        red_buf_printf(out, ") < %s THEN ", clock);
        red_state_sql_literal(st->value, out);
        red_buf_puts(out, "::text ELSE ");
        if (column(alias, s->columns[st->status_col].name, out)) {
                return -EINVAL;
        }
        red_buf_puts(out, "::text END");
        return 0;
}

int red_state_sql_select(const red_state_col_t *col, const char *alias,
                         red_buf_t *out)
{
        switch (col->type) {
        case RED_FT_TIMESTAMP:
                red_buf_puts(out, "(extract(epoch FROM ");
                if (column(alias, col->name, out)) {
                        return -EINVAL;
                }
                red_buf_puts(out, ") * 1000000)::bigint");
                return 0;
        default:
                if (column(alias, col->name, out)) {
                        return -EINVAL;
                }
                red_buf_puts(out, "::text");
                return 0;
        }
}

json_t *red_state_sql_value(const red_state_col_t *col, const char *text)
{
        char *end;

        if (!text) {
                return NULL;
        }
        switch (col->type) {
        case RED_FT_STRING:
        case RED_FT_UUID:
                return json_string(text);
        case RED_FT_INTEGER:
        case RED_FT_TIMESTAMP: {
                long long v = strtoll(text, &end, 10);
                return *end ? NULL : json_integer(v);
        }
        case RED_FT_NUMBER: {
                double v = strtod(text, &end);
                return *end ? NULL : json_real(v);
        }
        case RED_FT_BOOLEAN:
                return json_boolean(text[0] == 't');
        default:
                /* objects, arrays and members of any type: jsonb text */
                return json_loads(text, JSON_DECODE_ANY, NULL);
        }
}
