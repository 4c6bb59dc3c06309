// Command analyze runs roachwatch's detectors: over log files in one
// process (the embedded default), or over the Kafka event stream.
package main

import (
	"github.com/spf13/cobra"

	"roachwatch/internal/cli"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() { cli.Main("analyze", newRoot()) }

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "analyze",
		Short:         "Find cryptographic failures and MITM exposure in CockroachDB and Django logs",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
	}
	root.PersistentFlags().String("config", "", "YAML config file (default: the embedded configs/local.yaml); ROACHWATCH_* env vars override every key")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return cli.Usage(err) })
	addProfiling(root)
	root.AddCommand(newRunCmd(), newRulesCmd(), newEvalCmd(), newReportCmd(), newProbeCmd(), newMigrateCmd(), newQueryCmd())
	return root
}
