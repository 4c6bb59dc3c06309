-- 0008_events_plain_nested_strings: cheaper events INSERTs for the server.
--
-- The five events columns that hold LowCardinality values inside an Array or
-- a Map become plain String arrays and maps, compressed with ZSTD(1):
--
--   tables, columns, sensitive_columns   Array(LowCardinality(String)) -> Array(String)
--   query_tags, attrs                    Map(LowCardinality(String), String) -> Map(String, String)
--
-- Why: writing LowCardinality nested in Array/Map is the most expensive part
-- of an events INSERT on the server. Measured on ClickHouse 26.9 with loggen
-- data (~7 attrs and ~4 column names per event), 100,000-row Native inserts
-- into events alone: ~600 ms of server CPU with these types, ~250-300 ms
-- without them (the scalar LowCardinality columns cost next to nothing and
-- stay). Storage: the part grows ~6 % (ZSTD(1) instead of dictionaries).
--
-- Queries are unaffected: has(), hasAny(), arrayJoin, map lookups, mapKeys and
-- comparisons give the same results; only the types DESCRIBE shows change.
-- The rollup views read none of these columns but sensitive_columns, through
-- notEmpty().
--
-- min_bytes_for_wide_part = 512 MiB: insert parts (a 100,000-event batch is
-- ~85 MB uncompressed) are written Compact, one data file instead of ~300
-- (two per column stream); creating those files was about a third of the
-- server's CPU per insert (kernel time in ext4 inode allocation, measured with
-- perf). Merges still produce Wide parts above 512 MiB, as before above 10 MB.
--
-- On a table that already holds events, ClickHouse rewrites these columns of
-- every part (a mutation; the ALTER waits for it on a single node, watch
-- system.mutations on a cluster); run `analyze migrate` when inserts are
-- light. Re-running the ALTER is a no-op.

ALTER TABLE {{db}}.events {{on_cluster}}
    MODIFY COLUMN IF EXISTS tables            Array(String) CODEC(ZSTD(1)),
    MODIFY COLUMN IF EXISTS columns           Array(String) CODEC(ZSTD(1)),
    MODIFY COLUMN IF EXISTS sensitive_columns Array(String) CODEC(ZSTD(1)),
    MODIFY COLUMN IF EXISTS query_tags        Map(String, String) CODEC(ZSTD(1)),
    MODIFY COLUMN IF EXISTS attrs             Map(String, String) CODEC(ZSTD(1)),
    MODIFY SETTING min_bytes_for_wide_part = 536870912;
