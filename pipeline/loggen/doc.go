// Package loggen generates realistic, fully deterministic logs of a Django
// application running on a three-node CockroachDB cluster, with planted
// security incidents and benign look-alikes recorded in truth.json.
//
// Model. Generation is a discrete-event simulation driven by event time.
// Activities (a Django connection serving requests, a billing transaction,
// an internal-executor job, an operator session, a planted incident) start
// at pseudo-random times and push timed log entries into a min-heap. Before
// an activity starting at t runs, every pending entry older than t is
// written, so output is strictly time-ordered per file while only the
// entries of in-flight activities are held in memory.
//
// Determinism. All randomness comes from math/rand/v2 PCG sources seeded
// from Config.Seed; benign traffic, incident planning and each planted
// incident use separate streams, so adding a scenario does not perturb the
// benign traffic. Nothing reads the wall clock, and no map is iterated
// while producing output.
//
// Formats. CockroachDB entries follow docs/log-formats.md (json verbose and
// crdb-v2 envelopes, [config] headers, per-sink counters, '+' and '|'
// continuation lines, redaction markers). Django records use the verbose
// text formatter and python-json-logger's JSON shape.
//
// Categories. Planted incidents (truth.json category -> expected rule):
// tls_plaintext_sensitive and tls_plaintext (RW-TLS-001), plaintext_write
// (RW-CRYPTO-001), plaintext_read (RW-CRYPTO-002: reporting reads
// customers.phone, the column listed in truth.json's catalog_plaintext),
// secrets_in_logs (RW-CRYPTO-003), sqli (RW-SQLI-001), brute_force
// (RW-AUTH-001), privilege_escalation (RW-PRIV-001), audit_tampering and
// audit_silence (RW-AUDIT-001: the patients stream of the clinic board's
// node stops after auditing is switched off; decisive 10 minutes after
// its last event), exfiltration (RW-ANOM-001), off_hours (RW-ANOM-004:
// reporting at about 03:00 on the last day), new_client_network
// (RW-ANOM-005) and new_principal (RW-ANOM-006). Baseline categories are
// planted on the last day, after the detectors' 24 h warm-up; off_hours
// needs at least three days (48 h of hour profile).
//
// Look-alikes (lookalike: true, expected_rule ""; they must raise no
// high/critical finding of their category's rule): Fernet-encrypted
// writes (plaintext_write); encrypted customers.email read by reporting
// (plaintext_read); a SHA-256 digest, a UUID and a masked DSN in Django
// logs (secrets_in_logs); searches containing "union"/"' or '" and a
// migration reading information_schema (sqli); a mistyped password
// (brute_force); REVOKE and GRANT SELECT on a non-sensitive table
// (privilege_escalation); configuration management turning logging ON
// (audit_tampering); reporting's usual revenue export (exfiltration); the
// nightly etl_nightly user, seen since day one (new_principal);
// billing_app from a new address in its usual /24 (new_client_network);
// billing_app's nightly batch (off_hours); root over the unix socket and
// over TLS from a VPN address (tls_plaintext).
//
// Routines. Besides random traffic, every day has fixed-hour work with its
// own random stream (routines.go): the clinic board polling patients
// 07:00-19:00 (a steady sensitive_table_access stream on one node), the
// finance wall dashboard refreshing as reporting 08:00-18:00, and
// Metabase's 00:30 subscriptions. reporting otherwise works 07:00-19:00
// only, which gives it the hour-of-week profile off_hours stands out from.
//
// Extending. A new incident kind is one Scenario value (see scenarios.go):
// its category, expected rule, how often it is planted, and a Plant
// function that drives sessions through the same helpers benign traffic
// uses. Registering it in the scenarios list is the only other change.
// Schedules: Daily (a random slot of every day), OnceLate (second half of
// the last day), DailyAt and LastDayAt (between From and To hours).
package loggen
