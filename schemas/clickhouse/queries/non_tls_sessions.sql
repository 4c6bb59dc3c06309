-- Which clients and users run SQL sessions without TLS (transport hostnossl): one row
-- per client address and user, with their sessions, events, sensitive-column events
-- and failed authentications. Sessions are attributed to the user that authenticated
-- them, also for the connection events logged before authentication; events without
-- a session id (e.g. crdb-v2 statement logs) count under their own user.
-- @param since DateTime64(9): start of the range (inclusive)
-- @param until DateTime64(9): end of the range (exclusive)
SELECT
    client,
    session_user AS user,
    groupUniqArrayArray(applications) AS applications,
    countIf(session_id != '') AS sessions,
    sum(events) AS events,
    sum(sensitive_events) AS sensitive_events,
    sum(failed_auths) AS failed_auths,
    min(first_seen) AS first_seen,
    max(last_seen) AS last_seen
FROM
(
    SELECT
        cluster,
        session_id,
        client,
        if(session_id = '', any(user), anyIf(user, user != '')) AS session_user,
        groupUniqArrayIf(application, application != '') AS applications,
        count() AS events,
        countIf(notEmpty(sensitive_columns)) AS sensitive_events,
        countIf(auth_failure != '') AS failed_auths,
        min(time) AS first_seen,
        max(time) AS last_seen
    FROM {{db}}.events FINAL
    WHERE transport = 'hostnossl' AND NOT internal
      AND time >= {since:DateTime64(9)} AND time < {until:DateTime64(9)}
    GROUP BY cluster, session_id, client, if(session_id = '', user, '')
)
GROUP BY client, session_user
ORDER BY sensitive_events DESC, sessions DESC, client, user
