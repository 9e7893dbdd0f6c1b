/*
 * Test support shared by the Check suites: paths handed over by meson,
 * running the reducerd binary, throwaway Postgres databases, and waiting
 * on a condition with a deadline (never sleep-and-hope).
 */
#ifndef RED_TEST_H
#define RED_TEST_H

#include <check.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

/** The source tree (RED_SRCDIR) and the reducerd binary (RED_BIN). */
const char *test_srcdir(void);
const char *test_bin(void);
/** A path under the source tree: test_path("tests/data/x") (static buffer rotation of 8). */
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
/** Runs a query expected to return one value; returns it malloc'd (NULL for SQL NULL). */
char *test_pg_value(PGconn *conn, const char *sql);
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

/** Monotonic milliseconds. */
long long test_now_ms(void);

/**
 * Polls @p cond every 20 ms until it returns true or @p timeout_ms passes.
 * Returns whether it became true.
 */
bool test_wait_for(bool (*cond)(void *opaque), void *opaque, long timeout_ms);

/** Runs a suite: CK_NORMAL output, returns the process exit status. */
int test_main(Suite *s);

#endif
