/* Tests for red_config: defaults, overrides, every invalid example, docs. */
#include "red_config.h"
#include "red_test.h"
#include "red_yaml.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

START_TEST(defaults_without_file)
{
        char err[1024];
        red_config_t *c = red_config_load(NULL, err, sizeof(err));

        ck_assert_msg(c != NULL, "%s", err);
        ck_assert_str_eq(c->kafka_brokers, "embedded");
        ck_assert(red_config_kafka_embedded(c));
        ck_assert_int_eq(c->batch_max_events, 20000);
        ck_assert_int_eq(c->batch_max_ms, 500);
        ck_assert_int_eq(c->contracts_paths.cnt, 1);
        ck_assert_str_eq(c->contracts_paths.items[0], "contracts");
        ck_assert_str_eq(c->http_listen, "127.0.0.1:9464");
        ck_assert(!c->log_json);
        ck_assert_ptr_nonnull(strchr(c->instance_id, '-'));
        red_config_destroy(c);
}
END_TEST

START_TEST(example_file_loads)
{
        char err[1024];
        red_config_t *c = red_config_load(test_path("config/reducerd.yaml"),
                                          err, sizeof(err));
        char *p;

        ck_assert_msg(c != NULL, "%s", err);
        ck_assert_int_eq(c->kafka_property_cnt, 2);
        ck_assert_str_eq(c->kafka_properties[0].key,
                         "partition.assignment.strategy");
        p = red_config_path(c, c->contracts_paths.items[0]);
        ck_assert_str_eq(p, test_path("config/../contracts"));
        free(p);
        red_config_destroy(c);
}
END_TEST

START_TEST(environment_overrides)
{
        char err[1024];
        red_config_t *c;

        setenv("REDUCERD_BATCH_MAX_EVENTS", "77", 1);
        setenv("REDUCERD_KAFKA_BROKERS", "10.0.0.1:9092", 1);
        setenv("REDUCERD_KAFKA_PROPERTY_SASL_USERNAME", "svc", 1);
        setenv("REDUCERD_CONTRACTS_PATHS", "a.yaml, b.yaml", 1);
        setenv("REDUCERD_LOG_FORMAT", "json", 1);
        c = red_config_load(test_path("config/reducerd.yaml"), err,
                            sizeof(err));
        ck_assert_msg(c != NULL, "%s", err);
        ck_assert_int_eq(c->batch_max_events, 77);
        ck_assert_str_eq(c->kafka_brokers, "10.0.0.1:9092");
        ck_assert(!red_config_kafka_embedded(c));
        ck_assert(c->log_json);
        ck_assert_int_eq(c->contracts_paths.cnt, 2);
        ck_assert_str_eq(c->contracts_paths.items[1], "b.yaml");
        ck_assert_int_eq(c->kafka_property_cnt, 3);
        ck_assert_str_eq(c->kafka_properties[2].key, "sasl.username");
        ck_assert_str_eq(c->kafka_properties[2].value, "svc");
        /* Kafka properties stay in kafka.properties */
        ck_assert_int_eq(c->alerting_webhook_cnt, 0);
        ck_assert(!red_config_alert_delivery(c));
        red_config_destroy(c);

        /* a webhook (its URL may hold a token) and its timeout from the
         * environment */
        setenv("REDUCERD_ALERTING_WEBHOOKS_ONCALL",
               "https://hooks.example/T0/secret", 1);
        setenv("REDUCERD_ALERTING_WEBHOOK_TIMEOUTS_MS_ONCALL", "1500", 1);
        setenv("REDUCERD_ALERTING_ALERTMANAGER_URLS",
               "http://am-0:9093, http://am-1:9093", 1);
        c = red_config_load(test_path("config/reducerd.yaml"), err,
                            sizeof(err));
        ck_assert_msg(c != NULL, "%s", err);
        ck_assert_int_eq(c->alerting_webhook_cnt, 1);
        ck_assert_str_eq(c->alerting_webhooks[0].key, "oncall");
        ck_assert_str_eq(c->alerting_webhooks[0].value,
                         "https://hooks.example/T0/secret");
        ck_assert_str_eq(c->alerting_webhook_timeouts_ms[0].value, "1500");
        ck_assert_int_eq(c->alerting_alertmanager_urls.cnt, 2);
        ck_assert_str_eq(c->alerting_alertmanager_urls.items[1],
                         "http://am-1:9093");
        ck_assert(red_config_alert_delivery(c));
        red_config_destroy(c);
        /* a timeout for a webhook nobody configured */
        unsetenv("REDUCERD_ALERTING_WEBHOOKS_ONCALL");
        c = red_config_load(NULL, err, sizeof(err));
        ck_assert_ptr_null(c);
        ck_assert_str_eq(err, "environment "
                              "REDUCERD_ALERTING_WEBHOOK_TIMEOUTS_MS_ONCALL: "
                              "alerting.webhook_timeouts_ms.oncall: no "
                              "webhook is named \"oncall\" "
                              "(alerting.webhooks)");
        unsetenv("REDUCERD_ALERTING_WEBHOOK_TIMEOUTS_MS_ONCALL");
        unsetenv("REDUCERD_ALERTING_ALERTMANAGER_URLS");

        setenv("REDUCERD_BATCH_MAX_EVENTS", "lots", 1);
        c = red_config_load(NULL, err, sizeof(err));
        ck_assert_ptr_null(c);
        ck_assert_str_eq(err, "environment REDUCERD_BATCH_MAX_EVENTS: "
                              "batch.max_events: \"lots\" is not an integer "
                              "(allowed: 1..1000000)");
        unsetenv("REDUCERD_BATCH_MAX_EVENTS");
        unsetenv("REDUCERD_KAFKA_BROKERS");
        unsetenv("REDUCERD_KAFKA_PROPERTY_SASL_USERNAME");
        unsetenv("REDUCERD_CONTRACTS_PATHS");
        unsetenv("REDUCERD_LOG_FORMAT");
}
END_TEST

/* A nested section (registry: etcd: ...): its keys load, unknown keys are
 * refused where they are, the environment reaches them, values are
 * checked. */
START_TEST(nested_section)
{
        char err[1024], *dir = test_tmpdir(), path[4200];
        red_config_t *c;
        const char *good = "registry:\n  etcd:\n    endpoints: "
                           "[\"http://127.0.0.1:2379\", "
                           "\"http://127.0.0.1:22379\"]\n    "
                           "reconcile_interval_s: 7\n";
        const char *typo = "registry:\n  etcd:\n    endpoint: x\n";
        const char *bad =
                "registry:\n  etcd:\n    endpoints: [\"etcd:2379\"]\n";

        c = red_config_load(NULL, err, sizeof(err));
        ck_assert_msg(c != NULL, "%s", err);
        ck_assert_int_eq(c->registry_etcd_endpoints.cnt, 0);
        ck_assert_str_eq(c->registry_etcd_prefix, "/reducerd/nodes/");
        ck_assert_int_eq(c->registry_etcd_reconcile_interval_s, 300);
        ck_assert_int_eq(c->registry_etcd_lease_factor, 3);
        red_config_destroy(c);

        snprintf(path, sizeof(path), "%s/reducerd.yaml", dir);
        test_write_file(path, good, strlen(good));
        setenv("REDUCERD_REGISTRY_ETCD_PREFIX", "/x/", 1);
        c = red_config_load(path, err, sizeof(err));
        unsetenv("REDUCERD_REGISTRY_ETCD_PREFIX");
        ck_assert_msg(c != NULL, "%s", err);
        ck_assert_int_eq(c->registry_etcd_endpoints.cnt, 2);
        ck_assert_str_eq(c->registry_etcd_endpoints.items[1],
                         "http://127.0.0.1:22379");
        ck_assert_int_eq(c->registry_etcd_reconcile_interval_s, 7);
        ck_assert_str_eq(c->registry_etcd_prefix, "/x/");
        red_config_destroy(c);

        test_write_file(path, typo, strlen(typo));
        ck_assert_ptr_null(red_config_load(path, err, sizeof(err)));
        ck_assert_msg(strstr(err, ":3:5: ") && strstr(err, "endpoint") &&
                              strstr(err, "reconcile_interval_s"),
                      "%s", err);

        test_write_file(path, bad, strlen(bad));
        ck_assert_ptr_null(red_config_load(path, err, sizeof(err)));
        ck_assert_msg(strstr(err, "registry.etcd.endpoints: \"etcd:2379\" is "
                                  "not a URL"),
                      "%s", err);
        setenv("REDUCERD_REGISTRY_ETCD_PREFIX", "/reducerd/nodes", 1);
        ck_assert_ptr_null(red_config_load(NULL, err, sizeof(err)));
        unsetenv("REDUCERD_REGISTRY_ETCD_PREFIX");
        ck_assert_msg(strstr(err, "registry.etcd.prefix: \"/reducerd/nodes\" "
                                  "must start and end with /"),
                      "%s", err);
        unlink(path);
        rmdir(dir);
        free(dir);
}
END_TEST

/* `reducerd check -c` on every invalid example prints exactly the message
 * on its first line ("# expect: LINE:COL: ...") and exits non-zero. */
START_TEST(check_rejects_invalid_examples)
{
        const char *dir = test_path("tests/data/config/invalid");
        DIR *d = opendir(dir);
        struct dirent *de;
        int seen = 0;

        ck_assert_ptr_nonnull(d);
        while ((de = readdir(d))) {
                char path[4096], want[8192], *text, *out, *err, *nl;
                const char *argv[] = {test_bin(), "check", "-c", path, NULL};
                int rc;

                if (!strstr(de->d_name, ".yaml")) {
                        continue;
                }
                snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
                text = test_read_file(path, NULL);
                ck_assert_msg(!strncmp(text, "# expect: ", 10),
                              "%s lacks an expect line", path);
                nl = strchr(text, '\n');
                *nl = '\0';
                snprintf(want, sizeof(want), "%s:%s\n", path, text + 10);
                rc = test_run(argv, NULL, &out, &err);
                ck_assert_msg(rc == 1, "%s: exit %d", de->d_name, rc);
                ck_assert_str_eq(err, want);
                free(text);
                free(out);
                free(err);
                seen++;
        }
        closedir(d);
        ck_assert_int_ge(seen, 12);
}
END_TEST

START_TEST(check_accepts_example)
{
        const char *argv[] = {test_bin(), "check", "-c",
                              test_path("config/reducerd.yaml"), NULL};
        char *out, *err;
        int rc = test_run(argv, NULL, &out, &err);

        ck_assert_msg(rc == 0, "exit %d: %s", rc, err);
        ck_assert_ptr_nonnull(strstr(out, "config/reducerd.yaml: ok"));
        ck_assert_ptr_nonnull(strstr(out, "codegen_metrics.yaml: ok"));
        free(out);
        free(err);
}
END_TEST

/* Every setting of the table appears in config/reducerd.yaml and in the
 * README's configuration reference, and the file has no other keys. */
START_TEST(settings_documented)
{
        char err[1024];
        size_t cnt;
        const red_setting_t *s = red_config_settings(&cnt);
        red_yaml_doc_t *doc = red_yaml_load_file(
                test_path("config/reducerd.yaml"), err, sizeof(err));
        char *readme = test_read_file(test_path("README.md"), NULL);

        ck_assert_msg(doc != NULL, "%s", err);
        for (size_t i = 0; i < cnt; i++) {
                char sec[64], pat[128];
                const char *p = s[i].name, *dot;
                const red_yaml_node_t *n = red_yaml_doc_root(doc);

                /* nested sections: registry.etcd.endpoints */
                while (n && (dot = strchr(p, '.'))) {
                        snprintf(sec, sizeof(sec), "%.*s", (int)(dot - p), p);
                        n = red_yaml_get(n, sec);
                        p = dot + 1;
                }
                ck_assert_msg(n && red_yaml_get(n, p),
                              "%s is missing from config/reducerd.yaml",
                              s[i].name);
                snprintf(pat, sizeof(pat), "`%s`", s[i].name);
                ck_assert_msg(strstr(readme, pat),
                              "%s is missing from the README's "
                              "configuration reference",
                              s[i].name);
        }
        free(readme);
        red_yaml_doc_destroy(doc);
}
END_TEST

/* `reducerd check -c` on what is not a regular file answers at once: a
 * FIFO used to block for ever, /dev/zero to grow by ~300 MB/s (run under
 * a 1 GB address-space limit so that a regression fails, not the host). */
/* Built with -Db_sanitize (RED_SANITIZE from meson, "none" otherwise). */
static bool sanitized(void)
{
        const char *s = getenv("RED_SANITIZE");

        return s && *s && strcmp(s, "none");
}

START_TEST(check_refuses_special_files)
{
        char *dir = test_tmpdir(), fifo[4096], want[4200], *out, *err;
        const char *argv[] = {test_bin(), "check", "-c", fifo, NULL};
        char sh[4200];
        const char *zero[] = {"/bin/sh", "-c", sh, NULL};

        snprintf(fifo, sizeof(fifo), "%s/reducerd.yaml", dir);
        ck_assert_int_eq(mkfifo(fifo, 0600), 0);
        ck_assert_int_eq(test_run(argv, NULL, &out, &err), 1);
        snprintf(want, sizeof(want), "%s: not a regular file (a FIFO)\n", fifo);
        ck_assert_str_eq(err, want);
        free(out);
        free(err);
        /* the memory cap shows a read that never ends; a sanitizer build
         * reserves terabytes of shadow memory and cannot start under it */
        snprintf(sh, sizeof(sh), "%s exec '%s' check -c /dev/zero",
                 sanitized() ? "" : "ulimit -v 1000000;", test_bin());
        ck_assert_int_eq(test_run(zero, NULL, &out, &err), 1);
        ck_assert_str_eq(err, "/dev/zero: not a regular file (a character "
                              "device)\n");
        free(out);
        free(err);
        unlink(fifo);
        rmdir(dir);
        free(dir);
}
END_TEST

/* config.max_file_bytes bounds the contracts the config names, and a
 * contract path that is not a regular file is refused like the config. */
START_TEST(contract_files_bounded)
{
        char *dir = test_tmpdir(), conf[4096], yaml[8192], fifo[4096];
        char *out, *err;
        const char *argv[] = {test_bin(), "check", "-c", conf, NULL};

        snprintf(conf, sizeof(conf), "%s/reducerd.yaml", dir);
        snprintf(yaml, sizeof(yaml),
                 "contracts:\n  paths: [\"%s\"]\nconfig:\n  "
                 "max_file_bytes: 4096\n",
                 test_path("contracts/codegen_metrics.yaml"));
        test_write_file(conf, yaml, strlen(yaml));
        ck_assert_int_eq(test_run(argv, NULL, &out, &err), 1);
        ck_assert_msg(strstr(err, "codegen_metrics.yaml: too large: more "
                                  "than 4096 bytes (the limit is "
                                  "config.max_file_bytes)"),
                      "%s", err);
        free(out);
        free(err);

        /* a FIFO among the *.yaml files of a contracts directory */
        snprintf(fifo, sizeof(fifo), "%s/contracts", dir);
        ck_assert_int_eq(mkdir(fifo, 0755), 0);
        snprintf(fifo, sizeof(fifo), "%s/contracts/fifo.yaml", dir);
        ck_assert_int_eq(mkfifo(fifo, 0600), 0);
        snprintf(yaml, sizeof(yaml), "contracts:\n  paths: [contracts]\n");
        test_write_file(conf, yaml, strlen(yaml));
        ck_assert_int_eq(test_run(argv, NULL, &out, &err), 1);
        ck_assert_msg(strstr(err, "contracts/fifo.yaml: not a regular file "
                                  "(a FIFO)"),
                      "%s", err);
        free(out);
        free(err);
        unlink(fifo);
        snprintf(fifo, sizeof(fifo), "%s/contracts", dir);
        rmdir(fifo);
        unlink(conf);
        rmdir(dir);
        free(dir);
}
END_TEST

/* The config file itself is bounded by the environment or the default;
 * a loaded config sets the limit for the files read after it. */
START_TEST(config_file_bounded)
{
        char *dir = test_tmpdir(), path[4096], text[6000], err[1024];
        red_config_t *c;

        snprintf(path, sizeof(path), "%s/reducerd.yaml", dir);
        memset(text, '#', sizeof(text));
        memcpy(text, "batch:\n  max_events: 5\n", 23);
        text[sizeof(text) - 1] = '\n';
        test_write_file(path, text, sizeof(text));
        c = red_config_load(path, err, sizeof(err));
        ck_assert_msg(c != NULL, "%s", err);
        ck_assert_int_eq(c->config_max_file_bytes, 4194304);
        ck_assert_uint_eq(red_yaml_max_file_bytes(), 4194304);
        red_config_destroy(c);

        setenv("REDUCERD_CONFIG_MAX_FILE_BYTES", "5000", 1);
        ck_assert_ptr_null(red_config_load(path, err, sizeof(err)));
        ck_assert_ptr_nonnull(strstr(err, "/reducerd.yaml: too large: more "
                                          "than 5000 bytes (the limit is "
                                          "config.max_file_bytes)"));
        setenv("REDUCERD_CONFIG_MAX_FILE_BYTES", "100", 1);
        ck_assert_ptr_null(red_config_load(path, err, sizeof(err)));
        ck_assert_str_eq(err, "environment REDUCERD_CONFIG_MAX_FILE_BYTES: "
                              "config.max_file_bytes: 100 is out of range "
                              "(allowed: 4096..1073741824)");
        setenv("REDUCERD_CONFIG_MAX_FILE_BYTES", "8192", 1);
        c = red_config_load(path, err, sizeof(err));
        ck_assert_msg(c != NULL, "%s", err);
        ck_assert_int_eq(c->batch_max_events, 5);
        ck_assert_uint_eq(red_yaml_max_file_bytes(), 8192);
        red_config_destroy(c);
        unsetenv("REDUCERD_CONFIG_MAX_FILE_BYTES");
        red_yaml_set_max_file_bytes(RED_YAML_MAX_FILE_BYTES_DEFAULT, NULL);
        unlink(path);
        rmdir(dir);
        free(dir);
}
END_TEST

static Suite *suite(void)
{
        Suite *s = suite_create("config");
        TCase *tc = tcase_create("config");

        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, defaults_without_file);
        tcase_add_test(tc, example_file_loads);
        tcase_add_test(tc, environment_overrides);
        tcase_add_test(tc, check_rejects_invalid_examples);
        tcase_add_test(tc, check_accepts_example);
        tcase_add_test(tc, settings_documented);
        tcase_add_test(tc, nested_section);
        tcase_add_test(tc, check_refuses_special_files);
        tcase_add_test(tc, contract_files_bounded);
        tcase_add_test(tc, config_file_bounded);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        return test_main(suite());
}
