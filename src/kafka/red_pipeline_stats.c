/* red_pipeline_stats - a pipeline's batch histograms. */
#include "red_pipeline_stats.h"

const double red_pipeline_latency_bounds_ms[15] = {
        5,    10,   25,   50,   100,   250,   500,  750,
        1000, 1500, 2500, 5000, 10000, 30000, 60000};
const double red_pipeline_size_bounds[15] = {
        1,     10,    50,    100,    500,    1000,   2500,   5000,
        10000, 20000, 50000, 100000, 250000, 500000, 1000000};

const char *red_pipeline_gap_cause_name(red_gap_cause_t cause)
{
        static const char *const names[RED_GAP__CNT] = {
                "fetch", "no_records", "out_of_range", "log_changed"};

        return (unsigned)cause < RED_GAP__CNT ? names[cause] : "unknown";
}

const char *red_pipeline_skip_reason_name(red_skip_reason_t reason)
{
        static const char *const names[RED_SKIP__CNT] = {"no_records", "reset"};

        return (unsigned)reason < RED_SKIP__CNT ? names[reason] : "unknown";
}

/* The bucket of @p v: the first bound it does not exceed, 15 for +Inf. */
static int bucket(const double bounds[15], double v)
{
        int b;

        for (b = 0; b < 15 && v > bounds[b]; b++) {
        }
        return b;
}

void red_pipeline_stats_observe(red_pipeline_stats_t *st, size_t events,
                                double latency_ms)
{
        st->batches++;
        st->latency_buckets[bucket(red_pipeline_latency_bounds_ms,
                                   latency_ms)]++;
        st->latency_sum_ms += latency_ms;
        st->size_buckets[bucket(red_pipeline_size_bounds, (double)events)]++;
        st->size_sum += (double)events;
}
