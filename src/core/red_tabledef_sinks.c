/* red_tabledef_sinks - the tables of raw sinks, of the workflow state
 * machine and of alerts. */
#include "red_tabledef_build.h"

#include <stdio.h>
#include <string.h>

/* --- raw sinks ----------------------------------------------------------- */

static void raw_table(build_t *b, const red_raw_t *r, const char *name,
                      const char *topic)
{
        const red_contract_t *c = b->c;
        const char *time_cols[] = {r->time_column, NULL};
        char owner[160], type[64];
        red_tabledef_t *t;

        snprintf(owner, sizeof(owner), "raw %s", r->name);
        if (!(t = red_tabledef_build_table(b, name, "raw", owner))) {
                return;
        }
        t->comment = red_tabledef_build_fmt(
                b,
                "%s%sEvents of %s stored by raw sink %s of "
                "contract %s (reducerd).",
                r->description ? r->description : "", r->description ? " " : "",
                topic, r->name, c->name);
        if (r->id_column) {
                red_tabledef_build_col(b, t, r->id_column, "uuid", true,
                                       "gen_random_uuid()",
                                       "made by the server");
                red_tabledef_build_pkey(b, t, r->id_column);
        }
        for (size_t i = 0; i < r->column_cnt; i++) {
                const red_raw_column_t *rc = &r->columns[i];
                red_coldef_t *cd;
                red_buf_t d;

                red_tabledef_build_field_type(c, rc->slot, type, sizeof(type));
                cd = red_tabledef_build_col(
                        b, t, rc->name, type,
                        red_tabledef_build_field_always(c, r->on, rc->slot),
                        NULL, NULL);
                red_tabledef_build_col_override(
                        b, cd,
                        red_contract_coltype_find(r->coltypes, r->coltype_cnt,
                                                  rc->name));
                red_buf_init(&d);
                red_tabledef_build_field_text(&d, c, rc->slot);
                if (cd) {
                        cd->comment = red_tabledef_build_fmt(
                                b, "%s", d.data ? d.data : "");
                }
                red_buf_reset(&d);
                red_buf_printf(&d, "%s%s%s%s = ", cd ? cd->type : "",
                               cd && cd->not_null ? " not null" : "",
                               cd && cd->def ? " default " : "",
                               cd && cd->def ? cd->def : "");
                red_tabledef_build_field_text(&d, c, rc->slot);
                if (d.failed) {
                        b->oom = true;
                }
                red_tabledef_build_meaning(
                        b, t, RED_MEANING_COLUMN,
                        red_tabledef_build_fmt(b, "column %s", rc->name),
                        red_buf_steal(&d, NULL));
        }
        red_tabledef_build_col(b, t, r->time_column, "timestamp with time zone",
                               true, NULL, "the event time");
        red_tabledef_build_col(b, t, "created_at", "timestamp with time zone",
                               true, "now()", "when reducerd stored the row");
        /* identity: the unique fields' columns and the event time */
        for (size_t u = 0; u < r->unique_cnt; u++) {
                for (size_t i = 0; i < r->column_cnt; i++) {
                        if (r->columns[i].slot == r->unique[u]) {
                                red_tabledef_build_pkey(b, t,
                                                        r->columns[i].name);
                                break;
                        }
                }
        }
        if (r->unique_cnt || r->id_column) {
                red_tabledef_build_pkey(b, t, r->time_column);
        }
        t->part = RED_TPART_RANGE;
        t->part_column = red_tabledef_build_fmt(b, "%s", r->time_column);
        t->gran = r->partition;
        /* reads are by time range */
        red_tabledef_build_idx(b, t, "time", NULL, NULL, time_cols);
        red_tabledef_build_idx_contract(b, t, r->indexes, r->index_cnt);
        red_tabledef_build_meanings_common(b, t);
}

int red_tabledef_build_raws(build_t *b)
{
        for (size_t i = 0; i < b->c->raw_cnt; i++) {
                const red_raw_t *r = &b->c->raws[i];

                for (size_t k = 0; k < r->table_cnt; k++) {
                        size_t j = 0;

                        /* a state's history: one table for its topics */
                        while (j < k && strcmp(r->tables[j], r->tables[k])) {
                                j++;
                        }
                        if (j == k) {
                                raw_table(b, r, r->tables[k], r->topics[k]);
                        }
                }
        }
        return 0;
}

/* --- the workflow state machine ------------------------------------------ */

int red_tabledef_build_fsm(build_t *b)
{
        const red_contract_t *c = b->c;
        const red_fsm_t *fsm = c->fsm;
        static const char *const state_cols[] = {"current_state",
                                                 "state_entry_time", NULL};
        static const char *const wf_cols[] = {"workflow_id",
                                              "transition_timestamp", NULL};
        red_tabledef_t *t;

        if (!fsm) {
                return 0;
        }
        if ((t = red_tabledef_build_table(b, fsm->current_table, "fsm",
                                          "fsm"))) {
                t->comment = red_tabledef_build_fmt(
                        b,
                        "The current state of each workflow of "
                        "contract %s (reducerd).",
                        c->name);
                red_tabledef_build_col(b, t, "workflow_id", "uuid", true, NULL,
                                       NULL);
                red_tabledef_build_col(b, t, "current_state",
                                       "character varying(50)", true, NULL,
                                       NULL);
                red_tabledef_build_col(b, t, "previous_state",
                                       "character varying(50)", false, NULL,
                                       NULL);
                red_tabledef_build_col(b, t, "state_entry_time",
                                       "timestamp with time zone", false, NULL,
                                       NULL);
                red_tabledef_build_col(b, t, "transition_count", "integer",
                                       false, "0", NULL);
                red_tabledef_build_col(b, t, "metadata", "jsonb", false, "'{}'",
                                       NULL);
                red_tabledef_build_col(b, t, "updated_at",
                                       "timestamp with time zone", true,
                                       "now()", NULL);
                red_tabledef_build_pkey(b, t, "workflow_id");
                t->fillfactor = RED_TABLEDEF_FILLFACTOR_UPDATED;
                red_tabledef_build_idx(b, t, "state", NULL, NULL, state_cols);
                red_tabledef_build_meanings_common(b, t);
        }
        if ((t = red_tabledef_build_table(b, fsm->history_table, "fsm",
                                          "fsm"))) {
                t->comment = red_tabledef_build_fmt(
                        b,
                        "Every transition attempt of the workflows "
                        "of contract %s (reducerd).",
                        c->name);
                red_tabledef_build_col(b, t, "transition_id", "uuid", true,
                                       NULL, NULL);
                red_tabledef_build_col(b, t, "workflow_id", "uuid", true, NULL,
                                       NULL);
                red_tabledef_build_col(b, t, "from_state",
                                       "character varying(50)", false, NULL,
                                       NULL);
                red_tabledef_build_col(b, t, "to_state",
                                       "character varying(50)", false, NULL,
                                       NULL);
                red_tabledef_build_col(b, t, "event", "character varying(50)",
                                       true, NULL, NULL);
                red_tabledef_build_col(b, t, "transition_timestamp",
                                       "timestamp with time zone", true, NULL,
                                       NULL);
                red_tabledef_build_col(b, t, "guard_conditions_met", "boolean",
                                       false, "true", NULL);
                red_tabledef_build_col(b, t, "reason", "text", false, NULL,
                                       NULL);
                red_tabledef_build_col(b, t, "metadata", "jsonb", false, "'{}'",
                                       NULL);
                red_tabledef_build_pkey(b, t, "transition_id");
                red_tabledef_build_pkey(b, t, "transition_timestamp");
                t->part = RED_TPART_RANGE;
                t->part_column =
                        red_tabledef_build_fmt(b, "transition_timestamp");
                t->gran = fsm->history_partition;
                red_tabledef_build_idx(b, t, "workflow", NULL, NULL, wf_cols);
                red_tabledef_build_meanings_common(b, t);
        }
        return 0;
}

/* --- alerts -------------------------------------------------------------- */

int red_tabledef_build_alerts(build_t *b)
{
        const red_contract_t *c = b->c;
        const red_alerts_t *al = c->alerts;
        static const char *const time_cols[] = {"triggered_at", NULL};
        static const char *const sev_cols[] = {"severity", "triggered_at",
                                               NULL};
        static const char *const metric_cols[] = {"metric_name", "triggered_at",
                                                  NULL};
        char type[64];
        red_tabledef_t *t;

        if (!al || !al->table ||
            !(t = red_tabledef_build_table(b, al->table, "alerts", "alerts"))) {
                return 0;
        }
        t->comment = red_tabledef_build_fmt(
                b,
                "Alerts fired by the rules of contract %s "
                "(reducerd).",
                c->name);
        red_tabledef_build_col(b, t, "alert_id", "uuid", true, NULL, NULL);
        red_tabledef_build_col(b, t, "rule_id", "character varying(100)", true,
                               NULL, NULL);
        red_tabledef_build_col(b, t, "severity", "character varying(10)", true,
                               NULL, NULL);
        red_tabledef_build_text_type(
                red_tabledef_build_field_max_len(c, al->match_slot), type,
                sizeof(type));
        red_tabledef_build_col(b, t, "metric_name", type, true, NULL, NULL);
        red_tabledef_build_col(b, t, "threshold", "double precision", true,
                               NULL, NULL);
        red_tabledef_build_col(b, t, "actual_value", "double precision", true,
                               NULL, NULL);
        red_tabledef_build_col(b, t, "message", "text", true, NULL, NULL);
        red_tabledef_build_col(b, t, "tags", "jsonb", true, "'{}'", NULL);
        red_tabledef_build_text_type(al->correlation_slot >= 0
                                             ? red_tabledef_build_field_max_len(
                                                       c, al->correlation_slot)
                                             : 100,
                                     type, sizeof(type));
        red_tabledef_build_col(b, t, "correlation_id", type, false, NULL, NULL);
        if (al->scope_slot >= 0) {
                red_tabledef_build_field_type(c, al->scope_slot, type,
                                              sizeof(type));
                red_tabledef_build_col(b, t, c->slot_names[al->scope_slot],
                                       type, false, NULL, NULL);
        }
        red_tabledef_build_col(b, t, "triggered_at", "timestamp with time zone",
                               true, NULL, NULL);
        red_tabledef_build_col(b, t, "created_at", "timestamp with time zone",
                               true, "now()", NULL);
        red_tabledef_build_pkey(b, t, "alert_id");
        red_tabledef_build_idx(b, t, "time", NULL, NULL, time_cols);
        red_tabledef_build_idx(b, t, "severity", NULL, NULL, sev_cols);
        red_tabledef_build_idx(b, t, "metric", NULL, NULL, metric_cols);
        red_tabledef_build_meanings_common(b, t);
        return 0;
}
