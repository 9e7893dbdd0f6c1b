/* red_replay - the input topics read again between fixed offsets. */
#include "red_replay.h"

#include "red_kafka_conf.h"
#include "red_log.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define META_TIMEOUT_MS 10000

struct red_replay_s {
        rd_kafka_t *rk;
        char **topics;
        size_t topic_cnt;
        red_replay_part_t *parts;
        size_t part_cnt;
        bool fallback_logged;
};

void red_replay_destroy(red_replay_t *rp)
{
        if (!rp) {
                return;
        }
        if (rp->rk) {
                rd_kafka_consumer_close(rp->rk);
                rd_kafka_destroy(rp->rk);
        }
        for (size_t i = 0; i < rp->topic_cnt; i++) {
                free(rp->topics[i]);
        }
        free(rp->topics);
        free(rp->parts);
        free(rp);
}

red_replay_t *red_replay_new(const red_config_t *conf, const char *brokers,
                             const char *group, const char *const *topics,
                             size_t cnt, char *errstr, size_t size)
{
        red_replay_t *rp = calloc(1, sizeof(*rp));
        rd_kafka_conf_t *kc;
        char err[512];

        if (!rp || !(rp->topics = calloc(cnt + 1, sizeof(char *)))) {
                free(rp);
                snprintf(errstr, size, "out of memory");
                return NULL;
        }
        for (size_t i = 0; i < cnt; i++) {
                if (!(rp->topics[rp->topic_cnt++] = strdup(topics[i]))) {
                        snprintf(errstr, size, "out of memory");
                        goto err;
                }
        }
        if (!(kc = red_kafka_conf_consumer(conf, brokers, "reducerd-backfill",
                                           group, errstr, size))) {
                goto err;
        }
        /* the end of a partition tells that nothing more is coming */
        if (rd_kafka_conf_set(kc, "enable.partition.eof", "true", err,
                              sizeof(err)) != RD_KAFKA_CONF_OK ||
            !(rp->rk = rd_kafka_new(RD_KAFKA_CONSUMER, kc, err, sizeof(err)))) {
                rd_kafka_conf_destroy(kc);
                snprintf(errstr, size, "kafka consumer: %s", err);
                goto err;
        }
        rd_kafka_poll_set_consumer(rp->rk);
        return rp;
err:
        red_replay_destroy(rp);
        return NULL;
}

/* Every partition of the topics, from the cluster's metadata. */
static int load_parts(red_replay_t *rp, char *errstr, size_t size)
{
        for (size_t i = 0; i < rp->topic_cnt; i++) {
                const struct rd_kafka_metadata *md = NULL;
                rd_kafka_topic_t *rkt =
                        rd_kafka_topic_new(rp->rk, rp->topics[i], NULL);
                rd_kafka_resp_err_t e;

                if (!rkt) {
                        snprintf(errstr, size, "topic %s: %s", rp->topics[i],
                                 rd_kafka_err2str(rd_kafka_last_error()));
                        return -1;
                }
                e = rd_kafka_metadata(rp->rk, 0, rkt, &md, META_TIMEOUT_MS);
                rd_kafka_topic_destroy(rkt);
                if (e || md->topic_cnt != 1 || md->topics[0].err) {
                        snprintf(
                                errstr, size, "topic %s: %s", rp->topics[i],
                                rd_kafka_err2str(
                                        e ? e
                                        : md->topic_cnt
                                                ? md->topics[0].err
                                                : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC));
                        if (md) {
                                rd_kafka_metadata_destroy(md);
                        }
                        return -1;
                }
                for (int k = 0; k < md->topics[0].partition_cnt; k++) {
                        red_replay_part_t *n = realloc(
                                rp->parts, (rp->part_cnt + 1) * sizeof(*n));
                        if (!n) {
                                rd_kafka_metadata_destroy(md);
                                snprintf(errstr, size, "out of memory");
                                return -1;
                        }
                        rp->parts = n;
                        n = &rp->parts[rp->part_cnt++];
                        memset(n, 0, sizeof(*n));
                        n->topic = rp->topics[i];
                        n->partition = md->topics[0].partitions[k].id;
                }
                rd_kafka_metadata_destroy(md);
        }
        return 0;
}

/* The timestamp of the message at @p offset, or -1 (read with a short
 * assignment of its own). */
static int64_t timestamp_at(red_replay_t *rp, const red_replay_part_t *p,
                            int64_t offset)
{
        rd_kafka_topic_partition_list_t *l =
                rd_kafka_topic_partition_list_new(1);
        int64_t ts = -1;

        rd_kafka_topic_partition_list_add(l, p->topic, p->partition)->offset =
                offset;
        if (!rd_kafka_assign(rp->rk, l)) {
                for (int tries = 0; tries < 50 && ts < 0; tries++) {
                        rd_kafka_message_t *m =
                                rd_kafka_consumer_poll(rp->rk, 200);
                        if (!m) {
                                continue;
                        }
                        if (!m->err && m->offset == offset) {
                                ts = rd_kafka_message_timestamp(m, NULL);
                        }
                        rd_kafka_message_destroy(m);
                }
                rd_kafka_assign(rp->rk, NULL);
        }
        rd_kafka_topic_partition_list_destroy(l);
        return ts;
}

/* The end offsets of an earlier run, if it recorded them. */
static int apply_ends(red_replay_t *rp, const char *end_json, char *errstr,
                      size_t size)
{
        json_t *root = json_loads(end_json, 0, NULL);

        if (!json_is_object(root)) {
                json_decref(root);
                snprintf(errstr, size,
                         "the recorded end offsets are no JSON "
                         "object");
                return -1;
        }
        for (size_t i = 0; i < rp->part_cnt; i++) {
                char key[300];
                json_t *v;

                snprintf(key, sizeof(key), "%s/%d", rp->parts[i].topic,
                         (int)rp->parts[i].partition);
                v = json_object_get(root, key);
                if (json_is_integer(v)) {
                        rp->parts[i].end = json_integer_value(v);
                }
        }
        json_decref(root);
        return 0;
}

static char *ends_json(const red_replay_t *rp)
{
        json_t *root = json_object();
        char *s;

        for (size_t i = 0; root && i < rp->part_cnt; i++) {
                char key[300];
                snprintf(key, sizeof(key), "%s/%d", rp->parts[i].topic,
                         (int)rp->parts[i].partition);
                json_object_set_new(root, key, json_integer(rp->parts[i].end));
        }
        s = root ? json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        json_decref(root);
        return s;
}

int red_replay_plan(red_replay_t *rp, red_time_t from, const char *end_json,
                    char **end_out, char *errstr, size_t size)
{
        rd_kafka_topic_partition_list_t *l;
        rd_kafka_resp_err_t e;

        *end_out = NULL;
        if (load_parts(rp, errstr, size)) {
                return -1;
        }
        l = rd_kafka_topic_partition_list_new((int)rp->part_cnt);
        for (size_t i = 0; i < rp->part_cnt; i++) {
                red_replay_part_t *p = &rp->parts[i];
                int64_t lo, hi;

                e = rd_kafka_query_watermark_offsets(rp->rk, p->topic,
                                                     p->partition, &lo, &hi,
                                                     META_TIMEOUT_MS);
                if (e) {
                        snprintf(errstr, size, "%s/%d: %s", p->topic,
                                 (int)p->partition, rd_kafka_err2str(e));
                        rd_kafka_topic_partition_list_destroy(l);
                        return -1;
                }
                p->start = lo;
                p->end = hi;
                rd_kafka_topic_partition_list_add(l, p->topic, p->partition)
                        ->offset = from == INT64_MIN ? 0 : from / 1000;
        }
        if (end_json && apply_ends(rp, end_json, errstr, size)) {
                rd_kafka_topic_partition_list_destroy(l);
                return -1;
        }
        if (from != INT64_MIN &&
            (e = rd_kafka_offsets_for_times(rp->rk, l, META_TIMEOUT_MS))) {
                snprintf(errstr, size, "offsets for %lld ms: %s",
                         (long long)(from / 1000), rd_kafka_err2str(e));
                rd_kafka_topic_partition_list_destroy(l);
                return -1;
        }
        for (size_t i = 0; from != INT64_MIN && i < rp->part_cnt; i++) {
                red_replay_part_t *p = &rp->parts[i];
                int64_t at = l->elems[i].offset;

                if (l->elems[i].err || at < 0) {
                        /* "none that late": unless the last one is, which
                         * means the broker could not tell (see the
                         * header) */
                        int64_t last = p->end > p->start
                                               ? timestamp_at(rp, p, p->end - 1)
                                               : -1;
                        if (last >= 0 && last >= from / 1000) {
                                if (!rp->fallback_logged) {
                                        red_log_info(
                                                "backfill",
                                                "the brokers did not resolve "
                                                "a time to an offset "
                                                "(librdkafka's mock cluster "
                                                "cannot): reading from the "
                                                "beginning");
                                        rp->fallback_logged = true;
                                }
                                continue;
                        }
                        at = p->end;
                }
                p->start = at > p->start ? at : p->start;
        }
        rd_kafka_topic_partition_list_destroy(l);
        for (size_t i = 0; i < rp->part_cnt; i++) {
                if (rp->parts[i].start > rp->parts[i].end) {
                        rp->parts[i].start = rp->parts[i].end;
                }
        }
        if (!(*end_out = ends_json(rp))) {
                snprintf(errstr, size, "out of memory");
                return -1;
        }
        return 0;
}

int red_replay_set(red_replay_t *rp, const char *topic, int32_t partition,
                   int64_t start, int64_t end)
{
        for (size_t i = 0; i < rp->part_cnt; i++) {
                if (rp->parts[i].partition == partition &&
                    !strcmp(rp->parts[i].topic, topic)) {
                        rp->parts[i].start = start;
                        rp->parts[i].end = end > start ? end : start;
                        return 0;
                }
        }
        return -EINVAL;
}

int red_replay_start(red_replay_t *rp, char *errstr, size_t size)
{
        rd_kafka_topic_partition_list_t *l =
                rd_kafka_topic_partition_list_new((int)rp->part_cnt);
        rd_kafka_resp_err_t e;

        for (size_t i = 0; i < rp->part_cnt; i++) {
                red_replay_part_t *p = &rp->parts[i];

                p->next = p->start;
                p->finished = p->start >= p->end;
                if (!p->finished) {
                        rd_kafka_topic_partition_list_add(l, p->topic,
                                                          p->partition)
                                ->offset = p->start;
                }
        }
        e = l->cnt ? rd_kafka_assign(rp->rk, l) : RD_KAFKA_RESP_ERR_NO_ERROR;
        rd_kafka_topic_partition_list_destroy(l);
        if (e) {
                snprintf(errstr, size, "assign: %s", rd_kafka_err2str(e));
                return -1;
        }
        return 0;
}

static red_replay_part_t *part_of(red_replay_t *rp, const rd_kafka_message_t *m)
{
        const char *topic = rd_kafka_topic_name(m->rkt);

        for (size_t i = 0; i < rp->part_cnt; i++) {
                if (rp->parts[i].partition == m->partition &&
                    !strcmp(rp->parts[i].topic, topic)) {
                        return &rp->parts[i];
                }
        }
        return NULL;
}

long red_replay_poll(red_replay_t *rp, size_t max, int timeout_ms,
                     red_replay_cb *cb, void *arg, char *errstr, size_t size)
{
        long n = 0;

        while ((size_t)n < max && !red_replay_done(rp)) {
                rd_kafka_message_t *m =
                        rd_kafka_consumer_poll(rp->rk, n ? 0 : timeout_ms);
                red_replay_part_t *p;

                if (!m) {
                        break;
                }
                p = m->rkt ? part_of(rp, m) : NULL;
                if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                        /* read to the end of what is there */
                        if (p && m->offset >= p->end) {
                                p->finished = true;
                        }
                        rd_kafka_message_destroy(m);
                        continue;
                }
                if (m->err) {
                        snprintf(errstr, size, "kafka: %s",
                                 rd_kafka_message_errstr(m));
                        rd_kafka_message_destroy(m);
                        if (rd_kafka_fatal_error(rp->rk, NULL, 0)) {
                                return -1;
                        }
                        continue;
                }
                if (!p || p->finished || m->offset < p->next ||
                    m->offset >= p->end) {
                        /* past the end (arrived after the plan), or a
                         * message handed out before */
                        if (p && m->offset >= p->end) {
                                p->finished = true;
                        }
                        rd_kafka_message_destroy(m);
                        continue;
                }
                p->next = m->offset + 1;
                p->finished = p->next >= p->end;
                if (cb(arg, m)) {
                        snprintf(errstr, size, "applying the replayed events");
                        return -1;
                }
                n++;
        }
        return n;
}

bool red_replay_done(const red_replay_t *rp)
{
        for (size_t i = 0; i < rp->part_cnt; i++) {
                if (!rp->parts[i].finished) {
                        return false;
                }
        }
        return true;
}

const red_replay_part_t *red_replay_parts(const red_replay_t *rp, size_t *cntp)
{
        *cntp = rp->part_cnt;
        return rp->parts;
}

void red_replay_view(const rd_kafka_message_t *m, red_msg_t *v)
{
        rd_kafka_headers_t *hdrs = NULL;
        rd_kafka_timestamp_type_t tstype;
        const void *hv;
        size_t hlen;
        int64_t ts;

        memset(v, 0, sizeof(*v));
        v->topic = rd_kafka_topic_name(m->rkt);
        v->partition = m->partition;
        v->offset = m->offset;
        v->key = m->key;
        v->key_len = m->key_len;
        v->value = m->payload;
        v->value_len = m->len;
        ts = rd_kafka_message_timestamp(m, &tstype);
        v->timestamp = ts >= 0 ? ts * 1000 : -1;
        if (!rd_kafka_message_headers(m, &hdrs) &&
            !rd_kafka_header_get_last(hdrs, "event_type", &hv, &hlen) && hv) {
                v->header_type = hv;
                v->header_type_len = hlen;
        }
}
