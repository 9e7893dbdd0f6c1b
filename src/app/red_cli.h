/*
 * red_cli - the subcommands of the reducerd binary. Each parses its own
 * options and returns the process exit status: 0 success, 1 failure,
 * 2 usage error.
 */
#ifndef RED_CLI_H
#define RED_CLI_H

#include <stddef.h>

int red_cli_run(int argc, char **argv);
int red_cli_check(int argc, char **argv);
int red_cli_migrate(int argc, char **argv);
int red_cli_maintain(int argc, char **argv);
int red_cli_reduce(int argc, char **argv);
int red_cli_version(int argc, char **argv);

#endif
