-- When and against whom do authentications fail: failures per hour and per user and
-- client address (a heatmap: hour x principal), with the failure reasons.
-- @param since DateTime64(9): start of the range (inclusive)
-- @param until DateTime64(9): end of the range (exclusive)
SELECT
    toStartOfHour(time) AS hour,
    user,
    client,
    count() AS failures,
    groupUniqArray(auth_failure) AS reasons,
    uniqExact(session_id) AS sessions
FROM {{db}}.events FINAL
WHERE auth_failure != ''
  AND time >= {since:DateTime64(9)} AND time < {until:DateTime64(9)}
GROUP BY hour, user, client
ORDER BY hour, failures DESC, user, client
