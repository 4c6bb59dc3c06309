#!/usr/bin/env bash
# The whole test suite: formatting, vet, unit + golden + end-to-end tests with the race
# detector, and every fuzz target on its seed corpus. Integration tests against real
# services are started by their own scripts (see README, "Testing").
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
echo "== go vet"
go vet ./...
echo "== go test"
go test -race -count=1 ./...
