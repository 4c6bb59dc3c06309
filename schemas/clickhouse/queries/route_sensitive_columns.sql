-- Which Django routes touch which sensitive columns: one row per route, view and
-- column (route and view from the request log or the sqlcommenter tags), with how
-- often and by which database users.
-- @param since DateTime64(9): start of the range (inclusive)
-- @param until DateTime64(9): end of the range (exclusive)
SELECT
    route,
    view,
    column,
    count() AS accesses,
    sum(rows) AS rows,
    groupUniqArray(user) AS users,
    min(time) AS first_seen,
    max(time) AS last_seen
FROM {{db}}.events FINAL
ARRAY JOIN sensitive_columns AS column
WHERE route != ''
  AND time >= {since:DateTime64(9)} AND time < {until:DateTime64(9)}
GROUP BY route, view, column
ORDER BY route, view, column
