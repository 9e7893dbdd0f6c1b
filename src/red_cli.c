/* red_cli - option parsing and orchestration of the reducerd subcommands. */
#include "red_cli.h"

#include "red_config.h"
#include "red_contract.h"
#include "red_log.h"
#include "red_migrate.h"
#include "red_pg.h"

#include <getopt.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

void red_cli_version_string(char *buf, size_t size)
{
        int pq = PQlibVersion();

        snprintf(buf, size,
                 "reducerd %s (librdkafka %s, libpq %d.%d, jansson %s, "
                 "libyaml %s)",
                 RED_VERSION, rd_kafka_version_str(), pq / 10000, pq % 100,
                 JANSSON_VERSION, yaml_get_version_string());
}

int red_cli_version(int argc, char **argv)
{
        char v[256];

        (void)argc;
        (void)argv;
        red_cli_version_string(v, sizeof(v));
        printf("%s\n", v);
        return 0;
}

/* Loads the config named by -c (or the defaults) and sets up logging. */
static red_config_t *load_config(const char *path)
{
        char err[2048];
        red_config_t *conf = red_config_load(path, err, sizeof(err));

        if (!conf) {
                fprintf(stderr, "%s\n", err);
                return NULL;
        }
        red_log_setup((red_log_level_t)conf->log_level, conf->log_json);
        return conf;
}

static int usage_error(const char *cmd, const char *usage)
{
        fprintf(stderr, "usage: reducerd %s %s\n", cmd, usage);
        return 2;
}

int red_cli_check(int argc, char **argv)
{
        static const struct option opts[] = {
                {"config", required_argument, NULL, 'c'},
                {"help", no_argument, NULL, 'h'},
                {NULL, 0, NULL, 0}};
        static const char usage[] = "[-c CONFIG] [CONTRACT.yaml ...]";
        const char *cpath = NULL;
        red_contract_set_t set = {0};
        red_config_t *conf;
        char err[2048];
        int opt, r;

        while ((opt = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
                switch (opt) {
                case 'c': cpath = optarg; break;
                case 'h':
                        printf("usage: reducerd check %s\n\nValidates the "
                               "config and the contracts it names (or the "
                               "contract files given).\n",
                               usage);
                        return 0;
                default: return usage_error("check", usage);
                }
        }
        if (!(conf = load_config(cpath))) {
                return 1;
        }
        if (optind < argc) {
                r = 0;
                for (int i = optind; i < argc && !r; i++) {
                        r = red_contract_set_add(&set, argv[i], err,
                                                 sizeof(err));
                }
        } else {
                r = red_contract_set_load(&set, conf, err, sizeof(err));
        }
        if (r) {
                fprintf(stderr, "%s\n", err);
                red_config_destroy(conf);
                return 1;
        }
        printf("%s: ok\n", cpath ? cpath : "(embedded defaults)");
        for (size_t i = 0; i < set.cnt; i++) {
                const red_contract_t *c = set.items[i];
                printf("%s: ok (contract %s %s: %zu event kinds, %zu "
                       "aggregations%s)\n",
                       c->path, c->name, c->version, c->kind_cnt, c->agg_cnt,
                       c->fsm ? ", fsm" : "");
        }
        red_contract_set_destroy(&set);
        red_config_destroy(conf);
        return 0;
}

int red_cli_migrate(int argc, char **argv)
{
        static const struct option opts[] = {
                {"config", required_argument, NULL, 'c'},
                {"dir", required_argument, NULL, 'd'},
                {"help", no_argument, NULL, 'h'},
                {NULL, 0, NULL, 0}};
        static const char usage[] = "[-c CONFIG] [--dir MIGRATIONS_DIR]";
        const char *cpath = NULL, *dir = NULL;
        red_migration_t *m = NULL;
        const red_migration_t *mig;
        red_config_t *conf;
        PGconn *conn;
        char err[2048], where[512];
        size_t cnt;
        int opt, applied, r = 1;

        while ((opt = getopt_long(argc, argv, "c:d:h", opts, NULL)) != -1) {
                switch (opt) {
                case 'c': cpath = optarg; break;
                case 'd': dir = optarg; break;
                case 'h':
                        printf("usage: reducerd migrate %s\n\nApplies the "
                               "pending migrations (built in, or from "
                               "--dir).\n",
                               usage);
                        return 0;
                default: return usage_error("migrate", usage);
                }
        }
        if (!(conf = load_config(cpath))) {
                return 1;
        }
        if (dir) {
                if (red_migrate_read_dir(dir, &m, &cnt, err, sizeof(err))) {
                        fprintf(stderr, "%s\n", err);
                        red_config_destroy(conf);
                        return 1;
                }
                mig = m;
        } else {
                mig = red_migrate_builtin(&cnt);
        }
        if (!(conn = red_pg_connect(conf->postgres_conninfo, err,
                                    sizeof(err)))) {
                fprintf(stderr, "reducerd: %s\n", err);
                goto done;
        }
        red_pg_describe(conn, where, sizeof(where));
        if (red_migrate_apply(conn, mig, cnt, &applied, err, sizeof(err))) {
                fprintf(stderr, "reducerd: %s\n", err);
        } else {
                if (applied) {
                        printf("%s: applied %d migration%s\n", where, applied,
                               applied == 1 ? "" : "s");
                } else {
                        printf("%s: up to date (%zu migrations)\n", where,
                               cnt);
                }
                r = 0;
        }
        PQfinish(conn);
done:
        red_migrate_free(m, m ? cnt : 0);
        red_config_destroy(conf);
        return r;
}
