/*
 * red_etcd_mirror - the node registry's healthy nodes mirrored into etcd
 * v3 (seed 001's dual registration, with etcd for Consul): a thread of
 * `reducerd run` when registry.etcd.endpoints is set and a contract has
 * the registry.
 *
 * One key per healthy node (registry.etcd.prefix + node_id), its value the
 * node as JSON (red_discovery_pg), on a lease whose TTL is
 * registry.etcd.lease_factor x the node's health-check interval (one
 * lease per distinct TTL, kept alive by the mirror: if reducerd stops
 * mirroring, the keys expire). Every registry.etcd.sync_interval_ms the
 * healthy nodes are read from PostgreSQL and what changed since the last
 * pass is written (new and changed nodes put, deregistered and unhealthy
 * ones deleted); every registry.etcd.reconcile_interval_s, and after any
 * failure, the whole prefix is read back from etcd and repaired in both
 * directions (keys nobody wants deleted, missing or changed ones put);
 * a reconcile that repaired something is followed by another at the next
 * pass, which measures what etcd now holds.
 *
 * The mirror never touches the consume path: it has its own thread and
 * PostgreSQL connection, and the registry keeps working while etcd is
 * down (failures are counted, logged once per change of state, and the
 * mirror converges at the first reconcile etcd answers). One replica
 * mirrors at a time (a session advisory lock).
 */
#ifndef RED_ETCD_MIRROR_H
#define RED_ETCD_MIRROR_H

#include "red_attr.h"
#include "red_buf.h"
#include "red_config.h"
#include "red_contract.h"
#include "red_discovery.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct red_etcd_mirror_s red_etcd_mirror_t;

enum { RED_MIRROR_PUT, RED_MIRROR_DELETE, RED_MIRROR__OPS };
enum { RED_MIRROR_OK, RED_MIRROR_FAILED, RED_MIRROR__OUTCOMES };

typedef struct red_etcd_mirror_stats_s {
        bool up;     /**< etcd answered the last request */
        bool active; /**< this replica holds the mirror's lock */
        /** keys by state at the last comparison with what etcd holds (a
         * reconcile, before its repairs); all missing while etcd does not
         * answer */
        size_t found[RED_DISCOVERY__CNT];
        bool compared; /**< found[] is set */
        uint64_t writes[RED_MIRROR__OPS][RED_MIRROR__OUTCOMES];
        uint64_t repairs[RED_DISCOVERY__CNT]; /**< by reconciles */
        uint64_t reconciles[RED_MIRROR__OUTCOMES];
        uint64_t leases_granted;
} red_etcd_mirror_stats_t;

/**
 * A mirror of registry state @p registry (borrowed, as @p conf: both must
 * outlive the mirror). NULL with a message on OOM.
 */
red_etcd_mirror_t *red_etcd_mirror_new(const red_config_t *conf,
                                       const red_state_t *registry,
                                       char *errstr, size_t errstr_size);
int red_etcd_mirror_start(red_etcd_mirror_t *m, char *errstr,
                          size_t errstr_size) RED_MUSTCHECK;
void red_etcd_mirror_stop(red_etcd_mirror_t *m);
void red_etcd_mirror_join(red_etcd_mirror_t *m);
/** Accepts NULL. */
void red_etcd_mirror_destroy(red_etcd_mirror_t *m);
void red_etcd_mirror_stats(red_etcd_mirror_t *m, red_etcd_mirror_stats_t *out);
/** The mirror's /metrics series (deploy/METRICS.md); nothing for NULL. */
void red_etcd_mirror_metrics(red_etcd_mirror_t *m, red_buf_t *out);

#endif
