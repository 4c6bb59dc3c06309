package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"roachwatch/detectors/all"
	"roachwatch/internal/cli"
	"roachwatch/posture"
)

func newRulesCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "List the detection rules (table or JSON)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rules := append(all.Rules(), posture.RuleTLS002, posture.RuleTLS003, posture.RuleTLS004, posture.RulePriv002)
			out := cmd.OutOrStdout()
			switch format {
			case "json":
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(rules)
			case "table":
				tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "RULE\tSEVERITY\tCWE\tOWASP\tPCI DSS\tTITLE")
				for _, r := range rules {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Severity, strings.Join(r.CWE, ","),
						strings.Join(r.OWASP, ","), strings.Join(r.PCI, ","), r.Title)
				}
				return tw.Flush()
			default:
				return cli.Usage(fmt.Errorf("--format: %q is not table or json", format))
			}
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "output format: table or json")
	return cmd
}
