-- Agent metrics (contracts/agent_metrics.yaml): one raw table per metric
-- category with the seed's columns, the rollups and the alerts.
--
-- Raw tables: the seed's columns, with two deliberate changes.
-- * value is double precision, not NUMERIC(10,4): that type caps |value|
--   below 10^6 (a 17-minute timing in ms, a 1 GB size in KB would be
--   rejected) and rounds to 4 decimals. Producers send IEEE doubles
--   (Python float); double precision stores exactly what was sent.
-- * They are range-partitioned by day on timestamp (the event time), not
--   on created_at: queries and retention are about when a metric was
--   measured, a replay puts a row into the same partition as the first run,
--   and the primary key (metric_id, timestamp) must contain the partition
--   key. That key makes a redelivered or re-sent metric (same metric_id,
--   same time) a no-op. Partitions are <table>_YYYY_MM_DD, created by
--   reducerd in the writing transaction and dropped after 90 days.
-- The seed's bigserial id is dropped: nothing refers to it, and it would
-- cost a sequence round trip per row.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['routing', 'state', 'coordination', 'workflow',
                             'quorum'] LOOP
        EXECUTE format($f$
            CREATE TABLE agent_%1$s_metrics (
                metric_id       varchar(50)      NOT NULL,
                metric_name     varchar(100)     NOT NULL,
                metric_type     varchar(20)      NOT NULL,
                value           double precision NOT NULL,
                unit            varchar(20)      NOT NULL,
                tags            jsonb            DEFAULT '{}',
                agent_id        varchar(100),
                correlation_id  varchar(100),
                timestamp       timestamptz      NOT NULL,
                created_at      timestamptz      NOT NULL DEFAULT now(),
                PRIMARY KEY (metric_id, timestamp)
            ) PARTITION BY RANGE (timestamp)$f$, t);
        EXECUTE format('CREATE INDEX agent_%1$s_metrics_time ON '
                       'agent_%1$s_metrics (timestamp)', t);
        EXECUTE format('CREATE INDEX agent_%1$s_metrics_name ON '
                       'agent_%1$s_metrics (metric_name, timestamp)', t);
        EXECUTE format('CREATE INDEX agent_%1$s_metrics_tags ON '
                       'agent_%1$s_metrics USING gin (tags)', t);
        EXECUTE format('CREATE INDEX agent_%1$s_metrics_correlation ON '
                       'agent_%1$s_metrics (correlation_id) WHERE '
                       'correlation_id IS NOT NULL', t);
    END LOOP;
END
$$;

-- Rollups per metric (agent_id '*') and per agent and metric, hourly and
-- daily, from the same mergeable state as every aggregate: count, the
-- exact sum (numeric, so no rounding creeps in over many events), min, max,
-- avg and sketch percentiles. Monthly partitions by window_start.
CREATE TABLE agent_metrics_rollup (
    aggregation_id    uuid             NOT NULL,
    window_type       varchar(50)      NOT NULL,
    window_start      timestamptz      NOT NULL,
    window_end        timestamptz      NOT NULL,
    aggregation_type  varchar(50)      NOT NULL,  -- per_metric | per_agent
    metric_name       varchar(100)     NOT NULL,
    agent_id          varchar(100)     NOT NULL,  -- '*': all agents
    count             bigint           NOT NULL DEFAULT 0,
    sum               numeric,
    min               double precision,
    max               double precision,
    avg               double precision,
    p50               double precision,
    p95               double precision,
    p99               double precision,
    state             bytea            NOT NULL,
    revision          bigint           NOT NULL DEFAULT 0,
    finalized_at      timestamptz,
    updated_at        timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (window_type, window_start, aggregation_type, metric_name,
                 agent_id)
) PARTITION BY RANGE (window_start);

CREATE INDEX agent_metrics_rollup_id ON agent_metrics_rollup (aggregation_id);
CREATE INDEX agent_metrics_rollup_open
    ON agent_metrics_rollup (window_end) WHERE finalized_at IS NULL;

-- Alerts: the seed's Alert model (alert_id, severity, metric_name,
-- threshold, actual_value, message, tags, correlation_id, timestamp as
-- triggered_at) plus the rule and the agent it concerns. alert_id is
-- derived from the rule and the source message, so it is stable.
CREATE TABLE agent_alerts (
    alert_id        uuid             PRIMARY KEY,
    rule_id         varchar(100)     NOT NULL,
    severity        varchar(10)      NOT NULL,
    metric_name     varchar(100)     NOT NULL,
    threshold       double precision NOT NULL,
    actual_value    double precision NOT NULL,
    message         text             NOT NULL,
    tags            jsonb            NOT NULL DEFAULT '{}',
    correlation_id  varchar(100),
    agent_id        varchar(100),
    triggered_at    timestamptz      NOT NULL,
    created_at      timestamptz      NOT NULL DEFAULT now()
);

CREATE INDEX agent_alerts_time ON agent_alerts (triggered_at);
CREATE INDEX agent_alerts_severity ON agent_alerts (severity, triggered_at);
CREATE INDEX agent_alerts_metric ON agent_alerts (metric_name, triggered_at);
