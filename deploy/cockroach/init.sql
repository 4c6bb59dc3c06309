-- Demo schema and audit switches for the compose cluster; run by init-cluster.sh as root over
-- TLS (client certificate). Idempotent: safe to run on every `docker compose up`.
-- Passwords and the HBA rule are set by init-cluster.sh (they come from the environment).

-- What turns the events on (log-formats.md §1.2):
-- client_connection_start/end on SESSIONS.
SET CLUSTER SETTING server.auth_log.sql_connections.enabled = true;
-- client_authentication_info/failed on SESSIONS (failed logins, RW-AUTH-001).
SET CLUSTER SETTING server.auth_log.sql_sessions.enabled = true;
-- sampled_query / sampled_transaction on TELEMETRY: rate-limited, not a complete record.
SET CLUSTER SETTING sql.telemetry.query_sampling.enabled = true;
-- query_execute for every statement is set by init-cluster.sh (its name differs across versions).

CREATE DATABASE IF NOT EXISTS clinic;

-- Sensitive tables: the column names match roachwatch's sensitive catalog (ssn, dob,
-- card_number) and configs/compose/roachwatch.yaml lists them explicitly as well.
CREATE TABLE IF NOT EXISTS clinic.patients (
    id         INT8 PRIMARY KEY DEFAULT unique_rowid(),
    full_name  STRING NOT NULL,
    last_name  STRING NOT NULL,
    ssn        STRING,          -- meant to hold ciphertext (a Fernet token); the demo breaks that
    dob        DATE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS clinic.customers (
    id          INT8 PRIMARY KEY DEFAULT unique_rowid(),
    email       STRING NOT NULL,
    card_number STRING,         -- meant to hold ciphertext
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Not sensitive: the benign bulk of the demo traffic.
CREATE TABLE IF NOT EXISTS clinic.appointments (
    id          INT8 PRIMARY KEY DEFAULT unique_rowid(),
    patient_id  INT8 NOT NULL,
    starts_at   TIMESTAMPTZ NOT NULL,
    room        STRING NOT NULL,
    note        STRING
);

-- sensitive_table_access on SENSITIVE_ACCESS for every read and write of these tables.
ALTER TABLE clinic.patients EXPERIMENTAL_AUDIT SET READ WRITE;
ALTER TABLE clinic.customers EXPERIMENTAL_AUDIT SET READ WRITE;

-- The Django-like application user (password, over TLS) and a legacy reporting user, the one
-- the demo HBA rule lets in without TLS. Both are ordinary, least-privilege users.
CREATE USER IF NOT EXISTS web;
CREATE USER IF NOT EXISTS legacy_report;
GRANT CONNECT ON DATABASE clinic TO web, legacy_report;
GRANT SELECT, INSERT, UPDATE ON TABLE clinic.patients, clinic.customers, clinic.appointments TO web;
GRANT SELECT ON TABLE clinic.patients, clinic.customers, clinic.appointments TO legacy_report;

-- Seed rows: ssn and card_number hold ciphertext-shaped values (Fernet tokens), as they should.
INSERT INTO clinic.patients (id, full_name, last_name, ssn, dob) VALUES
    (1, 'Ada Okafor', 'Okafor', 'gAAAAABm0demoSeedCiphertextAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=', '1984-03-02'),
    (2, 'Jon Lindqvist', 'Lindqvist', 'gAAAAABm0demoSeedCiphertextBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=', '1990-11-17'),
    (3, 'Mei Tanaka', 'Tanaka', 'gAAAAABm0demoSeedCiphertextCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC=', '1977-06-30')
ON CONFLICT (id) DO NOTHING;
INSERT INTO clinic.customers (id, email, card_number) VALUES
    (1, 'gAAAAABm0demoSeedCiphertextDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD=', 'gAAAAABm0demoSeedCiphertextEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEE=')
ON CONFLICT (id) DO NOTHING;
