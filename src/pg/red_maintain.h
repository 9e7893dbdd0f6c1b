/*
 * red_maintain - table upkeep for every contract: partitions created ahead
 * (maintain.days_ahead), partitions past the contract's retention dropped,
 * terminal workflows older than the history retention deleted from the
 * current-state table, and the seen dedupe keys (reducerd_dedupe) kept for
 * the longest horizon plus the allowed lateness. Run by `reducerd
 * maintain` and periodically by the daemon.
 *
 * Retention per window type: an aggregation partitioned per window type
 * (partition: {hourly: daily, ...}) drops each window type's partitions at
 * its own retention; one partitioned as a whole drops a partition once the
 * longest retention passed it and deletes the cells of window types with
 * a shorter one.
 */
#ifndef RED_MAINTAIN_H
#define RED_MAINTAIN_H

#include "red_attr.h"
#include "red_contract.h"

#include <libpq-fe.h>
#include <stddef.h>

typedef struct red_maintain_result_s {
        int created;
        int dropped;
        long cells_deleted; /**< past a shorter window retention */
        long workflows_deleted;
} red_maintain_result_t;

int red_maintain_run(PGconn *conn, const red_contract_set_t *set,
                     int days_ahead, red_time_t now, red_maintain_result_t *out,
                     char *errstr, size_t errstr_size) RED_MUSTCHECK;

#endif
