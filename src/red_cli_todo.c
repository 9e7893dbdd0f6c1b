#include "red_cli.h"
#include <stdio.h>
int red_cli_run(int argc, char **argv){(void)argc;(void)argv;fprintf(stderr,"run: not built yet\n");return 1;}
int red_cli_maintain(int argc, char **argv){(void)argc;(void)argv;return 1;}
int red_cli_reduce(int argc, char **argv){(void)argc;(void)argv;return 1;}
