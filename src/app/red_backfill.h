/*
 * red_backfill - `reducerd backfill --contract C [--from T] [--to T]
 * [--source raw|kafka]`: recomputes the contract's cells of every window
 * that overlaps the range and *replaces* the stored ones, exactly once,
 * while the daemon keeps running.
 *
 * What it writes: the contract's new table generation when migrate built
 * one for a new version (then it switches it in when done), else the
 * live tables (a repair).
 *
 * From what: the raw rows the contract stores, when they hold every event
 * and field its aggregations read (red_rebuild_raw_sources()), else its
 * input topics replayed from the time the range starts, in a consumer
 * group of its own (<consumer_group>.backfill).
 *
 * How, so that every event is counted once (DESIGN.md "Schema from
 * contracts"):
 *  1. the events up to a cut (raw: a snapshot; kafka: the partitions' ends
 *     when it started, recorded) are recomputed and written chunk by chunk
 *     (red_backfill_db), each chunk in its own transaction with the
 *     record of what is done: a killed backfill resumes, reads the same
 *     and skips the chunks done;
 *  2. then, holding the contract's schema row (running batches finish
 *     first, new ones wait), what the daemon committed since the cut is
 *     added (raw: the windows of rows stored since the snapshot are
 *     recomputed; kafka: the messages between the cut and the daemon's
 *     offsets are replayed and merged, and the daemon's offsets move to
 *     the cut where it was behind), and a new generation is switched in,
 *     in the same transaction.
 * A repair of the live tables from Kafka holds the row for the whole
 * replay instead (the daemon's batches wait for it).
 */
#ifndef RED_BACKFILL_H
#define RED_BACKFILL_H

/** The subcommand; returns the exit status (0, 1 failure, 2 usage). */
int red_backfill_main(int argc, char **argv);

#endif
