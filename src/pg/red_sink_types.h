/*
 * red_sink_types - the values the sink's parts and its callers share: the
 * outcome of a write, a partition's advance, the caller's work callback.
 *
 * A header of its own so that the parts of the sink (red_sink_io at the
 * bottom, the writers above it) need not include red_sink.h, which stands
 * on top of them.
 */
#ifndef RED_SINK_TYPES_H
#define RED_SINK_TYPES_H

#include "red_time.h"

#include <stdint.h>

typedef enum {
        RED_SINK_OK = 0,
        RED_SINK_RETRY,  /**< transient (connection, serialization, deadlock) */
        RED_SINK_FENCED, /**< another worker owns a partition now */
        RED_SINK_FATAL,  /**< needs an operator (schema, permissions):
                              neither the data nor the connection */
        RED_SINK_REPLAY, /**< rolled back: consume the batch again from the
                              stored positions (a raw row of it was stored
                              already: see red_sink_raw_lookup()) */
        RED_SINK_REJECTED,   /**< PostgreSQL refused the batch's data
                                  (SQLSTATE class 22 or 23): retrying the
                                  same batch fails the same way; the error
                                  is "SQLSTATE nnnnn: message", and
                                  red_sink_rejected() may name the message */
        RED_SINK_PARTITIONS, /**< a partition the batch needs is missing
                                  (red_sink_io_defer()): red_sink_write()
                                  creates it outside the batch's
                                  transaction and writes again; never
                                  returned by it */
} red_sink_result_t;

/** One partition's advance in a batch. */
typedef struct red_sink_offset_s {
        const char *topic;
        int32_t partition;
        int64_t prev; /**< stored next_offset before the batch (-1: beginning)
                       */
        int64_t next; /**< next offset after the batch */
        red_time_t watermark; /**< INT64_MIN: none yet */
        int64_t last_offset;  /**< the last message before next, or -1:
                                   what is stored stays */
        uint64_t last_digest; /**< its digest (red_core_msg_digest()) */
} red_sink_offset_t;

/** A partition's position as stored in reducerd_offsets. */
typedef struct red_sink_stored_s {
        int64_t next;         /**< next offset; -1: from the beginning */
        red_time_t watermark; /**< INT64_MIN: none */
        int64_t last_offset;  /**< the message before next, or -1 */
        uint64_t last_digest; /**< its digest */
        int epoch;            /**< resets so far */
} red_sink_stored_t;

/**
 * The caller's work that can run while Postgres is busy inserting what the
 * sink sent (red_sink_write()); the daemon applies the batch's events
 * there (red_core_process()). Returns 0 or a negative errno.
 */
typedef int red_sink_work_fn(void *arg);

#endif
