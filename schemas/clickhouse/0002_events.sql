-- 0002_events: every normalized event (pipeline/event.Event), one column per
-- field of schemas/event.schema.json.
--
-- ReplacingMergeTree(ingest_time) keyed by (cluster, user, time, id): a
-- replayed event has the same deterministic id and therefore the same sorting
-- key, so replays collapse on merge and SELECT ... FINAL never shows them
-- twice; insert_deduplication_token (set by the sink per batch) drops an
-- identical replayed batch at insert time already. Partitions are days of
-- event time, which also keeps a replayed event in its original partition.
-- client_addr is IPv6; IPv4 clients are stored IPv4-mapped (::ffff:a.b.c.d)
-- and an unknown address is :: (the client alias renders both for people).

CREATE TABLE IF NOT EXISTS {{db}}.events {{on_cluster}}
(
    id                 String CODEC(ZSTD(1)),
    v                  UInt8,
    time               DateTime64(9, 'UTC') CODEC(Delta, ZSTD(1)),
    logged_at          DateTime64(9, 'UTC') CODEC(Delta, ZSTD(1)),
    ingest_time        DateTime64(9, 'UTC') CODEC(Delta, ZSTD(1)),
    source             LowCardinality(String),
    format             LowCardinality(String),
    origin_file        LowCardinality(String),
    origin_offset      UInt64 CODEC(Delta, ZSTD(1)),

    cluster            LowCardinality(String),
    node               LowCardinality(String),
    channel            LowCardinality(String),
    severity           LowCardinality(String),
    type               LowCardinality(String),
    logger             LowCardinality(String),

    user               LowCardinality(String),
    application        LowCardinality(String),
    client_addr        IPv6,
    client_port        UInt16,
    session_id         String CODEC(ZSTD(1)),
    transport          LowCardinality(String),
    auth_method        LowCardinality(String),
    auth_failure       LowCardinality(String),
    internal           Bool,

    fingerprint        String CODEC(ZSTD(3)),
    fingerprint_hash   UInt64,
    statement_tag      LowCardinality(String),
    tables             Array(LowCardinality(String)),
    columns            Array(LowCardinality(String)),
    sensitive_columns  Array(LowCardinality(String)),
    values             Nested
    (
        table  LowCardinality(String),
        column LowCardinality(String),
        op     LowCardinality(String),
        class  LowCardinality(String),
        hash   String
    ),
    secrets            Nested
    (
        type  LowCardinality(String),
        field LowCardinality(String),
        hash  String
    ),

    rows               Int64,
    rows_read          Int64,
    bytes_read         Int64,
    full_table_scan    Bool,
    full_index_scan    Bool,
    sqlstate           LowCardinality(String),
    error_text         String CODEC(ZSTD(3)),
    latency_ns         Int64,
    exec_mode          LowCardinality(String),

    object             String,
    access_mode        LowCardinality(String),
    grantee            LowCardinality(String),
    granted_privileges Array(LowCardinality(String)),
    revoked_privileges Array(LowCardinality(String)),
    role_name          LowCardinality(String),
    roles              Array(LowCardinality(String)),
    members            Array(LowCardinality(String)),
    options            Array(LowCardinality(String)),
    setting_name       LowCardinality(String),
    setting_value      String,

    http_method        LowCardinality(String),
    path               String CODEC(ZSTD(3)),
    status             UInt16,
    route              LowCardinality(String),
    view               LowCardinality(String),
    remote_addr        String,
    request_id         String,
    query_tags         Map(LowCardinality(String), String),

    message            String CODEC(ZSTD(3)),
    attrs              Map(LowCardinality(String), String),
    raw                String CODEC(ZSTD(3)),

    -- For people: the client address as written in logs ('' when unknown,
    -- a.b.c.d for IPv4-mapped addresses).
    client             String ALIAS if(client_addr = toIPv6('::'), '',
                           replaceRegexpOne(IPv6NumToString(client_addr), '^::ffff:([0-9.]+)$', '\\1')),
    principal          String ALIAS if(user = '', '(unknown)', user)
)
ENGINE = {{engine:ReplacingMergeTree(ingest_time)}}
PARTITION BY toDate(time)
ORDER BY (cluster, user, time, id)
{{ttl:toDateTime(time)}}
SETTINGS non_replicated_deduplication_window = 1000, index_granularity = 8192;
