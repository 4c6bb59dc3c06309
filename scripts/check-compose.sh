#!/usr/bin/env bash
# Validates docker-compose.yml without a Docker engine (CI and these machines have none):
# Debian's docker-compose 1.29 parses, interpolates and checks the file (`config -q`), for the
# default services and for every profile. Nothing is started.
#
#   bash scripts/check-compose.sh
#
# Installs Debian's docker-compose only if no docker-compose is on PATH, with
# --no-install-recommends (otherwise apt pulls docker.io, containerd, runc and iptables).
# Exit: 0 valid, 1 invalid or tool missing.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
file=docker-compose.yml

if ! command -v docker-compose >/dev/null 2>&1; then
  echo "check-compose: installing Debian's docker-compose (--no-install-recommends)" >&2
  if [[ $(id -u) != 0 ]]; then
    echo "check-compose: docker-compose missing and not root: apt-get install -y --no-install-recommends docker-compose" >&2
    exit 1
  fi
  # apt lists are only fetched when none are present (idempotent, quick on a warm machine).
  if ! compgen -G '/var/lib/apt/lists/*Packages*' >/dev/null; then
    apt-get update -qq
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose >/dev/null
fi
echo "check-compose: $(docker-compose version --short 2>/dev/null || docker-compose --version)" >&2

# No .env must leak into the check: the demo defaults in the file are what is validated.
profiles=$(docker-compose -f "$file" config --profiles 2>/dev/null || true)
if [[ -z $profiles ]]; then
  # docker-compose 1.29 has no `config --profiles`: read the profile names from the file.
  profiles=$(grep -oE 'profiles: *\[[^]]*\]' "$file" | grep -oE '"[^"]+"' | tr -d '"' | sort -u)
fi

fail=0
check() {
  local label=$1
  shift
  if out=$(docker-compose -f "$file" "$@" config -q 2>&1); then
    echo "check-compose: ok   $label"
  else
    echo "check-compose: FAIL $label"
    echo "$out" | sed 's/^/    /'
    fail=1
  fi
}
check "default services"
for p in $profiles; do
  check "profile $p" --profile "$p"
done
echo "check-compose: services: $(docker-compose -f "$file" $(for p in $profiles; do printf -- '--profile %s ' "$p"; done) config --services | tr '\n' ' ')"
exit "$fail"
