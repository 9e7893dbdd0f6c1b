-- Offsets that no longer match the broker's log (kafka.offset_gap_policy).
-- A position remembers the message it was stored after, so that a topic
-- recreated with a longer log is told from the log the position belongs
-- to, and counts the resets the policy made.
ALTER TABLE reducerd_offsets
    -- offset and digest (Kafka timestamp, key, value) of the last message
    -- before next_offset; NULL when not known
    ADD COLUMN last_offset bigint,
    ADD COLUMN last_digest bigint,
    -- how many times the partition was reset to its log's start, and when
    -- it was last
    ADD COLUMN epoch integer NOT NULL DEFAULT 0,
    ADD COLUMN reset_at timestamptz;
