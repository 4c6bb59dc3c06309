// Command loggen writes deterministic CockroachDB and Django logs with
// planted security incidents and a truth.json describing them.
//
//	go run ./cmd/loggen --out DIR --seed N --days D [--start 2025-06-09]
//	    [--rate EVENTS_PER_DAY] [--nodes 3] [--crdb-format json|crdb-v2|mixed] [--events N]
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"roachwatch/pipeline/loggen"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "loggen:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	def := loggen.DefaultConfig()
	fs := flag.NewFlagSet("loggen", flag.ContinueOnError)
	out := fs.String("out", def.Out, "output directory")
	seed := fs.Uint64("seed", def.Seed, "seed of every random stream")
	days := fs.Int("days", def.Days, "number of days to generate")
	start := fs.String("start", def.Start.Format(time.DateOnly), "first day (UTC), YYYY-MM-DD")
	rate := fs.Int("rate", def.Rate, "benign CockroachDB entries per day (approximate)")
	nodes := fs.Int("nodes", def.Nodes, "CockroachDB nodes")
	format := fs.String("crdb-format", def.CRDBFormat, "CockroachDB log format: json, crdb-v2 or mixed")
	events := fs.Int64("events", 0, "stop after about this many CockroachDB entries (0: no limit)")
	maxFile := fs.Int64("max-file-size", def.MaxFileSize, "rotate CockroachDB log files at this size (bytes)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	st, err := time.Parse(time.DateOnly, *start)
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}
	cfg := def
	cfg.Out, cfg.Seed, cfg.Days, cfg.Start, cfg.Rate = *out, *seed, *days, st, *rate
	cfg.Nodes, cfg.CRDBFormat, cfg.MaxEvents, cfg.MaxFileSize = *nodes, *format, *events, *maxFile
	t, err := loggen.Generate(cfg)
	if err != nil {
		return err
	}
	fmt.Printf("wrote %d CockroachDB entries, %d Django records, %d incidents to %s\n",
		t.Counts.CRDBEvents, t.Counts.DjangoRecords, len(t.Incidents), cfg.Out)
	return nil
}
