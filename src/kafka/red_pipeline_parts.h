/*
 * red_pipeline_parts - the partitions a pipeline owns: where Postgres says
 * each stands, how far it has been read, whether it is caught up, the
 * reorder frontier over them, pauses that keep the reorder buffer bounded,
 * and their lag. Runs on the pipeline's thread (red_pipeline_impl.h).
 */
#ifndef RED_PIPELINE_PARTS_H
#define RED_PIPELINE_PARTS_H

#include "red_pipeline_impl.h"

/** The assigned partition, or NULL. */
red_pipeline_part_t *red_pipeline_parts_find(red_pipeline_t *p,
                                             const char *topic,
                                             int32_t partition);

/** Forgets a partition (revoked); nothing happens if it is not assigned. */
void red_pipeline_parts_remove(red_pipeline_t *p, const char *topic,
                               int32_t partition);

/** Frees the table (the pipeline's destroy). */
void red_pipeline_parts_destroy(red_pipeline_t *p);

/** Every assigned partition, for pause, resume or seek; the caller
 * destroys it with rd_kafka_topic_partition_list_destroy(). */
rd_kafka_topic_partition_list_t *red_pipeline_parts_list(red_pipeline_t *p);

/**
 * Reads the stored offsets of the partitions in @p list from Postgres and
 * sets them as the list's start offsets; adds the partitions to the table
 * and loads their watermarks into the core. Retries while Postgres is
 * down; false only when stopping (or out of memory).
 */
bool red_pipeline_parts_load(red_pipeline_t *p,
                             rd_kafka_topic_partition_list_t *list);

/** Publishes the partitions stopped by an offset gap in the stats. */
void red_pipeline_parts_publish_stopped(red_pipeline_t *p);

/** Publishes the assignment in the stats (@p joined: holds one from the
 * group, maybe empty). */
void red_pipeline_parts_publish(red_pipeline_t *p, bool joined);

/** Notes a message of @p pt added to the batch: its quiet clock starts
 * again, and every partition's does when the whole stream was quiet for
 * idle_wait before it (red_frontier.h, IDLE). */
void red_pipeline_parts_arrival(red_pipeline_t *p, red_pipeline_part_t *pt);

/** The reorder frontier over the assigned partitions (red_frontier.h), at
 * the wall clock; at log level debug it says which partition holds it,
 * unless @p quiet (a check repeated while the consumer is idle). */
red_time_t red_pipeline_parts_frontier(red_pipeline_t *p, bool quiet);

/** Pauses the partitions running ahead of frontier @p f while the reorder
 * buffer is over its limit, resumes them once it has drained (sought back
 * where the consumer passed the offset needed).
 * While every partition is paused (red_pipeline_parts_pause_all()) it
 * only marks them. */
void red_pipeline_parts_align(red_pipeline_t *p, red_time_t f);

/** Seeks @p pt to the offset it needs next (the message to verify, else
 * after the last message added, else its stored position). */
void red_pipeline_parts_seek(red_pipeline_t *p, red_pipeline_part_t *pt);

/** Starts fetching @p pt again at the offset it needs next, also after
 * librdkafka gave it up (an offset outside the log: no seek restarts
 * it), by assigning it again; with the eager protocol every partition
 * starts again, each at the offset it needs. */
void red_pipeline_parts_restart(red_pipeline_t *p, red_pipeline_part_t *pt);

/** Pauses every assigned partition (a flush waiting for Postgres or
 * Kafka); partitions assigned meanwhile are paused as they come. */
void red_pipeline_parts_pause_all(red_pipeline_t *p);

/** Undoes red_pipeline_parts_pause_all(): resumes every partition that
 * alignment does not hold and, where the consumer passed the offset it
 * needs next, seeks it back there, so that nothing read and thrown away
 * while paused is skipped. */
void red_pipeline_parts_resume_all(red_pipeline_t *p);

/** Partitions @p parts were just assigned (librdkafka keeps a pause across
 * a revoke): resumes them, or pauses them while every partition is. */
void red_pipeline_parts_assigned(red_pipeline_t *p,
                                 rd_kafka_topic_partition_list_t *parts);

/** Quiet time after which a partition whose consumer position passed the
 * offset it needs is read again. */
#define RED_PIPELINE_STALL_US (1000000)

/** Seeks back the partitions whose consumer position (what librdkafka
 * handed over) passed the offset they need, with nothing delivered for
 * RED_PIPELINE_STALL_US (counted as a fetch gap); periodic work. */
void red_pipeline_parts_unstall(red_pipeline_t *p);

/** Updates each partition's lag from the cached high watermarks; the
 * caller holds the lock. */
void red_pipeline_parts_update_lag(red_pipeline_t *p);

/** Updates each partition's lag from high watermarks asked of the broker
 * (at most @p timeout_ms each): paused partitions fetch nothing, so the
 * cached ones stand still while a batch waits for Postgres. Takes the
 * lock itself. */
void red_pipeline_parts_query_lag(red_pipeline_t *p, int timeout_ms);

#endif
