# roachwatch: the two commands of the README are `make demo` and `make test`.
GO      ?= go
OUT     ?= out
SEED    ?= 42
DAYS    ?= 3

.PHONY: demo test unit vet fuzz bench build clean

## demo: generate sample CockroachDB + Django logs, analyze them, score against the planted
## incidents, and render the audit report (HTML + Markdown)
demo:
	$(GO) build -o $(OUT)/bin/ ./cmd/loggen ./cmd/analyze
	$(OUT)/bin/loggen --out $(OUT)/sample --seed $(SEED) --days $(DAYS)
	ROACHWATCH_REDACTION_KEY=$${ROACHWATCH_REDACTION_KEY:-demo-only-key-0123456789} \
	  $(OUT)/bin/analyze run --input $(OUT)/sample/crdb --input $(OUT)/sample/django --output $(OUT)/findings.jsonl --events-output $(OUT)/events.jsonl
	$(OUT)/bin/analyze report --findings $(OUT)/findings.jsonl --events $(OUT)/events.jsonl --since $(DAYS)d --format html --out $(OUT)/report.html
	$(OUT)/bin/analyze report --findings $(OUT)/findings.jsonl --events $(OUT)/events.jsonl --since $(DAYS)d --format md --out $(OUT)/report.md
	@echo "findings: $(OUT)/findings.jsonl  report: $(OUT)/report.html, $(OUT)/report.md"

## test: the whole test suite (what .ci/run runs)
test:
	./scripts/test.sh

vet:
	$(GO) vet ./...

## fuzz: run every fuzz target for FUZZTIME each
FUZZTIME ?= 30s
fuzz:
	./scripts/fuzz.sh $(FUZZTIME)

## bench: parser, fingerprint and detector benchmarks (one core)
bench:
	GOMAXPROCS=1 $(GO) test -run='^$$' -bench=. -benchmem -count=5 ./pipeline/... ./detectors/... | tee $(OUT)/bench.txt

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/ ./cmd/...

clean:
	rm -rf $(OUT) bin
