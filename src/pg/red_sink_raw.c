/* red_sink_raw - row-by-row tables: stored identities found before a batch is
 * applied, rows COPYed in its transaction. */
#include "red_sink_impl.h"

#include "red_log.h"
#include "red_pg.h"
#include "red_rows.h"

#include <errno.h>
#include <math.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
                red_sink_copy_uuid(b, &v->u);
                break;
        case RED_FT_TIMESTAMP:
                red_sink_copy_time(b, v->t);
                break;
        case RED_FT_OBJECT:
                red_sink_copy_object(b, v);
                break;
        default:
                red_buf_puts(b, "\\N");
                break;
        }
}

/* "a, b, c" of quoted names, optionally each prefixed (e.g. "k."). */
static int name_list(red_buf_t *out, const char *prefix, const char *suffix,
                     const char *const *names, size_t cnt)
{
        char q[80];

        for (size_t i = 0; i < cnt; i++) {
                if (red_pg_ident(names[i], q, sizeof(q))) {
                        return -EINVAL;
                }
                red_buf_printf(out, "%s%s%s%s", i ? ", " : "", prefix, q,
                               suffix);
        }
        return out->failed ? -ENOMEM : 0;
}

/* The SQL type of column @p col of @p table (e.g. "character varying(50)"). */
static int column_type(red_sink_t *s, const char *table, const char *col,
                       char *buf, size_t bufsize, char *errstr, size_t size)
{
        const char *vals[2] = {table, col};
        PGresult *res = PQexecParams(
                s->conn,
                "SELECT format_type(a.atttypid, a.atttypmod) FROM "
                "pg_attribute a JOIN pg_class c ON c.oid = a.attrelid WHERE "
                "c.relname = $1 AND c.relnamespace = "
                "current_schema()::regnamespace AND a.attname = $2",
                2, NULL, vals, NULL, NULL, 0);
        int r = 0;

        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
                char msg[256];
                red_pg_error(s->conn, res, msg, sizeof(msg));
                snprintf(errstr, size, "table %s: cannot read the type of %s: %s",
                         table, col, msg);
                r = -1;
        } else if (PQntuples(res) != 1) {
                snprintf(errstr, size, "table %s: cannot read the type of %s",
                         table, col);
                r = -1;
        } else {
                snprintf(buf, bufsize, "%s", PQgetvalue(res, 0, 0));
        }
        PQclear(res);
        return r;
}

static int prepare_one(red_sink_t *s, raw_sql_t *q, char *errstr, size_t size)
{
        const red_raw_t *r = q->raw;
        const char *names[72], *keys[10];
        char table[80], type[128];
        red_buf_t cols, sel, arrays, as, on;
        size_t n = 0, kn = 0;
        int rc = -1;

        red_buf_init(&cols);
        red_buf_init(&sel);
        red_buf_init(&arrays);
        red_buf_init(&as);
        red_buf_init(&on);
        for (size_t i = 0; i < r->column_cnt && n < 70; i++) {
                names[n++] = r->columns[i].name;
        }
        names[n++] = r->time_column;
        for (size_t u = 0; u < r->unique_cnt && kn < 8; u++) {
                keys[kn++] = s->c->slot_names[r->unique[u]];
        }
        keys[kn++] = r->time_column;
        if (red_pg_ident(q->table, table, sizeof(table)) ||
            red_pg_ident(r->time_column, q->time_col, sizeof(q->time_col)) ||
            name_list(&cols, "", "", names, n)) {
                snprintf(errstr, size, "raw %s: invalid table or column name",
                         r->name);
                goto done;
        }
        if (red_sink_check_columns(s, q->table, names, n, errstr, size)) {
                goto done;
        }
        /* rows go in by plain COPY: red_sink_raw_lookup() took the stored
         * ones out of the batch, and a row stored meanwhile by another
         * batch is a unique violation that makes this batch run again */
        if (asprintf(&q->copy, "COPY %s (%s) FROM STDIN", table, cols.data) <
            0) {
                q->copy = NULL;
                goto oom;
        }
        if (!r->unique_cnt) {
                rc = 0;
                goto done;
        }
        /* the lookup: stored identities among arrays of the batch's ones,
         * within the batch's time range ($kn+1, $kn+2; lets the planner
         * prune to the batch's partitions) */
        for (size_t i = 0; i < kn; i++) {
                char c[80];
                if (red_pg_ident(keys[i], c, sizeof(c)) ||
                    column_type(s, q->table, keys[i], type, sizeof(type),
                                errstr, size)) {
                        goto done;
                }
                if (i < kn - 1) {
                        red_buf_printf(&sel, "t.%s::text, ", c);
                }
                red_buf_printf(&arrays, "%s$%zu::%s[]", i ? ", " : "", i + 1,
                               type);
                red_buf_printf(&as, "%sk%zu", i ? ", " : "", i);
                red_buf_printf(&on, "%st.%s = k.k%zu", i ? " AND " : "", c,
                               i);
        }
        if (asprintf(&q->lookup,
                     "SELECT %s(extract(epoch FROM t.%s) * 1000000)::bigint "
                     "FROM %s t JOIN unnest(%s) AS k(%s) ON %s WHERE t.%s >= "
                     "$%zu AND t.%s <= $%zu",
                     sel.data ? sel.data : "", q->time_col, table, arrays.data,
                     as.data, on.data, q->time_col, kn + 1, q->time_col,
                     kn + 2) < 0) {
                q->lookup = NULL;
                goto oom;
        }
        q->params = kn + 2;
        rc = 0;
        goto done;
oom:
        snprintf(errstr, size, "out of memory");
done:
        red_buf_destroy(&cols);
        red_buf_destroy(&sel);
        red_buf_destroy(&arrays);
        red_buf_destroy(&as);
        red_buf_destroy(&on);
        return rc;
}

int red_sink_raw_prepare(red_sink_t *s, char *errstr, size_t size)
{
        const red_contract_t *c = s->c;
        size_t n = 0;

        red_sink_raw_free(s);
        for (size_t k = 0; k < c->raw_cnt; k++) {
                n += c->raws[k].table_cnt;
        }
        if (!n) {
                return 0;
        }
        if (!(s->raws = calloc(n, sizeof(*s->raws)))) {
                snprintf(errstr, size, "out of memory");
                return -1;
        }
        for (size_t k = 0; k < c->raw_cnt; k++) {
                for (size_t t = 0; t < c->raws[k].table_cnt; t++) {
                        raw_sql_t *q = &s->raws[s->raw_cnt++];
                        q->raw = &c->raws[k];
                        q->table = c->raws[k].tables[t];
                        if (prepare_one(s, q, errstr, size)) {
                                return -1;
                        }
                }
        }
        return 0;
}

void red_sink_raw_free(red_sink_t *s)
{
        for (size_t i = 0; s->raws && i < s->raw_cnt; i++) {
                free(s->raws[i].copy);
                free(s->raws[i].lookup);
        }
        free(s->raws);
        s->raws = NULL;
        s->raw_cnt = 0;
}

/* ------------------------------------------------------------------ */
/* stored identities                                                   */
/* ------------------------------------------------------------------ */

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

/* One element of a Postgres array literal: "text" with " and \ escaped. */
static void array_elem(red_buf_t *b, const char *p, size_t len)
{
        red_buf_putc(b, '"');
        for (size_t i = 0; i < len; i++) {
                if (p[i] == '"' || p[i] == '\\') {
                        red_buf_putc(b, '\\');
                }
                red_buf_putc(b, p[i]);
        }
        red_buf_putc(b, '"');
}

/* A value as an array element (string, integer, uuid: unique fields). */
static void array_value(red_buf_t *b, const red_value_t *v)
{
        char tmp[RED_UUID_STR_SIZE > 24 ? RED_UUID_STR_SIZE : 24];

        if (!v) {
                red_buf_puts(b, "NULL");
        } else if (v->type == RED_FT_STRING) {
                array_elem(b, v->s.p, v->s.len);
        } else if (v->type == RED_FT_INTEGER) {
                red_buf_put_i64(b, v->i);
        } else if (v->type == RED_FT_UUID) {
                red_uuid_format(&v->u, tmp);
                red_buf_append(b, tmp, 36);
        } else {
                red_buf_puts(b, "NULL");
        }
}

/* Looks the keys of one table up (one statement); marks the stored ones. */
static red_sink_result_t lookup_one(red_sink_t *s, const raw_sql_t *q,
                                    red_core_t *core, char *errstr,
                                    size_t size)
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
        red_map_clear(s->by_id);
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
                if (red_map_insert(s->by_id,
                                   red_hash_bytes(k->ident, k->ident_len, 0),
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
        res = PQexecParams(s->conn, q->lookup, (int)q->params, NULL, vals,
                           NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
                rc = red_sink_classify(s, res, errstr, size);
                PQclear(res);
                goto done;
        }
        for (int row = 0; row < PQntuples(res); row++) {
                int nf = PQnfields(res);
                const red_core_raw_key_t *k;
                ident_probe_t pr;

                red_buf_reset(&s->json);
                for (int f = 0; f < nf - 1; f++) {
                        red_rows_ident_part(&s->json, PQgetvalue(res, row, f),
                                            (size_t)PQgetlength(res, row, f));
                }
                red_buf_puts(&s->json, PQgetvalue(res, row, nf - 1));
                pr.p = s->json.data;
                pr.len = s->json.len;
                k = red_map_find(s->by_id, red_hash_bytes(pr.p, pr.len, 0),
                                 ident_eq, &pr);
                if (k) {
                        red_core_raw_stored(core, (size_t)(k - keys));
                }
        }
        PQclear(res);
done:
        for (size_t a = 0; a < kn; a++) {
                red_buf_destroy(&arr[a]);
        }
        return rc;
}

red_sink_result_t red_sink_raw_lookup(red_sink_t *s, red_core_t *core,
                                      char *errstr, size_t errstr_size)
{
        const red_core_raw_key_t *keys;
        size_t cnt, dup = 0;

        errstr[0] = '\0';
        keys = red_core_raw_keys(core, &cnt);
        if (!cnt || s->lookup_credit <= 0) {
                return RED_SINK_OK;
        }
        if (!red_sink_connected(s)) {
                snprintf(errstr, errstr_size, "not connected to PostgreSQL");
                return RED_SINK_RETRY;
        }
        for (size_t i = 0; i < s->raw_cnt; i++) {
                red_sink_result_t r;
                if (s->raws[i].lookup &&
                    (r = lookup_one(s, &s->raws[i], core, errstr,
                                    errstr_size))) {
                        return r;
                }
        }
        for (size_t i = 0; i < cnt; i++) {
                dup += !red_core_released_event(core, keys[i].entry);
        }
        s->lookup_credit = dup ? LOOKUP_CREDIT : s->lookup_credit - 1;
        return RED_SINK_OK;
}

/* ------------------------------------------------------------------ */
/* rows                                                                */
/* ------------------------------------------------------------------ */

/* Bytes of COPY data sent at a time: Postgres parses and inserts one
 * piece while the next one is rendered. */
#define COPY_PIECE (128 * 1024)

/* Where the batch's rows go: per raw table, its events in order. */
typedef struct plan_s {
        size_t *start;           /* s->raw_cnt + 1 offsets into rows */
        const red_event_t **rows;
} plan_t;

/* The index in s->raws of the table of raw sink @p k that @p ev goes to,
 * or -1. */
static int target(const red_sink_t *s, size_t k, const red_event_t *ev)
{
        const red_raw_t *r = &s->c->raws[k];
        const char *table;

        if (!(r->on & (UINT64_C(1) << ev->kind->index)) ||
            !(table = red_raw_table(r, ev->msg->topic))) {
                return -1;
        }
        for (size_t i = 0; i < s->raw_cnt; i++) {
                if (s->raws[i].raw == r && s->raws[i].table == table) {
                        return (int)i;
                }
        }
        return -1;
}

/* Groups the batch's rows by table (a counting sort, order kept). */
static int plan_rows(red_sink_t *s, red_core_t *core, plan_t *pl)
{
        size_t n = red_core_released(core), total = 0;
        size_t *fill = calloc(s->raw_cnt + 1, sizeof(*fill));
        int *first = malloc((n + 1) * sizeof(*first));
        const char *last_topic = NULL;
        const red_kind_t *last_kind = NULL;
        int last_target = -1;

        pl->start = calloc(s->raw_cnt + 1, sizeof(*pl->start));
        pl->rows = NULL;
        if (!fill || !first || !pl->start) {
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
                for (size_t k = 0; k < s->c->raw_cnt; k++) {
                        int t;
                        if (k == 0 && last_topic &&
                            ev->msg->topic == last_topic &&
                            ev->kind == last_kind) {
                                t = last_target;
                        } else {
                                t = target(s, k, ev);
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
        for (size_t i = 0, sum = 0; i <= s->raw_cnt; i++) {
                size_t c = i < s->raw_cnt ? pl->start[i] : 0;
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
                for (size_t k = 0; k < s->c->raw_cnt; k++) {
                        int t = k == 0 ? first[i] : target(s, k, ev);
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
        free(pl->start);
        pl->start = NULL;
        return -ENOMEM;
}

static red_sink_result_t write_table(red_sink_t *s, const raw_sql_t *q,
                                     const red_event_t *const *rows,
                                     size_t cnt, char *errstr, size_t size)
{
        const red_raw_t *r = q->raw;
        red_time_t from = 0, to = 0;
        red_sink_result_t rc;

        if (!cnt) {
                return RED_SINK_OK;
        }
        /* the partitions first: no other statement can run during COPY */
        for (size_t i = 0; i < cnt; i++) {
                char name[128];

                if (rows[i]->time >= from && rows[i]->time < to) {
                        continue;
                }
                if (red_partition_ensure(s->conn, s->parts, q->table,
                                         r->partition, 0, rows[i]->time,
                                         errstr, size)) {
                        return RED_SINK_RETRY;
                }
                red_partition_of(q->table, r->partition, rows[i]->time, name,
                                 sizeof(name), &from, &to);
        }
        s->last_rows += cnt;
        /* a unique violation: another batch stored one of these rows after
         * the lookup (its event was applied here too): run the batch again */
        s->unique_replays = r->unique_cnt > 0;
        red_buf_reset(&s->buf);
        if ((rc = red_sink_copy_begin(s, q->copy, errstr, size))) {
                goto done;
        }
        for (size_t i = 0; i < cnt; i++) {
                const red_event_t *ev = rows[i];

                for (size_t k = 0; k < r->column_cnt; k++) {
                        copy_value(&s->buf,
                                   red_event_value(ev, r->columns[k].slot));
                        red_buf_putc(&s->buf, '\t');
                }
                red_sink_copy_time(&s->buf, ev->time);
                red_buf_putc(&s->buf, '\n');
                if (s->buf.len >= COPY_PIECE &&
                    (rc = red_sink_copy_send(s, &s->buf, errstr, size))) {
                        goto done;
                }
        }
        if ((rc = red_sink_copy_send(s, &s->buf, errstr, size)) == RED_SINK_OK) {
                rc = red_sink_copy_end(s, errstr, size);
        }
done:
        s->unique_replays = false;
        return rc;
}

red_sink_result_t red_sink_raw_write(red_sink_t *s, red_core_t *core,
                                     char *errstr, size_t size)
{
        red_sink_result_t r = RED_SINK_OK;
        size_t last = 0, written = 0;
        plan_t pl;

        if (!s->raw_cnt) {
                return RED_SINK_OK;
        }
        if (plan_rows(s, core, &pl)) {
                snprintf(errstr, size, "out of memory");
                return RED_SINK_RETRY;
        }
        for (size_t i = 0; i < s->raw_cnt; i++) {
                if (pl.start[i + 1] > pl.start[i]) {
                        last = i;
                }
        }
        /* the events are applied during the first table's COPY, the cells
         * merged during the last one's */
        for (size_t i = 0; i <= last && !r; i++) {
                size_t cnt = pl.start[i + 1] - pl.start[i];

                if (cnt && i == last && written &&
                    (r = red_sink_lock_cells(s, errstr, size))) {
                        break;
                }
                r = write_table(s, &s->raws[i], pl.rows + pl.start[i], cnt,
                                errstr, size);
                written += cnt > 0;
        }
        free(pl.start);
        free(pl.rows);
        return r;
}
