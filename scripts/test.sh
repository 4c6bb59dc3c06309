#!/usr/bin/env bash
# The whole test suite (what `make test` and .ci/run run):
#   1. gofmt, go vet;
#   2. unit, golden, end-to-end and fuzz-seed tests with the race detector;
#   3. integration tests (build tag `integration`) against real services this script starts on
#      loopback: Apache Kafka (KRaft, Maven Central jars, Java 17), a current ClickHouse server
#      (chdb-core from PyPI) and PostgreSQL with TLS (Debian's packages) as the pgwire peer.
#      All are fetched once into caches and stopped on exit;
#   4. the audit report rendered in headless Chromium (Debian's package), screenshot in out/;
#   5. the docker-compose deployment validated without an engine (Debian's docker-compose).
# Integration tests fail (not skip) when their service should be there: ROACHWATCH_REQUIRE_*.
# The only skip: no Java on the machine (said loudly below).
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './out/*'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
echo "== go vet"
go vet ./...
go vet -tags integration ./...

echo "== go test (unit, golden, end-to-end, fuzz seeds; race detector)"
go test -race -count=1 ./...

echo "== integration services"
cleanup() {
  bash scripts/kafka.sh stop >/dev/null 2>&1 || true
  bash scripts/clickhouse.sh stop >/dev/null 2>&1 || true
  bash scripts/pg-tls.sh stop >/dev/null 2>&1 || true
}
trap cleanup EXIT
bash scripts/clickhouse.sh start >/dev/null
eval "$(bash scripts/clickhouse.sh env)"
export ROACHWATCH_REQUIRE_CLICKHOUSE=1
bash scripts/pg-tls.sh start >/dev/null
eval "$(bash scripts/pg-tls.sh env)"
export ROACHWATCH_REQUIRE_POSTGRES=1
if command -v java >/dev/null 2>&1; then
  bash scripts/kafka.sh start >/dev/null
  eval "$(bash scripts/kafka.sh env)"
  export ROACHWATCH_REQUIRE_KAFKA=1
else
  echo "!! java not found: the Kafka integration tests will SKIP (install openjdk-17-jre-headless to run them)"
fi

echo "== go test -tags integration (real Kafka broker, ClickHouse server, PostgreSQL with TLS)"
go test -tags integration -count=1 $(grep -rl --include='*_test.go' '^//go:build integration' . | xargs -n1 dirname | sort -u | sed 's|^\./|roachwatch/|')

echo "== audit report in headless Chromium"
bash scripts/report-browser-check.sh

if [ -x scripts/check-compose.sh ]; then
  echo "== docker-compose deployment (validated, not run: no container engine here)"
  bash scripts/check-compose.sh
fi

echo "== done in $(( $(date +%s) - t0 ))s"
