#!/usr/bin/env bash
# report-browser-check.sh: render the HTML audit report of a fresh loggen
# scenario in headless Chromium (Debian's package), assert that it loads
# without console errors and that its charts carry the expected series,
# and keep the screenshot and DOM under out/ as build artifacts.
#
#   scripts/report-browser-check.sh [SEED] [DAYS]
set -euo pipefail
cd "$(dirname "$0")/.."
seed=${1:-3}
days=${2:-3}
out=${REPORT_OUT:-$PWD/out}

if [ ! -x /usr/bin/chromium ]; then
  echo "installing Debian's chromium" >&2
  apt-get update -qq
  apt-get install -y --no-install-recommends chromium
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
nice go run ./cmd/loggen --out "$work/logs" --seed "$seed" --days "$days"
ROACHWATCH_REDACTION_KEY=${ROACHWATCH_REDACTION_KEY:-browser-check-key-0123456789} \
  nice go run ./cmd/analyze run --input "$work/logs" --output "$work/findings.jsonl" \
  --events-output "$work/events.jsonl" --progress never >/dev/null

# The Go test renders the report, runs chromium --dump-dom (console log on
# stderr) and --screenshot, and checks the data-series marks per chart.
REPORT_FINDINGS="$work/findings.jsonl" REPORT_EVENTS="$work/events.jsonl" REPORT_OUT="$out" \
  nice go test -tags browser -count=1 -run TestBrowser -v ./report

# Independent check on the dumped DOM: every chart present, with marks.
dom="$out/report.dom.html"
for chart in chart-findings-per-day chart-sessions chart-principals chart-matrix; do
  grep -q "id=\"$chart\"" "$dom" || { echo "missing chart $chart" >&2; exit 1; }
done
echo "series marks in DOM: $(grep -o 'data-series="[a-z_]*"' "$dom" | sort | uniq -c | tr '\n' ' ')"
echo "screenshot: $out/report.png"
