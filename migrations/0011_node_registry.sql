-- Node registry (contracts/node_registry.yaml, a `state:` sink): the seed's
-- registered_nodes, node_heartbeats and node_capability_index, plus what
-- the engine and the search need.
--
-- A migration, not tables generated from the contract (a stopgap): the
-- contract-owned tables of `reducerd migrate` (src/pg/red_schema.c) do not
-- cover state sinks yet, nor the generated search columns, functions and
-- views below. The columns are the ones the contract writes; reducerd
-- checks them at start.

-- Trigram similarity for the search (PostgreSQL's contrib, shipped with the
-- postgresql-15 package; a trusted extension, so the database owner may
-- create it).
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- The text the search looks in: the name, every capability's name and
-- description, and the metadata's string values.
CREATE FUNCTION registered_nodes_search_text(name text, caps jsonb,
                                             meta jsonb)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT concat_ws(' ', name,
        (SELECT string_agg(concat_ws(' ', c ->> 'name', c ->> 'description'),
                           ' ')
           FROM jsonb_array_elements(CASE WHEN jsonb_typeof(caps) = 'array'
                                          THEN caps ELSE '[]' END) AS c
          WHERE jsonb_typeof(c) = 'object'),
        (SELECT string_agg(v #>> '{}', ' ')
           FROM jsonb_each(CASE WHEN jsonb_typeof(meta) = 'object'
                                THEN meta ELSE '{}' END) AS e(k, v)
          WHERE jsonb_typeof(v) = 'string'))
$$;

-- The reference's relevance (registry/search_api.py), case-insensitive:
-- +1.0 when the whole query is in the name, else +0.3 per query term in
-- the name; +0.5 per capability name and +0.3 per capability description
-- holding the query; +0.2 per string metadata value holding it; the score
-- is min(total / 2, 1).
CREATE FUNCTION registered_nodes_relevance(name text, caps jsonb, meta jsonb,
                                           q text)
RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT least(1.0, (
        CASE WHEN strpos(lower(name), lower(q)) > 0 THEN 1.0
             ELSE 0.3 * (SELECT count(*)
                           FROM regexp_split_to_table(lower(btrim(q)), '\s+')
                                AS t
                          WHERE t <> '' AND strpos(lower(name), t) > 0)
        END
        + 0.5 * (SELECT count(*)
                   FROM jsonb_array_elements(CASE WHEN jsonb_typeof(caps) =
                                                       'array'
                                                  THEN caps ELSE '[]' END) c
                  WHERE strpos(lower(c ->> 'name'), lower(q)) > 0)
        + 0.3 * (SELECT count(*)
                   FROM jsonb_array_elements(CASE WHEN jsonb_typeof(caps) =
                                                       'array'
                                                  THEN caps ELSE '[]' END) c
                  WHERE strpos(lower(c ->> 'description'), lower(q)) > 0)
        + 0.2 * (SELECT count(*)
                   FROM jsonb_each(CASE WHEN jsonb_typeof(meta) = 'object'
                                        THEN meta ELSE '{}' END) AS e(k, v)
                  WHERE jsonb_typeof(v) = 'string'
                    AND strpos(lower(v #>> '{}'), lower(q)) > 0)
    ) / 2.0)
$$;

-- One row per node: the seed's columns and checks. health_status is the
-- status the node reported last; the effective status (what search,
-- discovery and NODE_HEALTH_CHANGED say) reads `unhealthy` once no
-- heartbeat or announcement came for 3 x health_check_interval_s (30 s
-- when the node declares no interval). Engine columns: state_times (the
-- event time of each column's value, so a late event cannot overwrite a
-- newer one), state_status (the effective status last published),
-- state_partition (the Kafka partition of the node's events: the worker
-- owning it judges staleness), revision. The seed's updated_at trigger is
-- not needed: reducerd writes updated_at with every change.
CREATE TABLE registered_nodes (
    node_id                 varchar(255) PRIMARY KEY,
    node_name               varchar(255) NOT NULL,
    node_type               varchar(50)  NOT NULL
        CHECK (node_type IN ('effect', 'compute', 'reducer', 'orchestrator')),
    version                 varchar(50)  NOT NULL,
    capabilities            jsonb        DEFAULT '[]',
    endpoints               jsonb        DEFAULT '{}',
    health_status           varchar(50)  NOT NULL DEFAULT 'unknown'
        CHECK (health_status IN ('healthy', 'degraded', 'unhealthy',
                                 'unknown')),
    last_heartbeat          timestamptz,
    health_check_config     jsonb,
    registration_timestamp  timestamptz,
    consul_registered       boolean      DEFAULT false,
    postgres_registered     boolean      DEFAULT true,
    registration_source     varchar(50),
    metadata                jsonb        DEFAULT '{}',
    created_at              timestamptz  NOT NULL DEFAULT now(),
    updated_at              timestamptz  NOT NULL DEFAULT now(),
    deleted_at              timestamptz,
    health_check_interval_s double precision,
    heartbeat_count         bigint       NOT NULL DEFAULT 0,
    -- set by the discovery mirror (etcd) when the node's key is there
    discovery_registered    boolean      NOT NULL DEFAULT false,
    state_times             jsonb        NOT NULL DEFAULT '{}',
    state_status            varchar(50),
    state_partition         integer,
    revision                bigint       NOT NULL DEFAULT 0,
    -- search: semantic-version order, full text and trigrams
    version_key             numeric[]    GENERATED ALWAYS AS
        (string_to_array(version, '.')::numeric[]) STORED,
    search_text             text         GENERATED ALWAYS AS
        (registered_nodes_search_text(node_name, capabilities, metadata))
        STORED,
    search_tsv              tsvector     GENERATED ALWAYS AS
        (to_tsvector('simple'::regconfig,
                     registered_nodes_search_text(node_name, capabilities,
                                                  metadata))) STORED
);
CREATE INDEX registered_nodes_type ON registered_nodes (node_type);
CREATE INDEX registered_nodes_health ON registered_nodes (health_status);
CREATE INDEX registered_nodes_heartbeat ON registered_nodes (last_heartbeat);
CREATE INDEX registered_nodes_created ON registered_nodes (created_at);
CREATE INDEX registered_nodes_name ON registered_nodes (node_name);
CREATE INDEX registered_nodes_version ON registered_nodes (version_key);
CREATE INDEX registered_nodes_registered
    ON registered_nodes (registration_timestamp);
CREATE INDEX registered_nodes_capabilities ON registered_nodes
    USING gin (capabilities jsonb_path_ops);
CREATE INDEX registered_nodes_metadata ON registered_nodes USING gin (metadata);
CREATE INDEX registered_nodes_tsv ON registered_nodes USING gin (search_tsv);
CREATE INDEX registered_nodes_trgm ON registered_nodes
    USING gin (lower(search_text) gin_trgm_ops);
CREATE INDEX registered_nodes_name_trgm ON registered_nodes
    USING gin (lower(node_name) gin_trgm_ops);

-- Every heartbeat, partitioned by day on the heartbeat's event time
-- (node_heartbeats_YYYY_MM_DD, created by reducerd in the writing
-- transaction and dropped after 30 days). Deviations from the seed: the
-- primary key holds the partition column, as a partitioned table needs;
-- and no foreign key to registered_nodes, since a heartbeat of a node not
-- (yet) registered is valid input and must not fail the batch.
CREATE TABLE node_heartbeats (
    heartbeat_id         uuid             NOT NULL DEFAULT gen_random_uuid(),
    node_id              varchar(255)     NOT NULL,
    heartbeat_timestamp  timestamptz      NOT NULL,
    health_status        varchar(50)      NOT NULL
        CHECK (health_status IN ('healthy', 'degraded', 'unhealthy',
                                 'unknown')),
    health_metrics       jsonb            DEFAULT '{}',
    response_time_ms     double precision,
    created_at           timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (heartbeat_id, heartbeat_timestamp)
) PARTITION BY RANGE (heartbeat_timestamp);
CREATE INDEX node_heartbeats_node ON node_heartbeats
    (node_id, heartbeat_timestamp DESC);

-- One row per capability of a node (its first item of each name), replaced
-- whenever the node's capabilities change.
CREATE TABLE node_capability_index (
    capability_id          uuid         PRIMARY KEY
                                        DEFAULT gen_random_uuid(),
    node_id                varchar(255) NOT NULL
        REFERENCES registered_nodes (node_id) ON DELETE CASCADE,
    capability_name        text         NOT NULL,
    capability_description text,
    created_at             timestamptz  NOT NULL DEFAULT now(),
    UNIQUE (node_id, capability_name)
);
CREATE INDEX node_capability_index_name
    ON node_capability_index (capability_name);

-- The seed's views, with the effective health.
CREATE VIEW v_node_capability_summary AS
    SELECT i.capability_name, count(*) AS node_count,
           array_agg(i.node_id ORDER BY i.node_id) AS node_ids
      FROM node_capability_index i
      JOIN registered_nodes n USING (node_id)
     WHERE n.deleted_at IS NULL
     GROUP BY i.capability_name;
