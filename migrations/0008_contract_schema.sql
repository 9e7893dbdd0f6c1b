-- Contracts own their tables (DESIGN.md "Schema from contracts"): the
-- tables a contract declares are created and evolved by `reducerd migrate`
-- from the contract itself (src/pg/red_schema.c), no longer by numbered
-- migrations. Migrations 0002, 0003, 0005 and 0006, which created the
-- shipped contracts' tables by hand, are retired: a database that applied
-- them keeps its tables, which the contracts adopt as they are, and a new
-- database never runs them (they are kept as test fixtures under
-- tests/data/legacy_migrations/). This file holds the engine's record of
-- that and the engine's own part of 0006.

-- Per contract, what its live tables were built for: the contract version,
-- the table generation and what each table-shaping part means
-- ({table: {part: meaning}}). A batch holds its contract's row FOR SHARE,
-- so a migration or a generation switch, which update it, wait for running
-- batches and make new ones wait.
CREATE TABLE reducerd_contract_schema (
    contract     text        PRIMARY KEY,
    version      text        NOT NULL,
    generation   integer     NOT NULL,
    parts        jsonb       NOT NULL,
    fingerprint  text        NOT NULL,  -- sha256 of parts, for people
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Every generation of a contract's tables. A version that changes what
-- stored cells mean gets new tables <table>_g<N> (status building), which
-- `reducerd backfill` fills and then switches in by renaming (the old ones
-- become <table>_g<old>, status retired).
CREATE TABLE reducerd_contract_generations (
    contract     text        NOT NULL,
    generation   integer     NOT NULL,
    version      text        NOT NULL,
    status       text        NOT NULL
                 CHECK (status IN ('building', 'live', 'retired')),
    tables       text[]      NOT NULL,  -- the tables this generation has
    parts        jsonb       NOT NULL,
    fingerprint  text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    switched_at  timestamptz,
    PRIMARY KEY (contract, generation)
);

-- Backfills (`reducerd backfill`): what is done, so that a backfill that
-- was interrupted (kill -9) resumes where it stood. Each chunk (a
-- partition of the target tables) is replaced in one transaction that
-- also adds it to chunks_done; a Kafka replay keeps the end offsets it
-- reads to, so a resumed run computes the same cells.
CREATE TABLE reducerd_backfills (
    id           bigserial   PRIMARY KEY,
    contract     text        NOT NULL,
    generation   integer     NOT NULL,
    source       text        NOT NULL CHECK (source IN ('raw', 'kafka')),
    range_from   timestamptz,           -- NULL: from the first event
    range_to     timestamptz,           -- NULL: through the last one
    end_offsets  jsonb,                 -- kafka: {"topic/partition": offset}
    snapshot_at  timestamptz,           -- raw: when the rows were read
    chunks_done  text[]      NOT NULL DEFAULT '{}',
    state        text        NOT NULL CHECK (state IN ('running', 'done')),
    started_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- 0006's engine part (its contract part is in the contracts' tables):
-- rows updated in place by every batch keep half of each page free, so an
-- update stays on its page (HOT). Harmless where 0006 ran already.
ALTER TABLE reducerd_offsets SET (fillfactor = 50);
ALTER TABLE reducerd_alert_state SET (fillfactor = 50);
