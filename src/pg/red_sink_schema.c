/* red_sink_schema - the batch's hold on its contract's table generation. */
#include "red_sink_schema.h"

#include "red_schema.h"

#include <stdio.h>
#include <stdlib.h>

int red_sink_schema_prepare(red_sink_io_t *io, const red_contract_t *c,
                            int *generation, char *errstr, size_t size)
{
        return red_schema_live(red_sink_io_conn(io), c, generation, errstr,
                               size);
}

red_sink_result_t red_sink_schema_check(red_sink_io_t *io,
                                        const red_contract_t *c, int generation,
                                        char *errstr, size_t size)
{
        const char *vals[1] = {c->name};
        PGresult *res;
        red_sink_result_t r;
        int live;

        if ((r = red_sink_io_exec(io, RED_SCHEMA_BATCH_SQL, 1, vals, &res,
                                  errstr, size))) {
                return r;
        }
        /* not recorded when the worker connected: the first record (by
         * `reducerd migrate`, generation 1) is the tables it checked */
        live = PQntuples(res) ? atoi(PQgetvalue(res, 0, 0)) : 0;
        PQclear(res);
        if (live == generation || (generation == 0 && live <= 1)) {
                return RED_SINK_OK;
        }
        snprintf(errstr, size,
                 "contract %s: its tables were switched to generation %d "
                 "(reducerd backfill) while this worker runs the version "
                 "built for generation %d: reload it (SIGHUP) with the "
                 "contract's new version",
                 c->name, live, generation);
        return RED_SINK_FATAL;
}
