-- reducerd's own bookkeeping: where each partition stands, and what is
-- waiting to be published. Both are written in the same transaction as the
-- results they describe (see DESIGN.md "Exactly-once into Postgres").

-- The next offset to consume per consumer group and partition. A batch
-- advances it with compare-and-set on the previous value: a worker that
-- lost the partition (a zombie) finds the row moved and rolls back.
CREATE TABLE reducerd_offsets (
    consumer_group  text        NOT NULL,
    topic           text        NOT NULL,
    partition       integer     NOT NULL,
    next_offset     bigint      NOT NULL,
    -- max event time seen in this partition minus max_out_of_orderness
    watermark       timestamptz,
    owner           text,
    generation      integer,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, topic, partition)
);

-- Messages to publish once their transaction committed (transactional
-- outbox). The relay deletes what Kafka acknowledged.
CREATE TABLE reducerd_outbox (
    id          bigserial   PRIMARY KEY,
    topic       text        NOT NULL,
    key         text,
    payload     text        NOT NULL,
    headers     jsonb,
    created_at  timestamptz NOT NULL DEFAULT now()
);
