-- Which sensitive columns the posture probe (`analyze probe`) last found stored in
-- plaintext: one row per endpoint, database and column, newest probe only, with the
-- value classes seen and how many of the sampled rows held a value. Probes in the
-- range count; a column encrypted since its last plaintext probe is not listed.
-- @param since DateTime64(9): start of the range (inclusive), on the newest probe time
-- @param until DateTime64(9): end of the range (exclusive)
-- @param endpoint String = '': only this probe endpoint ('' = every endpoint)
SELECT
    qualified AS column,
    endpoint,
    database,
    database_kind,
    data_type,
    arrayStringConcat(arrayMap((k, v) -> concat(k, ': ', toString(v)), mapKeys(class_counts), mapValues(class_counts)), ', ') AS classes,
    sampled - nulls AS with_value,
    sampled,
    probed_at
FROM {{db}}.v_catalog_plaintext
WHERE probed_at >= {since:DateTime64(9)} AND probed_at < {until:DateTime64(9)}
  AND ({endpoint:String} = '' OR endpoint = {endpoint:String})
ORDER BY endpoint, database, column
