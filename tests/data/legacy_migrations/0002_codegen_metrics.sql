-- Code-generation aggregates (contracts/codegen_metrics.yaml). The seed's
-- columns and names, plus what the engine needs: started_generations,
-- stage_statistics and failed_stage_counts (declared in the contract), the
-- mergeable state (counts, exact sums, DDSketches) in `state`, a revision
-- bumped on every change, finalized_at once the watermark passed
-- window_end + grace, and updated_at.
--
-- Range-partitioned by window_start, one partition per calendar month
-- (codegen_metrics_aggregated_YYYY_MM), created by reducerd as needed and
-- dropped past the contract's retention. The seed's UUID primary key cannot
-- be unique across partitions without the partition key, so the cell key
-- (window_type, window_start, aggregation_type, group_key) is the primary
-- key and aggregation_id stays a stable uuid derived from it.
CREATE TABLE codegen_metrics_aggregated (
    aggregation_id          uuid         NOT NULL,
    window_type             varchar(50)  NOT NULL,
    window_start            timestamptz  NOT NULL,
    window_end              timestamptz  NOT NULL,
    aggregation_type        varchar(50)  NOT NULL,
    group_key               varchar(255) NOT NULL,
    started_generations     bigint       NOT NULL DEFAULT 0,
    total_generations       bigint       DEFAULT 0,
    successful_generations  bigint       DEFAULT 0,
    failed_generations      bigint       DEFAULT 0,
    success_rate            numeric(5, 4) DEFAULT 0.0,
    duration_statistics     jsonb,
    quality_statistics      jsonb,
    cost_statistics         jsonb,
    stage_statistics        jsonb,
    failed_stage_counts     jsonb,
    state                   bytea        NOT NULL,
    revision                bigint       NOT NULL DEFAULT 0,
    finalized_at            timestamptz,
    updated_at              timestamptz  NOT NULL DEFAULT now(),
    PRIMARY KEY (window_type, window_start, aggregation_type, group_key)
) PARTITION BY RANGE (window_start);

CREATE INDEX codegen_metrics_aggregated_id
    ON codegen_metrics_aggregated (aggregation_id);
-- the finaliser looks for open cells whose window has passed
CREATE INDEX codegen_metrics_aggregated_open
    ON codegen_metrics_aggregated (window_end) WHERE finalized_at IS NULL;
