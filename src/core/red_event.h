/*
 * red_event - a decoded input event: its kind, event time, typed field
 * values (one per contract slot) and where it came from.
 *
 * Plain records on purpose: the decoder fills them, the core reads them.
 * String and object values borrow from the message itself (the decoder's
 * fast path), from JSON the event owns (root), from the contract (enum
 * values) or from the workflow table (enriched values); all of them
 * outlive the batch the event is in (red_core keeps a message until it is
 * done). An object field has its parsed form (j) or only its text (raw).
 */
#ifndef RED_EVENT_H
#define RED_EVENT_H

#include "red_contract.h"
#include "red_time.h"
#include "red_uuid.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/**
 * The largest magnitude of a number value. The decoder dead-letters a
 * number field beyond +-RED_NUMBER_LIMIT as out_of_range, whatever the
 * contract's min and max say: cells sum numbers exactly, as 128-bit
 * integers of 10^-precision units (precision at most 9), and with this
 * bound a sum takes at least 10^14 values of the largest magnitude before
 * it could leave its range (red_cell refuses that rather than wrap).
 */
#define RED_NUMBER_LIMIT 1e15

/**
 * The instants the decoder accepts as an event time or a timestamp value:
 * from 0001-02-01T00:00:00Z up to, not including, 9999-12-01T00:00:00Z;
 * beyond them a time is out_of_range. PostgreSQL stores the years
 * 0001..9999 in the ISO form both sides read (it refuses year 0000, and
 * red_time_format() writes later years in an expanded form it refuses).
 * The month kept on either side holds everything derived from an accepted
 * time: its windows (a calendar month at most), their partitions, a time
 * zone's offset.
 */
#define RED_TIME_ACCEPT_MIN INT64_C(-62132918400000000)
#define RED_TIME_ACCEPT_END INT64_C(253399622400000000)

/**
 * The earliest and latest instants reducerd writes (0001-01-01T00:00:00Z,
 * 9999-12-31T23:59:59.999999Z): a watermark (event time minus
 * max_out_of_orderness) is clamped to them, and so are the bounds of a
 * query around an event time.
 */
#define RED_TIME_STORE_MIN INT64_C(-62135596800000000)
#define RED_TIME_STORE_MAX INT64_C(253402300799999999)

/** One field value. type RED_FT_NONE means absent. */
typedef struct red_value_s {
        red_field_type_t type;
        uint32_t raw_len; /**< length of raw or num */
        union {
                int64_t i;    /**< INTEGER */
                bool b;       /**< BOOLEAN */
                red_time_t t; /**< TIMESTAMP */
                red_uuid_t u; /**< UUID */
                struct {
                        const char *p;
                        size_t len;
                } s; /**< STRING (not NUL-terminated in general) */
                struct {
                        double d; /**< NUMBER (after unit scaling) */
                        /** NUMBER: its text in the message when it was
                         * taken unscaled, else NULL (an exact rendering
                         * that costs no formatting) */
                        const char *num;
                };
                struct {
                        /** OBJECT: the parsed object (borrowed), or NULL
                         * when only its text is known (raw) */
                        json_t *j;
                        /** OBJECT: its JSON text in the message, or NULL */
                        const char *raw;
                };
        };
} red_value_t;

/** An input message as the decoder sees it (all borrowed). */
typedef struct red_msg_s {
        const char *topic;
        int32_t partition;
        int64_t offset;
        const void *key;
        size_t key_len;
        const void *value;
        size_t value_len;
        red_time_t timestamp;    /**< Kafka message timestamp, or -1 */
        const char *header_type; /**< Kafka header event_type, or NULL */
        size_t header_type_len;
} red_msg_t;

typedef struct red_event_s {
        const red_kind_t *kind;
        red_time_t time; /**< event time, UTC µs */
        red_value_t *
                values; /**< contract->slot_cnt entries (owned by the caller) */
        json_t *root;   /**< the parsed message (owned: one reference) */
        json_t *payload;  /**< borrowed from root (root itself when flat) */
        json_t *metadata; /**< envelope metadata object, or NULL (borrowed) */
        const red_msg_t *msg; /**< the source message (borrowed) */
        /** weight in 10^-6 units (red_weight.h: RED_WEIGHT_ONE is 1); set by
         * the decoder, read by weighted aggregations only */
        int64_t weight;
} red_event_t;

/** The value of slot @p slot, or NULL when absent. */
static inline const red_value_t *red_event_value(const red_event_t *ev,
                                                 int slot)
{
        const red_value_t *v = &ev->values[slot];
        return v->type == RED_FT_NONE ? NULL : v;
}

#endif
