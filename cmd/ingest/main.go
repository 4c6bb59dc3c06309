// Command ingest reads CockroachDB and Django logs, parses, normalizes and
// redacts them, and ships the events:
//
//	ingest run [--input PATH|GLOB|- ...]   tail files (or stdin) into Kafka, with checkpoints
//	ingest import --input DIR ...          read files once into Kafka in event-time order, exit
//	ingest events --input PATH [--output FILE]
//	                                       events as JSON lines, no Kafka (also the bare
//	                                       `ingest --input PATH --output FILE` of earlier versions)
//
// Kafka, checkpoints and metrics come from the kafka and ingest sections of
// the config (configs/roachwatch.yaml).
package main

import (
	"github.com/spf13/cobra"

	"roachwatch/internal/cli"
)

var version = "dev"

func main() { cli.Main("ingest", newRoot()) }

func newRoot() *cobra.Command {
	root := newEventsCmd()
	root.Use = "ingest"
	root.Short = "Parse, normalize and redact CockroachDB and Django logs and ship them to Kafka"
	root.Long = "Without a subcommand, ingest --input PATH writes events as JSON lines (same as `ingest events`)."
	root.Version = version
	root.PersistentFlags().String("config", "", "YAML config file (default: the embedded configs/local.yaml)")
	root.AddCommand(newRunCmd(), newImportCmd(), newEventsCmd())
	return root
}

func usageErrors(c *cobra.Command) *cobra.Command {
	c.SilenceUsage, c.SilenceErrors = true, true
	c.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return cli.Usage(err) })
	return c
}
