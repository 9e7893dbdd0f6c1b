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
#include "red_schema.h"
#include "red_tabledef.h"
#include "red_time.h"
#include "red_version.h"

#include <errno.h>
#include <getopt.h>
#include <libpq-fe.h>
#include <stdbool.h>
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

/* The contracts of a subcommand: the files given, else the config's. */
static int load_contracts(red_contract_set_t *set, const red_config_t *conf,
                          int argc, char **argv, int first, char *err,
                          size_t size)
{
        int r = 0;

        if (first >= argc) {
                return red_appconf_contracts(set, conf, err, size);
        }
        for (int i = first; i < argc && !r; i++) {
                r = red_contract_set_add(set, argv[i], err, size);
        }
        return r;
}

/* What `run` would refuse that a look at the contracts alone can tell:
 * tables the contracts cannot declare (red_tabledef). */
static int check_tables(const red_contract_set_t *set)
{
        int bad = 0;

        for (size_t i = 0; i < set->cnt; i++) {
                red_tabledef_set_t defs;
                char err[1024];

                if (red_tabledef_set_build(set->items[i], &defs, err,
                                           sizeof(err))) {
                        fprintf(stderr, "%s: %s\n", set->items[i]->path, err);
                        bad = 1;
                        continue;
                }
                for (size_t k = 0; k < defs.cnt; k++) {
                        for (size_t j = 0; j < i; j++) {
                                red_tabledef_set_t other;
                                if (red_tabledef_set_build(set->items[j],
                                                           &other, err,
                                                           sizeof(err))) {
                                        continue;
                                }
                                if (red_tabledef_set_find(&other,
                                                          defs.items[k].name)) {
                                        fprintf(stderr,
                                                "%s: table %s is declared by "
                                                "contract %s too\n",
                                                set->items[i]->path,
                                                defs.items[k].name,
                                                set->items[j]->name);
                                        bad = 1;
                                }
                                red_tabledef_set_destroy(&other);
                        }
                }
                red_tabledef_set_destroy(&defs);
        }
        return bad;
}

/* check --postgres: the contracts against the database, as migrate would
 * see them. */
static int check_postgres(const red_config_t *conf,
                          const red_contract_set_t *set)
{
        red_schema_plan_t *plan;
        char err[2048], where[512];
        PGconn *conn;
        int r = 1;

        if (!(conn = red_pg_connect(conf->postgres_conninfo, err,
                                    sizeof(err)))) {
                fprintf(stderr, "reducerd: %s\n", err);
                return 1;
        }
        red_pg_describe(conn, where, sizeof(where));
        if (!(plan = red_schema_plan(conn, set, err, sizeof(err)))) {
                fprintf(stderr, "reducerd check: %s: %s\n", where, err);
                PQfinish(conn);
                return 1;
        }
        printf("-- the tables of the contracts on %s: what reducerd "
               "migrate would do\n",
               where);
        red_schema_plan_print(plan, stdout);
        if (red_schema_plan_refused(plan)) {
                red_schema_plan_print_refused(plan, stderr);
        } else {
                if (red_schema_plan_statements(plan)) {
                        printf("%s: run reducerd migrate before reducerd "
                               "run (%zu statements)\n",
                               where, red_schema_plan_statements(plan));
                } else {
                        printf("%s: the tables are as the contracts say\n",
                               where);
                }
                r = 0;
        }
        red_schema_plan_destroy(plan);
        PQfinish(conn);
        return r;
}

int red_cli_check(int argc, char **argv)
{
        static const struct option opts[] = {
                {"config", required_argument, NULL, 'c'},
                {"postgres", no_argument, NULL, 'p'},
                {"help", no_argument, NULL, 'h'},
                {NULL, 0, NULL, 0}};
        static const char usage[] =
                "[-c CONFIG] [--postgres] [CONTRACT.yaml ...]";
        const char *cpath = NULL;
        red_contract_set_t set = {0};
        red_config_t *conf;
        bool postgres = false;
        char err[2048];
        int opt, r;

        while ((opt = getopt_long(argc, argv, "c:ph", opts, NULL)) != -1) {
                switch (opt) {
                case 'c':
                        cpath = optarg;
                        break;
                case 'p':
                        postgres = true;
                        break;
                case 'h':
                        printf("usage: reducerd check %s\n\nValidates the "
                               "config and the contracts it names (or the "
                               "contract files given), and the tables they "
                               "declare.\n--postgres also compares them with "
                               "the database and prints what reducerd "
                               "migrate would do.\n",
                               usage);
                        return 0;
                default:
                        return usage_error("check", usage);
                }
        }
        if (!(conf = red_appconf_load(cpath))) {
                return 1;
        }
        if (load_contracts(&set, conf, argc, argv, optind, err, sizeof(err))) {
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
                       "window alert rules, %zu metrics%s)\n",
                       c->path, c->name, c->version, c->kind_cnt, c->agg_cnt,
                       tables, c->alerts ? c->alerts->rule_cnt : 0,
                       c->alerts ? c->alerts->window_rule_cnt : 0,
                       c->metric_cnt, c->fsm ? ", fsm" : "");
        }
        r = check_tables(&set);
        if (!r && postgres) {
                r = check_postgres(conf, &set);
        }
        red_contract_set_destroy(&set);
        red_config_destroy(conf);
        return r;
}

int red_cli_migrate(int argc, char **argv)
{
        static const struct option opts[] = {
                {"config", required_argument, NULL, 'c'},
                {"dir", required_argument, NULL, 'd'},
                {"plan", no_argument, NULL, 'p'},
                {"engine-only", no_argument, NULL, 'e'},
                {"help", no_argument, NULL, 'h'},
                {NULL, 0, NULL, 0}};
        static const char usage[] = "[-c CONFIG] [--dir MIGRATIONS_DIR] "
                                    "[--plan] [--engine-only] "
                                    "[CONTRACT.yaml ...]";
        const char *cpath = NULL, *dir = NULL;
        red_contract_set_t set = {0};
        red_migration_t *m = NULL;
        const red_migration_t *mig;
        red_config_t *conf;
        PGconn *conn = NULL;
        char err[2048], where[512];
        size_t cnt = 0, statements;
        bool plan = false, engine_only = false;
        int opt, applied, r = 1;

        while ((opt = getopt_long(argc, argv, "c:d:peh", opts, NULL)) != -1) {
                switch (opt) {
                case 'c':
                        cpath = optarg;
                        break;
                case 'd':
                        dir = optarg;
                        break;
                case 'p':
                        plan = true;
                        break;
                case 'e':
                        engine_only = true;
                        break;
                case 'h':
                        printf("usage: reducerd migrate %s\n\nApplies the "
                               "pending migrations of the engine's tables "
                               "(built in, or from --dir), then creates and "
                               "evolves\nthe tables of the contracts (the "
                               "config's, or the files given). --plan prints "
                               "the SQL it would\nrun and why, and changes "
                               "nothing. --engine-only leaves the contracts' "
                               "tables alone.\n",
                               usage);
                        return 0;
                default:
                        return usage_error("migrate", usage);
                }
        }
        if (!(conf = red_appconf_load(cpath))) {
                return 1;
        }
        if (!engine_only &&
            load_contracts(&set, conf, argc, argv, optind, err, sizeof(err))) {
                fprintf(stderr, "%s\n", err);
                goto done;
        }
        if (dir) {
                if (red_migrate_read_dir(dir, &m, &cnt, err, sizeof(err))) {
                        fprintf(stderr, "%s\n", err);
                        goto done;
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
        if (plan) {
                if (red_migrate_pending(conn, mig, cnt, stdout, &applied, err,
                                        sizeof(err))) {
                        fprintf(stderr, "reducerd: %s\n", err);
                        goto done;
                }
        } else if (red_migrate_apply(conn, mig, cnt, &applied, err,
                                     sizeof(err))) {
                fprintf(stderr, "reducerd: %s\n", err);
                goto done;
        } else if (applied) {
                printf("%s: applied %d migration%s\n", where, applied,
                       applied == 1 ? "" : "s");
        } else {
                printf("%s: up to date (%zu migrations)\n", where, cnt);
        }
        if (engine_only) {
                r = 0;
                goto done;
        }
        r = red_schema_migrate(conn, &set, plan, stdout, stderr, &statements,
                               err, sizeof(err));
        if (r < 0) {
                fprintf(stderr, "reducerd migrate: %s\n", err);
                r = 1;
        } else if (r == 0) {
                printf("%s: %s %zu statement%s for %zu contract%s\n", where,
                       plan ? "would run" : "ran", statements,
                       statements == 1 ? "" : "s", set.cnt,
                       set.cnt == 1 ? "" : "s");
        }
done:
        if (conn) {
                PQfinish(conn);
        }
        red_migrate_free(m, m ? cnt : 0);
        red_contract_set_destroy(&set);
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
        printf("partitions created: %d, dropped: %d; cells past their "
               "window's retention deleted: %ld; old workflows deleted: %ld\n",
               res.created, res.dropped, res.cells_deleted,
               res.workflows_deleted);
        r = 0;
done:
        if (conn) {
                PQfinish(conn);
        }
        red_contract_set_destroy(&set);
        red_config_destroy(conf);
        return r;
}
