-- Who read each sensitive column in a time range: one row per column, principal,
-- client address and Django route, with how often, how many rows, in which sessions
-- and with which statement kinds (writes that filter on the column count too).
-- @param since DateTime64(9): start of the range (inclusive)
-- @param until DateTime64(9): end of the range (exclusive)
-- @param column String = '': only this column (table.column); '' = every sensitive column
SELECT
    column,
    user,
    application,
    client,
    route,
    count() AS accesses,
    sum(rows) AS rows,
    uniqExact(session_id) AS sessions,
    groupUniqArray(statement_tag) AS statement_tags,
    min(time) AS first_seen,
    max(time) AS last_seen
FROM {{db}}.events FINAL
ARRAY JOIN sensitive_columns AS column
WHERE time >= {since:DateTime64(9)} AND time < {until:DateTime64(9)}
  AND ({column:String} = '' OR column = {column:String})
GROUP BY column, user, application, client, route
ORDER BY column, accesses DESC, user, client, route
