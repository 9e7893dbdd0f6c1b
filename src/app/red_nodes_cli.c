/* red_nodes_cli - `reducerd nodes`: search, get, register, heartbeat,
 * deregister. */
#include "red_nodes_cli.h"

#include "red_appconf.h"
#include "red_cliopt.h"
#include "red_contract.h"
#include "red_nodes.h"
#include "red_nodes_pg.h"
#include "red_pg.h"
#include "red_syncprod.h"
#include "red_time.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PARAMS     32
#define ACK_TIMEOUT_MS 15000

static const char usage_text[] =
        "usage: reducerd nodes [-c CONFIG] [--brokers HOST:PORT] COMMAND "
        "...\n"
        "\n"
        "  search [--PARAM VALUE ...]     search the registry (the "
        "parameters of\n"
        "                                 GET /v1/nodes/search: --query, "
        "--node_type,\n"
        "                                 --health_status, --capability, "
        "--version,\n"
        "                                 --version_min, --version_max, "
        "--page,\n"
        "                                 --page_size, --sort_by, "
        "--sort_order)\n"
        "  get ID                         one live node\n"
        "  register FILE|-                announce a node: a "
        "NODE_INTROSPECTION\n"
        "                                 payload (JSON object) from FILE or "
        "stdin\n"
        "  heartbeat ID STATUS [--response_time_ms MS]\n"
        "                                 report a node's health\n"
        "  deregister ID [--reason TEXT]  remove a node\n"
        "\n"
        "Reads go to PostgreSQL and print JSON (the API's answers). Writes "
        "publish\n"
        "the contract's event to Kafka (kafka.brokers, or --brokers when "
        "that is\n"
        "\"embedded\": the address `reducerd run --bootstrap-file` writes) "
        "and\n"
        "return once the broker acknowledged it.\n";

/* The registry contract among those configured, or NULL (said). */
static const red_state_t *registry(const red_contract_set_t *set,
                                   const red_contract_t **c)
{
        const red_state_t *st = red_nodes_find(
                (const red_contract_t *const *)set->items, set->cnt, c);

        if (!st) {
                fprintf(stderr, "reducerd nodes: no configured contract has "
                                "the node registry (a state sink writing "
                                "registered_nodes)\n");
        }
        return st;
}

static int read_cmd(const red_config_t *conf, const red_state_t *st,
                    const red_nodes_search_t *s, const char *id)
{
        char err[2048];
        PGconn *pg = red_pg_connect(conf->postgres_conninfo, err, sizeof(err));
        red_buf_t out;
        bool found = true;
        int r;

        if (!pg) {
                fprintf(stderr, "reducerd nodes: %s\n", err);
                return 1;
        }
        red_buf_init(&out);
        r = s ? red_nodes_pg_search(pg, st, s, &out, err, sizeof(err))
              : red_nodes_pg_get(pg, st, id, &out, &found, err, sizeof(err));
        PQfinish(pg);
        if (r) {
                fprintf(stderr, "reducerd nodes: %s\n", err);
                r = 1;
        } else if (!found) {
                fprintf(stderr,
                        "reducerd nodes: node %s is not registered (or "
                        "deregistered)\n",
                        id);
                r = 3;
        } else {
                red_buf_putc(&out, '\n');
                r = fwrite(out.data, 1, out.len, stdout) != out.len ||
                    fflush(stdout);
        }
        red_buf_destroy(&out);
        return r;
}

static int write_cmd(const red_config_t *conf, const char *brokers,
                     const red_contract_t *c, red_nodes_op_t op,
                     const char *body, size_t len, const char *id)
{
        red_nodes_write_t w;
        red_query_error_t e;
        red_syncprod_t *p;
        char err[2048], client[300];
        int r = 1;

        if (!brokers && strcmp(conf->kafka_brokers, "embedded")) {
                brokers = conf->kafka_brokers;
        }
        if (!brokers) {
                fprintf(stderr,
                        "reducerd nodes: kafka.brokers is \"embedded\": "
                        "pass --brokers HOST:PORT (the address reducerd run "
                        "--bootstrap-file writes)\n");
                return 2;
        }
        if (red_nodes_event(c, op, body, len, id, "cli", red_time_now(), &w,
                            &e)) {
                red_cliopt_error("nodes", &e);
                return e.status == 400 ? 2 : 1;
        }
        snprintf(client, sizeof(client), "reducerd-nodes-%s",
                 conf->instance_id);
        if (!(p = red_syncprod_new(conf, brokers, client, err, sizeof(err))) ||
            red_syncprod_send(p, w.topic, w.key, w.value, w.len, w.event_type,
                              ACK_TIMEOUT_MS, err, sizeof(err))) {
                fprintf(stderr, "reducerd nodes: %s\n", err);
        } else {
                red_buf_t out;
                red_buf_init(&out);
                red_nodes_write_answer(&w, &out);
                fwrite(out.data, 1, out.len, stdout);
                red_buf_destroy(&out);
                r = fflush(stdout) ? 1 : 0;
        }
        red_syncprod_destroy(p);
        red_nodes_write_free(&w);
        return r;
}

/* FILE or "-" (stdin) into a malloc'd string. */
static char *slurp(const char *path, size_t *len)
{
        FILE *fp = strcmp(path, "-") ? fopen(path, "rb") : stdin;
        red_buf_t b;
        char chunk[8192];
        size_t n;

        if (!fp) {
                fprintf(stderr, "reducerd nodes: cannot open %s\n", path);
                return NULL;
        }
        red_buf_init(&b);
        while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
                red_buf_append(&b, chunk, n);
        }
        if (fp != stdin) {
                fclose(fp);
        }
        if (b.failed) {
                red_buf_destroy(&b);
                return NULL;
        }
        red_buf_putc(&b, '\0');
        *len = b.len - 1;
        return red_buf_steal(&b, NULL);
}

/* The value of option @p name among @p p, or NULL; any other is refused. */
static int only_option(const red_query_param_t *p, size_t cnt, const char *name,
                       const char **value)
{
        *value = NULL;
        for (size_t i = 0; i < cnt; i++) {
                if (strcmp(p[i].name, name) || *value) {
                        fprintf(stderr, "reducerd nodes: unexpected --%s\n",
                                p[i].name);
                        return -1;
                }
                *value = p[i].value;
        }
        return 0;
}

static int run(const red_config_t *conf, const char *brokers,
               const red_contract_t *c, const red_state_t *st, int argc,
               char **argv)
{
        const char *cmd = argv[0], *opt;
        red_query_param_t p[MAX_PARAMS];
        red_nodes_search_t s;
        red_query_error_t e;
        size_t cnt, len;
        json_t *body;
        char *text;
        int r;

        if (!strcmp(cmd, "search")) {
                if (red_cliopt_params(argc, argv, 1, p, MAX_PARAMS, &cnt)) {
                        return red_cliopt_usage(usage_text);
                }
                if (red_nodes_search_parse(c, p, cnt, &s, &e)) {
                        red_cliopt_error("nodes", &e);
                        return 2;
                }
                r = read_cmd(conf, st, &s, NULL);
                red_nodes_search_free(&s);
                return r;
        }
        if (!strcmp(cmd, "get") && argc == 2) {
                return read_cmd(conf, st, NULL, argv[1]);
        }
        if (!strcmp(cmd, "register") && argc == 2) {
                if (!(text = slurp(argv[1], &len))) {
                        return 1;
                }
                r = write_cmd(conf, brokers, c, RED_NODES_REGISTER, text, len,
                              NULL);
                free(text);
                return r;
        }
        if (!strcmp(cmd, "heartbeat") && argc >= 3) {
                if (red_cliopt_params(argc, argv, 3, p, MAX_PARAMS, &cnt) ||
                    only_option(p, cnt, "response_time_ms", &opt)) {
                        return red_cliopt_usage(usage_text);
                }
                body = json_pack("{s:s}", "health_status", argv[2]);
                if (opt) {
                        char *end;
                        double ms = strtod(opt, &end);
                        if (end == opt || *end) {
                                fprintf(stderr,
                                        "reducerd nodes: --response_time_ms "
                                        "%s is not a number\n",
                                        opt);
                                json_decref(body);
                                return 2;
                        }
                        json_object_set_new(body, "response_time_ms",
                                            json_real(ms));
                }
                text = json_dumps(body, JSON_COMPACT);
                json_decref(body);
                r = text ? write_cmd(conf, brokers, c, RED_NODES_HEARTBEAT,
                                     text, strlen(text), argv[1])
                         : 1;
                free(text);
                return r;
        }
        if (!strcmp(cmd, "deregister") && argc >= 2) {
                if (red_cliopt_params(argc, argv, 2, p, MAX_PARAMS, &cnt) ||
                    only_option(p, cnt, "reason", &opt)) {
                        return red_cliopt_usage(usage_text);
                }
                body = opt ? json_pack("{s:s}", "reason", opt) : json_object();
                text = json_dumps(body, JSON_COMPACT);
                json_decref(body);
                r = text ? write_cmd(conf, brokers, c, RED_NODES_DEREGISTER,
                                     text, strlen(text), argv[1])
                         : 1;
                free(text);
                return r;
        }
        return red_cliopt_usage(usage_text);
}

int red_nodes_cli_main(int argc, char **argv)
{
        const char *cpath = NULL, *brokers = NULL;
        red_contract_set_t set = {0};
        const red_contract_t *c = NULL;
        const red_state_t *st;
        red_config_t *conf;
        char err[2048];
        int i = 1, rc = 1;

        for (; i < argc && argv[i][0] == '-'; i++) {
                if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
                        fputs(usage_text, stdout);
                        return 0;
                }
                if ((!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config")) &&
                    i + 1 < argc) {
                        cpath = argv[++i];
                } else if (!strcmp(argv[i], "--brokers") && i + 1 < argc) {
                        brokers = argv[++i];
                } else {
                        return red_cliopt_usage(usage_text);
                }
        }
        if (i >= argc) {
                return red_cliopt_usage(usage_text);
        }
        if (!(conf = red_appconf_load(cpath))) {
                return 1;
        }
        if (red_appconf_contracts(&set, conf, err, sizeof(err))) {
                fprintf(stderr, "%s\n", err);
        } else if ((st = registry(&set, &c))) {
                rc = run(conf, brokers, c, st, argc - i, argv + i);
        }
        red_contract_set_destroy(&set);
        red_config_destroy(conf);
        return rc;
}
