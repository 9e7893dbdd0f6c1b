/* red_sink_offsets - consumer positions, advanced by compare-and-set. */
#include "red_sink_offsets.h"

#include "red_buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int red_sink_offsets_prepare(red_sink_io_t *io, const char *contract,
                             char *errstr, size_t size)
{
        static const char *const cols[] = {"consumer_group", "topic",
                                           "partition", "next_offset",
                                           "watermark"};

        return red_sink_io_check_columns(io, contract, "reducerd_offsets", cols,
                                         5, errstr, size);
}

/* Element @p i of the array parameters {"a","b"} and {1,2} of the
 * partitions. Topic names are [A-Za-z0-9._-] (checked by the contract
 * loader): no escaping. */
static void put_partition(red_buf_t *t, red_buf_t *p, size_t i,
                          const char *topic, int32_t partition)
{
        const char *sep = i ? "," : "";

        red_buf_printf(t, "%s\"%s\"", sep, topic);
        red_buf_printf(p, "%s%d", sep, (int)partition);
}

red_sink_result_t red_sink_offsets_load(red_sink_io_t *io, const char *group,
                                        const char *instance,
                                        const char *const *topics,
                                        const int32_t *partitions, size_t cnt,
                                        int generation, int64_t *next,
                                        red_time_t *watermark, char *errstr,
                                        size_t size)
{
        red_buf_t t, p;
        char gen[16];
        const char *vals[5];
        PGresult *res;
        red_sink_result_t r;

        red_buf_init(&t);
        red_buf_init(&p);
        red_buf_putc(&t, '{');
        red_buf_putc(&p, '{');
        for (size_t i = 0; i < cnt; i++) {
                put_partition(&t, &p, i, topics[i], partitions[i]);
                next[i] = -1;
                watermark[i] = INT64_MIN;
        }
        red_buf_putc(&t, '}');
        red_buf_putc(&p, '}');
        snprintf(gen, sizeof(gen), "%d", generation);
        vals[0] = group;
        vals[1] = instance;
        vals[2] = gen;
        vals[3] = t.data;
        vals[4] = p.data;
        if ((r = red_sink_io_exec(
                     io,
                     "INSERT INTO reducerd_offsets (consumer_group, topic, "
                     "partition, next_offset, owner, generation) SELECT $1, "
                     "v.t, v.p, -1, $2, $3 FROM unnest($4::text[], $5::int[]) "
                     "AS v(t, p) ON CONFLICT DO NOTHING",
                     5, vals, NULL, errstr, size))) {
                goto done;
        }
        vals[1] = t.data;
        vals[2] = p.data;
        if ((r = red_sink_io_exec(
                     io,
                     "SELECT o.topic, o.partition, o.next_offset, "
                     "(extract(epoch FROM o.watermark) * 1000000)::bigint "
                     "FROM reducerd_offsets o JOIN unnest($2::text[], "
                     "$3::int[]) AS v(t, p) ON o.topic = v.t AND o.partition "
                     "= v.p WHERE o.consumer_group = $1",
                     3, vals, &res, errstr, size))) {
                goto done;
        }
        for (int row = 0; row < PQntuples(res); row++) {
                for (size_t i = 0; i < cnt; i++) {
                        if (strcmp(PQgetvalue(res, row, 0), topics[i]) ||
                            atoi(PQgetvalue(res, row, 1)) != partitions[i]) {
                                continue;
                        }
                        next[i] = strtoll(PQgetvalue(res, row, 2), NULL, 10);
                        if (!PQgetisnull(res, row, 3)) {
                                watermark[i] = strtoll(PQgetvalue(res, row, 3),
                                                       NULL, 10);
                        }
                }
        }
        PQclear(res);
done:
        red_buf_destroy(&t);
        red_buf_destroy(&p);
        return r;
}

/*
 * The fence. A worker that lost its partitions in a rebalance may not know
 * it yet (a long GC pause, a network partition): it still holds a batch
 * read from the old positions. The batch's positions therefore advance
 * only from the offsets the batch started at (o.next_offset = v.prev),
 * and this update is the first statement of the batch transaction. If a
 * new owner committed a batch meanwhile, the row moved, fewer rows match
 * than partitions were sent, and the zombie rolls back before it wrote
 * anything (RED_SINK_FENCED; it re-seeks from the stored positions). If
 * the zombie got here first, its row lock makes the new owner's update
 * wait, then find the moved offset and be fenced in turn: of two workers
 * that start from the same positions, at most one commits. The owner and
 * generation are written for operators; the offset decides.
 */
red_sink_result_t red_sink_offsets_advance(red_sink_io_t *io, const char *group,
                                           const char *instance,
                                           const red_sink_offset_t *offs,
                                           size_t cnt, int generation,
                                           char *errstr, size_t size)
{
        red_buf_t t, p, prev, next, wm;
        char gen[16];
        const char *vals[8];
        PGresult *res;
        red_sink_result_t r;

        red_buf_init(&t);
        red_buf_init(&p);
        red_buf_init(&prev);
        red_buf_init(&next);
        red_buf_init(&wm);
        red_buf_putc(&t, '{');
        red_buf_putc(&p, '{');
        red_buf_putc(&prev, '{');
        red_buf_putc(&next, '{');
        red_buf_putc(&wm, '{');
        for (size_t i = 0; i < cnt; i++) {
                const char *sep = i ? "," : "";

                put_partition(&t, &p, i, offs[i].topic, offs[i].partition);
                red_buf_printf(&prev, "%s%lld", sep, (long long)offs[i].prev);
                red_buf_printf(&next, "%s%lld", sep, (long long)offs[i].next);
                red_buf_puts(&wm, sep);
                if (offs[i].watermark == INT64_MIN) {
                        red_buf_puts(&wm, "NULL");
                } else {
                        red_buf_putc(&wm, '"');
                        red_sink_io_put_time(&wm, offs[i].watermark);
                        red_buf_putc(&wm, '"');
                }
        }
        red_buf_putc(&t, '}');
        red_buf_putc(&p, '}');
        red_buf_putc(&prev, '}');
        red_buf_putc(&next, '}');
        red_buf_putc(&wm, '}');
        snprintf(gen, sizeof(gen), "%d", generation);
        vals[0] = group;
        vals[1] = instance;
        vals[2] = gen;
        vals[3] = t.data;
        vals[4] = p.data;
        vals[5] = prev.data;
        vals[6] = next.data;
        vals[7] = wm.data;
        if ((r = red_sink_io_exec(
                     io,
                     "UPDATE reducerd_offsets o SET next_offset = v.nxt, "
                     "watermark = COALESCE(v.wm, o.watermark), owner = $2, "
                     "generation = $3, updated_at = now() FROM "
                     "unnest($4::text[], $5::int[], $6::bigint[], "
                     "$7::bigint[], $8::timestamptz[]) AS v(t, p, prev, nxt, "
                     "wm) WHERE o.consumer_group = $1 AND o.topic = v.t AND "
                     "o.partition = v.p AND o.next_offset = v.prev",
                     8, vals, &res, errstr, size))) {
                goto done;
        }
        if ((size_t)atol(PQcmdTuples(res)) != cnt) {
                snprintf(errstr, size,
                         "offsets moved under us (%s of %zu partitions "
                         "matched): another worker owns them now",
                         PQcmdTuples(res), cnt);
                r = RED_SINK_FENCED;
        }
        PQclear(res);
done:
        red_buf_destroy(&t);
        red_buf_destroy(&p);
        red_buf_destroy(&prev);
        red_buf_destroy(&next);
        red_buf_destroy(&wm);
        return r;
}
