/*
 * red_dlq - why a message became a dead letter: the codes decode, the core
 * and the sink give (each also a metric label and the error_code header of
 * the dead-letter topic), and the dead letter a batch carries to commit.
 */
#ifndef RED_DLQ_H
#define RED_DLQ_H

#include "red_event.h"

typedef enum {
        RED_DLQ_NONE = 0,
        RED_DLQ_INVALID_JSON,
        RED_DLQ_NOT_AN_OBJECT,
        RED_DLQ_TOO_LARGE,
        RED_DLQ_UNKNOWN_EVENT_TYPE,
        RED_DLQ_MISSING_EVENT_TYPE,
        RED_DLQ_MISSING_FIELD,
        RED_DLQ_WRONG_TYPE,
        RED_DLQ_OUT_OF_RANGE,
        RED_DLQ_NOT_ALLOWED,
        RED_DLQ_INVALID_TIMESTAMP,
        RED_DLQ_MISSING_TIMESTAMP,
        RED_DLQ_FUTURE_TIMESTAMP,
        RED_DLQ_LATE,
        RED_DLQ_EMPTY_VALUE,
        /** applied, but PostgreSQL refused to store it (red_core_refuse) */
        RED_DLQ_STORAGE_REJECTED,
        RED_DLQ__CNT
} red_dlq_code_t;

/** A message that goes to the dead-letter topic, and why. */
typedef struct red_dead_letter_s {
        const red_msg_t *msg; /**< owned by the core until commit */
        red_dlq_code_t code;
        char *detail; /**< owned by the core */
} red_dead_letter_t;

/** "invalid_json", "missing_field", ... (also the metric label). */
const char *red_dlq_code_name(red_dlq_code_t code);

#endif
