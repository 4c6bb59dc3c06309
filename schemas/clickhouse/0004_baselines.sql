-- 0004_baselines: detector state (per-principal baselines and the like),
-- saved as opaque snapshots so a restarted analyze resumes where it stopped.
-- key names the detector and its scope (e.g. 'RW-ANOM-001/reporting');
-- the newest version of a key wins.

CREATE TABLE IF NOT EXISTS {{db}}.baselines {{on_cluster}}
(
    key        String,
    snapshot   String CODEC(ZSTD(3)),          -- detector-defined blob
    version    UInt64,
    updated_at DateTime64(3, 'UTC')
)
ENGINE = {{engine:ReplacingMergeTree(version)}}
ORDER BY key;
