-- The read-only role Grafana's PostgreSQL data source logs in as. Run it
-- as the role that owns reducerd's tables (the one `reducerd migrate`
-- runs as), after the migrations; it is idempotent:
--
--   psql -v ON_ERROR_STOP=1 -v pw="$GRAFANA_DB_PASSWORD" -f deploy/grafana/reader.sql
--
-- SELECT on every table of the schema, and on the tables and partitions
-- the owner creates later (new contracts, new partitions); read-only
-- transactions and a statement timeout, so that a heavy panel cannot
-- block ingest or run for ever.
SELECT format('CREATE ROLE grafana_reader LOGIN PASSWORD %L', :'pw')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'grafana_reader')
\gexec
SELECT format('ALTER ROLE grafana_reader LOGIN PASSWORD %L', :'pw')
\gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO grafana_reader', current_database())
\gexec
GRANT USAGE ON SCHEMA public TO grafana_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO grafana_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO grafana_reader;
ALTER ROLE grafana_reader SET default_transaction_read_only = on;
ALTER ROLE grafana_reader SET statement_timeout = '30s';
