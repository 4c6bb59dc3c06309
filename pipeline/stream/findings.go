package stream

import (
	"maps"
	"slices"

	"roachwatch/detectors"
)

// The engine (detectors.Engine) folds occurrences into findings but cannot
// be seeded with findings from a snapshot. After a hand-over the
// partition therefore keeps the restored findings beside a fresh engine
// and combines the two: restored holds every occurrence before the
// snapshot, the engine's version every occurrence after it, and
// combine(restored, engine version) equals the finding one engine would
// have built from all of them (tested against detectors.Aggregator).
// TODO(#4): replace with an Engine.RestoreFindings in package detectors.

// combine returns the finding made of the occurrences of a (earlier) and
// b (later), with the same rules as detectors.Aggregator's merge.
func combine(a, b *detectors.Finding) detectors.Finding {
	f := cloneFinding(a)
	f.Count += b.Count
	if b.FirstSeen.Before(f.FirstSeen) {
		f.FirstSeen = b.FirstSeen
	}
	if b.LastSeen.After(f.LastSeen) {
		f.LastSeen = b.LastSeen
	}
	if b.Severity > f.Severity {
		f.Severity, f.Title, f.Summary = b.Severity, b.Title, b.Summary
	}
	for _, id := range b.Evidence {
		if len(f.Evidence) >= detectors.MaxEvidence {
			break
		}
		if !slices.Contains(f.Evidence, id) {
			f.Evidence = append(f.Evidence, id)
		}
	}
	f.Tables = unionCapped(f.Tables, b.Tables)
	f.Columns = unionCapped(f.Columns, b.Columns)
	for k, v := range b.Details {
		if f.Details == nil {
			f.Details = make(map[string]string, len(b.Details))
		}
		f.Details[k] = v
	}
	if f.SessionID != b.SessionID {
		f.SessionID = ""
	}
	if f.Principal.Application == "" {
		f.Principal.Application = b.Principal.Application
	}
	return f
}

// maxListed mirrors the cap detectors puts on tables and columns.
const maxListed = 32

func unionCapped(a, b []string) []string {
	for _, s := range b {
		if len(a) >= maxListed {
			break
		}
		if !slices.Contains(a, s) {
			a = append(a, s)
		}
	}
	return a
}

// cloneFinding copies f deeply enough that neither copy sees the other's
// later changes (the engine appends to slices and writes to Details in
// place while sinks encode the copy).
func cloneFinding(f *detectors.Finding) detectors.Finding {
	c := *f
	c.Evidence = slices.Clone(f.Evidence)
	c.Tables = slices.Clone(f.Tables)
	c.Columns = slices.Clone(f.Columns)
	c.Details = maps.Clone(f.Details)
	return c
}
