-- Workflow state machine (contracts/codegen_metrics.yaml `fsm`): the seed's
-- two tables. History is partitioned by day on transition_timestamp
-- (workflow_state_history_YYYY_MM_DD) and dropped past the contract's
-- history_retention; its primary key includes the partition key.
-- from_state is NULL for "Workflow <id> not found" rejections and to_state
-- is NULL when no target could be determined; every attempt is a row.
CREATE TABLE workflow_state_current (
    workflow_id       uuid         PRIMARY KEY,
    current_state     varchar(50)  NOT NULL,
    previous_state    varchar(50),
    state_entry_time  timestamptz,
    transition_count  integer      DEFAULT 0,
    metadata          jsonb        DEFAULT '{}',
    updated_at        timestamptz  NOT NULL DEFAULT now()
);

CREATE INDEX workflow_state_current_state
    ON workflow_state_current (current_state, state_entry_time);

CREATE TABLE workflow_state_history (
    transition_id         uuid         NOT NULL,
    workflow_id           uuid         NOT NULL,
    from_state            varchar(50),
    to_state              varchar(50),
    event                 varchar(50)  NOT NULL,
    transition_timestamp  timestamptz  NOT NULL,
    guard_conditions_met  boolean      DEFAULT TRUE,
    reason                text,
    metadata              jsonb        DEFAULT '{}',
    PRIMARY KEY (transition_id, transition_timestamp)
) PARTITION BY RANGE (transition_timestamp);

CREATE INDEX workflow_state_history_workflow
    ON workflow_state_history (workflow_id, transition_timestamp);
