/* red_etcd - etcd v3's JSON gateway over libcurl. */
#include "red_etcd.h"

#include "red_buf.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Keys a range reads per request. */
#define RANGE_PAGE 10000

struct red_etcd_s {
        char **urls; /* base URLs without a trailing slash */
        size_t url_cnt;
        size_t cur; /* the endpoint that answered last */
        long timeout_ms;
        CURL *curl; /* kept: the connection is reused */
        red_buf_t resp;
};

/* --- base64 (RFC 4648, with padding, as the gateway wants) ------------- */

static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void b64_put(red_buf_t *b, const unsigned char *p, size_t len)
{
        for (size_t i = 0; i < len; i += 3) {
                uint32_t v = (uint32_t)p[i] << 16;
                size_t n = len - i < 3 ? len - i : 3;

                if (n > 1) {
                        v |= (uint32_t)p[i + 1] << 8;
                }
                if (n > 2) {
                        v |= p[i + 2];
                }
                red_buf_putc(b, b64[(v >> 18) & 63]);
                red_buf_putc(b, b64[(v >> 12) & 63]);
                red_buf_putc(b, n > 1 ? b64[(v >> 6) & 63] : '=');
                red_buf_putc(b, n > 2 ? b64[v & 63] : '=');
        }
}

static int b64_val(char c)
{
        const char *p = c ? strchr(b64, c) : NULL;

        return p ? (int)(p - b64) : -1;
}

/* Decodes @p s into a NUL-terminated string (malloc'd), or NULL. */
static char *b64_decode(const char *s)
{
        size_t len = strlen(s), n = 0;
        char *out = malloc(len / 4 * 3 + 4);
        uint32_t v = 0;
        int bits = 0;

        if (!out) {
                return NULL;
        }
        for (const char *p = s; *p && *p != '='; p++) {
                int d = b64_val(*p);
                if (d < 0) {
                        free(out);
                        return NULL;
                }
                v = (v << 6) | (uint32_t)d;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        out[n++] = (char)((v >> bits) & 0xff);
                }
        }
        out[n] = '\0';
        return out;
}

/* --- set-up ------------------------------------------------------------- */

red_etcd_t *red_etcd_new(const red_strlist_t *endpoints, long timeout_ms,
                         char *errstr, size_t errstr_size)
{
        red_etcd_t *e;

        if (!endpoints->cnt) {
                snprintf(errstr, errstr_size, "no etcd endpoint");
                return NULL;
        }
        if (!(e = calloc(1, sizeof(*e))) ||
            !(e->urls = calloc(endpoints->cnt, sizeof(*e->urls)))) {
                goto oom;
        }
        red_buf_init(&e->resp);
        e->timeout_ms = timeout_ms;
        for (size_t i = 0; i < endpoints->cnt; i++) {
                size_t len = strlen(endpoints->items[i]);
                while (len && endpoints->items[i][len - 1] == '/') {
                        len--;
                }
                if (!(e->urls[i] = strndup(endpoints->items[i], len))) {
                        goto oom;
                }
                e->url_cnt++;
        }
        curl_global_init(CURL_GLOBAL_DEFAULT);
        if (!(e->curl = curl_easy_init())) {
                goto oom;
        }
        return e;
oom:
        snprintf(errstr, errstr_size, "out of memory");
        red_etcd_destroy(e);
        return NULL;
}

void red_etcd_destroy(red_etcd_t *e)
{
        if (!e) {
                return;
        }
        for (size_t i = 0; i < e->url_cnt; i++) {
                free(e->urls[i]);
        }
        free(e->urls);
        if (e->curl) {
                curl_easy_cleanup(e->curl);
        }
        red_buf_destroy(&e->resp);
        free(e);
}

/* --- requests ------------------------------------------------------------ */

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
        red_buf_t *b = arg;

        red_buf_append(b, p, size * n);
        return b->failed ? 0 : size * n;
}

/* A connection that did not happen: another endpoint may answer. */
static bool try_next(CURLcode rc)
{
        return rc == CURLE_COULDNT_CONNECT ||
               rc == CURLE_COULDNT_RESOLVE_HOST ||
               rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_GOT_NOTHING ||
               rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR;
}

/*
 * POSTs @p body to @p path of an endpoint (the last good one first, then
 * the others). Returns the parsed answer of a 200 (caller decrefs); NULL
 * with a message otherwise, *@p grpc_code set to the gateway's error code
 * when it answered one (5: not found), else -1.
 */
static json_t *call(red_etcd_t *e, const char *path, const red_buf_t *body,
                    int *grpc_code, char *errstr, size_t size)
{
        CURLcode rc = CURLE_OK;
        long status = 0;
        json_t *doc;

        *grpc_code = -1;
        if (body->failed) {
                snprintf(errstr, size, "out of memory");
                return NULL;
        }
        for (size_t k = 0; k < e->url_cnt; k++) {
                size_t i = (e->cur + k) % e->url_cnt;
                struct curl_slist *hdrs = NULL;
                char url[1024];

                snprintf(url, sizeof(url), "%s%s", e->urls[i], path);
                red_buf_reset(&e->resp);
                hdrs = curl_slist_append(hdrs,
                                         "Content-Type: application/json");
                curl_easy_reset(e->curl);
                curl_easy_setopt(e->curl, CURLOPT_URL, url);
                curl_easy_setopt(e->curl, CURLOPT_POST, 1L);
                curl_easy_setopt(e->curl, CURLOPT_POSTFIELDS, body->data);
                curl_easy_setopt(e->curl, CURLOPT_POSTFIELDSIZE,
                                 (long)body->len);
                curl_easy_setopt(e->curl, CURLOPT_HTTPHEADER, hdrs);
                curl_easy_setopt(e->curl, CURLOPT_TIMEOUT_MS, e->timeout_ms);
                curl_easy_setopt(e->curl, CURLOPT_CONNECTTIMEOUT_MS,
                                 e->timeout_ms);
                curl_easy_setopt(e->curl, CURLOPT_NOSIGNAL, 1L);
                curl_easy_setopt(e->curl, CURLOPT_WRITEFUNCTION, on_body);
                curl_easy_setopt(e->curl, CURLOPT_WRITEDATA, &e->resp);
                rc = curl_easy_perform(e->curl);
                curl_slist_free_all(hdrs);
                if (rc == CURLE_OK) {
                        e->cur = i;
                        curl_easy_getinfo(e->curl, CURLINFO_RESPONSE_CODE,
                                          &status);
                        break;
                }
                snprintf(errstr, size, "%s: %s", e->urls[i],
                         curl_easy_strerror(rc));
                if (!try_next(rc)) {
                        return NULL;
                }
        }
        if (rc != CURLE_OK) {
                return NULL;
        }
        red_buf_putc(&e->resp, '\0');
        doc = e->resp.failed ? NULL
                             : json_loads(e->resp.data, JSON_DECODE_ANY, NULL);
        if (status == 200 && json_is_object(doc)) {
                return doc;
        }
        if (json_is_object(doc)) {
                json_t *c = json_object_get(doc, "code");
                const char *m =
                        json_string_value(json_object_get(doc, "message"));
                *grpc_code =
                        json_is_integer(c) ? (int)json_integer_value(c) : -1;
                snprintf(errstr, size, "%s%s: HTTP %ld: %.200s",
                         e->urls[e->cur], path, status, m ? m : "");
        } else {
                snprintf(errstr, size, "%s%s: HTTP %ld: not JSON",
                         e->urls[e->cur], path, status);
        }
        json_decref(doc);
        return NULL;
}

/* An int64 member the gateway writes as a string (or a number). */
static int64_t i64_of(const json_t *obj, const char *name)
{
        const json_t *v = json_object_get(obj, name);

        if (json_is_string(v)) {
                return strtoll(json_string_value(v), NULL, 10);
        }
        return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

/* A write of one key: @p path with {"key"} and, when @p value is not
 * NULL, its "value" and "lease". Returns 0, or -1 with a message and the
 * gateway's error code in *@p grpc_code (see call()). */
static int key_call(red_etcd_t *e, const char *path, const char *key,
                    const char *value, int64_t lease, int *grpc_code,
                    char *errstr, size_t size)
{
        red_buf_t b;
        json_t *doc;

        red_buf_init(&b);
        red_buf_puts(&b, "{\"key\":\"");
        b64_put(&b, (const unsigned char *)key, strlen(key));
        if (value) {
                red_buf_puts(&b, "\",\"value\":\"");
                b64_put(&b, (const unsigned char *)value, strlen(value));
                red_buf_printf(&b, "\",\"lease\":\"%lld", (long long)lease);
        }
        red_buf_puts(&b, "\"}");
        doc = call(e, path, &b, grpc_code, errstr, size);
        red_buf_destroy(&b);
        json_decref(doc);
        return doc ? 0 : -1;
}

int red_etcd_put(red_etcd_t *e, const char *key, const char *value,
                 int64_t lease, char *errstr, size_t size)
{
        int code;

        if (!key_call(e, "/v3/kv/put", key, value, lease, &code, errstr,
                      size)) {
                return 0;
        }
        return code == 5 ? RED_ETCD_ENOLEASE : -1;
}

int red_etcd_delete(red_etcd_t *e, const char *key, char *errstr, size_t size)
{
        int code;

        return key_call(e, "/v3/kv/deleterange", key, NULL, 0, &code, errstr,
                        size);
}

int red_etcd_range_prefix(red_etcd_t *e, const char *prefix,
                          red_discovery_set_t *out, char *errstr, size_t size)
{
        size_t plen = strlen(prefix), from_len = plen;
        char *from = strdup(prefix), *end = strdup(prefix);
        int r = -1;

        if (!from || !end || !plen) {
                snprintf(errstr, size,
                         !plen ? "empty prefix" : "out of memory");
                goto done;
        }
        /* range_end: the prefix with its last byte + 1 (all keys under it) */
        end[plen - 1] = (char)((unsigned char)end[plen - 1] + 1);
        for (;;) {
                red_buf_t b;
                json_t *doc, *kvs, *kv;
                const char *last = NULL;
                size_t i;
                int code;
                bool more;

                red_buf_init(&b);
                red_buf_puts(&b, "{\"key\":\"");
                b64_put(&b, (const unsigned char *)from, from_len);
                red_buf_puts(&b, "\",\"range_end\":\"");
                b64_put(&b, (const unsigned char *)end, plen);
                red_buf_printf(&b, "\",\"limit\":\"%d\"}", RANGE_PAGE);
                doc = call(e, "/v3/kv/range", &b, &code, errstr, size);
                red_buf_destroy(&b);
                if (!doc) {
                        goto done;
                }
                kvs = json_object_get(doc, "kvs");
                json_array_foreach(kvs, i, kv)
                {
                        const char *k64 =
                                json_string_value(json_object_get(kv, "key"));
                        const char *v64 =
                                json_string_value(json_object_get(kv, "value"));
                        char *k = k64 ? b64_decode(k64) : NULL;
                        char *v = b64_decode(v64 ? v64 : "");
                        int ar = k && v ? red_discovery_set_add(
                                                  out, k, v, 0,
                                                  i64_of(kv, "lease"))
                                        : -1;

                        free(k);
                        free(v);
                        if (ar) {
                                snprintf(errstr, size,
                                         "a key that is not base64, or out "
                                         "of memory");
                                json_decref(doc);
                                goto done;
                        }
                        last = out->items[out->cnt - 1].key;
                }
                more = json_is_true(json_object_get(doc, "more"));
                json_decref(doc);
                if (!more || !last) {
                        break;
                }
                /* the next page starts just after the last key: the
                 * key followed by a 0 byte */
                free(from);
                from_len = strlen(last) + 1;
                if (!(from = malloc(from_len))) {
                        snprintf(errstr, size, "out of memory");
                        goto done;
                }
                memcpy(from, last, from_len);
        }
        r = 0;
done:
        free(from);
        free(end);
        return r;
}

int red_etcd_lease_grant(red_etcd_t *e, int64_t ttl_s, int64_t *id,
                         int64_t *granted_s, char *errstr, size_t size)
{
        red_buf_t b;
        json_t *doc;
        int code;

        red_buf_init(&b);
        red_buf_printf(&b, "{\"TTL\":\"%lld\"}", (long long)ttl_s);
        doc = call(e, "/v3/lease/grant", &b, &code, errstr, size);
        red_buf_destroy(&b);
        if (!doc) {
                return -1;
        }
        *id = i64_of(doc, "ID");
        *granted_s = i64_of(doc, "TTL");
        json_decref(doc);
        if (*id <= 0) {
                snprintf(errstr, size, "lease grant: no lease in the answer");
                return -1;
        }
        return 0;
}

int red_etcd_lease_keepalive(red_etcd_t *e, int64_t id, int64_t *ttl_s,
                             char *errstr, size_t size)
{
        red_buf_t b;
        json_t *doc, *res;
        int code;

        red_buf_init(&b);
        red_buf_printf(&b, "{\"ID\":\"%lld\"}", (long long)id);
        doc = call(e, "/v3/lease/keepalive", &b, &code, errstr, size);
        red_buf_destroy(&b);
        if (!doc) {
                return code == 5 ? RED_ETCD_ENOLEASE : -1;
        }
        /* a stream of one message: {"result": {"ID", "TTL"}}; no TTL (0)
         * when the lease is gone */
        res = json_object_get(doc, "result");
        *ttl_s = i64_of(res ? res : doc, "TTL");
        json_decref(doc);
        return *ttl_s > 0 ? 0 : RED_ETCD_ENOLEASE;
}

int red_etcd_lease_revoke(red_etcd_t *e, int64_t id, char *errstr, size_t size)
{
        red_buf_t b;
        json_t *doc;
        int code;

        red_buf_init(&b);
        red_buf_printf(&b, "{\"ID\":\"%lld\"}", (long long)id);
        doc = call(e, "/v3/lease/revoke", &b, &code, errstr, size);
        red_buf_destroy(&b);
        json_decref(doc);
        return doc ? 0 : code == 5 ? RED_ETCD_ENOLEASE : -1;
}
