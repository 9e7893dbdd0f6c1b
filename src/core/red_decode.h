/*
 * red_decode - turns an input message into a red_event_t by the contract:
 * envelope (nested or flat payload, timestamp or event_timestamp, event
 * type from envelope, header or topic), then every declared field checked
 * and converted (type, required, default, range, length, enum, unit
 * scaling). Anything wrong yields a dead-letter code and a detail that
 * names the field; nothing is dropped silently.
 */
#ifndef RED_DECODE_H
#define RED_DECODE_H

#include "red_contract.h"
#include "red_dlq.h"
#include "red_event.h"

#include <stddef.h>

/** Messages larger than this are dead-lettered as too_large. */
#define RED_DECODE_MAX_BYTES (1024 * 1024)

/**
 * Decodes @p msg for contract @p c. @p ev->values must have c->slot_cnt
 * entries; they are all overwritten. @p now is the wall clock used for
 * the future-skew check. On RED_DLQ_NONE, @p ev owns what ev->root holds
 * (release with red_decode_release()); otherwise @p detail explains the
 * problem (e.g. "quality_score: 1.7 is above the maximum 1") and @p ev
 * holds nothing.
 *
 * The message is validated completely (what jansson rejects is
 * invalid_json), but no complete JSON tree is kept: ev->payload holds only
 * the payload members the contract's FSM reads (its guard keys and
 * "metadata"; NULL when there are none), ev->metadata the envelope's
 * metadata object, ev->root whatever the event owns (NULL when nothing).
 * String values borrow from @p msg->value (keep the message alive as long
 * as the event, as red_core does), from the contract, or from ev->root.
 */
red_dlq_code_t red_decode(const red_contract_t *c, const red_msg_t *msg,
                          red_time_t now, red_event_t *ev, char *detail,
                          size_t detail_size);

/**
 * red_decode() through a complete jansson tree: ev->root is the parsed
 * message and ev->payload its payload object (or the root when flat). The
 * same codes, details and values; slower, as thousands of live trees cost
 * more than the parse. For tests and tools that need the whole document.
 */
red_dlq_code_t red_decode_tree(const red_contract_t *c, const red_msg_t *msg,
                               red_time_t now, red_event_t *ev, char *detail,
                               size_t detail_size);

/** Drops the event's reference to its JSON; accepts a released event. */
void red_decode_release(red_event_t *ev);

#endif
