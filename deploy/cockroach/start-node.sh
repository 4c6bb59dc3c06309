#!/usr/bin/env bash
# Starts one node of the compose cluster (runs inside the cockroachdb/cockroach image).
#   start-node.sh NODE_NAME
# It renders deploy/cockroach/logs.yaml for this node (its own directory on the shared
# crdb-logs volume) and passes the YAML with --log: a single logging file serves every node.
set -euo pipefail

node=${1:?usage: start-node.sh NODE_NAME}
certs=/certs/$node

# The certs service writes the certificates before the nodes start (depends_on), but say so
# clearly if someone starts a node on its own.
for f in ca.crt node.crt node.key; do
  [[ -f $certs/$f ]] || { echo "start-node.sh: $certs/$f missing: run the certs service first" >&2; exit 1; }
done

mkdir -p "/crdb-logs/$node"
log_yaml=$(</deploy/cockroach/logs.yaml)
log_yaml=${log_yaml//__NODE__/$node}

# --accept-sql-without-tls: DEMO ONLY. It lets the server accept non-TLS SQL connections at all;
# the HBA rule set by init-cluster.sh then allows them for exactly one demo user
# (legacy_report), so the plaintext-session finding (RW-TLS-001) can be shown. Remove the flag
# (and that HBA line) in anything that is not a demo: roachwatch would rightly flag it.
exec /cockroach/cockroach start \
  --certs-dir="$certs" \
  --store=path=/cockroach/cockroach-data \
  --listen-addr=:26257 \
  --advertise-addr="$node:26257" \
  --http-addr=:8080 \
  --join=roach1:26257,roach2:26257,roach3:26257 \
  --cache=.125 \
  --max-sql-memory=.125 \
  --accept-sql-without-tls \
  --log="$log_yaml"
