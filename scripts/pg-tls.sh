#!/usr/bin/env bash
# Throwaway PostgreSQL 15 clusters with TLS on loopback for the posture-probe integration tests
# (posture/...). Follows docs/FEASIBILITY.md §3: a throwaway CA and server certificate, initdb as
# the postgres OS user, ssl=on, pg_hba with hostssl and hostnossl entries, free ports on
# 127.0.0.1, a private unix-socket directory.
#
#   bash scripts/pg-tls.sh start   create certificates + clusters (once) and start them; idempotent
#   bash scripts/pg-tls.sh stop    stop every cluster and remove the run directory
#   bash scripts/pg-tls.sh status  exit 0 when the main cluster runs
#   bash scripts/pg-tls.sh env     print the export lines the tests read (exit 1 if not running)
#
# Typical use:
#   bash scripts/pg-tls.sh start && eval "$(bash scripts/pg-tls.sh env)"
#   ROACHWATCH_REQUIRE_POSTGRES=1 go test -tags integration -count=1 ./posture/...
#   bash scripts/pg-tls.sh stop
#
# Clusters (one initdb, copied; each has its own port and certificate):
#   main       CA-1 server certificate (SAN localhost, 127.0.0.1), TLS >= 1.2, the seeded schema
#   expired    same, but the server certificate expired in 2020
#   wronghost  a CA-1 certificate for db.wrong.example only (hostname mismatch on 127.0.0.1)
#   tls11      the main certificate, but TLSv1 / TLSv1.1 accepted (ssl_ciphers @SECLEVEL=0,
#              needed because OpenSSL 3 refuses TLS < 1.2 at the default security level)
# ca2.crt is an unrelated CA (wrong-CA tests); client.crt/key (CN cert_user) is signed by CA-1.
#
# pg_hba (every cluster):
#   local     all all                    trust            (postgres only, via the private socket)
#   hostssl   all cert_user 127.0.0.1/32 cert             (client certificate required)
#   hostssl   all all       127.0.0.1/32 scram-sha-256
#   hostnossl all app_plain 127.0.0.1/32 scram-sha-256    (the plaintext-accepting variant)
# So app_plain may log in without TLS and every other role is refused before authentication.
#
# Roles (password = the role name + "-pw", throwaway): rw_probe (least privilege: the probe),
# app_owner (over-privileged: CREATEROLE CREATEDB, member of pg_write_all_data, ALL on the
# sensitive table, DELETE/TRUNCATE on the audit table), app_web (least privilege), app_plain,
# cert_user. Database "shop", schema "app": customers (plaintext ssn/email/dob/card_number,
# Fernet api_token, pgcrypto-style armored tax_id, random-bytes bytea iban) and audit_log.
#
# Settings (environment): PG_TLS_DIR (default /dev/shm/roachwatch-pgtls-$UID, else /tmp/...), PG_BIN (default
# /usr/lib/postgresql/15/bin). Step timings go to stderr; stdout carries only what `env` prints.
set -euo pipefail

# tmpfs when there is one: the clusters are throwaway and the shared disk is slow.
if [ -z "${PG_TLS_DIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
	PG_TLS_DIR=/dev/shm/roachwatch-pgtls-$(id -u)
fi
readonly DIR=${PG_TLS_DIR:-/tmp/roachwatch-pgtls-$(id -u)}
# A fresh machine may have no PostgreSQL server: install Debian's (idempotent; apt caches).
if [ -z "${PG_BIN:-}" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
	if [ "$(id -u)" != 0 ]; then
		printf 'pg-tls.sh: error: PostgreSQL is not installed and this is not root: apt-get install postgresql\n' >&2
		exit 1
	fi
	printf 'pg-tls.sh: installing Debian postgresql\n' >&2
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql openssl iproute2 >/dev/null
fi
readonly PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
readonly CERTS="$DIR/certs"
readonly SOCK="$DIR/sock"
readonly VARIANTS=(main expired wronghost tls11)
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly SCRIPT_DIR

log() { printf 'pg-tls.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
now_ms() { date +%s%3N; }
step() {
	local name=$1 t0
	shift
	t0=$(now_ms)
	"$@" || die "$name failed"
	log "$name: $(($(now_ms) - t0)) ms"
}

# as_pg runs a command as the postgres OS user (initdb refuses root).
as_pg() {
	if [ "$(id -un)" = postgres ]; then "$@"; else runuser -u postgres -- "$@"; fi
}

free_port() {
	local p
	for _ in $(seq 200); do
		p=$(shuf -i 20000-60999 -n 1)
		if [ -z "$(ss -Hltn "sport = :$p")" ] && ! grep -qx "$p" "$DIR/ports" 2>/dev/null; then
			echo "$p"
			return
		fi
	done
	return 1
}

# sign NAME SAN DAYS: a CA-1-signed ECDSA P-256 server certificate.
sign() {
	local name=$1 san=$2 days=$3
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=${name}" \
		-keyout "$CERTS/$name.key" -out "$CERTS/$name.csr" 2>/dev/null
	printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$san" >"$CERTS/$name.ext"
	openssl x509 -req -in "$CERTS/$name.csr" -CA "$CERTS/ca.crt" -CAkey "$CERTS/ca.key" -CAcreateserial \
		-days "$days" -extfile "$CERTS/$name.ext" -out "$CERTS/$name.crt" 2>/dev/null
}

make_certs() {
	mkdir -p "$CERTS"
	for ca in ca ca2; do
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
			-subj "/CN=roachwatch test ${ca}" -keyout "$CERTS/$ca.key" -out "$CERTS/$ca.crt" 2>/dev/null
	done
	sign server "DNS:localhost,IP:127.0.0.1" 365
	sign wronghost "DNS:db.wrong.example" 365
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=cert_user" \
		-keyout "$CERTS/client.key" -out "$CERTS/client.csr" 2>/dev/null
	openssl x509 -req -in "$CERTS/client.csr" -CA "$CERTS/ca.crt" -CAkey "$CERTS/ca.key" -CAcreateserial \
		-days 30 -out "$CERTS/client.crt" 2>/dev/null
	# openssl x509 -req cannot back-date a certificate in OpenSSL 3.0; `openssl ca` can.
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
		-keyout "$CERTS/expired.key" -out "$CERTS/expired.csr" 2>/dev/null
	mkdir -p "$CERTS/ca.db"
	: >"$CERTS/ca.db/index.txt"
	cat >"$CERTS/ca.db/ca.cnf" <<-EOF
		[ca]
		default_ca = test
		[test]
		database = $CERTS/ca.db/index.txt
		new_certs_dir = $CERTS/ca.db
		serial = $CERTS/ca.db/serial
		default_md = sha256
		policy = any
		copy_extensions = none
		x509_extensions = ext
		[any]
		commonName = supplied
		[ext]
		subjectAltName = DNS:localhost,IP:127.0.0.1
		extendedKeyUsage = serverAuth
	EOF
	echo 01 >"$CERTS/ca.db/serial"
	openssl ca -batch -config "$CERTS/ca.db/ca.cnf" -cert "$CERTS/ca.crt" -keyfile "$CERTS/ca.key" \
		-startdate 20200101000000Z -enddate 20200201000000Z -in "$CERTS/expired.csr" \
		-out "$CERTS/expired.crt" 2>/dev/null
	chown -R postgres:postgres "$CERTS"
	chmod 600 "$CERTS"/*.key
	chmod 755 "$CERTS"
}

# configure VARIANT PORT CERT: postgresql.auto.conf and pg_hba.conf of one cluster.
configure() {
	local v=$1 port=$2 cert=$3 data="$DIR/$1"
	cat >"$data/postgresql.auto.conf" <<-EOF
		listen_addresses = '127.0.0.1'
		port = $port
		unix_socket_directories = '$SOCK'
		max_connections = 30
		shared_buffers = 16MB
		fsync = off
		ssl = on
		ssl_cert_file = '$CERTS/$cert.crt'
		ssl_key_file = '$CERTS/$cert.key'
		ssl_ca_file = '$CERTS/ca.crt'
		password_encryption = 'scram-sha-256'
		logging_collector = off
		log_min_messages = warning
	EOF
	if [ "$v" = tls11 ]; then
		printf "ssl_min_protocol_version = 'TLSv1'\nssl_ciphers = 'DEFAULT:@SECLEVEL=0'\n" >>"$data/postgresql.auto.conf"
	else
		printf "ssl_min_protocol_version = 'TLSv1.2'\n" >>"$data/postgresql.auto.conf"
	fi
	cat >"$data/pg_hba.conf" <<-EOF
		local     all all                    trust
		hostssl   all cert_user 127.0.0.1/32 cert
		hostssl   all all       127.0.0.1/32 scram-sha-256
		hostnossl all app_plain 127.0.0.1/32 scram-sha-256
	EOF
	chown postgres:postgres "$data/postgresql.auto.conf" "$data/pg_hba.conf"
}

port_of() { sed -n "s/^$1=//p" "$DIR/ports"; }

pg_start() { as_pg "$PG_BIN/pg_ctl" -D "$DIR/$1" -l "$DIR/$1.log" -w -t 30 start >/dev/null; }

seed() { as_pg psql -X -q -v ON_ERROR_STOP=1 -h "$SOCK" -p "$(port_of main)" -U postgres -d postgres -f "$SCRIPT_DIR/pg-tls-seed.sql" >/dev/null; }

running() { [ -f "$DIR/main/postmaster.pid" ] && as_pg "$PG_BIN/pg_ctl" -D "$DIR/main" status >/dev/null 2>&1; }

start() {
	if running; then
		log "already running in $DIR"
		return 0
	fi
	local t0
	t0=$(now_ms)
	rm -rf "$DIR"
	mkdir -p "$DIR" "$SOCK"
	chown postgres:postgres "$DIR" "$SOCK"
	chmod 700 "$SOCK"
	step "certificates" make_certs
	: >"$DIR/ports"
	for v in "${VARIANTS[@]}"; do
		echo "$v=$(free_port)" >>"$DIR/ports"
	done
	step "initdb" as_pg "$PG_BIN/initdb" -D "$DIR/main" -U postgres -A trust --no-sync --wal-segsize=1 -E UTF8 --locale=C.UTF-8 >/dev/null
	configure main "$(port_of main)" server
	step "start main" pg_start main
	step "seed" seed
	step "stop main" as_pg "$PG_BIN/pg_ctl" -D "$DIR/main" -m fast -w stop >/dev/null
	# The variants are copies of the seeded cluster: same roles, same schema.
	for v in expired wronghost tls11; do
		cp -a "$DIR/main" "$DIR/$v"
		rm -f "$DIR/$v/postmaster.pid"
	done
	configure main "$(port_of main)" server
	configure expired "$(port_of expired)" expired
	configure wronghost "$(port_of wronghost)" wronghost
	configure tls11 "$(port_of tls11)" server
	for v in "${VARIANTS[@]}"; do
		step "start $v" pg_start "$v"
	done
	log "started in $(($(now_ms) - t0)) ms: $(tr '\n' ' ' <"$DIR/ports")"
}

stop() {
	local t0
	t0=$(now_ms)
	for v in "${VARIANTS[@]}"; do
		if [ -f "$DIR/$v/postmaster.pid" ]; then
			as_pg "$PG_BIN/pg_ctl" -D "$DIR/$v" -m fast -w stop >/dev/null || log "stopping $v failed"
		fi
	done
	rm -rf "$DIR"
	log "stopped in $(($(now_ms) - t0)) ms"
}

env_lines() {
	running || die "not running; run: bash scripts/pg-tls.sh start"
	cat <<-EOF
		export ROACHWATCH_TEST_PG_HOST=127.0.0.1
		export ROACHWATCH_TEST_PG_PORT=$(port_of main)
		export ROACHWATCH_TEST_PG_PORT_EXPIRED=$(port_of expired)
		export ROACHWATCH_TEST_PG_PORT_WRONGHOST=$(port_of wronghost)
		export ROACHWATCH_TEST_PG_PORT_TLS11=$(port_of tls11)
		export ROACHWATCH_TEST_PG_DATABASE=shop
		export ROACHWATCH_TEST_PG_CERTS=$CERTS
	EOF
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) running ;;
env) env_lines ;;
*)
	echo "usage: $0 {start|stop|status|env}" >&2
	exit 2
	;;
esac
