package main

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"roachwatch/internal/cli"
	"roachwatch/pipeline/sink/clickhousesink"
)

type queryFlags struct {
	since, until string
	params       []string
	format       string
	list         bool
}

// newQueryCmd builds `analyze query`: run one query of the analyst pack
// (schemas/clickhouse/queries) against the ClickHouse store.
func newQueryCmd() *cobra.Command {
	var f queryFlags
	cmd := &cobra.Command{
		Use:   "query NAME --since 24h [--until TIME] [--param k=v ...] [--format table|json|csv] | query --list",
		Short: "Run an analyst query (who read which sensitive column, non-TLS sessions, ...) against ClickHouse",
		Long: `Query runs one query of the embedded analyst pack over [--since, --until) and prints the rows.
--list shows every query, the question it answers and its parameters (no server needed).

--since and --until take a duration back from now (24h, 90m, 7d), an RFC 3339 time, or a
date or "YYYY-MM-DD hh:mm:ss" in UTC; --until defaults to now. Other parameters are given as
--param name=value (repeatable); parameters with a default may be left out.

Exit status: 0 done; 2 bad flags, config or parameters; 1 the query failed.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 1 {
				return cli.Usage(fmt.Errorf("query takes one query name, got %q", args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			if f.list {
				return listQueries(out)
			}
			if len(args) != 1 {
				return cli.Usage(errors.New("name the query to run; `analyze query --list` shows them"))
			}
			if f.format != "table" && f.format != "json" && f.format != "csv" {
				return cli.Usage(fmt.Errorf("--format: %q is not table, json or csv", f.format))
			}
			now := time.Now().UTC()
			until, err := parseWhen(f.until, now)
			if err != nil {
				return cli.Usage(fmt.Errorf("--until: %w", err))
			}
			since, err := parseWhen(f.since, until)
			if err != nil {
				return cli.Usage(fmt.Errorf("--since: %w", err))
			}
			params := map[string]string{}
			for _, p := range f.params {
				k, v, ok := strings.Cut(p, "=")
				if !ok || k == "" {
					return cli.Usage(fmt.Errorf("--param %q: want name=value", p))
				}
				params[k] = v
			}
			cfg, err := loadClickHouseConfig(cmd)
			if err != nil {
				return err
			}
			store, err := clickhousesink.Open(cmd.Context(), cfg.ClickHouse, cli.NewLogger(cfg.Log, cmd.ErrOrStderr()))
			if err != nil {
				return cli.Usage(err)
			}
			defer store.Close()
			t, err := store.Query(cmd.Context(), args[0], since, until, params)
			if errors.Is(err, clickhousesink.ErrUnknownQuery) || errors.Is(err, clickhousesink.ErrBadParameter) {
				return cli.Usage(err)
			}
			if err != nil {
				return err
			}
			return printTable(out, t, f.format)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.since, "since", "24h", "start of the range: duration back from --until (24h, 7d), RFC 3339, or YYYY-MM-DD[ hh:mm:ss] UTC")
	fl.StringVar(&f.until, "until", "now", "end of the range (exclusive): now, a duration back from now, RFC 3339, or YYYY-MM-DD[ hh:mm:ss] UTC")
	fl.StringArrayVar(&f.params, "param", nil, "query parameter name=value; repeatable")
	fl.StringVar(&f.format, "format", "table", "output: table, json (one object per line) or csv")
	fl.BoolVar(&f.list, "list", false, "list the queries with their questions and parameters")
	return cmd
}

// parseWhen reads a point in time: "now", a duration before ref (with d
// for days), RFC 3339, or a UTC date or date-time.
func parseWhen(s string, ref time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "now" || s == "" {
		return time.Now().UTC(), nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		if _, err := fmt.Sscanf(days, "%d", &n); err == nil && fmt.Sprint(n) == days {
			return ref.Add(-time.Duration(n) * 24 * time.Hour), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil {
		return ref.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not now, a duration (24h, 7d), RFC 3339 or YYYY-MM-DD[ hh:mm:ss]", s)
}

func listQueries(w io.Writer) error {
	qs, err := clickhousesink.Queries()
	if err != nil {
		return err
	}
	for _, q := range qs {
		fmt.Fprintf(w, "%s\n  %s\n", q.Name, q.Question)
		for _, p := range q.Params {
			if p.Name == "since" || p.Name == "until" {
				continue
			}
			def := " (required)"
			if p.HasDefault {
				def = fmt.Sprintf(" (default %q)", p.Default)
			}
			fmt.Fprintf(w, "  --param %s=%s%s: %s\n", p.Name, p.Type, def, p.Description)
		}
		fmt.Fprintln(w)
	}
	return nil
}

// cell renders one value for the table and CSV outputs.
func cell(v any) string {
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Format("2006-01-02 15:04:05.000000000")
	case netip.Addr:
		if x.Is4In6() {
			return x.Unmap().String()
		}
		return x.String()
	case []string:
		return strings.Join(x, ",")
	case map[string]string:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			keys[i] = k + "=" + x[k]
		}
		return strings.Join(keys, ",")
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

func printTable(w io.Writer, t *clickhousesink.Table, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		for _, r := range t.Rows {
			obj := make(map[string]any, len(r))
			for i, v := range r {
				if a, ok := v.(netip.Addr); ok {
					v = cell(a)
				}
				obj[t.Columns[i]] = v
			}
			if err := enc.Encode(obj); err != nil {
				return err
			}
		}
		return nil
	case "csv":
		cw := csv.NewWriter(w)
		if err := cw.Write(t.Columns); err != nil {
			return err
		}
		for _, r := range t.Rows {
			rec := make([]string, len(r))
			for i, v := range r {
				rec[i] = cell(v)
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.ToUpper(strings.Join(t.Columns, "\t")))
	for _, r := range t.Rows {
		rec := make([]string, len(r))
		for i, v := range r {
			rec[i] = strings.ReplaceAll(cell(v), "\t", " ")
		}
		fmt.Fprintln(tw, strings.Join(rec, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "(%d rows)\n", len(t.Rows))
	return nil
}
