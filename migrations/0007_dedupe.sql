-- Contract deduplication (a contract's `dedupe: {key, horizon}`, see
-- contracts/README.md): the keys of the events applied, written in the
-- same transaction as their results, so that an event whose key was seen
-- within the horizon is a duplicate wherever and whenever it comes again:
-- after a restart, on another replica, after a rebalance.
--
-- One row per key and event time. The primary key must contain the
-- partition key, so it cannot say "one row per key": a re-sent event (same
-- key, same time) from another partition violates it and its batch is
-- looked up again; one with another time within the horizon is found by
-- the lookup (reducerd_dedupe_source serves the load of a partition's keys
-- on assignment, the primary key the lookup of a batch's keys). Partitions
-- are daily, reducerd_dedupe_YYYY_MM_DD, created by the writing
-- transaction and dropped by `reducerd maintain` once older than the
-- longest horizon plus the allowed lateness of the contracts.
CREATE TABLE reducerd_dedupe (
    contract    text        NOT NULL,
    key         text        NOT NULL,
    event_time  timestamptz NOT NULL,
    topic       text        NOT NULL,
    partition   integer     NOT NULL,
    "offset"    bigint      NOT NULL,
    PRIMARY KEY (contract, key, event_time)
) PARTITION BY RANGE (event_time);

CREATE INDEX reducerd_dedupe_source
    ON reducerd_dedupe (contract, topic, partition, event_time);
