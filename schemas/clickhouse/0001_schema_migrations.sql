-- 0001_schema_migrations: the database and the ledger of applied migrations.
--
-- Templates, rendered by pipeline/sink/clickhousesink before execution (the
-- checksum is taken over this file as written, so changing the database name
-- or the cluster in config does not count as editing a migration): db is the
-- database (clickhouse.database); on_cluster is "" or ON CLUSTER <clickhouse.cluster>;
-- engine:E is E, or its Replicated form when clickhouse.replicated is on;
-- ttl:EXPR is "" or TTL EXPR + INTERVAL <clickhouse.ttl_days> DAY. Each is
-- written in double braces.
-- Statements end with ';' at the end of a line.

CREATE DATABASE IF NOT EXISTS {{db}} {{on_cluster}};

-- One row per applied migration. Migrate refuses to run when the checksum of
-- an applied file changed: migrations are append-only; fix forward with a new
-- file.
CREATE TABLE IF NOT EXISTS {{db}}.schema_migrations {{on_cluster}}
(
    version    UInt32,
    name       String,
    checksum   String,                  -- SHA-256 of the file as embedded, hex
    applied_at DateTime64(3, 'UTC')
)
ENGINE = {{engine:ReplacingMergeTree(applied_at)}}
ORDER BY version;
