-- What each principal did per hour (from the principal_hourly rollup): events,
-- distinct statement shapes, rows, failed authentications, non-TLS sessions and
-- sensitive-column events.
-- @param since DateTime64(9): start of the range (inclusive)
-- @param until DateTime64(9): end of the range (exclusive)
-- @param user String = '': only this user; '' = every user
SELECT
    hour,
    user,
    application,
    sum(events) AS events,
    uniqMerge(fingerprints) AS fingerprints,
    sum(rows) AS rows,
    sum(rows_read) AS rows_read,
    sum(failed_auths) AS failed_auths,
    uniqMerge(non_tls_sessions) AS non_tls_sessions,
    sum(sensitive_reads) AS sensitive_reads
FROM {{db}}.principal_hourly
WHERE hour >= toStartOfHour({since:DateTime64(9)}) AND hour < {until:DateTime64(9)}
  AND ({user:String} = '' OR user = {user:String})
GROUP BY hour, user, application
ORDER BY hour, user, application
