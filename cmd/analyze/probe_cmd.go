package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"roachwatch/detectors"
	"roachwatch/internal/cli"
	"roachwatch/pipeline/catalog"
	"roachwatch/pipeline/sink/clickhousesink"
	"roachwatch/posture"
)

type probeFlags struct {
	dsns        []string
	output      string
	format      string
	failOn      string
	catalogFile string
	appRoles    []string
	resultsOut  string
}

// newProbeCmd is `analyze probe`: the active TLS, schema and grant
// posture checks of posture, over the configured endpoints or --dsn.
func newProbeCmd() *cobra.Command {
	var f probeFlags
	cmd := &cobra.Command{
		Use:   "probe [--dsn DSN ...]",
		Short: "Probe CockroachDB/PostgreSQL endpoints: TLS (plaintext, certificates, versions), plaintext sensitive columns, over-privileged app roles",
		Long: `Probe connects to every endpoint of probe.endpoints (or each --dsn) with pgx and checks:

  transport  sslmode=disable accepted or refused before auth; verify-full chain, expiry, host
             name, TLS version and cipher; TLS 1.0/1.1 and weak suites; client certificate required
  schema     columns the sensitive catalog names, a bounded read-only sample classified as
             plaintext or ciphertext (values are never printed or stored), written to
             probe.catalog_file for catalog.probe_file and, when clickhouse.enabled, to the
             catalog_columns table (view v_catalog_plaintext; run analyze migrate first)
  grants     privileges of probe.app_roles (admin, CREATEROLE, ALL on sensitive tables, DELETE
             or TRUNCATE on audit tables)

Findings: RW-TLS-002, RW-TLS-003, RW-TLS-004, RW-CRYPTO-002, RW-PRIV-002. With
clickhouse.enabled they are also written to the findings table, next to the log-based ones
(ids are stable per endpoint, subject and day, so a re-run replaces rather than adds).

Exit status: 0 done; 3 done and a finding at or above --fail-on exists; 2 bad flags or
config; 1 no endpoint could be probed, or writing to ClickHouse failed (the findings are
printed all the same).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := cli.LoadConfig(cmd)
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("fail-on") {
				cfg.Run.FailOn = f.failOn
			}
			if cmd.Flags().Changed("catalog-file") {
				cfg.Probe.CatalogFile = f.catalogFile
			}
			if cmd.Flags().Changed("app-role") {
				cfg.Probe.AppRoles = f.appRoles
			}
			if err := cfg.Validate(); err != nil {
				return cli.Usage(fmt.Errorf("flags: %w", err))
			}
			if f.format != "table" && f.format != "json" {
				return cli.Usage(fmt.Errorf("--format: %q is not table or json", f.format))
			}
			var targets []posture.Target
			if len(f.dsns) > 0 {
				for _, d := range f.dsns {
					t, err := posture.TargetFromDSN(d)
					if err != nil {
						return cli.Usage(err)
					}
					targets = append(targets, t)
				}
			} else {
				if targets, err = cfg.Probe.Targets(); err != nil {
					return cli.Usage(err)
				}
			}
			if len(targets) == 0 {
				return cli.Usage(errors.New("no endpoint: configure probe.endpoints or pass --dsn"))
			}
			log := cli.NewLogger(cfg.Log, cmd.ErrOrStderr())
			// Open the store before probing, so a bad clickhouse section fails
			// fast; the schema comes from `analyze migrate`, never implicitly.
			var store *clickhousesink.Store
			if cfg.ClickHouse.Enabled {
				if store, err = clickhousesink.Open(cmd.Context(), cfg.ClickHouse, log); err != nil {
					return cli.Usage(err)
				}
				defer store.Close()
			}
			prober := posture.New(cfg.Probe, catalog.New(cfg.Catalog), nil, log)
			mustEncrypt := catalog.New(cfg.Catalog).MustEncrypt
			var results []*posture.Result
			var findings []detectors.Finding
			for _, t := range targets {
				r := prober.Probe(cmd.Context(), t)
				results = append(results, r)
				findings = append(findings, prober.Findings(r, mustEncrypt)...)
			}
			// Most severe first across endpoints; each endpoint's order is kept.
			sort.SliceStable(findings, func(i, j int) bool { return findings[i].Severity > findings[j].Severity })
			return reportProbe(cmd, cfg.Run.FailOn, cfg.Probe.CatalogFile, store, f, results, findings)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&f.dsns, "dsn", nil, "probe this libpq DSN or postgres:// URL instead of probe.endpoints (repeatable; sslmode in it is ignored: every check sets its own)")
	fl.StringVarP(&f.output, "output", "o", "", "write the findings as JSON lines to this file")
	fl.StringVar(&f.resultsOut, "results-output", "", "write the per-endpoint results (verdicts and counts, no values) as JSON lines to this file")
	fl.StringVar(&f.format, "format", "table", "stdout format: table (findings + endpoint summary) or json (findings as JSON lines; summary on stderr)")
	fl.StringVar(&f.failOn, "fail-on", "", "exit 3 when a finding at or above this severity exists: info, low, medium, high, critical")
	fl.StringVar(&f.catalogFile, "catalog-file", "", `write the schema results here (overrides probe.catalog_file; "" = do not write)`)
	fl.StringArrayVar(&f.appRoles, "app-role", nil, "application role whose grants are checked (overrides probe.app_roles; repeatable)")
	return cmd
}

func reportProbe(cmd *cobra.Command, failOn, catalogFile string, store *clickhousesink.Store, f probeFlags,
	results []*posture.Result, findings []detectors.Finding) error {
	if catalogFile != "" {
		if err := catalog.WriteProbeFile(catalogFile, posture.ProbeFile(results, time.Now())); err != nil {
			return err
		}
	}
	// ClickHouse after the file. A failure (after the store's retries) is
	// reported once the findings are printed, so they are not lost.
	var chErr error
	var chNote string
	if store != nil {
		chErr = writeProbeClickHouse(cmd.Context(), store, results, findings)
		if chErr == nil {
			chNote = fmt.Sprintf("%d catalog column(s) and %d finding(s) written to %s", countColumns(results), len(findings),
				store.Config().Database)
		} else {
			chNote = "not written: " + clip(chErr.Error(), 200)
		}
	}
	if f.output != "" {
		if err := writeFindings(f.output, findings); err != nil {
			return err
		}
	}
	if f.resultsOut != "" {
		w, err := createJSONLines(f.resultsOut)
		if err != nil {
			return err
		}
		for _, r := range results {
			if err := w.Write(r); err != nil {
				w.Close()
				return err
			}
		}
		if err := w.Close(); err != nil {
			return err
		}
	}
	summaryTo, err := emitFindings(cmd, f.format, findings)
	if err != nil {
		return err
	}
	printProbeSummary(summaryTo, results, catalogFile)
	if chNote != "" {
		fmt.Fprintf(summaryTo, "  clickhouse:     %s\n", chNote)
	}
	if chErr != nil {
		return fmt.Errorf("clickhouse: %w", chErr)
	}
	connected := 0
	for _, r := range results {
		if r.Transport.Connected || r.Transport.TLSOffered || r.Transport.Plaintext != posture.PlaintextUnknown {
			connected++
		}
	}
	if connected == 0 {
		return errors.New("no endpoint answered; see the summary for the connection errors")
	}
	if failOn != "" {
		threshold, _ := detectors.ParseSeverity(failOn)
		if n := countAtLeast(findings, threshold); n > 0 {
			return &cli.ExitError{Code: cli.ExitFindings, Err: fmt.Errorf("%d finding(s) at or above %s", n, threshold)}
		}
	}
	return nil
}

// writeProbeClickHouse writes the schema results to catalog_columns and
// the findings to findings.
func writeProbeClickHouse(ctx context.Context, store *clickhousesink.Store, results []*posture.Result, findings []detectors.Finding) error {
	if err := store.WriteCatalog(ctx, catalogColumns(results)); err != nil {
		return err
	}
	return store.WriteFindings(ctx, findings)
}

// catalogColumns maps the schema results of every endpoint to
// catalog_columns rows: verdicts and class counts, never a value.
func catalogColumns(results []*posture.Result) []clickhousesink.CatalogColumn {
	out := make([]clickhousesink.CatalogColumn, 0, countColumns(results))
	for _, r := range results {
		for _, c := range r.Columns {
			out = append(out, clickhousesink.CatalogColumn{
				Endpoint: r.Endpoint, Database: r.Database, DatabaseKind: string(r.Flavor),
				Schema: c.Schema, Table: c.Table, Column: c.Column, DataType: c.DataType, Verdict: c.Verdict,
				Classes: c.Classes, Sampled: c.Sampled, Nulls: c.Nulls, Error: c.Error, ProbedAt: r.ProbedAt,
			})
		}
	}
	return out
}

func countColumns(results []*posture.Result) int {
	n := 0
	for _, r := range results {
		n += len(r.Columns)
	}
	return n
}

// printProbeSummary writes what each endpoint answered. It prints
// verdicts, counts and error texts (pgx masks passwords; the prober scrubs
// them again), never a sampled value.
func printProbeSummary(w io.Writer, results []*posture.Result, catalogFile string) {
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Endpoints")
	for _, r := range results {
		tr := r.Transport
		name := r.Endpoint
		if r.Endpoint != r.Address {
			name += " (" + r.Address + ")"
		}
		fmt.Fprintf(w, "  %s %s %s\n", name, dash(string(r.Flavor)), r.ServerVersion)
		fmt.Fprintf(w, "    plaintext:    %s\n", tr.Plaintext)
		tlsLine := "not offered"
		if tr.TLSOffered {
			tlsLine = fmt.Sprintf("%s %s", tr.TLSVersion, tr.CipherSuite)
			if tr.CertProblem != posture.CertOK {
				tlsLine += ", certificate: " + string(tr.CertProblem)
			} else {
				tlsLine += ", certificate: ok"
			}
			if len(tr.Chain) > 0 {
				tlsLine += fmt.Sprintf(", leaf expires in %d day(s)", tr.Chain[0].DaysLeft)
			}
		}
		fmt.Fprintf(w, "    tls:          %s\n", tlsLine)
		if len(tr.WeakVersions)+len(tr.WeakCiphers) > 0 {
			fmt.Fprintf(w, "    weak:         %s\n", strings.Join(append(append([]string{}, tr.WeakVersions...), tr.WeakCiphers...), ", "))
		}
		if tr.ClientCertRequired != nil {
			fmt.Fprintf(w, "    client cert:  required=%t\n", *tr.ClientCertRequired)
		}
		if !tr.Connected && tr.ConnectError != "" {
			fmt.Fprintf(w, "    connect:      %s\n", clip(tr.ConnectError, 200))
		}
		verdicts := map[string]int64{}
		for _, c := range r.Columns {
			verdicts[c.Verdict]++
		}
		fmt.Fprintf(w, "    columns:      %d sensitive %s\n", len(r.Columns), counts(verdicts))
		for _, role := range r.Roles {
			state := "checked"
			switch {
			case role.Error != "":
				state = "error: " + role.Error
			case !role.Exists:
				state = "no such role"
			}
			fmt.Fprintf(w, "    role %-8s %s\n", role.Role+":", state)
		}
		for _, n := range r.Notes {
			fmt.Fprintf(w, "    note:         %s\n", n)
		}
	}
	if catalogFile != "" {
		fmt.Fprintf(w, "  catalog file:   %s (load it with catalog.probe_file)\n", catalogFile)
	}
}
