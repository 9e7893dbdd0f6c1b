/* red_recompute - cells computed again from events, batch by batch. */
#include "red_recompute.h"

#include "red_rawseen.h"
#include "red_sink_fsm.h"
#include "red_sink_io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct red_recompute_s {
        const red_contract_t *c;
        red_core_t *core;
        red_aggregator_t *cells;
        red_rawseen_t *seen;
        red_sink_io_t *io; /* the workflow loader's, or NULL */
        red_sink_fsm_t *fsm;
};

void red_recompute_destroy(red_recompute_t *rc)
{
        if (!rc) {
                return;
        }
        red_core_destroy(rc->core);
        red_aggregator_destroy(rc->cells);
        red_rawseen_destroy(rc->seen);
        red_sink_fsm_destroy(rc->fsm);
        red_sink_io_destroy(rc->io);
        free(rc);
}

red_recompute_t *red_recompute_new(const red_contract_t *c,
                                   const char *conninfo, red_core_done_cb *done,
                                   void *done_arg, char *errstr, size_t size)
{
        red_recompute_t *rc = calloc(1, sizeof(*rc));

        if (!rc) {
                snprintf(errstr, size, "out of memory");
                return NULL;
        }
        rc->c = c;
        /* every workflow stays in memory: the run is bounded */
        if (!(rc->core = red_core_new(c, SIZE_MAX / 2, INT64_MAX / 2, done,
                                      done_arg, errstr, size))) {
                goto err;
        }
        if (!(rc->cells = red_aggregator_new(c)) ||
            !(rc->seen = red_rawseen_new(c))) {
                snprintf(errstr, size, "out of memory");
                goto err;
        }
        if (conninfo && (c->fsm || c->workflow_key_slot >= 0)) {
                if (!(rc->io = red_sink_io_new(conninfo)) ||
                    !(rc->fsm = red_sink_fsm_new(c))) {
                        snprintf(errstr, size, "out of memory");
                        goto err;
                }
                red_sink_fsm_replaying(rc->fsm);
                if (red_sink_io_connect(rc->io, errstr, size) ||
                    red_sink_fsm_prepare(rc->fsm, rc->io, errstr, size)) {
                        goto err;
                }
        }
        return rc;
err:
        red_recompute_destroy(rc);
        return NULL;
}

int red_recompute_add(red_recompute_t *rc, const red_msg_t *msg, void *opaque)
{
        return red_core_add(rc->core, msg, red_time_now(), opaque);
}

red_time_t red_recompute_max_time(const red_recompute_t *rc, const char *topic,
                                  int32_t partition)
{
        return red_core_max_time(rc->core, topic, partition);
}

int red_recompute_flush(red_recompute_t *rc, red_time_t frontier, char *errstr,
                        size_t size)
{
        const red_uuid_t *missing;
        red_cell_t **cells;
        size_t cnt;
        int r;

        if (red_core_release(rc->core, frontier, 0) < 0) {
                snprintf(errstr, size, "out of memory");
                return -1;
        }
        missing = red_core_missing(rc->core, &cnt);
        if (cnt && rc->fsm &&
            red_sink_fsm_load(rc->fsm, rc->io, missing, cnt,
                              red_core_workflows(rc->core), errstr, size)) {
                red_core_rollback(rc->core);
                return -1;
        }
        if ((r = red_rawseen_mark(rc->seen, rc->core)) ||
            (r = red_core_process(rc->core))) {
                snprintf(errstr, size, "applying the events: %s", strerror(-r));
                red_core_rollback(rc->core);
                return -1;
        }
        cells = red_aggregator_cells(red_core_cells(rc->core), &cnt);
        for (size_t i = 0; i < cnt; i++) {
                if (red_aggregator_merge_cell(rc->cells, cells[i], errstr,
                                              size)) {
                        red_core_rollback(rc->core);
                        return -1;
                }
        }
        if (red_rawseen_keep(rc->seen, rc->core)) {
                snprintf(errstr, size, "out of memory");
                red_core_rollback(rc->core);
                return -1;
        }
        red_core_commit(rc->core);
        return 0;
}

red_aggregator_t *red_recompute_cells(red_recompute_t *rc)
{
        return rc->cells;
}
