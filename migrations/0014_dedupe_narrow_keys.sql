-- Contract deduplication's seen keys (0007) with narrow index keys: the
-- two B-tree indexes on text columns were most of the cost of writing a
-- batch's keys (issue 21, bench/README.md).
--
-- key_hash is the first 16 bytes of SHA-256(contract '/' key) (a contract
-- name has no '/'), source the first 8 bytes of SHA-256(contract '/'
-- topic '/' partition) as a signed big-endian bigint; reducerd computes
-- both on its side when it writes (src/pg/red_sink_dedupe.c), the
-- functions below for the rows already stored. The primary key (key_hash,
-- event_time) holds one row per key and event time as (contract, key,
-- event_time) did, in 24 bytes instead of the two texts; a lookup checks
-- the contract and the full key of what it finds. reducerd_dedupe_source
-- (source, event_time) serves the load of a partition's keys on
-- assignment (the newest of a source, in time order; the load checks the
-- contract, topic and partition of what it finds). It cannot go: the
-- primary key is ordered by the key's hash, and a scan of the daily
-- partitions within the horizon would read every source's keys of up to
-- `horizon` days at each assignment.
--
-- The stored rows get their hashes here (the table holds the horizon plus
-- the allowed lateness of keys: one rewrite of it). During a rolling
-- upgrade the replicas of the release before write rows without them: a
-- trigger fills them in (it fires only for those rows: reducerd sends
-- both). Those replicas' lookups and loads, by the text columns, have no
-- index any more: they scan the partitions of their time range until
-- they are replaced.
CREATE FUNCTION reducerd_dedupe_key_hash(contract text, key text)
RETURNS uuid LANGUAGE sql STABLE STRICT AS $$
    SELECT encode(substring(sha256(convert_to(contract || '/' || key, 'UTF8'))
        FROM 1 FOR 16), 'hex')::uuid
$$;

CREATE FUNCTION reducerd_dedupe_source(contract text, topic text,
                                       part integer)
RETURNS bigint LANGUAGE sql STABLE STRICT AS $$
    SELECT ('x' || encode(substring(sha256(convert_to(contract || '/' ||
        topic || '/' || part::text, 'UTF8')) FROM 1 FOR 8), 'hex'))::bit(64)
        ::bigint
$$;

ALTER TABLE reducerd_dedupe
    ADD COLUMN key_hash uuid,
    ADD COLUMN source bigint;

UPDATE reducerd_dedupe SET
    key_hash = reducerd_dedupe_key_hash(contract, key),
    source = reducerd_dedupe_source(contract, topic, partition);

ALTER TABLE reducerd_dedupe
    ALTER COLUMN key_hash SET NOT NULL,
    ALTER COLUMN source SET NOT NULL,
    DROP CONSTRAINT reducerd_dedupe_pkey;

DROP INDEX reducerd_dedupe_source;

ALTER TABLE reducerd_dedupe ADD PRIMARY KEY (key_hash, event_time);

CREATE INDEX reducerd_dedupe_source ON reducerd_dedupe (source, event_time);

CREATE FUNCTION reducerd_dedupe_fill() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.key_hash := coalesce(NEW.key_hash,
        reducerd_dedupe_key_hash(NEW.contract, NEW.key));
    NEW.source := coalesce(NEW.source,
        reducerd_dedupe_source(NEW.contract, NEW.topic, NEW.partition));
    RETURN NEW;
END
$$;

CREATE TRIGGER reducerd_dedupe_fill BEFORE INSERT ON reducerd_dedupe
    FOR EACH ROW WHEN (NEW.key_hash IS NULL OR NEW.source IS NULL)
    EXECUTE FUNCTION reducerd_dedupe_fill();
