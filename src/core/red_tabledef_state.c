/* red_tabledef_state - the tables of state sinks: one row per key, a
 * table per list, and the history (a raw sink's table, built with the
 * raw sinks). */
#include "red_tabledef_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TIMESTAMPTZ "timestamp with time zone"

/* The SQL type of what a column of type @p t holds, other than text. */
static const char *class_type(red_field_type_t t)
{
        switch (red_tabledef_field_class(t)) {
        case RED_SQLT_INTEGER:
                return "bigint";
        case RED_SQLT_FLOAT:
                return "double precision";
        case RED_SQLT_BOOLEAN:
                return "boolean";
        case RED_SQLT_UUID:
                return "uuid";
        case RED_SQLT_TIME:
                return TIMESTAMPTZ;
        case RED_SQLT_JSON:
                return "jsonb";
        default:
                return "text";
        }
}

static void put_kinds(red_buf_t *d, const red_contract_t *c, uint64_t kinds)
{
        bool first = true;

        for (size_t k = 0; k < c->kind_cnt; k++) {
                if (kinds & (UINT64_C(1) << c->kinds[k].index)) {
                        red_buf_printf(d, "%s%s", first ? "" : ", ",
                                       c->kinds[k].name);
                        first = false;
                }
        }
}

/* What column @p col's values are: its rule, source and the kinds that
 * change it (a changed rule would change every stored value). */
static void rule_text(red_buf_t *d, const red_contract_t *c,
                      const red_state_t *s, const red_state_col_t *col)
{
        static const char *const rules[] = {
                [RED_RULE_LATEST] = "latest", [RED_RULE_FIRST] = "first",
                [RED_RULE_MAX] = "max",       [RED_RULE_COUNT] = "count",
                [RED_RULE_MERGE] = "merge",   [RED_RULE_TEXT] = "text of",
        };

        red_buf_printf(d, "%s ", rules[col->rule]);
        if (col->rule == RED_RULE_TEXT) {
                for (size_t p = 0; p < col->part_cnt; p++) {
                        const red_text_part_t *tp = &col->parts[p];
                        red_buf_puts(d, p ? ", " : "");
                        if (tp->kind == RED_TEXT_ITEMS) {
                                red_buf_printf(d, "items of %s (", tp->name);
                                for (size_t m = 0; m < tp->member_cnt; m++) {
                                        red_buf_printf(d, "%s%s", m ? ", " : "",
                                                       tp->members[m]);
                                }
                                red_buf_putc(d, ')');
                        } else {
                                red_buf_printf(d, "%s%s",
                                               tp->kind == RED_TEXT_STRINGS
                                                       ? "strings of "
                                                       : "",
                                               tp->name);
                        }
                }
                return;
        }
        if (col->rule == RED_RULE_COUNT) {
                red_buf_puts(d, "events");
        } else if (col->slot == RED_STATE_TIME) {
                red_buf_puts(d, "event time");
        } else {
                red_tabledef_build_field_text(d, c, col->slot);
                for (size_t p = 0; p < col->path_cnt; p++) {
                        red_buf_printf(d, ".%s", col->path[p]);
                }
                if (col->path_cnt) {
                        red_buf_printf(d, " as %s",
                                       red_contract_field_type_name(col->type));
                }
        }
        red_buf_puts(d, " of ");
        put_kinds(d, c, col->on ? col->on : s->on);
}

/* A contract column, its type from what it holds; NOT NULL when every
 * kind that creates a row carries its field (so every row has it). */
static red_coldef_t *state_col(build_t *b, red_tabledef_t *t,
                               const red_state_t *s, const red_state_col_t *col)
{
        const red_contract_t *c = b->c;
        bool not_null = false;
        const char *def = NULL;
        char type[64];
        red_coldef_t *cd;
        red_buf_t d;

        if (col->rule == RED_RULE_COUNT) {
                snprintf(type, sizeof(type), "bigint");
                not_null = true;
                def = "0";
        } else if (col->rule == RED_RULE_TEXT) {
                snprintf(type, sizeof(type), "text");
        } else if (col->slot >= 0 && !col->path_cnt) {
                red_tabledef_build_field_type(c, col->slot, type, sizeof(type));
                not_null = (s->create & ~(col->on ? col->on : s->on)) == 0 &&
                           red_tabledef_build_field_always(c, s->create,
                                                           col->slot);
        } else {
                snprintf(type, sizeof(type), "%s", class_type(col->type));
        }
        red_buf_init(&d);
        rule_text(&d, c, s, col);
        cd = red_tabledef_build_col(b, t, col->name, type, not_null, def,
                                    d.data ? d.data : "");
        red_tabledef_build_col_override(
                b, cd,
                red_contract_coltype_find(s->coltypes, s->coltype_cnt,
                                          col->name));
        red_buf_reset(&d);
        red_buf_printf(&d, "%s%s%s%s = ", cd ? cd->type : "",
                       cd && cd->not_null ? " not null" : "",
                       cd && cd->def ? " default " : "",
                       cd && cd->def ? cd->def : "");
        rule_text(&d, c, s, col);
        if (d.failed) {
                b->oom = true;
        }
        red_tabledef_build_meaning(
                b, t, RED_MEANING_COLUMN,
                red_tabledef_build_fmt(b, "column %s", col->name),
                red_buf_steal(&d, NULL));
        return cd;
}

/* The key column: the key field's type (or the state's column_types). */
static void key_col(build_t *b, red_tabledef_t *t, const red_state_t *s,
                    const char *comment)
{
        char type[64];
        red_coldef_t *cd;

        red_tabledef_build_field_type(b->c, s->key_slot, type, sizeof(type));
        cd = red_tabledef_build_col(b, t, s->key_column, type, true, NULL,
                                    comment);
        red_tabledef_build_col_override(
                b, cd,
                red_contract_coltype_find(s->coltypes, s->coltype_cnt,
                                          s->key_column));
}

static void state_table(build_t *b, const red_state_t *s)
{
        const red_contract_t *c = b->c;
        char owner[160], status[64];
        red_tabledef_t *t;

        snprintf(owner, sizeof(owner), "state %s", s->name);
        if (!(t = red_tabledef_build_table(b, s->table, "state", owner))) {
                return;
        }
        t->comment = red_tabledef_build_fmt(
                b, "One row per %s: state %s of contract %s (reducerd).",
                s->key_column, s->name, c->name);
        key_col(b, t, s, "the key");
        red_tabledef_build_pkey(b, t, s->key_column);
        for (size_t i = 0; i < s->column_cnt; i++) {
                state_col(b, t, s, &s->columns[i]);
        }
        /* state_status holds a value of the status column, or the
         * staleness value: the status column's type (copied: the columns
         * move as more are added) */
        snprintf(status, sizeof(status), "text");
        if (s->stale) {
                const red_coldef_t *sc = red_tabledef_col(
                        t, s->columns[s->stale->status_col].name);
                if (sc && sc->type) {
                        snprintf(status, sizeof(status), "%s", sc->type);
                }
        }
        if (s->deleted_column) {
                red_tabledef_build_col(b, t, s->deleted_column, TIMESTAMPTZ,
                                       false, NULL,
                                       "when the row was deleted (null: "
                                       "live)");
        }
        red_tabledef_build_col(b, t, "state_times", "jsonb", true, "'{}'",
                               "the event time of each column's value");
        red_tabledef_build_col(b, t, "state_status", status, false, NULL,
                               "the effective status last published");
        red_tabledef_build_col(b, t, "state_partition", "integer", false, NULL,
                               "the Kafka partition of the row's key");
        red_tabledef_build_col(b, t, "revision", "bigint", true, "0",
                               "batches that changed the row");
        red_tabledef_build_col(b, t, "created_at", TIMESTAMPTZ, true, "now()",
                               "when reducerd stored the row first");
        red_tabledef_build_col(b, t, "updated_at", TIMESTAMPTZ, true, "now()",
                               "when reducerd changed the row last");
        red_tabledef_build_idx_contract(b, t, s->indexes, s->index_cnt);
        red_tabledef_build_meanings_common(b, t);
}

static void list_table(build_t *b, const red_state_t *s,
                       const red_state_list_t *l)
{
        const red_contract_t *c = b->c;
        const char *ident[] = {s->key_column, l->columns[0], NULL};
        char owner[160], suffix[140];
        red_coldef_t *cd;
        red_tabledef_t *t;

        snprintf(owner, sizeof(owner), "state %s list %s", s->name,
                 s->columns[l->column].name);
        if (!(t = red_tabledef_build_table(b, l->table, "state", owner))) {
                return;
        }
        t->comment = red_tabledef_build_fmt(
                b,
                "One row per item of %s.%s: state %s of contract %s "
                "(reducerd).",
                s->table, s->columns[l->column].name, s->name, c->name);
        if (l->id_column) {
                red_tabledef_build_col(b, t, l->id_column, "uuid", true,
                                       "gen_random_uuid()",
                                       "made by the server");
                red_tabledef_build_pkey(b, t, l->id_column);
        }
        key_col(b, t, s, "the key of the row in the state table");
        for (size_t i = 0; i < l->column_cnt; i++) {
                char *text = red_tabledef_build_fmt(
                        b, "member %s of the items of %s", l->members[i],
                        s->columns[l->column].name);

                cd = red_tabledef_build_col(b, t, l->columns[i], "text", i == 0,
                                            NULL, text);
                red_tabledef_build_col_override(
                        b, cd,
                        red_contract_coltype_find(l->coltypes, l->coltype_cnt,
                                                  l->columns[i]));
                red_tabledef_build_meaning(
                        b, t, RED_MEANING_COLUMN,
                        red_tabledef_build_fmt(b, "column %s", l->columns[i]),
                        red_tabledef_build_fmt(
                                b, "%s%s = %s", cd ? cd->type : "",
                                cd && cd->not_null ? " not null" : "",
                                text ? text : ""));
                free(text);
        }
        red_tabledef_build_col(b, t, "created_at", TIMESTAMPTZ, true, "now()",
                               "when reducerd stored the row");
        if (l->id_column) {
                /* named as PostgreSQL names a UNIQUE (key, first) constraint */
                snprintf(suffix, sizeof(suffix), "%s_%s_key", s->key_column,
                         l->columns[0]);
                red_idxdef_t *ix =
                        red_tabledef_build_idx(b, t, suffix, NULL, NULL, ident);
                if (ix) {
                        ix->unique = true;
                }
        } else {
                red_tabledef_build_pkey(b, t, s->key_column);
                red_tabledef_build_pkey(b, t, l->columns[0]);
        }
        red_tabledef_build_idx_contract(b, t, l->indexes, l->index_cnt);
        red_tabledef_build_meanings_common(b, t);
}

int red_tabledef_build_states(build_t *b)
{
        for (size_t i = 0; i < b->c->state_cnt; i++) {
                const red_state_t *s = &b->c->states[i];

                state_table(b, s);
                for (size_t k = 0; k < s->list_cnt; k++) {
                        list_table(b, s, &s->lists[k]);
                }
        }
        return 0;
}
