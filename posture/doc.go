// Package posture is roachwatch's active posture probe (`analyze probe`):
// it connects to CockroachDB or PostgreSQL endpoints over pgwire with pgx
// and reports what the logs cannot show.
//
// # Model
//
// One Target is one endpoint (a node or the load balancer). Probe runs, in
// order and each with its own connection:
//
//   - transport: sslmode=disable with the configured credentials (accepted,
//     or refused before authentication by the HBA); verify-full with the
//     chain recorded in VerifyConnection so a failed verification is still
//     described (unknown authority, self-signed, expired, not yet valid,
//     hostname mismatch, days left); the negotiated version and suite;
//     handshake-only attempts offering TLS 1.0, TLS 1.1 and weak suites,
//     abandoned before any credential is sent; and, when a client
//     certificate is configured, a connection without it.
//   - schema (verified connection only): information_schema.columns
//     filtered by the sensitive-column catalog, then one bounded read-only
//     sample per table (statement_timeout, LIMIT probe.sample_rows, READ
//     ONLY transaction on PostgreSQL, AS OF SYSTEM TIME on CockroachDB),
//     every value classified by pipeline/classify and then dropped.
//   - grants: role attributes, membership of powerful roles and table
//     privileges of probe.app_roles, with flavor-specific catalog queries
//     (QueriesFor; DetectFlavor reads SELECT version()).
//
// A Result holds verdicts and counts only. Sampled values never leave
// sampleTable: they are not logged, not put in errors, findings or files.
// The password lives in a secret.String and is scrubbed from messages.
//
// Findings are ordinary detectors.Finding values with stable incident ids
// (rule, endpoint, subject, UTC day): RW-TLS-002 plaintext accepted,
// RW-TLS-003 certificate problems, RW-TLS-004 weak protocol or suite,
// RW-CRYPTO-002 (cryptorule's rule) sensitive columns stored in plaintext,
// RW-PRIV-002 application roles with excessive privileges. ProbeFile turns
// the schema results into the catalog enrichment file that
// catalog.New loads through catalog.probe_file; `analyze probe` also
// writes them (Result.Database and Flavor name where each column lives) to
// ClickHouse's catalog_columns when clickhouse.enabled.
package posture
