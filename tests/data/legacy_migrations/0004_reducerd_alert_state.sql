-- When each alert rule last fired, per contract, rule and scope (e.g. an
-- agent). A batch that evaluates a rule locks its rows, decides which
-- matches fire against last_fired and the rule's cooldown, and updates
-- them in the same transaction as the alert rows and the offsets, so a rule
-- fires at most once per cooldown however many replicas run and however
-- often a batch is retried.
CREATE TABLE reducerd_alert_state (
    contract    text        NOT NULL,
    rule_id     text        NOT NULL,
    scope       text        NOT NULL,  -- '' when the rule has no scope
    last_fired  timestamptz,           -- event time of the last alert
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (contract, rule_id, scope)
);
