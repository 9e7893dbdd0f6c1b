/*
 * red_appconf - the config as every subcommand loads it: the file named
 * by -c (or the embedded defaults), environment overrides, the Kafka
 * properties checked, logging set up; errors printed to stderr.
 */
#ifndef RED_APPCONF_H
#define RED_APPCONF_H

#include "red_config.h"

/** The loaded config, or NULL after printing why. Caller destroys with
 * red_config_destroy(). */
red_config_t *red_appconf_load(const char *path);

#endif
