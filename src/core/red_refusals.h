/*
 * red_refusals - messages whose events storage refused, by source
 * coordinates (topic, partition, offset), with the reason.
 *
 * When PostgreSQL refuses a batch for its data (a value a column or a
 * constraint does not take), the batch is rolled back and consumed again
 * from the stored positions; the message found guilty is remembered here
 * so that, added again, it becomes a dead letter instead of an event
 * (red_core_refuse()). A refusal is forgotten once a commit has passed its
 * offset, or when its partition goes.
 */
#ifndef RED_REFUSALS_H
#define RED_REFUSALS_H

#include "red_attr.h"

#include <stddef.h>
#include <stdint.h>

typedef struct red_refusals_s red_refusals_t;

/** An empty set; NULL on OOM. Caller destroys with red_refusals_destroy(). */
red_refusals_t *red_refusals_new(void);
/** Frees the set and its copies; accepts NULL. */
void red_refusals_destroy(red_refusals_t *r);

/** Refuses topic[partition]@offset with @p detail (copied; replaces the
 * detail of an earlier refusal of the message). 0 or -ENOMEM. */
int red_refusals_add(red_refusals_t *r, const char *topic, int32_t partition,
                     int64_t offset, const char *detail) RED_MUSTCHECK;

/** The detail of the refusal of topic[partition]@offset (borrowed), or
 * NULL. */
const char *red_refusals_find(const red_refusals_t *r, const char *topic,
                              int32_t partition, int64_t offset);

/** Forgets the refusals of topic[partition] before offset @p before
 * (INT64_MAX: all of the partition). */
void red_refusals_forget(red_refusals_t *r, const char *topic,
                         int32_t partition, int64_t before);

#endif
