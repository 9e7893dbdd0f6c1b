/*
 * red_appconf - the config as every subcommand loads it: the file named
 * by -c (or the embedded defaults), environment overrides, the Kafka
 * properties checked, logging set up; errors printed to stderr.
 */
#ifndef RED_APPCONF_H
#define RED_APPCONF_H

#include "red_config.h"
#include "red_contract.h"

#include <stddef.h>

/** The loaded config, or NULL after printing why. Caller destroys with
 * red_config_destroy(). */
red_config_t *red_appconf_load(const char *path);

/** Loads the contracts that @p conf's contracts.paths name (relative to
 * the config's directory) into @p set; 0, or -EINVAL with a message. */
int red_appconf_contracts(red_contract_set_t *set, const red_config_t *conf,
                          char *errstr, size_t errstr_size) RED_MUSTCHECK;

#endif
