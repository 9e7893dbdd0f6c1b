/* red_sink_state - state rows read back, upserted, swept; their events. */
#include "red_sink_state.h"

#include "red_buf.h"
#include "red_json_dump.h"
#include "red_pg.h"
#include "red_state_sql.h"
#include "red_time.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Quoted names of one state sink. */
typedef struct names_s {
        char table[80];
        char key[80];
        char deleted[80]; /* "" without soft delete */
        char tmp[32];     /* the session's temp table */
        red_buf_t cols;   /* key, columns, deleted: the rows' own columns */
} names_t;

struct red_sink_state_s {
        const red_contract_t *c;
        names_t *names;
        red_buf_t buf;  /* COPY data */
        red_buf_t sql;  /* statements */
        red_buf_t json; /* rendering */
};

red_sink_state_t *red_sink_state_new(const red_contract_t *c)
{
        red_sink_state_t *w = calloc(1, sizeof(*w));

        if (!w || !(w->names = calloc(c->state_cnt + 1, sizeof(*w->names)))) {
                free(w);
                return NULL;
        }
        w->c = c;
        for (size_t i = 0; i < c->state_cnt; i++) {
                red_buf_init(&w->names[i].cols);
        }
        red_buf_init(&w->buf);
        red_buf_init(&w->sql);
        red_buf_init(&w->json);
        return w;
}

void red_sink_state_destroy(red_sink_state_t *w)
{
        if (!w) {
                return;
        }
        for (size_t i = 0; i < w->c->state_cnt; i++) {
                red_buf_destroy(&w->names[i].cols);
        }
        free(w->names);
        red_buf_destroy(&w->buf);
        red_buf_destroy(&w->sql);
        red_buf_destroy(&w->json);
        free(w);
}

/* --- prepare ----------------------------------------------------------------
 */

static const char *const engine_cols[] = {"state_times", "state_status",
                                          "state_partition", "revision"};

/*
 * None of the @p cnt columns reducerd writes into @p table may be a
 * generated column: PostgreSQL refuses a value for one, so every batch
 * would fail. A registry at migration 0012 has search_text generated, which
 * migration 0013 turns into a column the contract's text_of rule fills.
 */
static int check_not_generated(red_sink_io_t *io, const char *contract,
                               const char *table, const char *const *cols,
                               size_t cnt, char *errstr, size_t size)
{
        const char *vals[1] = {table};
        PGresult *res;
        int r = 0;

        if (red_sink_io_exec(io,
                             "SELECT column_name FROM "
                             "information_schema.columns WHERE table_schema "
                             "= current_schema() AND table_name = $1 AND "
                             "is_generated = 'ALWAYS'",
                             1, vals, &res, errstr, size)) {
                return -1;
        }
        for (int row = 0; !r && row < PQntuples(res); row++) {
                for (size_t k = 0; k < cnt; k++) {
                        if (!strcmp(PQgetvalue(res, row, 0), cols[k])) {
                                snprintf(errstr, size,
                                         "table %s: column %s is generated, "
                                         "but contract %s writes it: run "
                                         "reducerd migrate (migration 0013 "
                                         "makes the registry's search_text "
                                         "a column reducerd writes)",
                                         table, cols[k], contract);
                                r = -1;
                                break;
                        }
                }
        }
        PQclear(res);
        return r;
}

static int prepare_one(red_sink_state_t *w, red_sink_io_t *io, size_t i,
                       char *errstr, size_t size)
{
        const red_state_t *s = &w->c->states[i];
        names_t *n = &w->names[i];
        const char *check[128];
        size_t cnt = 0;
        char q[80];

        if (red_pg_ident(s->table, n->table, sizeof(n->table)) ||
            red_pg_ident(s->key_column, n->key, sizeof(n->key)) ||
            (s->deleted_column &&
             red_pg_ident(s->deleted_column, n->deleted, sizeof(n->deleted))) ||
            s->column_cnt + 8 > sizeof(check) / sizeof(*check)) {
                snprintf(errstr, size, "state %s: invalid table or column",
                         s->name);
                return -1;
        }
        snprintf(n->tmp, sizeof(n->tmp), "red_tmp_state_%zu", i);
        red_buf_reset(&n->cols);
        red_buf_puts(&n->cols, n->key);
        check[cnt++] = s->key_column;
        for (size_t k = 0; k < s->column_cnt; k++) {
                if (red_pg_ident(s->columns[k].name, q, sizeof(q))) {
                        snprintf(errstr, size, "state %s: invalid column %s",
                                 s->name, s->columns[k].name);
                        return -1;
                }
                red_buf_printf(&n->cols, ", %s", q);
                check[cnt++] = s->columns[k].name;
        }
        if (s->deleted_column) {
                red_buf_printf(&n->cols, ", %s", n->deleted);
                check[cnt++] = s->deleted_column;
        }
        for (size_t k = 0; k < 4; k++) {
                check[cnt++] = engine_cols[k];
        }
        check[cnt++] = "updated_at";
        if (n->cols.failed ||
            red_sink_io_check_columns(io, w->c->name, s->table, check, cnt,
                                      errstr, size) ||
            check_not_generated(io, w->c->name, s->table, check, cnt, errstr,
                                size)) {
                return -1;
        }
        for (size_t l = 0; l < s->list_cnt; l++) {
                const red_state_list_t *li = &s->lists[l];
                const char *lc[64];
                size_t m = 0;
                lc[m++] = s->key_column;
                for (size_t k = 0; k < li->column_cnt && m < 64; k++) {
                        lc[m++] = li->columns[k];
                }
                if (red_sink_io_check_columns(io, w->c->name, li->table, lc, m,
                                              errstr, size)) {
                        return -1;
                }
        }
        red_buf_reset(&w->sql);
        red_buf_printf(&w->sql,
                       "CREATE TEMP TABLE IF NOT EXISTS %s AS SELECT %s, "
                       "state_times, state_status, state_partition, revision "
                       "FROM %s WITH NO DATA",
                       n->tmp, n->cols.data, n->table);
        if (w->sql.failed) {
                snprintf(errstr, size, "out of memory");
                return -1;
        }
        return red_sink_io_run(io, w->sql.data, errstr, size) ? -1 : 0;
}

int red_sink_state_prepare(red_sink_state_t *w, red_sink_io_t *io, char *errstr,
                           size_t size)
{
        for (size_t i = 0; i < w->c->state_cnt; i++) {
                if (prepare_one(w, io, i, errstr, size)) {
                        return -1;
                }
        }
        return 0;
}

/* --- reading rows back
 * -------------------------------------------------------- */

/* A text[] literal of @p cnt strings. */
static void text_array(red_buf_t *b, char *const *items, size_t cnt)
{
        red_buf_putc(b, '{');
        for (size_t i = 0; i < cnt; i++) {
                red_buf_puts(b, i ? ",\"" : "\"");
                for (const char *p = items[i]; *p; p++) {
                        if (*p == '"' || *p == '\\') {
                                red_buf_putc(b, '\\');
                        }
                        red_buf_putc(b, *p);
                }
                red_buf_putc(b, '"');
        }
        red_buf_putc(b, '}');
}

/* One stored row into the table. 0 or -ENOMEM. */
static int restore(red_state_table_t *t, const red_state_t *s,
                   const PGresult *res, int row)
{
        int c0 = 1, nc = (int)s->column_cnt;
        red_state_row_t *r =
                red_state_table_restore(t, PQgetvalue(res, row, 0));
        json_t *times;

        if (!r) {
                return -ENOMEM;
        }
        times = json_loads(PQgetvalue(res, row, c0 + nc + 1), 0, NULL);
        for (int k = 0; k < nc; k++) {
                const red_state_col_t *col = &s->columns[k];
                json_t *at = json_object_get(times, col->name);
                red_state_row_set(
                        r, (size_t)k,
                        PQgetisnull(res, row, c0 + k)
                                ? NULL
                                : red_state_sql_value(
                                          col, PQgetvalue(res, row, c0 + k)),
                        json_is_integer(at) ? json_integer_value(at)
                                            : INT64_MIN);
        }
        if (json_is_integer(json_object_get(times, "$alive"))) {
                r->alive_at =
                        json_integer_value(json_object_get(times, "$alive"));
        }
        json_decref(times);
        if (!PQgetisnull(res, row, c0 + nc)) {
                r->deleted_at =
                        strtoll(PQgetvalue(res, row, c0 + nc), NULL, 10);
        }
        if (!PQgetisnull(res, row, c0 + nc + 2) &&
            !(r->status = strdup(PQgetvalue(res, row, c0 + nc + 2)))) {
                return -ENOMEM;
        }
        r->partition =
                PQgetisnull(res, row, c0 + nc + 3)
                        ? -1
                        : (int32_t)atoi(PQgetvalue(res, row, c0 + nc + 3));
        r->revision = strtoll(PQgetvalue(res, row, c0 + nc + 4), NULL, 10);
        return 0;
}

static red_sink_result_t load_one(red_sink_state_t *w, red_sink_io_t *io,
                                  size_t i, red_state_table_t *t, char *errstr,
                                  size_t size)
{
        const red_state_t *s = &w->c->states[i];
        const names_t *n = &w->names[i];
        size_t cnt;
        char *const *missing = red_state_table_missing(t, &cnt);
        const char *vals[1];
        red_sink_result_t r;
        PGresult *res;

        if (!cnt) {
                return red_state_table_loaded(t) ? RED_SINK_RETRY : RED_SINK_OK;
        }
        red_buf_reset(&w->sql);
        red_buf_printf(&w->sql, "SELECT %s::text", n->key);
        for (size_t k = 0; k < s->column_cnt; k++) {
                red_buf_puts(&w->sql, ", ");
                if (red_state_sql_select(&s->columns[k], "", &w->sql)) {
                        snprintf(errstr, size, "state %s: invalid column",
                                 s->name);
                        return RED_SINK_FATAL;
                }
        }
        if (s->deleted_column) {
                red_buf_printf(&w->sql,
                               ", (extract(epoch FROM %s) * 1000000)::bigint",
                               n->deleted);
        } else {
                red_buf_puts(&w->sql, ", NULL::bigint");
        }
        red_buf_printf(&w->sql,
                       ", state_times::text, state_status, state_partition, "
                       "revision FROM %s WHERE %s = ANY($1)",
                       n->table, n->key);
        red_buf_reset(&w->buf);
        text_array(&w->buf, missing, cnt);
        if (w->sql.failed || w->buf.failed) {
                snprintf(errstr, size, "out of memory");
                return RED_SINK_RETRY;
        }
        vals[0] = w->buf.data;
        if ((r = red_sink_io_exec(io, w->sql.data, 1, vals, &res, errstr,
                                  size))) {
                return r;
        }
        for (int row = 0; row < PQntuples(res); row++) {
                if (restore(t, s, res, row)) {
                        PQclear(res);
                        snprintf(errstr, size, "out of memory");
                        return RED_SINK_RETRY;
                }
        }
        PQclear(res);
        if (red_state_table_loaded(t)) {
                snprintf(errstr, size, "out of memory");
                return RED_SINK_RETRY;
        }
        return RED_SINK_OK;
}

red_sink_result_t red_sink_state_load(red_sink_state_t *w, red_sink_io_t *io,
                                      red_core_t *core, char *errstr,
                                      size_t size)
{
        size_t cnt;
        red_state_table_t **ts = red_core_states(core, &cnt);
        red_sink_result_t r;

        for (size_t i = 0; i < cnt; i++) {
                if ((r = load_one(w, io, i, ts[i], errstr, size))) {
                        return r;
                }
        }
        return RED_SINK_OK;
}

/* --- the batch
 * ------------------------------------------------------------------ */

/* A value in COPY text (@p tmp: scratch). */
static void put_value(red_buf_t *b, const red_state_col_t *col, const json_t *v,
                      red_buf_t *tmp)
{
        if (!v || json_is_null(v)) {
                red_buf_puts(b, col->rule == RED_RULE_COUNT ? "0" : "\\N");
                return;
        }
        if (col->type == RED_FT_TIMESTAMP && json_is_integer(v)) {
                red_sink_io_put_time(b, json_integer_value(v));
        } else if (json_is_string(v) && col->type != RED_FT_NONE) {
                red_buf_put_copy_str(b, json_string_value(v),
                                     json_string_length(v));
        } else if (json_is_boolean(v) && col->type == RED_FT_BOOLEAN) {
                red_buf_puts(b, json_is_true(v) ? "t" : "f");
        } else if (json_is_integer(v) && col->type != RED_FT_NONE) {
                red_buf_put_i64(b, json_integer_value(v));
        } else if (json_is_real(v) && col->type != RED_FT_NONE) {
                red_buf_printf(b, "%.17g", json_real_value(v));
        } else {
                /* json_dumps(JSON_COMPACT | JSON_ENCODE_ANY): the members in
                 * the order they came */
                red_buf_reset(tmp);
                if (red_json_dump(v, false, tmp)) {
                        b->failed = true;
                        return;
                }
                red_buf_put_copy_str(b, tmp->data, tmp->len);
        }
}

static void row_line(red_sink_state_t *w, red_state_table_t *t,
                     const red_state_t *s, const red_state_row_t *row)
{
        red_buf_t *b = &w->buf;

        red_buf_put_copy_str(b, row->key, strlen(row->key));
        for (size_t k = 0; k < s->column_cnt; k++) {
                red_buf_putc(b, '\t');
                put_value(b, &s->columns[k], row->vals[k], &w->json);
        }
        if (s->deleted_column) {
                red_buf_putc(b, '\t');
                if (row->deleted_at == INT64_MIN) {
                        red_buf_puts(b, "\\N");
                } else {
                        red_sink_io_put_time(b, row->deleted_at);
                }
        }
        red_buf_putc(b, '\t');
        red_buf_reset(&w->json);
        red_state_times_json(t, row, &w->json);
        red_buf_put_copy_str(b, w->json.data, w->json.len);
        red_buf_putc(b, '\t');
        if (row->status) {
                red_buf_put_copy_str(b, row->status, strlen(row->status));
        } else {
                red_buf_puts(b, "\\N");
        }
        red_buf_putc(b, '\t');
        if (row->partition >= 0) {
                red_buf_put_i64(b, row->partition);
        } else {
                red_buf_puts(b, "\\N");
        }
        red_buf_putc(b, '\t');
        red_buf_put_i64(b, row->revision + 1);
        red_buf_putc(b, '\n');
}

/* One list item in COPY text (red_state_item_fn). */
typedef struct item_ctx_s {
        red_buf_t *b;
        const char *key;
        size_t cnt;
} item_ctx_t;

static int item_line(void *arg, const json_t *const *members)
{
        item_ctx_t *x = arg;
        red_buf_t *b = x->b;

        red_buf_put_copy_str(b, x->key, strlen(x->key));
        for (size_t m = 0; m < x->cnt; m++) {
                const json_t *v = members[m];
                char *j;
                red_buf_putc(b, '\t');
                if (!v) {
                        red_buf_puts(b, "\\N");
                } else if (json_is_string(v)) {
                        red_buf_put_copy_str(b, json_string_value(v),
                                             json_string_length(v));
                } else if ((j = json_dumps(v, JSON_ENCODE_ANY))) {
                        red_buf_put_copy_str(b, j, strlen(j));
                        free(j);
                }
        }
        red_buf_putc(b, '\n');
        return b->failed ? -ENOMEM : 0;
}

/* The lists of the rows whose list columns changed: deleted, then
 * COPYed anew. */
static red_sink_result_t write_lists(red_sink_state_t *w, red_sink_io_t *io,
                                     size_t i, red_state_row_t **dirty,
                                     size_t cnt, char *errstr, size_t size)
{
        const red_state_t *s = &w->c->states[i];
        const names_t *n = &w->names[i];
        char **keys = calloc(cnt + 1, sizeof(*keys));
        size_t kc = 0;
        red_sink_result_t r = RED_SINK_OK;

        if (!keys) {
                snprintf(errstr, size, "out of memory");
                return RED_SINK_RETRY;
        }
        for (size_t k = 0; k < cnt; k++) {
                if (dirty[k]->list_dirty || !dirty[k]->stored) {
                        keys[kc++] = dirty[k]->key;
                }
        }
        for (size_t l = 0; kc && !r && l < s->list_cnt; l++) {
                const red_state_list_t *li = &s->lists[l];
                char table[80], q[80];
                const char *vals[1];

                if (red_pg_ident(li->table, table, sizeof(table))) {
                        r = RED_SINK_FATAL;
                        break;
                }
                red_buf_reset(&w->buf);
                text_array(&w->buf, keys, kc);
                red_buf_reset(&w->sql);
                red_buf_printf(&w->sql, "DELETE FROM %s WHERE %s = ANY($1)",
                               table, n->key);
                vals[0] = w->buf.data;
                if (w->buf.failed || w->sql.failed) {
                        r = RED_SINK_RETRY;
                        break;
                }
                if ((r = red_sink_io_exec(io, w->sql.data, 1, vals, NULL,
                                          errstr, size))) {
                        break;
                }
                red_buf_reset(&w->buf);
                for (size_t k = 0; k < cnt; k++) {
                        item_ctx_t x = {&w->buf, dirty[k]->key, li->column_cnt};
                        if ((dirty[k]->list_dirty || !dirty[k]->stored) &&
                            red_state_list_items(li, dirty[k], item_line, &x)) {
                                r = RED_SINK_RETRY;
                        }
                }
                if (r || !w->buf.len) {
                        continue;
                }
                red_buf_reset(&w->sql);
                red_buf_printf(&w->sql, "COPY %s (%s", table, n->key);
                for (size_t k = 0; k < li->column_cnt; k++) {
                        if (red_pg_ident(li->columns[k], q, sizeof(q))) {
                                r = RED_SINK_FATAL;
                                break;
                        }
                        red_buf_printf(&w->sql, ", %s", q);
                }
                red_buf_puts(&w->sql, ") FROM STDIN");
                if (!r) {
                        r = red_sink_io_copy_in(io, w->sql.data, &w->buf,
                                                errstr, size);
                }
        }
        free(keys);
        if (r == RED_SINK_RETRY && !errstr[0]) {
                snprintf(errstr, size, "out of memory");
        }
        return r;
}

static red_sink_result_t write_one(red_sink_state_t *w, red_sink_io_t *io,
                                   size_t i, red_state_table_t *t,
                                   red_sink_outbox_t *out, size_t *rows,
                                   char *errstr, size_t size)
{
        const red_state_t *s = &w->c->states[i];
        const names_t *n = &w->names[i];
        const red_publish_t *pubs[] = {&s->on_created, &s->on_deleted,
                                       &s->on_status};
        size_t cnt, ecnt;
        red_state_row_t **dirty = red_state_table_dirty(t, &cnt);
        const red_state_event_t *ev = red_state_table_events(t, &ecnt);
        red_sink_result_t r;
        char q[80];

        if (cnt) {
                red_buf_reset(&w->buf);
                for (size_t k = 0; k < cnt; k++) {
                        row_line(w, t, s, dirty[k]);
                }
                red_buf_reset(&w->sql);
                red_buf_printf(&w->sql,
                               "COPY %s (%s, state_times, state_status, "
                               "state_partition, revision) FROM STDIN",
                               n->tmp, n->cols.data);
                if (w->buf.failed || w->sql.failed) {
                        snprintf(errstr, size, "out of memory");
                        return RED_SINK_RETRY;
                }
                red_buf_reset(&w->json);
                red_buf_printf(&w->json, "TRUNCATE %s", n->tmp);
                if ((r = red_sink_io_run(io, w->json.data, errstr, size)) ||
                    (r = red_sink_io_copy_in(io, w->sql.data, &w->buf, errstr,
                                             size))) {
                        return r;
                }
                /* in key order, so that two workers cannot deadlock */
                red_buf_reset(&w->sql);
                red_buf_printf(&w->sql,
                               "INSERT INTO %s AS c (%s, state_times, "
                               "state_status, state_partition, revision) "
                               "SELECT %s, state_times, state_status, "
                               "state_partition, revision FROM %s ORDER BY %s "
                               "ON CONFLICT (%s) DO UPDATE SET ",
                               n->table, n->cols.data, n->cols.data, n->tmp,
                               n->key, n->key);
                for (size_t k = 0; k < s->column_cnt; k++) {
                        if (red_pg_ident(s->columns[k].name, q, sizeof(q))) {
                                return RED_SINK_FATAL;
                        }
                        red_buf_printf(&w->sql, "%s = EXCLUDED.%s, ", q, q);
                }
                if (s->deleted_column) {
                        red_buf_printf(&w->sql, "%s = EXCLUDED.%s, ",
                                       n->deleted, n->deleted);
                }
                red_buf_puts(&w->sql,
                             "state_times = EXCLUDED.state_times, "
                             "state_status = EXCLUDED.state_status, "
                             "state_partition = EXCLUDED.state_partition, "
                             "revision = EXCLUDED.revision, updated_at = "
                             "now()");
                if (w->sql.failed) {
                        snprintf(errstr, size, "out of memory");
                        return RED_SINK_RETRY;
                }
                if ((r = red_sink_io_run(io, w->sql.data, errstr, size)) ||
                    (r = write_lists(w, io, i, dirty, cnt, errstr, size))) {
                        return r;
                }
                *rows += cnt;
        }
        for (size_t k = 0; k < ecnt; k++) {
                const red_publish_t *p = pubs[ev[k].change];
                if (p->topic) {
                        red_sink_outbox_add(out, p->topic, ev[k].key,
                                            p->event_type, &ev[k].id, NULL,
                                            ev[k].payload);
                }
        }
        return RED_SINK_OK;
}

red_sink_result_t red_sink_state_write(red_sink_state_t *w, red_sink_io_t *io,
                                       red_core_t *core, red_sink_outbox_t *out,
                                       size_t *n, char *errstr, size_t size)
{
        size_t cnt;
        red_state_table_t **ts = red_core_states(core, &cnt);
        red_sink_result_t r;

        for (size_t i = 0; i < cnt; i++) {
                if ((r = write_one(w, io, i, ts[i], out, n, errstr, size))) {
                        return r;
                }
        }
        return RED_SINK_OK;
}

/* --- outside the batches
 * ------------------------------------------------------ */

/* Runs @p fn's statements in a transaction of their own with the outbox. */
static red_sink_result_t in_txn(red_sink_io_t *io, red_sink_outbox_t *out,
                                red_sink_result_t r, char *errstr, size_t size)
{
        if (r || (r = red_sink_outbox_write(out, io, errstr, size)) ||
            (r = red_sink_io_run(io, "COMMIT", errstr, size))) {
                red_sink_io_rollback(io);
        }
        red_sink_outbox_reset(out);
        return r;
}

static red_sink_result_t sweep_one(red_sink_state_t *w, red_sink_io_t *io,
                                   size_t i, red_sink_outbox_t *out,
                                   red_time_t clock, const char *clock_text,
                                   const char *parts, long *changed,
                                   char *errstr, size_t size)
{
        const red_state_t *s = &w->c->states[i];
        const names_t *n = &w->names[i];
        const char *vals[2] = {clock_text, parts};
        red_sink_result_t r;
        PGresult *res;
        red_buf_t eff;

        red_buf_init(&eff);
        if (red_state_sql_effective(s, "", "$1::timestamptz", &eff)) {
                red_buf_destroy(&eff);
                snprintf(errstr, size, "state %s: invalid column", s->name);
                return RED_SINK_FATAL;
        }
        red_buf_reset(&w->sql);
        red_buf_printf(&w->sql,
                       "WITH due AS (SELECT %s AS k, state_status AS prev, %s "
                       "AS now FROM %s WHERE state_partition = ANY($2::int[]) "
                       "AND (%s) IS DISTINCT FROM state_status",
                       n->key, eff.data, n->table, eff.data);
        if (s->deleted_column) {
                red_buf_printf(&w->sql, " AND %s IS NULL", n->deleted);
        }
        red_buf_printf(&w->sql,
                       " ORDER BY %s LIMIT 1000 FOR UPDATE SKIP LOCKED) "
                       "UPDATE %s AS t SET state_status = due.now, revision = "
                       "t.revision + 1, updated_at = now() FROM due WHERE "
                       "t.%s = due.k RETURNING t.%s::text, due.prev, "
                       "due.now",
                       n->key, n->table, n->key, n->key);
        red_buf_destroy(&eff);
        if (w->sql.failed) {
                snprintf(errstr, size, "out of memory");
                return RED_SINK_RETRY;
        }
        if ((r = red_sink_io_exec(io, w->sql.data, 2, vals, &res, errstr,
                                  size))) {
                return r;
        }
        for (int row = 0; row < PQntuples(res); row++) {
                const char *key = PQgetvalue(res, row, 0);
                const char *prev = PQgetisnull(res, row, 1)
                                           ? NULL
                                           : PQgetvalue(res, row, 1);
                const char *now = PQgetisnull(res, row, 2)
                                          ? NULL
                                          : PQgetvalue(res, row, 2);
                red_uuid_t id;

                (*changed)++;
                if (!s->on_status.topic) {
                        continue;
                }
                red_buf_reset(&w->json);
                red_state_status_json(s, key, now, prev, "stale", clock,
                                      &w->json);
                red_state_change_id(w->c, s, key, RED_STATE_STATUS, clock, now,
                                    &id);
                red_sink_outbox_add(out, s->on_status.topic, key,
                                    s->on_status.event_type, &id, NULL,
                                    w->json.data);
        }
        PQclear(res);
        return RED_SINK_OK;
}

red_sink_result_t red_sink_state_sweep(red_sink_state_t *w, red_sink_io_t *io,
                                       red_sink_outbox_t *out, red_time_t clock,
                                       const int32_t *partitions, size_t cnt,
                                       long *changed, char *errstr, size_t size)
{
        char ts[RED_TIME_FMT_SIZE];
        red_buf_t parts;
        red_sink_result_t r = RED_SINK_OK;
        bool any = false;

        *changed = 0;
        for (size_t i = 0; i < w->c->state_cnt; i++) {
                any |= w->c->states[i].stale != NULL;
        }
        if (!any || !cnt) {
                return RED_SINK_OK;
        }
        red_time_format(clock, ts, sizeof(ts));
        red_buf_init(&parts);
        red_buf_putc(&parts, '{');
        for (size_t i = 0; i < cnt; i++) {
                red_buf_printf(&parts, "%s%d", i ? "," : "",
                               (int)partitions[i]);
        }
        red_buf_putc(&parts, '}');
        red_sink_outbox_reset(out);
        if ((r = red_sink_io_run(io, "BEGIN", errstr, size))) {
                red_buf_destroy(&parts);
                return r;
        }
        for (size_t i = 0; !r && i < w->c->state_cnt; i++) {
                if (w->c->states[i].stale) {
                        r = sweep_one(w, io, i, out, clock, ts, parts.data,
                                      changed, errstr, size);
                }
        }
        red_buf_destroy(&parts);
        return in_txn(io, out, r, errstr, size);
}

red_sink_result_t red_sink_state_start(red_sink_state_t *w, red_sink_io_t *io,
                                       red_sink_outbox_t *out,
                                       const char *instance, char *errstr,
                                       size_t size)
{
        red_sink_result_t r;
        bool any = false;

        red_sink_outbox_reset(out);
        for (size_t i = 0; i < w->c->state_cnt; i++) {
                const red_state_t *s = &w->c->states[i];
                red_uuid_t id;

                if (!s->on_start.topic) {
                        continue;
                }
                any = true;
                red_buf_reset(&w->json);
                red_buf_printf(&w->json,
                               "{\"contract\":\"%s\",\"state\":\"%s\","
                               "\"requested_by\":",
                               w->c->name, s->name);
                red_buf_put_json_str(&w->json, instance, strlen(instance));
                red_buf_putc(&w->json, '}');
                red_uuid_v4(&id);
                red_sink_outbox_add(out, s->on_start.topic, s->name,
                                    s->on_start.event_type, &id, NULL,
                                    w->json.data);
        }
        if (!any) {
                return RED_SINK_OK;
        }
        r = red_sink_io_run(io, "BEGIN", errstr, size);
        return in_txn(io, out, r, errstr, size);
}
