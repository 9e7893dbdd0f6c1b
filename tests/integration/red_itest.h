/*
 * Integration test support: a standalone embedded Kafka process, reducerd
 * processes started and killed at will, a config file per test, and the
 * comparison of Postgres tables with `reducerd reduce` output.
 */
#ifndef RED_ITEST_H
#define RED_ITEST_H

#include "red_test.h"

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

typedef struct itest_s {
        char *dir;       /* scratch directory */
        char *conninfo;  /* the test's own database */
        char *bootstrap; /* of the standalone mock cluster */
        pid_t kafka_pid;
        int kafka_stdin;   /* closing it stops the mock */
        char config[4096]; /* reducerd.yaml of this test */
} itest_t;

/** Fresh database (migrated), scratch dir; no Kafka yet. */
void itest_init(itest_t *t, const char *name);
/** Starts the mock cluster with @p partitions for every topic the
 * contracts (NULL-terminated paths) read or write. */
void itest_kafka(itest_t *t, int partitions, const char *const *contracts);
/** Stops the mock cluster: what it held is gone (a new one starts empty). */
void itest_kafka_stop(itest_t *t);
/** The low and high watermarks of @p topic[@p partition]. */
void itest_watermarks(itest_t *t, const char *topic, int32_t partition,
                      int64_t *lo, int64_t *hi);
/** Writes the config: contracts (NULL-terminated paths), batch settings. */
void itest_config(itest_t *t, const char *const *contracts, int max_events,
                  int max_ms, const char *extra_yaml);
/** Stops everything started and removes the scratch data. */
void itest_fini(itest_t *t);

/** Starts `reducerd run` with the test config; extra "K=V" env
 * (NULL-terminated). stdout/stderr go to DIR/reducerd-N.log. */
pid_t itest_start(itest_t *t, const char *const *env, int n);
/** The same with more arguments after `run -c CONFIG` (NULL-terminated). */
pid_t itest_start_args(itest_t *t, const char *const *env, int n,
                       const char *const *args);
/** Sends a signal; waits for the exit up to @p timeout_ms; returns the
 * exit status (128+signal when killed) or -1 on timeout. */
int itest_stop(pid_t pid, int sig, long timeout_ms);
/** Non-blocking: -2 still running, else the exit status as above. */
int itest_poll(pid_t pid);

/** Produces a JSONL file (partition from "_partition"); lines [first,
 * first+count). */
void itest_produce(itest_t *t, const char *file, long first, long count);
/** Starts producing the lines of @p file that go to @p topic in the
 * background, @p rate a second (0: at once); wait for it with
 * itest_stop(pid, 0, timeout), which returns 0 once all was delivered. */
pid_t itest_produce_start(itest_t *t, const char *file, const char *topic,
                          double rate);
/** Produces @p count messages of value @p value (@p len bytes; NULL: a
 * tombstone) to @p topic[@p partition] and waits until all are
 * delivered. */
void itest_produce_raw(itest_t *t, const char *topic, int32_t partition,
                       const void *value, size_t len, int count);
/** Runs the event generator into DIR/NAME and returns its path (static). */
const char *itest_generate(itest_t *t, const char *name, const char *args);

/** Sum of next_offset over the group's partitions (-1 counts as 0). */
long itest_committed(itest_t *t, const char *group);

/** How crash rounds (itest_crash_rounds()) run and end. */
typedef struct itest_crash_s {
        const char *group;      /**< the consumer group that commits */
        long n;                 /**< messages to commit in all */
        const char *failpoints; /**< REDUCERD_FAILPOINTS of rounds 1-29 */
        int stop_every;         /**< every this many rounds ... */
        long stop_after;        /**< ... once this many more committed ... */
        int stop_signal;        /**< ... the worker gets this signal */
} itest_crash_t;

/**
 * Runs one worker after another (40 rounds at most) until @p c->n
 * messages are committed: rounds 1 to 29 with the failpoints (seeded
 * REDUCERD_FAILPOINT_SEED=round), each ended by the worker's death, all
 * committed, a round's minute, or the stop rule. A worker that exits
 * otherwise than by SIGKILL must exit 0. Returns how many were killed.
 */
int itest_crash_rounds(itest_t *t, const itest_crash_t *c);
/** Waits until the committed total reaches @p want (or the deadline). */
bool itest_wait_committed(itest_t *t, const char *group, long want,
                          long timeout_ms);

/** `reducerd ARGS...` (NULL-terminated) on the test's database: the exit
 * status; stdout and stderr in *@p out, *@p err (malloc'd). */
int itest_cmd(itest_t *t, const char *const *args, char **out, char **err);
/** itest_cmd() that must exit 0; returns its stdout (malloc'd). */
char *itest_cmd_ok(itest_t *t, const char *const *args);
/**
 * The file @p rel of the source tree with each @p edits[i] replaced by
 * @p edits[i + 1] (pairs, NULL-terminated; each must occur), written to
 * the test's directory as @p name. Returns its path (malloc'd).
 */
char *itest_edit(itest_t *t, const char *rel, const char *name,
                 const char *const *edits);
/** The one value @p sql selects on database @p conninfo (malloc'd; NULL
 * for SQL null), or fails the test. */
char *itest_value(const char *conninfo, const char *sql);
/** A config with only the test's database and @p contracts (paths,
 * NULL-terminated), for migrate, maintain and backfill; its path
 * (static). */
const char *itest_db_config(itest_t *t, const char *const *contracts);
/** Lines of @p file. */
long itest_lines(const char *file);
/** Dead letters in `reducerd reduce` output @p reduce_output. */
long itest_dead_letters(const char *reduce_output);

/** Runs `reducerd reduce` over @p file; returns its rows as JSON lines. */
char *itest_reduce(const char *contract, const char *file);

/**
 * Compares the rows of @p table in Postgres with the rows of that table in
 * reduce output @p expected. Numbers are compared exactly, except columns
 * of type numeric(p,s), compared after rounding the expected value to s
 * decimals. Engine bookkeeping columns (state, revision, finalized_at,
 * updated_at) are not compared. Fails the test with the first difference.
 * Returns the number of rows compared.
 */
long itest_compare_table(itest_t *t, const char *expected, const char *table,
                         const char *key_column);

/**
 * Compares the rows of @p table as multisets, ignoring the columns in
 * @p ignore (NULL-terminated), for tables without a content-derived key.
 * Returns the number of rows.
 */
long itest_compare_rows(itest_t *t, const char *expected, const char *table,
                        const char *const *ignore);

/** The HTTP port worker @p n logged ("http: ... on HOST:PORT"), waiting up
 * to 30 s for the line. */
int itest_http_port(itest_t *t, int n);
/** GET http://127.0.0.1:PORT/PATH; returns the status, body in *body
 * (malloc'd); -1 when not answered within 30 s. */
int itest_http_get(int port, const char *path, char **body);
/** The same with a deadline of @p ms for the connection and the answer,
 * as a probe has (-1 when it passes). */
int itest_http_get_within(int port, const char *path, char **body, long ms);
/** The value of a Prometheus series line ("name{labels}") in @p metrics, or
 * -1. */
double itest_metric(const char *metrics, const char *series);
/** Scrapes /metrics on @p port every 100 ms until @p series reaches
 * @p want or @p timeout_ms passes; returns whether it did. */
bool itest_wait_metric(int port, const char *series, double want,
                       long timeout_ms);
/** The log of worker @p n (malloc'd). */
char *itest_log(itest_t *t, int n);
/** Waits until the log of worker 0 holds @p text, @p timeout_ms at most;
 * returns whether it did. */
bool itest_wait_log(itest_t *t, const char *text, long timeout_ms);

/* ------------------------------------------------------------------ */
/* the read side                                                       */
/* ------------------------------------------------------------------ */

/** Fills the test database from a JSON-lines file with reducerd's core
 * and sink (tests/tools/load_events), no Kafka. Returns the events. */
long itest_load(itest_t *t, const char *contract, const char *file);

/** Starts `reducerd serve -c CONFIG` (log DIR/serve-N.log) with extra
 * "K=V" environment; waits for its "read API on" line and sets *port. */
pid_t itest_serve(itest_t *t, const char *config, const char *const *env, int n,
                  int *port);

/** The port of the read API a process logged in DIR/NAME ("read API on
 * http(s)://HOST:PORT"), waiting up to 30 s. */
int itest_api_port(itest_t *t, const char *log_name);

/**
 * Runs curl on @p url with extra arguments @p args (NULL-terminated, may
 * be NULL). Returns the HTTP status (0: no answer); the body and the
 * response headers (lowercase names) are malloc'd into *body / *headers
 * when not NULL.
 */
int itest_curl(itest_t *t, const char *url, const char *const *args,
               char **body, size_t *body_len, char **headers);

/** @p method (POST, PUT, DELETE) of http://127.0.0.1:@p port@p path with
 * JSON body @p json (may be NULL); the status, the body malloc'd into
 * *@p body when not NULL. */
int itest_send_json(itest_t *t, int port, const char *method, const char *path,
                    const char *json, char **body);

/** The data of the read-side suites: the codegen events of
 * ITEST_API_EVENTS (January to April 2026) and tests/data/api's agent
 * metrics (March 2026), loaded with itest_load(). Returns the path of the
 * codegen events (static). */
#define ITEST_API_EVENTS                                                       \
        "--events 20000 --days 100 "                                           \
        "--start 2026-01-01T00:00:00Z --seed 11 --partitions 12"
const char *itest_api_data(itest_t *t);

/** Writes t->config for `reducerd serve` on the test's database with both
 * shipped contracts, api.listen on a free port and @p api_lines (more
 * lines of the api section, indented, or NULL). */
void itest_api_config(itest_t *t, const char *api_lines);

/** GET http://127.0.0.1:PORT@p path with curl; fails the test unless the
 * status is @p want. Returns the body (malloc'd). */
char *itest_api_get(itest_t *t, int port, const char *path, int want);

/** Percent-encodes @p s for a query string (malloc'd). */
char *itest_urlenc(const char *s);

/** Consumes a whole topic: one JSON object per message with value (parsed
 * when JSON, else string), key and headers. Caller decrefs. */
json_t *itest_consume(itest_t *t, const char *topic);

#endif
