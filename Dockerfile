# syntax=docker/dockerfile:1
# roachwatch image: static binaries on distroless, non-root, no shell.
#
#   docker build -t roachwatch:dev .        (docker-compose.yml builds it as roachwatch:compose)
#
# /usr/local/bin holds:
#   ingest, analyze      the product (cmd/ingest, cmd/analyze)
#   demo-traffic         the compose demo's traffic generator (deploy/demo-traffic)
#   composetool          healthcheck client and Kafka PEM keystore writer (deploy/composetool):
#                        the image has no curl or openssl for those jobs
#
# CI builds the same packages with the same flags outside Docker (deploy/deploy_test.go parses
# the `go build` line below and runs it), because no Docker engine runs there.

# Build stage: the Go release of go.mod's `go 1.26` line.
FROM golang:1.26.8-bookworm AS build
WORKDIR /src
# Modules first, so source edits do not re-download them.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Static (no cgo), reproducible paths, no symbol tables.
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/ ./cmd/ingest ./cmd/analyze ./deploy/demo-traffic ./deploy/composetool
# State directory owned by the runtime user: a named volume mounted there starts with this owner.
RUN mkdir -p /out/state

# Runtime: distroless static (CA roots, tzdata, /etc/passwd with nonroot = 65532), no shell.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ingest /out/analyze /out/demo-traffic /out/composetool /usr/local/bin/
COPY --from=build --chown=65532:65532 /out/state /var/lib/roachwatch
USER 65532:65532
WORKDIR /var/lib/roachwatch
# Metrics and /healthz of ingest and analyze (ingest.metrics_listen, stream.metrics_listen).
EXPOSE 9465
ENTRYPOINT ["/usr/local/bin/analyze"]
CMD ["--help"]
