/* red_query_cli - `reducerd query`: plans and runs a read, prints it. */
#include "red_query_cli.h"

#include "red_appconf.h"
#include "red_cliopt.h"
#include "red_contract.h"
#include "red_openapi.h"
#include "red_pg.h"
#include "red_query.h"
#include "red_query_pg.h"
#include "red_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PARAMS 64

static const char usage_text[] =
        "usage: reducerd query [-c CONFIG] KIND [NAME] [--PARAM VALUE ...]\n"
        "\n"
        "  contracts                      the contracts as declared\n"
        "  series AGGREGATION             stored rows of one window type\n"
        "  summary AGGREGATION            one row per group over a range,\n"
        "                                 quantiles from merged sketches\n"
        "  top AGGREGATION --by OUTPUT    the top (or --order asc) N groups\n"
        "  raw TABLE                      raw rows (agent metrics)\n"
        "  workflow ID                    a workflow's state and history\n"
        "  workflows                      workflows by state\n"
        "  alerts                         alerts by time, severity, rule\n"
        "  openapi                        the HTTP API's OpenAPI document\n"
        "\n"
        "Parameters are those of the HTTP API (contracts/query.md): --from,\n"
        "--to, --grouping, --window, --quantiles, --columns, --limit,\n"
        "--cursor, filters such as --group_key effect or --tag.strategy\n"
        "smart, and --format table|json|csv|ndjson|prometheus (default\n"
        "table). Example:\n"
        "  reducerd query summary codegen_metrics --grouping "
        "node_type_grouping \\\n"
        "      --from 2026-01-01 --to 2026-04-01 --quantiles 0.5,0.95,0.99\n";

/* Runs plan @p q on a fresh connection and prints it. */
static int run(const red_config_t *conf, const red_contract_set_t *set,
               const red_query_t *q)
{
        char err[2048];
        PGconn *pg = red_pg_connect(conf->postgres_conninfo, err, sizeof(err));
        red_query_pg_t *x = NULL;
        red_buf_t out;
        int status, more = 1, rc = 1;

        red_buf_init(&out);
        if (!pg ||
            red_query_pg_session(pg, (long)conf->api_statement_timeout_ms,
                                 (long)conf->api_statement_timeout_ms + 120000,
                                 err, sizeof(err))) {
                fprintf(stderr, "reducerd query: %s\n", err);
                goto done;
        }
        if (!(x = red_query_pg_start(pg, q,
                                     (const red_contract_t *const *)set->items,
                                     set->cnt, &status, err, sizeof(err)))) {
                fprintf(stderr, "reducerd query: %s\n", err);
                rc = status == 404 ? 2 : 1;
                goto done;
        }
        while (more > 0) {
                red_buf_reset(&out);
                more = red_query_pg_fill(x, &out, 64 * 1024, err, sizeof(err));
                if (out.len &&
                    fwrite(out.data, 1, out.len, stdout) != out.len) {
                        more = -1;
                        snprintf(err, sizeof(err), "writing the output");
                }
        }
        if (more < 0) {
                fprintf(stderr, "reducerd query: %s\n", err);
                goto done;
        }
        if (q->format != RED_FORMAT_JSON && q->format != RED_FORMAT_NDJSON &&
            red_query_pg_next_cursor(x)) {
                fprintf(stderr, "more rows: add --cursor %s\n",
                        red_query_pg_next_cursor(x));
        }
        rc = fflush(stdout) ? 1 : 0;
done:
        red_query_pg_destroy(x);
        if (pg) {
                PQfinish(pg);
        }
        red_buf_destroy(&out);
        return rc;
}

int red_query_cli_main(int argc, char **argv)
{
        red_query_param_t params[MAX_PARAMS + 1];
        size_t cnt;
        const char *cpath = NULL, *name = NULL;
        red_query_kind_t kind;
        red_contract_set_t set = {0};
        red_query_limits_t lim;
        red_query_error_t e;
        red_config_t *conf;
        red_query_t *q;
        bool has_format = false;
        char err[2048];
        int i = 1, rc;

        for (; i < argc && argv[i][0] == '-'; i++) {
                if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
                        fputs(usage_text, stdout);
                        return 0;
                }
                if ((!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config")) &&
                    i + 1 < argc) {
                        cpath = argv[++i];
                } else if (!strncmp(argv[i], "--config=", 9)) {
                        cpath = argv[i] + 9;
                } else {
                        return red_cliopt_usage(usage_text);
                }
        }
        if (i >= argc) {
                return red_cliopt_usage(usage_text);
        }
        if (!strcmp(argv[i], "openapi")) {
                fwrite(red_openapi_json, 1, red_openapi_json_len, stdout);
                return fflush(stdout) ? 1 : 0;
        }
        if (red_query_kind_parse(argv[i], &kind)) {
                fprintf(stderr, "reducerd query: unknown query \"%s\"\n\n",
                        argv[i]);
                return red_cliopt_usage(usage_text);
        }
        i++;
        if (kind == RED_QUERY_SERIES || kind == RED_QUERY_SUMMARY ||
            kind == RED_QUERY_TOP || kind == RED_QUERY_RAW ||
            kind == RED_QUERY_WORKFLOW) {
                if (i >= argc || argv[i][0] == '-') {
                        fprintf(stderr, "reducerd query %s: name the %s\n\n",
                                red_query_kind_name(kind),
                                kind == RED_QUERY_RAW        ? "table"
                                : kind == RED_QUERY_WORKFLOW ? "workflow id"
                                                             : "aggregation");
                        return red_cliopt_usage(usage_text);
                }
                name = argv[i++];
        }
        /* --name value or --name=value, as the HTTP API's name=value */
        if (red_cliopt_params(argc, argv, i, params, MAX_PARAMS, &cnt)) {
                return red_cliopt_usage(usage_text);
        }
        for (size_t k = 0; k < cnt; k++) {
                has_format |= !strcmp(params[k].name, "format");
        }
        if (!has_format) {
                params[cnt].name = "format";
                params[cnt++].value = "table";
        }
        if (!(conf = red_appconf_load(cpath))) {
                return 1;
        }
        if (red_appconf_contracts(&set, conf, err, sizeof(err))) {
                fprintf(stderr, "%s\n", err);
                red_config_destroy(conf);
                return 1;
        }
        lim = (red_query_limits_t){conf->api_max_rows,
                                   conf->api_max_export_rows, red_time_now()};
        q = red_query_plan((const red_contract_t *const *)set.items, set.cnt,
                           kind, name, params, cnt, &lim, &e);
        if (!q) {
                red_cliopt_error("query", &e);
                rc = e.status ? 2 : 1;
        } else {
                rc = run(conf, &set, q);
        }
        red_query_destroy(q);
        red_contract_set_destroy(&set);
        red_config_destroy(conf);
        return rc;
}
