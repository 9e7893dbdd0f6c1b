/*
 * red_discovery_pg - what the discovery mirror wants, read from the node
 * registry's table: every live (not deregistered) node whose effective
 * health (red_state_sql_effective() at the wall clock) is healthy, as its
 * key, its value (the node as JSON: id, name, type, version, endpoints,
 * capabilities, health, health check) and its lease TTL.
 */
#ifndef RED_DISCOVERY_PG_H
#define RED_DISCOVERY_PG_H

#include "red_attr.h"
#include "red_contract.h"
#include "red_discovery.h"

#include <libpq-fe.h>
#include <stddef.h>

/**
 * Adds the healthy nodes of registry state @p st to @p out (keys
 * @p prefix + node_id, sorted; TTL @p factor x the node's health-check
 * interval, or the staleness rule's default interval). 0, or -1 with a
 * message.
 */
int red_discovery_pg_wanted(PGconn *conn, const red_state_t *st,
                            const char *prefix, double factor,
                            red_discovery_set_t *out, char *errstr,
                            size_t size) RED_MUSTCHECK;

/**
 * Sets the registry's discovery_registered column to whether the node's
 * key is in etcd: every row whose flag differs from membership in
 * @p held (keys @p prefix + node_id, sorted) is updated, one row per
 * statement (so the update never holds two row locks: no deadlock with a
 * batch, which locks its rows in key order). The number of rows changed,
 * or -1 with a message.
 */
long red_discovery_pg_flag(PGconn *conn, const red_state_t *st,
                           const char *prefix, const red_discovery_set_t *held,
                           char *errstr, size_t size) RED_MUSTCHECK;

#endif
