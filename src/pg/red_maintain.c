/* red_maintain - partitions ahead, retention by dropping partitions, old
 * workflows. */
#include "red_maintain.h"

#include "red_partition.h"
#include "red_pg.h"
#include "red_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Runs a DELETE with two parameters, adding the rows gone to *@p deleted. */
static int delete_rows(PGconn *conn, const char *sql, const char *const *vals,
                       long *deleted, char *errstr, size_t size)
{
        PGresult *res = red_pg_params(conn, sql, 2, vals, errstr, size);

        if (!res) {
                return -1;
        }
        *deleted += atol(PQcmdTuples(res));
        PQclear(res);
        return 0;
}

static int current_cleanup(PGconn *conn, const red_fsm_t *fsm, long *deleted,
                           char *errstr, size_t size)
{
        char q[80], sql[512], states[512], secs[32];
        const char *vals[2] = {states, secs};
        size_t pos = 0;

        if (!fsm->history_retention_us ||
            red_pg_ident(fsm->current_table, q, sizeof(q))) {
                return 0;
        }
        states[pos++] = '{';
        for (size_t i = 0; i < fsm->state_cnt; i++) {
                if (fsm->terminal & (1u << i)) {
                        pos += (size_t)snprintf(
                                states + pos, sizeof(states) - pos, "%s\"%s\"",
                                pos > 1 ? "," : "", fsm->states[i]);
                }
        }
        snprintf(states + pos, sizeof(states) - pos, "}");
        snprintf(secs, sizeof(secs), "%lld",
                 (long long)(fsm->history_retention_us / 1000000));
        snprintf(sql, sizeof(sql),
                 "DELETE FROM %s WHERE current_state = ANY($1::text[]) AND "
                 "state_entry_time < now() - make_interval(secs => "
                 "$2::float8)",
                 q);
        return delete_rows(conn, sql, vals, deleted, errstr, size);
}

/* Cells of window type @p wt whose window ended before now - @p keep_us,
 * in a table whose partitions hold other window types kept longer. */
static int cells_cleanup(PGconn *conn, const red_agg_t *a, red_window_type_t wt,
                         int64_t keep_us, red_time_t now, long *deleted,
                         char *errstr, size_t size)
{
        char q[80], sql[256], before[RED_TIME_FMT_SIZE];
        const char *vals[2] = {red_window_type_name(wt), before};

        if (red_pg_ident(a->table, q, sizeof(q))) {
                return 0;
        }
        red_time_format(now - keep_us, before, sizeof(before));
        snprintf(sql, sizeof(sql),
                 "DELETE FROM %s WHERE window_type = $1 AND window_end <= "
                 "$2::timestamptz",
                 q);
        return delete_rows(conn, sql, vals, deleted, errstr, size);
}

/* An aggregation's partitions, and its window types' retention. */
static int agg_maintain(PGconn *conn, const red_agg_t *a, int days_ahead,
                        red_time_t now, red_maintain_result_t *out,
                        char *errstr, size_t size)
{
        for (int w = 0; w < RED_WINDOW__CNT; w++) {
                red_window_type_t wt = (red_window_type_t)w;
                int64_t keep = a->window_retention_us[w];
                red_partition_t gran;
                char parent[80];

                if (!(a->windows & (1u << w))) {
                        continue;
                }
                if (a->partition_by_window) {
                        red_contract_agg_partition_parent(
                                a, wt, parent, sizeof(parent), &gran);
                        if (red_partition_maintain(
                                    conn, parent, gran,
                                    RED_PARTITION_FILLFACTOR_UPDATED, keep, now,
                                    days_ahead, &out->created, &out->dropped,
                                    errstr, size)) {
                                return -1;
                        }
                } else if (keep &&
                           (!a->retention_us || keep < a->retention_us) &&
                           cells_cleanup(conn, a, wt, keep, now,
                                         &out->cells_deleted, errstr, size)) {
                        return -1;
                }
        }
        if (a->partition_by_window) {
                return 0;
        }
        return red_partition_maintain(
                conn, a->table, a->partition, RED_PARTITION_FILLFACTOR_UPDATED,
                a->retention_us, now, days_ahead, &out->created, &out->dropped,
                errstr, size);
}

/*
 * reducerd_dedupe, the seen keys of every contract with a `dedupe`: one
 * table, so it keeps the longest horizon, plus the allowed lateness (a
 * late event still finds the keys within its horizon) and a day.
 */
static int dedupe_maintain(PGconn *conn, const red_contract_set_t *set,
                           int days_ahead, red_time_t now,
                           red_maintain_result_t *out, char *errstr,
                           size_t errstr_size)
{
        int64_t keep = 0;

        for (size_t i = 0; i < set->cnt; i++) {
                const red_contract_t *c = set->items[i];
                int64_t k = c->dedupe_horizon_us + c->allowed_lateness_us +
                            RED_TIME_US_PER_DAY;

                if (c->dedupe_slot >= 0 && k > keep) {
                        keep = k;
                }
        }
        if (!keep) {
                return 0; /* no contract deduplicates */
        }
        return red_partition_maintain(conn, "reducerd_dedupe", RED_PART_DAILY,
                                      0, keep, now, days_ahead, &out->created,
                                      &out->dropped, errstr, errstr_size);
}

int red_maintain_run(PGconn *conn, const red_contract_set_t *set,
                     int days_ahead, red_time_t now, red_maintain_result_t *out,
                     char *errstr, size_t errstr_size)
{
        memset(out, 0, sizeof(*out));
        if (dedupe_maintain(conn, set, days_ahead, now, out, errstr,
                            errstr_size)) {
                return -1;
        }
        for (size_t i = 0; i < set->cnt; i++) {
                const red_contract_t *c = set->items[i];

                for (size_t a = 0; a < c->agg_cnt; a++) {
                        if (agg_maintain(conn, &c->aggs[a], days_ahead, now,
                                         out, errstr, errstr_size)) {
                                return -1;
                        }
                }
                for (size_t r = 0; r < c->raw_cnt; r++) {
                        const red_raw_t *raw = &c->raws[r];
                        for (size_t t = 0; t < raw->table_cnt; t++) {
                                if (red_partition_maintain(
                                            conn, raw->tables[t],
                                            raw->partition, 0,
                                            raw->retention_us, now, days_ahead,
                                            &out->created, &out->dropped,
                                            errstr, errstr_size)) {
                                        return -1;
                                }
                        }
                }
                if (c->fsm &&
                    (red_partition_maintain(conn, c->fsm->history_table,
                                            c->fsm->history_partition, 0,
                                            c->fsm->history_retention_us, now,
                                            days_ahead, &out->created,
                                            &out->dropped, errstr,
                                            errstr_size) ||
                     current_cleanup(conn, c->fsm, &out->workflows_deleted,
                                     errstr, errstr_size))) {
                        return -1;
                }
        }
        return 0;
}
