/* red_sink_offsets - consumer positions, advanced by compare-and-set. */
#include "red_sink_offsets.h"

#include "red_buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int red_sink_offsets_prepare(red_sink_io_t *io, const char *contract,
                             char *errstr, size_t size)
{
        static const char *const cols[] = {
                "consumer_group", "topic",     "partition",
                "next_offset",    "watermark", "last_offset",
                "last_digest",    "epoch",     "reset_at"};

        return red_sink_io_check_columns(io, contract, "reducerd_offsets", cols,
                                         sizeof(cols) / sizeof(*cols), errstr,
                                         size);
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
                                        int generation, red_sink_stored_t *out,
                                        char *errstr, size_t size)
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
                out[i] = (red_sink_stored_t){
                        .next = -1, .watermark = INT64_MIN, .last_offset = -1};
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
                     "(extract(epoch FROM o.watermark) * 1000000)::bigint, "
                     "o.last_offset, o.last_digest, o.epoch "
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
                        out[i].next =
                                strtoll(PQgetvalue(res, row, 2), NULL, 10);
                        if (!PQgetisnull(res, row, 3)) {
                                out[i].watermark = strtoll(
                                        PQgetvalue(res, row, 3), NULL, 10);
                        }
                        if (!PQgetisnull(res, row, 4) &&
                            !PQgetisnull(res, row, 5)) {
                                out[i].last_offset = strtoll(
                                        PQgetvalue(res, row, 4), NULL, 10);
                                out[i].last_digest = (uint64_t)strtoll(
                                        PQgetvalue(res, row, 5), NULL, 10);
                        }
                        out[i].epoch = atoi(PQgetvalue(res, row, 6));
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
        red_buf_t t, p, prev, next, wm, lo, ld;
        char gen[16];
        const char *vals[10];
        PGresult *res;
        red_sink_result_t r;

        red_buf_init(&t);
        red_buf_init(&p);
        red_buf_init(&prev);
        red_buf_init(&next);
        red_buf_init(&wm);
        red_buf_init(&lo);
        red_buf_init(&ld);
        red_buf_putc(&t, '{');
        red_buf_putc(&p, '{');
        red_buf_putc(&prev, '{');
        red_buf_putc(&next, '{');
        red_buf_putc(&wm, '{');
        red_buf_putc(&lo, '{');
        red_buf_putc(&ld, '{');
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
                if (offs[i].last_offset < 0) {
                        red_buf_printf(&lo, "%sNULL", sep);
                        red_buf_printf(&ld, "%sNULL", sep);
                } else {
                        red_buf_printf(&lo, "%s%lld", sep,
                                       (long long)offs[i].last_offset);
                        red_buf_printf(&ld, "%s%lld", sep,
                                       (long long)offs[i].last_digest);
                }
        }
        red_buf_putc(&t, '}');
        red_buf_putc(&p, '}');
        red_buf_putc(&prev, '}');
        red_buf_putc(&next, '}');
        red_buf_putc(&wm, '}');
        red_buf_putc(&lo, '}');
        red_buf_putc(&ld, '}');
        snprintf(gen, sizeof(gen), "%d", generation);
        vals[0] = group;
        vals[1] = instance;
        vals[2] = gen;
        vals[3] = t.data;
        vals[4] = p.data;
        vals[5] = prev.data;
        vals[6] = next.data;
        vals[7] = wm.data;
        vals[8] = lo.data;
        vals[9] = ld.data;
        if ((r = red_sink_io_exec(
                     io,
                     "UPDATE reducerd_offsets o SET next_offset = v.nxt, "
                     "watermark = COALESCE(v.wm, o.watermark), owner = $2, "
                     "generation = $3, updated_at = now(), last_offset = "
                     "COALESCE(v.lo, o.last_offset), last_digest = "
                     "COALESCE(v.ld, o.last_digest) FROM "
                     "unnest($4::text[], $5::int[], $6::bigint[], "
                     "$7::bigint[], $8::timestamptz[], $9::bigint[], "
                     "$10::bigint[]) AS v(t, p, prev, nxt, wm, lo, ld) WHERE "
                     "o.consumer_group = $1 AND o.topic = v.t AND "
                     "o.partition = v.p AND o.next_offset = v.prev",
                     10, vals, &res, errstr, size))) {
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
        red_buf_destroy(&lo);
        red_buf_destroy(&ld);
        return r;
}

/*
 * A reset by kafka.offset_gap_policy: the epoch counts it and reset_at
 * dates it. The position moves to @p next only if it is still @p prev (no
 * batch moved it meanwhile: with messages of the partition in flight the
 * caller passes -1 and their batch moves it); the remembered last message
 * belongs to the old log and is forgotten with it.
 */
red_sink_result_t
red_sink_offsets_reset_row(red_sink_io_t *io, const char *group,
                           const char *instance, const char *topic,
                           int32_t partition, int64_t prev, int64_t next,
                           int64_t *stored, char *errstr, size_t size)
{
        char part[16], pv[24], nx[24];
        const char *vals[6] = {group, topic, part, pv, nx, instance};
        PGresult *res;
        red_sink_result_t r;

        snprintf(part, sizeof(part), "%d", (int)partition);
        snprintf(pv, sizeof(pv), "%lld", (long long)prev);
        snprintf(nx, sizeof(nx), "%lld", (long long)next);
        if ((r = red_sink_io_exec(
                     io,
                     "UPDATE reducerd_offsets SET epoch = epoch + 1, "
                     "reset_at = now(), owner = $6, updated_at = now(), "
                     "next_offset = CASE WHEN $5::bigint >= 0 AND next_offset "
                     "= $4::bigint THEN $5::bigint ELSE next_offset END, "
                     "last_offset = CASE WHEN $5::bigint >= 0 AND next_offset "
                     "= $4::bigint THEN NULL ELSE last_offset END, "
                     "last_digest = CASE WHEN $5::bigint >= 0 AND next_offset "
                     "= $4::bigint THEN NULL ELSE last_digest END "
                     "WHERE consumer_group = $1 AND topic = $2 AND partition "
                     "= $3::int RETURNING next_offset",
                     6, vals, &res, errstr, size))) {
                return r;
        }
        *stored = PQntuples(res) ? strtoll(PQgetvalue(res, 0, 0), NULL, 10)
                                 : prev;
        PQclear(res);
        return RED_SINK_OK;
}
