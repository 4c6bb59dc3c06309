#!/usr/bin/env bash
# One-shot `certs` service (cockroachdb/cockroach image, runs as root): creates the demo CA and
# every certificate of the stack with `cockroach cert`. Idempotent: existing files are kept, so
# a restart of the stack keeps its certificates; delete the certs and ca-key volumes to rotate.
#
# Layout of the certs volume (mounted read-only by everyone else):
#   /certs/ca.crt                       the CA certificate every client verifies against
#   /certs/roach1..3/{ca.crt,node.crt,node.key}
#   /certs/client/{ca.crt,client.root.crt,client.root.key}   used by crdb-init only
#   /certs/kafka/{ca.crt,node.crt,node.key}                   owner uid 1000 (apache/kafka's appuser);
#                                                             kafka-pem turns them into kafka.pem
#   /certs/clickhouse/{ca.crt,node.crt,node.key}              owner uid 101 (clickhouse)
# The CA key lives in the separate ca-key volume, mounted only here.
set -euo pipefail

ca_key=/ca-key/ca.key
cr=/cockroach/cockroach

mkdir -p /certs /ca-key
if [[ ! -f $ca_key ]]; then
  mkdir -p /certs/ca
  $cr cert create-ca --certs-dir=/certs/ca --ca-key="$ca_key" --lifetime=8760h
  cp /certs/ca/ca.crt /certs/ca.crt
  echo "certs: created the demo CA"
fi

# node_cert DIR HOST...: a certificate valid for the given host names (and localhost), signed by
# the CA. cockroach's node certificates carry both serverAuth and clientAuth, so they also serve
# Kafka and ClickHouse.
node_cert() {
  local dir=$1
  shift
  mkdir -p "$dir"
  cp /certs/ca.crt "$dir/ca.crt"
  if [[ ! -f $dir/node.crt ]]; then
    $cr cert create-node "$@" localhost 127.0.0.1 --certs-dir="$dir" --ca-key="$ca_key" --lifetime=4380h
    echo "certs: created $dir/node.crt for $*"
  fi
}

for n in roach1 roach2 roach3; do
  node_cert "/certs/$n" "$n"
done
node_cert /certs/kafka kafka
node_cert /certs/clickhouse clickhouse

mkdir -p /certs/client
cp /certs/ca.crt /certs/client/ca.crt
if [[ ! -f /certs/client/client.root.crt ]]; then
  $cr cert create-client root --certs-dir=/certs/client --ca-key="$ca_key" --lifetime=4380h
  echo "certs: created the root client certificate"
fi

# Ownership for the services that do not run as root. Keys stay 0600 (CockroachDB refuses
# group/world-readable keys; the others should not have them either).
chmod 0644 /certs/ca.crt /certs/*/ca.crt /certs/*/*.crt
chmod 0600 /certs/*/*.key
chmod 0755 /certs /certs/*
chown -R 1000:1000 /certs/kafka
chown -R 101:101 /certs/clickhouse
echo "certs: ready"
