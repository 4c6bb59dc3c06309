# roachwatch: the two commands of the README are `make demo` and `make test`.
GO      ?= go
OUT     ?= out
SEED    ?= 42
DAYS    ?= 3

.PHONY: demo test unit vet fuzz bench build clean

## demo: generate sample CockroachDB + Django logs, run the embedded analyzer on them
demo:
	$(GO) run ./cmd/loggen --out $(OUT)/sample --seed $(SEED) --days $(DAYS)
	ROACHWATCH_REDACTION_KEY=$${ROACHWATCH_REDACTION_KEY:-demo-only-key-0123456789} \
	  $(GO) run ./cmd/analyze run --input $(OUT)/sample --output $(OUT)/findings.jsonl

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
