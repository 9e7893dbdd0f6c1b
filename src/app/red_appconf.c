/* red_appconf - loading the config for a subcommand, errors to stderr. */
#include "red_appconf.h"

#include "red_kafka_conf.h"
#include "red_log.h"

#include <stdio.h>

red_config_t *red_appconf_load(const char *path)
{
        char err[2048];
        red_config_t *conf = red_config_load(path, err, sizeof(err));

        if (!conf) {
                fprintf(stderr, "%s\n", err);
                return NULL;
        }
        if (red_kafka_conf_check(conf, err, sizeof(err))) {
                fprintf(stderr, "%s\n", err);
                red_config_destroy(conf);
                return NULL;
        }
        red_log_setup((red_log_level_t)conf->log_level, conf->log_json);
        return conf;
}

int red_appconf_contracts(red_contract_set_t *set, const red_config_t *conf,
                          char *errstr, size_t errstr_size)
{
        return red_contract_set_load(set, conf->contracts_paths.items,
                                     conf->contracts_paths.cnt, conf->base_dir,
                                     errstr, errstr_size);
}
