/* red_sink_cells - cell deltas merged into aggregate tables under row locks. */
#include "red_sink_cells.h"

#include "red_buf.h"
#include "red_cell.h"
#include "red_ddl.h"
#include "red_map.h"
#include "red_partition.h"
#include "red_pg.h"
#include "red_rows.h"
#include "red_window.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENGINE_COLS "aggregation_id, window_type, window_start, window_end"

/* A cell of the batch and its id. */
typedef struct cell_ref_s {
        red_uuid_t id;
        red_cell_t *cell;
} cell_ref_t;

/* Per aggregation: quoted names and the SQL built once; the batch's cells
 * between the phases. */
typedef struct agg_sql_s {
        char table[80];  /* quoted */
        char name[80];   /* the table written: a generation's own name */
        char *cols;      /* the columns we write, comma-separated */
        char *copy_tmp;  /* COPY red_tmp_N (cols) FROM STDIN */
        char *copy_keys; /* COPY red_tmp_N (key columns) FROM STDIN */
        char *insert;    /* phase A: placeholder or lock */
        char *select;    /* phase A: the locked rows' state */
        char *update;    /* phase C: merged values */
        char tmp[32];
        cell_ref_t *refs; /* the batch's cells of this aggregation */
        size_t n;
        red_cell_t **merged; /* stored state + delta, owned */
        size_t nmerged;
        PGresult *state; /* phase A's rows, until merged */
        red_buf_t lines; /* COPY text: keys (A), then merged rows (B) */
} agg_sql_t;

struct red_sink_cells_s {
        const red_contract_t *c;
        int gen;          /* table generation written (0: the live names) */
        bool replace;     /* the batch's cells replace the stored ones */
        uint64_t only;    /* aggregations written (bit per index) */
        agg_sql_t *aggs;  /* c->agg_cnt */
        red_map_t *by_id; /* cell_ref_t by cell id, during a batch */
        red_buf_t json;   /* rendering */
};

red_sink_cells_t *red_sink_cells_new(const red_contract_t *c)
{
        red_sink_cells_t *w = calloc(1, sizeof(*w));

        if (!w) {
                return NULL;
        }
        w->c = c;
        w->only = ~UINT64_C(0);
        w->aggs = calloc(c->agg_cnt + 1, sizeof(*w->aggs));
        w->by_id = red_map_new();
        red_buf_init(&w->json);
        for (size_t i = 0; w->aggs && i < c->agg_cnt; i++) {
                red_buf_init(&w->aggs[i].lines);
        }
        if (!w->aggs || !w->by_id) {
                red_sink_cells_destroy(w);
                return NULL;
        }
        return w;
}

/* Forgets the SQL of a former connection. */
static void sql_free(red_sink_cells_t *w)
{
        for (size_t i = 0; i < w->c->agg_cnt; i++) {
                agg_sql_t *q = &w->aggs[i];

                free(q->cols);
                free(q->copy_tmp);
                free(q->copy_keys);
                free(q->insert);
                free(q->select);
                free(q->update);
                q->cols = q->copy_tmp = q->copy_keys = NULL;
                q->insert = q->select = q->update = NULL;
        }
}

void red_sink_cells_target(red_sink_cells_t *w, int gen, bool replace,
                           uint64_t aggs)
{
        w->gen = gen;
        w->replace = replace;
        w->only = aggs;
}

/* Whether aggregation @p i is written (red_sink_cells_target()). */
static bool written(const red_sink_cells_t *w, size_t i)
{
        return i >= 64 || (w->only & (UINT64_C(1) << i));
}

void red_sink_cells_destroy(red_sink_cells_t *w)
{
        if (!w) {
                return;
        }
        if (w->aggs) {
                red_sink_cells_clear(w);
                sql_free(w);
                for (size_t i = 0; i < w->c->agg_cnt; i++) {
                        red_buf_destroy(&w->aggs[i].lines);
                }
        }
        free(w->aggs);
        red_map_destroy(w->by_id);
        red_buf_destroy(&w->json);
        free(w);
}

/* --- per connection ------------------------------------------------- */

static int agg_prepare(red_sink_cells_t *w, red_sink_io_t *io, size_t idx,
                       char *errstr, size_t size)
{
        const red_agg_t *a = &w->c->aggs[idx];
        agg_sql_t *q = &w->aggs[idx];
        const char *names[128];
        char qcol[80], grp[80], sql[4096];
        red_buf_t cols, keys, setl, setr, on;
        char *keycols = NULL;
        size_t n = 0;
        int r = -1;

        red_buf_init(&cols);
        red_buf_init(&keys);
        red_buf_init(&setl);
        red_buf_init(&setr);
        red_buf_init(&on);
        if (red_ddl_name(a->table, w->gen, q->name, sizeof(q->name)) ||
            red_pg_ident(q->name, q->table, sizeof(q->table)) ||
            red_pg_ident(a->grouping_column, grp, sizeof(grp))) {
                snprintf(errstr, size, "invalid table or column name");
                goto done;
        }
        snprintf(q->tmp, sizeof(q->tmp), "red_tmp_%zu", idx);
        names[n++] = "aggregation_id";
        names[n++] = "window_type";
        names[n++] = "window_start";
        names[n++] = "window_end";
        names[n++] = a->grouping_column;
        red_buf_puts(&cols, ENGINE_COLS ", ");
        red_buf_puts(&cols, grp);
        red_buf_printf(&keys, "window_type, window_start, %s", grp);
        red_buf_printf(&on,
                       "t.window_type = s.window_type AND t.window_start "
                       "= s.window_start AND t.%s = s.%s",
                       grp, grp);
        for (size_t k = 0; k < a->key_cnt; k++) {
                if (red_pg_ident(a->key_columns[k], qcol, sizeof(qcol))) {
                        goto done;
                }
                names[n++] = a->key_columns[k];
                red_buf_printf(&cols, ", %s", qcol);
                red_buf_printf(&keys, ", %s", qcol);
                red_buf_printf(&on, " AND t.%s = s.%s", qcol, qcol);
        }
        if (!(keycols = strdup(cols.data))) {
                goto done;
        }
        for (size_t k = 0; k < a->column_cnt && n < 120; k++) {
                if (red_pg_ident(a->columns[k].name, qcol, sizeof(qcol))) {
                        goto done;
                }
                names[n++] = a->columns[k].name;
                red_buf_printf(&cols, ", %s", qcol);
                red_buf_printf(&setl, "%s%s", k ? ", " : "", qcol);
                red_buf_printf(&setr, "%ss.%s", k ? ", " : "", qcol);
        }
        names[n++] = "state";
        names[n++] = "revision";
        names[n++] = "finalized_at";
        names[n++] = "updated_at";
        red_buf_puts(&cols, ", state, revision, finalized_at");
        if (red_sink_io_check_columns(io, w->c->name, q->name, names, n, errstr,
                                      size)) {
                goto done;
        }
        q->cols = red_buf_steal(&cols, NULL);
        if (asprintf(&q->copy_tmp, "COPY %s (%s) FROM STDIN", q->tmp, q->cols) <
                    0 ||
            asprintf(&q->copy_keys, "COPY %s (%s) FROM STDIN", q->tmp,
                     keycols) < 0 ||
            /* DO UPDATE ... WHERE false: existing rows are locked, not
             * rewritten (one new row version per batch, not two) */
            asprintf(&q->insert,
                     "INSERT INTO %s (%s, state, revision, updated_at) "
                     "SELECT %s, '\\x'::bytea, 0, now() FROM %s ORDER BY %s "
                     "ON CONFLICT (%s) DO UPDATE SET revision = %s.revision "
                     "WHERE false",
                     q->table, keycols, keycols, q->tmp, keys.data, keys.data,
                     q->table) < 0 ||
            asprintf(&q->select,
                     "SELECT t.aggregation_id, t.state, t.revision, "
                     "t.finalized_at IS NOT NULL FROM %s t JOIN %s s ON %s",
                     q->table, q->tmp, on.data) < 0 ||
            asprintf(&q->update,
                     "UPDATE %s t SET (%s, state, revision, updated_at) = "
                     "(%s, s.state, s.revision, now()) FROM %s s WHERE %s",
                     q->table, setl.data, setr.data, q->tmp, on.data) < 0) {
                snprintf(errstr, size, "out of memory");
                goto done;
        }
        snprintf(sql, sizeof(sql),
                 "CREATE TEMP TABLE IF NOT EXISTS %s AS SELECT %s FROM %s "
                 "WITH NO DATA",
                 q->tmp, q->cols, q->table);
        if (red_sink_io_run(io, sql, errstr, size)) {
                goto done;
        }
        r = 0;
done:
        free(keycols);
        red_buf_destroy(&cols);
        red_buf_destroy(&keys);
        red_buf_destroy(&setl);
        red_buf_destroy(&setr);
        red_buf_destroy(&on);
        return r;
}

int red_sink_cells_prepare(red_sink_cells_t *w, red_sink_io_t *io, char *errstr,
                           size_t size)
{
        red_sink_cells_clear(w);
        sql_free(w);
        for (size_t i = 0; i < w->c->agg_cnt; i++) {
                if (written(w, i) && agg_prepare(w, io, i, errstr, size)) {
                        return -1;
                }
        }
        return 0;
}

/* --- rendering ------------------------------------------------------ */

static bool ref_eq(const void *item, const void *key)
{
        return !red_uuid_cmp(&((const cell_ref_t *)item)->id, key);
}

/* One COPY line of a cell for the temp table: its key columns only
 * (@p full false), or every column we write. */
static int cell_line(red_sink_cells_t *w, red_buf_t *b, const red_cell_t *cell,
                     const red_uuid_t *id, int64_t revision, bool full)
{
        const red_agg_t *a = red_cell_agg(cell);
        const char *grouping = a->groupings[red_cell_grouping(cell)].name;

        red_sink_io_put_uuid(b, id);
        red_buf_putc(b, '\t');
        red_buf_puts(b, red_window_type_name(red_cell_window_type(cell)));
        red_buf_putc(b, '\t');
        red_sink_io_put_time(b, red_cell_window_start(cell));
        red_buf_putc(b, '\t');
        red_sink_io_put_time(b, red_cell_window_end(cell));
        red_buf_putc(b, '\t');
        red_buf_put_copy_str(b, grouping, strlen(grouping));
        for (size_t k = 0; k < a->key_cnt; k++) {
                red_buf_putc(b, '\t');
                red_buf_put_copy_str(b, red_cell_key(cell, k),
                                     red_cell_key_len(cell, k));
        }
        if (!full) {
                red_buf_putc(b, '\n');
                return b->failed ? -ENOMEM : 0;
        }
        for (size_t k = 0; k < a->column_cnt; k++) {
                bool is_null;

                red_buf_putc(b, '\t');
                red_buf_reset(&w->json);
                red_cell_render(cell, &a->columns[k], &w->json, &is_null);
                if (is_null) {
                        red_buf_puts(b, "\\N");
                } else {
                        red_buf_put_copy_str(b, w->json.data, w->json.len);
                }
        }
        red_buf_putc(b, '\t');
        red_buf_reset(&w->json);
        if (red_cell_serialize(cell, &w->json)) {
                return -ENOMEM;
        }
        red_sink_io_put_bytea(b, w->json.data, w->json.len);
        red_buf_printf(b, "\t%lld\t\\N\n", (long long)revision);
        return b->failed ? -ENOMEM : 0;
}

/* The snapshot event of a cell, when its aggregation publishes. */
static void cell_outbox(red_sink_outbox_t *out, const red_cell_t *cell,
                        const red_uuid_t *cid, int64_t revision, bool final)
{
        const red_agg_t *a = red_cell_agg(cell);
        char extra[64], id[RED_UUID_STR_SIZE], name[64];
        red_uuid_t eid;
        red_buf_t payload;

        if (!a->publish.topic) {
                return;
        }
        red_uuid_format(cid, id);
        /* event ids are stable per (cell, revision): consumers can drop the
         * duplicates an at-least-once relay may deliver */
        snprintf(name, sizeof(name), "%s/%lld", id, (long long)revision);
        red_uuid_v5(&eid, &red_uuid_ns_reducerd, name, strlen(name));
        snprintf(extra, sizeof(extra), "\"revision\":%lld,\"final\":%s",
                 (long long)revision, final ? "true" : "false");
        red_buf_init(&payload);
        red_rows_cell_json(cell, extra, &payload);
        red_sink_outbox_add(out, a->publish.topic, id, a->publish.event_type,
                            &eid, id, payload.data);
        red_buf_destroy(&payload);
}

/* --- the three phases ----------------------------------------------- */

static void agg_clear(agg_sql_t *q)
{
        for (size_t i = 0; i < q->nmerged; i++) {
                red_cell_destroy(q->merged[i]);
        }
        free(q->merged);
        free(q->refs);
        PQclear(q->state);
        q->merged = NULL;
        q->refs = NULL;
        q->state = NULL;
        q->n = 0;
        q->nmerged = 0;
        red_buf_reset(&q->lines);
}

void red_sink_cells_clear(red_sink_cells_t *w)
{
        for (size_t i = 0; i < w->c->agg_cnt; i++) {
                agg_clear(&w->aggs[i]);
        }
        red_map_clear(w->by_id);
}

/* "TRUNCATE red_tmp_N", then COPY @p copy of the lines into it. */
static red_sink_result_t fill_tmp(red_sink_io_t *io, const agg_sql_t *q,
                                  const char *copy, char *errstr, size_t size)
{
        char truncate[64];
        red_sink_result_t r;

        snprintf(truncate, sizeof(truncate), "TRUNCATE %s", q->tmp);
        if ((r = red_sink_io_run(io, truncate, errstr, size))) {
                return r;
        }
        return red_sink_io_copy_in(io, copy, &q->lines, errstr, size);
}

/* Phase A for one aggregation. */
static red_sink_result_t agg_lock(red_sink_cells_t *w, red_sink_io_t *io,
                                  size_t idx, red_cell_t **cells, size_t cnt,
                                  char *errstr, size_t size)
{
        const red_agg_t *a = &w->c->aggs[idx];
        agg_sql_t *q = &w->aggs[idx];
        red_sink_result_t r;
        red_partition_t gran;
        char parent[80], declared[80];

        agg_clear(q);
        q->refs = calloc(cnt + 1, sizeof(*q->refs));
        q->merged = calloc(cnt + 1, sizeof(*q->merged));
        if (!q->refs || !q->merged) {
                snprintf(errstr, size, "out of memory");
                return RED_SINK_RETRY;
        }
        for (size_t i = 0; i < cnt; i++) {
                cell_ref_t *ref = &q->refs[q->n];

                if (red_cell_agg(cells[i]) != a) {
                        continue;
                }
                red_contract_agg_partition_parent(
                        a, red_cell_window_type(cells[i]), declared,
                        sizeof(declared), &gran);
                if (red_ddl_rename(a->table, declared, w->gen, parent,
                                   sizeof(parent))) {
                        snprintf(errstr, size,
                                 "table %s: no room for a partition's name",
                                 declared);
                        return RED_SINK_FATAL;
                }
                if ((r = red_sink_io_partition(
                             io, parent, gran, RED_PARTITION_FILLFACTOR_UPDATED,
                             red_cell_window_start(cells[i]), errstr, size))) {
                        return r;
                }
                ref->cell = cells[i];
                red_cell_id(cells[i], &ref->id);
                if (red_map_insert(w->by_id, red_uuid_hash(&ref->id), ref) ||
                    cell_line(w, &q->lines, cells[i], &ref->id, 0, false)) {
                        snprintf(errstr, size, "out of memory");
                        return RED_SINK_RETRY;
                }
                q->n++;
        }
        if (!q->n) {
                return RED_SINK_OK;
        }
        if ((r = red_sink_io_noted(io, errstr, size)) ||
            (r = fill_tmp(io, q, q->copy_keys, errstr, size)) ||
            (r = red_sink_io_run(io, q->insert, errstr, size))) {
                return r;
        }
        return red_sink_io_exec(io, q->select, 0, NULL, &q->state, errstr,
                                size);
}

red_sink_result_t red_sink_cells_lock(red_sink_cells_t *w, red_sink_io_t *io,
                                      red_aggregator_t *ag, char *errstr,
                                      size_t size)
{
        size_t cnt;
        red_cell_t **cells = red_aggregator_cells(ag, &cnt);

        return red_sink_cells_lock_cells(w, io, cells, cnt, errstr, size);
}

red_sink_result_t red_sink_cells_lock_cells(red_sink_cells_t *w,
                                            red_sink_io_t *io,
                                            red_cell_t **cells, size_t cnt,
                                            char *errstr, size_t size)
{
        red_sink_result_t r;

        red_map_clear(w->by_id);
        for (size_t i = 0; i < w->c->agg_cnt; i++) {
                if (written(w, i) &&
                    (r = agg_lock(w, io, i, cells, cnt, errstr, size))) {
                        return r;
                }
        }
        return RED_SINK_OK;
}

/* Phase B for one aggregation: stored state + delta, rendered as COPY
 * lines and outbox snapshots. */
static red_sink_result_t agg_merge(red_sink_cells_t *w, size_t idx,
                                   red_sink_outbox_t *out,
                                   red_sink_walert_t *judge, char *errstr,
                                   size_t size)
{
        const red_agg_t *a = &w->c->aggs[idx];
        agg_sql_t *q = &w->aggs[idx];
        PGresult *res = q->state;

        red_buf_reset(&q->lines);
        for (int row = 0; res && row < PQntuples(res); row++) {
                bool final = PQgetvalue(res, row, 3)[0] == 't';
                int64_t rev = strtoll(PQgetvalue(res, row, 2), NULL, 10);
                const red_cell_t *cell;
                cell_ref_t *ref;
                red_uuid_t id;

                if (red_uuid_parse(PQgetvalue(res, row, 0), 36, &id) ||
                    !(ref = red_map_find(w->by_id, red_uuid_hash(&id), ref_eq,
                                         &id)) ||
                    red_cell_agg(ref->cell) != a) {
                        snprintf(errstr, size,
                                 "table %s returned an unknown cell %s",
                                 a->table, PQgetvalue(res, row, 0));
                        return RED_SINK_FATAL;
                }
                cell = ref->cell;
                if (rev > 0 && !w->replace) {
                        unsigned char *state;
                        size_t slen;
                        red_cell_t *m = red_cell_new_like(ref->cell, NULL,
                                                          w->c->sketch_alpha);

                        state = PQunescapeBytea(
                                (const unsigned char *)PQgetvalue(res, row, 1),
                                &slen);
                        if (m) {
                                q->merged[q->nmerged++] = m;
                        }
                        errstr[0] = '\0';
                        if (!m || !state ||
                            red_cell_merge_serialized(m, state, slen, errstr,
                                                      size) ||
                            red_cell_merge(m, ref->cell, errstr, size)) {
                                PQfreemem(state);
                                if (!errstr[0]) {
                                        snprintf(errstr, size, "out of memory");
                                }
                                return RED_SINK_FATAL;
                        }
                        PQfreemem(state);
                        cell = m;
                }
                if (cell_line(w, &q->lines, cell, &ref->id, rev + 1, true) ||
                    red_sink_walert_observe(judge, cell, false)) {
                        snprintf(errstr, size, "out of memory");
                        return RED_SINK_RETRY;
                }
                cell_outbox(out, cell, &ref->id, rev + 1, final);
        }
        PQclear(q->state);
        q->state = NULL;
        return RED_SINK_OK;
}

red_sink_result_t red_sink_cells_merge(red_sink_cells_t *w,
                                       red_sink_outbox_t *out,
                                       red_sink_walert_t *judge, char *errstr,
                                       size_t size)
{
        red_sink_result_t r = RED_SINK_OK;

        for (size_t i = 0; !r && i < w->c->agg_cnt; i++) {
                r = agg_merge(w, i, out, judge, errstr, size);
        }
        return r;
}

red_sink_result_t red_sink_cells_store(red_sink_cells_t *w, red_sink_io_t *io,
                                       size_t *rows, char *errstr, size_t size)
{
        red_sink_result_t r;

        for (size_t i = 0; i < w->c->agg_cnt; i++) {
                agg_sql_t *q = &w->aggs[i];

                if (!q->n) {
                        continue;
                }
                if ((r = fill_tmp(io, q, q->copy_tmp, errstr, size)) ||
                    (r = red_sink_io_run(io, q->update, errstr, size))) {
                        return r;
                }
                *rows += q->n;
        }
        return RED_SINK_OK;
}

/* --- finalisation --------------------------------------------------- */

/* The columns a finalisation returns for the rules over windows. */
static void final_cols(const red_agg_t *a, const char *alias, red_buf_t *b)
{
        char q[80];

        /* names checked by agg_prepare(); a failure fails the statement */
        if (red_pg_ident(a->grouping_column, q, sizeof(q))) {
                b->failed = true;
                return;
        }
        red_buf_printf(b,
                       " SELECT %s.%s, %s.window_type, (extract(epoch FROM "
                       "%s.window_start) * 1000000)::bigint, %s.state",
                       alias, q, alias, alias, alias);
        for (size_t k = 0; k < a->key_cnt; k++) {
                if (red_pg_ident(a->key_columns[k], q, sizeof(q))) {
                        b->failed = true;
                        return;
                }
                red_buf_printf(b, ", %s.%s", alias, q);
        }
}

/* A final cell rebuilt from its row (final_cols), judged. */
static red_sink_result_t judge_row(const red_contract_t *c, const red_agg_t *a,
                                   PGresult *res, int row,
                                   red_sink_walert_t *judge, char *errstr,
                                   size_t size)
{
        const char *keys[64];
        size_t lens[64];
        red_cell_key_t key = {0};
        red_window_type_t wt;
        unsigned char *state = NULL;
        size_t slen;
        red_cell_t *cell = NULL;
        red_sink_result_t r = RED_SINK_FATAL;

        key.agg = a;
        key.grouping = -1;
        for (size_t g = 0; g < a->grouping_cnt; g++) {
                if (!strcmp(a->groupings[g].name, PQgetvalue(res, row, 0))) {
                        key.grouping = (int)g;
                }
        }
        if (key.grouping < 0 || a->key_cnt > 64 ||
            red_window_type_parse(PQgetvalue(res, row, 1), &wt)) {
                /* a grouping this contract version dropped: not judged */
                return RED_SINK_OK;
        }
        key.wt = wt;
        key.start = strtoll(PQgetvalue(res, row, 2), NULL, 10);
        for (size_t k = 0; k < a->key_cnt; k++) {
                keys[k] = PQgetvalue(res, row, 4 + (int)k);
                lens[k] = (size_t)PQgetlength(res, row, 4 + (int)k);
        }
        key.keys = keys;
        key.lens = lens;
        key.group_hash = red_cell_group_hash(a, key.grouping, keys, lens);
        errstr[0] = '\0';
        if (!(cell = red_cell_new(&key, c->sketch_alpha)) ||
            !(state = PQunescapeBytea(
                      (const unsigned char *)PQgetvalue(res, row, 3), &slen))) {
                snprintf(errstr, size, "out of memory");
                r = RED_SINK_RETRY;
                goto done;
        }
        if (red_cell_merge_serialized(cell, state, slen, errstr, size)) {
                goto done;
        }
        if (red_sink_walert_observe(judge, cell, true)) {
                snprintf(errstr, size, "out of memory");
                r = RED_SINK_RETRY;
                goto done;
        }
        r = RED_SINK_OK;
done:
        PQfreemem(state);
        red_cell_destroy(cell);
        return r;
}

red_sink_result_t
red_sink_cells_finalize(red_sink_cells_t *w, red_sink_io_t *io,
                        const char *instance, red_sink_walert_t *judge,
                        long *finalized, char *errstr, size_t size)
{
        char grace[32];

        *finalized = 0;
        snprintf(grace, sizeof(grace), "%.6f", (double)w->c->grace_us / 1e6);
        for (size_t i = 0; i < w->c->agg_cnt; i++) {
                const red_agg_t *a = &w->c->aggs[i];
                const char *vals[5] = {w->c->consumer_group, grace,
                                       a->publish.topic, a->publish.event_type,
                                       instance};
                bool judged = red_sink_walert_any(judge, (int)i);
                red_buf_t sql;
                PGresult *res;
                red_sink_result_t r;

                red_buf_init(&sql);
                red_buf_printf(&sql,
                               "WITH wm AS (SELECT min(watermark) AS w FROM "
                               "reducerd_offsets WHERE consumer_group = $1), "
                               "fin AS (UPDATE %s t SET finalized_at = now(), "
                               "updated_at = now() FROM wm WHERE "
                               "t.finalized_at IS NULL AND wm.w IS NOT NULL "
                               "AND t.window_end + make_interval(secs => "
                               "$2::float8) <= wm.w RETURNING t.*)",
                               w->aggs[i].table);
                if (a->publish.topic) {
                        red_buf_puts(
                                &sql,
                                ", pub AS (INSERT INTO reducerd_outbox (topic, "
                                "key, payload) SELECT $3, "
                                "f.aggregation_id::text, "
                                "jsonb_build_object('envelope_version', '1.0', "
                                "'event_id', gen_random_uuid(), 'event_type', "
                                "$4::text, 'event_version', '1.0', "
                                "'event_timestamp', to_char(now() AT TIME ZONE "
                                "'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
                                "'source_service', 'reducerd', "
                                "'source_instance', $5::text, "
                                "'correlation_id', f.aggregation_id, "
                                "'payload', (to_jsonb(f) - 'state' - "
                                "'updated_at' - 'finalized_at') || "
                                "jsonb_build_object('window_start', "
                                "to_char(f.window_start AT TIME ZONE 'UTC', "
                                "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
                                "'window_end', to_char(f.window_end AT TIME "
                                "ZONE 'UTC', "
                                "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
                                "'final', true))::text FROM fin f)");
                }
                if (judged) {
                        final_cols(a, "f", &sql);
                } else {
                        red_buf_puts(&sql, " SELECT 1");
                }
                red_buf_puts(&sql, " FROM fin f");
                if (sql.failed) {
                        red_buf_destroy(&sql);
                        snprintf(errstr, size, "out of memory");
                        return RED_SINK_RETRY;
                }
                r = red_sink_io_exec(io, sql.data, a->publish.topic ? 5 : 2,
                                     vals, &res, errstr, size);
                red_buf_destroy(&sql);
                if (r) {
                        return r;
                }
                *finalized += PQntuples(res);
                for (int row = 0; judged && !r && row < PQntuples(res); row++) {
                        r = judge_row(w->c, a, res, row, judge, errstr, size);
                }
                PQclear(res);
                if (r) {
                        return r;
                }
        }
        return RED_SINK_OK;
}
