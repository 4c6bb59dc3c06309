-- 0005_rollups: materialized-view rollups of events, maintained at insert.
--
-- Counters are SimpleAggregateFunction(sum|min|max) and distinct counts are
-- uniq states, so background merges fold rows; read them with GROUP BY and
-- sum/min/max/uniqMerge (the v_* views in 0006 do). An identical replayed
-- batch is dropped by its insert_deduplication_token before it reaches the
-- views (deduplicate_blocks_in_dependent_materialized_views is set by the
-- sink); a replay re-batched differently is counted again here, while the
-- FINAL views over events stay exact.

-- Per principal per hour.
CREATE TABLE IF NOT EXISTS {{db}}.principal_hourly {{on_cluster}}
(
    cluster           LowCardinality(String),
    user              LowCardinality(String),
    application       LowCardinality(String),
    hour              DateTime('UTC'),
    events            SimpleAggregateFunction(sum, UInt64),
    fingerprints      AggregateFunction(uniq, UInt64),
    rows_read         SimpleAggregateFunction(sum, Int64),
    rows              SimpleAggregateFunction(sum, Int64),
    bytes_read        SimpleAggregateFunction(sum, Int64),
    failed_auths      SimpleAggregateFunction(sum, UInt64),
    non_tls_events    SimpleAggregateFunction(sum, UInt64),
    non_tls_sessions  AggregateFunction(uniq, String),
    sensitive_reads   SimpleAggregateFunction(sum, UInt64)
)
ENGINE = {{engine:AggregatingMergeTree}}
PARTITION BY toYYYYMM(hour)
ORDER BY (cluster, user, application, hour)
{{ttl:hour}}
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{db}}.principal_hourly_mv {{on_cluster}}
TO {{db}}.principal_hourly AS
SELECT
    cluster,
    user,
    application,
    toStartOfHour(time) AS hour,
    toUInt64(count()) AS events,
    uniqStateIf(fingerprint_hash, fingerprint_hash != 0) AS fingerprints,
    sum(rows_read) AS rows_read,
    sum(rows) AS rows,
    sum(bytes_read) AS bytes_read,
    toUInt64(countIf(auth_failure != '')) AS failed_auths,
    toUInt64(countIf(transport = 'hostnossl')) AS non_tls_events,
    uniqStateIf(session_id, transport = 'hostnossl' AND session_id != '') AS non_tls_sessions,
    toUInt64(countIf(notEmpty(sensitive_columns))) AS sensitive_reads
FROM {{db}}.events
GROUP BY cluster, user, application, hour;

-- Per statement fingerprint and principal: first and last seen.
CREATE TABLE IF NOT EXISTS {{db}}.fingerprint_seen {{on_cluster}}
(
    cluster          LowCardinality(String),
    user             LowCardinality(String),
    application      LowCardinality(String),
    fingerprint_hash UInt64,
    fingerprint      SimpleAggregateFunction(any, String),
    statement_tag    SimpleAggregateFunction(any, LowCardinality(String)),
    first_seen       SimpleAggregateFunction(min, DateTime64(9, 'UTC')),
    last_seen        SimpleAggregateFunction(max, DateTime64(9, 'UTC')),
    events           SimpleAggregateFunction(sum, UInt64)
)
ENGINE = {{engine:AggregatingMergeTree}}
ORDER BY (cluster, fingerprint_hash, user, application)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{db}}.fingerprint_seen_mv {{on_cluster}}
TO {{db}}.fingerprint_seen AS
SELECT
    cluster,
    user,
    application,
    fingerprint_hash,
    any(fingerprint) AS fingerprint,
    any(statement_tag) AS statement_tag,
    min(time) AS first_seen,
    max(time) AS last_seen,
    toUInt64(count()) AS events
FROM {{db}}.events
WHERE fingerprint_hash != 0
GROUP BY cluster, user, application, fingerprint_hash;

-- Per client address and user: first and last seen.
CREATE TABLE IF NOT EXISTS {{db}}.client_seen {{on_cluster}}
(
    cluster        LowCardinality(String),
    client_addr    IPv6,
    user           LowCardinality(String),
    first_seen     SimpleAggregateFunction(min, DateTime64(9, 'UTC')),
    last_seen      SimpleAggregateFunction(max, DateTime64(9, 'UTC')),
    events         SimpleAggregateFunction(sum, UInt64),
    non_tls_events SimpleAggregateFunction(sum, UInt64),
    failed_auths   SimpleAggregateFunction(sum, UInt64)
)
ENGINE = {{engine:AggregatingMergeTree}}
ORDER BY (cluster, client_addr, user)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{db}}.client_seen_mv {{on_cluster}}
TO {{db}}.client_seen AS
SELECT
    cluster,
    client_addr,
    user,
    min(time) AS first_seen,
    max(time) AS last_seen,
    toUInt64(count()) AS events,
    toUInt64(countIf(transport = 'hostnossl')) AS non_tls_events,
    toUInt64(countIf(auth_failure != '')) AS failed_auths
FROM {{db}}.events
WHERE client_addr != toIPv6('::')
GROUP BY cluster, client_addr, user;
