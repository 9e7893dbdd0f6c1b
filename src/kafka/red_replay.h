/*
 * red_replay - reads a contract's input topics again for a backfill: a
 * consumer of its own (group <consumer_group>.backfill, partitions
 * assigned, nothing committed) reads every partition from a start offset
 * to an end offset fixed beforehand, so a resumed backfill reads exactly
 * the same messages.
 *
 * The start comes from the time the backfill begins at, through
 * rd_kafka_offsets_for_times(): the first message whose timestamp is not
 * older. librdkafka's mock cluster (kafka.brokers: embedded, the test
 * suites) does not implement ListOffsets by timestamp and answers every
 * time with the end of the partition; when the answer is the end but the
 * partition's last message is not older than the time, the broker did
 * not resolve it and the replay starts at the beginning instead (the
 * events are filtered by event time anyway; it only reads more).
 */
#ifndef RED_REPLAY_H
#define RED_REPLAY_H

#include "red_attr.h"
#include "red_config.h"
#include "red_event.h"
#include "red_time.h"

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct red_replay_s red_replay_t;

/** One partition of the replay and how far it is. */
typedef struct red_replay_part_s {
        const char *topic;
        int32_t partition;
        int64_t start, end; /**< [start, end): the messages read */
        int64_t next;       /**< the next offset to hand out */
        bool finished;
} red_replay_part_t;

/**
 * A consumer (brokers and properties of @p conf, borrowed) for every
 * partition of @p topics (@p cnt, copied), in consumer group @p group.
 * Resolves nothing yet. NULL with a message.
 */
red_replay_t *red_replay_new(const red_config_t *conf, const char *brokers,
                             const char *group, const char *const *topics,
                             size_t cnt, char *errstr, size_t errstr_size);
void red_replay_destroy(red_replay_t *rp);

/**
 * Where each partition starts (the first message at or after @p from, or
 * the beginning for INT64_MIN) and ends: the offsets of @p end_json
 * ({"topic/partition": offset}, from an earlier run of the same
 * backfill), else the partition's current end. *@p end_out gets the ends
 * as JSON (caller frees). 0 or -1 with a message.
 */
int red_replay_plan(red_replay_t *rp, red_time_t from, const char *end_json,
                    char **end_out, char *errstr,
                    size_t errstr_size) RED_MUSTCHECK;

/** Sets one partition's [start, end) (a catch-up after the plan). 0 or
 * -EINVAL for a partition the replay does not read. */
int red_replay_set(red_replay_t *rp, const char *topic, int32_t partition,
                   int64_t start, int64_t end) RED_MUSTCHECK;

/** Starts reading (after the plan and any red_replay_set()). */
int red_replay_start(red_replay_t *rp, char *errstr,
                     size_t errstr_size) RED_MUSTCHECK;

/**
 * The core's view of a Kafka message (red_msg_t): topic, partition,
 * offset, key, value, timestamp and the event_type header, all borrowed
 * from @p m. The consumers of the daemon and of a replay use it alike.
 */
void red_replay_view(const rd_kafka_message_t *m, red_msg_t *v);

/** Receives a message of the replay; takes ownership of @p m. */
typedef int red_replay_cb(void *arg, rd_kafka_message_t *m);

/**
 * Hands out up to @p max messages within [start, end) to @p cb, waiting
 * up to @p timeout_ms. Returns the number handed out, or -1 with a
 * message (a Kafka error, or @p cb's failure).
 */
long red_replay_poll(red_replay_t *rp, size_t max, int timeout_ms,
                     red_replay_cb *cb, void *arg, char *errstr,
                     size_t errstr_size);

/** Whether every partition reached its end. */
bool red_replay_done(const red_replay_t *rp);

/** The partitions (borrowed, @p *cntp of them). */
const red_replay_part_t *red_replay_parts(const red_replay_t *rp, size_t *cntp);

#endif
