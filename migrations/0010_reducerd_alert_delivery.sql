-- Alert delivery (contracts/README.md "Alerts", README "Alert delivery").
--
-- reducerd_alert_outbox: the alerts waiting to reach Alertmanager and the
-- webhooks. A batch writes its alerts here in the same transaction as the
-- alert rows, the cooldown state and the offsets, so an alert is queued
-- exactly when its batch commits; the delivery worker of `reducerd run`
-- posts them in id order and deletes a row once every destination took it
-- (done lists those that did), so nothing is lost on a crash or while a
-- destination is down, and a destination may see a row twice (Alertmanager
-- deduplicates by labels; webhook bodies carry the alert id).
CREATE TABLE reducerd_alert_outbox (
    id           bigserial        PRIMARY KEY,
    alert_id     uuid             NOT NULL,
    contract     text             NOT NULL,
    rule_id      text             NOT NULL,
    severity     text             NOT NULL,
    status       text             NOT NULL CHECK (status IN ('firing', 'resolved')),
    labels       jsonb            NOT NULL,
    annotations  jsonb            NOT NULL,
    payload      jsonb            NOT NULL,   -- the alert as the contract's topic has it
    starts_at    timestamptz      NOT NULL,
    ends_at      timestamptz,                 -- resolved: when; firing: NULL
    hold_s       integer          NOT NULL,   -- firing: how long Alertmanager keeps it
    generator    text,                        -- the query API path behind generatorURL
    created_at   timestamptz      NOT NULL DEFAULT now(),
    done         text[]           NOT NULL DEFAULT '{}',
    attempts     integer          NOT NULL DEFAULT 0,
    last_error   text
);

-- The instances of the rules over windows: one row per contract, rule and
-- scope (window type, grouping, key values), locked by the batch that
-- judges it. Firing rows are re-sent to Alertmanager periodically, so an
-- Alertmanager that restarted (it keeps alerts in memory) learns them
-- again.
CREATE TABLE reducerd_alert_instances (
    contract      text        NOT NULL,
    rule_id       text        NOT NULL,
    scope         text        NOT NULL,   -- JSON array: window, grouping, keys
    state         text        NOT NULL DEFAULT 'inactive'
                  CHECK (state IN ('inactive', 'pending', 'firing')),
    window_start  timestamptz,            -- the newest window judged
    since         timestamptz,            -- pending or firing since (event time)
    resolved_at   timestamptz,            -- the last resolution (cooldown)
    alert_id      uuid,                   -- of the current or last firing
    value         double precision,       -- at the last judgement
    labels        jsonb,                  -- of the current firing
    annotations   jsonb,
    generator     text,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (contract, rule_id, scope)
);

CREATE INDEX reducerd_alert_instances_firing ON reducerd_alert_instances
    (contract, rule_id) WHERE state = 'firing';
