-- 0003_findings: one row per version of a finding (detectors.Finding).
--
-- The detectors rewrite a finding as it grows (count, last_seen, evidence);
-- analysts triage it by writing a new version with another status. The
-- newest version wins: ReplacingMergeTree(version), and views read FINAL.
-- The sink carries the stored status forward when it writes a newer
-- detector version, so triage is not reset by new occurrences. Findings are
-- few: no partitioning, no TTL (they outlive the events they cite).

CREATE TABLE IF NOT EXISTS {{db}}.findings {{on_cluster}}
(
    id               String,
    version          UInt64,                  -- ns; newest wins
    rule_id          LowCardinality(String),
    severity         Enum8('info' = 0, 'low' = 1, 'medium' = 2, 'high' = 3, 'critical' = 4),
    title            String,
    summary          String,
    user             LowCardinality(String),
    client_addr      IPv6,                    -- IPv4-mapped; :: when unknown
    application      LowCardinality(String),
    session_id       String,
    cluster          LowCardinality(String),
    node             LowCardinality(String),
    first_seen       DateTime64(9, 'UTC'),
    last_seen        DateTime64(9, 'UTC'),
    count            UInt64,
    evidence         Array(String),           -- event ids (events.id)
    fingerprint      String,
    fingerprint_hash UInt64,
    tables           Array(LowCardinality(String)),
    columns          Array(LowCardinality(String)),
    details          Map(LowCardinality(String), String),
    cwe              Array(LowCardinality(String)),
    owasp            Array(LowCardinality(String)),
    mitre            Array(LowCardinality(String)),
    pci              Array(LowCardinality(String)),
    remediation      String,
    query            String,                  -- investigation query over events
    status           Enum8('open' = 1, 'acknowledged' = 2, 'suppressed' = 3),
    status_note      String,
    updated_by       LowCardinality(String),  -- 'roachwatch' or the analyst
    updated_at       DateTime64(3, 'UTC'),

    client           String ALIAS if(client_addr = toIPv6('::'), '',
                         replaceRegexpOne(IPv6NumToString(client_addr), '^::ffff:([0-9.]+)$', '\\1'))
)
ENGINE = {{engine:ReplacingMergeTree(version)}}
ORDER BY (rule_id, id)
SETTINGS non_replicated_deduplication_window = 1000;
