/* red_backfill_db - a backfill's record and its cells written chunk by
 * chunk over a range. */
#include "red_backfill_db.h"

#include "red_buf.h"
#include "red_cell.h"
#include "red_ddl.h"
#include "red_failpoint.h"
#include "red_map.h"
#include "red_partition.h"
#include "red_pg.h"
#include "red_sink_cells.h"
#include "red_sink_io.h"
#include "red_sink_outbox.h"
#include "red_window.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One partition of a target table, and the recomputed cells in it. */
typedef struct chunk_s {
        char name[96]; /* the partition, e.g. x_g2_hourly_2026_01_05 */
        const red_agg_t *a;
        red_time_t from, to; /* the partition's range */
        uint32_t windows;    /* window types it holds */
        red_cell_t **cells;
        size_t cnt, cap;
} chunk_t;

struct red_backfill_db_s {
        const red_contract_t *c;
        uint64_t aggs;
        int gen;
        red_sink_io_t *io;
        red_sink_cells_t *cells;
        red_sink_outbox_t *out; /* snapshots of backfilled cells: dropped */
        char id[32];            /* of the record, "" before begin */
        char **done;            /* chunks recorded as done */
        size_t done_cnt;
        chunk_t *chunks;
        size_t chunk_cnt;
};

static void chunks_free(red_backfill_db_t *db)
{
        for (size_t i = 0; i < db->chunk_cnt; i++) {
                free(db->chunks[i].cells);
        }
        free(db->chunks);
        db->chunks = NULL;
        db->chunk_cnt = 0;
}

void red_backfill_db_destroy(red_backfill_db_t *db)
{
        if (!db) {
                return;
        }
        chunks_free(db);
        for (size_t i = 0; i < db->done_cnt; i++) {
                free(db->done[i]);
        }
        free(db->done);
        red_sink_cells_destroy(db->cells);
        red_sink_outbox_destroy(db->out);
        red_sink_io_destroy(db->io);
        free(db);
}

red_backfill_db_t *red_backfill_db_new(const red_contract_t *c,
                                       const char *conninfo, uint64_t aggs,
                                       int gen, char *errstr, size_t size)
{
        red_backfill_db_t *db = calloc(1, sizeof(*db));

        if (!db || !(db->io = red_sink_io_new(conninfo)) ||
            !(db->cells = red_sink_cells_new(c)) ||
            !(db->out = red_sink_outbox_new("backfill"))) {
                snprintf(errstr, size, "out of memory");
                red_backfill_db_destroy(db);
                return NULL;
        }
        db->c = c;
        db->aggs = aggs;
        db->gen = gen;
        red_sink_cells_target(db->cells, gen, true, aggs);
        if (red_sink_io_connect(db->io, errstr, size) ||
            red_sink_cells_prepare(db->cells, db->io, errstr, size)) {
                red_backfill_db_destroy(db);
                return NULL;
        }
        return db;
}

PGconn *red_backfill_db_conn(red_backfill_db_t *db)
{
        return red_sink_io_conn(db->io);
}

/* --- the record ---------------------------------------------------------- */

/* "2026-01-01T00:00:00Z", or NULL for an open end. */
static const char *time_param(red_time_t t, char *buf, size_t size)
{
        if (t == INT64_MIN || t == INT64_MAX) {
                return NULL;
        }
        red_time_format(t, buf, size);
        return buf;
}

/* The elements of a text[] as Postgres prints it ({a,b}; our chunk names
 * need no quotes). */
static int parse_done(red_backfill_db_t *db, const char *arr)
{
        const char *p = arr + (*arr == '{');

        while (*p && *p != '}') {
                size_t len = strcspn(p, ",}");
                char **n = realloc(db->done, (db->done_cnt + 1) * sizeof(*n));
                if (!n || !(n[db->done_cnt] = strndup(p, len))) {
                        if (n) {
                                db->done = n;
                        }
                        return -ENOMEM;
                }
                db->done = n;
                db->done_cnt++;
                p += len + (p[len] == ',');
        }
        return 0;
}

int red_backfill_db_begin(red_backfill_db_t *db, const char *source,
                          red_time_t from, red_time_t to,
                          red_backfill_resume_t *out, char *errstr, size_t size)
{
        char gen[16], f[RED_TIME_FMT_SIZE], t[RED_TIME_FMT_SIZE];
        const char *vals[5] = {db->c->name, gen, source,
                               time_param(from, f, sizeof(f)),
                               time_param(to, t, sizeof(t))};
        PGresult *res;
        int r = -1;

        memset(out, 0, sizeof(*out));
        snprintf(gen, sizeof(gen), "%d", db->gen);
        if (red_sink_io_exec(
                    db->io,
                    "SELECT id, end_offsets::text, (extract(epoch FROM "
                    "snapshot_at) * 1000000)::bigint, chunks_done FROM "
                    "reducerd_backfills WHERE contract = $1 AND generation = "
                    "$2 AND source = $3 AND range_from IS NOT DISTINCT FROM "
                    "$4::timestamptz AND range_to IS NOT DISTINCT FROM "
                    "$5::timestamptz AND state = 'running' ORDER BY id DESC "
                    "LIMIT 1",
                    5, vals, &res, errstr, size)) {
                return -1;
        }
        if (PQntuples(res)) {
                out->resumed = true;
                snprintf(db->id, sizeof(db->id), "%s", PQgetvalue(res, 0, 0));
                if (!PQgetisnull(res, 0, 1) &&
                    !(out->end_offsets = strdup(PQgetvalue(res, 0, 1)))) {
                        goto oom;
                }
                if (!PQgetisnull(res, 0, 2)) {
                        out->snapshot =
                                strtoll(PQgetvalue(res, 0, 2), NULL, 10);
                }
                if (parse_done(db, PQgetvalue(res, 0, 3))) {
                        goto oom;
                }
                r = 0;
                goto done;
        }
        PQclear(res);
        if (red_sink_io_exec(db->io,
                             "INSERT INTO reducerd_backfills (contract, "
                             "generation, source, range_from, range_to, "
                             "state) VALUES ($1, $2, $3, $4, $5, 'running') "
                             "RETURNING id",
                             5, vals, &res, errstr, size)) {
                return -1;
        }
        snprintf(db->id, sizeof(db->id), "%s", PQgetvalue(res, 0, 0));
        r = 0;
        goto done;
oom:
        snprintf(errstr, size, "out of memory");
done:
        PQclear(res);
        return r;
}

int red_backfill_db_set_source(red_backfill_db_t *db, const char *end_offsets,
                               red_time_t snapshot, char *errstr, size_t size)
{
        char ts[RED_TIME_FMT_SIZE];
        const char *vals[3] = {db->id, end_offsets,
                               snapshot ? time_param(snapshot, ts, sizeof(ts))
                                        : NULL};

        return red_sink_io_exec(db->io,
                                "UPDATE reducerd_backfills SET end_offsets = "
                                "$2::jsonb, snapshot_at = $3::timestamptz, "
                                "updated_at = now() WHERE id = $1",
                                3, vals, NULL, errstr, size)
                       ? -1
                       : 0;
}

int red_backfill_db_finish(red_backfill_db_t *db, char *errstr, size_t size)
{
        const char *vals[1] = {db->id};

        return red_sink_io_exec(db->io,
                                "UPDATE reducerd_backfills SET state = 'done', "
                                "updated_at = now() WHERE id = $1",
                                1, vals, NULL, errstr, size)
                       ? -1
                       : 0;
}

/* --- chunks --------------------------------------------------------------- */

static bool written(const red_backfill_db_t *db, const red_agg_t *a)
{
        return a->index >= 64 || (db->aggs & (UINT64_C(1) << a->index));
}

/* The partition of aggregation @p a holding window @p wt at @p t, in the
 * target generation: its name and range. */
static int partition_of(const red_backfill_db_t *db, const red_agg_t *a,
                        red_window_type_t wt, red_time_t t, char *name,
                        size_t size, red_time_t *from, red_time_t *to)
{
        char declared[80], parent[80];
        red_partition_t gran;

        red_contract_agg_partition_parent(a, wt, declared, sizeof(declared),
                                          &gran);
        if (red_ddl_rename(a->table, declared, db->gen, parent,
                           sizeof(parent))) {
                return -EINVAL;
        }
        red_partition_of(parent, gran, t, name, size, from, to);
        return 0;
}

static chunk_t *chunk_get(red_backfill_db_t *db, const red_agg_t *a,
                          const char *name, red_time_t from, red_time_t to)
{
        chunk_t *ch;

        for (size_t i = 0; i < db->chunk_cnt; i++) {
                if (!strcmp(db->chunks[i].name, name)) {
                        return &db->chunks[i];
                }
        }
        ch = realloc(db->chunks, (db->chunk_cnt + 1) * sizeof(*ch));
        if (!ch) {
                return NULL;
        }
        db->chunks = ch;
        ch = &db->chunks[db->chunk_cnt++];
        memset(ch, 0, sizeof(*ch));
        snprintf(ch->name, sizeof(ch->name), "%s", name);
        ch->a = a;
        ch->from = from;
        ch->to = to;
        return ch;
}

/* The stored cells' first and last window start of @p a / @p wt in the
 * replaced range, widening [*lo, *hi]. */
static int stored_span(red_backfill_db_t *db, const red_agg_t *a,
                       red_window_type_t wt, const red_rebuild_range_t *rr,
                       red_time_t *lo, red_time_t *hi, char *errstr,
                       size_t size)
{
        char table[80], sql[512], f[RED_TIME_FMT_SIZE], t[RED_TIME_FMT_SIZE];
        const char *vals[3] = {red_window_type_name(wt),
                               time_param(rr->from[wt], f, sizeof(f)),
                               time_param(rr->to[wt], t, sizeof(t))};
        PGresult *res;
        red_buf_t q;
        int r = -1;

        if (red_ddl_name(a->table, db->gen, table, sizeof(table))) {
                snprintf(errstr, size, "table %s: unusable name", a->table);
                return -1;
        }
        red_buf_init(&q);
        red_buf_puts(&q, "SELECT (extract(epoch FROM min(window_start)) * "
                         "1000000)::bigint, (extract(epoch FROM "
                         "max(window_start)) * 1000000)::bigint FROM ");
        red_ddl_ident(&q, table);
        red_buf_puts(&q, " WHERE window_type = $1 AND window_start >= "
                         "coalesce($2::timestamptz, '-infinity') AND "
                         "window_start < coalesce($3::timestamptz, "
                         "'infinity')");
        snprintf(sql, sizeof(sql), "%s", q.failed ? "" : q.data);
        red_buf_destroy(&q);
        if (red_sink_io_exec(db->io, sql, 3, vals, &res, errstr, size)) {
                return -1;
        }
        if (!PQgetisnull(res, 0, 0)) {
                red_time_t a0 = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
                red_time_t a1 = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
                *lo = a0 < *lo ? a0 : *lo;
                *hi = a1 > *hi ? a1 : *hi;
        }
        r = 0;
        PQclear(res);
        return r;
}

static int cmp_chunk(const void *a, const void *b)
{
        return strcmp(((const chunk_t *)a)->name, ((const chunk_t *)b)->name);
}

/*
 * The chunks of a write: every partition of the target tables between
 * the first and the last window start of the replaced range that either
 * the recomputed cells or the stored ones have, per window type, with
 * the recomputed cells in them.
 */
static int plan_chunks(red_backfill_db_t *db, red_aggregator_t *cells,
                       const red_rebuild_range_t *rr, char *errstr, size_t size)
{
        const red_contract_t *c = db->c;
        red_cell_t **all;
        size_t cnt;

        chunks_free(db);
        all = red_aggregator_cells(cells, &cnt);
        for (size_t i = 0; i < c->agg_cnt; i++) {
                const red_agg_t *a = &c->aggs[i];

                if (!written(db, a)) {
                        continue;
                }
                for (int w = 0; w < RED_WINDOW__CNT; w++) {
                        red_window_type_t wt = (red_window_type_t)w;
                        red_time_t lo = INT64_MAX, hi = INT64_MIN, t, pf, pt;
                        char name[96];

                        if (!(a->windows & (1u << w))) {
                                continue;
                        }
                        for (size_t k = 0; k < cnt; k++) {
                                red_time_t s = red_cell_window_start(all[k]);
                                if (red_cell_agg(all[k]) == a &&
                                    red_cell_window_type(all[k]) == wt &&
                                    red_rebuild_covers(rr, wt, s)) {
                                        lo = s < lo ? s : lo;
                                        hi = s > hi ? s : hi;
                                }
                        }
                        if (stored_span(db, a, wt, rr, &lo, &hi, errstr,
                                        size)) {
                                return -1;
                        }
                        for (t = lo; lo <= hi && t <= hi; t = pt) {
                                chunk_t *ch;
                                if (partition_of(db, a, wt, t, name,
                                                 sizeof(name), &pf, &pt) ||
                                    !(ch = chunk_get(db, a, name, pf, pt))) {
                                        goto oom;
                                }
                                ch->windows |= 1u << w;
                        }
                }
        }
        qsort(db->chunks, db->chunk_cnt, sizeof(*db->chunks), cmp_chunk);
        for (size_t k = 0; k < cnt; k++) {
                const red_agg_t *a = red_cell_agg(all[k]);
                red_window_type_t wt = red_cell_window_type(all[k]);
                red_time_t s = red_cell_window_start(all[k]), pf, pt;
                chunk_t key, *ch;

                if (!written(db, a) || !red_rebuild_covers(rr, wt, s)) {
                        continue;
                }
                if (partition_of(db, a, wt, s, key.name, sizeof(key.name), &pf,
                                 &pt) ||
                    !(ch = bsearch(&key, db->chunks, db->chunk_cnt,
                                   sizeof(*db->chunks), cmp_chunk))) {
                        goto oom;
                }
                if (ch->cnt == ch->cap) {
                        size_t ncap = ch->cap ? 2 * ch->cap : 64;
                        red_cell_t **n = realloc(ch->cells, ncap * sizeof(*n));
                        if (!n) {
                                goto oom;
                        }
                        ch->cells = n;
                        ch->cap = ncap;
                }
                ch->cells[ch->cnt++] = all[k];
        }
        return 0;
oom:
        snprintf(errstr, size, "out of memory (or a partition name too long)");
        return -1;
}

static bool is_done(const red_backfill_db_t *db, const char *name)
{
        for (size_t i = 0; i < db->done_cnt; i++) {
                if (!strcmp(db->done[i], name)) {
                        return true;
                }
        }
        return false;
}

/* The stored cells of the chunk's replaced windows that the recomputation
 * did not make, deleted; then what the watermark passed marked final. */
static red_sink_result_t chunk_tidy(red_backfill_db_t *db, const chunk_t *ch,
                                    const red_rebuild_range_t *rr, char *errstr,
                                    size_t size)
{
        char table[80], pf[RED_TIME_FMT_SIZE], pt[RED_TIME_FMT_SIZE];
        char grace[32];
        red_buf_t ids, wts, wf, wt, q;
        const char *vals[7];
        red_sink_result_t r;

        if (red_ddl_name(ch->a->table, db->gen, table, sizeof(table))) {
                snprintf(errstr, size, "unusable table name");
                return RED_SINK_FATAL;
        }
        red_buf_init(&ids);
        red_buf_init(&wts);
        red_buf_init(&wf);
        red_buf_init(&wt);
        red_buf_init(&q);
        red_buf_putc(&ids, '{');
        for (size_t i = 0; i < ch->cnt; i++) {
                char id[RED_UUID_STR_SIZE];
                red_uuid_t u;
                red_cell_id(ch->cells[i], &u);
                red_uuid_format(&u, id);
                red_buf_printf(&ids, "%s%s", i ? "," : "", id);
        }
        red_buf_putc(&ids, '}');
        red_buf_putc(&wts, '{');
        red_buf_putc(&wf, '{');
        red_buf_putc(&wt, '{');
        for (int w = 0; w < RED_WINDOW__CNT; w++) {
                char f[RED_TIME_FMT_SIZE], t[RED_TIME_FMT_SIZE];
                if (!(ch->windows & (1u << w))) {
                        continue;
                }
                red_buf_printf(&wts, "%s%s", wts.len > 1 ? "," : "",
                               red_window_type_name((red_window_type_t)w));
                red_buf_printf(&wf, "%s%s", wf.len > 1 ? "," : "",
                               time_param(rr->from[w], f, sizeof(f))
                                       ? f
                                       : "-infinity");
                red_buf_printf(
                        &wt, "%s%s", wt.len > 1 ? "," : "",
                        time_param(rr->to[w], t, sizeof(t)) ? t : "infinity");
        }
        red_buf_putc(&wts, '}');
        red_buf_putc(&wf, '}');
        red_buf_putc(&wt, '}');
        red_time_format(ch->from, pf, sizeof(pf));
        red_time_format(ch->to, pt, sizeof(pt));
        red_buf_puts(&q, "DELETE FROM ");
        red_ddl_ident(&q, table);
        red_buf_puts(&q, " t WHERE t.window_start >= $1 AND t.window_start < "
                         "$2 AND t.aggregation_id <> ALL($3::uuid[]) AND "
                         "EXISTS (SELECT 1 FROM unnest($4::text[], "
                         "$5::timestamptz[], $6::timestamptz[]) AS w(t, f, e) "
                         "WHERE t.window_type = w.t AND t.window_start >= w.f "
                         "AND t.window_start < w.e)");
        vals[0] = pf;
        vals[1] = pt;
        vals[2] = ids.data;
        vals[3] = wts.data;
        vals[4] = wf.data;
        vals[5] = wt.data;
        if (ids.failed || wts.failed || wf.failed || wt.failed || q.failed) {
                snprintf(errstr, size, "out of memory");
                r = RED_SINK_RETRY;
                goto done;
        }
        if ((r = red_sink_io_exec(db->io, q.data, 6, vals, NULL, errstr,
                                  size))) {
                goto done;
        }
        /* what the live finaliser would have marked final by now */
        red_buf_reset(&q);
        red_buf_puts(&q, "UPDATE ");
        red_ddl_ident(&q, table);
        red_buf_puts(&q, " SET finalized_at = now() WHERE window_start >= $1 "
                         "AND window_start < $2 AND finalized_at IS NULL AND "
                         "window_end + make_interval(secs => $3::float8) <= "
                         "(SELECT min(watermark) FROM reducerd_offsets WHERE "
                         "consumer_group = $4)");
        snprintf(grace, sizeof(grace), "%.6f", (double)db->c->grace_us / 1e6);
        vals[2] = grace;
        vals[3] = db->c->consumer_group;
        r = q.failed ? RED_SINK_RETRY
                     : red_sink_io_exec(db->io, q.data, 4, vals, NULL, errstr,
                                        size);
done:
        red_buf_destroy(&ids);
        red_buf_destroy(&wts);
        red_buf_destroy(&wf);
        red_buf_destroy(&wt);
        red_buf_destroy(&q);
        return r;
}

/* One chunk: its cells over the stored ones, the rest of its replaced
 * windows deleted. */
static red_sink_result_t chunk_write(red_backfill_db_t *db, chunk_t *ch,
                                     const red_rebuild_range_t *rr,
                                     char *errstr, size_t size)
{
        red_sink_result_t r;
        size_t rows = 0;

        red_sink_outbox_reset(db->out);
        if ((r = red_sink_cells_lock_cells(db->cells, db->io, ch->cells,
                                           ch->cnt, errstr, size)) ||
            (r = red_sink_cells_merge(db->cells, db->out, NULL, errstr,
                                      size)) ||
            (r = red_sink_cells_store(db->cells, db->io, &rows, errstr,
                                      size)) ||
            (r = chunk_tidy(db, ch, rr, errstr, size))) {
                red_sink_cells_clear(db->cells);
                return r;
        }
        red_sink_cells_clear(db->cells);
        return RED_SINK_OK;
}

/* One chunk in a transaction of its own, recorded as done in it. */
static int chunk_commit(red_backfill_db_t *db, chunk_t *ch,
                        const red_rebuild_range_t *rr, char *errstr,
                        size_t size)
{
        const char *vals[2] = {db->id, ch->name};

        if (red_sink_io_run(db->io, "BEGIN", errstr, size)) {
                return -1;
        }
        if (chunk_write(db, ch, rr, errstr, size) ||
            red_sink_io_exec(db->io,
                             "UPDATE reducerd_backfills SET chunks_done = "
                             "array_append(chunks_done, $2), updated_at = "
                             "now() WHERE id = $1",
                             2, vals, NULL, errstr, size)) {
                red_sink_io_rollback(db->io);
                return -1;
        }
        /* a kill -9 here leaves the chunk as it was */
        red_failpoint("backfill_before_commit");
        if (red_sink_io_run(db->io, "COMMIT", errstr, size)) {
                red_sink_io_rollback(db->io);
                return -1;
        }
        return 0;
}

int red_backfill_db_write(red_backfill_db_t *db, red_aggregator_t *cells,
                          const red_rebuild_range_t *rr, bool in_txn,
                          red_backfill_db_progress_fn *progress, void *arg,
                          char *errstr, size_t size)
{
        if (plan_chunks(db, cells, rr, errstr, size)) {
                return -1;
        }
        for (size_t i = 0; i < db->chunk_cnt; i++) {
                chunk_t *ch = &db->chunks[i];

                if (is_done(db, ch->name)) {
                        continue;
                }
                if (in_txn ? chunk_write(db, ch, rr, errstr, size) != 0
                           : chunk_commit(db, ch, rr, errstr, size) != 0) {
                        return -1;
                }
                /* a kill -9 here leaves this chunk done, the next ones not */
                red_failpoint("backfill_chunk");
                if (progress) {
                        progress(arg, i + 1, db->chunk_cnt, ch->name);
                }
        }
        return 0;
}

int red_backfill_db_merge(red_backfill_db_t *db, red_aggregator_t *cells,
                          const red_rebuild_range_t *rr, char *errstr,
                          size_t size)
{
        red_cell_t **all, **in;
        size_t cnt, n = 0, rows = 0;
        int r = 0;

        all = red_aggregator_cells(cells, &cnt);
        if (!(in = calloc(cnt + 1, sizeof(*in)))) {
                snprintf(errstr, size, "out of memory");
                return -1;
        }
        for (size_t i = 0; i < cnt; i++) {
                if (red_rebuild_covers(rr, red_cell_window_type(all[i]),
                                       red_cell_window_start(all[i]))) {
                        in[n++] = all[i];
                }
        }
        red_sink_cells_target(db->cells, db->gen, false, db->aggs);
        red_sink_outbox_reset(db->out);
        if (red_sink_cells_lock_cells(db->cells, db->io, in, n, errstr, size) ||
            red_sink_cells_merge(db->cells, db->out, NULL, errstr, size) ||
            red_sink_cells_store(db->cells, db->io, &rows, errstr, size)) {
                r = -1;
        }
        red_sink_cells_clear(db->cells);
        red_sink_cells_target(db->cells, db->gen, true, db->aggs);
        free(in);
        return r;
}
