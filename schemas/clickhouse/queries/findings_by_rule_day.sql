-- How many findings each rule raised per day and severity, and how many are still
-- open, acknowledged or suppressed (latest version of each finding; the day is the
-- day of its first occurrence).
-- @param since DateTime64(9): start of the range (inclusive), on first_seen
-- @param until DateTime64(9): end of the range (exclusive)
SELECT
    toDate(first_seen) AS day,
    rule_id,
    severity,
    count() AS findings,
    sum(count) AS occurrences,
    countIf(status = 'open') AS open,
    countIf(status = 'acknowledged') AS acknowledged,
    countIf(status = 'suppressed') AS suppressed
FROM {{db}}.findings FINAL
WHERE first_seen >= {since:DateTime64(9)} AND first_seen < {until:DateTime64(9)}
GROUP BY day, rule_id, severity
ORDER BY day, rule_id, severity DESC
