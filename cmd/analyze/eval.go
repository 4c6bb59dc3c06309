package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"roachwatch/detectors"
	"roachwatch/internal/cli"
	"roachwatch/pipeline/loggen"
)

// evalSlack absorbs the difference between a truth time (the payload
// Timestamp of the decisive line) and the times a finding spans when
// scoring recall. Look-alikes are matched without slack: they are often
// planted seconds before the real incident of the same principal.
const evalSlack = 2 * time.Minute

// CategoryScore is the recall of one incident category.
type CategoryScore struct {
	Category    string   `json:"category"`
	Rule        string   `json:"rule"`
	Planted     int      `json:"planted"`
	Found       int      `json:"found"`
	Recall      float64  `json:"recall"`
	MaxDelayS   float64  `json:"max_delay_seconds"` // event time from the decisive line to the finding
	Missed      []string `json:"missed,omitempty"`  // incident ids
	Lookalikes  int      `json:"lookalikes"`
	FalseAlarms []string `json:"false_alarms,omitempty"` // look-alike ids with a high/critical finding
}

// EvalReport is what `analyze eval` prints.
type EvalReport struct {
	Categories  []CategoryScore  `json:"categories"`
	Recall      float64          `json:"recall"`
	FalseAlarms int              `json:"false_alarms"`
	Unexplained map[string]int64 `json:"unexplained_findings"` // rule/severity -> findings matching no planted incident
}

func newEvalCmd() *cobra.Command {
	var inputs []string
	var truthPath, format string
	cmd := &cobra.Command{
		Use:   "eval --input DIR --truth DIR/truth.json",
		Short: "Score the detectors against a loggen truth file: recall per category, false alarms on look-alikes, detection delay",
		Long: `Eval runs the embedded analysis over --input and compares the findings with the incidents
loggen planted (truth.json): recall per category, high/critical findings on benign look-alikes,
and the event time from the decisive line to the finding.

Exit status: 0 when recall is 1.0 and no look-alike raised a high/critical finding, 3 otherwise.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := cli.LoadConfig(cmd)
			if err != nil {
				return err
			}
			if len(inputs) == 0 || truthPath == "" {
				return cli.Usage(errors.New("--input and --truth are required"))
			}
			b, err := os.ReadFile(truthPath)
			if err != nil {
				return cli.Usage(fmt.Errorf("--truth: %w", err))
			}
			var truth loggen.Truth
			if err := json.Unmarshal(b, &truth); err != nil {
				return cli.Usage(fmt.Errorf("--truth %s: %w", truthPath, err))
			}
			// The columns loggen stores in plaintext complete catalog.plaintext,
			// so RW-CRYPTO-002 can be scored without extra configuration.
			for _, c := range truth.CatalogPlaintext {
				if !slices.Contains(cfg.Catalog.Plaintext, c) {
					cfg.Catalog.Plaintext = append(cfg.Catalog.Plaintext, c)
				}
			}
			if cmd.Flags().Changed("progress") {
				cfg.Run.Progress, _ = cmd.Flags().GetString("progress")
			}
			a, err := analyzeFiles(cmd, cfg, inputs, "", "")
			if err != nil {
				return err
			}
			rep := score(&truth, a)
			if format == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if err := enc.Encode(rep); err != nil {
					return err
				}
			} else {
				printEval(cmd.OutOrStdout(), rep)
			}
			if rep.Recall < 1 || rep.FalseAlarms > 0 {
				return &cli.ExitError{Code: cli.ExitFindings, Err: fmt.Errorf("recall %.3f, %d false alarm(s) on look-alikes", rep.Recall, rep.FalseAlarms)}
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVarP(&inputs, "input", "i", nil, "the loggen output directory (or files)")
	cmd.Flags().StringVar(&truthPath, "truth", "", "loggen's truth.json")
	cmd.Flags().StringVar(&format, "format", "table", "table or json")
	cmd.Flags().String("progress", "auto", "progress bar: auto, always, never")
	return cmd
}

func parseTruthTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// matches reports whether finding f covers incident inc: same rule, same
// user when the truth names one, and the decisive time inside the
// finding's span (with slack).
func matches(f *detectors.Finding, rule string, inc *loggen.Incident, slack time.Duration) bool {
	if f.RuleID != rule {
		return false
	}
	if inc.Principal.User != "" && f.Principal.User != "" && f.Principal.User != inc.Principal.User {
		return false
	}
	t := parseTruthTime(inc.DecisiveTime)
	return !t.Before(f.FirstSeen.Add(-slack)) && !t.After(f.LastSeen.Add(slack))
}

func score(truth *loggen.Truth, a *analysis) *EvalReport {
	ruleOf := map[string]string{} // category -> rule, from the planted incidents
	for _, inc := range truth.Incidents {
		if !inc.Lookalike && inc.ExpectedRule != "" {
			ruleOf[inc.Category] = inc.ExpectedRule
		}
	}
	byCat := map[string]*CategoryScore{}
	get := func(cat string) *CategoryScore {
		if c, ok := byCat[cat]; ok {
			return c
		}
		c := &CategoryScore{Category: cat, Rule: ruleOf[cat]}
		byCat[cat] = c
		return c
	}
	explained := map[string]bool{}
	rep := &EvalReport{Unexplained: map[string]int64{}}
	planted, found := 0, 0
	for _, inc := range truth.Incidents {
		rule := inc.ExpectedRule
		if rule == "" {
			rule = ruleOf[inc.Category]
		}
		c := get(inc.Category)
		if inc.Lookalike {
			c.Lookalikes++
			for i := range a.findings {
				f := &a.findings[i]
				if f.Severity >= detectors.SeverityHigh && matches(f, rule, inc, 0) {
					c.FalseAlarms = append(c.FalseAlarms, inc.ID)
					rep.FalseAlarms++
					break
				}
			}
			continue
		}
		c.Planted++
		planted++
		hit := false
		for i := range a.findings {
			f := &a.findings[i]
			if !matches(f, rule, inc, evalSlack) {
				continue
			}
			explained[f.ID] = true
			if !hit {
				hit = true
				delay := time.Duration(a.firstAt[f.ID] - parseTruthTime(inc.DecisiveTime).UnixNano())
				c.MaxDelayS = max(c.MaxDelayS, max(0, delay.Seconds()))
			}
		}
		if hit {
			c.Found++
			found++
		} else {
			c.Missed = append(c.Missed, inc.ID)
		}
	}
	for _, c := range byCat {
		if c.Planted > 0 {
			c.Recall = float64(c.Found) / float64(c.Planted)
		}
		rep.Categories = append(rep.Categories, *c)
	}
	sort.Slice(rep.Categories, func(i, j int) bool { return rep.Categories[i].Category < rep.Categories[j].Category })
	if planted > 0 {
		rep.Recall = float64(found) / float64(planted)
	}
	for i := range a.findings {
		f := &a.findings[i]
		if !explained[f.ID] {
			rep.Unexplained[f.RuleID+"/"+f.Severity.String()]++
		}
	}
	return rep
}

func printEval(w io.Writer, rep *EvalReport) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CATEGORY\tRULE\tPLANTED\tFOUND\tRECALL\tMAX DELAY\tLOOK-ALIKES\tFALSE ALARMS")
	for _, c := range rep.Categories {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.2f\t%.1fs\t%d\t%d\n", c.Category, dash(c.Rule), c.Planted, c.Found, c.Recall, c.MaxDelayS, c.Lookalikes, len(c.FalseAlarms))
	}
	tw.Flush()
	fmt.Fprintf(w, "\nrecall %.3f, %d false alarm(s) on look-alikes\n", rep.Recall, rep.FalseAlarms)
	for _, c := range rep.Categories {
		for _, id := range c.Missed {
			fmt.Fprintf(w, "  missed %s (%s)\n", id, c.Category)
		}
		for _, id := range c.FalseAlarms {
			fmt.Fprintf(w, "  false alarm on look-alike %s (%s)\n", id, c.Category)
		}
	}
	if len(rep.Unexplained) > 0 {
		fmt.Fprintf(w, "findings matching no planted incident: %s\n", counts(rep.Unexplained))
	}
}
