/* red_deliver - reducerd_alert_outbox to Alertmanager and webhooks. */
#include "red_deliver.h"

#include "red_alert_notify.h"
#include "red_buf.h"
#include "red_failpoint.h"
#include "red_hmac.h"
#include "red_log.h"
#include "red_pg.h"
#include "red_time.h"

#include <curl/curl.h>
#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* pg_try_advisory_xact_lock key: "redalert" */
#define DELIVER_LOCK_KEY "7310597889237807732"
#define DELIVER_BATCH    500

const double red_deliver_latency_bounds[11] = {
        0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60};

/* One destination: an Alertmanager or a webhook. */
typedef struct dest_s {
        int kind;
        char *name; /* in the rows' done lists: "am:<url>", "webhook:<n>" */
        char *url;  /* what is posted to */
        char *secret;
        size_t secret_len;
        long timeout_ms;
        CURL *curl; /* kept: connections are reused */
        int64_t backoff_ms;
        int64_t retry_at; /* monotonic µs; 0: now */
        char error[256];  /* of the last failure */
} dest_t;

struct red_deliver_s {
        const red_config_t *conf;
        dest_t *dests;
        size_t dest_cnt;
        PGconn *conn;
        pthread_t thread;
        bool started;
        atomic_bool stop;
        int64_t next_resend; /* monotonic µs */
        pthread_mutex_t lock;
        red_deliver_stats_t stats;
};

/* --- set-up ---------------------------------------------------------- */

/* The first line of @p path, the webhook's HMAC key. */
static int read_secret(const red_config_t *conf, const char *rel, dest_t *d,
                       char *errstr, size_t size)
{
        char *path = red_config_path(conf, rel), line[4096];
        FILE *f = path ? fopen(path, "r") : NULL;
        size_t len;

        if (!f) {
                snprintf(errstr, size,
                         "alerting.webhook_secret_files.%s: cannot read %s: "
                         "%s",
                         d->name + 8, path ? path : rel, strerror(errno));
                free(path);
                return -1;
        }
        free(path);
        if (!fgets(line, sizeof(line), f)) {
                line[0] = '\0';
        }
        fclose(f);
        len = strcspn(line, "\r\n");
        line[len] = '\0';
        if (!len) {
                snprintf(errstr, size,
                         "alerting.webhook_secret_files.%s: the file is empty",
                         d->name + 8);
                return -1;
        }
        if (!(d->secret = strdup(line))) {
                snprintf(errstr, size, "out of memory");
                return -1;
        }
        d->secret_len = len;
        return 0;
}

static int dest_add(red_deliver_t *d, int kind, const char *name,
                    const char *url, long timeout_ms)
{
        dest_t *n = &d->dests[d->dest_cnt];

        memset(n, 0, sizeof(*n));
        n->kind = kind;
        n->timeout_ms = timeout_ms;
        if (asprintf(&n->name, "%s:%s", kind ? "webhook" : "am", name) < 0) {
                n->name = NULL;
                return -1;
        }
        d->dest_cnt++;
        if (kind == RED_DELIVER_ALERTMANAGER) {
                size_t len = strlen(url);
                while (len && url[len - 1] == '/') {
                        len--;
                }
                if (asprintf(&n->url, "%.*s/api/v2/alerts", (int)len, url) <
                    0) {
                        n->url = NULL;
                }
        } else {
                n->url = strdup(url);
        }
        return n->url && (n->curl = curl_easy_init()) ? 0 : -1;
}

red_deliver_t *red_deliver_new(const red_config_t *conf, char *errstr,
                               size_t errstr_size)
{
        const red_strlist_t *am = &conf->alerting_alertmanager_urls;
        red_deliver_t *d = calloc(1, sizeof(*d));

        if (!d) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        pthread_mutex_init(&d->lock, NULL);
        d->conf = conf;
        d->stats.depth = -1;
        /* once per process, before any thread uses libcurl */
        curl_global_init(CURL_GLOBAL_DEFAULT);
        d->dests = calloc(am->cnt + conf->alerting_webhook_cnt + 1,
                          sizeof(*d->dests));
        if (!d->dests) {
                goto oom;
        }
        for (size_t i = 0; i < am->cnt; i++) {
                if (dest_add(d, RED_DELIVER_ALERTMANAGER, am->items[i],
                             am->items[i], (long)conf->alerting_timeout_ms)) {
                        goto oom;
                }
        }
        for (size_t i = 0; i < conf->alerting_webhook_cnt; i++) {
                const red_kv_t *w = &conf->alerting_webhooks[i];
                long timeout = (long)conf->alerting_timeout_ms;
                dest_t *n;

                for (size_t k = 0; k < conf->alerting_webhook_timeout_cnt;
                     k++) {
                        if (!strcmp(conf->alerting_webhook_timeouts_ms[k].key,
                                    w->key)) {
                                timeout = atol(
                                        conf->alerting_webhook_timeouts_ms[k]
                                                .value);
                        }
                }
                if (dest_add(d, RED_DELIVER_WEBHOOK, w->key, w->value,
                             timeout)) {
                        goto oom;
                }
                n = &d->dests[d->dest_cnt - 1];
                for (size_t k = 0; k < conf->alerting_webhook_secret_file_cnt;
                     k++) {
                        const red_kv_t *sf =
                                &conf->alerting_webhook_secret_files[k];
                        if (!strcmp(sf->key, w->key) &&
                            read_secret(conf, sf->value, n, errstr,
                                        errstr_size)) {
                                red_deliver_destroy(d);
                                return NULL;
                        }
                }
        }
        d->next_resend = red_time_mono_us();
        return d;
oom:
        snprintf(errstr, errstr_size, "out of memory");
        red_deliver_destroy(d);
        return NULL;
}

void red_deliver_destroy(red_deliver_t *d)
{
        if (!d) {
                return;
        }
        for (size_t i = 0; i < d->dest_cnt; i++) {
                free(d->dests[i].name);
                free(d->dests[i].url);
                if (d->dests[i].secret) {
                        memset(d->dests[i].secret, 0, d->dests[i].secret_len);
                }
                free(d->dests[i].secret);
                if (d->dests[i].curl) {
                        curl_easy_cleanup(d->dests[i].curl);
                }
        }
        free(d->dests);
        if (d->conn) {
                PQfinish(d->conn);
        }
        pthread_mutex_destroy(&d->lock);
        free(d);
}

void red_deliver_stats(red_deliver_t *d, red_deliver_stats_t *out)
{
        pthread_mutex_lock(&d->lock);
        *out = d->stats;
        pthread_mutex_unlock(&d->lock);
}

/* --- HTTP ------------------------------------------------------------ */

/* Keeps the start of a response for the error message. */
static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
        char *buf = arg;
        size_t have = strlen(buf), len = size * n;

        if (have + 1 < 200) {
                size_t take = len < 199 - have ? len : 199 - have;
                memcpy(buf + have, p, take);
                buf[have + take] = '\0';
        }
        return len;
}

/* POSTs @p body (JSON); true on a 2xx. @p alert_id: the webhook's header. */
static bool post(dest_t *dst, const char *body, size_t len,
                 const char *alert_id)
{
        struct curl_slist *hdrs = NULL;
        char resp[200] = "", line[160], hex[RED_HMAC_HEX_SIZE];
        long code = 0;
        CURLcode rc;

        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
        hdrs = curl_slist_append(hdrs, "User-Agent: reducerd/" RED_VERSION);
        if (alert_id) {
                snprintf(line, sizeof(line), "X-Reducerd-Alert-Id: %s",
                         alert_id);
                hdrs = curl_slist_append(hdrs, line);
        }
        if (dst->secret) {
                char ts[32];
                const void *parts[3];
                size_t lens[3];

                snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
                parts[0] = ts;
                lens[0] = strlen(ts);
                parts[1] = ".";
                lens[1] = 1;
                parts[2] = body;
                lens[2] = len;
                if (red_hmac_sha256_hex(dst->secret, dst->secret_len, parts,
                                        lens, 3, hex)) {
                        snprintf(dst->error, sizeof(dst->error),
                                 "cannot sign the body (libcrypto)");
                        curl_slist_free_all(hdrs);
                        return false;
                }
                snprintf(line, sizeof(line), "X-Reducerd-Timestamp: %s", ts);
                hdrs = curl_slist_append(hdrs, line);
                snprintf(line, sizeof(line), "X-Reducerd-Signature: sha256=%s",
                         hex);
                hdrs = curl_slist_append(hdrs, line);
        }
        curl_easy_setopt(dst->curl, CURLOPT_URL, dst->url);
        curl_easy_setopt(dst->curl, CURLOPT_POST, 1L);
        curl_easy_setopt(dst->curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(dst->curl, CURLOPT_POSTFIELDSIZE, (long)len);
        curl_easy_setopt(dst->curl, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(dst->curl, CURLOPT_TIMEOUT_MS, dst->timeout_ms);
        curl_easy_setopt(dst->curl, CURLOPT_CONNECTTIMEOUT_MS, dst->timeout_ms);
        curl_easy_setopt(dst->curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(dst->curl, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(dst->curl, CURLOPT_WRITEDATA, resp);
        rc = curl_easy_perform(dst->curl);
        curl_slist_free_all(hdrs);
        if (rc == CURLE_OK) {
                curl_easy_getinfo(dst->curl, CURLINFO_RESPONSE_CODE, &code);
        }
        if (rc == CURLE_OK && code >= 200 && code < 300) {
                return true;
        }
        /* the URL may hold a token (Slack-style webhooks): not logged */
        if (rc != CURLE_OK) {
                snprintf(dst->error, sizeof(dst->error), "%s",
                         curl_easy_strerror(rc));
        } else {
                resp[strcspn(resp, "\r\n")] = '\0';
                snprintf(dst->error, sizeof(dst->error), "HTTP %ld: %.150s",
                         code, resp);
        }
        return false;
}

/* A destination failed: back off (doubling from 100 ms). */
static void failed(red_deliver_t *d, dest_t *dst)
{
        int64_t max = d->conf->alerting_retry_max_ms;

        dst->backoff_ms = dst->backoff_ms ? dst->backoff_ms * 2 : 100;
        if (dst->backoff_ms > max) {
                dst->backoff_ms = max;
        }
        dst->retry_at = red_time_mono_us() + dst->backoff_ms * 1000;
        red_log_warn("alerts", "delivery to %s failed: %s; retrying in %lld ms",
                     dst->kind == RED_DELIVER_ALERTMANAGER ? dst->name
                                                           : dst->name,
                     dst->error, (long long)dst->backoff_ms);
        pthread_mutex_lock(&d->lock);
        d->stats.failed[dst->kind]++;
        pthread_mutex_unlock(&d->lock);
}

static void succeeded(red_deliver_t *d, dest_t *dst, size_t alerts)
{
        if (dst->backoff_ms) {
                red_log_info("alerts", "delivering to %s again", dst->name);
        }
        dst->backoff_ms = 0;
        dst->retry_at = 0;
        pthread_mutex_lock(&d->lock);
        d->stats.delivered[dst->kind] += alerts;
        pthread_mutex_unlock(&d->lock);
}

/* --- one pass over the outbox ---------------------------------------- */

typedef struct row_s {
        red_alert_note_t note;
        const char *id;
        bool done[64]; /* per destination (64 at most are served) */
        bool tried;    /* a destination failed on it */
} row_t;

/* '{"a","b"}': the destinations' names as a text[] literal. */
static void names_array(const red_deliver_t *d, red_buf_t *b)
{
        red_buf_putc(b, '{');
        for (size_t i = 0; i < d->dest_cnt; i++) {
                red_buf_puts(b, i ? ",\"" : "\"");
                for (const char *p = d->dests[i].name; *p; p++) {
                        if (*p == '"' || *p == '\\') {
                                red_buf_putc(b, '\\');
                        }
                        red_buf_putc(b, *p);
                }
                red_buf_putc(b, '"');
        }
        red_buf_putc(b, '}');
}

static red_time_t us_col(PGresult *res, int row, int col)
{
        return PQgetisnull(res, row, col)
                       ? INT64_MIN
                       : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

/* The rows of the pass from the result (borrowed from it). */
static row_t *load_rows(red_deliver_t *d, PGresult *res, int n)
{
        row_t *rows = calloc((size_t)n + 1, sizeof(*rows));

        for (int i = 0; rows && i < n; i++) {
                row_t *r = &rows[i];
                const char *done = PQgetvalue(res, i, 13);

                r->id = PQgetvalue(res, i, 0);
                r->note.alert_id = PQgetvalue(res, i, 1);
                r->note.contract = PQgetvalue(res, i, 2);
                r->note.rule_id = PQgetvalue(res, i, 3);
                r->note.severity = PQgetvalue(res, i, 4);
                r->note.status = PQgetvalue(res, i, 5);
                r->note.labels = PQgetvalue(res, i, 6);
                r->note.annotations = PQgetvalue(res, i, 7);
                r->note.payload = PQgetvalue(res, i, 8);
                r->note.starts_at = us_col(res, i, 9);
                r->note.ends_at = us_col(res, i, 10);
                r->note.hold_us = strtoll(PQgetvalue(res, i, 11), NULL, 10) *
                                  RED_TIME_US_PER_SEC;
                r->note.generator =
                        PQgetisnull(res, i, 12) ? NULL : PQgetvalue(res, i, 12);
                /* done: "{t,f,...}" in destination order */
                for (size_t k = 0, pos = 1; k < d->dest_cnt && k < 64; k++) {
                        r->done[k] = done[pos] == 't';
                        pos += 2;
                }
        }
        return rows;
}

/* Posts the rows one destination lacks: Alertmanager takes them in one
 * request, a webhook one by one, in order (it stops at a failure: the
 * later rows wait behind it). */
static void serve(red_deliver_t *d, size_t k, row_t *rows, int n)
{
        dest_t *dst = &d->dests[k];
        const char *base = d->conf->alerting_generator_url;
        red_time_t now = red_time_now();
        red_buf_t body;
        size_t sent = 0;

        red_buf_init(&body);
        if (dst->kind == RED_DELIVER_ALERTMANAGER) {
                red_alert_note_t *notes = calloc((size_t)n + 1, sizeof(*notes));
                size_t cnt = 0;

                for (int i = 0; notes && i < n; i++) {
                        if (!rows[i].done[k]) {
                                notes[cnt++] = rows[i].note;
                        }
                }
                if (notes && cnt) {
                        red_alert_notify_am(notes, cnt, now, base, &body);
                        if (!body.failed &&
                            post(dst, body.data, body.len, NULL)) {
                                for (int i = 0; i < n; i++) {
                                        rows[i].done[k] = true;
                                }
                                sent = cnt;
                        } else {
                                for (int i = 0; i < n; i++) {
                                        rows[i].tried |= !rows[i].done[k];
                                }
                                failed(d, dst);
                        }
                }
                free(notes);
        } else {
                for (int i = 0; i < n; i++) {
                        if (rows[i].done[k]) {
                                continue;
                        }
                        red_buf_reset(&body);
                        red_alert_notify_webhook(&rows[i].note, base, &body);
                        if (body.failed || !post(dst, body.data, body.len,
                                                 rows[i].note.alert_id)) {
                                rows[i].tried = true;
                                failed(d, dst);
                                break;
                        }
                        rows[i].done[k] = true;
                        sent++;
                }
        }
        if (sent) {
                succeeded(d, dst, sent);
        }
        red_buf_destroy(&body);
}

/* Deletes the rows every destination took (observing their latency) and
 * records on the others which destinations did. */
static int settle(red_deliver_t *d, row_t *rows, int n, char *err, size_t size)
{
        red_buf_t del, upd;
        const char *vals[1];
        PGresult *res;
        size_t ndel = 0, nupd = 0;
        int rc = 0;

        red_buf_init(&del);
        red_buf_init(&upd);
        red_buf_putc(&del, '{');
        red_buf_putc(&upd, '[');
        for (int i = 0; i < n; i++) {
                bool all = true, any = false;

                for (size_t k = 0; k < d->dest_cnt && k < 64; k++) {
                        all &= rows[i].done[k];
                }
                if (all) {
                        red_buf_puts(&del, ndel++ ? "," : "");
                        red_buf_puts(&del, rows[i].id);
                        continue;
                }
                red_buf_printf(&upd, "%s{\"id\":%s,\"f\":%d,\"add\":[",
                               nupd++ ? "," : "", rows[i].id,
                               rows[i].tried ? 1 : 0);
                for (size_t k = 0; k < d->dest_cnt && k < 64; k++) {
                        if (rows[i].done[k]) {
                                red_buf_puts(&upd, any ? "," : "");
                                red_buf_put_json_str(&upd, d->dests[k].name,
                                                     strlen(d->dests[k].name));
                                any = true;
                        }
                }
                red_buf_puts(&upd, "],\"e\":");
                if (rows[i].tried) {
                        const char *e = "";
                        for (size_t k = 0; k < d->dest_cnt && !*e; k++) {
                                if (!rows[i].done[k]) {
                                        e = d->dests[k].error;
                                }
                        }
                        red_buf_put_json_str(&upd, e, strlen(e));
                } else {
                        red_buf_puts(&upd, "null");
                }
                red_buf_putc(&upd, '}');
        }
        red_buf_putc(&del, '}');
        red_buf_putc(&upd, ']');
        if (del.failed || upd.failed) {
                snprintf(err, size, "out of memory");
                rc = -1;
                goto done;
        }
        if (ndel) {
                vals[0] = del.data;
                res = PQexecParams(d->conn,
                                   "DELETE FROM reducerd_alert_outbox WHERE "
                                   "id = ANY($1::bigint[]) RETURNING "
                                   "extract(epoch FROM clock_timestamp() - "
                                   "created_at)::float8",
                                   1, NULL, vals, NULL, NULL, 0);
                if (PQresultStatus(res) != PGRES_TUPLES_OK) {
                        red_pg_error(d->conn, res, err, size);
                        PQclear(res);
                        rc = -1;
                        goto done;
                }
                pthread_mutex_lock(&d->lock);
                for (int i = 0; i < PQntuples(res); i++) {
                        double s = atof(PQgetvalue(res, i, 0));
                        size_t b = 0;
                        while (b < 11 && s > red_deliver_latency_bounds[b]) {
                                b++;
                        }
                        d->stats.latency_buckets[b]++;
                        d->stats.latency_sum += s;
                }
                pthread_mutex_unlock(&d->lock);
                PQclear(res);
        }
        if (nupd) {
                vals[0] = upd.data;
                res = PQexecParams(
                        d->conn,
                        "UPDATE reducerd_alert_outbox o SET done = "
                        "ARRAY(SELECT jsonb_array_elements_text(v.add)), "
                        "attempts = o.attempts + v.f, last_error = "
                        "coalesce(v.e, o.last_error) FROM "
                        "jsonb_to_recordset($1::jsonb) AS v(id bigint, f "
                        "int, add jsonb, e text) WHERE o.id = v.id",
                        1, NULL, vals, NULL, NULL, 0);
                if (PQresultStatus(res) != PGRES_COMMAND_OK) {
                        red_pg_error(d->conn, res, err, size);
                        rc = -1;
                }
                PQclear(res);
        }
done:
        red_buf_destroy(&del);
        red_buf_destroy(&upd);
        return rc;
}

/* Any destination out of its back-off? */
static bool any_due(const red_deliver_t *d)
{
        int64_t now = red_time_mono_us();

        for (size_t k = 0; k < d->dest_cnt; k++) {
                if (d->dests[k].retry_at <= now) {
                        return true;
                }
        }
        return false;
}

/* One pass: the number of rows taken out, 0 when none waits, -1 on a
 * Postgres error, -2 when another replica delivers. */
static long pass(red_deliver_t *d)
{
        PGresult *res = NULL;
        red_buf_t names;
        const char *vals[1];
        char err[1024];
        row_t *rows = NULL;
        long out = 0;
        int n;

        if (red_pg_exec(d->conn, "BEGIN", err, sizeof(err))) {
                goto fail;
        }
        res = PQexec(d->conn,
                     "SELECT pg_try_advisory_xact_lock(" DELIVER_LOCK_KEY ")");
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
                goto fail;
        }
        if (PQgetvalue(res, 0, 0)[0] != 't') {
                PQclear(res);
                return red_pg_exec(d->conn, "COMMIT", err, sizeof(err)) ? -1
                                                                        : -2;
        }
        PQclear(res);
        red_buf_init(&names);
        names_array(d, &names);
        vals[0] = names.data;
        res = PQexecParams(
                d->conn,
                "SELECT id, alert_id, contract, rule_id, severity, status, "
                "labels::text, annotations::text, payload::text, "
                "(extract(epoch FROM starts_at) * 1000000)::bigint, "
                "(extract(epoch FROM ends_at) * 1000000)::bigint, hold_s, "
                "generator, ARRAY(SELECT u.n = ANY(o.done) FROM "
                "unnest($1::text[]) WITH ORDINALITY AS u(n, i) ORDER BY "
                "u.i)::text, (SELECT count(*) FROM reducerd_alert_outbox) "
                "FROM reducerd_alert_outbox o ORDER BY id LIMIT 500",
                1, NULL, vals, NULL, NULL, 0);
        red_buf_destroy(&names);
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
                goto fail;
        }
        n = PQntuples(res);
        pthread_mutex_lock(&d->lock);
        d->stats.depth = n ? atol(PQgetvalue(res, 0, 14)) : 0;
        pthread_mutex_unlock(&d->lock);
        if (n && any_due(d)) {
                if (!(rows = load_rows(d, res, n))) {
                        snprintf(err, sizeof(err), "out of memory");
                        goto fail_msg;
                }
                red_failpoint("before_delivery");
                for (size_t k = 0; k < d->dest_cnt && k < 64; k++) {
                        if (d->dests[k].retry_at <= red_time_mono_us()) {
                                serve(d, k, rows, n);
                        }
                }
                if (settle(d, rows, n, err, sizeof(err))) {
                        goto fail_msg;
                }
                for (int i = 0; i < n; i++) {
                        bool all = true;
                        for (size_t k = 0; k < d->dest_cnt && k < 64; k++) {
                                all &= rows[i].done[k];
                        }
                        out += all;
                }
                pthread_mutex_lock(&d->lock);
                d->stats.depth -= out;
                pthread_mutex_unlock(&d->lock);
        }
        free(rows);
        PQclear(res);
        if (red_pg_exec(d->conn, "COMMIT", err, sizeof(err))) {
                red_log_warn("alerts", "commit: %s", err);
                return -1;
        }
        return out;
fail:
        red_pg_error(d->conn, res, err, sizeof(err));
fail_msg:
        red_log_warn("alerts", "delivery: %s", err);
        free(rows);
        PQclear(res);
        if (red_pg_exec(d->conn, "ROLLBACK", err, sizeof(err))) {
                /* connection gone */
        }
        return -1;
}

/* --- re-sending firing window alerts ----------------------------------- */

static void resend(red_deliver_t *d)
{
        int64_t hold =
                4 * d->conf->alerting_resend_interval_s * RED_TIME_US_PER_SEC;
        red_alert_note_t *notes;
        red_buf_t body;
        PGresult *res;
        int n;

        d->next_resend =
                red_time_mono_us() +
                d->conf->alerting_resend_interval_s * RED_TIME_US_PER_SEC;
        res = PQexec(d->conn,
                     "SELECT alert_id::text, labels::text, annotations::text, "
                     "(extract(epoch FROM since) * 1000000)::bigint, "
                     "generator FROM reducerd_alert_instances WHERE state = "
                     "'firing' AND labels IS NOT NULL ORDER BY contract, "
                     "rule_id, scope");
        if (PQresultStatus(res) != PGRES_TUPLES_OK || !(n = PQntuples(res))) {
                PQclear(res);
                return;
        }
        notes = calloc((size_t)n, sizeof(*notes));
        red_buf_init(&body);
        for (int i = 0; notes && i < n; i++) {
                notes[i].alert_id = PQgetvalue(res, i, 0);
                notes[i].labels = PQgetvalue(res, i, 1);
                notes[i].annotations = PQgetvalue(res, i, 2);
                notes[i].starts_at = us_col(res, i, 3);
                notes[i].ends_at = INT64_MIN;
                notes[i].hold_us = hold;
                notes[i].generator =
                        PQgetisnull(res, i, 4) ? NULL : PQgetvalue(res, i, 4);
        }
        if (notes) {
                red_alert_notify_am(notes, (size_t)n, red_time_now(),
                                    d->conf->alerting_generator_url, &body);
        }
        for (size_t k = 0; notes && !body.failed && k < d->dest_cnt; k++) {
                dest_t *dst = &d->dests[k];

                if (dst->kind != RED_DELIVER_ALERTMANAGER ||
                    dst->retry_at > red_time_mono_us()) {
                        continue;
                }
                if (post(dst, body.data, body.len, NULL)) {
                        pthread_mutex_lock(&d->lock);
                        d->stats.resent += (uint64_t)n;
                        pthread_mutex_unlock(&d->lock);
                } else {
                        failed(d, dst);
                }
        }
        red_buf_destroy(&body);
        free(notes);
        PQclear(res);
}

/* --- the thread --------------------------------------------------------- */

static bool connect_pg(red_deliver_t *d)
{
        char err[1024];

        if (d->conn && PQstatus(d->conn) == CONNECTION_OK) {
                return true;
        }
        if (d->conn) {
                PQfinish(d->conn);
        }
        if (!(d->conn = red_pg_connect(d->conf->postgres_conninfo, err,
                                       sizeof(err)))) {
                red_log_warn("alerts", "%s", err);
                return false;
        }
        if (red_pg_exec(d->conn, "LISTEN reducerd_alert_outbox", err,
                        sizeof(err))) {
                red_log_warn("alerts", "LISTEN: %s", err);
                PQfinish(d->conn);
                d->conn = NULL;
                return false;
        }
        return true;
}

/* Waits for a NOTIFY, at most @p ms, holding no transaction. */
static void wait_notify(red_deliver_t *d, int ms)
{
        struct pollfd pfd;
        PGnotify *n;

        if (!d->conn || PQsocket(d->conn) < 0) {
                struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
                nanosleep(&ts, NULL);
                return;
        }
        pfd.fd = PQsocket(d->conn);
        pfd.events = POLLIN;
        if (poll(&pfd, 1, ms) > 0) {
                PQconsumeInput(d->conn);
        }
        while ((n = PQnotifies(d->conn))) {
                PQfreemem(n);
        }
}

/* How long to wait: until the next destination's retry or re-send, 1 s
 * at most (a replica that is not the deliverer looks again). */
static int idle_ms(const red_deliver_t *d, bool waiting)
{
        int64_t now = red_time_mono_us(), next = now + 1000000;

        for (size_t k = 0; waiting && k < d->dest_cnt; k++) {
                if (d->dests[k].retry_at > now && d->dests[k].retry_at < next) {
                        next = d->dests[k].retry_at;
                }
        }
        if (d->next_resend < next) {
                next = d->next_resend;
        }
        return next <= now ? 0 : (int)((next - now) / 1000) + 1;
}

static void *run(void *arg)
{
        red_deliver_t *d = arg;

        while (!atomic_load(&d->stop)) {
                long n;

                if (!connect_pg(d)) {
                        wait_notify(d, 1000);
                        continue;
                }
                n = pass(d);
                if (n >= 0 && red_time_mono_us() >= d->next_resend) {
                        resend(d);
                }
                if (n > 0) {
                        continue; /* more may wait */
                }
                wait_notify(d, n == -1 ? 1000 : idle_ms(d, true));
        }
        /* a last pass, so a graceful stop leaves little behind */
        if (connect_pg(d)) {
                for (int i = 0; i < 5 && pass(d) > 0; i++) {
                }
        }
        return NULL;
}

int red_deliver_start(red_deliver_t *d, char *errstr, size_t errstr_size)
{
        int e = pthread_create(&d->thread, NULL, run, d);

        if (e) {
                snprintf(errstr, errstr_size, "pthread_create: %s",
                         strerror(e));
                return -1;
        }
        d->started = true;
        return 0;
}

void red_deliver_stop(red_deliver_t *d)
{
        atomic_store(&d->stop, true);
}

void red_deliver_join(red_deliver_t *d)
{
        if (d->started) {
                pthread_join(d->thread, NULL);
                d->started = false;
        }
}
