/* red_metrics - Prometheus text exposition of reducerd's counters. */
#include "red_metrics.h"

#include "red_decode.h"
#include "red_dmetrics.h"
#include "red_fsm.h"

#include <librdkafka/rdkafka.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void head(red_buf_t *b, const char *name, const char *type,
                 const char *help)
{
        red_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
                       type);
}

static void histogram(red_buf_t *b, const char *name, const char *contract,
                      const uint64_t *buckets, const double *bounds,
                      double scale, double sum)
{
        uint64_t cum = 0;

        for (int i = 0; i < 15; i++) {
                cum += buckets[i];
                red_buf_printf(b, "%s_bucket{contract=\"%s\",le=\"%g\"} %llu\n",
                               name, contract, bounds[i] * scale,
                               (unsigned long long)cum);
        }
        cum += buckets[15];
        red_buf_printf(b, "%s_bucket{contract=\"%s\",le=\"+Inf\"} %llu\n", name,
                       contract, (unsigned long long)cum);
        red_buf_printf(b, "%s_sum{contract=\"%s\"} %.6f\n", name, contract,
                       sum * scale);
        red_buf_printf(b, "%s_count{contract=\"%s\"} %llu\n", name, contract,
                       (unsigned long long)cum);
}

void red_metrics_render(red_buf_t *b, red_pipeline_t *const *pipes, size_t cnt,
                        red_relay_t *relay)
{
        red_pipeline_stats_t *st = calloc(cnt ? cnt : 1, sizeof(*st));
        const char **names = calloc(cnt ? cnt : 1, sizeof(*names));
        red_relay_stats_t rs = {0};
        int pq = PQlibVersion();

        if (!st || !names) {
                free(st);
                free(names);
                return;
        }
        for (size_t i = 0; i < cnt; i++) {
                red_pipeline_stats(pipes[i], &st[i]);
                names[i] = red_pipeline_contract(pipes[i])->name;
        }
        head(b, "reducerd_build_info", "gauge", "Build and library versions");
        red_buf_printf(b,
                       "reducerd_build_info{version=\"%s\",librdkafka=\"%s\","
                       "libpq=\"%d.%d\"} 1\n",
                       RED_VERSION, rd_kafka_version_str(), pq / 10000,
                       pq % 100);

#define COUNTER(name, help, field)                                             \
        head(b, name, "counter", help);                                        \
        for (size_t i = 0; i < cnt; i++) {                                     \
                red_buf_printf(b, name "{contract=\"%s\"} %llu\n", names[i],   \
                               (unsigned long long)(field));                   \
        }
#define GAUGE(name, help, field)                                               \
        head(b, name, "gauge", help);                                          \
        for (size_t i = 0; i < cnt; i++) {                                     \
                red_buf_printf(b, name "{contract=\"%s\"} %llu\n", names[i],   \
                               (unsigned long long)(field));                   \
        }

        COUNTER("reducerd_events_consumed_total", "Messages read and committed",
                st[i].core.consumed)
        COUNTER("reducerd_events_applied_total", "Events applied to tables",
                st[i].core.applied)
        head(b, "reducerd_events_dead_lettered_total", "counter",
             "Dead letters by error code");
        for (size_t i = 0; i < cnt; i++) {
                for (int c = 1; c < RED_DLQ__CNT; c++) {
                        red_buf_printf(
                                b,
                                "reducerd_events_dead_lettered_total{"
                                "contract=\"%s\",reason=\"%s\"} %llu\n",
                                names[i], red_decode_dlq_code_name(c),
                                (unsigned long long)st[i].core.dead_by_code[c]);
                }
        }
        head(b, "reducerd_events_late_total", "counter",
             "Late events by what happened to them");
        for (size_t i = 0; i < cnt; i++) {
                red_buf_printf(
                        b,
                        "reducerd_events_late_total{contract=\"%s\","
                        "policy=\"applied\"} %llu\n"
                        "reducerd_events_late_total{contract=\"%s\","
                        "policy=\"dropped\"} %llu\n",
                        names[i], (unsigned long long)st[i].core.late_applied,
                        names[i], (unsigned long long)st[i].core.late_dropped);
        }
        COUNTER("reducerd_events_duplicate_total",
                "Events skipped because their raw row or dedupe key was "
                "stored already",
                st[i].core.duplicates)
        head(b, "reducerd_alerts_total", "counter", "Alerts fired by severity");
        for (size_t i = 0; i < cnt; i++) {
                static const char *const sev[] = {"CRITICAL", "WARNING",
                                                  "INFO"};
                for (int k = 0; k < 3; k++) {
                        red_buf_printf(b,
                                       "reducerd_alerts_total{contract=\"%s\","
                                       "severity=\"%s\"} %llu\n",
                                       names[i], sev[k],
                                       (unsigned long long)st[i].alerts[k]);
                }
        }
        head(b, "reducerd_batch_size_events", "histogram",
             "Events per committed batch");
        for (size_t i = 0; i < cnt; i++) {
                histogram(b, "reducerd_batch_size_events", names[i],
                          st[i].size_buckets, red_pipeline_size_bounds, 1,
                          st[i].size_sum);
        }
        head(b, "reducerd_batch_commit_seconds", "histogram",
             "From the first message of a batch to its commit");
        for (size_t i = 0; i < cnt; i++) {
                histogram(b, "reducerd_batch_commit_seconds", names[i],
                          st[i].latency_buckets, red_pipeline_latency_bounds_ms,
                          0.001, st[i].latency_sum_ms);
        }
        COUNTER("reducerd_batches_total", "Committed batches", st[i].batches)
        COUNTER("reducerd_batches_replayed_total",
                "Batches consumed again because a concurrent batch stored "
                "some of their raw rows first",
                st[i].replayed)
        COUNTER("reducerd_batches_fenced_total",
                "Batches rolled back because another worker owns a partition",
                st[i].fenced)
        head(b, "reducerd_consumer_lag_messages", "gauge",
             "High watermark minus the committed position");
        for (size_t i = 0; i < cnt; i++) {
                red_pipeline_lag_t lag[512];
                size_t n = red_pipeline_lag(pipes[i], lag, 512);
                for (size_t k = 0; k < n; k++) {
                        if (lag[k].lag < 0) {
                                continue;
                        }
                        red_buf_printf(b,
                                       "reducerd_consumer_lag_messages{"
                                       "contract=\"%s\",topic=\"%s\","
                                       "partition=\"%d\"} %lld\n",
                                       names[i], lag[k].topic,
                                       (int)lag[k].partition,
                                       (long long)lag[k].lag);
                }
        }
        GAUGE("reducerd_partitions_assigned", "Partitions this replica owns",
              st[i].partitions)
        GAUGE("reducerd_reorder_buffered_events",
              "Events waiting in the event-time reorder buffer", st[i].buffered)
        if (relay) {
                red_relay_stats(relay, &rs);
        }
        head(b, "reducerd_outbox_depth", "gauge",
             "Rows waiting in reducerd_outbox");
        red_buf_printf(b, "reducerd_outbox_depth %lld\n",
                       (long long)(rs.depth < 0 ? 0 : rs.depth));
        head(b, "reducerd_outbox_published_total", "counter",
             "Outbox messages acknowledged by Kafka");
        red_buf_printf(b, "reducerd_outbox_published_total %llu\n",
                       (unsigned long long)rs.published);
        head(b, "reducerd_outbox_publish_errors_total", "counter",
             "Failed publish attempts");
        red_buf_printf(b, "reducerd_outbox_publish_errors_total %llu\n",
                       (unsigned long long)rs.publish_errors);
        COUNTER("reducerd_postgres_errors_total",
                "Failed statements or connections", st[i].pg_errors)
        COUNTER("reducerd_postgres_reconnects_total",
                "Successful (re)connections", st[i].pg_reconnects)
        GAUGE("reducerd_postgres_up", "1 when the pipeline's connection works",
              st[i].pg_up)
        GAUGE("reducerd_kafka_up", "1 when the consumer reaches a broker",
              st[i].kafka_up)
        GAUGE("reducerd_workflows_live", "Workflows held in memory",
              st[i].live_workflows)
        head(b, "reducerd_fsm_transitions_total", "counter",
             "History rows by result");
        for (size_t i = 0; i < cnt; i++) {
                for (int r = 0; r < RED_FSM__CNT; r++) {
                        red_buf_printf(
                                b,
                                "reducerd_fsm_transitions_total{"
                                "contract=\"%s\",result=\"%s\"} %llu\n",
                                names[i], red_fsm_result_name(r),
                                (unsigned long long)st[i].core.fsm_results[r]);
                }
        }
#undef COUNTER
#undef GAUGE
        /* the contracts' own series (metrics:), after reducerd's */
        for (size_t i = 0; i < cnt; i++) {
                const red_contract_t *c = red_pipeline_contract(pipes[i]);
                double *vals;

                if (!c->metric_cnt ||
                    !(vals = calloc(c->metric_values, sizeof(*vals)))) {
                        continue;
                }
                red_pipeline_metrics(pipes[i], vals);
                red_dmetrics_render(c, vals, b);
                free(vals);
        }
        free(st);
        free(names);
}
