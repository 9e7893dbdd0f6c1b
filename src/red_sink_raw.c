/* red_sink_raw - row-by-row tables: stored identities found before a batch is
 * applied, rows COPYed in its transaction. */
#include "red_sink_impl.h"

#include "red_log.h"
#include "red_pg.h"
#include "red_rows.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A value in COPY text format (\N when absent). */
static void copy_value(red_buf_t *b, const red_value_t *v)
{
        char *j;

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
                red_buf_put_double(b, v->d);
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
                j = json_dumps(v->j, JSON_COMPACT);
                if (j) {
                        red_buf_put_copy_str(b, j, strlen(j));
                        free(j);
                } else {
                        b->failed = true;
                }
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

static int prepare_one(red_sink_t *s, raw_sql_t *q, size_t idx, char *errstr,
                       size_t size)
{
        const red_raw_t *r = q->raw;
        const char *names[72], *keys[10];
        char table[80], tmp[32], keytmp[32], tq[80], sql[4096];
        red_buf_t cols, kcols, kcast, on;
        size_t n = 0, kn = 0;
        int rc = -1;

        red_buf_init(&cols);
        red_buf_init(&kcols);
        red_buf_init(&kcast);
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
            red_pg_ident(r->time_column, tq, sizeof(tq)) ||
            red_pg_ident(r->time_column, q->time_col, sizeof(q->time_col)) ||
            name_list(&cols, "", "", names, n) ||
            name_list(&kcols, "", "", keys, kn) ||
            name_list(&kcast, "k.", "::text", keys, kn - 1)) {
                snprintf(errstr, size, "raw %s: invalid table or column name",
                         r->name);
                goto done;
        }
        if (red_sink_check_columns(s, q->table, names, n, errstr, size)) {
                goto done;
        }
        if (!r->unique_cnt) {
                if (asprintf(&q->copy, "COPY %s (%s) FROM STDIN", table,
                             cols.data) < 0) {
                        q->copy = NULL;
                        goto oom;
                }
                rc = 0;
                goto done;
        }
        /* unique rows go through a temp twin: INSERT ... ON CONFLICT DO
         * NOTHING skips what is stored (COPY cannot) */
        snprintf(tmp, sizeof(tmp), "red_raw_%zu", idx);
        snprintf(keytmp, sizeof(keytmp), "red_rawkey_%zu", idx);
        snprintf(q->truncate, sizeof(q->truncate), "TRUNCATE %s, %s", tmp,
                 keytmp);
        for (size_t i = 0; i < kn; i++) {
                char c[80];
                if (red_pg_ident(keys[i], c, sizeof(c))) {
                        goto done;
                }
                red_buf_printf(&on, "%st.%s = k.%s", i ? " AND " : "", c, c);
        }
        snprintf(sql, sizeof(sql),
                 "CREATE TEMP TABLE IF NOT EXISTS %s AS SELECT %s FROM %s "
                 "WITH NO DATA; CREATE TEMP TABLE IF NOT EXISTS %s AS SELECT "
                 "%s FROM %s WITH NO DATA",
                 tmp, cols.data, table, keytmp, kcols.data, table);
        if (red_pg_exec(s->conn, sql, errstr, size)) {
                goto done;
        }
        if (asprintf(&q->copy, "COPY %s (%s) FROM STDIN", tmp, cols.data) < 0 ||
            asprintf(&q->insert,
                     "INSERT INTO %s (%s) SELECT %s FROM %s ON CONFLICT DO "
                     "NOTHING",
                     table, cols.data, cols.data, tmp) < 0 ||
            asprintf(&q->copy_keys, "COPY %s (%s) FROM STDIN", keytmp,
                     kcols.data) < 0 ||
            asprintf(&q->lookup,
                     "SELECT %s, (extract(epoch FROM k.%s) * 1000000)::bigint "
                     "FROM %s k JOIN %s t ON %s",
                     kcast.data, tq, keytmp, table, on.data) < 0) {
                goto oom;
        }
        rc = 0;
        goto done;
oom:
        snprintf(errstr, size, "out of memory");
done:
        red_buf_destroy(&cols);
        red_buf_destroy(&kcols);
        red_buf_destroy(&kcast);
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
                        if (prepare_one(s, q, s->raw_cnt - 1, errstr, size)) {
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
                free(s->raws[i].insert);
                free(s->raws[i].copy_keys);
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

/* Looks the keys of one table up; marks the stored ones. */
static red_sink_result_t lookup_one(red_sink_t *s, const raw_sql_t *q,
                                    red_core_t *core, char *errstr, size_t size)
{
        const red_core_raw_key_t *keys;
        size_t cnt, n = 0;
        red_time_t lo = INT64_MAX, hi = INT64_MIN;
        char tlo[RED_TIME_FMT_SIZE], thi[RED_TIME_FMT_SIZE], *sql = NULL;
        red_sink_result_t r;
        PGresult *res;

        keys = red_core_raw_keys(core, &cnt);
        red_buf_reset(&s->buf);
        red_map_clear(s->by_id);
        for (size_t i = 0; i < cnt; i++) {
                const red_core_raw_key_t *k = &keys[i];

                if (k->raw != q->raw || k->table != q->table) {
                        continue;
                }
                for (size_t u = 0; u < q->raw->unique_cnt; u++) {
                        copy_value(&s->buf,
                                   red_event_value(k->ev, q->raw->unique[u]));
                        red_buf_putc(&s->buf, '\t');
                }
                red_sink_copy_time(&s->buf, k->ev->time);
                red_buf_putc(&s->buf, '\n');
                lo = k->ev->time < lo ? k->ev->time : lo;
                hi = k->ev->time > hi ? k->ev->time : hi;
                if (red_map_insert(s->by_id,
                                   red_hash_bytes(k->ident, k->ident_len, 0),
                                   (void *)k)) {
                        s->buf.failed = true;
                }
                n++;
        }
        if (s->buf.failed) {
                snprintf(errstr, size, "out of memory");
                return RED_SINK_RETRY;
        }
        if (!n) {
                return RED_SINK_OK;
        }
        red_time_format(lo, tlo, sizeof(tlo));
        red_time_format(hi, thi, sizeof(thi));
        if ((r = red_sink_exec(s, q->truncate, errstr, size)) ||
            (r = red_sink_copy_in(s, q->copy_keys, &s->buf, errstr, size))) {
                return r;
        }
        /* the time range in literals lets the planner prune to the
         * batch's partitions */
        if (asprintf(&sql, "%s WHERE t.%s >= '%s' AND t.%s <= '%s'", q->lookup,
                     q->time_col, tlo, q->time_col, thi) < 0) {
                snprintf(errstr, size, "out of memory");
                return RED_SINK_RETRY;
        }
        res = PQexec(s->conn, sql);
        free(sql);
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
                r = red_sink_classify(s, res, errstr, size);
                PQclear(res);
                return r;
        }
        red_buf_reset(&s->json);
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
        return RED_SINK_OK;
}

red_sink_result_t red_sink_raw_lookup(red_sink_t *s, red_core_t *core,
                                      char *errstr, size_t errstr_size)
{
        size_t cnt;

        errstr[0] = '\0';
        red_core_raw_keys(core, &cnt);
        if (!cnt) {
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
        return RED_SINK_OK;
}

/* ------------------------------------------------------------------ */
/* rows                                                                */
/* ------------------------------------------------------------------ */

static red_sink_result_t write_one(red_sink_t *s, const raw_sql_t *q,
                                   red_core_t *core, char *errstr, size_t size)
{
        const red_raw_t *r = q->raw;
        size_t rows = 0;
        red_sink_result_t rc;

        red_buf_reset(&s->buf);
        for (size_t i = 0; i < red_core_released(core); i++) {
                const red_event_t *ev = red_core_released_event(core, i);

                if (!ev || !(r->on & (UINT64_C(1) << ev->kind->index)) ||
                    red_raw_table(r, ev->msg->topic) != q->table) {
                        continue;
                }
                if (red_partition_ensure(s->conn, s->parts, q->table,
                                         r->partition, ev->time, errstr,
                                         size)) {
                        return RED_SINK_RETRY;
                }
                for (size_t k = 0; k < r->column_cnt; k++) {
                        copy_value(&s->buf,
                                   red_event_value(ev, r->columns[k].slot));
                        red_buf_putc(&s->buf, '\t');
                }
                red_sink_copy_time(&s->buf, ev->time);
                red_buf_putc(&s->buf, '\n');
                rows++;
        }
        if (s->buf.failed) {
                snprintf(errstr, size, "out of memory");
                return RED_SINK_RETRY;
        }
        if (!rows) {
                return RED_SINK_OK;
        }
        s->last_rows += rows;
        if (!q->insert) {
                return red_sink_copy_in(s, q->copy, &s->buf, errstr, size);
        }
        {
                PGresult *res;
                size_t inserted;

                if ((rc = red_sink_exec(s, q->truncate, errstr, size)) ||
                    (rc = red_sink_copy_in(s, q->copy, &s->buf, errstr,
                                           size))) {
                        return rc;
                }
                res = PQexec(s->conn, q->insert);
                if (PQresultStatus(res) != PGRES_COMMAND_OK) {
                        rc = red_sink_classify(s, res, errstr, size);
                        PQclear(res);
                        return rc;
                }
                inserted = (size_t)strtoull(PQcmdTuples(res), NULL, 10);
                PQclear(res);
                if (inserted != rows) {
                        /* another batch stored some of these rows after
                         * the lookup: their events were applied here too */
                        snprintf(errstr, size,
                                 "%zu of %zu rows of %s were stored "
                                 "meanwhile by another batch",
                                 rows - inserted, rows, q->table);
                        return RED_SINK_REPLAY;
                }
        }
        return RED_SINK_OK;
}

red_sink_result_t red_sink_raw_write(red_sink_t *s, red_core_t *core,
                                     char *errstr, size_t size)
{
        for (size_t i = 0; i < s->raw_cnt; i++) {
                red_sink_result_t r =
                        write_one(s, &s->raws[i], core, errstr, size);
                if (r) {
                        return r;
                }
        }
        return RED_SINK_OK;
}
