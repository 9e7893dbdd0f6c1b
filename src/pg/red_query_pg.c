/* red_query_pg - query plans as parameterised SQL; rows into formats. */
#include "red_query_pg.h"

#include "red_cursor.h"
#include "red_describe.h"
#include "red_format.h"
#include "red_map.h"
#include "red_pg.h"
#include "red_summary.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The rows of a plan are read in the column order of q->cols, then the
 * plan's order columns as text (the next cursor is made of them). */

/* --- SQL with parameters ---------------------------------------------- */

typedef struct sql_s {
        red_buf_t text;
        char **params;
        int n, cap;
        bool where;  /* a WHERE was written */
        bool failed; /* an identifier did not validate, or OOM */
} sql_t;

static void sql_init(sql_t *s)
{
        memset(s, 0, sizeof(*s));
        red_buf_init(&s->text);
}

static void sql_free(sql_t *s)
{
        red_buf_destroy(&s->text);
        for (int i = 0; i < s->n; i++) {
                free(s->params[i]);
        }
        free(s->params);
}

static void sql_puts(sql_t *s, const char *t)
{
        red_buf_puts(&s->text, t);
}

/* A quoted identifier from the contract. */
static void sql_ident(sql_t *s, const char *name)
{
        char q[80];

        if (red_pg_ident(name, q, sizeof(q))) {
                s->failed = true;
                return;
        }
        red_buf_puts(&s->text, q);
}

/* $n for a copy of @p value, optionally with a cast. */
static void sql_param(sql_t *s, const char *value, const char *cast)
{
        if (s->n == s->cap) {
                int cap = s->cap ? 2 * s->cap : 16;
                char **p = realloc(s->params, (size_t)cap * sizeof(*p));
                if (!p) {
                        s->failed = true;
                        return;
                }
                s->params = p;
                s->cap = cap;
        }
        if (!(s->params[s->n] = strdup(value))) {
                s->failed = true;
                return;
        }
        s->n++;
        red_buf_printf(&s->text, "$%d%s%s", s->n, cast ? "::" : "",
                       cast ? cast : "");
}

static void sql_time(sql_t *s, red_time_t t)
{
        char buf[RED_TIME_FMT_SIZE];

        /* PostgreSQL has no year 0 and no expanded years: the edges of a
         * 10 000-year range become the infinities */
        if (t < INT64_C(-62135596800000000)) { /* 0001-01-01 */
                snprintf(buf, sizeof(buf), "-infinity");
        } else if (t >= INT64_C(253402300800000000)) { /* 10000-01-01 */
                snprintf(buf, sizeof(buf), "infinity");
        } else {
                red_time_format(t, buf, sizeof(buf));
        }
        sql_param(s, buf, "timestamptz");
}

static void sql_int(sql_t *s, int64_t v)
{
        char buf[32];

        snprintf(buf, sizeof(buf), "%lld", (long long)v);
        sql_param(s, buf, "bigint");
}

/* A text array literal {"a","b"} of @p vals. */
static void sql_array(sql_t *s, char *const *vals, size_t cnt, const char *cast)
{
        red_buf_t a;

        red_buf_init(&a);
        red_buf_putc(&a, '{');
        for (size_t i = 0; i < cnt; i++) {
                red_buf_puts(&a, i ? ",\"" : "\"");
                for (const char *p = vals[i]; *p; p++) {
                        if (*p == '"' || *p == '\\') {
                                red_buf_putc(&a, '\\');
                        }
                        red_buf_putc(&a, *p);
                }
                red_buf_putc(&a, '"');
        }
        red_buf_putc(&a, '}');
        if (a.failed) {
                s->failed = true;
        } else {
                sql_param(s, a.data, cast);
        }
        red_buf_destroy(&a);
}

static void sql_and(sql_t *s)
{
        sql_puts(s, s->where ? " AND " : " WHERE ");
        s->where = true;
}

static const char *const array_casts[] = {
        [RED_QVAL_TEXT] = "text[]",    [RED_QVAL_BIGINT] = "bigint[]",
        [RED_QVAL_FLOAT] = "float8[]", [RED_QVAL_BOOL] = "boolean[]",
        [RED_QVAL_UUID] = "uuid[]",
};

static void sql_filters(sql_t *s, const red_query_t *q)
{
        for (size_t i = 0; i < q->filter_cnt; i++) {
                const red_qfilter_t *f = &q->filters[i];
                sql_and(s);
                if (f->json_key) {
                        /* a member of a JSON object column, as text */
                        sql_puts(s, "(");
                        sql_ident(s, f->column);
                        sql_puts(s, " ->> ");
                        sql_param(s, f->json_key, "text");
                        sql_puts(s, ") = ANY(");
                } else {
                        sql_ident(s, f->column);
                        sql_puts(s, " = ANY(");
                }
                sql_array(s, f->values, f->value_cnt, array_casts[f->type]);
                sql_puts(s, ")");
        }
}

static void sql_range(sql_t *s, const red_query_t *q)
{
        if (!q->has_range) {
                return;
        }
        sql_and(s);
        sql_ident(s, q->time_column);
        sql_puts(s, " >= ");
        sql_time(s, q->from);
        sql_puts(s, " AND ");
        sql_ident(s, q->time_column);
        sql_puts(s, " < ");
        sql_time(s, q->to);
}

/* (a, b) > ($1, $2): the rows after the cursor in the plan's order. */
static void sql_after_cursor(sql_t *s, const red_query_t *q, bool desc)
{
        if (!q->cursor || !q->order_cnt) {
                return;
        }
        sql_and(s);
        sql_puts(s, "(");
        for (size_t i = 0; i < q->order_cnt; i++) {
                sql_puts(s, i ? ", t." : "t.");
                sql_ident(s, q->order_by[i]);
        }
        sql_puts(s, desc ? ") < (" : ") > (");
        for (size_t i = 0; i < q->order_cnt; i++) {
                sql_puts(s, i ? ", " : "");
                sql_param(s, q->cursor[i], NULL);
        }
        sql_puts(s, ")");
}

static void sql_order(sql_t *s, const red_query_t *q, bool desc)
{
        for (size_t i = 0; i < q->order_cnt; i++) {
                /* t.: the table's column, not the output column of the
                 * same name */
                sql_puts(s, i ? ", t." : " ORDER BY t.");
                sql_ident(s, q->order_by[i]);
                sql_puts(s, desc ? " DESC" : "");
        }
}

/* The row query of series, raw, alerts and a workflow's history. */
static void build_rows(sql_t *s, const red_query_t *q)
{
        sql_puts(s, "SELECT ");
        for (size_t i = 0; i < q->col_cnt; i++) {
                sql_puts(s, i ? ", " : "");
                sql_ident(s, q->cols[i].name);
        }
        for (size_t i = 0; i < q->order_cnt; i++) {
                sql_puts(s, ", t.");
                sql_ident(s, q->order_by[i]);
                sql_puts(s, "::text");
        }
        sql_puts(s, " FROM ");
        sql_ident(s, q->table);
        sql_puts(s, " t");
        switch (q->kind) {
        case RED_QUERY_SERIES:
                sql_and(s);
                sql_puts(s, "window_type = ");
                sql_param(s, red_window_type_name(q->window), "text");
                if (q->grouping >= 0) {
                        sql_and(s);
                        sql_ident(s, q->agg->grouping_column);
                        sql_puts(s, " = ");
                        sql_param(s, q->agg->groupings[q->grouping].name,
                                  "text");
                }
                break;
        case RED_QUERY_WORKFLOW:
                sql_and(s);
                sql_puts(s, "workflow_id = ");
                sql_param(s, q->workflow_id, "uuid");
                break;
        default:
                break;
        }
        sql_range(s, q);
        sql_filters(s, q);
        sql_after_cursor(s, q, q->desc);
        sql_order(s, q, q->desc);
        sql_puts(s, " LIMIT ");
        sql_int(s, q->limit + 1);
        if (q->offset) {
                sql_puts(s, " OFFSET ");
                sql_int(s, q->offset);
        }
}

/* The stored cells of a summary's tiles, in group order. */
static void build_summary(sql_t *s, const red_query_t *q)
{
        const red_agg_t *agg = q->agg;

        sql_puts(s, "SELECT ");
        sql_ident(s, agg->grouping_column);
        for (size_t i = 0; i < agg->key_cnt; i++) {
                sql_puts(s, ", ");
                sql_ident(s, agg->key_columns[i]);
        }
        sql_puts(s, ", state FROM ");
        sql_ident(s, agg->table);
        sql_puts(s, " t");
        sql_and(s);
        sql_puts(s, "(");
        for (size_t i = 0; i < q->tile_cnt; i++) {
                sql_puts(s, i ? " OR (window_type = " : "(window_type = ");
                sql_param(s, red_window_type_name(q->tiles[i].wt), "text");
                sql_puts(s, " AND window_start >= ");
                sql_time(s, q->tiles[i].from);
                sql_puts(s, " AND window_start < ");
                sql_time(s, q->tiles[i].to);
                sql_puts(s, ")");
        }
        sql_puts(s, ")");
        if (q->grouping >= 0) {
                sql_and(s);
                sql_ident(s, agg->grouping_column);
                sql_puts(s, " = ");
                sql_param(s, agg->groupings[q->grouping].name, "text");
        }
        sql_filters(s, q);
        sql_after_cursor(s, q, false);
        sql_puts(s, " ORDER BY ");
        sql_ident(s, agg->grouping_column);
        for (size_t i = 0; i < agg->key_cnt; i++) {
                sql_puts(s, ", ");
                sql_ident(s, agg->key_columns[i]);
        }
}

static void build_counts(sql_t *s, const red_query_t *q)
{
        sql_puts(s, "SELECT current_state, count(*) FROM ");
        sql_ident(s, q->table);
        sql_range(s, q);
        sql_filters(s, q);
        sql_puts(s, " GROUP BY current_state ORDER BY current_state");
}

/* --- the executor ------------------------------------------------------ */

struct red_query_pg_s {
        PGconn *conn;
        const red_query_t *q;
        red_format_t *fmt;
        red_buf_t pending; /* output not handed out yet */
        red_buf_t meta;    /* JSON envelope members */
        red_buf_t next;    /* the next page's cursor */
        red_buf_t last;    /* the cursor after the last row written */
        bool typed;        /* the format's column types are set */
        bool done;         /* all output is in pending */
        bool in_tx;        /* an export's transaction is open */
        bool broken;       /* the connection must not be reused */
        long rows;
};

static void set_error(red_query_pg_t *x, const PGresult *res, int *status,
                      char *errstr, size_t size)
{
        const char *state =
                res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        char msg[512];

        red_pg_error(x->conn, res, msg, sizeof(msg));
        if (PQstatus(x->conn) != CONNECTION_OK) {
                x->broken = true;
        }
        if (state && !strcmp(state, "57014")) {
                *status = 503;
                snprintf(errstr, size,
                         "the query ran longer than api.statement_timeout_ms;"
                         " narrow the range or add filters");
        } else if (x->broken || (state && !strncmp(state, "08", 2)) ||
                   (state && !strncmp(state, "57P", 3))) {
                *status = 503;
                snprintf(errstr, size, "PostgreSQL is unavailable: %s", msg);
        } else if (state && !strcmp(state, "42P01")) {
                *status = 503;
                snprintf(errstr, size,
                         "%s (the table is missing: run reducerd migrate)",
                         msg);
        } else {
                *status = 500;
                snprintf(errstr, size, "%s", msg);
        }
}

static red_val_type_t type_of(Oid oid)
{
        switch (oid) {
        case 16:
                return RED_VAL_BOOL;
        case 20:
        case 21:
        case 23:
        case 26:
                return RED_VAL_INT;
        case 700:
        case 701:
        case 1700:
                return RED_VAL_NUMBER;
        case 114:
        case 3802:
                return RED_VAL_JSON;
        case 1082:
        case 1114:
        case 1184:
                return RED_VAL_TIME;
        default:
                return RED_VAL_TEXT;
        }
}

/* Names and types the format's columns from a result, once. */
static int type_columns(red_query_pg_t *x, const PGresult *res)
{
        if (x->typed) {
                return 0;
        }
        for (size_t i = 0; i < x->q->col_cnt; i++) {
                if (red_format_column(x->fmt, i, x->q->cols[i].name,
                                      type_of(PQftype(res, (int)i)))) {
                        return -ENOMEM;
                }
        }
        x->typed = true;
        red_format_begin(x->fmt, &x->pending);
        return 0;
}

/* The order values of row @p r as a cursor into @p out. */
static void row_cursor(red_query_pg_t *x, const PGresult *res, int r,
                       red_buf_t *out)
{
        const red_query_t *q = x->q;
        const char *cv[16];
        size_t cl[16], n = 0;
        char off[32];

        red_buf_reset(out);
        if (!q->order_cnt) {
                /* no unique key: the offset of the next row */
                snprintf(off, sizeof(off), "%lld",
                         (long long)(q->offset + x->rows));
                cv[n] = off;
                cl[n++] = strlen(off);
        }
        for (size_t i = 0; i < q->order_cnt && n < 16; i++) {
                cv[n] = PQgetvalue(res, r, (int)(q->col_cnt + i));
                cl[n++] = (size_t)PQgetlength(res, r, (int)(q->col_cnt + i));
        }
        red_cursor_encode(cv, cl, n, out);
}

/*
 * Writes the rows of @p res up to the plan's limit; the row after the
 * limit only says that there is a next page, whose cursor is the last
 * written row's (x->last keeps it across FETCH batches). Returns 1 when
 * the limit was passed, 0, or -ENOMEM.
 */
static int write_rows(red_query_pg_t *x, const PGresult *res)
{
        const red_query_t *q = x->q;
        int nrows = PQntuples(res), ncols = (int)q->col_cnt;
        const char *vals[64];
        size_t lens[64];

        if (ncols > 64 || type_columns(x, res)) {
                return -ENOMEM;
        }
        for (int r = 0; r < nrows; r++) {
                if (x->rows == q->limit) {
                        red_buf_reset(&x->next);
                        red_buf_append(&x->next,
                                       x->last.data ? x->last.data : "",
                                       x->last.len);
                        return 1;
                }
                for (int c = 0; c < ncols; c++) {
                        bool null = PQgetisnull(res, r, c);
                        vals[c] = null ? NULL : PQgetvalue(res, r, c);
                        lens[c] = null ? 0 : (size_t)PQgetlength(res, r, c);
                }
                if (red_format_row(x->fmt, vals, lens, &x->pending)) {
                        return -ENOMEM;
                }
                x->rows++;
                row_cursor(x, res, r, &x->last);
        }
        return x->pending.failed || x->last.failed ? -ENOMEM : 0;
}

static void finish_output(red_query_pg_t *x)
{
        red_format_end(x->fmt, x->next.len ? x->next.data : NULL, x->meta.data,
                       &x->pending);
        x->done = true;
}

/*
 * Summaries run as statements prepared once per connection and shape (the
 * name is a hash of the SQL text) with generic plans
 * (red_query_pg_session()): planning the OR of a summary's tiles over a
 * partitioned table costs as much as running it, and run-time partition
 * pruning keeps the generic plan as selective. Their shapes are few (the
 * tile layouts of a range, filters as array parameters); row queries,
 * whose column lists are the caller's, run unprepared.
 */
static void statement_name(const sql_t *s, char name[32])
{
        snprintf(name, 32, "red_q_%016llx",
                 (unsigned long long)red_map_hash_bytes(
                         s->text.data, s->text.len, UINT64_C(0x5eed)));
}

static bool not_prepared(const PGresult *res)
{
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

        return state &&
               !strcmp(state, "26000"); /* invalid_sql_statement_name */
}

static bool prepare(red_query_pg_t *x, const sql_t *s, const char *name)
{
        PGresult *res = PQprepare(x->conn, name, s->text.data, s->n, NULL);
        bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;

        PQclear(res);
        return ok;
}

static PGresult *exec_sql(red_query_pg_t *x, const sql_t *s, int binary)
{
        return PQexecParams(x->conn, s->text.data, s->n, NULL,
                            (const char *const *)s->params, NULL, NULL, binary);
}

/* Sends a prepared statement for single-row reading; false on failure. */
static bool send_sql(red_query_pg_t *x, const sql_t *s, int binary)
{
        char name[32];

        statement_name(s, name);
        return PQsendQueryPrepared(x->conn, name, s->n,
                                   (const char *const *)s->params, NULL, NULL,
                                   binary) &&
               PQsetSingleRowMode(x->conn);
}

static void meta_range(red_query_pg_t *x)
{
        char a[RED_TIME_FMT_SIZE], b[RED_TIME_FMT_SIZE];

        if (!x->q->has_range) {
                return;
        }
        red_time_format(x->q->from, a, sizeof(a));
        red_time_format(x->q->to, b, sizeof(b));
        red_buf_printf(&x->meta, "%s\"range\":{\"from\":\"%s\",\"to\":\"%s\"}",
                       x->meta.len ? "," : "", a, b);
}

/* --- kinds ------------------------------------------------------------- */

/* A page (or a whole small result) in one statement. */
static int run_rows(red_query_pg_t *x, const sql_t *s, int *status,
                    char *errstr, size_t size)
{
        PGresult *res = exec_sql(x, s, 0);
        int r;

        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
                set_error(x, res, status, errstr, size);
                PQclear(res);
                return -1;
        }
        r = write_rows(x, res);
        PQclear(res);
        if (r < 0) {
                *status = 500;
                snprintf(errstr, size, "out of memory");
                return -1;
        }
        finish_output(x);
        return 0;
}

static int command(red_query_pg_t *x, const char *sql, int *status,
                   char *errstr, size_t size)
{
        PGresult *res = PQexec(x->conn, sql);
        int r = 0;

        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
                set_error(x, res, status, errstr, size);
                r = -1;
        }
        PQclear(res);
        return r;
}

/* One FETCH of an export; ends the output after the last. */
static int fetch(red_query_pg_t *x, int *status, char *errstr, size_t size)
{
        char sql[64];
        PGresult *res;
        int r, n;

        snprintf(sql, sizeof(sql), "FETCH %d FROM red_export", RED_QEXEC_FETCH);
        res = PQexec(x->conn, sql);
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
                set_error(x, res, status, errstr, size);
                PQclear(res);
                return -1;
        }
        n = PQntuples(res);
        r = write_rows(x, res);
        PQclear(res);
        if (r < 0) {
                *status = 500;
                snprintf(errstr, size, "out of memory");
                return -1;
        }
        if (r == 1 || n < RED_QEXEC_FETCH) {
                if (command(x, "COMMIT", status, errstr, size)) {
                        return -1;
                }
                x->in_tx = false;
                finish_output(x);
        }
        return 0;
}

/* An export: a cursor in a read-only transaction, the first batch now
 * (so that errors still get their status before anything is sent). */
static int run_export(red_query_pg_t *x, const sql_t *s, int *status,
                      char *errstr, size_t size)
{
        red_buf_t decl;
        PGresult *res;
        int ok;

        if (command(x, "BEGIN READ ONLY", status, errstr, size)) {
                return -1;
        }
        x->in_tx = true;
        red_buf_init(&decl);
        red_buf_puts(&decl, "DECLARE red_export NO SCROLL CURSOR FOR ");
        red_buf_append(&decl, s->text.data, s->text.len);
        res = PQexecParams(x->conn, decl.data ? decl.data : "", s->n, NULL,
                           (const char *const *)s->params, NULL, NULL, 0);
        ok = PQresultStatus(res) == PGRES_COMMAND_OK && !decl.failed;
        if (!ok) {
                set_error(x, res, status, errstr, size);
        }
        PQclear(res);
        red_buf_destroy(&decl);
        return ok ? fetch(x, status, errstr, size) : -1;
}

/* Summary and top: the tiles' cells in group order, row by row; a group
 * starts where the grouping or a key value changes. */
static int run_summary(red_query_pg_t *x, const sql_t *s, int *status,
                       char *errstr, size_t size)
{
        const red_query_t *q = x->q;
        red_summary_t *sum = red_summary_new(q, x->fmt);
        int nkeys = (int)q->agg->key_cnt;
        const char *keys[16];
        size_t lens[16];
        red_buf_t cur, key;
        bool started = false, stop = false, failed = false, retried = false;
        char name[32];
        PGresult *res;

        *status = 500;
        statement_name(s, name);
        if (!sum || nkeys > 16) {
                snprintf(errstr, size, "out of memory");
                red_summary_destroy(sum);
                return -1;
        }
        red_buf_init(&cur);
        red_buf_init(&key);
        if (x->fmt) {
                x->typed = true;
                red_format_begin(x->fmt, &x->pending);
        }
        if (!send_sql(x, s, 1)) {
                set_error(x, NULL, status, errstr, size);
                failed = true;
        }
        /* read to the end even after a stop: the connection is reused */
        while (!failed && (res = PQgetResult(x->conn))) {
                ExecStatusType st = PQresultStatus(res);
                if (st == PGRES_SINGLE_TUPLE && !stop && !failed) {
                        red_buf_reset(&key);
                        for (int c = 0; c <= nkeys; c++) {
                                int len = PQgetlength(res, 0, c);
                                red_buf_printf(&key, "%d:", len);
                                red_buf_append(&key, PQgetvalue(res, 0, c),
                                               (size_t)len);
                        }
                        if (!started || key.len != cur.len ||
                            memcmp(key.data, cur.data, key.len)) {
                                red_summary_step_t step;
                                red_buf_reset(&cur);
                                red_buf_append(&cur, key.data, key.len);
                                started = true;
                                for (int k = 0; k < nkeys; k++) {
                                        keys[k] = PQgetvalue(res, 0, k + 1);
                                        lens[k] = (size_t)PQgetlength(res, 0,
                                                                      k + 1);
                                }
                                step = red_summary_group(
                                        sum, PQgetvalue(res, 0, 0), keys, lens,
                                        &x->pending, errstr, size);
                                stop = step == RED_SUMMARY_FULL;
                                if (step == RED_SUMMARY_ERROR) {
                                        failed = true;
                                        *status =
                                                strncmp(errstr, "more than", 9)
                                                        ? 500
                                                        : 400;
                                }
                        }
                        if (!stop && !failed &&
                            red_summary_merge(
                                    sum, PQgetvalue(res, 0, nkeys + 1),
                                    (size_t)PQgetlength(res, 0, nkeys + 1),
                                    errstr, size)) {
                                failed = true;
                        }
                } else if (st != PGRES_SINGLE_TUPLE && st != PGRES_TUPLES_OK &&
                           !failed && !started && not_prepared(res) &&
                           !retried) {
                        /* first use of this shape on this connection */
                        PQclear(res);
                        while ((res = PQgetResult(x->conn))) {
                                PQclear(res);
                        }
                        retried = true;
                        if (!prepare(x, s, name) || !send_sql(x, s, 1)) {
                                set_error(x, NULL, status, errstr, size);
                                failed = true;
                        }
                        continue;
                } else if (st != PGRES_SINGLE_TUPLE && st != PGRES_TUPLES_OK &&
                           !failed) {
                        set_error(x, res, status, errstr, size);
                        failed = true;
                }
                PQclear(res);
        }
        while (failed && (res = PQgetResult(x->conn))) {
                PQclear(res);
        }
        if (!failed && red_summary_finish(sum, &x->pending, errstr, size)) {
                failed = true;
                *status = strncmp(errstr, "more than", 9) ? 500 : 400;
        }
        if (!failed) {
                const char *next = red_summary_next_cursor(sum);
                x->rows = (long)red_summary_groups(sum);
                if (next) {
                        red_buf_puts(&x->next, next);
                }
                red_summary_meta(q, &x->meta);
                if (x->fmt) {
                        finish_output(x);
                }
                x->done = true;
        }
        red_buf_destroy(&cur);
        red_buf_destroy(&key);
        red_summary_destroy(sum);
        return failed ? -1 : 0;
}

/* A workflow's current-state row as a JSON object into the meta. */
static int run_current(red_query_pg_t *x, int *status, char *errstr,
                       size_t size)
{
        const red_query_t *q = x->q;
        sql_t s;
        PGresult *res;
        int r = -1;

        sql_init(&s);
        /* one row: the current state, or nulls when only history rows
         * name the workflow (rejected transitions); none: unknown */
        sql_puts(&s, "SELECT c.* FROM (SELECT ");
        sql_param(&s, q->workflow_id, "uuid");
        sql_puts(&s, " AS id) w LEFT JOIN ");
        sql_ident(&s, q->contract->fsm->current_table);
        sql_puts(&s, " c ON c.workflow_id = w.id WHERE c.workflow_id IS NOT "
                     "NULL OR EXISTS (SELECT 1 FROM ");
        sql_ident(&s, q->contract->fsm->history_table);
        sql_puts(&s, " h WHERE h.workflow_id = w.id)");
        if (s.failed) {
                *status = 500;
                snprintf(errstr, size, "invalid table name");
                sql_free(&s);
                return -1;
        }
        res = exec_sql(x, &s, 0);
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
                set_error(x, res, status, errstr, size);
        } else if (!PQntuples(res)) {
                *status = 404;
                snprintf(errstr, size, "no workflow %s", q->workflow_id);
        } else {
                /* the first row is the current state when there is one */
                red_format_t *one = red_format_new(RED_FORMAT_NDJSON,
                                                   (size_t)PQnfields(res));
                const char *vals[32];
                size_t lens[32];
                int nf = PQnfields(res) < 32 ? PQnfields(res) : 32;
                red_buf_puts(&x->meta, "\"current\":");
                if (PQgetisnull(res, 0, PQfnumber(res, "workflow_id")) ||
                    !one) {
                        red_buf_puts(&x->meta, "null");
                } else {
                        for (int c = 0; c < nf; c++) {
                                bool null = PQgetisnull(res, 0, c);
                                r = red_format_column(one, (size_t)c,
                                                      PQfname(res, c),
                                                      type_of(PQftype(res, c)));
                                vals[c] = null ? NULL : PQgetvalue(res, 0, c);
                                lens[c] = null ? 0
                                               : (size_t)PQgetlength(res, 0, c);
                        }
                        if (!r) {
                                r = red_format_row(one, vals, lens, &x->meta);
                        }
                        /* the line's newline */
                        if (x->meta.len &&
                            x->meta.data[x->meta.len - 1] == '\n') {
                                x->meta.data[--x->meta.len] = '\0';
                        }
                }
                red_format_destroy(one);
                r = x->meta.failed ? -1 : 0;
                if (r) {
                        *status = 500;
                        snprintf(errstr, size, "out of memory");
                }
        }
        PQclear(res);
        sql_free(&s);
        return r;
}

/* --- the public side --------------------------------------------------- */

int red_query_pg_session(PGconn *conn, long statement_timeout_ms,
                         long idle_timeout_ms, char *errstr, size_t errstr_size)
{
        char sql[512];

        snprintf(sql, sizeof(sql),
                 "SET statement_timeout = %ld; "
                 "SET idle_in_transaction_session_timeout = %ld; "
                 "SET default_transaction_read_only = on; "
                 "SET plan_cache_mode = force_generic_plan; "
                 "SET TimeZone = 'UTC'; SET DateStyle = 'ISO'; "
                 "SET application_name = 'reducerd-api'",
                 statement_timeout_ms, idle_timeout_ms);
        return red_pg_exec(conn, sql, errstr, errstr_size);
}

red_query_pg_t *red_query_pg_start(PGconn *conn, const red_query_t *q,
                                   const red_contract_t *const *contracts,
                                   size_t contract_cnt, int *status,
                                   char *errstr, size_t errstr_size)
{
        red_query_pg_t *x = calloc(1, sizeof(*x));
        bool prom = q->format == RED_FORMAT_PROMETHEUS;
        sql_t s;
        int r = 0;

        *status = 500;
        if (!x) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        x->conn = conn;
        x->q = q;
        red_buf_init(&x->pending);
        red_buf_init(&x->meta);
        red_buf_init(&x->next);
        red_buf_init(&x->last);
        sql_init(&s);
        if (!prom &&
            !(x->fmt = red_format_new(q->format, q->kind == RED_QUERY_CONTRACTS
                                                         ? RED_DESCRIBE_COLUMNS
                                                         : q->col_cnt))) {
                snprintf(errstr, errstr_size, "out of memory");
                goto err;
        }
        switch (q->kind) {
        case RED_QUERY_CONTRACTS:
                if (red_describe_columns(x->fmt)) {
                        r = -1;
                        break;
                }
                red_format_begin(x->fmt, &x->pending);
                r = red_describe_contracts(contracts, contract_cnt, q->contract,
                                           x->fmt, &x->pending);
                if (r) {
                        snprintf(errstr, errstr_size, "out of memory");
                        break;
                }
                finish_output(x);
                break;
        case RED_QUERY_SUMMARY:
        case RED_QUERY_TOP:
                build_summary(&s, q);
                r = s.failed ? -1
                             : run_summary(x, &s, status, errstr, errstr_size);
                break;
        case RED_QUERY_WORKFLOWS:
                build_counts(&s, q);
                meta_range(x);
                r = s.failed ? -1
                             : run_rows(x, &s, status, errstr, errstr_size);
                break;
        case RED_QUERY_WORKFLOW:
                if (run_current(x, status, errstr, errstr_size)) {
                        goto err;
                }
                /* the history rows follow */
                __attribute__((fallthrough));
        default:
                build_rows(&s, q);
                if (q->kind == RED_QUERY_SERIES) {
                        red_buf_printf(&x->meta, "%s\"window\":\"%s\"",
                                       x->meta.len ? "," : "",
                                       red_window_type_name(q->window));
                }
                meta_range(x);
                if (s.failed) {
                        r = -1;
                } else if (q->format == RED_FORMAT_NDJSON) {
                        r = run_export(x, &s, status, errstr, errstr_size);
                } else {
                        r = run_rows(x, &s, status, errstr, errstr_size);
                }
                break;
        }
        if (r) {
                if (s.failed) {
                        *status = 500;
                        snprintf(errstr, errstr_size,
                                 "invalid identifier in a contract");
                }
                goto err;
        }
        sql_free(&s);
        return x;
err:
        sql_free(&s);
        red_query_pg_destroy(x);
        return NULL;
}

int red_query_pg_fill(red_query_pg_t *x, red_buf_t *out, size_t want,
                      char *errstr, size_t errstr_size)
{
        size_t start = out->len;
        int status;

        for (;;) {
                if (x->pending.len) {
                        red_buf_append(out, x->pending.data, x->pending.len);
                        red_buf_reset(&x->pending);
                }
                if (out->failed) {
                        snprintf(errstr, errstr_size, "out of memory");
                        return -1;
                }
                if (x->done) {
                        return 0;
                }
                if (out->len - start >= want) {
                        return 1;
                }
                if (fetch(x, &status, errstr, errstr_size)) {
                        return -1;
                }
        }
}

const char *red_query_pg_next_cursor(const red_query_pg_t *x)
{
        return x->done && x->next.len ? x->next.data : NULL;
}

bool red_query_pg_destroy(red_query_pg_t *x)
{
        bool clean;

        if (!x) {
                return true;
        }
        if (x->in_tx && !x->broken) {
                PGresult *res = PQexec(x->conn, "ROLLBACK");
                x->broken = PQresultStatus(res) != PGRES_COMMAND_OK;
                PQclear(res);
        }
        clean = !x->broken && PQstatus(x->conn) == CONNECTION_OK &&
                PQtransactionStatus(x->conn) == PQTRANS_IDLE;
        red_format_destroy(x->fmt);
        red_buf_destroy(&x->pending);
        red_buf_destroy(&x->meta);
        red_buf_destroy(&x->next);
        red_buf_destroy(&x->last);
        free(x);
        return clean;
}
