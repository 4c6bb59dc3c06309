#!/usr/bin/env bash
# bench-e2e.sh: push loggen events through `ingest import` -> the real Kafka
# broker (scripts/kafka.sh, PLAINTEXT listener) -> `analyze run` (streaming)
# -> file sink, and report events/s per stage and end to end, plus the
# end-to-end latency p50/p99 (message produce timestamp -> batch
# acknowledged by every sink; analyze logs it at exit as "streaming summary").
#
#   bash scripts/kafka.sh start && eval "$(bash scripts/kafka.sh env)"
#   bash scripts/bench-e2e.sh [EVENTS]        # default 1000000
#
# Stages, each timed on the wall clock:
#   generate   loggen writes the log files (not part of the pipeline)
#   e2e        analyze is started first (joined, idle), then ingest import
#              produces; analyze exits once drained (stream.exit_when_idle);
#              e2e events/s = events / (import start -> analyze's last ack)
#   produce    ingest import alone (measured inside the e2e run)
#   consume    a second analyze (new group) over the full topic, alone
# Profiles: BENCH_PROFILE=1 writes analyze and ingest CPU profiles to the
# work directory and prints the top of analyze's.
# Topics are fresh (6 partitions, replication 1) and left on the broker;
# the work directory (BENCH_DIR, default a temp dir) is removed unless
# BENCH_KEEP=1.
set -euo pipefail

cd "$(dirname "$0")/.."
EVENTS=${1:-1000000}
BROKER=${ROACHWATCH_TEST_KAFKA:-127.0.0.1:19092}
WORK=${BENCH_DIR:-$(mktemp -d /tmp/rw-bench-e2e.XXXXXX)}
NAME=rwbench-$(date +%s)-$$
NICE="nice -n 5"
# ingest runs below analyze and the broker: on one shared 2-core box a producer that outruns the
# consumer only builds a backlog, and the latency measured is then that backlog (in a deployment
# they have machines of their own; the files are the buffer). BENCH_INGEST_NICE=5 for equal shares.
INGEST_NICE="nice -n ${BENCH_INGEST_NICE:-10}"
mkdir -p "$WORK"
[ "${BENCH_KEEP:-0}" = 1 ] || trap 'rm -rf "$WORK"' EXIT

now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { d = b - a; printf "%.0f events/s (%.2f s)", n / d, d }'; }

echo "== building (work dir $WORK)"
for c in loggen ingest analyze; do go build -o "$WORK/$c" "./cmd/$c"; done

echo "== loggen: $EVENTS events"
t0=$(now)
$NICE "$WORK/loggen" --out "$WORK/logs" --days 1 --rate 1000000 --events "$EVENTS" >/dev/null
t1=$(now)
echo "generate: $(rate "$EVENTS" "$t0" "$t1")"

config() { # group findings events
	cat <<EOF
kafka:
  brokers: ["$BROKER"]
  tls:
    enabled: false
  topics:
    events: $NAME.events
    dlq: $NAME.dlq
    alerts: $NAME.alerts
    state: $NAME.state
    partitions: 6
    replication_factor: 1
  producer:
    compression: lz4
  consumer:
    group_id: $1
    batch_size: 10000
    batch_timeout: 200ms
    max_in_flight: 6
stream:
  findings_path: "$2"
  events_path: "$3"
  alerts: true
  snapshot_interval: 1m
  metrics_listen: ""
  exit_when_idle: 3s
EOF
}
config "$NAME-e2e" "$WORK/findings.jsonl" "$WORK/events.jsonl" >"$WORK/e2e.yaml"
config "$NAME-consume" "$WORK/findings2.jsonl" "$WORK/events2.jsonl" >"$WORK/consume.yaml"

prof() { [ "${BENCH_PROFILE:-0}" = 1 ] && echo "--cpuprofile=$WORK/$1.pprof" || true; }

echo "== end to end: analyze (waiting), then ingest import"
# Create the topics with 6 partitions before anyone writes (analyze creates them).
$NICE "$WORK/analyze" run --config "$WORK/e2e.yaml" $(prof analyze) 2>"$WORK/analyze.log" &
apid=$!
until grep -q "generation joined" "$WORK/analyze.log"; do
	kill -0 "$apid" 2>/dev/null || { cat "$WORK/analyze.log"; exit 1; }
	sleep 0.1
done
t2=$(now)
$INGEST_NICE "$WORK/ingest" import --config "$WORK/e2e.yaml" --input "$WORK/logs" $( [ "${BENCH_PROFILE:-0}" = 1 ] && echo "--cpuprofile=$WORK/ingest.pprof") >"$WORK/ingest.out" 2>"$WORK/ingest.log"
t3=$(now)
wait "$apid"
# The last acknowledgement: the events file's modification time.
t4=$(stat -c %.Y "$WORK/events.jsonl" 2>/dev/null || stat -c %Y "$WORK/events.jsonl")
produced=$(grep -c . "$WORK/events.jsonl" || true)
echo "produce (ingest import): $(rate "$produced" "$t2" "$t3")"
echo "end to end (import start -> last ack): $(rate "$produced" "$t2" "$t4")"
grep "streaming summary" "$WORK/analyze.log" | sed 's/^/analyze: /'

echo "== consume alone: a second analyze over the full topic"
t5=$(now)
$NICE "$WORK/analyze" run --config "$WORK/consume.yaml" 2>"$WORK/consume.log"
t6=$(stat -c %.Y "$WORK/events2.jsonl" 2>/dev/null || stat -c %Y "$WORK/events2.jsonl")
n2=$(grep -c . "$WORK/events2.jsonl" || true)
echo "consume+detect+sink (analyze alone, incl. start-up and group join): $(rate "$n2" "$t5" "$t6")"
grep "streaming summary" "$WORK/consume.log" | sed 's/^/analyze: /'
unique=$(sed -n 's/^{"v":[0-9]*,"id":"\([^"]*\)".*/\1/p' "$WORK/events.jsonl" | sort -u | wc -l)
echo "events in the sink: $produced lines, $unique unique ids"
if [ "${BENCH_PROFILE:-0}" = 1 ]; then
	go tool pprof -top -nodecount=25 "$WORK/analyze" "$WORK/analyze.pprof" 2>/dev/null | head -35
fi
