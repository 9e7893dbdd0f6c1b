/* red_sink_dedupe - seen dedupe keys: the filter, the table, the COPY. */
#include "red_sink_dedupe.h"

#include "red_buf.h"
#include "red_hmac.h"
#include "red_map.h"
#include "red_partition.h"
#include "red_seen.h"
#include "red_uuid.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TABLE "reducerd_dedupe"

/* After a batch met a key stored meanwhile (a unique violation), this many
 * batches look every key up, not only those the filter cannot judge. */
#define LOOKUP_CREDIT 32

/* Keys loaded for one partition at most (the newest): a partition with
 * more within the horizon is covered from the oldest loaded on. */
#define LOAD_MAX (RED_SINK_DEDUPE_FILTER_KEYS / 4)

/* Bytes of COPY data sent at a time. */
#define COPY_PIECE (128 * 1024)

/* A source partition, by the index the filter knows it by. */
typedef struct source_s {
        char *topic;
        const char *alias; /* the pointer the topic came as last time */
        int32_t partition;
        int64_t source; /* the table's `source` of it */
} source_t;

/* A key written by the batch transaction, for the filter once committed. */
typedef struct written_s {
        uint32_t part;
        uint64_t hash;
        red_time_t time;
} written_t;

struct red_sink_dedupe_s {
        const red_contract_t *c;
        red_seen_t *seen;
        source_t *sources;
        size_t source_cnt, source_cap;
        int lookup_credit;
        uint32_t *parts; /* per key of the batch: its source */
        size_t parts_cap;
        written_t *written;
        size_t written_cnt, written_cap;
        red_hmac_hasher_t *sha;
        red_buf_t buf;
};

/* key_hash (migrations/0014): the first 16 bytes of SHA-256(contract '/'
 * key) into @p md. -1 when libcrypto fails. */
static int key_digest(red_hmac_hasher_t *sha, const char *contract,
                      const char *key, size_t len,
                      unsigned char md[RED_HMAC_SHA256_SIZE])
{
        const void *p[3] = {contract, "/", key};
        size_t l[3] = {strlen(contract), 1, len};

        return red_hmac_hasher_sha256(sha, p, l, 3, md) ? -1 : 0;
}

/* key_hash as a uuid's text. -1 (and "") when libcrypto fails. */
static int key_hash(red_hmac_hasher_t *sha, const char *contract,
                    const char *key, size_t len, char out[RED_UUID_STR_SIZE])
{
        unsigned char md[RED_HMAC_SHA256_SIZE];
        red_uuid_t u;

        out[0] = '\0';
        if (key_digest(sha, contract, key, len, md)) {
                return -1;
        }
        memcpy(u.b, md, sizeof(u.b));
        red_uuid_format(&u, out);
        return 0;
}

/* The `source` of a partition (migrations/0014): the first 8 bytes of
 * SHA-256(contract '/' topic '/' partition), a signed big-endian bigint.
 * -1 when libcrypto fails. */
static int source_hash(red_hmac_hasher_t *sha, const char *contract,
                       const char *topic, int32_t partition, int64_t *num)
{
        char pn[16];
        int pl = snprintf(pn, sizeof(pn), "%d", (int)partition);
        const void *p[5] = {contract, "/", topic, "/", pn};
        size_t l[5] = {strlen(contract), 1, strlen(topic), 1, (size_t)pl};
        unsigned char md[RED_HMAC_SHA256_SIZE];
        uint64_t v = 0;

        if (red_hmac_hasher_sha256(sha, p, l, 5, md)) {
                return -1;
        }
        for (int i = 0; i < 8; i++) {
                v = v << 8 | md[i];
        }
        /* two's complement, as PostgreSQL's bit(64)::bigint reads it */
        *num = v > (uint64_t)INT64_MAX ? -(int64_t)(~v) - 1 : (int64_t)v;
        return 0;
}

red_sink_dedupe_t *red_sink_dedupe_new(const red_contract_t *c)
{
        red_sink_dedupe_t *d = calloc(1, sizeof(*d));

        if (!d) {
                return NULL;
        }
        d->c = c;
        red_buf_init(&d->buf);
        if (c->dedupe_slot >= 0 &&
            (!(d->seen = red_seen_new(RED_SINK_DEDUPE_FILTER_KEYS,
                                      c->dedupe_horizon_us)) ||
             !(d->sha = red_hmac_hasher_new()))) {
                red_sink_dedupe_destroy(d);
                return NULL;
        }
        return d;
}

void red_sink_dedupe_destroy(red_sink_dedupe_t *d)
{
        if (!d) {
                return;
        }
        for (size_t i = 0; i < d->source_cnt; i++) {
                free(d->sources[i].topic);
        }
        free(d->sources);
        free(d->parts);
        free(d->written);
        red_seen_destroy(d->seen);
        red_hmac_hasher_destroy(d->sha);
        red_buf_destroy(&d->buf);
        free(d);
}

/* The filter's index of @p topic[@p partition], added when new; -1 OOM
 * (or libcrypto failed). */
static long source_of(red_sink_dedupe_t *d, const char *topic,
                      int32_t partition)
{
        source_t *ns;

        for (size_t i = 0; i < d->source_cnt; i++) {
                source_t *src = &d->sources[i];
                if (src->partition == partition &&
                    (src->alias == topic || !strcmp(src->topic, topic))) {
                        /* a message's topic is its client's name: the
                         * same pointer for every message of the topic */
                        src->alias = topic;
                        return (long)i;
                }
        }
        if (d->source_cnt == d->source_cap) {
                size_t ncap = d->source_cap ? d->source_cap * 2 : 16;
                if (!(ns = realloc(d->sources, ncap * sizeof(*ns)))) {
                        return -1;
                }
                d->sources = ns;
                d->source_cap = ncap;
        }
        if (source_hash(d->sha, d->c->name, topic, partition,
                        &d->sources[d->source_cnt].source) ||
            !(d->sources[d->source_cnt].topic = strdup(topic))) {
                return -1;
        }
        d->sources[d->source_cnt].alias = topic;
        d->sources[d->source_cnt].partition = partition;
        return (long)d->source_cnt++;
}

void red_sink_dedupe_assigned(red_sink_dedupe_t *d, const char *const *topics,
                              const int32_t *partitions, size_t cnt)
{
        if (!d->seen) {
                return;
        }
        for (size_t i = 0; i < cnt; i++) {
                for (size_t s = 0; s < d->source_cnt; s++) {
                        if (d->sources[s].partition == partitions[i] &&
                            !strcmp(d->sources[s].topic, topics[i])) {
                                red_seen_uncover(d->seen, (uint32_t)s);
                        }
                }
        }
}

/* @p t within the instants PostgreSQL takes. */
static red_time_t storable(red_time_t t)
{
        return t < RED_TIME_STORE_MIN   ? RED_TIME_STORE_MIN
               : t > RED_TIME_STORE_MAX ? RED_TIME_STORE_MAX
                                        : t;
}

static red_sink_result_t oom(char *errstr, size_t size)
{
        snprintf(errstr, size, "out of memory");
        return RED_SINK_RETRY;
}

/* --- before the batch: the verdicts ------------------------------------ */

/*
 * Loads the keys stored from source @p part with a time from @p from on
 * (the newest LOAD_MAX) into the filter, which then covers the source
 * from there.
 */
static red_sink_result_t load(red_sink_dedupe_t *d, red_sink_io_t *io,
                              uint32_t part, red_time_t from, char *errstr,
                              size_t size)
{
        char ts[RED_TIME_FMT_SIZE], pn[16], lim[24], src[24];
        const char *vals[6] = {d->c->name, d->sources[part].topic, pn, ts, lim,
                               src};
        red_sink_result_t r;
        red_time_t oldest = INT64_MAX;
        PGresult *res;
        int rows;

        red_time_format(storable(from), ts, sizeof(ts));
        snprintf(pn, sizeof(pn), "%d", (int)d->sources[part].partition);
        snprintf(lim, sizeof(lim), "%d", LOAD_MAX);
        snprintf(src, sizeof(src), "%lld", (long long)d->sources[part].source);
        if ((r = red_sink_io_exec(
                     io,
                     "SELECT key, (extract(epoch FROM event_time) * "
                     "1000000)::bigint FROM " TABLE
                     " WHERE source = $6 AND event_time >= $4 AND contract "
                     "= $1 AND topic = $2 AND partition = $3 ORDER BY "
                     "event_time DESC LIMIT $5",
                     6, vals, &res, errstr, size))) {
                return r;
        }
        rows = PQntuples(res);
        for (int i = 0; i < rows; i++) {
                red_time_t t = strtoll(PQgetvalue(res, i, 1), NULL, 10);
                if (red_seen_add(d->seen, part,
                                 red_map_hash_bytes(
                                         PQgetvalue(res, i, 0),
                                         (size_t)PQgetlength(res, i, 0), 0),
                                 t)) {
                        PQclear(res);
                        return oom(errstr, size);
                }
                oldest = t < oldest ? t : oldest;
        }
        PQclear(res);
        /* cut at LOAD_MAX: what is older than the oldest loaded, and that
         * time itself, may be missing */
        if (rows == LOAD_MAX) {
                from = oldest + 1;
        }
        return red_seen_cover(d->seen, part, from) ? oom(errstr, size)
                                                   : RED_SINK_OK;
}

/* The sources of the batch's keys, into d->parts. */
static red_sink_result_t sources(red_sink_dedupe_t *d,
                                 const red_core_dedupe_key_t *keys, size_t cnt,
                                 char *errstr, size_t size)
{
        if (cnt > d->parts_cap) {
                uint32_t *np = realloc(d->parts, cnt * sizeof(*np));
                if (!np) {
                        return oom(errstr, size);
                }
                d->parts = np;
                d->parts_cap = cnt;
        }
        for (size_t i = 0; i < cnt; i++) {
                const red_msg_t *m = keys[i].ev->msg;
                long s = source_of(d, m->topic ? m->topic : "", m->partition);
                if (s < 0) {
                        return oom(errstr, size);
                }
                d->parts[i] = (uint32_t)s;
        }
        return RED_SINK_OK;
}

/* The sources of the batch's keys (d->parts); the ones not covered are
 * loaded from the earliest of their keys' times minus the horizon. */
static red_sink_result_t cover(red_sink_dedupe_t *d, red_sink_io_t *io,
                               const red_core_dedupe_key_t *keys, size_t cnt,
                               char *errstr, size_t size)
{
        red_sink_result_t r;

        if ((r = sources(d, keys, cnt, errstr, size))) {
                return r;
        }
        for (size_t i = 0; i < cnt; i++) {
                red_time_t first = keys[i].ev->time;

                if (red_seen_covered(d->seen, d->parts[i])) {
                        continue;
                }
                for (size_t k = i + 1; k < cnt; k++) {
                        if (d->parts[k] == d->parts[i] &&
                            keys[k].ev->time < first) {
                                first = keys[k].ev->time;
                        }
                }
                if ((r = load(d, io, d->parts[i],
                              first - d->c->dedupe_horizon_us, errstr, size))) {
                        return r;
                }
        }
        return RED_SINK_OK;
}

/* The lookup of the keys @p ask[0..n) (indices into @p keys): those
 * stored within the horizon of their event are duplicates (and go into
 * the filter). */
static red_sink_result_t lookup(red_sink_dedupe_t *d, red_sink_io_t *io,
                                red_core_t *core,
                                const red_core_dedupe_key_t *keys,
                                const size_t *ask, size_t n, size_t *found,
                                char *errstr, size_t size)
{
        red_time_t lo = INT64_MAX, hi = INT64_MIN;
        char tlo[RED_TIME_FMT_SIZE], thi[RED_TIME_FMT_SIZE], hor[24];
        const char *vals[7];
        red_buf_t karr, tarr, harr;
        red_sink_result_t r = RED_SINK_OK;
        PGresult *res;

        red_buf_init(&karr);
        red_buf_init(&tarr);
        red_buf_init(&harr);
        red_buf_putc(&karr, '{');
        red_buf_putc(&tarr, '{');
        red_buf_putc(&harr, '{');
        for (size_t a = 0; a < n; a++) {
                const red_core_dedupe_key_t *k = &keys[ask[a]];
                char ts[RED_TIME_FMT_SIZE], h[RED_UUID_STR_SIZE];

                if (key_hash(d->sha, d->c->name, k->key, k->len, h)) {
                        harr.failed = true;
                }
                red_buf_printf(&harr, "%s%s", a ? "," : "", h);
                red_buf_puts(&karr, a ? "," : "");
                red_sink_io_put_array_elem(&karr, k->key, k->len);
                red_time_format(k->ev->time, ts, sizeof(ts));
                red_buf_printf(&tarr, "%s%s", a ? "," : "", ts);
                lo = k->ev->time < lo ? k->ev->time : lo;
                hi = k->ev->time > hi ? k->ev->time : hi;
        }
        red_buf_putc(&karr, '}');
        red_buf_putc(&tarr, '}');
        red_buf_putc(&harr, '}');
        if (karr.failed || tarr.failed || harr.failed) {
                r = oom(errstr, size);
                goto done;
        }
        red_time_format(storable(lo - d->c->dedupe_horizon_us), tlo,
                        sizeof(tlo));
        red_time_format(storable(hi + d->c->dedupe_horizon_us), thi,
                        sizeof(thi));
        snprintf(hor, sizeof(hor), "%lld", (long long)d->c->dedupe_horizon_us);
        vals[0] = d->c->name;
        vals[1] = karr.data;
        vals[2] = tarr.data;
        vals[3] = hor;
        vals[4] = tlo;
        vals[5] = thi;
        vals[6] = harr.data;
        /* the batch's range first (it prunes the partitions), then each
         * key's own horizon; the hash finds, the key and contract check */
        if ((r = red_sink_io_exec(
                     io,
                     "SELECT k.i, (extract(epoch FROM min(s.event_time)) * "
                     "1000000)::bigint FROM unnest($2::text[], "
                     "$3::timestamptz[], $7::uuid[]) WITH ORDINALITY AS "
                     "k(key, t, h, i) JOIN " TABLE " s ON s.key_hash = k.h "
                     "AND s.contract = $1 AND s.key = k.key "
                     "AND s.event_time >= $5 AND s.event_time <= $6 AND "
                     "s.event_time BETWEEN k.t - $4::bigint * interval "
                     "'1 microsecond' AND k.t + $4::bigint * interval "
                     "'1 microsecond' GROUP BY k.i",
                     7, vals, &res, errstr, size))) {
                goto done;
        }
        /* k.i numbers the asked keys from 1, in order */
        for (int row = 0; row < PQntuples(res); row++) {
                size_t a = (size_t)strtoull(PQgetvalue(res, row, 0), NULL, 10);
                red_time_t t = strtoll(PQgetvalue(res, row, 1), NULL, 10);

                if (a < 1 || a > n) {
                        continue;
                }
                red_core_dedupe_seen(core, ask[a - 1]);
                (*found)++;
                if (red_seen_add(d->seen, d->parts[ask[a - 1]],
                                 keys[ask[a - 1]].hash, t)) {
                        PQclear(res);
                        r = oom(errstr, size);
                        goto done;
                }
        }
        PQclear(res);
done:
        red_buf_destroy(&karr);
        red_buf_destroy(&tarr);
        red_buf_destroy(&harr);
        return r;
}

red_sink_result_t red_sink_dedupe_mark(red_sink_dedupe_t *d, red_sink_io_t *io,
                                       red_core_t *core, char *errstr,
                                       size_t size)
{
        const red_core_dedupe_key_t *keys;
        size_t cnt, asked = 0, found = 0;
        red_sink_result_t r = RED_SINK_OK;
        size_t *ask;

        keys = red_core_dedupe_keys(core, &cnt);
        if (!cnt || !d->seen) {
                return RED_SINK_OK;
        }
        if (!red_sink_io_connected(io)) {
                snprintf(errstr, size, "not connected to PostgreSQL");
                return RED_SINK_RETRY;
        }
        if ((r = cover(d, io, keys, cnt, errstr, size))) {
                return r;
        }
        if (!(ask = malloc(cnt * sizeof(*ask)))) {
                return oom(errstr, size);
        }
        for (size_t i = 0; i < cnt; i++) {
                switch (red_seen_check(d->seen, d->parts[i], keys[i].hash,
                                       keys[i].ev->time)) {
                case RED_SEEN_DUP:
                        red_core_dedupe_seen(core, i);
                        break;
                case RED_SEEN_ASK:
                        ask[asked++] = i;
                        break;
                default:
                        /* stored from another partition at all? the
                         * primary key says so at the COPY; after it did,
                         * ask for a while */
                        if (d->lookup_credit > 0) {
                                ask[asked++] = i;
                        }
                        break;
                }
        }
        if (asked) {
                r = lookup(d, io, core, keys, ask, asked, &found, errstr, size);
        }
        free(ask);
        if (d->lookup_credit > 0) {
                d->lookup_credit = found ? LOOKUP_CREDIT : d->lookup_credit - 1;
        }
        return r;
}

/* --- in the batch: the new keys ---------------------------------------- */

/* Remembers a key written, for the filter once committed. */
static int note_written(red_sink_dedupe_t *d, uint32_t part, uint64_t hash,
                        red_time_t t)
{
        if (d->written_cnt == d->written_cap) {
                size_t ncap = d->written_cap ? d->written_cap * 2 : 256;
                written_t *nw = realloc(d->written, ncap * sizeof(*nw));
                if (!nw) {
                        return -ENOMEM;
                }
                d->written = nw;
                d->written_cap = ncap;
        }
        d->written[d->written_cnt].part = part;
        d->written[d->written_cnt].hash = hash;
        d->written[d->written_cnt].time = t;
        d->written_cnt++;
        return 0;
}

/* The partitions the keys to write fall into (consecutive keys mostly
 * share a day: the last range is kept). */
static red_sink_result_t partitions(red_sink_io_t *io,
                                    const red_core_dedupe_key_t *keys,
                                    size_t cnt, red_core_t *core, char *errstr,
                                    size_t size)
{
        red_time_t from = 0, to = 0;
        red_sink_result_t r;

        for (size_t i = 0; i < cnt; i++) {
                red_time_t t = keys[i].ev->time;
                char name[128];

                if (!red_core_released_event(core, keys[i].entry) ||
                    (t >= from && t < to)) {
                        continue;
                }
                if ((r = red_sink_io_partition(io, TABLE, RED_PART_DAILY, 0, t,
                                               errstr, size))) {
                        return r;
                }
                red_partition_of(TABLE, RED_PART_DAILY, t, name, sizeof(name),
                                 &from, &to);
        }
        return red_sink_io_noted(io, errstr, size);
}

/* The rows go in PostgreSQL's binary COPY format: the server copies the
 * hashes, numbers and time instead of parsing their text (uuid_in,
 * timestamptz_in), and reducerd formats none. */

/* 2000-01-01T00:00:00Z, PostgreSQL's epoch, in Unix microseconds. */
#define PG_EPOCH_US INT64_C(946684800000000)

/* @p v in @p n bytes, most significant first. */
static void put_be(red_buf_t *b, uint64_t v, int n)
{
        unsigned char x[8];

        for (int i = 0; i < n; i++) {
                x[i] = (unsigned char)(v >> (8 * (n - 1 - i)));
        }
        red_buf_append(b, x, (size_t)n);
}

/* A field of @p len bytes: its length, then the bytes. */
static void bin_bytes(red_buf_t *b, const void *p, size_t len)
{
        put_be(b, len, 4);
        red_buf_append(b, p, len);
}

/* An integer field of @p n bytes (int4, int8, timestamptz). */
static void bin_int(red_buf_t *b, uint64_t v, int n)
{
        put_be(b, (uint64_t)n, 4);
        put_be(b, v, n);
}

red_sink_result_t red_sink_dedupe_partition_at(red_sink_dedupe_t *d,
                                               red_sink_io_t *io, red_time_t t,
                                               char *errstr, size_t size)
{
        if (d->c->dedupe_slot < 0) {
                return RED_SINK_OK;
        }
        return red_sink_io_partition(io, TABLE, RED_PART_DAILY, 0, t, errstr,
                                     size);
}

red_sink_result_t red_sink_dedupe_write(red_sink_dedupe_t *d, red_sink_io_t *io,
                                        red_core_t *core, size_t *n,
                                        char *errstr, size_t size)
{
        const red_core_dedupe_key_t *keys;
        red_sink_result_t r;
        size_t cnt, fresh = 0;

        d->written_cnt = 0;
        keys = red_core_dedupe_keys(core, &cnt);
        for (size_t i = 0; d->seen && i < cnt; i++) {
                fresh += red_core_released_event(core, keys[i].entry) != NULL;
        }
        if (!fresh) {
                return RED_SINK_OK; /* no key, or only duplicates */
        }
        if ((r = sources(d, keys, cnt, errstr, size)) ||
            (r = partitions(io, keys, cnt, core, errstr, size)) ||
            (r = red_sink_io_copy_begin(io,
                                        "COPY " TABLE
                                        " (key_hash, event_time, source, "
                                        "contract, key, topic, partition, "
                                        "\"offset\") FROM STDIN (FORMAT "
                                        "binary)",
                                        errstr, size))) {
                return r;
        }
        red_buf_reset(&d->buf);
        /* signature, flags, header extension length */
        red_buf_append(&d->buf, "PGCOPY\n\377\r\n", 11);
        put_be(&d->buf, 0, 4);
        put_be(&d->buf, 0, 4);
        for (size_t i = 0; i < cnt; i++) {
                const red_event_t *ev = keys[i].ev;
                const char *topic = ev->msg->topic ? ev->msg->topic : "";
                unsigned char md[RED_HMAC_SHA256_SIZE];

                /* a duplicate found since the keys were noted (raw rows) */
                if (!red_core_released_event(core, keys[i].entry)) {
                        continue;
                }
                if (key_digest(d->sha, d->c->name, keys[i].key, keys[i].len,
                               md)) {
                        d->buf.failed = true; /* retried, as OOM is */
                        continue;
                }
                put_be(&d->buf, 8, 2); /* fields */
                bin_bytes(&d->buf, md, 16);
                bin_int(&d->buf, (uint64_t)(ev->time - PG_EPOCH_US), 8);
                bin_int(&d->buf, (uint64_t)d->sources[d->parts[i]].source, 8);
                bin_bytes(&d->buf, d->c->name, strlen(d->c->name));
                bin_bytes(&d->buf, keys[i].key, keys[i].len);
                bin_bytes(&d->buf, topic, strlen(topic));
                bin_int(&d->buf, (uint64_t)(uint32_t)ev->msg->partition, 4);
                bin_int(&d->buf, (uint64_t)ev->msg->offset, 8);
                if (note_written(d, d->parts[i], keys[i].hash, ev->time)) {
                        d->buf.failed = true;
                }
                if (d->buf.len >= COPY_PIECE &&
                    (r = red_sink_io_copy_send(io, &d->buf, errstr, size))) {
                        return r;
                }
        }
        put_be(&d->buf, 0xffff, 2); /* the trailer: -1 fields */
        if ((r = red_sink_io_copy_send(io, &d->buf, errstr, size))) {
                return r;
        }
        *n += d->written_cnt;
        r = red_sink_io_copy_end(io, RED_SINK_REPLAY, errstr, size);
        if (r == RED_SINK_REPLAY) {
                /* stored meanwhile from elsewhere: consumed again, and the
                 * next batches look every key up */
                d->lookup_credit = LOOKUP_CREDIT;
        }
        return r;
}

void red_sink_dedupe_uncertain(red_sink_dedupe_t *d)
{
        for (size_t i = 0; d->seen && i < d->written_cnt; i++) {
                red_seen_uncover(d->seen, d->written[i].part);
        }
        d->written_cnt = 0;
}

void red_sink_dedupe_committed(red_sink_dedupe_t *d)
{
        for (size_t i = 0; d->seen && i < d->written_cnt; i++) {
                const written_t *w = &d->written[i];
                if (red_seen_add(d->seen, w->part, w->hash, w->time)) {
                        /* the filter lost a key it should hold: asking the
                         * table again is safe */
                        red_seen_uncover(d->seen, w->part);
                }
        }
        d->written_cnt = 0;
}
