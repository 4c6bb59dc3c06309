-- Seed of the throwaway PostgreSQL started by scripts/pg-tls.sh: roles, the "shop" database
-- and a schema whose sensitive columns are stored in plaintext or encrypted, for the posture
-- probe's integration tests. Every value is synthetic; passwords are throwaway.
CREATE ROLE rw_probe  LOGIN PASSWORD 'rw_probe-pw';
CREATE ROLE app_owner LOGIN PASSWORD 'app_owner-pw' CREATEROLE CREATEDB;
CREATE ROLE app_web   LOGIN PASSWORD 'app_web-pw';
CREATE ROLE app_plain LOGIN PASSWORD 'app_plain-pw';
CREATE ROLE cert_user LOGIN;
-- CockroachDB's all-powerful role, mirrored so the admin-membership check has a target.
CREATE ROLE admin NOLOGIN;
GRANT admin TO app_owner;
CREATE DATABASE shop;
\connect shop
CREATE EXTENSION pgcrypto;
CREATE SCHEMA app;

-- fernet returns a real Fernet token (version 0x80, timestamp, IV, AES-128-CBC, HMAC-SHA256)
-- for msg under the 32-byte key (signing key = first 16 bytes, encryption key = last 16).
CREATE FUNCTION pg_temp.fernet(msg text, key bytea) RETURNS text LANGUAGE sql AS $$
  WITH p AS (SELECT gen_random_bytes(16) AS iv),
       t AS (SELECT '\x80'::bytea || int8send(extract(epoch FROM now())::bigint) || p.iv ||
                    encrypt_iv(convert_to(msg, 'UTF8'), substring(key FROM 17 FOR 16), p.iv, 'aes-cbc') AS tok FROM p)
  SELECT translate(encode(t.tok || hmac(t.tok, substring(key FROM 1 FOR 16), 'sha256'), 'base64'), E'+/\n', '-_')
  FROM t
$$;

CREATE TABLE app.customers (
  id              serial PRIMARY KEY,
  full_name       text NOT NULL,
  ssn             text,          -- plaintext SSNs
  card_number     varchar(19),   -- plaintext PANs
  date_of_birth   date,          -- plaintext dates (DATE type)
  passport_number bytea,         -- plaintext bytes
  api_token       text,          -- Fernet tokens
  tax_id          text,          -- pgcrypto armor(pgp_sym_encrypt(...))
  iban            bytea,         -- random bytes (encrypted elsewhere)
  password        text,          -- Django password hashes
  secret_answer   text           -- always NULL
);
INSERT INTO app.customers (full_name, ssn, card_number, date_of_birth, passport_number, api_token, tax_id, iban, password)
SELECT 'Customer ' || i,
       '123-45-' || lpad(i::text, 4, '0'),
       (ARRAY['4111111111111111', '5555555555554444', '378282246310005', '6011111111111117'])[1 + i % 4],
       date '1970-01-01' + i * 97,
       convert_to('X' || lpad(i::text, 8, '0'), 'UTF8'),
       pg_temp.fernet('tok-' || i, decode(repeat('0123456789abcdef', 4), 'hex')),
       armor(pgp_sym_encrypt('TX-' || i, 'seed-key', 's2k-count=1024')),
       gen_random_bytes(64),
       'pbkdf2_sha256$600000$' || md5(i::text) || '$' || encode(sha256(convert_to('pw' || i, 'UTF8')), 'base64')
FROM generate_series(1, 150) AS i;

CREATE TABLE app.audit_log (
  id     bigserial PRIMARY KEY,
  at     timestamptz NOT NULL DEFAULT now(),
  actor  text NOT NULL,
  action text NOT NULL
);
INSERT INTO app.audit_log (actor, action) SELECT 'admin', 'login' FROM generate_series(1, 5);

CREATE TABLE app.products (id serial PRIMARY KEY, title text, price numeric(10, 2));

-- The probe: connect, read the catalog, sample the tables. Nothing else.
GRANT CONNECT ON DATABASE shop TO rw_probe;
GRANT USAGE ON SCHEMA app TO rw_probe;
GRANT SELECT ON ALL TABLES IN SCHEMA app TO rw_probe;

-- Over-privileged application role.
GRANT CONNECT ON DATABASE shop TO app_owner;
GRANT USAGE ON SCHEMA app TO app_owner;
GRANT ALL ON app.customers TO app_owner;
GRANT SELECT, INSERT, DELETE, TRUNCATE ON app.audit_log TO app_owner;
GRANT SELECT ON app.products TO app_owner;

-- Least-privilege application role.
GRANT CONNECT ON DATABASE shop TO app_web;
GRANT USAGE ON SCHEMA app TO app_web;
GRANT SELECT, INSERT, UPDATE ON app.customers TO app_web;
GRANT INSERT ON app.audit_log TO app_web;
GRANT SELECT ON app.products TO app_web;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA app TO app_web;

GRANT CONNECT ON DATABASE shop TO app_plain, cert_user;
