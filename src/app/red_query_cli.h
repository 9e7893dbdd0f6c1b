/*
 * red_query_cli - `reducerd query KIND [NAME] [--PARAM VALUE ...]`: the
 * read API's queries from the command line, with the same parameters and
 * checks (red_query), printed as a table for a terminal or as CSV, JSON,
 * NDJSON or Prometheus text with --format.
 */
#ifndef RED_QUERY_CLI_H
#define RED_QUERY_CLI_H

/** The subcommand; returns the exit status (2: a bad parameter). */
int red_query_cli_main(int argc, char **argv);

#endif
