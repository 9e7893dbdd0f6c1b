/* reducerd - command-line entry point: run, serve, query, top, check,
 * migrate, backfill, maintain, reduce, version. */
#include "red_backfill.h"
#include "red_cli.h"
#include "red_query_cli.h"
#include "red_serve.h"
#include "red_top.h"

#include <stdio.h>
#include <string.h>

static const struct {
        const char *name;
        int (*fn)(int argc, char **argv);
        const char *help;
} commands[] = {
        {"run", red_cli_run,
         "consume, reduce and write to Postgres (the daemon)"},
        {"serve", red_serve_main,
         "serve the read API (GET /v1/...) without consuming"},
        {"query", red_query_cli_main,
         "read results: series, summaries, top N, raw rows, workflows"},
        {"top", red_top_main,
         "live terminal dashboard of a contract (--once: one frame)"},
        {"check", red_cli_check, "validate the config and the contracts"},
        {"migrate", red_cli_migrate,
         "create and evolve the tables (engine's and contracts')"},
        {"backfill", red_backfill_main,
         "recompute a contract's cells for a range; fill a new generation"},
        {"maintain", red_cli_maintain,
         "create partitions ahead and drop expired ones"},
        {"reduce", red_cli_reduce,
         "run a contract over a JSON-lines file, print rows (no "
         "Kafka/Postgres)"},
        {"version", red_cli_version, "print versions"},
};

static void usage(FILE *fp)
{
        fprintf(fp, "usage: reducerd COMMAND [OPTIONS]\n\ncommands:\n");
        for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++) {
                fprintf(fp, "  %-9s %s\n", commands[i].name, commands[i].help);
        }
        fprintf(fp, "\n'reducerd COMMAND --help' shows the options of a "
                    "command.\n");
}

int main(int argc, char **argv)
{
        if (argc < 2) {
                usage(stderr);
                return 2;
        }
        if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
            !strcmp(argv[1], "help")) {
                usage(stdout);
                return 0;
        }
        if (!strcmp(argv[1], "--version")) {
                return red_cli_version(1, argv + 1);
        }
        for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++) {
                if (!strcmp(argv[1], commands[i].name)) {
                        return commands[i].fn(argc - 1, argv + 1);
                }
        }
        fprintf(stderr, "reducerd: unknown command \"%s\"\n\n", argv[1]);
        usage(stderr);
        return 2;
}
