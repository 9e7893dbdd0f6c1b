/*
 * red_cliopt - what the subcommands that take the read API's parameters
 * on the command line share (`reducerd query`, red_query_cli, and
 * `reducerd nodes`, red_nodes_cli): their usage printed on a misuse,
 * --name value pairs read as query parameters, and a query error printed
 * as "reducerd query: --limit: too large (allowed: ...)".
 */
#ifndef RED_CLIOPT_H
#define RED_CLIOPT_H

#include "red_attr.h"
#include "red_qtypes.h"

#include <stddef.h>

/** Prints @p usage_text to stderr; returns 2, the exit status of a
 * misuse. */
int red_cliopt_usage(const char *usage_text);

/**
 * Reads argv[@p i ..] as "--name value" or "--name=value" pairs (the
 * HTTP API's name=value) into @p p, at most @p limit of them. Names and
 * values point into @p argv (borrowed; an '=' is overwritten with '\0').
 * Returns 0 with their count in @p cnt, or -1 when an argument is no
 * option, a value is missing or there are more than @p limit.
 */
int red_cliopt_params(int argc, char **argv, int i, red_query_param_t *p,
                      size_t limit, size_t *cnt) RED_MUSTCHECK;

/** Prints @p e to stderr as "reducerd @p cmd: --PARAM: message (allowed:
 * ...)" (no parameter, no allowed values: just the message). */
void red_cliopt_error(const char *cmd, const red_query_error_t *e);

#endif
