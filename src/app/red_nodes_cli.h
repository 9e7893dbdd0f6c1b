/*
 * red_nodes_cli - `reducerd nodes`: the node registry from the command
 * line, as the API's /v1/nodes routes offer it (red_api_nodes.h): search
 * and one node read from PostgreSQL, registration, heartbeat and
 * deregistration published to Kafka, returning once the broker
 * acknowledged them.
 */
#ifndef RED_NODES_CLI_H
#define RED_NODES_CLI_H

/** The subcommand; returns the exit status (2: usage or a refused
 * parameter or event, 3: no such node). */
int red_nodes_cli_main(int argc, char **argv);

#endif
