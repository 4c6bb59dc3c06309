package loggen

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"time"
)

// GeneratorVersion changes whenever the same seed would produce different
// output.
const GeneratorVersion = 2

// Truth is the content of truth.json.
type Truth struct {
	Seed             uint64 `json:"seed"`
	Days             int    `json:"days"`
	Start            string `json:"start"`
	End              string `json:"end"`
	GeneratorVersion int    `json:"generator_version"`
	DjangoTimezone   string `json:"django_timezone"`
	FernetKey        string `json:"fernet_key"` // URL-safe base64, as Django settings would hold it
	// CatalogPlaintext lists the sensitive columns stored in plaintext
	// (table.column), for catalog.plaintext of the analysis.
	CatalogPlaintext []string    `json:"catalog_plaintext"`
	Nodes            []TruthNode `json:"nodes"`
	Files            []string    `json:"files"`
	Counts           Counts      `json:"counts"`
	Incidents        []*Incident `json:"incidents"`
}

// TruthNode describes one CockroachDB node.
type TruthNode struct {
	ID        int    `json:"id"`
	Host      string `json:"host"`
	Addr      string `json:"addr"`
	ClusterID string `json:"cluster_id"`
	PID       int    `json:"pid"`
	Format    string `json:"format"`
	LogDir    string `json:"log_dir"`
}

// Counts are the numbers of entries written.
type Counts struct {
	CRDBEvents    int64 `json:"crdb_events"`
	DjangoRecords int64 `json:"django_records"`
}

// Principal identifies who did it.
type Principal struct {
	User        string `json:"user"`
	ClientAddr  string `json:"client_addr"` // IP without port
	Application string `json:"application"`
}

// Incident is one planted incident or benign look-alike. Times are event
// times (CockroachDB payload Timestamp, Django asctime) in RFC 3339 UTC.
type Incident struct {
	ID           string    `json:"id"`
	Category     string    `json:"category"`
	ExpectedRule string    `json:"expected_rule"`
	Severity     string    `json:"severity,omitempty"`
	Principal    Principal `json:"principal"`
	SessionID    string    `json:"session_id,omitempty"`
	Node         int       `json:"node,omitempty"`
	FirstSeen    string    `json:"first_seen"`
	LastSeen     string    `json:"last_seen"`
	DecisiveTime string    `json:"decisive_time"`
	Lookalike    bool      `json:"lookalike"`
	Description  string    `json:"description"`

	first, last, decisive int64
}

func newIncident(id string, sc *Scenario) *Incident {
	return &Incident{ID: id, Category: sc.Category, ExpectedRule: sc.Rule, Severity: sc.Severity,
		Lookalike: sc.Lookalike, first: math.MaxInt64, last: math.MinInt64}
}

func (i *Incident) observe(t int64) {
	i.first = min(i.first, t)
	i.last = max(i.last, t)
}

// Times returns first seen, last seen and decisive time in ns.
func (i *Incident) Times() (first, last, decisive int64) { return i.first, i.last, i.decisive }

func rfc3339(ns int64) string { return time.Unix(0, ns).UTC().Format(time.RFC3339Nano) }

// truth assembles truth.json from the run.
func (g *Generator) truth() *Truth {
	t := &Truth{
		Seed: g.cfg.Seed, Days: g.cfg.Days, Start: rfc3339(g.cfg.rangeStart()), End: rfc3339(g.cfg.rangeEnd()),
		GeneratorVersion: GeneratorVersion, DjangoTimezone: "UTC",
		FernetKey:        base64.URLEncoding.EncodeToString(g.fernetKey[:]),
		CatalogPlaintext: append([]string(nil), PlaintextColumns...),
		Counts:           Counts{CRDBEvents: g.crdbCount, DjangoRecords: g.djCount},
		Incidents:        g.incidents,
	}
	for i, n := range g.nodes {
		t.Nodes = append(t.Nodes, TruthNode{ID: n.id, Host: n.host, Addr: n.addr, ClusterID: n.cluster, PID: n.pid,
			Format: n.format, LogDir: g.sinks[i][0].relDir})
		for _, s := range g.sinks[i] {
			t.Files = append(t.Files, s.files()...)
		}
	}
	for _, s := range g.dj {
		t.Files = append(t.Files, s.name)
	}
	sort.Strings(t.Files)
	for _, inc := range t.Incidents {
		inc.FirstSeen, inc.LastSeen, inc.DecisiveTime = rfc3339(inc.first), rfc3339(inc.last), rfc3339(inc.decisive)
	}
	sort.SliceStable(t.Incidents, func(a, b int) bool {
		x, y := t.Incidents[a], t.Incidents[b]
		if x.first != y.first {
			return x.first < y.first
		}
		return x.ID < y.ID
	})
	if t.Incidents == nil {
		t.Incidents = []*Incident{}
	}
	return t
}

// write stores t as indented JSON (no HTML escaping).
func (t *Truth) write(path string) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(t); err != nil {
		return fmt.Errorf("encoding truth: %w", err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing truth: %w", err)
	}
	return nil
}
