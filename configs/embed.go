// Package configs embeds the shipped configuration files so the binaries
// run with no file on disk (the embedded default) and tests can check that
// every shipped file loads.
package configs

import _ "embed"

// Local is configs/local.yaml: the embedded default for `analyze run` on
// log files, with no Kafka and no ClickHouse.
//
//go:embed local.yaml
var Local []byte

// Reference is configs/roachwatch.yaml: every key, commented.
//
//go:embed roachwatch.yaml
var Reference []byte
