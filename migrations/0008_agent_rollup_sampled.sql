-- Agent metrics may be sampled by their producers (contracts/agent_metrics.yaml,
-- weight: 1 / sample_rate): a rollup's count, sum, avg and percentiles are
-- then weighted estimates, and sampled_count is the number of metrics that
-- actually arrived (equal to count when nothing is sampled). Written by
-- reducerd from this version on; NULL in rows written before.
ALTER TABLE IF EXISTS agent_metrics_rollup
    ADD COLUMN IF NOT EXISTS sampled_count bigint;
