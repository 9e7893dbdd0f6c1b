/*
 * Test support shared by the Check suites: paths handed over by meson,
 * running the reducerd binary, throwaway Postgres databases, waiting on a
 * condition with a deadline (never sleep-and-hope), and contracts and
 * decoded events for the core suites.
 */
#ifndef RED_TEST_H
#define RED_TEST_H

#include "red_aggregator.h"
#include "red_contract.h"
#include "red_event.h"
#include "red_time.h"

#include <check.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

/** The source tree (RED_SRCDIR) and the reducerd binary (RED_BIN). */
const char *test_srcdir(void);
const char *test_bin(void);
/** A path under the source tree: test_path("tests/data/x") (static buffer
 * rotation of 8). */
const char *test_path(const char *rel);

/**
 * Runs argv (argv[0] is a path), waits, captures stdout and stderr
 * (malloc'd, NUL-terminated; caller frees). Returns the exit status, or
 * 128+signal. @p env_extra: NULL-terminated "K=V" list added to the
 * environment, or NULL.
 */
int test_run(const char *const argv[], const char *const env_extra[],
             char **out, char **err);

/**
 * Creates a fresh database on the Postgres named by the PG* variables
 * (./dev test starts one) and returns its conninfo ("dbname=..."), which
 * the caller frees. Fails the test with a clear message when Postgres is
 * not reachable.
 */
char *test_pg_create_db(const char *prefix);
/** Connects to @p conninfo or fails the test. */
PGconn *test_pg_connect(const char *conninfo);
/** Runs a query expected to return one value; returns it malloc'd (NULL for SQL
 * NULL). */
char *test_pg_value(PGconn *conn, const char *sql);
/** The partitions of table @p parent by name, "a b c" (malloc'd). */
char *test_pg_partitions(PGconn *conn, const char *parent);
/** Runs a statement or fails the test. */
void test_pg_exec(PGconn *conn, const char *sql);

/** Adds @p test as its own case @p name (run alone with CK_RUN_CASE=name)
 * with a timeout of @p timeout_s seconds; returns the case (e.g. for an
 * unchecked fixture, whose teardown runs even when the test fails). */
TCase *test_add_case(Suite *s, const char *name, const TTest *test,
                     double timeout_s);

/** Reads a whole file (malloc'd) or fails the test. */
char *test_read_file(const char *path, size_t *lenp);
/**
 * The section of the markdown file @p path that starts with the line
 * @p heading (e.g. "## Producing events"), up to the next level-2 heading
 * outside code blocks or the end (malloc'd). Fails the test unless the
 * heading is there exactly once and every code block is closed.
 * @p first_line (may be NULL) gets the heading's line number.
 */
char *test_markdown_section(const char *path, const char *heading,
                            int *first_line);
/** Writes a file or fails the test. */
void test_write_file(const char *path, const char *data, size_t len);
/** A fresh temporary directory (malloc'd path). */
char *test_tmpdir(void);
/** Copies the engine's numbered migrations below number @p before
 * (migrations/NNNN_*.sql, NNNN < @p before) into directory @p dir: what a
 * database of the release before migration @p before has. */
void test_migrations_before(const char *dir, int before);

/** splitmix64: the next number of a seeded, portable stream (*@p state
 * is the stream). */
uint64_t test_rand(uint64_t *state);
/** Uniform in [0, 1), from test_rand(). */
double test_unif(uint64_t *state);

/** The instant of an ISO-8601 literal (red_time_parse) or fails the test. */
red_time_t test_ts(const char *iso);
/** red_time_format() of @p t into @p buf; returns @p buf. */
const char *test_ts_text(red_time_t t, char buf[RED_TIME_FMT_SIZE]);

/** Monotonic milliseconds. */
long long test_now_ms(void);

/**
 * Polls @p cond every @p interval_ms until it returns true or @p timeout_ms
 * passes; @p cond gets one last call at the deadline. Returns whether it
 * became true. The one way the suites wait: pick the interval by what a
 * call costs (a file read: often; a Postgres connection or an HTTP scrape:
 * 100-200 ms; 0 when @p cond blocks itself, e.g. in a Kafka poll).
 */
bool test_wait_every(bool (*cond)(void *opaque), void *opaque, long timeout_ms,
                     long interval_ms);
/** test_wait_every() polling every 20 ms. */
bool test_wait_for(bool (*cond)(void *opaque), void *opaque, long timeout_ms);

/** A loopback TCP port nobody listens on now (the kernel's pick), for a
 * server a test starts. */
int test_free_port(void);

/* --- contracts and events for the core suites ---------------------- */

/** Loads the contract at @p rel under the source tree, or fails the test
 * with the loader's message. Caller destroys with red_contract_destroy(). */
red_contract_t *test_contract(const char *rel);
/** A contract loaded from @p text (through a scratch file), or fails the
 * test. Caller destroys it. */
red_contract_t *test_contract_text(const char *text);
/** test_contract() of the file @p rel with @p more (YAML text, e.g. a
 * top-level "time:" section) appended, loaded from a scratch copy. */
red_contract_t *test_contract_with(const char *rel, const char *more);
/** An ISO-8601 time, or fails the test. */
red_time_t test_time(const char *iso);

/** A message and the event decoded from it (both owned). */
typedef struct test_event_s {
        red_msg_t msg;
        red_event_t ev;
        char *text; /**< the message value; the event borrows from it */
        char *topic;
} test_event_t;

/**
 * Decodes the JSON text @p fmt (printf-style) as a message of @p topic,
 * partition @p partition, offset @p offset, for contract @p c at wall
 * clock @p now; fails the test unless it decodes. Free with
 * test_event_free().
 */
test_event_t *test_event(const red_contract_t *c, const char *topic,
                         int32_t partition, int64_t offset, red_time_t now,
                         const char *fmt, ...)
        __attribute__((format(printf, 6, 7)));
void test_event_free(test_event_t *te);

/**
 * The cell of @p ag with window type @p wt starting at @p start
 * (ISO-8601), grouping @p grouping and first key @p key, or NULL.
 */
red_cell_t *test_cell_find(red_aggregator_t *ag, red_window_type_t wt,
                           const char *start, const char *grouping,
                           const char *key);
/** test_cell_find() that fails the test when there is no such cell. */
red_cell_t *test_cell(red_aggregator_t *ag, red_window_type_t wt,
                      const char *start, const char *grouping, const char *key);
/** The cell's row (red_rows_cell_json()), parsed; caller decrefs. */
json_t *test_cell_row(const red_cell_t *cell);
/** The number at a path of object keys (NULL-terminated) in @p j, NAN
 * for null; fails the test when a key is missing or not a number. */
double test_json_number(json_t *j, ...) __attribute__((sentinel));
/** Column @p column of the cell's row as a number (NAN for null). */
double test_cell_number(const red_cell_t *cell, const char *column);

/** Runs a suite: CK_NORMAL output, returns the process exit status. */
int test_main(Suite *s);

#endif
