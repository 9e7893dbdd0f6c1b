/* red_config - settings table, generic YAML loader, environment overrides. */
#include "red_config.h"

#include "red_log.h"
#include "red_yaml.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const log_levels[] = {"debug", "info", "warn", "error",
                                         NULL};
static const char *const log_formats[] = {"text", "json", NULL};
static const char *const gap_policies[] = {"fail", "reset", NULL};

#define OFF(f) offsetof(red_config_t, f)

/* The settings table: every key of config/reducerd.yaml, in file order.
 * The README's configuration reference and a test are checked against it. */
static const red_setting_t settings[] = {
        {"kafka.brokers", RED_SETTING_STR, OFF(kafka_brokers), 0, "embedded", 0,
         0, NULL, false,
         "Bootstrap servers (host:port,...), or \"embedded\" to start "
         "librdkafka's mock cluster in-process (development and tests only)"},
        {"kafka.embedded_brokers", RED_SETTING_INT, OFF(kafka_embedded_brokers),
         0, "1", 1, 5, NULL, false,
         "Number of brokers of the embedded mock cluster"},
        {"kafka.embedded_partitions", RED_SETTING_INT,
         OFF(kafka_embedded_partitions), 0, "3", 1, 256, NULL, false,
         "Partitions of each topic the embedded cluster creates"},
        {"kafka.offset_gap_policy", RED_SETTING_ENUM,
         OFF(kafka_offset_gap_policy), 0, "fail", 0, 0, gap_policies, false,
         "A stored offset outside the broker's log (retention, a recreated "
         "topic) or on another log: fail stops that partition and makes "
         "/readyz fail, reset reads it from the log's start; both log and "
         "count it (the embedded cluster always resets)"},
        {"kafka.properties", RED_SETTING_MAP, OFF(kafka_properties),
         OFF(kafka_property_cnt), NULL, 0, 0, NULL, true,
         "librdkafka properties passed through unchanged (SASL, TLS, "
         "timeouts); each is checked with rd_kafka_conf_set"},
        {"postgres.conninfo", RED_SETTING_STR, OFF(postgres_conninfo), 0, "", 0,
         0, NULL, true,
         "libpq connection string or URI; empty means libpq defaults and "
         "the PG* environment variables"},
        {"postgres.retry_max_ms", RED_SETTING_INT, OFF(postgres_retry_max_ms),
         0, "30000", 100, 600000, NULL, false,
         "Longest back-off between reconnect attempts while Postgres is down"},
        {"contracts.paths", RED_SETTING_LIST, OFF(contracts_paths), 0,
         "contracts", 0, 0, NULL, false,
         "Contract files, or directories whose *.yaml files are all loaded; "
         "relative to this file's directory"},
        {"batch.max_events", RED_SETTING_INT, OFF(batch_max_events), 0, "20000",
         1, 1000000, NULL, false, "A batch closes after this many events"},
        {"batch.max_ms", RED_SETTING_INT, OFF(batch_max_ms), 0, "500", 1, 60000,
         NULL, false, "A batch closes after this many milliseconds"},
        {"batch.max_bytes", RED_SETTING_INT, OFF(batch_max_bytes), 0,
         "67108864", 65536, INT64_C(4294967296), NULL, false,
         "A batch closes after this many bytes of input"},
        {"workflows.max_live", RED_SETTING_INT, OFF(workflows_max_live), 0,
         "1000000", 1000, 100000000, NULL, false,
         "Workflows kept in memory; older ones are evicted and reloaded "
         "from Postgres on demand"},
        {"workflows.terminal_ttl_s", RED_SETTING_INT,
         OFF(workflows_terminal_ttl_s), 0, "86400", 0, INT64_C(31536000), NULL,
         false, "Seconds a completed or failed workflow stays in memory"},
        {"http.listen", RED_SETTING_STR, OFF(http_listen), 0, "127.0.0.1:9464",
         0, 0, NULL, false,
         "Address of /metrics, /healthz and /readyz (host:port; empty "
         "disables)"},
        {"http.api", RED_SETTING_BOOL, OFF(http_api), 0, "false", 0, 0, NULL,
         false,
         "reducerd run also serves the read API (/v1), on api.listen with "
         "its own threads and connections"},
        {"api.listen", RED_SETTING_STR, OFF(api_listen), 0, "127.0.0.1:9465", 0,
         0, NULL, false,
         "Address of the read API of reducerd serve (and of run with "
         "http.api: true), host:port"},
        {"api.threads", RED_SETTING_INT, OFF(api_threads), 0, "4", 1, 256, NULL,
         false, "HTTP worker threads of the read API"},
        {"api.max_connections", RED_SETTING_INT, OFF(api_max_connections), 0,
         "512", 1, 100000, NULL, false,
         "Client connections the read API accepts at once"},
        {"api.timeout_s", RED_SETTING_INT, OFF(api_timeout_s), 0, "30", 1, 3600,
         NULL, false,
         "A client connection idle this long (a slow or stalled client) is "
         "closed"},
        {"api.statement_timeout_ms", RED_SETTING_INT,
         OFF(api_statement_timeout_ms), 0, "5000", 10, 600000, NULL, false,
         "Longest SQL statement of a request (an export: of each fetch of "
         "2000 rows)"},
        {"api.max_rows", RED_SETTING_INT, OFF(api_max_rows), 0, "10000", 1,
         1000000, NULL, false,
         "Most rows of a json, csv or table page, and groups of a summary "
         "(the limit parameter's maximum)"},
        {"api.max_export_rows", RED_SETTING_INT, OFF(api_max_export_rows), 0,
         "10000000", 1, INT64_C(1000000000), NULL, false,
         "Most rows of one streamed ndjson export"},
        {"api.pg_connections", RED_SETTING_INT, OFF(api_pg_connections), 0, "8",
         1, 1000, NULL, false,
         "PostgreSQL connections of the read API (separate from ingest)"},
        {"api.token", RED_SETTING_STR, OFF(api_token), 0, "", 0, 0, NULL, true,
         "Bearer token the read API requires (Authorization: Bearer ...); "
         "empty: none. Set it from the environment (REDUCERD_API_TOKEN)"},
        {"api.tls_cert", RED_SETTING_STR, OFF(api_tls_cert), 0, "", 0, 0, NULL,
         false,
         "PEM certificate (chain) file: with api.tls_key the read API speaks "
         "HTTPS; relative to this file's directory"},
        {"api.tls_key", RED_SETTING_STR, OFF(api_tls_key), 0, "", 0, 0, NULL,
         false, "PEM private key file of api.tls_cert"},
        {"log.level", RED_SETTING_ENUM, OFF(log_level), 0, "info", 0, 0,
         log_levels, false, "Lowest level logged"},
        {"log.format", RED_SETTING_ENUM, OFF(log_json), 0, "text", 0, 0,
         log_formats, false, "text or json (one JSON object a line)"},
        {"maintain.interval_s", RED_SETTING_INT, OFF(maintain_interval_s), 0,
         "3600", 10, 86400, NULL, false,
         "How often the daemon creates partitions ahead and drops expired "
         "ones"},
        {"maintain.days_ahead", RED_SETTING_INT, OFF(maintain_days_ahead), 0,
         "7", 1, 366, NULL, false, "Days of partitions created ahead"},
        {"instance.id", RED_SETTING_STR, OFF(instance_id), 0, "", 0, 0, NULL,
         false,
         "Name of this replica in logs and output events; empty means "
         "hostname-pid"},
        {"config.max_file_bytes", RED_SETTING_INT, OFF(config_max_file_bytes),
         0, "4194304", 4096, INT64_C(1073741824), NULL, false,
         "Config and contract files larger than this are refused, and so is "
         "any path that is not a regular file (a FIFO, a device); the "
         "config file itself is bounded by the environment or the default"},
        {"alerting.alertmanager_urls", RED_SETTING_LIST,
         OFF(alerting_alertmanager_urls), 0, "", 0, 0, NULL, false,
         "Alertmanager base URLs (http://host:9093); every alert is posted "
         "to each one's /api/v2/alerts (an HA pair deduplicates). Empty: "
         "none"},
        {"alerting.webhooks", RED_SETTING_MAP, OFF(alerting_webhooks),
         OFF(alerting_webhook_cnt), NULL, 0, 0, NULL, true,
         "Generic webhooks, name: URL; each alert is posted as JSON, signed "
         "with HMAC-SHA256 when the webhook has a secret"},
        {"alerting.webhook_secret_files", RED_SETTING_MAP,
         OFF(alerting_webhook_secret_files),
         OFF(alerting_webhook_secret_file_cnt), NULL, 0, 0, NULL, false,
         "name: file holding the webhook's HMAC key (its first line); "
         "relative to this file's directory"},
        {"alerting.webhook_timeouts_ms", RED_SETTING_MAP,
         OFF(alerting_webhook_timeouts_ms), OFF(alerting_webhook_timeout_cnt),
         NULL, 0, 0, NULL, false,
         "name: milliseconds, a webhook's own request timeout (default "
         "alerting.timeout_ms)"},
        {"alerting.timeout_ms", RED_SETTING_INT, OFF(alerting_timeout_ms), 0,
         "5000", 100, 600000, NULL, false,
         "Timeout of one delivery request (connect and response)"},
        {"alerting.retry_max_ms", RED_SETTING_INT, OFF(alerting_retry_max_ms),
         0, "30000", 100, 3600000, NULL, false,
         "Longest back-off between delivery attempts to a failing "
         "destination"},
        {"alerting.resend_interval_s", RED_SETTING_INT,
         OFF(alerting_resend_interval_s), 0, "60", 5, 3600, NULL, false,
         "Firing window alerts are sent to Alertmanager again this often "
         "(it forgets alerts not sent for 4 intervals, and all on a "
         "restart)"},
        {"alerting.generator_url", RED_SETTING_STR, OFF(alerting_generator_url),
         0, "", 0, 0, NULL, false,
         "Base URL of the read API (reducerd serve) as alert receivers reach "
         "it: alerts link to their data there (generatorURL). Empty: no "
         "link"},
        {"registry.etcd.endpoints", RED_SETTING_LIST,
         OFF(registry_etcd_endpoints), 0, "", 0, 0, NULL, false,
         "etcd v3 client URLs (http://host:2379) of one cluster: reducerd "
         "run mirrors the node registry's healthy nodes there. Empty: no "
         "mirror"},
        {"registry.etcd.prefix", RED_SETTING_STR, OFF(registry_etcd_prefix), 0,
         "/reducerd/nodes/", 0, 0, NULL, false,
         "Key prefix of the mirror: one key per healthy node, prefix + "
         "node_id; every other key under it is removed"},
        {"registry.etcd.reconcile_interval_s", RED_SETTING_INT,
         OFF(registry_etcd_reconcile_interval_s), 0, "300", 1, 86400, NULL,
         false,
         "How often the whole prefix is read back from etcd and repaired "
         "in both directions (stray keys deleted, missing or changed ones "
         "written)"},
        {"registry.etcd.sync_interval_ms", RED_SETTING_INT,
         OFF(registry_etcd_sync_interval_ms), 0, "1000", 50, 3600000, NULL,
         false,
         "How often the registry's healthy nodes are read from PostgreSQL "
         "and their changes written to etcd"},
        {"registry.etcd.timeout_ms", RED_SETTING_INT,
         OFF(registry_etcd_timeout_ms), 0, "2000", 100, 600000, NULL, false,
         "Timeout of one etcd request (connect and answer)"},
        {"registry.etcd.lease_factor", RED_SETTING_INT,
         OFF(registry_etcd_lease_factor), 0, "3", 1, 100, NULL, false,
         "A node's key lives on a lease of this many times its health-check "
         "interval, kept alive by the mirror: keys expire when reducerd "
         "stops mirroring"},
};

#define SETTING_CNT (sizeof(settings) / sizeof(*settings))

/* Managed by reducerd itself; setting them would break exactly-once. */
static const char *const managed_props[] = {
        "bootstrap.servers", "metadata.broker.list", "group.id",
        "enable.auto.commit", "enable.auto.offset.store",
        /* kafka.offset_gap_policy decides instead */
        "auto.offset.reset", NULL};

const red_setting_t *red_config_settings(size_t *cntp)
{
        *cntp = SETTING_CNT;
        return settings;
}

#define FIELD(conf, s, type) ((type *)((char *)(conf) + (s)->offset))

static int errf(char *errstr, size_t size, const char *origin, const char *fmt,
                ...) RED_PRINTF(4, 5);

static int errf(char *errstr, size_t size, const char *origin, const char *fmt,
                ...)
{
        va_list ap;
        int n = snprintf(errstr, size, "%s: ", origin);

        va_start(ap, fmt);
        if (n >= 0 && (size_t)n < size) {
                vsnprintf(errstr + n, size - (size_t)n, fmt, ap);
        }
        va_end(ap);
        return -EINVAL;
}

static void allowed_text(const red_setting_t *s, char *buf, size_t size)
{
        size_t pos = 0;

        switch (s->type) {
        case RED_SETTING_INT:
                snprintf(buf, size, "%" PRId64 "..%" PRId64, s->min, s->max);
                break;
        case RED_SETTING_BOOL:
                snprintf(buf, size, "true, false");
                break;
        case RED_SETTING_ENUM:
                buf[0] = '\0';
                for (const char *const *a = s->allowed; *a && pos < size; a++) {
                        pos += (size_t)snprintf(buf + pos, size - pos, "%s%s",
                                                a == s->allowed ? "" : ", ",
                                                *a);
                }
                break;
        default:
                snprintf(buf, size, "a string");
                break;
        }
}

/* Sets a scalar-typed setting from text. */
static int set_scalar(red_config_t *conf, const red_setting_t *s,
                      const char *text, const char *origin, char *errstr,
                      size_t size)
{
        char allowed[256], *end;
        long long v;

        allowed_text(s, allowed, sizeof(allowed));
        switch (s->type) {
        case RED_SETTING_STR: {
                char **dst = FIELD(conf, s, char *);
                char *dup = strdup(text);
                if (!dup) {
                        return -ENOMEM;
                }
                free(*dst);
                *dst = dup;
                return 0;
        }
        case RED_SETTING_INT:
                errno = 0;
                v = strtoll(text, &end, 10);
                if (errno || *end || end == text) {
                        return errf(errstr, size, origin,
                                    "%s: \"%s\" is not an integer (allowed: "
                                    "%s)",
                                    s->name, text, allowed);
                }
                if (v < s->min || v > s->max) {
                        return errf(errstr, size, origin,
                                    "%s: %lld is out of range (allowed: %s)",
                                    s->name, v, allowed);
                }
                *FIELD(conf, s, int64_t) = v;
                return 0;
        case RED_SETTING_BOOL:
                if (strcmp(text, "true") && strcmp(text, "false")) {
                        return errf(errstr, size, origin,
                                    "%s: \"%s\" is not a boolean (allowed: "
                                    "%s)",
                                    s->name, text, allowed);
                }
                *FIELD(conf, s, bool) = !strcmp(text, "true");
                return 0;
        case RED_SETTING_ENUM:
                for (int i = 0; s->allowed[i]; i++) {
                        if (!strcmp(s->allowed[i], text)) {
                                if (s->offset == OFF(log_json)) {
                                        conf->log_json = i == 1;
                                } else {
                                        *FIELD(conf, s, int64_t) = i;
                                }
                                return 0;
                        }
                }
                return errf(errstr, size, origin,
                            "%s: \"%s\" is not valid (allowed: %s)", s->name,
                            text, allowed);
        default:
                return -EINVAL;
        }
}

static void strlist_clear(red_strlist_t *l)
{
        for (size_t i = 0; i < l->cnt; i++) {
                free(l->items[i]);
        }
        free(l->items);
        l->items = NULL;
        l->cnt = 0;
}

static int strlist_add(red_strlist_t *l, const char *s)
{
        char **items = realloc(l->items, (l->cnt + 1) * sizeof(*items));

        if (!items) {
                return -ENOMEM;
        }
        l->items = items;
        if (!(l->items[l->cnt] = strdup(s))) {
                return -ENOMEM;
        }
        l->cnt++;
        return 0;
}

/* A comma-separated list (defaults and environment). */
static int set_list_text(red_strlist_t *l, const char *text)
{
        char *copy = strdup(text), *save = NULL, *tok;
        int r = 0;

        if (!copy) {
                return -ENOMEM;
        }
        strlist_clear(l);
        for (tok = strtok_r(copy, ",", &save); tok && !r;
             tok = strtok_r(NULL, ",", &save)) {
                while (isspace((unsigned char)*tok)) {
                        tok++;
                }
                if (*tok) {
                        r = strlist_add(l, tok);
                }
        }
        free(copy);
        return r;
}

static void kv_free(red_kv_t *kv, size_t cnt)
{
        for (size_t i = 0; i < cnt; i++) {
                free(kv[i].key);
                free(kv[i].value);
                free(kv[i].origin);
        }
        free(kv);
}

/* Sets (or replaces) one map entry. */
static int kv_set(red_config_t *conf, const red_setting_t *s, const char *key,
                  const char *value, const char *origin)
{
        red_kv_t **arr = FIELD(conf, s, red_kv_t *);
        size_t *cnt = (size_t *)((char *)conf + s->cnt_offset);
        red_kv_t *kv = NULL;

        for (size_t i = 0; i < *cnt; i++) {
                if (!strcmp((*arr)[i].key, key)) {
                        kv = &(*arr)[i];
                        free(kv->value);
                        free(kv->origin);
                        break;
                }
        }
        if (!kv) {
                red_kv_t *n = realloc(*arr, (*cnt + 1) * sizeof(*n));
                if (!n) {
                        return -ENOMEM;
                }
                *arr = n;
                kv = &n[(*cnt)++];
                kv->key = strdup(key);
        }
        kv->value = strdup(value);
        kv->origin = strdup(origin);
        return kv->key && kv->value && kv->origin ? 0 : -ENOMEM;
}

static void node_origin(const red_yaml_node_t *n, const char *path, char *buf,
                        size_t size)
{
        snprintf(buf, size, "%s:%d:%d", path, red_yaml_line(n),
                 red_yaml_col(n));
}

static int set_from_node(red_config_t *conf, const red_setting_t *s,
                         const red_yaml_node_t *n, const char *path,
                         char *errstr, size_t size)
{
        char origin[PATH_MAX + 32], allowed[256];
        int r;

        node_origin(n, path, origin, sizeof(origin));
        switch (s->type) {
        case RED_SETTING_LIST: {
                red_strlist_t *l = FIELD(conf, s, red_strlist_t);
                const char *str;

                strlist_clear(l);
                if (red_yaml_kind(n) == RED_YAML_SCALAR &&
                    !red_yaml_is_null(n)) {
                        return strlist_add(l, red_yaml_str(n));
                }
                if (red_yaml_expect(n, RED_YAML_SEQ, s->name, errstr, size)) {
                        return -EINVAL;
                }
                for (size_t i = 0; i < red_yaml_size(n); i++) {
                        if (red_yaml_to_str(red_yaml_item(n, i), s->name, &str,
                                            errstr, size)) {
                                return -EINVAL;
                        }
                        if ((r = strlist_add(l, str))) {
                                return r;
                        }
                }
                return 0;
        }
        case RED_SETTING_MAP:
                if (red_yaml_is_null(n)) {
                        return 0;
                }
                if (red_yaml_expect(n, RED_YAML_MAP, s->name, errstr, size)) {
                        return -EINVAL;
                }
                for (size_t i = 0; i < red_yaml_size(n); i++) {
                        const red_yaml_node_t *v = red_yaml_value(n, i);
                        char what[300];

                        snprintf(what, sizeof(what), "%s.%s", s->name,
                                 red_yaml_str(red_yaml_key(n, i)));
                        if (red_yaml_kind(v) != RED_YAML_SCALAR ||
                            red_yaml_is_null(v)) {
                                return red_yaml_error(
                                        errstr, size, v,
                                        "%s: expected a value, got %s", what,
                                        red_yaml_is_null(v)
                                                ? "nothing"
                                                : red_yaml_kind_name(
                                                          red_yaml_kind(v)));
                        }
                        node_origin(red_yaml_key(n, i), path, origin,
                                    sizeof(origin));
                        if ((r = kv_set(conf, s,
                                        red_yaml_str(red_yaml_key(n, i)),
                                        red_yaml_str(v), origin))) {
                                return r;
                        }
                }
                return 0;
        default:
                if (red_yaml_kind(n) != RED_YAML_SCALAR ||
                    (red_yaml_is_null(n) && s->type != RED_SETTING_STR)) {
                        allowed_text(s, allowed, sizeof(allowed));
                        return red_yaml_error(
                                errstr, size, n,
                                "%s: expected %s, got %s (allowed: %s)",
                                s->name,
                                s->type == RED_SETTING_INT ? "an integer"
                                                           : "a value",
                                red_yaml_is_null(n)
                                        ? "nothing"
                                        : red_yaml_kind_name(red_yaml_kind(n)),
                                allowed);
                }
                return set_scalar(conf, s, red_yaml_str(n), origin, errstr,
                                  size);
        }
}

/* The section names ("kafka", ...) in table order, NULL-terminated. */
static size_t sections(const char **out, size_t max)
{
        size_t cnt = 0;

        for (size_t i = 0; i < SETTING_CNT; i++) {
                const char *dot = strchr(settings[i].name, '.');
                size_t len = (size_t)(dot - settings[i].name);
                bool seen = false;

                for (size_t j = 0; j < cnt; j++) {
                        seen |= !strncmp(out[j], settings[i].name, len) &&
                                out[j][len] == '.';
                }
                if (!seen && cnt + 1 < max) {
                        out[cnt++] = settings[i].name;
                }
        }
        out[cnt] = NULL;
        return cnt;
}

/* The setting that bounds file reads, from its row of the table. */
#define MAX_FILE_SETTING "config.max_file_bytes"

static const red_setting_t *setting_by_name(const char *name)
{
        for (size_t i = 0; i < SETTING_CNT; i++) {
                if (!strcmp(settings[i].name, name)) {
                        return &settings[i];
                }
        }
        return NULL;
}

static void env_name(const char *setting, char *buf, size_t size);

/* The limit for reading the config file itself: the environment's value
 * or the default, as the file's own cannot apply before it is read. */
static int early_max_file_bytes(red_config_t *conf, char *errstr, size_t size)
{
        const red_setting_t *s = setting_by_name(MAX_FILE_SETTING);
        char name[128], origin[160];
        const char *v;

        env_name(s->name, name, sizeof(name));
        if (!(v = getenv(name))) {
                return 0;
        }
        snprintf(origin, sizeof(origin), "environment %s", name);
        return set_scalar(conf, s, v, origin, errstr, size);
}

/*
 * The keys of the section whose settings start with @p prefix
 * ("registry." or "registry.etcd."): a key is a setting, or a section
 * nested in it when settings go on past its name (registry: etcd: ...).
 */
static int load_section(red_config_t *conf, const red_yaml_node_t *body,
                        const char *prefix, const char *path, char *errstr,
                        size_t size)
{
        const char *keys[SETTING_CNT + 1];
        char names[SETTING_CNT][64], what[128];
        size_t nkeys = 0, plen = strlen(prefix);
        int r = 0;

        if (red_yaml_is_null(body)) {
                return 0;
        }
        for (size_t j = 0; j < SETTING_CNT; j++) {
                const char *rest;
                size_t len;
                bool seen = false;

                /* (a shorter name differs within its length: no read
                 * past it) */
                if (strncmp(settings[j].name, prefix, plen)) {
                        continue;
                }
                rest = settings[j].name + plen;
                len = strcspn(rest, ".");
                for (size_t k = 0; k < nkeys; k++) {
                        seen |= strlen(keys[k]) == len &&
                                !strncmp(keys[k], rest, len);
                }
                if (!seen) {
                        snprintf(names[nkeys], sizeof(names[nkeys]), "%.*s",
                                 (int)len, rest);
                        keys[nkeys] = names[nkeys];
                        nkeys++;
                }
        }
        keys[nkeys] = NULL;
        snprintf(what, sizeof(what), "%.*s", (int)plen - 1, prefix);
        if ((r = red_yaml_check_keys(body, what, keys, errstr, size))) {
                return r;
        }
        for (size_t k = 0; k < red_yaml_size(body) && !r; k++) {
                const char *key = red_yaml_str(red_yaml_key(body, k));
                const red_setting_t *s = NULL;
                char full[128];

                snprintf(full, sizeof(full), "%s%s", prefix, key);
                s = setting_by_name(full);
                if (s) {
                        r = set_from_node(conf, s, red_yaml_value(body, k),
                                          path, errstr, size);
                } else {
                        snprintf(full, sizeof(full), "%s%s.", prefix, key);
                        r = load_section(conf, red_yaml_value(body, k), full,
                                         path, errstr, size);
                }
        }
        return r;
}

static int load_file(red_config_t *conf, const char *path, char *errstr,
                     size_t size)
{
        const char *secs[32], *names[32];
        char secbuf[32][64];
        red_yaml_doc_t *doc;
        const red_yaml_node_t *root;
        size_t nsec;
        int r = 0;

        doc = red_yaml_load_file_max(path, (size_t)conf->config_max_file_bytes,
                                     MAX_FILE_SETTING, errstr, size);
        if (!doc) {
                return -EINVAL;
        }
        root = red_yaml_doc_root(doc);
        if (!root || red_yaml_is_null(root)) {
                goto done; /* an empty file means all defaults */
        }
        nsec = sections(secs, 32);
        for (size_t i = 0; i < nsec; i++) {
                size_t len = (size_t)(strchr(secs[i], '.') - secs[i]);
                snprintf(secbuf[i], sizeof(secbuf[i]), "%.*s", (int)len,
                         secs[i]);
                names[i] = secbuf[i];
        }
        names[nsec] = NULL;
        if ((r = red_yaml_check_keys(root, "the configuration", names, errstr,
                                     size))) {
                goto done;
        }
        for (size_t i = 0; i < red_yaml_size(root) && !r; i++) {
                char prefix[128];

                snprintf(prefix, sizeof(prefix), "%s.",
                         red_yaml_str(red_yaml_key(root, i)));
                r = load_section(conf, red_yaml_value(root, i), prefix, path,
                                 errstr, size);
        }
done:
        red_yaml_doc_destroy(doc);
        return r;
}

/* REDUCERD_SECTION_KEY for "section.key". */
static void env_name(const char *setting, char *buf, size_t size)
{
        size_t pos = (size_t)snprintf(buf, size, "REDUCERD_");

        for (const char *p = setting; *p && pos + 1 < size; p++) {
                buf[pos++] = *p == '.' ? '_' : (char)toupper((unsigned char)*p);
        }
        buf[pos] = '\0';
}

static size_t map_index(const char *name)
{
        size_t i = 0;

        while (i + 1 < SETTING_CNT && strcmp(settings[i].name, name)) {
                i++;
        }
        return i;
}

/* The other maps: REDUCERD_<SECTION>_<KEY>_<NAME>=value sets entry
 * "name" (lowercased), e.g. REDUCERD_ALERTING_WEBHOOKS_ONCALL. */
static int load_env_maps(red_config_t *conf)
{
        extern char **environ;
        char prefix[128], key[128], origin[160];
        int r;

        for (size_t i = 0; i < SETTING_CNT; i++) {
                const red_setting_t *s = &settings[i];
                size_t plen;

                if (s->type != RED_SETTING_MAP ||
                    !strcmp(s->name, "kafka.properties")) {
                        continue;
                }
                env_name(s->name, prefix, sizeof(prefix) - 1);
                strcat(prefix, "_");
                plen = strlen(prefix);
                for (char **e = environ; *e; e++) {
                        const char *eq = strchr(*e, '=');
                        size_t len;

                        if (!eq || strncmp(*e, prefix, plen) ||
                            (len = (size_t)(eq - *e) - plen) == 0 ||
                            len >= sizeof(key)) {
                                continue;
                        }
                        for (size_t k = 0; k < len; k++) {
                                key[k] = (char)tolower(
                                        (unsigned char)(*e)[plen + k]);
                        }
                        key[len] = '\0';
                        snprintf(origin, sizeof(origin), "environment %.*s",
                                 (int)(eq - *e), *e);
                        if ((r = kv_set(conf, s, key, eq + 1, origin))) {
                                return r;
                        }
                }
        }
        return 0;
}

static int load_env(red_config_t *conf, char *errstr, size_t size)
{
        static const char prop_prefix[] = "REDUCERD_KAFKA_PROPERTY_";
        extern char **environ;
        char name[128], origin[160];
        int r;

        for (size_t i = 0; i < SETTING_CNT; i++) {
                const red_setting_t *s = &settings[i];
                const char *v;

                if (s->type == RED_SETTING_MAP) {
                        continue;
                }
                env_name(s->name, name, sizeof(name));
                if (!(v = getenv(name))) {
                        continue;
                }
                snprintf(origin, sizeof(origin), "environment %s", name);
                if (s->type == RED_SETTING_LIST) {
                        r = set_list_text(FIELD(conf, s, red_strlist_t), v);
                } else {
                        r = set_scalar(conf, s, v, origin, errstr, size);
                }
                if (r) {
                        return r;
                }
        }
        for (char **e = environ; *e; e++) {
                const char *eq = strchr(*e, '=');
                char prop[128];
                size_t len;

                if (!eq || strncmp(*e, prop_prefix, sizeof(prop_prefix) - 1)) {
                        continue;
                }
                len = (size_t)(eq - *e) - (sizeof(prop_prefix) - 1);
                if (len == 0 || len >= sizeof(prop)) {
                        continue;
                }
                for (size_t i = 0; i < len; i++) {
                        char c = (*e)[sizeof(prop_prefix) - 1 + i];
                        prop[i] = c == '_' ? '.'
                                           : (char)tolower((unsigned char)c);
                }
                prop[len] = '\0';
                snprintf(origin, sizeof(origin), "environment %.*s",
                         (int)(eq - *e), *e);
                if ((r = kv_set(conf, &settings[map_index("kafka.properties")],
                                prop, eq + 1, origin))) {
                        return r;
                }
        }
        return load_env_maps(conf);
}

/* URLs are http(s); the per-webhook maps name webhooks; timeouts are
 * numbers of milliseconds. */
static int alerting_check(red_config_t *conf, char *errstr, size_t size)
{
        const red_strlist_t *am = &conf->alerting_alertmanager_urls;

        for (size_t i = 0; i < am->cnt; i++) {
                if (strncmp(am->items[i], "http://", 7) &&
                    strncmp(am->items[i], "https://", 8)) {
                        return errf(errstr, size,
                                    conf->path ? conf->path : "config",
                                    "alerting.alertmanager_urls: \"%s\" is "
                                    "not a URL (allowed: http://host:port, "
                                    "https://...)",
                                    am->items[i]);
                }
        }
        for (size_t i = 0; i < conf->alerting_webhook_cnt; i++) {
                const red_kv_t *kv = &conf->alerting_webhooks[i];

                /* the URL may hold a token: not quoted */
                if (strncmp(kv->value, "http://", 7) &&
                    strncmp(kv->value, "https://", 8)) {
                        return errf(errstr, size, kv->origin,
                                    "alerting.webhooks.%s is not a URL "
                                    "(allowed: http://..., https://...)",
                                    kv->key);
                }
        }
        for (int m = 0; m < 2; m++) {
                const red_kv_t *kvs = m ? conf->alerting_webhook_timeouts_ms
                                        : conf->alerting_webhook_secret_files;
                size_t cnt = m ? conf->alerting_webhook_timeout_cnt
                               : conf->alerting_webhook_secret_file_cnt;

                for (size_t i = 0; i < cnt; i++) {
                        bool known = false;
                        char *end;
                        long long v;

                        for (size_t w = 0; w < conf->alerting_webhook_cnt;
                             w++) {
                                known |= !strcmp(conf->alerting_webhooks[w].key,
                                                 kvs[i].key);
                        }
                        if (!known) {
                                return errf(errstr, size, kvs[i].origin,
                                            "alerting.%s.%s: no webhook is "
                                            "named \"%s\" (alerting.webhooks)",
                                            m ? "webhook_timeouts_ms"
                                              : "webhook_secret_files",
                                            kvs[i].key, kvs[i].key);
                        }
                        if (!m) {
                                continue;
                        }
                        v = strtoll(kvs[i].value, &end, 10);
                        if (*end || end == kvs[i].value || v < 100 ||
                            v > 600000) {
                                return errf(errstr, size, kvs[i].origin,
                                            "alerting.webhook_timeouts_ms.%s: "
                                            "\"%s\" is out of range "
                                            "(allowed: 100..600000)",
                                            kvs[i].key, kvs[i].value);
                        }
                }
        }
        return 0;
}

bool red_config_alert_delivery(const red_config_t *conf)
{
        return conf->alerting_alertmanager_urls.cnt ||
               conf->alerting_webhook_cnt;
}

/* Cross-setting rules. The values of kafka.properties are checked by the
 * Kafka layer (red_kafka_conf_check), which owns librdkafka. */
static int finalize(red_config_t *conf, char *errstr, size_t size)
{
        int r;

        for (size_t i = 0; i < conf->kafka_property_cnt; i++) {
                const red_kv_t *kv = &conf->kafka_properties[i];

                for (const char *const *m = managed_props; *m; m++) {
                        if (!strcmp(kv->key, *m)) {
                                return errf(errstr, size, kv->origin,
                                            "kafka.properties: \"%s\" is set "
                                            "by reducerd itself (use "
                                            "kafka.brokers, the contract's "
                                            "consumer_group or "
                                            "kafka.offset_gap_policy)",
                                            kv->key);
                        }
                }
        }
        if (!*conf->kafka_brokers) {
                return errf(errstr, size, conf->path ? conf->path : "config",
                            "kafka.brokers is empty (allowed: host:port,... or "
                            "embedded)");
        }
        if (*conf->http_listen && !strrchr(conf->http_listen, ':')) {
                return errf(errstr, size, conf->path ? conf->path : "config",
                            "http.listen: \"%s\" has no port (allowed: "
                            "host:port, or empty to disable)",
                            conf->http_listen);
        }
        if (!*conf->api_listen || !strrchr(conf->api_listen, ':')) {
                return errf(errstr, size, conf->path ? conf->path : "config",
                            "api.listen: \"%s\" has no port (allowed: "
                            "host:port)",
                            conf->api_listen);
        }
        if (!*conf->api_tls_cert != !*conf->api_tls_key) {
                return errf(errstr, size, conf->path ? conf->path : "config",
                            "api.tls_cert and api.tls_key go together (both "
                            "set: HTTPS; both empty: HTTP)");
        }
        if (!conf->contracts_paths.cnt) {
                return errf(errstr, size, conf->path ? conf->path : "config",
                            "contracts.paths is empty (allowed: one or more "
                            "files or directories)");
        }
        if ((r = alerting_check(conf, errstr, size))) {
                return r;
        }
        for (size_t i = 0; i < conf->registry_etcd_endpoints.cnt; i++) {
                const char *u = conf->registry_etcd_endpoints.items[i];
                if (strncmp(u, "http://", 7) && strncmp(u, "https://", 8)) {
                        return errf(errstr, size,
                                    conf->path ? conf->path : "config",
                                    "registry.etcd.endpoints: \"%s\" is not "
                                    "a URL (allowed: http://host:2379, "
                                    "https://...)",
                                    u);
                }
        }
        /* every key under the prefix belongs to the mirror (strays are
         * deleted): without the closing slash "/a/nodes" would also own
         * "/a/nodes-of-someone-else/..." */
        {
                const char *p = conf->registry_etcd_prefix;
                size_t len = strlen(p);

                if (len < 2 || p[0] != '/' || p[len - 1] != '/') {
                        return errf(errstr, size,
                                    conf->path ? conf->path : "config",
                                    "registry.etcd.prefix: \"%s\" must "
                                    "start and end with / (e.g. "
                                    "/reducerd/nodes/): the mirror owns "
                                    "every key under it",
                                    p);
                }
        }
        if (!*conf->instance_id) {
                char host[256] = "reducerd";
                free(conf->instance_id);
                gethostname(host, sizeof(host) - 1);
                host[sizeof(host) - 1] = '\0';
                if (asprintf(&conf->instance_id, "%s-%d", host, (int)getpid()) <
                    0) {
                        conf->instance_id = NULL;
                        return -ENOMEM;
                }
        }
        return 0;
}

red_config_t *red_config_load(const char *path, char *errstr,
                              size_t errstr_size)
{
        red_config_t *conf = calloc(1, sizeof(*conf));
        int r = 0;

        if (!conf) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        for (size_t i = 0; i < SETTING_CNT && !r; i++) {
                const red_setting_t *s = &settings[i];

                if (!s->def) {
                        continue;
                }
                if (s->type == RED_SETTING_LIST) {
                        r = set_list_text(FIELD(conf, s, red_strlist_t),
                                          s->def);
                } else {
                        r = set_scalar(conf, s, s->def, "default", errstr,
                                       errstr_size);
                }
        }
        if (!r && path) {
                const char *slash = strrchr(path, '/');
                conf->path = strdup(path);
                conf->base_dir = slash ? strndup(path, (size_t)(slash - path))
                                       : strdup(".");
                if (!conf->path || !conf->base_dir) {
                        r = -ENOMEM;
                } else if (!(r = early_max_file_bytes(conf, errstr,
                                                      errstr_size))) {
                        r = load_file(conf, path, errstr, errstr_size);
                }
        } else if (!r) {
                conf->base_dir = strdup(".");
        }
        if (!r) {
                r = load_env(conf, errstr, errstr_size);
        }
        if (!r) {
                r = finalize(conf, errstr, errstr_size);
        }
        if (r == -ENOMEM) {
                snprintf(errstr, errstr_size, "out of memory");
        }
        if (r) {
                red_config_destroy(conf);
                return NULL;
        }
        red_yaml_set_max_file_bytes((size_t)conf->config_max_file_bytes,
                                    MAX_FILE_SETTING);
        return conf;
}

void red_config_destroy(red_config_t *conf)
{
        if (!conf) {
                return;
        }
        for (size_t i = 0; i < SETTING_CNT; i++) {
                const red_setting_t *s = &settings[i];

                switch (s->type) {
                case RED_SETTING_STR:
                        free(*FIELD(conf, s, char *));
                        break;
                case RED_SETTING_LIST:
                        strlist_clear(FIELD(conf, s, red_strlist_t));
                        break;
                case RED_SETTING_MAP:
                        kv_free(*FIELD(conf, s, red_kv_t *),
                                *(size_t *)((char *)conf + s->cnt_offset));
                        break;
                default:
                        break;
                }
        }
        free(conf->path);
        free(conf->base_dir);
        free(conf);
}

char *red_config_path(const red_config_t *conf, const char *rel)
{
        char *out;

        if (rel[0] == '/' || !strcmp(conf->base_dir, ".")) {
                return strdup(rel);
        }
        if (asprintf(&out, "%s/%s", conf->base_dir, rel) < 0) {
                return NULL;
        }
        return out;
}

bool red_config_kafka_embedded(const red_config_t *conf)
{
        return !strcmp(conf->kafka_brokers, "embedded");
}
