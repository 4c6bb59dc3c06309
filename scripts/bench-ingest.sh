#!/usr/bin/env bash
# Measures `ingest import` into the real broker: N loggen CockroachDB events (default 1 M)
# from files into Kafka (RequireAll, zstd), reports events/s and MB/s, and writes a CPU
# profile. Needs the broker: bash scripts/kafka.sh start && eval "$(bash scripts/kafka.sh env)".
#
#   bash scripts/bench-ingest.sh [EVENTS]      (env: BENCH_DIR, default /tmp/rw-bench-ingest)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
events=${1:-1000000}
dir=${BENCH_DIR:-/tmp/rw-bench-ingest}
broker=${ROACHWATCH_TEST_KAFKA:?start the broker: eval "\$(bash scripts/kafka.sh env)"}
mkdir -p "$dir"
if [[ ! -f $dir/gen-$events/truth.json ]]; then
  rm -rf "$dir/gen-$events"
  nice go run ./cmd/loggen --out "$dir/gen-$events" --events "$events" --rate "$events" --days 2 --crdb-format mixed >&2
fi
nice go build -o "$dir/ingest" ./cmd/ingest
topic=rwbench.$(date +%s)
cat >"$dir/bench.yaml" <<YAML
kafka:
  brokers: ["$broker"]
  tls: {enabled: false}
  topics: {events: $topic.events, dlq: $topic.dlq, alerts: $topic.alerts, state: $topic.state, partitions: 6, replication_factor: 1}
ingest: {metrics_listen: "", checkpoint_file: $dir/ck.json, batch_events: 5000}
redaction: {key: "bench-key-0123456789abcdef"}
YAML
bytes=$(du -sb "$dir/gen-$events/crdb" "$dir/gen-$events/django" | awk '{s+=$1} END {print s}')
start=$(date +%s.%N)
nice "$dir/ingest" import --config "$dir/bench.yaml" --input "$dir/gen-$events/crdb" --input "$dir/gen-$events/django" \
  --cpuprofile "$dir/cpu.pprof" 2>"$dir/import.log"
end=$(date +%s.%N)
grep 'import finished' "$dir/import.log" >&2
evs=$(grep -o 'events=[0-9]*' "$dir/import.log" | tail -1 | cut -d= -f2)
awk -v e="$evs" -v b="$bytes" -v s="$start" -v t="$end" 'BEGIN {
  d = t - s; printf "events %d, input %.1f MB, wall %.2f s: %.0f events/s, %.1f MB/s (incl. process start and topic creation)\n", e, b/1e6, d, e/d, b/1e6/d }'
echo "profile: go tool pprof -top $dir/ingest $dir/cpu.pprof" >&2
