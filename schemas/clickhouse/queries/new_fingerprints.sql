-- Which statement shapes did each application principal (user, application) run for
-- the first time in the range (by default the last 24 hours): fingerprints whose first
-- sighting by that principal, ever, falls in [since, until). Read from the
-- fingerprint_seen rollup, so "ever" reaches back as far as events are kept.
-- @param since DateTime64(9): start of the range (inclusive)
-- @param until DateTime64(9): end of the range (exclusive)
SELECT
    user,
    application,
    fingerprint_hash,
    any(fingerprint) AS fingerprint,
    any(statement_tag) AS statement_tag,
    min(first_seen) AS first_seen,
    max(last_seen) AS last_seen,
    sum(events) AS events
FROM {{db}}.fingerprint_seen
WHERE user != ''
GROUP BY cluster, user, application, fingerprint_hash
HAVING first_seen >= {since:DateTime64(9)} AND first_seen < {until:DateTime64(9)}
ORDER BY user, application, first_seen, fingerprint_hash
