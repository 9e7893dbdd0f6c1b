/* red_serve - `reducerd serve`: the read API on its own, reloaded by SIGHUP. */
#include "red_serve.h"

#include "red_signals.h"

#include "red_appconf.h"
#include "red_contract.h"
#include "red_log.h"
#include "red_version.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

red_api_t *red_serve_start_api(const red_config_t *conf)
{
        red_contract_set_t set = {0};
        red_api_t *api;
        char err[2048];

        if (red_appconf_contracts(&set, conf, err, sizeof(err))) {
                red_log_error("api", "%s", err);
                return NULL;
        }
        if (!(api = red_api_start(conf, &set, err, sizeof(err)))) {
                red_log_error("api", "%s", err);
                red_contract_set_destroy(&set);
        }
        return api;
}

void red_serve_reload_api(red_api_t *api, const red_config_t *conf)
{
        red_contract_set_t set = {0};
        char err[2048];

        if (red_appconf_contracts(&set, conf, err, sizeof(err))) {
                red_log_error("api",
                              "reload refused, keeping the contracts "
                              "served: %s",
                              err);
                return;
        }
        red_api_reload(api, &set);
        red_log_info("api", "serving the reloaded contracts");
}

int red_serve_main(int argc, char **argv)
{
        static const struct option opts[] = {
                {"config", required_argument, NULL, 'c'},
                {"listen", required_argument, NULL, 'l'},
                {"help", no_argument, NULL, 'h'},
                {NULL, 0, NULL, 0}};
        static const char usage[] = "[-c CONFIG] [--listen HOST:PORT]";
        const char *cpath = NULL, *listen = NULL;
        red_config_t *conf;
        red_api_t *api;
        char version[256];
        int opt;

        while ((opt = getopt_long(argc, argv, "c:l:h", opts, NULL)) != -1) {
                switch (opt) {
                case 'c':
                        cpath = optarg;
                        break;
                case 'l':
                        listen = optarg;
                        break;
                case 'h':
                        printf("usage: reducerd serve %s\n\nServes the read "
                               "API (GET /v1/..., contracts/query.md) on "
                               "api.listen\n(or --listen) until SIGTERM; "
                               "SIGHUP reloads the contracts.\n",
                               usage);
                        return 0;
                default:
                        fprintf(stderr, "usage: reducerd serve %s\n", usage);
                        return 2;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "usage: reducerd serve %s\n", usage);
                return 2;
        }
        if (!(conf = red_appconf_load(cpath))) {
                return 1;
        }
        if (listen) {
                char *dup = strdup(listen);
                if (!dup) {
                        red_config_destroy(conf);
                        return 1;
                }
                free(conf->api_listen);
                conf->api_listen = dup;
        }
        red_signals_install();
        red_version_string(version, sizeof(version));
        red_log_info("serve", "%s serving the read API (config %s)", version,
                     conf->path ? conf->path : "embedded defaults");
        if (!(api = red_serve_start_api(conf))) {
                red_config_destroy(conf);
                return 1;
        }
        while (!red_signals_stop()) {
                struct timespec ts = {0, 100 * 1000000};
                nanosleep(&ts, NULL);
                if (red_signals_reload()) {
                        char err[2048];
                        red_config_t *fresh =
                                red_config_load(cpath, err, sizeof(err));
                        if (!fresh) {
                                red_log_error("serve", "reload refused: %s",
                                              err);
                                continue;
                        }
                        red_serve_reload_api(api, fresh);
                        red_config_destroy(fresh);
                }
        }
        red_log_info("serve", "signal %d: stopping", red_signals_stop());
        red_api_stop(api);
        red_config_destroy(conf);
        return 0;
}
