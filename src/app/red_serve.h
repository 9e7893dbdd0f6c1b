/*
 * red_serve - `reducerd serve`: the read API alone (red_api.h), for
 * replicas that only answer queries; and the start and reload of the same
 * API inside `reducerd run` (http.api: true).
 */
#ifndef RED_SERVE_H
#define RED_SERVE_H

#include "red_api.h"
#include "red_config.h"

/** `reducerd serve [-c CONFIG] [--listen HOST:PORT]`: exit status. */
int red_serve_main(int argc, char **argv);

/**
 * Loads the contracts of @p conf and starts the API. NULL with the reason
 * logged.
 */
red_api_t *red_serve_start_api(const red_config_t *conf);

/** Serves the contracts of @p conf from now on; keeps the old ones (and
 * logs why) when they do not load. */
void red_serve_reload_api(red_api_t *api, const red_config_t *conf);

#endif
