#!/usr/bin/env bash
# A real, current ClickHouse server (26.x, from the chdb-core wheel on PyPI) on loopback for
# the integration tests: ClickHouse's own HTTP interface and native TCP protocol, served by the
# engine embedded in chdb-core (see scripts/clickhouse/README.md for how and for the limits).
# Nothing is downloaded from anywhere but PyPI.
#
#   bash scripts/clickhouse.sh start    make the venv + install chdb-core (once), start, wait for /ping
#   bash scripts/clickhouse.sh stop     stop the server and wait for it to exit
#   bash scripts/clickhouse.sh status   exit 0 and print the version if it runs, exit 1 if not
#   bash scripts/clickhouse.sh env      print the export lines the tests read (exit 1 if not running)
#
# Typical use:
#   bash scripts/clickhouse.sh start && eval "$(bash scripts/clickhouse.sh env)"
#   go test -tags integration -count=1 ./internal/testenv/chenv/
#   bash scripts/clickhouse.sh stop
#
# Exit codes: 0 ok, 1 error, 2 usage.
#
# Settings (environment):
#   CHDB_CORE_VERSION   chdb-core release to install (default 26.9.0 = ClickHouse 26.9.2.1)
#   CH_PYTHON           interpreter that creates the venv (default python3; needs >= 3.9 with venv)
#   ROACHWATCH_CACHE    cache root (default ~/.cache/roachwatch); the venv is $ROACHWATCH_CACHE/chdb-venv
#   ROACHWATCH_RUN      run dir (default /tmp/roachwatch-ch): clickhouse.pid, clickhouse.log and the
#                       engine dir chdb/ (config.xml, data/, clickhouse-server.log)
#   CH_HTTP_PORT        HTTP interface (default 18123)
#   CH_TCP_PORT         native protocol (default 19000; 0 = do not listen)
#   CH_TLS_NATIVE_PORT  native protocol over TLS (default 19440; 0 = off)
#   CH_HTTPS_PORT       HTTP interface over TLS (default 18443; 0 = off)
#                       TLS is terminated in front of the engine with a throwaway CA made here
#                       ($ROACHWATCH_RUN/tls/ca.pem, certificate for localhost + 127.0.0.1);
#                       clickhouse-local cannot start ClickHouse's own secure listeners.
# Users: "default" (no password, as clickhouse-local has it), and "roachwatch" (read-write) and
# "analyst" (read-only) with the password in $ROACHWATCH_RUN/password, new on every start.
#   CH_START_TIMEOUT    seconds to wait for /ping (default 60)
#   CH_LOG_LEVEL        server log level (default debug: every query with its timing)
#   CH_MAX_MEMORY       max_server_memory_usage in bytes (default 4 GiB; the machine is shared)
#   CH_KEEP_DATA        1 = keep the data of the previous run (default: every start begins empty)
#
# start is idempotent: a running server is left alone. Step timings go to stderr; stdout
# carries only what `env` prints.
set -euo pipefail

readonly CHDB_CORE_VERSION=${CHDB_CORE_VERSION:-26.9.0}
readonly CH_PYTHON=${CH_PYTHON:-python3}
readonly HOST=127.0.0.1
readonly HTTP_PORT=${CH_HTTP_PORT:-18123}
readonly TCP_PORT=${CH_TCP_PORT:-19000}
readonly TLS_NATIVE_PORT=${CH_TLS_NATIVE_PORT:-19440}
readonly HTTPS_PORT=${CH_HTTPS_PORT:-18443}
readonly START_TIMEOUT=${CH_START_TIMEOUT:-60}
readonly LOG_LEVEL=${CH_LOG_LEVEL:-debug}
readonly MAX_MEMORY=${CH_MAX_MEMORY:-4294967296}

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly SCRIPT_DIR
readonly SERVER_PY="$SCRIPT_DIR/clickhouse/chd_server.py"
readonly VENV="${ROACHWATCH_CACHE:-$HOME/.cache/roachwatch}/chdb-venv"
readonly VPY="$VENV/bin/python"
readonly RUN_DIR=${ROACHWATCH_RUN:-/tmp/roachwatch-ch}
readonly ENGINE_DIR="$RUN_DIR/chdb"
readonly PID_FILE="$RUN_DIR/clickhouse.pid"
readonly LOG_FILE="$RUN_DIR/clickhouse.log"
readonly TLS_DIR="$RUN_DIR/tls"

log() { printf 'clickhouse.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
now_ms() { date +%s%3N; }

# step NAME CMD...: runs CMD and prints how long it took to stderr. A failure exits the script.
step() {
	local name=$1 t0 rc=0
	shift
	t0=$(now_ms)
	"$@" || rc=$?
	if ((rc != 0)); then
		log "$name: FAILED after $(($(now_ms) - t0)) ms (exit $rc)"
		exit "$rc"
	fi
	log "$name: $(($(now_ms) - t0)) ms"
}

base_url() { printf 'http://%s:%s' "$HOST" "$HTTP_PORT"; }

# running_pid prints the pid of our server if the pid file names a live chd_server.py process.
running_pid() {
	[[ -f $PID_FILE ]] || return 1
	local pid
	pid=$(<"$PID_FILE")
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'chd_server.py' || return 1
	printf '%s\n' "$pid"
}

ping_ok() { curl -sf --max-time 2 "$(base_url)/ping" >/dev/null 2>&1; }

installed_version() {
	[[ -x $VPY ]] || return 1
	"$VPY" -c 'import importlib.metadata as m; print(m.version("chdb-core"))' 2>/dev/null
}

ensure_venv() {
	local have
	have=$(installed_version || true)
	if [[ $have == "$CHDB_CORE_VERSION" ]]; then
		log "venv: chdb-core $have already in $VENV (cached)"
		return 0
	fi
	command -v "$CH_PYTHON" >/dev/null || die "$CH_PYTHON not found (set CH_PYTHON)"
	"$CH_PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 9) else 1)' ||
		die "$CH_PYTHON is older than 3.9; chdb-core needs 3.9+"
	if [[ ! -x $VPY ]]; then
		mkdir -p "$(dirname "$VENV")"
		"$CH_PYTHON" -m venv "$VENV" || die "cannot create venv $VENV (Debian: apt-get install python3-venv)"
	fi
	log "venv: installing chdb-core==$CHDB_CORE_VERSION into $VENV (from PyPI, ~180 MB wheel + pandas/pyarrow)"
	"$VENV/bin/pip" install --disable-pip-version-check -q "chdb-core==$CHDB_CORE_VERSION"
	have=$(installed_version || true)
	[[ $have == "$CHDB_CORE_VERSION" ]] || die "chdb-core $CHDB_CORE_VERSION did not install (have '${have:-none}')"
}

tls_on() { ((TLS_NATIVE_PORT != 0 || HTTPS_PORT != 0)); }

# make_certs: a throwaway CA and a server certificate for localhost and 127.0.0.1, kept while
# they are valid for another day (the tests read the CA from $TLS_DIR/ca.pem).
make_certs() {
	tls_on || return 0
	if [[ -s $TLS_DIR/server.pem && -s $TLS_DIR/ca.pem ]] &&
		openssl x509 -checkend 86400 -noout -in "$TLS_DIR/server.pem" >/dev/null 2>&1; then
		return 0
	fi
	command -v openssl >/dev/null || die "openssl not found (Debian: apt-get install openssl)"
	rm -rf "$TLS_DIR"
	mkdir -p "$TLS_DIR"
	(
		cd "$TLS_DIR"
		umask 077
		openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
			-keyout ca.key -out ca.pem -days 30 -subj "/CN=roachwatch test ClickHouse CA" 2>/dev/null
		openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
			-keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
		printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >server.ext
		openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
			-out server.pem -days 30 -extfile server.ext 2>/dev/null
		chmod 644 ca.pem server.pem
	) || die "making the TLS certificates in $TLS_DIR failed"
}

launch() {
	mkdir -p "$RUN_DIR"
	# The password of the users roachwatch (read-write) and analyst (read-only); new every start.
	(umask 077 && openssl rand -hex 16 >"$RUN_DIR/password")
	if [[ ${CH_KEEP_DATA:-0} != 1 ]]; then
		rm -rf "$ENGINE_DIR/data" "$ENGINE_DIR/clickhouse-server.log"
	fi
	mkdir -p "$ENGINE_DIR"
	: >"$LOG_FILE"
	# setsid: the server must not die with the shell that started it (or get its Ctrl-C).
	setsid nohup "$VPY" "$SERVER_PY" \
		--run-dir "$ENGINE_DIR" --host "$HOST" --http-port "$HTTP_PORT" --tcp-port "$TCP_PORT" \
		--log-level "$LOG_LEVEL" --max-memory "$MAX_MEMORY" \
		--tls-native-port "$TLS_NATIVE_PORT" --https-port "$HTTPS_PORT" \
		--tls-cert "$TLS_DIR/server.pem" --tls-key "$TLS_DIR/server.key" \
		--password-file "$RUN_DIR/password" \
		>>"$LOG_FILE" 2>&1 </dev/null &
	echo $! >"$PID_FILE"
}

wait_ready() {
	local pid deadline
	pid=$(<"$PID_FILE")
	deadline=$(($(date +%s) + START_TIMEOUT))
	while :; do
		if ping_ok; then
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			log "server exited during start; last lines of $LOG_FILE:"
			tail -n 20 "$LOG_FILE" >&2 || true
			rm -f "$PID_FILE"
			return 1
		fi
		if (($(date +%s) >= deadline)); then
			log "no answer on $(base_url)/ping after ${START_TIMEOUT}s; see $LOG_FILE"
			return 1
		fi
		sleep 0.1
	done
}

port_free() {
	local port=$1
	((port == 0)) && return 0
	if (exec 3<>"/dev/tcp/$HOST/$port") 2>/dev/null; then
		die "port $HOST:$port is already in use by another process (set CH_HTTP_PORT / CH_TCP_PORT)"
	fi
}

cmd_start() {
	local pid
	if pid=$(running_pid); then
		if ping_ok; then
			log "already running (pid $pid) on $(base_url)"
			return 0
		fi
		die "pid $pid runs but $(base_url)/ping does not answer; run '$0 stop' first"
	fi
	port_free "$HTTP_PORT"
	port_free "$TCP_PORT"
	port_free "$TLS_NATIVE_PORT"
	port_free "$HTTPS_PORT"
	local t0
	t0=$(now_ms)
	step "venv (chdb-core $CHDB_CORE_VERSION)" ensure_venv
	step "certs" make_certs
	step "launch" launch
	step "wait for /ping" wait_ready
	local version
	version=$(curl -sf --max-time 5 "$(base_url)/?query=SELECT%20version()") || die "SELECT version() failed"
	log "ClickHouse $version up (pid $(<"$PID_FILE")): http $(base_url), native $HOST:$TCP_PORT; log $LOG_FILE"
	log "start total: $(($(now_ms) - t0)) ms"
}

cmd_stop() {
	local pid t0
	if ! pid=$(running_pid); then
		rm -f "$PID_FILE"
		log "not running"
		return 0
	fi
	t0=$(now_ms)
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 1 400); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "pid $pid still alive after 40 s; sending SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
		sleep 0.5
	fi
	rm -f "$PID_FILE"
	log "stopped (pid $pid) in $(($(now_ms) - t0)) ms"
}

cmd_status() {
	local pid
	if pid=$(running_pid) && ping_ok; then
		local version
		version=$(curl -sf --max-time 5 "$(base_url)/?query=SELECT%20version()" || echo '?')
		log "running: pid $pid, ClickHouse $version, http $(base_url), native $HOST:$TCP_PORT"
		return 0
	fi
	log "not running"
	return 1
}

cmd_env() {
	running_pid >/dev/null && ping_ok || die "not running; run: bash scripts/clickhouse.sh start"
	printf 'export ROACHWATCH_TEST_CLICKHOUSE=%s\n' "$(base_url)"
	if ((TCP_PORT != 0)); then
		printf 'export ROACHWATCH_TEST_CLICKHOUSE_NATIVE=%s:%s\n' "$HOST" "$TCP_PORT"
	fi
	printf 'export ROACHWATCH_TEST_CLICKHOUSE_PASSWORD_FILE=%s\n' "$RUN_DIR/password"
	if tls_on; then
		printf 'export ROACHWATCH_TEST_CLICKHOUSE_CA=%s\n' "$TLS_DIR/ca.pem"
		((TLS_NATIVE_PORT != 0)) && printf 'export ROACHWATCH_TEST_CLICKHOUSE_TLS_NATIVE=localhost:%s\n' "$TLS_NATIVE_PORT"
		((HTTPS_PORT != 0)) && printf 'export ROACHWATCH_TEST_CLICKHOUSE_HTTPS=localhost:%s\n' "$HTTPS_PORT"
	fi
	return 0
}

case ${1:-} in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
env) cmd_env ;;
*)
	echo "usage: $0 {start|stop|status|env}" >&2
	exit 2
	;;
esac
