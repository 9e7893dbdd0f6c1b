/* red_sink_raw - row-by-row tables: stored rows found before a batch is
 * applied, rows COPYed table by table in its transaction. */
#include "red_sink_raw.h"

#include "red_buf.h"
#include "red_map.h"
#include "red_partition.h"
#include "red_pg.h"
#include "red_rows.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* After a batch met a stored raw row, this many batches look stored rows
 * up first (a producer that re-sends usually does so for a while); then
 * the lookup stops until the next unique violation. */
#define LOOKUP_CREDIT 32

/* Bytes of COPY data sent at a time: Postgres parses and inserts one
 * piece while the next one is rendered. */
#define COPY_PIECE (128 * 1024)

/* Per raw sink and table: the SQL built once. */
typedef struct raw_sql_s {
        const red_raw_t *raw;
        const char *table; /* borrowed from the contract */
        char *copy;        /* COPY into the table */
        char *lookup;      /* stored identities among arrays of the batch's */
        size_t params;     /* of lookup: one array per key column, time range */
        char time_col[80]; /* quoted */
} raw_sql_t;

/* Where the batch's rows go: per raw table, its events in order. */
typedef struct plan_s {
        size_t *start; /* cnt + 1 offsets into rows */
        const red_event_t **rows;
        size_t *used; /* the tables that get rows */
        size_t used_cnt;
} plan_t;

struct red_sink_raw_s {
        const red_contract_t *c;
        raw_sql_t *tables;
        size_t cnt;
        int lookup_credit; /* batches that still look stored rows up */
        plan_t plan;
        red_map_t *by_ident;       /* the batch's keys, during a lookup */
        red_buf_t buf;             /* COPY data; a stored identity */
        const red_msg_t *rejected; /* whose row PostgreSQL refused */
};

red_sink_raw_t *red_sink_raw_new(const red_contract_t *c)
{
        red_sink_raw_t *w = calloc(1, sizeof(*w));

        if (!w) {
                return NULL;
        }
        w->c = c;
        red_buf_init(&w->buf);
        if (!(w->by_ident = red_map_new())) {
                red_sink_raw_destroy(w);
                return NULL;
        }
        return w;
}

static void plan_free(plan_t *pl)
{
        free(pl->start);
        free(pl->rows);
        free(pl->used);
        memset(pl, 0, sizeof(*pl));
}

static void sql_free(red_sink_raw_t *w)
{
        for (size_t i = 0; w->tables && i < w->cnt; i++) {
                free(w->tables[i].copy);
                free(w->tables[i].lookup);
        }
        free(w->tables);
        w->tables = NULL;
        w->cnt = 0;
}

void red_sink_raw_destroy(red_sink_raw_t *w)
{
        if (!w) {
                return;
        }
        sql_free(w);
        plan_free(&w->plan);
        red_map_destroy(w->by_ident);
        red_buf_destroy(&w->buf);
        free(w);
}

/* --- per connection ------------------------------------------------- */

/* "a, b, c" of quoted names. */
static int name_list(red_buf_t *out, const char *const *names, size_t cnt)
{
        char q[80];

        for (size_t i = 0; i < cnt; i++) {
                if (red_pg_ident(names[i], q, sizeof(q))) {
                        return -EINVAL;
                }
                red_buf_printf(out, "%s%s", i ? ", " : "", q);
        }
        return out->failed ? -ENOMEM : 0;
}

/* The SQL type of column @p col of @p table (e.g. "character varying(50)"). */
static int column_type(red_sink_io_t *io, const char *table, const char *col,
                       char *buf, size_t bufsize, char *errstr, size_t size)
{
        const char *vals[2] = {table, col};
        char msg[256];
        PGresult *res;
        int r = 0;

        if (red_sink_io_exec(io,
                             "SELECT format_type(a.atttypid, a.atttypmod) "
                             "FROM pg_attribute a JOIN pg_class c ON c.oid = "
                             "a.attrelid WHERE c.relname = $1 AND "
                             "c.relnamespace = current_schema()::regnamespace "
                             "AND a.attname = $2",
                             2, vals, &res, msg, sizeof(msg))) {
                snprintf(errstr, size,
                         "table %s: cannot read the type of %s: %s", table, col,
                         msg);
                return -1;
        }
        if (PQntuples(res) != 1) {
                snprintf(errstr, size, "table %s: cannot read the type of %s",
                         table, col);
                r = -1;
        } else {
                snprintf(buf, bufsize, "%s", PQgetvalue(res, 0, 0));
        }
        PQclear(res);
        return r;
}

/* The lookup: stored identities among arrays of the batch's ones, within
 * the batch's time range ($kn+1, $kn+2; lets the planner prune to the
 * batch's partitions). */
static int prepare_lookup(red_sink_raw_t *w, red_sink_io_t *io, raw_sql_t *q,
                          const char *table, char *errstr, size_t size)
{
        const red_raw_t *r = q->raw;
        const char *keys[10];
        char type[128];
        red_buf_t sel, arrays, as, on;
        size_t kn = 0;
        int rc = -1;

        for (size_t u = 0; u < r->unique_cnt && kn < 8; u++) {
                keys[kn++] = w->c->slot_names[r->unique[u]];
        }
        keys[kn++] = r->time_column;
        red_buf_init(&sel);
        red_buf_init(&arrays);
        red_buf_init(&as);
        red_buf_init(&on);
        for (size_t i = 0; i < kn; i++) {
                char c[80];

                if (red_pg_ident(keys[i], c, sizeof(c))) {
                        snprintf(errstr, size, "raw %s: invalid column name %s",
                                 r->name, keys[i]);
                        goto done;
                }
                if (column_type(io, q->table, keys[i], type, sizeof(type),
                                errstr, size)) {
                        goto done;
                }
                if (i < kn - 1) {
                        red_buf_printf(&sel, "t.%s::text, ", c);
                }
                red_buf_printf(&arrays, "%s$%zu::%s[]", i ? ", " : "", i + 1,
                               type);
                red_buf_printf(&as, "%sk%zu", i ? ", " : "", i);
                red_buf_printf(&on, "%st.%s = k.k%zu", i ? " AND " : "", c, i);
        }
        if (asprintf(&q->lookup,
                     "SELECT %s(extract(epoch FROM t.%s) * 1000000)::bigint "
                     "FROM %s t JOIN unnest(%s) AS k(%s) ON %s WHERE t.%s >= "
                     "$%zu AND t.%s <= $%zu",
                     sel.data ? sel.data : "", q->time_col, table, arrays.data,
                     as.data, on.data, q->time_col, kn + 1, q->time_col,
                     kn + 2) < 0) {
                q->lookup = NULL;
                snprintf(errstr, size, "out of memory");
                goto done;
        }
        q->params = kn + 2;
        rc = 0;
done:
        red_buf_destroy(&sel);
        red_buf_destroy(&arrays);
        red_buf_destroy(&as);
        red_buf_destroy(&on);
        return rc;
}

static int prepare_one(red_sink_raw_t *w, red_sink_io_t *io, raw_sql_t *q,
                       char *errstr, size_t size)
{
        const red_raw_t *r = q->raw;
        const char *names[72];
        char table[80];
        red_buf_t cols;
        size_t n = 0;
        int rc = -1;

        red_buf_init(&cols);
        for (size_t i = 0; i < r->column_cnt && n < 70; i++) {
                names[n++] = r->columns[i].name;
        }
        names[n++] = r->time_column;
        if (red_pg_ident(q->table, table, sizeof(table)) ||
            red_pg_ident(r->time_column, q->time_col, sizeof(q->time_col)) ||
            name_list(&cols, names, n)) {
                snprintf(errstr, size, "raw %s: invalid table or column name",
                         r->name);
                goto done;
        }
        if (red_sink_io_check_columns(io, w->c->name, q->table, names, n,
                                      errstr, size)) {
                goto done;
        }
        /* rows go in by plain COPY: the lookup took the stored ones out of
         * the batch, and a row stored meanwhile by another batch is a
         * unique violation that makes this batch run again */
        if (asprintf(&q->copy, "COPY %s (%s) FROM STDIN", table, cols.data) <
            0) {
                q->copy = NULL;
                snprintf(errstr, size, "out of memory");
                goto done;
        }
        rc = r->unique_cnt ? prepare_lookup(w, io, q, table, errstr, size) : 0;
done:
        red_buf_destroy(&cols);
        return rc;
}

int red_sink_raw_prepare(red_sink_raw_t *w, red_sink_io_t *io, char *errstr,
                         size_t size)
{
        const red_contract_t *c = w->c;
        size_t n = 0;

        sql_free(w);
        for (size_t k = 0; k < c->raw_cnt; k++) {
                n += c->raws[k].table_cnt;
        }
        if (!n) {
                return 0;
        }
        if (!(w->tables = calloc(n, sizeof(*w->tables)))) {
                snprintf(errstr, size, "out of memory");
                return -1;
        }
        for (size_t k = 0; k < c->raw_cnt; k++) {
                for (size_t t = 0; t < c->raws[k].table_cnt; t++) {
                        raw_sql_t *q = &w->tables[w->cnt++];

                        q->raw = &c->raws[k];
                        q->table = c->raws[k].tables[t];
                        if (prepare_one(w, io, q, errstr, size)) {
                                return -1;
                        }
                }
        }
        return 0;
}

/* --- stored identities ---------------------------------------------- */

typedef struct ident_probe_s {
        const char *p;
        size_t len;
} ident_probe_t;

static bool ident_eq(const void *item, const void *key)
{
        const red_core_raw_key_t *k = item;
        const ident_probe_t *pr = key;

        return k->ident_len == pr->len && !memcmp(k->ident, pr->p, pr->len);
}

/* A value as an array element (string, integer, uuid: unique fields). */
static void array_value(red_buf_t *b, const red_value_t *v)
{
        char tmp[RED_UUID_STR_SIZE > 24 ? RED_UUID_STR_SIZE : 24];

        if (!v) {
                red_buf_puts(b, "NULL");
        } else if (v->type == RED_FT_STRING) {
                red_sink_io_put_array_elem(b, v->s.p, v->s.len);
        } else if (v->type == RED_FT_INTEGER) {
                red_buf_put_i64(b, v->i);
        } else if (v->type == RED_FT_UUID) {
                red_uuid_format(&v->u, tmp);
                red_buf_append(b, tmp, 36);
        } else {
                red_buf_puts(b, "NULL");
        }
}

/* Marks the keys of @p core found in @p res (rows of the lookup). */
static void mark_found(red_sink_raw_t *w, const PGresult *res, red_core_t *core,
                       const red_core_raw_key_t *keys)
{
        for (int row = 0; row < PQntuples(res); row++) {
                int nf = PQnfields(res);
                const red_core_raw_key_t *k;
                ident_probe_t pr;

                red_buf_reset(&w->buf);
                for (int f = 0; f < nf - 1; f++) {
                        red_rows_ident_part(&w->buf, PQgetvalue(res, row, f),
                                            (size_t)PQgetlength(res, row, f));
                }
                red_buf_puts(&w->buf, PQgetvalue(res, row, nf - 1));
                pr.p = w->buf.data;
                pr.len = w->buf.len;
                k = red_map_find(w->by_ident,
                                 red_map_hash_bytes(pr.p, pr.len, 0), ident_eq,
                                 &pr);
                if (k) {
                        red_core_raw_stored(core, (size_t)(k - keys));
                }
        }
}

/* Looks the keys of one table up (one statement); marks the stored ones. */
static red_sink_result_t lookup_one(red_sink_raw_t *w, red_sink_io_t *io,
                                    const raw_sql_t *q, red_core_t *core,
                                    char *errstr, size_t size)
{
        const red_raw_t *r = q->raw;
        const red_core_raw_key_t *keys;
        size_t cnt, n = 0, kn = r->unique_cnt + 1;
        red_time_t lo = INT64_MAX, hi = INT64_MIN;
        char tlo[RED_TIME_FMT_SIZE], thi[RED_TIME_FMT_SIZE];
        const char *vals[12];
        red_buf_t arr[10];
        red_sink_result_t rc = RED_SINK_OK;
        PGresult *res;

        keys = red_core_raw_keys(core, &cnt);
        red_map_clear(w->by_ident);
        for (size_t a = 0; a < kn; a++) {
                red_buf_init(&arr[a]);
                red_buf_putc(&arr[a], '{');
        }
        for (size_t i = 0; i < cnt; i++) {
                const red_core_raw_key_t *k = &keys[i];
                char ts[RED_TIME_FMT_SIZE];

                if (k->raw != r || k->table != q->table) {
                        continue;
                }
                for (size_t u = 0; u < r->unique_cnt; u++) {
                        if (n) {
                                red_buf_putc(&arr[u], ',');
                        }
                        array_value(&arr[u],
                                    red_event_value(k->ev, r->unique[u]));
                }
                red_time_format(k->ev->time, ts, sizeof(ts));
                if (n) {
                        red_buf_putc(&arr[kn - 1], ',');
                }
                red_buf_puts(&arr[kn - 1], ts);
                lo = k->ev->time < lo ? k->ev->time : lo;
                hi = k->ev->time > hi ? k->ev->time : hi;
                if (red_map_insert(
                            w->by_ident,
                            red_map_hash_bytes(k->ident, k->ident_len, 0),
                            (void *)k)) {
                        arr[0].failed = true;
                }
                n++;
        }
        for (size_t a = 0; a < kn; a++) {
                red_buf_putc(&arr[a], '}');
                if (arr[a].failed) {
                        snprintf(errstr, size, "out of memory");
                        rc = RED_SINK_RETRY;
                }
                vals[a] = arr[a].data;
        }
        if (!n || rc) {
                goto done;
        }
        red_time_format(lo, tlo, sizeof(tlo));
        red_time_format(hi, thi, sizeof(thi));
        vals[kn] = tlo;
        vals[kn + 1] = thi;
        if ((rc = red_sink_io_exec(io, q->lookup, (int)q->params, vals, &res,
                                   errstr, size))) {
                goto done;
        }
        mark_found(w, res, core, keys);
        PQclear(res);
done:
        for (size_t a = 0; a < kn; a++) {
                red_buf_destroy(&arr[a]);
        }
        return rc;
}

red_sink_result_t red_sink_raw_mark_stored(red_sink_raw_t *w, red_sink_io_t *io,
                                           red_core_t *core, char *errstr,
                                           size_t size)
{
        const red_core_raw_key_t *keys;
        size_t cnt, dup = 0;

        keys = red_core_raw_keys(core, &cnt);
        if (!cnt || w->lookup_credit <= 0) {
                return RED_SINK_OK;
        }
        if (!red_sink_io_connected(io)) {
                snprintf(errstr, size, "not connected to PostgreSQL");
                return RED_SINK_RETRY;
        }
        for (size_t i = 0; i < w->cnt; i++) {
                red_sink_result_t r;

                if (w->tables[i].lookup &&
                    (r = lookup_one(w, io, &w->tables[i], core, errstr,
                                    size))) {
                        return r;
                }
        }
        for (size_t i = 0; i < cnt; i++) {
                dup += !red_core_released_event(core, keys[i].entry);
        }
        w->lookup_credit = dup ? LOOKUP_CREDIT : w->lookup_credit - 1;
        return RED_SINK_OK;
}

/* --- the batch's rows ----------------------------------------------- */

/* A double as Postgres reads it back exactly (one snprintf; the JSON
 * renderings look for the shortest form instead). */
static void copy_double(red_buf_t *b, double v)
{
        char tmp[32];
        int n;

        if (fabs(v) < 1e15 && v == (double)(int64_t)v) {
                red_buf_put_i64(b, (int64_t)v);
                return;
        }
        n = snprintf(tmp, sizeof(tmp), "%.17g", v);
        red_buf_append(b, tmp, (size_t)n);
}

/* A value in COPY text format (\N when absent). */
static void copy_value(red_buf_t *b, const red_value_t *v)
{
        if (!v) {
                red_buf_puts(b, "\\N");
                return;
        }
        switch (v->type) {
        case RED_FT_STRING:
                red_buf_put_copy_str(b, v->s.p, v->s.len);
                break;
        case RED_FT_INTEGER:
                red_buf_put_i64(b, v->i);
                break;
        case RED_FT_NUMBER:
                if (v->num) {
                        red_buf_append(b, v->num, v->raw_len);
                } else {
                        copy_double(b, v->d);
                }
                break;
        case RED_FT_BOOLEAN:
                red_buf_puts(b, v->b ? "t" : "f");
                break;
        case RED_FT_UUID:
                red_sink_io_put_uuid(b, &v->u);
                break;
        case RED_FT_TIMESTAMP:
                red_sink_io_put_time(b, v->t);
                break;
        case RED_FT_OBJECT:
        case RED_FT_ARRAY:
                red_sink_io_put_object(b, v);
                break;
        default:
                red_buf_puts(b, "\\N");
                break;
        }
}

/* The index in w->tables of the table of raw sink @p k that @p ev goes
 * to, or -1. */
static int target(const red_sink_raw_t *w, size_t k, const red_event_t *ev)
{
        const red_raw_t *r = &w->c->raws[k];
        const char *table;

        if (!(r->on & (UINT64_C(1) << ev->kind->index)) ||
            !(table = red_contract_raw_table(r, ev->msg->topic))) {
                return -1;
        }
        for (size_t i = 0; i < w->cnt; i++) {
                if (w->tables[i].raw == r && w->tables[i].table == table) {
                        return (int)i;
                }
        }
        return -1;
}

/* Groups the batch's rows by table (a counting sort, order kept). */
static int plan_rows(red_sink_raw_t *w, red_core_t *core, plan_t *pl)
{
        size_t n = red_core_released(core), total = 0;
        size_t *fill = calloc(w->cnt + 1, sizeof(*fill));
        int *first = malloc((n + 1) * sizeof(*first));
        const char *last_topic = NULL;
        const red_kind_t *last_kind = NULL;
        int last_target = -1;

        pl->start = calloc(w->cnt + 1, sizeof(*pl->start));
        pl->used = calloc(w->cnt + 1, sizeof(*pl->used));
        if (!fill || !first || !pl->start || !pl->used) {
                goto oom;
        }
        /* pass 1: count; one raw sink is the common case, so remember the
         * first sink's target for the last topic and kind */
        for (size_t i = 0; i < n; i++) {
                const red_event_t *ev = red_core_released_event(core, i);

                first[i] = -1;
                if (!ev) {
                        continue;
                }
                for (size_t k = 0; k < w->c->raw_cnt; k++) {
                        int t;
                        if (k == 0 && last_topic &&
                            ev->msg->topic == last_topic &&
                            ev->kind == last_kind) {
                                t = last_target;
                        } else {
                                t = target(w, k, ev);
                        }
                        if (k == 0) {
                                first[i] = t;
                                last_topic = ev->msg->topic;
                                last_kind = ev->kind;
                                last_target = t;
                        }
                        if (t >= 0 && (k == 0 || t != first[i])) {
                                pl->start[t]++;
                                total++;
                        }
                }
        }
        for (size_t i = 0, sum = 0; i <= w->cnt; i++) {
                size_t c = i < w->cnt ? pl->start[i] : 0;
                if (c) {
                        pl->used[pl->used_cnt++] = i;
                }
                pl->start[i] = sum;
                fill[i] = sum;
                sum += c;
        }
        if (!(pl->rows = malloc((total + 1) * sizeof(*pl->rows)))) {
                goto oom;
        }
        /* pass 2: place */
        for (size_t i = 0; i < n; i++) {
                const red_event_t *ev = red_core_released_event(core, i);

                if (!ev) {
                        continue;
                }
                for (size_t k = 0; k < w->c->raw_cnt; k++) {
                        int t = k == 0 ? first[i] : target(w, k, ev);
                        if (t >= 0 && (k == 0 || t != first[i])) {
                                pl->rows[fill[t]++] = ev;
                        }
                }
        }
        free(fill);
        free(first);
        return 0;
oom:
        free(fill);
        free(first);
        plan_free(pl);
        return -ENOMEM;
}

red_sink_result_t red_sink_raw_plan(red_sink_raw_t *w, red_core_t *core,
                                    size_t *tables, char *errstr, size_t size)
{
        plan_free(&w->plan);
        w->rejected = NULL;
        *tables = 0;
        if (!w->cnt) {
                return RED_SINK_OK;
        }
        if (plan_rows(w, core, &w->plan)) {
                snprintf(errstr, size, "out of memory");
                return RED_SINK_RETRY;
        }
        *tables = w->plan.used_cnt;
        return RED_SINK_OK;
}

/* The partitions of the rows first: no other statement can run during
 * the COPY. Consecutive rows mostly share a day: the last range is kept. */
static red_sink_result_t ensure_partitions(red_sink_io_t *io,
                                           const raw_sql_t *q,
                                           const red_event_t *const *rows,
                                           size_t cnt, char *errstr,
                                           size_t size)
{
        red_time_t from = 0, to = 0;
        red_sink_result_t r;

        for (size_t i = 0; i < cnt; i++) {
                char name[128];

                if (rows[i]->time >= from && rows[i]->time < to) {
                        continue;
                }
                if ((r = red_sink_io_partition(io, q->table, q->raw->partition,
                                               0, rows[i]->time, errstr,
                                               size))) {
                        return r;
                }
                red_partition_of(q->table, q->raw->partition, rows[i]->time,
                                 name, sizeof(name), &from, &to);
        }
        return red_sink_io_noted(io, errstr, size);
}

red_sink_result_t red_sink_raw_partition_at(red_sink_raw_t *w,
                                            red_sink_io_t *io, red_time_t t,
                                            char *errstr, size_t size)
{
        red_sink_result_t r;

        for (size_t i = 0; i < w->cnt; i++) {
                if ((r = red_sink_io_partition(io, w->tables[i].table,
                                               w->tables[i].raw->partition, 0,
                                               t, errstr, size))) {
                        return r;
                }
        }
        return RED_SINK_OK;
}

const red_msg_t *red_sink_raw_rejected(const red_sink_raw_t *w)
{
        return w->rejected;
}

red_sink_result_t red_sink_raw_write(red_sink_raw_t *w, red_sink_io_t *io,
                                     size_t i, size_t *n, char *errstr,
                                     size_t size)
{
        const plan_t *pl = &w->plan;
        const raw_sql_t *q = &w->tables[pl->used[i]];
        const red_raw_t *r = q->raw;
        const red_event_t *const *rows = pl->rows + pl->start[pl->used[i]];
        size_t cnt = pl->start[pl->used[i] + 1] - pl->start[pl->used[i]];
        red_sink_result_t rc;

        if ((rc = ensure_partitions(io, q, rows, cnt, errstr, size))) {
                return rc;
        }
        *n += cnt;
        red_buf_reset(&w->buf);
        if ((rc = red_sink_io_copy_begin(io, q->copy, errstr, size))) {
                return rc;
        }
        for (size_t k = 0; k < cnt; k++) {
                const red_event_t *ev = rows[k];

                for (size_t c = 0; c < r->column_cnt; c++) {
                        copy_value(&w->buf,
                                   red_event_value(ev, r->columns[c].slot));
                        red_buf_putc(&w->buf, '\t');
                }
                red_sink_io_put_time(&w->buf, ev->time);
                red_buf_putc(&w->buf, '\n');
                if (w->buf.len >= COPY_PIECE &&
                    (rc = red_sink_io_copy_send(io, &w->buf, errstr, size))) {
                        return rc;
                }
        }
        if ((rc = red_sink_io_copy_send(io, &w->buf, errstr, size))) {
                return rc;
        }
        /* a unique violation: a row of the batch was stored after the
         * lookup, or while none ran (its event was applied here too): the
         * batch runs again, and the next batches look their rows up */
        rc = red_sink_io_copy_end(io,
                                  r->unique_cnt ? RED_SINK_REPLAY : RED_SINK_OK,
                                  errstr, size);
        if (rc == RED_SINK_REPLAY) {
                w->lookup_credit = LOOKUP_CREDIT;
        }
        if (rc == RED_SINK_REJECTED) {
                /* the line the server names is the row, and the event */
                long line = red_sink_io_rejected_line(io);
                w->rejected = line >= 1 && (size_t)line <= cnt
                                      ? rows[line - 1]->msg
                                      : NULL;
        }
        return rc;
}
