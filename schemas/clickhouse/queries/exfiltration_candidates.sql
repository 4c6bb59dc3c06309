-- Which principals read far more rows in an hour than they usually do: hours in the
-- range where a principal's rows (max of rows returned and rows read) exceed factor
-- times the 95th percentile of its hourly volume over the 7 days before that hour,
-- and at least min_rows. baseline_hours says how much history the baseline had (0:
-- a principal never seen before, judged by min_rows alone).
-- @param since DateTime64(9): start of the range (inclusive)
-- @param until DateTime64(9): end of the range (exclusive)
-- @param factor Float64 = 3: how many times the baseline p95 counts as anomalous
-- @param min_rows Int64 = 10000: ignore hours below this many rows
SELECT
    user,
    application,
    hour,
    volume,
    rows,
    rows_read,
    baseline_p95,
    baseline_hours,
    round(volume / greatest(baseline_p95, 1), 1) AS ratio
FROM
(
    SELECT
        cluster,
        user,
        application,
        hour,
        rows,
        rows_read,
        greatest(rows, rows_read) AS volume,
        quantileExact(0.95)(volume) OVER w AS baseline_p95,
        count() OVER w AS baseline_hours
    FROM
    (
        SELECT cluster, user, application, hour, sum(rows) AS rows, sum(rows_read) AS rows_read
        FROM {{db}}.principal_hourly
        WHERE hour >= toStartOfHour({since:DateTime64(9)}) - INTERVAL 7 DAY AND hour < {until:DateTime64(9)}
        GROUP BY cluster, user, application, hour
    )
    WINDOW w AS (PARTITION BY cluster, user, application ORDER BY toUInt32(hour)
                 RANGE BETWEEN 604800 PRECEDING AND 1 PRECEDING)
)
WHERE hour >= toStartOfHour({since:DateTime64(9)}) AND hour < {until:DateTime64(9)}
  AND volume >= {min_rows:Int64}
  AND volume > {factor:Float64} * baseline_p95
ORDER BY volume DESC, ratio DESC, user, hour
