/*
 * bench_pgmode - the durability mode of the PostgreSQL the benchmarks
 * write to (the PG* variables): fsync, synchronous_commit and
 * full_page_writes all on ("durable", what users run) or all off ("fast",
 * what ./dev runs for the tests). Switching restarts the server through
 * REDUCERD_TEST_PGCTL ("pg_ctl -D DATA -w", which `./dev pg` prints and
 * ./dev exports), with its listen address, port, socket directory and
 * max_connections kept and its log next to the data directory (as ./dev
 * keeps it). Bench code only: it exits on a failure.
 */
#ifndef BENCH_PGMODE_H
#define BENCH_PGMODE_H

#include <stdbool.h>

/** True when the server runs with fsync and synchronous_commit on. */
bool bench_pgmode_durable(void);

/** Restarts the server in mode @p durable unless it runs so already; false
 * when it cannot (REDUCERD_TEST_PGCTL not set). */
bool bench_pgmode_set(bool durable);

/** The name of a mode with what it means, for the benchmarks' output. */
const char *bench_pgmode_name(bool durable);

#endif
