-- Why stages fail (contracts/codegen_metrics.yaml, measure failed_errors):
-- per failed stage the last five distinct error_message texts of its
-- Failed events, newest first, e.g. {"code_generation": ["LLM timeout"]}.
-- Written by reducerd from this version on; NULL in rows written before
-- until they change again.
ALTER TABLE IF EXISTS codegen_metrics_aggregated
    ADD COLUMN IF NOT EXISTS failed_stage_errors jsonb;
