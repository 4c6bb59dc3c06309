-- What happened in one SQL session, in order: every event of the session with who,
-- from where, over which transport, what statement and which sensitive columns.
-- @param since DateTime64(9): start of the range (inclusive)
-- @param until DateTime64(9): end of the range (exclusive)
-- @param session_id String: the session id (events.session_id, e.g. from a finding)
SELECT
    time,
    node,
    type,
    user,
    application,
    client,
    transport,
    auth_failure,
    statement_tag,
    fingerprint,
    sensitive_columns,
    rows,
    rows_read,
    sqlstate,
    route,
    id
FROM {{db}}.events FINAL
WHERE session_id = {session_id:String}
  AND time >= {since:DateTime64(9)} AND time < {until:DateTime64(9)}
ORDER BY time, origin_file, origin_offset
