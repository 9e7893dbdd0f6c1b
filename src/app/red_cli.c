/* red_cli - option parsing and orchestration of the reducerd subcommands. */
#include "red_cli.h"

#include "red_appconf.h"
#include "red_config.h"
#include "red_contract.h"
#include "red_daemon.h"
#include "red_maintain.h"
#include "red_log.h"
#include "red_migrate.h"
#include "red_pg.h"
#include "red_reduce.h"
#include "red_time.h"
#include "red_version.h"

#include <errno.h>
#include <getopt.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int red_cli_version(int argc, char **argv)
{
        char v[256];

        (void)argc;
        (void)argv;
        red_version_string(v, sizeof(v));
        printf("%s\n", v);
        return 0;
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
                case 'c':
                        cpath = optarg;
                        break;
                case 'h':
                        printf("usage: reducerd check %s\n\nValidates the "
                               "config and the contracts it names (or the "
                               "contract files given).\n",
                               usage);
                        return 0;
                default:
                        return usage_error("check", usage);
                }
        }
        if (!(conf = red_appconf_load(cpath))) {
                return 1;
        }
        if (optind < argc) {
                r = 0;
                for (int i = optind; i < argc && !r; i++) {
                        r = red_contract_set_add(&set, argv[i], err,
                                                 sizeof(err));
                }
        } else {
                r = red_appconf_contracts(&set, conf, err, sizeof(err));
        }
        if (r) {
                fprintf(stderr, "%s\n", err);
                red_config_destroy(conf);
                return 1;
        }
        printf("%s: ok\n", cpath ? cpath : "(embedded defaults)");
        for (size_t i = 0; i < set.cnt; i++) {
                const red_contract_t *c = set.items[i];
                size_t tables = 0;
                for (size_t k = 0; k < c->raw_cnt; k++) {
                        tables += c->raws[k].table_cnt;
                }
                printf("%s: ok (contract %s %s: %zu event kinds, %zu "
                       "aggregations, %zu raw tables, %zu alert rules, %zu "
                       "metrics%s)\n",
                       c->path, c->name, c->version, c->kind_cnt, c->agg_cnt,
                       tables, c->alerts ? c->alerts->rule_cnt : 0,
                       c->metric_cnt, c->fsm ? ", fsm" : "");
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
                case 'c':
                        cpath = optarg;
                        break;
                case 'd':
                        dir = optarg;
                        break;
                case 'h':
                        printf("usage: reducerd migrate %s\n\nApplies the "
                               "pending migrations (built in, or from "
                               "--dir).\n",
                               usage);
                        return 0;
                default:
                        return usage_error("migrate", usage);
                }
        }
        if (!(conf = red_appconf_load(cpath))) {
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
                        printf("%s: up to date (%zu migrations)\n", where, cnt);
                }
                r = 0;
        }
        PQfinish(conn);
done:
        red_migrate_free(m, m ? cnt : 0);
        red_config_destroy(conf);
        return r;
}

int red_cli_reduce(int argc, char **argv)
{
        static const struct option opts[] = {
                {"contract", required_argument, NULL, 'k'},
                {"input", required_argument, NULL, 'i'},
                {"output", required_argument, NULL, 'o'},
                {"batch", required_argument, NULL, 'b'},
                {"now", required_argument, NULL, 'n'},
                {"help", no_argument, NULL, 'h'},
                {NULL, 0, NULL, 0}};
        static const char usage[] =
                "--contract FILE --input EVENTS.jsonl [--output ROWS.jsonl] "
                "[--batch N] [--now TIME]";
        red_reduce_opts_t ro = {NULL, NULL, stdout, 0, red_time_now()};
        const char *output = NULL;
        char err[2048], *end;
        int opt, r;

        while ((opt = getopt_long(argc, argv, "k:i:o:b:n:h", opts, NULL)) !=
               -1) {
                switch (opt) {
                case 'k':
                        ro.contract = optarg;
                        break;
                case 'i':
                        ro.input = optarg;
                        break;
                case 'o':
                        output = optarg;
                        break;
                case 'b':
                        ro.batch = strtoul(optarg, &end, 10);
                        if (*end || !*optarg) {
                                return usage_error("reduce", usage);
                        }
                        break;
                case 'n':
                        if (red_time_parse(optarg, strlen(optarg), &ro.now)) {
                                fprintf(stderr,
                                        "reducerd reduce: --now \"%s\" is "
                                        "not an ISO-8601 time\n",
                                        optarg);
                                return 2;
                        }
                        break;
                case 'h':
                        printf("usage: reducerd reduce %s\n\n"
                               "Runs a contract over a file of JSON envelopes "
                               "(one a line; \"-\" reads stdin) with no Kafka "
                               "or Postgres,\nand prints every resulting row, "
                               "dead letter and a summary as JSON lines.\n"
                               "--batch N processes N events at a time (the "
                               "result is the same); --now fixes the clock.\n",
                               usage);
                        return 0;
                default:
                        return usage_error("reduce", usage);
                }
        }
        if (!ro.contract || !ro.input || optind < argc) {
                return usage_error("reduce", usage);
        }
        if (output && !(ro.out = fopen(output, "w"))) {
                fprintf(stderr, "reducerd reduce: %s: %s\n", output,
                        strerror(errno));
                return 1;
        }
        r = red_reduce_run(&ro, err, sizeof(err));
        if (output && fclose(ro.out) && !r) {
                snprintf(err, sizeof(err), "%s: %s", output, strerror(errno));
                r = -1;
        }
        if (r) {
                fprintf(stderr, "reducerd reduce: %s\n", err);
                return 1;
        }
        return 0;
}

int red_cli_run(int argc, char **argv)
{
        static const struct option opts[] = {
                {"config", required_argument, NULL, 'c'},
                {"bootstrap-file", required_argument, NULL, 'b'},
                {"help", no_argument, NULL, 'h'},
                {NULL, 0, NULL, 0}};
        static const char usage[] = "[-c CONFIG] [--bootstrap-file PATH]";
        red_daemon_opts_t o = {NULL, NULL};
        int opt;

        while ((opt = getopt_long(argc, argv, "c:b:h", opts, NULL)) != -1) {
                switch (opt) {
                case 'c':
                        o.config_path = optarg;
                        break;
                case 'b':
                        o.bootstrap_file = optarg;
                        break;
                case 'h':
                        printf("usage: reducerd run %s\n\nRuns the service. "
                               "With kafka.brokers: embedded it starts an "
                               "in-process Kafka and\nwrites its bootstrap "
                               "address to --bootstrap-file.\n",
                               usage);
                        return 0;
                default:
                        return usage_error("run", usage);
                }
        }
        if (optind < argc) {
                return usage_error("run", usage);
        }
        return red_daemon_run(&o);
}

int red_cli_maintain(int argc, char **argv)
{
        static const struct option opts[] = {
                {"config", required_argument, NULL, 'c'},
                {"now", required_argument, NULL, 'n'},
                {"help", no_argument, NULL, 'h'},
                {NULL, 0, NULL, 0}};
        static const char usage[] = "[-c CONFIG] [--now TIME]";
        const char *cpath = NULL;
        red_contract_set_t set = {0};
        red_maintain_result_t res;
        red_time_t now = red_time_now();
        red_config_t *conf;
        PGconn *conn = NULL;
        char err[2048];
        int opt, r = 1;

        while ((opt = getopt_long(argc, argv, "c:n:h", opts, NULL)) != -1) {
                switch (opt) {
                case 'c':
                        cpath = optarg;
                        break;
                case 'n':
                        if (red_time_parse(optarg, strlen(optarg), &now)) {
                                return usage_error("maintain", usage);
                        }
                        break;
                case 'h':
                        printf("usage: reducerd maintain %s\n\nCreates the "
                               "partitions of the coming days, drops those "
                               "past their\ncontract's retention and deletes "
                               "old terminal workflows. --now sets the date\n"
                               "it works from (tests).\n",
                               usage);
                        return 0;
                default:
                        return usage_error("maintain", usage);
                }
        }
        if (!(conf = red_appconf_load(cpath))) {
                return 1;
        }
        if (red_appconf_contracts(&set, conf, err, sizeof(err))) {
                fprintf(stderr, "%s\n", err);
                goto done;
        }
        if (!(conn = red_pg_connect(conf->postgres_conninfo, err,
                                    sizeof(err)))) {
                fprintf(stderr, "reducerd: %s\n", err);
                goto done;
        }
        if (red_maintain_run(conn, &set, (int)conf->maintain_days_ahead, now,
                             &res, err, sizeof(err))) {
                fprintf(stderr, "reducerd maintain: %s\n", err);
                goto done;
        }
        printf("partitions created: %d, dropped: %d; old workflows deleted: "
               "%ld\n",
               res.created, res.dropped, res.workflows_deleted);
        r = 0;
done:
        if (conn) {
                PQfinish(conn);
        }
        red_contract_set_destroy(&set);
        red_config_destroy(conf);
        return r;
}
