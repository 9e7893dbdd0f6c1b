/* red_nodes_pg - the node registry's search, one node, counts. */
#include "red_nodes_pg.h"

#include "red_pg.h"
#include "red_state_sql.h"
#include "red_time.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PARAMS 32

/* The full-text vector of a node: the expression of migration 0012's GIN
 * index (registered_nodes_tsv), computed for ranked rows only. */
#define TSV "to_tsvector('simple'::regconfig, n.search_text)"

/* A statement and its text parameters. */
typedef struct stmt_s {
        red_buf_t sql;
        const char *vals[MAX_PARAMS];
        char *owned[MAX_PARAMS];
        int n;
} stmt_t;

/* Adds a parameter (copied) and appends its placeholder. */
static void param(stmt_t *st, const char *v, const char *cast)
{
        if (st->n == MAX_PARAMS) {
                st->sql.failed = true;
                return;
        }
        st->owned[st->n] = strdup(v);
        st->vals[st->n] = st->owned[st->n];
        if (!st->owned[st->n]) {
                st->sql.failed = true;
        }
        st->n++;
        red_buf_printf(&st->sql, "$%d%s", st->n, cast ? cast : "");
}

static void stmt_free(stmt_t *st)
{
        for (int i = 0; i < st->n; i++) {
                free(st->owned[i]);
        }
        red_buf_destroy(&st->sql);
}

/* @p s lowercased, with LIKE's wildcards and escape escaped. */
static char *like_escaped(const char *s, size_t len)
{
        char *out = malloc(2 * len + 1), *o = out;

        if (!out) {
                return NULL;
        }
        for (size_t i = 0; i < len; i++) {
                if (s[i] == '%' || s[i] == '_' || s[i] == '\\') {
                        *o++ = '\\';
                }
                *o++ = (char)tolower((unsigned char)s[i]);
        }
        *o = '\0';
        return out;
}

/* %query% and {%term1%,%term2%,...} for the text match. */
static int patterns(const char *q, char **whole, char **terms)
{
        red_buf_t b;
        char *e = like_escaped(q, strlen(q));

        *whole = *terms = NULL;
        if (!e || asprintf(whole, "%%%s%%", e) < 0) {
                free(e);
                *whole = NULL;
                return -1;
        }
        free(e);
        red_buf_init(&b);
        red_buf_putc(&b, '{');
        for (const char *p = q; *p;) {
                size_t n;
                p += strspn(p, " \t\r\n");
                n = strcspn(p, " \t\r\n");
                if (!n) {
                        break;
                }
                if (!(e = like_escaped(p, n))) {
                        b.failed = true;
                        break;
                }
                red_buf_puts(&b, b.len > 1 ? ",\"%" : "\"%");
                for (const char *c = e; *c; c++) {
                        if (*c == '"' || *c == '\\') {
                                red_buf_putc(&b, '\\');
                        }
                        red_buf_putc(&b, *c);
                }
                red_buf_puts(&b, "%\"");
                free(e);
                p += n;
        }
        red_buf_putc(&b, '}');
        if (b.failed) {
                red_buf_destroy(&b);
                free(*whole);
                *whole = NULL;
                return -1;
        }
        *terms = red_buf_steal(&b, NULL);
        return 0;
}

/* The columns of a node as a JSON object (the inner query's n). */
static void node_json(red_buf_t *b)
{
        red_buf_puts(b, "json_build_object('node_id', n.node_id, 'node_name', "
                        "n.node_name, 'node_type', n.node_type, 'version', "
                        "n.version, 'capabilities', coalesce(n.capabilities, "
                        "'[]'::jsonb), 'endpoints', n.endpoints, "
                        "'health_status', n.eff, 'reported_health_status', "
                        "n.health_status, 'last_heartbeat', n.last_heartbeat, "
                        "'registration_timestamp', n.registration_timestamp, "
                        "'health_check', n.health_check_config, "
                        "'registration_source', n.registration_source, "
                        "'metadata', coalesce(n.metadata, '{}'::jsonb), "
                        "'discovery_registered', n.discovery_registered");
}

/* FROM registered_nodes n WHERE ...: the search's conditions. */
static int where(stmt_t *st, const red_state_t *sink,
                 const red_nodes_search_t *s, const char *eff,
                 const char *whole, const char *terms, const char *lq,
                 bool fuzzy)
{
        char table[80];

        if (red_pg_ident(sink->table, table, sizeof(table))) {
                return -1;
        }
        red_buf_printf(&st->sql, " FROM %s n WHERE n.deleted_at IS NULL",
                       table);
        if (s->node_type) {
                red_buf_puts(&st->sql, " AND n.node_type = ");
                param(st, s->node_type, NULL);
        }
        if (s->health_status) {
                red_buf_printf(&st->sql, " AND (%s) = ", eff);
                param(st, s->health_status, "::text");
        }
        if (s->capability) {
                red_buf_puts(&st->sql, " AND n.capabilities @> "
                                       "jsonb_build_array(jsonb_build_object("
                                       "'name', ");
                param(st, s->capability, "::text");
                red_buf_puts(&st->sql, "))");
        }
        if (s->version) {
                red_buf_puts(&st->sql, " AND n.version = ");
                param(st, s->version, NULL);
        }
        if (s->version_min) {
                red_buf_puts(&st->sql,
                             " AND n.version_key >= string_to_array(");
                param(st, s->version_min, "::text");
                red_buf_puts(&st->sql, ", '.')::numeric[]");
        }
        if (s->version_max) {
                red_buf_puts(&st->sql,
                             " AND n.version_key <= string_to_array(");
                param(st, s->version_max, "::text");
                red_buf_puts(&st->sql, ", '.')::numeric[]");
        }
        if (s->query && fuzzy) {
                /* nothing matched the rules below: names similar by
                 * trigrams (a typo) */
                red_buf_puts(&st->sql, " AND lower(n.node_name) % ");
                param(st, lq, "::text");
        } else if (s->query) {
                /* the whole query anywhere in the searched text, a term in
                 * the name, or every word as a full-text token (web-search
                 * syntax: "capability_1" is the phrase capability <-> 1,
                 * not two words found anywhere) */
                red_buf_puts(&st->sql, " AND (lower(n.search_text) LIKE ");
                param(st, whole, "::text");
                if (strpbrk(s->query, " \t\r\n")) {
                        /* one term is the whole query, and the name is in
                         * the search text: only several terms need this
                         * (and its trigram index scan) */
                        red_buf_puts(&st->sql,
                                     " OR lower(n.node_name) LIKE ANY(");
                        param(st, terms, "::text[]");
                        red_buf_putc(&st->sql, ')');
                }
                red_buf_puts(&st->sql, " OR " TSV " @@ "
                                       "websearch_to_tsquery('simple', ");
                param(st, lq, "::text");
                red_buf_puts(&st->sql, "))");
        }
        return 0;
}

static const char *order_column(red_nodes_sort_t s)
{
        switch (s) {
        case RED_NODES_SORT_NAME:
                return "n.node_name";
        case RED_NODES_SORT_VERSION:
                return "n.version_key";
        case RED_NODES_SORT_REGISTRATION_TIME:
                return "n.registration_timestamp";
        case RED_NODES_SORT_LAST_HEARTBEAT:
                return "n.last_heartbeat";
        default:
                return "n.rel";
        }
}

static PGresult *run(PGconn *conn, stmt_t *st, char *errstr, size_t size)
{
        PGresult *res;

        if (st->sql.failed) {
                snprintf(errstr, size, "out of memory");
                return NULL;
        }
        res = PQexecParams(conn, st->sql.data, st->n, NULL, st->vals, NULL,
                           NULL, 0);
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
                red_pg_error(conn, res, errstr, size);
                PQclear(res);
                return NULL;
        }
        return res;
}

/* The inner query of a page: the matching rows with the effective
 * status and the relevance, computed once per row; @p window: with the
 * count of all matches (count(*) OVER ()) as "total". */
static int matches(stmt_t *st, const red_state_t *sink,
                   const red_nodes_search_t *s, const char *eff,
                   const char *whole, const char *terms, const char *lq,
                   bool fuzzy, bool window)
{
        red_buf_puts(&st->sql, "SELECT n.*, ");
        red_buf_puts(&st->sql, eff);
        red_buf_puts(&st->sql, " AS eff, ");
        if (s->query) {
                red_buf_puts(&st->sql,
                             "round(GREATEST(registered_nodes_relevance("
                             "n.node_name, n.capabilities, n.metadata, ");
                param(st, s->query, "::text");
                red_buf_puts(&st->sql, "), similarity(lower(n.node_name), ");
                param(st, lq, "::text");
                red_buf_puts(&st->sql, ") / 2, least(ts_rank_cd(" TSV ", "
                                       "websearch_to_tsquery('simple', ");
                param(st, lq, "::text");
                red_buf_puts(&st->sql, ")), 1) / 4)::numeric, 4)::float8");
        } else {
                red_buf_puts(&st->sql, "1.0::float8");
        }
        red_buf_puts(&st->sql, " AS rel");
        if (window) {
                red_buf_puts(&st->sql, ", count(*) OVER () AS total");
        }
        return where(st, sink, s, eff, whole, terms, lq, fuzzy);
}

/* ORDER BY of a page: on the inner query's alias n, or @p inner in that
 * query itself (where n is the table: the relevance is its output column
 * rel). */
static void order_by(stmt_t *st, const red_nodes_search_t *s, bool inner)
{
        red_buf_printf(&st->sql, " ORDER BY %s %s%s, n.node_id",
                       inner && s->sort == RED_NODES_SORT_RELEVANCE
                               ? "rel"
                               : order_column(s->sort),
                       s->desc ? "DESC" : "ASC",
                       s->sort == RED_NODES_SORT_LAST_HEARTBEAT ||
                                       s->sort ==
                                               RED_NODES_SORT_REGISTRATION_TIME
                               ? " NULLS LAST"
                               : "");
}

static void limit(stmt_t *st, const red_nodes_search_t *s)
{
        char lim[64];

        red_buf_puts(&st->sql, " LIMIT ");
        snprintf(lim, sizeof(lim), "%lld", (long long)s->page_size);
        param(st, lim, "::bigint");
        red_buf_puts(&st->sql, " OFFSET ");
        snprintf(lim, sizeof(lim), "%lld",
                 (long long)((s->page - 1) * s->page_size));
        param(st, lim, "::bigint");
}

/*
 * Search @p s in one statement, one row per result: its JSON, the total
 * count, and whether the row is a result (the join form returns one row
 * without a result for an empty page). By the relevance to a query,
 * every match is ranked before the page is cut, so the count comes with
 * them (a window: one index scan); otherwise the page may stop early on
 * an index, so the count is a subquery of its own in the same
 * statement. @p cnt: the plain count, for a page past the end in the
 * window form. @p fuzzy: the trigram fallback instead of the text rules.
 * -1 when the table is not an identifier.
 */
static int build(stmt_t *page, stmt_t *cnt, const red_state_t *sink,
                 const red_nodes_search_t *s, const char *eff,
                 const char *whole, const char *terms, const char *lq,
                 bool fuzzy)
{
        /* without a query every relevance is 1.0: nothing to rank */
        bool window = s->sort == RED_NODES_SORT_RELEVANCE && s->query;

        red_buf_puts(&cnt->sql, "SELECT count(*)");
        if (where(cnt, sink, s, eff, whole, terms, lq, fuzzy)) {
                return -1;
        }
        red_buf_puts(&page->sql, "SELECT ");
        node_json(&page->sql);
        if (window) {
                red_buf_puts(&page->sql, ", 'relevance_score', n.rel)::text, "
                                         "n.total, true FROM (");
                if (matches(page, sink, s, eff, whole, terms, lq, fuzzy,
                            true)) {
                        return -1;
                }
                red_buf_puts(&page->sql, ") n");
        } else {
                red_buf_puts(&page->sql,
                             ", 'relevance_score', n.rel)::text, c.total, "
                             "n.node_id IS NOT NULL FROM (SELECT count(*) "
                             "AS total");
                if (where(page, sink, s, eff, whole, terms, lq, fuzzy)) {
                        return -1;
                }
                red_buf_puts(&page->sql, ") c LEFT JOIN (");
                if (matches(page, sink, s, eff, whole, terms, lq, fuzzy,
                            false)) {
                        return -1;
                }
                order_by(page, s, true);
                limit(page, s);
                red_buf_puts(&page->sql, ") n ON true");
        }
        order_by(page, s, false);
        if (window) {
                limit(page, s);
        }
        return 0;
}

static void stmt_reset(stmt_t *st)
{
        stmt_free(st);
        memset(st, 0, sizeof(*st));
        red_buf_init(&st->sql);
}

int red_nodes_pg_search(PGconn *conn, const red_state_t *sink,
                        const red_nodes_search_t *s, red_buf_t *out,
                        char *errstr, size_t size)
{
        int64_t t0 = red_time_mono_us();
        char *whole = NULL, *terms = NULL, *lq = NULL;
        red_buf_t eff;
        stmt_t cnt = {0}, page = {0};
        PGresult *rc = NULL, *rp = NULL;
        long long total = 0;
        int r = -1, rows = 0;

        red_buf_init(&eff);
        red_buf_init(&cnt.sql);
        red_buf_init(&page.sql);
        if (red_state_sql_effective(sink, "n.", "now()", &eff) || eff.failed) {
                snprintf(errstr, size, "the registry's staleness rule");
                goto done;
        }
        if (s->query) {
                if (patterns(s->query, &whole, &terms) ||
                    !(lq = strdup(s->query))) {
                        snprintf(errstr, size, "out of memory");
                        goto done;
                }
                for (char *c = lq; *c; c++) {
                        *c = (char)tolower((unsigned char)*c);
                }
        }
        /* the text rules first; when they match nothing, names similar
         * by trigrams (a typo) */
        for (int fuzzy = 0;; fuzzy++) {
                if (build(&page, &cnt, sink, s, eff.data, whole, terms, lq,
                          fuzzy)) {
                        goto bad_name;
                }
                if (!(rp = run(conn, &page, errstr, size))) {
                        goto done;
                }
                rows = PQntuples(rp);
                if (rows) {
                        total = strtoll(PQgetvalue(rp, 0, 1), NULL, 10);
                        if (!strcmp(PQgetvalue(rp, 0, 2), "f")) {
                                rows = 0; /* the join form's empty page */
                        }
                } else if (s->page > 1) {
                        /* the window form past the last page */
                        if (!(rc = run(conn, &cnt, errstr, size))) {
                                goto done;
                        }
                        total = strtoll(PQgetvalue(rc, 0, 0), NULL, 10);
                } else {
                        total = 0;
                }
                if (total || !s->query || fuzzy) {
                        break;
                }
                PQclear(rp);
                PQclear(rc);
                rp = rc = NULL;
                stmt_reset(&cnt);
                stmt_reset(&page);
        }
        red_buf_puts(out, "{\"success\":true,\"query\":");
        red_nodes_search_json(s, out);
        red_buf_puts(out, ",\"results\":[");
        for (int i = 0; i < rows; i++) {
                if (i) {
                        red_buf_putc(out, ',');
                }
                red_buf_puts(out, PQgetvalue(rp, i, 0));
        }
        red_buf_printf(out,
                       "],\"total_count\":%lld,\"page\":%lld,\"page_size\":"
                       "%lld,\"total_pages\":%lld,\"execution_time_ms\":%.3f}",
                       total, (long long)s->page, (long long)s->page_size,
                       (total + s->page_size - 1) / s->page_size,
                       (double)(red_time_mono_us() - t0) / 1000.0);
        r = out->failed ? -1 : 0;
        if (r) {
                snprintf(errstr, size, "out of memory");
        }
        goto done;
bad_name:
        snprintf(errstr, size, "registry table: not an identifier");
done:
        PQclear(rc);
        PQclear(rp);
        stmt_free(&cnt);
        stmt_free(&page);
        red_buf_destroy(&eff);
        free(whole);
        free(terms);
        free(lq);
        return r;
}

/* The registry's table, quoted, into @p table and its effective health
 * (the staleness rule at now(), over alias n) into @p eff; 0, or -1 with
 * a message. */
static int table_health(const red_state_t *sink, char *table, size_t table_size,
                        red_buf_t *eff, char *errstr, size_t size)
{
        if (red_pg_ident(sink->table, table, table_size) ||
            red_state_sql_effective(sink, "n.", "now()", eff)) {
                snprintf(errstr, size, "registry table: not an identifier");
                return -1;
        }
        return 0;
}

int red_nodes_pg_get(PGconn *conn, const red_state_t *sink, const char *id,
                     red_buf_t *out, bool *found, char *errstr, size_t size)
{
        char table[80];
        red_buf_t eff;
        stmt_t st = {0};
        PGresult *res = NULL;
        int r = -1;

        *found = false;
        red_buf_init(&eff);
        red_buf_init(&st.sql);
        if (table_health(sink, table, sizeof(table), &eff, errstr, size)) {
                goto done;
        }
        red_buf_puts(&st.sql, "SELECT ");
        node_json(&st.sql);
        red_buf_printf(&st.sql,
                       ", 'heartbeat_count', n.heartbeat_count, 'created_at', "
                       "n.created_at, 'updated_at', n.updated_at)::text FROM "
                       "(SELECT n.*, %s AS eff FROM %s n WHERE n.node_id = ",
                       eff.data, table);
        param(&st, id, "::text");
        red_buf_puts(&st.sql, " AND n.deleted_at IS NULL) n");
        if (!(res = run(conn, &st, errstr, size))) {
                goto done;
        }
        if (PQntuples(res) == 1) {
                *found = true;
                red_buf_puts(out, PQgetvalue(res, 0, 0));
        }
        r = 0;
done:
        PQclear(res);
        stmt_free(&st);
        red_buf_destroy(&eff);
        return r;
}

int red_nodes_pg_counts(PGconn *conn, const red_state_t *sink,
                        red_nodes_count_t *out, size_t max, char *errstr,
                        size_t size)
{
        char table[80];
        red_buf_t eff;
        stmt_t st = {0};
        PGresult *res;
        int n = -1;

        red_buf_init(&eff);
        red_buf_init(&st.sql);
        if (table_health(sink, table, sizeof(table), &eff, errstr, size)) {
                goto done;
        }
        red_buf_printf(&st.sql,
                       "SELECT n.node_type, coalesce(%s, 'unknown'), count(*) "
                       "FROM %s n WHERE n.deleted_at IS NULL GROUP BY 1, 2 "
                       "ORDER BY 1, 2",
                       eff.data, table);
        if (!(res = run(conn, &st, errstr, size))) {
                goto done;
        }
        n = 0;
        for (int i = 0; i < PQntuples(res) && (size_t)n < max; i++, n++) {
                snprintf(out[n].node_type, sizeof(out[n].node_type), "%s",
                         PQgetvalue(res, i, 0));
                snprintf(out[n].health, sizeof(out[n].health), "%s",
                         PQgetvalue(res, i, 1));
                out[n].count = atol(PQgetvalue(res, i, 2));
        }
        PQclear(res);
done:
        stmt_free(&st);
        red_buf_destroy(&eff);
        return n;
}
