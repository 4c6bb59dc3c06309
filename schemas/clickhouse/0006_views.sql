-- 0006_views: analyst views for the common questions. Views over events and
-- findings read FINAL, so replayed rows never show twice; views over the
-- rollups merge their partial aggregates.

-- The newest version of every finding (what to triage).
CREATE VIEW IF NOT EXISTS {{db}}.v_findings {{on_cluster}} AS
SELECT id, rule_id, severity, title, summary, user, client, application, session_id, cluster,
       first_seen, last_seen, count, evidence, tables, columns, details, cwe, owasp, mitre, pci,
       remediation, query, status, status_note, updated_by, updated_at, version
FROM {{db}}.findings FINAL;

-- Open findings, most severe and most recent first.
CREATE VIEW IF NOT EXISTS {{db}}.v_open_findings {{on_cluster}} AS
SELECT rule_id, severity, title, user, client, application, first_seen, last_seen, count, id
FROM {{db}}.findings FINAL
WHERE status = 'open'
ORDER BY severity DESC, last_seen DESC;

-- Every read or write of a sensitive column, one row per column touched.
CREATE VIEW IF NOT EXISTS {{db}}.v_sensitive_access {{on_cluster}} AS
SELECT time, cluster, user, application, client, transport, session_id, route, view,
       column, statement_tag, fingerprint, rows, rows_read, id
FROM {{db}}.events FINAL
ARRAY JOIN sensitive_columns AS column;

-- SQL sessions without TLS, one row per session (events without a session id:
-- one row per client and user).
CREATE VIEW IF NOT EXISTS {{db}}.v_non_tls_sessions {{on_cluster}} AS
SELECT cluster, session_id, client, session_user AS user, application, first_seen, last_seen, events,
       sensitive_events, failed_auths
FROM
(
    SELECT cluster, session_id, client,
           if(session_id = '', any(user), anyIf(user, user != '')) AS session_user,
           anyIf(application, application != '') AS application,
           min(time) AS first_seen, max(time) AS last_seen, count() AS events,
           countIf(notEmpty(sensitive_columns)) AS sensitive_events,
           countIf(auth_failure != '') AS failed_auths
    FROM {{db}}.events FINAL
    WHERE transport = 'hostnossl'
    GROUP BY cluster, session_id, client, if(session_id = '', user, '')
);

-- Failed authentications.
CREATE VIEW IF NOT EXISTS {{db}}.v_failed_auths {{on_cluster}} AS
SELECT time, cluster, node, user, client, application, transport, auth_method, auth_failure, session_id, id
FROM {{db}}.events FINAL
WHERE auth_failure != '';

-- Per principal per hour, merged from the principal_hourly rollup.
CREATE VIEW IF NOT EXISTS {{db}}.v_principal_hourly {{on_cluster}} AS
SELECT cluster, user, application, hour,
       sum(events) AS events,
       uniqMerge(fingerprints) AS fingerprints,
       sum(rows_read) AS rows_read,
       sum(rows) AS rows,
       sum(bytes_read) AS bytes_read,
       sum(failed_auths) AS failed_auths,
       sum(non_tls_events) AS non_tls_events,
       uniqMerge(non_tls_sessions) AS non_tls_sessions,
       sum(sensitive_reads) AS sensitive_reads
FROM {{db}}.principal_hourly
GROUP BY cluster, user, application, hour;

-- Statement fingerprints: when each was first and last seen, and by whom.
CREATE VIEW IF NOT EXISTS {{db}}.v_fingerprints {{on_cluster}} AS
SELECT cluster, fingerprint_hash, any(fingerprint) AS fingerprint, any(statement_tag) AS statement_tag,
       min(first_seen) AS first_seen, max(last_seen) AS last_seen, sum(events) AS events,
       groupUniqArray(user) AS users
FROM {{db}}.fingerprint_seen
GROUP BY cluster, fingerprint_hash;

-- Client addresses: when each was first and last seen, per user.
CREATE VIEW IF NOT EXISTS {{db}}.v_client_addresses {{on_cluster}} AS
SELECT cluster,
       replaceRegexpOne(IPv6NumToString(client_addr), '^::ffff:([0-9.]+)$', '\\1') AS client,
       user, min(first_seen) AS first_seen, max(last_seen) AS last_seen, sum(events) AS events,
       sum(non_tls_events) AS non_tls_events, sum(failed_auths) AS failed_auths
FROM {{db}}.client_seen
GROUP BY cluster, client_addr, user;
