#!/usr/bin/env bash
# Single-node Apache Kafka broker (KRaft, combined broker+controller) on loopback for the
# integration tests. Kafka's jars come from Maven Central through scripts/kafka/pom.xml;
# nothing is downloaded from anywhere else.
#
#   bash scripts/kafka.sh start    fetch jars (once), make certs, format, start, wait, print env
#   bash scripts/kafka.sh stop     stop the broker and wait for it to exit
#   bash scripts/kafka.sh status   exit 0 and say so if it runs, exit 1 if not
#   bash scripts/kafka.sh env      print the export line the tests read (exit 1 if not running)
#
# Typical use:
#   bash scripts/kafka.sh start && eval "$(bash scripts/kafka.sh env)"
#   go test -tags integration -count=1 ./internal/testenv/kafkaenv/
#   bash scripts/kafka.sh stop
#
# Exit codes: 0 ok, 1 error, 2 usage, 3 java is not installed (callers then run the tests,
# which skip with a message that says so).
#
# Settings (environment):
#   KAFKA_VERSION          Kafka release to run (default 4.2.1; see the comment in the pom)
#   ROACHWATCH_CACHE       cache root (default ~/.cache/roachwatch); jars go to
#                          $ROACHWATCH_CACHE/kafka-$KAFKA_VERSION/libs
#   ROACHWATCH_RUN         run dir: certs, config, data, pid and log (default /tmp/roachwatch-kafka)
#   KAFKA_PLAIN_PORT       PLAINTEXT listener (default 19092)
#   KAFKA_SASL_PORT        SASL_SSL listener, SCRAM-SHA-512/256 and PLAIN (default 19093)
#   KAFKA_CONTROLLER_PORT  KRaft controller listener (default 19094)
#   KAFKA_START_TIMEOUT    seconds to wait for readiness (default 60)
#   KAFKA_HEAP             JVM heap (default 512m)
#   KAFKA_MVN_ARGS         extra Maven arguments, e.g. -Dmaven.repo.local=/tmp/m2 for a cold fetch
#
# Every start formats fresh storage and makes a fresh CA and password: the broker is
# throwaway. Step timings go to stderr; stdout carries only the env line.
set -euo pipefail

readonly KAFKA_VERSION=${KAFKA_VERSION:-4.2.1}
readonly HOST=127.0.0.1
readonly PLAIN_PORT=${KAFKA_PLAIN_PORT:-19092}
readonly SASL_PORT=${KAFKA_SASL_PORT:-19093}
readonly CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-19094}
readonly START_TIMEOUT=${KAFKA_START_TIMEOUT:-60}
readonly HEAP=${KAFKA_HEAP:-512m}
readonly SCRAM_USER=roachwatch

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly SCRIPT_DIR
readonly POM="$SCRIPT_DIR/kafka/pom.xml"
readonly CACHE_DIR="${ROACHWATCH_CACHE:-$HOME/.cache/roachwatch}/kafka-$KAFKA_VERSION"
readonly LIBS="$CACHE_DIR/libs"
readonly RUN_DIR=${ROACHWATCH_RUN:-/tmp/roachwatch-kafka}
readonly PID_FILE="$RUN_DIR/kafka.pid"
readonly LOG_FILE="$RUN_DIR/broker.log"
readonly ENV_FILE="$RUN_DIR/env.sh"

log() { printf 'kafka.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

now_ms() { date +%s%3N; }

# step NAME CMD...: runs CMD and prints how long it took to stderr. CMD is not run in an
# `||` list on purpose: that would switch off errexit inside it. A failure exits the script.
step() {
  local name=$1 t0
  shift
  t0=$(now_ms)
  "$@"
  log "$(printf '%-12s %6d ms' "$name" $(($(now_ms) - t0)))"
}

major_version() { printf '%s' "${KAFKA_VERSION%%.*}"; }

# running: true if the pid file names a live kafka.Kafka process of ours. A stale pid
# file (reboot, kill -9, pid reused by something else) counts as not running.
running() {
  [[ -f $PID_FILE ]] || return 1
  local pid
  pid=$(<"$PID_FILE")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "kafka.Kafka $RUN_DIR/server.properties"
}

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

require_java() {
  if ! command -v java >/dev/null 2>&1; then
    log "java is not installed (need a JRE 17+ on PATH, e.g. apt-get install openjdk-17-jre-headless);"
    log "integration tests that need Kafka will skip with that reason"
    exit 3
  fi
}

fetch_libs() {
  if [[ -f $LIBS/.complete ]]; then
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn is not installed (apt-get install maven); it fetches Kafka's jars from Maven Central"
  local tmp="$LIBS.tmp.$$" profile=()
  if (($(major_version) < 4)); then
    profile=(-Dkafka3) # reload4j logging instead of log4j2, see the pom
  fi
  rm -rf "$tmp"
  mkdir -p "$tmp"
  # shellcheck disable=SC2086 # KAFKA_MVN_ARGS is a list of words on purpose
  if ! nice mvn -q -B -f "$POM" ${KAFKA_MVN_ARGS:-} "${profile[@]}" \
    -Dkafka.version="$KAFKA_VERSION" -DoutputDirectory="$tmp" \
    dependency:copy-dependencies >"$CACHE_DIR.mvn.log" 2>&1; then
    tail -n 40 "$CACHE_DIR.mvn.log" >&2
    rm -rf "$tmp"
    die "could not resolve Kafka $KAFKA_VERSION from Maven Central (log: $CACHE_DIR.mvn.log)"
  fi
  touch "$tmp/.complete"
  rm -rf "$LIBS"
  mv "$tmp" "$LIBS"
}

# make_certs: throwaway CA, a broker certificate for localhost/127.0.0.1, a PKCS12
# keystore for the broker and a PKCS12 truststore holding the CA.
make_certs() {
  local d="$RUN_DIR/tls" storepw
  rm -rf "$d"
  mkdir -p "$d"
  chmod 700 "$d"
  storepw=$(openssl rand -hex 16)
  printf '%s' "$storepw" >"$d/store.password"
  openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
    -keyout "$d/ca.key" -out "$d/ca.pem" -days 7 -subj "/CN=roachwatch throwaway test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
    -keyout "$d/broker.key" -out "$d/broker.csr" -subj "/CN=localhost" 2>/dev/null
  printf '%s\n' \
    "basicConstraints=CA:FALSE" \
    "keyUsage=critical,digitalSignature" \
    "extendedKeyUsage=serverAuth" \
    "subjectAltName=DNS:localhost,IP:127.0.0.1" >"$d/broker.ext"
  openssl x509 -req -in "$d/broker.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
    -days 7 -sha256 -extfile "$d/broker.ext" -out "$d/broker.pem" 2>/dev/null
  openssl pkcs12 -export -name broker -inkey "$d/broker.key" -in "$d/broker.pem" \
    -certfile "$d/ca.pem" -out "$d/broker.p12" -passout "pass:$storepw"
  # Java only trusts PKCS12 entries that carry its trusted-cert attribute, which
  # OpenSSL 3.0 cannot write; keytool can.
  keytool -importcert -noprompt -alias roachwatch-ca -file "$d/ca.pem" \
    -keystore "$d/truststore.p12" -storetype PKCS12 -storepass "$storepw" >/dev/null 2>&1
  chmod 600 "$d"/*
}

write_config() {
  local d="$RUN_DIR/tls" storepw password
  storepw=$(<"$d/store.password")
  password=$(<"$RUN_DIR/password")
  cat >"$RUN_DIR/server.properties" <<EOF
# Generated by scripts/kafka.sh; rewritten on every start.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$CONTROLLER_PORT
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://$HOST:$PLAIN_PORT,SASL_SSL://$HOST:$SASL_PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$PLAIN_PORT,SASL_SSL://$HOST:$SASL_PORT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL
inter.broker.listener.name=PLAINTEXT

# SASL_SSL: server-side TLS only (no client certificates), SCRAM users live in the
# metadata log (created by kafka-storage format --add-scram), PLAIN users in JAAS.
listener.name.sasl_ssl.sasl.enabled.mechanisms=SCRAM-SHA-512,SCRAM-SHA-256,PLAIN
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$SCRAM_USER="$password";
listener.name.sasl_ssl.ssl.keystore.type=PKCS12
listener.name.sasl_ssl.ssl.keystore.location=$d/broker.p12
listener.name.sasl_ssl.ssl.keystore.password=$storepw
listener.name.sasl_ssl.ssl.key.password=$storepw
listener.name.sasl_ssl.ssl.truststore.type=PKCS12
listener.name.sasl_ssl.ssl.truststore.location=$d/truststore.p12
listener.name.sasl_ssl.ssl.truststore.password=$storepw
listener.name.sasl_ssl.ssl.client.auth=none
listener.name.sasl_ssl.ssl.enabled.protocols=TLSv1.3,TLSv1.2
connection.failed.authentication.delay.ms=100

log.dirs=$RUN_DIR/data
metadata.log.dir=$RUN_DIR/data
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
auto.create.topics.enable=false
delete.topic.enable=true
group.initial.rebalance.delay.ms=0

# Small and cheap: this machine is shared.
log.segment.bytes=8388608
log.retention.bytes=268435456
log.retention.check.interval.ms=60000
log.cleaner.dedupe.buffer.size=8388608
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
background.threads=4
EOF
  chmod 600 "$RUN_DIR/server.properties"

  # Console logging into broker.log; the broker's own state-change/request logs stay quiet.
  cat >"$RUN_DIR/log4j.properties" <<'EOF'
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.org.apache.kafka.common.network.Selector=WARN
EOF
  cat >"$RUN_DIR/log4j2.properties" <<'EOF'
rootLogger.level=INFO
rootLogger.appenderRef.stdout.ref=STDOUT
appender.stdout.type=Console
appender.stdout.name=STDOUT
appender.stdout.layout.type=PatternLayout
appender.stdout.layout.pattern=[%d] %p %m (%c)%n
logger.request.name=kafka.request.logger
logger.request.level=WARN
logger.state.name=state.change.logger
logger.state.level=WARN
EOF
}

java_opts() {
  printf '%s\n' "-Xms128m" "-Xmx$HEAP" "-XX:+UseG1GC" "-XX:MaxGCPauseMillis=20" \
    "-XX:TieredStopAtLevel=1" "-Djava.awt.headless=true" \
    "-Dlog4j.configuration=file:$RUN_DIR/log4j.properties" \
    "-Dlog4j2.configurationFile=$RUN_DIR/log4j2.properties" \
    "-Dkafka.logs.dir=$RUN_DIR/logs"
}

format_storage() {
  local cluster_id password opts=()
  password=$(<"$RUN_DIR/password")
  mapfile -t opts < <(java_opts)
  # A cluster id is 16 random bytes in unpadded URL-safe base64; making it here saves a JVM start.
  # Like Kafka's Uuid.randomUuid, draw again when it starts with '-': the tool's argument parser
  # would read such an id as an option ("--cluster-id: expected one argument", 1 run in 64).
  cluster_id=-
  while [[ $cluster_id == -* ]]; do
    cluster_id=$(openssl rand -base64 16 | tr '+/' '-_' | tr -d '=\n')
  done
  rm -rf "$RUN_DIR/data" "$RUN_DIR/logs"
  mkdir -p "$RUN_DIR/data" "$RUN_DIR/logs"
  if ! java "${opts[@]}" -Xmx256m -cp "$LIBS/*" kafka.tools.StorageTool format \
    --config "$RUN_DIR/server.properties" --cluster-id "$cluster_id" --ignore-formatted \
    --add-scram "SCRAM-SHA-512=[name=$SCRAM_USER,password=$password]" \
    --add-scram "SCRAM-SHA-256=[name=$SCRAM_USER,password=$password]" \
    >"$RUN_DIR/format.log" 2>&1; then
    cat "$RUN_DIR/format.log" >&2
    die "formatting storage failed"
  fi
}

launch() {
  local opts=()
  mapfile -t opts < <(java_opts)
  : >"$LOG_FILE"
  # setsid: the broker must outlive this script and the caller's terminal job control.
  setsid nohup nice -n 5 java "${opts[@]}" -cp "$LIBS/*" \
    kafka.Kafka "$RUN_DIR/server.properties" >>"$LOG_FILE" 2>&1 </dev/null 9>&- &
  echo $! >"$PID_FILE"
}

wait_ready() {
  local pid deadline
  pid=$(<"$PID_FILE")
  deadline=$((SECONDS + START_TIMEOUT))
  while ((SECONDS < deadline)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "broker exited during startup; last lines of $LOG_FILE:"
      tail -n 60 "$LOG_FILE" >&2
      rm -f "$PID_FILE"
      return 1
    fi
    if grep -q 'Kafka Server started' "$LOG_FILE" && port_open "$PLAIN_PORT" && port_open "$SASL_PORT"; then
      return 0
    fi
    sleep 0.2
  done
  log "broker not ready after ${START_TIMEOUT}s; last lines of $LOG_FILE:"
  tail -n 60 "$LOG_FILE" >&2
  stop_broker || true
  return 1
}

write_env() {
  printf 'export ROACHWATCH_TEST_KAFKA=%s ROACHWATCH_TEST_KAFKA_SASL=%s ROACHWATCH_TEST_KAFKA_CA=%s ROACHWATCH_TEST_KAFKA_USER=%s ROACHWATCH_TEST_KAFKA_PASSWORD=%s\n' \
    "$HOST:$PLAIN_PORT" "$HOST:$SASL_PORT" "$RUN_DIR/tls/ca.pem" "$SCRAM_USER" "$(<"$RUN_DIR/password")" >"$ENV_FILE"
  chmod 600 "$ENV_FILE"
}

stop_broker() {
  if ! running; then
    rm -f "$PID_FILE"
    return 0
  fi
  local pid i
  pid=$(<"$PID_FILE")
  kill -TERM "$pid" 2>/dev/null || true
  # A combined-mode node shuts down in a few seconds; give it 30 before SIGKILL.
  for ((i = 0; i < 150; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "broker (pid $pid) ignored SIGTERM for 30s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -f "$PID_FILE"
}

cmd_start() {
  require_java
  local t0
  t0=$(now_ms)
  if running; then
    log "already running (pid $(<"$PID_FILE"), Kafka $(cat "$RUN_DIR/version" 2>/dev/null))"
    cat "$ENV_FILE"
    return 0
  fi
  local p
  for p in "$PLAIN_PORT" "$SASL_PORT" "$CONTROLLER_PORT"; do
    if port_open "$p"; then
      die "port $HOST:$p is already in use by another process; set KAFKA_PLAIN_PORT/KAFKA_SASL_PORT/KAFKA_CONTROLLER_PORT"
    fi
  done
  mkdir -p "$CACHE_DIR" "$RUN_DIR"
  chmod 700 "$RUN_DIR"
  step fetch fetch_libs
  openssl rand -hex 18 >"$RUN_DIR/password.tmp"
  tr -d '\n' <"$RUN_DIR/password.tmp" >"$RUN_DIR/password"
  rm -f "$RUN_DIR/password.tmp"
  chmod 600 "$RUN_DIR/password"
  step certs make_certs
  step config write_config
  step format format_storage
  step launch launch
  step ready wait_ready
  write_env
  printf '%s\n' "$KAFKA_VERSION" >"$RUN_DIR/version"
  log "$(printf '%-12s %6d ms' total $(($(now_ms) - t0)))  Kafka $KAFKA_VERSION pid $(<"$PID_FILE"), log $LOG_FILE"
  cat "$ENV_FILE"
}

cmd_stop() {
  [[ -d $RUN_DIR ]] || return 0
  step stop stop_broker
}

cmd_status() {
  if running; then
    echo "kafka $(cat "$RUN_DIR/version" 2>/dev/null) running (pid $(<"$PID_FILE")), plaintext $HOST:$PLAIN_PORT, sasl_ssl $HOST:$SASL_PORT"
    return 0
  fi
  echo "kafka not running"
  return 1
}

cmd_env() {
  if ! running || [[ ! -f $ENV_FILE ]]; then
    log "kafka is not running; start it with: bash scripts/kafka.sh start"
    return 1
  fi
  cat "$ENV_FILE"
}

main() {
  local cmd=${1:-}
  case $cmd in
  start | stop | status | env) ;;
  *)
    echo "usage: $0 {start|stop|status|env}" >&2
    exit 2
    ;;
  esac
  if [[ $cmd == start || $cmd == stop ]]; then
    mkdir -p "$RUN_DIR"
    # One start or stop at a time per run dir: two concurrent starts must not format twice.
    # The broker is launched with fd 9 closed so that it does not inherit the lock.
    exec 9>"$RUN_DIR/.lock"
    flock -w 120 9 || die "another kafka.sh start/stop holds $RUN_DIR/.lock"
  fi
  "cmd_$cmd"
}

main "$@"
