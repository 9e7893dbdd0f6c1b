/*
 * red_config - the service settings: a declarative table (name, type,
 * default, range, description) read by one generic loader from
 * config/reducerd.yaml, then overridden from the environment.
 *
 * Every setting "section.key" can be overridden by REDUCERD_SECTION_KEY;
 * librdkafka properties by REDUCERD_KAFKA_PROPERTY_<NAME> (underscores
 * become dots: REDUCERD_KAFKA_PROPERTY_SASL_PASSWORD -> sasl.password).
 * libpq's PG* variables apply unchanged to whatever postgres.conninfo
 * leaves unset.
 *
 * red_config_t is a plain record read directly by the modules; it is
 * created and destroyed only here.
 */
#ifndef RED_CONFIG_H
#define RED_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct red_kv_s {
        char *key;
        char *value;
        char *origin; /**< "file:line:col" or "environment NAME" */
} red_kv_t;

typedef struct red_strlist_s {
        char **items;
        size_t cnt;
} red_strlist_t;

typedef struct red_config_s {
        char *path;     /**< the file loaded, or NULL for embedded defaults */
        char *base_dir; /**< relative paths in the file resolve against it */

        char *kafka_brokers;
        int64_t kafka_embedded_partitions;
        int64_t kafka_embedded_brokers;
        int64_t kafka_offset_gap_policy; /**< red_gap_policy_t */
        red_kv_t *kafka_properties;
        size_t kafka_property_cnt;

        char *postgres_conninfo;
        int64_t postgres_retry_max_ms;

        red_strlist_t contracts_paths;

        int64_t batch_max_events;
        int64_t batch_max_ms;
        int64_t batch_max_bytes;

        int64_t workflows_max_live;
        int64_t workflows_terminal_ttl_s;

        char *http_listen;
        bool http_api;

        char *api_listen;
        int64_t api_threads;
        int64_t api_max_connections;
        int64_t api_timeout_s;
        int64_t api_statement_timeout_ms;
        int64_t api_max_rows;
        int64_t api_max_export_rows;
        int64_t api_pg_connections;
        char *api_token;
        char *api_tls_cert;
        char *api_tls_key;

        int64_t log_level; /**< red_log_level_t */
        bool log_json;

        int64_t maintain_interval_s;
        int64_t maintain_days_ahead;

        char *instance_id;

        int64_t config_max_file_bytes;
        red_strlist_t alerting_alertmanager_urls;
        red_kv_t *alerting_webhooks; /**< name -> URL */
        size_t alerting_webhook_cnt;
        red_kv_t *alerting_webhook_secret_files; /**< name -> file */
        size_t alerting_webhook_secret_file_cnt;
        red_kv_t *alerting_webhook_timeouts_ms; /**< name -> ms */
        size_t alerting_webhook_timeout_cnt;
        int64_t alerting_timeout_ms;
        int64_t alerting_retry_max_ms;
        int64_t alerting_resend_interval_s;
        char *alerting_generator_url;

        red_strlist_t registry_etcd_endpoints;
        char *registry_etcd_prefix;
        int64_t registry_etcd_reconcile_interval_s;
        int64_t registry_etcd_sync_interval_ms;
        int64_t registry_etcd_timeout_ms;
        int64_t registry_etcd_lease_factor;
} red_config_t;

/** What a pipeline does with a partition whose stored offset no longer
 * fits the broker's log (kafka.offset_gap_policy). */
typedef enum {
        RED_GAP_POLICY_FAIL,  /**< stop that partition, readyz false */
        RED_GAP_POLICY_RESET, /**< go on from the log's start, counted */
} red_gap_policy_t;

typedef enum {
        RED_SETTING_STR,
        RED_SETTING_INT,
        RED_SETTING_BOOL,
        RED_SETTING_ENUM, /**< stored as int64 index into allowed */
        RED_SETTING_LIST, /**< red_strlist_t */
        RED_SETTING_MAP,  /**< red_kv_t array + count */
} red_setting_type_t;

/** One row of the settings table (read-only, for docs and tests). */
typedef struct red_setting_s {
        const char *name;
        red_setting_type_t type;
        size_t offset;
        size_t cnt_offset; /**< MAP: offset of the size_t count */
        const char *def;   /**< default as YAML scalar text; NULL = none */
        int64_t min, max;
        const char *const *allowed; /**< ENUM values, NULL-terminated */
        bool secret;                /**< never printed */
        const char *description;
} red_setting_t;

/** The settings table and its length. */
const red_setting_t *red_config_settings(size_t *cntp);

/**
 * Loads @p path (NULL: embedded defaults only), applies environment
 * overrides and checks everything. Returns NULL and fills @p errstr with
 * "path:line:col: problem (allowed: ...)" on error.
 *
 * The file itself is read only when it is a regular file of at most
 * config.max_file_bytes as set by the environment or the default (its
 * own value cannot apply before it is read). On success the loaded
 * config.max_file_bytes becomes the limit of every later YAML file read
 * in the process (red_yaml_set_max_file_bytes): the contracts.
 * Caller destroys with red_config_destroy().
 */
red_config_t *red_config_load(const char *path, char *errstr,
                              size_t errstr_size);

/** Frees the config; accepts NULL. */
void red_config_destroy(red_config_t *conf);

/**
 * Resolves @p rel against the config's base_dir (absolute paths are kept).
 * Returns a malloc'd string the caller frees.
 */
char *red_config_path(const red_config_t *conf, const char *rel);

/** True when alerts have somewhere to go (Alertmanager or a webhook). */
bool red_config_alert_delivery(const red_config_t *conf);

/** True when kafka.brokers is "embedded" (librdkafka's mock cluster). */
bool red_config_kafka_embedded(const red_config_t *conf);

#endif
