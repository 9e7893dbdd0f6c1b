/*
 * red_pipeline_gaps - offsets a pipeline did not see, or that belong to
 * another log. A partition must be read without a hole, so:
 *
 *  - an offset that arrives beyond the one needed is never applied
 *    across: the pipeline seeks back once; a broker that then still starts
 *    later has no records there (transaction markers, a compacted log),
 *    and the hole is accepted and counted;
 *  - an offset needed that the broker's log no longer holds (retention
 *    went past a position, a topic recreated shorter: librdkafka reports
 *    it, auto.offset.reset=error) and a log that is not the one a stored
 *    position was taken on (a topic recreated longer: the message stored
 *    with the position differs, red_pipeline_gaps_verify()) are logged at
 *    error with both offsets, counted, and handled by
 *    kafka.offset_gap_policy: fail stops that partition (/readyz fails),
 *    reset reads it from the log's start, counts the messages skipped and
 *    the reset (the partition's epoch in reducerd_offsets).
 *
 * Runs on the pipeline's thread (red_pipeline_impl.h).
 */
#ifndef RED_PIPELINE_GAPS_H
#define RED_PIPELINE_GAPS_H

#include "red_pipeline_impl.h"

/**
 * A message at @p offset arrived on @p pt, which needs pt->fetched (a
 * smaller offset) next. The first time at that offset: logs at warn,
 * counts the gap, seeks back and returns false (drop the message). After
 * such a seek: the offsets in between hold no records; counts them as
 * skipped (debug log) and returns true (add the message).
 */
bool red_pipeline_gaps_accept(red_pipeline_t *p, red_pipeline_part_t *pt,
                              int64_t offset);

/** Where the logs of the partitions never read (no stored position) start,
 * asked of the brokers in one request per broker (partitions are assigned
 * by the dozen, and a round trip per partition queues behind the fetches):
 * each such partition's fetched offset becomes its log's start, so a first
 * offset skipped shows as a gap. Those the brokers do not answer stay
 * unknown (red_pipeline_gaps_log_start() then asks for one). */
void red_pipeline_gaps_log_starts(red_pipeline_t *p);

/** The start of @p pt's log as the broker says now, or -1 when it does
 * not answer (blocks up to 5 s: once per partition never read). */
int64_t red_pipeline_gaps_log_start(red_pipeline_t *p,
                                    const red_pipeline_part_t *pt);

/**
 * @p m arrived on @p pt while it reads the message its stored position
 * was taken after (pt->verify). The same message: verified, drop @p m
 * (false). Another one at that offset: the log was replaced; the policy
 * applies, drop @p m (false). A later offset: that message is gone
 * (retention), nothing to tell; true: handle @p m as usual.
 */
bool red_pipeline_gaps_verify(red_pipeline_t *p, red_pipeline_part_t *pt,
                              const rd_kafka_message_t *m);

/** librdkafka's RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET event @p m: the
 * offset a partition needs is not in the broker's log. The caller
 * destroys @p m. */
void red_pipeline_gaps_out_of_range(red_pipeline_t *p,
                                    const rd_kafka_message_t *m);

/** Records the resets that Postgres could not take when they happened
 * (periodic work). */
void red_pipeline_gaps_retry(red_pipeline_t *p);

#endif
