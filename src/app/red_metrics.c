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

/* Alerts by rule and what happened to them on the way to people. */
static void alert_metrics(red_buf_t *b, red_pipeline_t *const *pipes,
                          const red_pipeline_stats_t *st, const char **names,
                          size_t cnt, red_deliver_t *deliver)
{
        static const char *const sev[] = {"CRITICAL", "WARNING", "INFO"};
        static const char *const kinds[] = {"alertmanager", "webhook"};
        red_deliver_stats_t ds = {0};
        uint64_t cum = 0;

        head(b, "reducerd_alerts_resolved_total", "counter",
             "Window alerts resolved by severity");
        for (size_t i = 0; i < cnt; i++) {
                for (int k = 0; k < 3; k++) {
                        red_buf_printf(
                                b,
                                "reducerd_alerts_resolved_total{"
                                "contract=\"%s\",severity=\"%s\"} "
                                "%llu\n",
                                names[i], sev[k],
                                (unsigned long long)st[i].alerts_resolved[k]);
                }
        }
        head(b, "reducerd_alert_rule_events_total", "counter",
             "Alerts fired and resolved by rule");
        for (size_t i = 0; i < cnt; i++) {
                const red_alerts_t *a = red_pipeline_contract(pipes[i])->alerts;
                uint64_t f[256], r[256];
                size_t n = red_pipeline_alert_rules(pipes[i], f, r, 256);

                for (size_t k = 0; a && k < n; k++) {
                        bool w = k >= a->rule_cnt;
                        const char *id = w ? a->window_rules[k - a->rule_cnt].id
                                           : a->rules[k].id;
                        const char *s =
                                w ? a->window_rules[k - a->rule_cnt].severity
                                  : a->rules[k].severity;

                        red_buf_printf(b,
                                       "reducerd_alert_rule_events_total{"
                                       "contract=\"%s\",rule=\"%s\","
                                       "severity=\"%s\",event=\"fired\"} "
                                       "%llu\n",
                                       names[i], id, s,
                                       (unsigned long long)f[k]);
                        if (w) {
                                red_buf_printf(
                                        b,
                                        "reducerd_alert_rule_events_total{"
                                        "contract=\"%s\",rule=\"%s\","
                                        "severity=\"%s\",event="
                                        "\"resolved\"} %llu\n",
                                        names[i], id, s,
                                        (unsigned long long)r[k]);
                        }
                }
        }
        if (!deliver) {
                return;
        }
        red_deliver_stats(deliver, &ds);
        head(b, "reducerd_alert_deliveries_total", "counter",
             "Alerts delivered, and failed delivery requests, by "
             "destination kind");
        for (int k = 0; k < RED_DELIVER__KINDS; k++) {
                red_buf_printf(b,
                               "reducerd_alert_deliveries_total{destination="
                               "\"%s\",outcome=\"delivered\"} %llu\n"
                               "reducerd_alert_deliveries_total{destination="
                               "\"%s\",outcome=\"failed\"} %llu\n",
                               kinds[k], (unsigned long long)ds.delivered[k],
                               kinds[k], (unsigned long long)ds.failed[k]);
        }
        head(b, "reducerd_alert_resent_total", "counter",
             "Firing window alerts sent to Alertmanager again");
        red_buf_printf(b, "reducerd_alert_resent_total %llu\n",
                       (unsigned long long)ds.resent);
        head(b, "reducerd_alert_queue_depth", "gauge",
             "Alerts waiting in reducerd_alert_outbox");
        red_buf_printf(b, "reducerd_alert_queue_depth %lld\n",
                       (long long)(ds.depth < 0 ? 0 : ds.depth));
        head(b, "reducerd_alert_delivery_seconds", "histogram",
             "From the commit that queued an alert to its last destination");
        for (int i = 0; i < 11; i++) {
                cum += ds.latency_buckets[i];
                red_buf_printf(b,
                               "reducerd_alert_delivery_seconds_bucket{le="
                               "\"%g\"} %llu\n",
                               red_deliver_latency_bounds[i],
                               (unsigned long long)cum);
        }
        cum += ds.latency_buckets[11];
        red_buf_printf(b,
                       "reducerd_alert_delivery_seconds_bucket{le=\"+Inf\"} "
                       "%llu\nreducerd_alert_delivery_seconds_sum %.6f\n"
                       "reducerd_alert_delivery_seconds_count %llu\n",
                       (unsigned long long)cum, ds.latency_sum,
                       (unsigned long long)cum);
}

void red_metrics_render(red_buf_t *b, red_pipeline_t *const *pipes, size_t cnt,
                        red_relay_t *relay, red_deliver_t *deliver)
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

        COUNTER("reducerd_events_consumed_total",
                "Messages read whose position is committed, counted one by "
                "one (= applied + dead_lettered + late dropped + duplicate)",
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
                                names[i], red_dlq_code_name(c),
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
        head(b, "reducerd_offset_gaps_total", "counter",
             "Offsets not read as they came, by cause");
        for (size_t i = 0; i < cnt; i++) {
                for (int c = 0; c < RED_GAP__CNT; c++) {
                        red_buf_printf(b,
                                       "reducerd_offset_gaps_total{contract="
                                       "\"%s\",cause=\"%s\"} %llu\n",
                                       names[i], red_pipeline_gap_cause_name(c),
                                       (unsigned long long)st[i].gaps[c]);
                }
        }
        head(b, "reducerd_offsets_skipped_total", "counter",
             "Offsets passed without a message, by reason");
        for (size_t i = 0; i < cnt; i++) {
                for (int r = 0; r < RED_SKIP__CNT; r++) {
                        red_buf_printf(
                                b,
                                "reducerd_offsets_skipped_total{contract="
                                "\"%s\",reason=\"%s\"} %llu\n",
                                names[i], red_pipeline_skip_reason_name(r),
                                (unsigned long long)st[i].offsets_skipped[r]);
                }
        }
        COUNTER("reducerd_offset_resets_total",
                "Partitions read again from their log's start by "
                "kafka.offset_gap_policy reset",
                st[i].offset_resets)
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
        alert_metrics(b, pipes, st, names, cnt, deliver);
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
        GAUGE("reducerd_partitions_stopped",
              "Partitions not consumed after an offset gap "
              "(kafka.offset_gap_policy fail)",
              st[i].partitions_stopped)
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
