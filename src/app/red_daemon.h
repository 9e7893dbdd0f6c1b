/*
 * red_daemon - `reducerd run`: the service. Loads the config and the
 * contracts, starts the embedded Kafka when configured, checks that the
 * database is migrated, then runs one pipeline thread per contract, the
 * outbox relay, periodic maintenance and (issue 7) the HTTP endpoint.
 *
 * Signals: SIGTERM/SIGINT finish and commit the batch, close the
 * consumers and exit 0; a second one exits at once. SIGHUP reloads.
 */
#ifndef RED_DAEMON_H
#define RED_DAEMON_H

typedef struct red_daemon_opts_s {
        const char *config_path;    /**< NULL: embedded defaults */
        const char *bootstrap_file; /**< write the embedded bootstrap here */
} red_daemon_opts_t;

/** Runs until stopped; returns the process exit status. */
int red_daemon_run(const red_daemon_opts_t *opts);

#endif
