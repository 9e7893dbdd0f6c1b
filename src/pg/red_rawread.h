/*
 * red_rawread - a contract's raw rows read back as the events they were
 * (red_rebuild_raw_sources() says which tables hold which topic's
 * events), in event-time order, from one snapshot: a REPEATABLE READ
 * transaction of its own and a cursor, so memory stays bounded however
 * many rows there are.
 *
 * Each row becomes an envelope {"event_type", "event_timestamp", field:
 * value, ...} built by the server (json_build_object), which the decoder
 * reads as it read the original: the stored values are the decoded ones
 * (defaults applied, units normalised), under the fields' own names.
 */
#ifndef RED_RAWREAD_H
#define RED_RAWREAD_H

#include "red_attr.h"
#include "red_contract.h"
#include "red_rebuild.h"

#include <libpq-fe.h>
#include <stddef.h>

typedef struct red_rawread_s red_rawread_t;

/**
 * Connects to @p conninfo and opens the rows of @p srcs (@p cnt, borrowed
 * until close) whose event time lies in [@p from, @p to). NULL with a
 * message.
 */
red_rawread_t *red_rawread_open(const char *conninfo,
                                const red_rebuild_src_t *srcs, size_t cnt,
                                red_time_t from, red_time_t to, char *errstr,
                                size_t errstr_size);
void red_rawread_close(red_rawread_t *rd);

/** When the snapshot was taken (the transaction's start). */
red_time_t red_rawread_snapshot(const red_rawread_t *rd);

/** The next rows, at most @p max: their number, 0 at the end, -1 with a
 * message. The rows stay valid until the next call. */
long red_rawread_next(red_rawread_t *rd, size_t max, char *errstr,
                      size_t errstr_size);

/** Row @p i of the last red_rawread_next(): the event's JSON (@p len
 * bytes), the index of its source and its event time. */
const char *red_rawread_row(const red_rawread_t *rd, size_t i, size_t *len,
                            size_t *src, red_time_t *time);

/**
 * The earliest event time of the rows of @p srcs stored (created_at) at
 * or after @p since, into *@p first (INT64_MAX: none). Only rows whose
 * event time is at or after @p oldest are looked at (the partitions
 * older than that are not read: a row stored since is no older than the
 * contract's lateness allows). 0 or -1 with a message.
 */
int red_rawread_since(PGconn *conn, const red_rebuild_src_t *srcs, size_t cnt,
                      red_time_t since, red_time_t oldest, red_time_t *first,
                      char *errstr, size_t errstr_size) RED_MUSTCHECK;

#endif
