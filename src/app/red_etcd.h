/*
 * red_etcd - a small client of etcd v3's JSON gateway (/v3/..., etcd 3.4
 * as Debian 12 ships it) over libcurl: put, range over a prefix, delete,
 * lease grant, keepalive and revoke. Keys and values are base64 on the
 * wire and plain bytes here. Several endpoints of one cluster may be
 * given: a request that cannot connect tries the next one.
 *
 * Not thread-safe: one thread uses a client (the discovery mirror's).
 */
#ifndef RED_ETCD_H
#define RED_ETCD_H

#include "red_attr.h"
#include "red_config.h"
#include "red_discovery.h"

#include <stddef.h>
#include <stdint.h>

typedef struct red_etcd_s red_etcd_t;

/** The lease a request named does not exist (expired, revoked, or an
 * etcd started on an empty data directory). */
#define RED_ETCD_ENOLEASE (-2)

/**
 * A client of the cluster at @p endpoints (base URLs, borrowed for the
 * call: copied) with a deadline of @p timeout_ms per request (connection
 * and answer). NULL with a message on OOM or an empty list. Caller
 * destroys with red_etcd_destroy().
 */
red_etcd_t *red_etcd_new(const red_strlist_t *endpoints, long timeout_ms,
                         char *errstr, size_t errstr_size);
void red_etcd_destroy(red_etcd_t *e);

/** Puts @p key = @p value on lease @p lease (0: none). 0, -1 with a
 * message, or RED_ETCD_ENOLEASE. */
int red_etcd_put(red_etcd_t *e, const char *key, const char *value,
                 int64_t lease, char *errstr, size_t size) RED_MUSTCHECK;

/** Deletes @p key (a key that is not there is no error). 0 or -1. */
int red_etcd_delete(red_etcd_t *e, const char *key, char *errstr,
                    size_t size) RED_MUSTCHECK;

/** Adds every key under @p prefix, with its value and lease, to @p out
 * (read in pages of 10 000 keys). 0 or -1 with a message. */
int red_etcd_range_prefix(red_etcd_t *e, const char *prefix,
                          red_discovery_set_t *out, char *errstr,
                          size_t size) RED_MUSTCHECK;

/** Grants a lease of @p ttl_s seconds: its id in *@p id and the TTL etcd
 * granted (it may raise it to its minimum) in *@p granted_s. 0 or -1. */
int red_etcd_lease_grant(red_etcd_t *e, int64_t ttl_s, int64_t *id,
                         int64_t *granted_s, char *errstr,
                         size_t size) RED_MUSTCHECK;

/** Renews lease @p id: 0 with its TTL in *@p ttl_s, RED_ETCD_ENOLEASE
 * when it is gone, -1 with a message. */
int red_etcd_lease_keepalive(red_etcd_t *e, int64_t id, int64_t *ttl_s,
                             char *errstr, size_t size) RED_MUSTCHECK;

/** Revokes lease @p id and with it its keys. 0, RED_ETCD_ENOLEASE or -1. */
int red_etcd_lease_revoke(red_etcd_t *e, int64_t id, char *errstr,
                          size_t size) RED_MUSTCHECK;

#endif
