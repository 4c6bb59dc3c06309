-- 0007_catalog_columns: the sensitive-column catalog as `analyze probe` found it,
-- one row per probe of a column (clickhousesink.CatalogColumn). The same data
-- goes to the probe's catalog file (probe.catalog_file); here analysts can join
-- it with the events and findings.
--
-- Only verdicts and counts are stored: the probe never keeps a sampled value.
-- classes lists the value classes seen (pipeline/classify, plus
-- password_hash), class_counts how many sampled values fell into each.
-- ReplacingMergeTree(probed_at) keyed by endpoint, database, schema, table and
-- column: the newest probe of a column wins, and a replayed write (same rows,
-- same probed_at, same insert_deduplication_token) is dropped at insert time.
-- Columns are few: no partitioning, no TTL.

CREATE TABLE IF NOT EXISTS {{db}}.catalog_columns {{on_cluster}}
(
    endpoint      LowCardinality(String),   -- probe.endpoints[].name, or host:port for --dsn
    database      LowCardinality(String),   -- current_database() of the probe's connection
    database_kind Enum8('postgresql' = 1, 'cockroachdb' = 2),
    schema        LowCardinality(String),
    table         LowCardinality(String),
    column        LowCardinality(String),
    data_type     LowCardinality(String),   -- information_schema data type
    verdict       Enum8('empty' = 0, 'plaintext' = 1, 'encrypted' = 2, 'hashed' = 3, 'error' = 4),
    classes       Array(LowCardinality(String)),
    sampled       UInt32,                   -- rows sampled from the table
    nulls         UInt32,                   -- of which NULL in this column
    class_counts  Map(LowCardinality(String), UInt32),
    error         String,                   -- why the sample failed (verdict 'error')
    probed_at     DateTime64(9, 'UTC')
)
ENGINE = {{engine:ReplacingMergeTree(probed_at)}}
ORDER BY (endpoint, database, schema, table, column)
SETTINGS non_replicated_deduplication_window = 1000;

-- Sensitive columns whose newest probe found plaintext values, one row per
-- column (a column that was encrypted since drops out with the next probe).
-- argMax rather than FINAL + WHERE: the verdict is filtered after picking the
-- newest probe, whatever the merge state and PREWHERE settings.
CREATE VIEW IF NOT EXISTS {{db}}.v_catalog_plaintext {{on_cluster}} AS
SELECT endpoint, database, tupleElement(latest, 1) AS database_kind, schema, table, column,
       concat(schema, '.', table, '.', column) AS qualified,
       tupleElement(latest, 2) AS data_type, tupleElement(latest, 4) AS classes,
       tupleElement(latest, 5) AS class_counts, tupleElement(latest, 6) AS sampled,
       tupleElement(latest, 7) AS nulls, last_probed_at AS probed_at
FROM
(
    SELECT endpoint, database, schema, table, column,
           argMax(tuple(database_kind, data_type, verdict, classes, class_counts, sampled, nulls), probed_at) AS latest,
           max(probed_at) AS last_probed_at
    FROM {{db}}.catalog_columns
    GROUP BY endpoint, database, schema, table, column
)
WHERE tupleElement(latest, 3) = 'plaintext';
