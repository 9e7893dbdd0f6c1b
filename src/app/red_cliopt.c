/* red_cliopt - usage, --name value parameters and query errors of the
 * `query` and `nodes` subcommands. */
#include "red_cliopt.h"

#include <stdio.h>
#include <string.h>

int red_cliopt_usage(const char *usage_text)
{
        fputs(usage_text, stderr);
        return 2;
}

int red_cliopt_params(int argc, char **argv, int i, red_query_param_t *p,
                      size_t limit, size_t *cnt)
{
        for (*cnt = 0; i < argc; i++) {
                char *eq;
                if (strncmp(argv[i], "--", 2) || !argv[i][2] || *cnt == limit) {
                        return -1;
                }
                p[*cnt].name = argv[i] + 2;
                if ((eq = strchr(argv[i], '='))) {
                        *eq = '\0';
                        p[*cnt].value = eq + 1;
                } else if (i + 1 < argc) {
                        p[*cnt].value = argv[++i];
                } else {
                        return -1;
                }
                (*cnt)++;
        }
        return 0;
}

void red_cliopt_error(const char *cmd, const red_query_error_t *e)
{
        fprintf(stderr, "reducerd %s: %s%s%s%s", cmd, e->param[0] ? "--" : "",
                e->param, e->param[0] ? ": " : "", e->message);
        if (e->allowed[0]) {
                fprintf(stderr, " (allowed: %s)", e->allowed);
        }
        fputc('\n', stderr);
}
