#!/usr/bin/env bash
# One-shot `crdb-init` service (cockroachdb/cockroach image): initializes the three-node cluster,
# then applies init.sql, the demo users' passwords, the HBA rule and the settings whose names or
# availability differ across versions. Idempotent.
#
# Environment (compose passes them; the defaults there are demo-only):
#   CRDB_WEB_PASSWORD            password of the application user `web`
#   CRDB_LEGACY_REPORT_PASSWORD  password of `legacy_report`, the one user allowed without TLS
set -euo pipefail

: "${CRDB_WEB_PASSWORD:?}" "${CRDB_LEGACY_REPORT_PASSWORD:?}"
cr=/cockroach/cockroach
conn=(--certs-dir=/certs/client --host=roach1:26257)
sql() { $cr sql "${conn[@]}" "$@"; }

# cockroach init fails once the cluster is initialized: that is the idempotent case.
if out=$($cr init "${conn[@]}" 2>&1); then
  echo "crdb-init: cluster initialized"
elif grep -q "already been initialized" <<<"$out"; then
  echo "crdb-init: cluster was already initialized"
else
  echo "$out" >&2
  exit 1
fi

for i in $(seq 1 60); do
  sql -e "SELECT 1" >/dev/null 2>&1 && break
  [[ $i == 60 ]] && { echo "crdb-init: SQL not ready after 60 s" >&2; exit 1; }
  sleep 1
done

sql -f /deploy/cockroach/init.sql

# Passwords: single quotes doubled so any value is a valid literal. CockroachDB writes the
# statement to its logs with the password replaced by '*****'.
quote() { printf "'%s'" "${1//\'/\'\'}"; }
sql -e "ALTER USER web WITH PASSWORD $(quote "$CRDB_WEB_PASSWORD")"
sql -e "ALTER USER legacy_report WITH PASSWORD $(quote "$CRDB_LEGACY_REPORT_PASSWORD")"

# Host-based authentication. DEMO ONLY: the first line lets legacy_report authenticate with a
# password over a plaintext connection (the nodes run with --accept-sql-without-tls); every other
# non-TLS connection matches no rule and is refused. TLS connections need a client certificate
# or a password (cert-password). root always keeps certificate login (built-in rule).
sql -e "SET CLUSTER SETTING server.host_based_authentication.configuration = '
# TYPE    DATABASE USER          ADDRESS METHOD
hostnossl all      legacy_report all     password
hostssl   all      all           all     cert-password
'"

# query_execute for every statement on SQL_EXEC. Overhead: every statement is formatted and
# written synchronously-ish to a file; CockroachDB documents a significant throughput cost, so
# production clusters usually rely on EXPERIMENTAL_AUDIT + telemetry sampling instead. The demo
# turns it on so injection-shaped statements and failed statements show up.
# Newer releases name it sql.log.all_statements.enabled; older ones sql.trace.log_statement_execute
# (still accepted as an alias where it was renamed).
sql -e "SET CLUSTER SETTING sql.log.all_statements.enabled = true" 2>/dev/null ||
  sql -e "SET CLUSTER SETTING sql.trace.log_statement_execute = true"

# Role-based audit logging (role_based_audit_event): every statement of legacy_report. Documented
# as an Enterprise feature; not fatal when the cluster refuses it (EXPERIMENTAL_AUDIT above already
# records the sensitive-table access).
sql -e "SET CLUSTER SETTING sql.log.user_audit = 'legacy_report ALL'" ||
  echo "crdb-init: sql.log.user_audit refused (license?); continuing without role-based audit" >&2

echo "crdb-init: done"
