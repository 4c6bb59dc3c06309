package detectors

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"roachwatch/pipeline/event"
)

// RuleConfig is the per-rule part of the config: enable, severity override
// and an allowlist. Suppression by allowlist only drops the matching
// occurrences; the rule keeps running for everyone else.
type RuleConfig struct {
	Enabled  bool      `mapstructure:"enabled"`
	Severity string    `mapstructure:"severity"` // "" keeps the rule's default
	Allow    Allowlist `mapstructure:"allow"`
}

// Allowlist names principals, networks, applications, fingerprints and
// Django routes whose occurrences of a rule are suppressed.
type Allowlist struct {
	Users          []string `mapstructure:"users"`
	ClientNetworks []string `mapstructure:"client_networks"` // CIDR prefixes or single addresses
	Applications   []string `mapstructure:"applications"`
	Fingerprints   []string `mapstructure:"fingerprints"` // fingerprint text or its hash in decimal
	Routes         []string `mapstructure:"routes"`
}

// ConfigKey is the config map key of a rule id: "RW-TLS-001" -> "rw_tls_001".
func ConfigKey(ruleID string) string {
	return strings.ToLower(strings.ReplaceAll(ruleID, "-", "_"))
}

// Validate checks severities and networks.
func (c RuleConfig) Validate(key string) error {
	var errs []string
	if c.Severity != "" {
		if _, ok := ParseSeverity(c.Severity); !ok {
			errs = append(errs, fmt.Sprintf("%s.severity: %q is not one of info, low, medium, high, critical", key, c.Severity))
		}
	}
	for _, n := range c.Allow.ClientNetworks {
		if _, err := parseNet(n); err != nil {
			errs = append(errs, fmt.Sprintf("%s.allow.client_networks: %q is not a CIDR prefix or address", key, n))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

func parseNet(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		return netip.ParsePrefix(s)
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

type ruleState struct {
	enabled  bool
	severity *Severity
	users    map[string]bool
	apps     map[string]bool
	fps      map[string]bool
	routes   map[string]bool
	nets     []netip.Prefix
}

// Engine runs detectors over events, applies per-rule config and groups
// occurrences into findings. Not safe for concurrent use.
type Engine struct {
	detectors  []Detector
	rules      map[string]*ruleState
	agg        *Aggregator
	buf        []Finding
	Suppressed map[string]int64 // occurrences dropped by allowlists, per rule
	lastTime   int64
}

// NewEngine builds an engine. cfg maps ConfigKey(rule id) to its config;
// rules absent from cfg run with their defaults.
func NewEngine(ds []Detector, cfg map[string]RuleConfig) (*Engine, error) {
	e := &Engine{rules: map[string]*ruleState{}, agg: NewAggregator(), Suppressed: map[string]int64{}}
	known := map[string]bool{}
	for _, d := range ds {
		enabled := false
		for _, r := range d.Rules() {
			key := ConfigKey(r.ID)
			known[key] = true
			st := &ruleState{enabled: true}
			if rc, ok := cfg[key]; ok {
				if err := rc.Validate("detectors.rules." + key); err != nil {
					return nil, err
				}
				st.enabled = rc.Enabled
				if rc.Severity != "" {
					s, _ := ParseSeverity(rc.Severity)
					st.severity = &s
				}
				st.users, st.apps = toSet(rc.Allow.Users), toSet(rc.Allow.Applications)
				st.fps, st.routes = toSet(rc.Allow.Fingerprints), toSet(rc.Allow.Routes)
				for _, n := range rc.Allow.ClientNetworks {
					p, _ := parseNet(n)
					st.nets = append(st.nets, p)
				}
			}
			e.rules[r.ID] = st
			enabled = enabled || st.enabled
		}
		if enabled {
			e.detectors = append(e.detectors, d)
		}
	}
	for key := range cfg {
		if !known[key] {
			return nil, fmt.Errorf("detectors.rules.%s: no such rule (see `analyze rules`)", key)
		}
	}
	return e, nil
}

func toSet(list []string) map[string]bool {
	if len(list) == 0 {
		return nil
	}
	m := make(map[string]bool, len(list))
	for _, s := range list {
		m[s] = true
	}
	return m
}

// Observe runs every detector on ev and folds the occurrences into the
// findings. It returns the findings that changed (owned by the engine,
// valid until the next call) so streaming callers can emit new versions.
func (e *Engine) Observe(ev *event.Event) []*Finding {
	if ev.Time > e.lastTime {
		e.lastTime = ev.Time
	}
	e.buf = e.buf[:0]
	for _, d := range e.detectors {
		e.buf = d.Observe(ev, e.buf)
	}
	return e.fold(ev)
}

// Finish flushes windowed detectors at the end of input.
func (e *Engine) Finish() []*Finding {
	e.buf = e.buf[:0]
	for _, d := range e.detectors {
		if f, ok := d.(Finisher); ok {
			e.buf = f.Finish(e.lastTime, e.buf)
		}
	}
	return e.fold(nil)
}

func (e *Engine) fold(ev *event.Event) []*Finding {
	if len(e.buf) == 0 {
		return nil
	}
	var changed []*Finding
	for i := range e.buf {
		o := &e.buf[i]
		st := e.rules[o.RuleID]
		if st == nil || !st.enabled {
			continue
		}
		if st.suppresses(o, ev) {
			e.Suppressed[o.RuleID]++
			continue
		}
		if st.severity != nil {
			o.Severity = *st.severity
		}
		changed = append(changed, e.agg.Add(o))
	}
	return changed
}

func (st *ruleState) suppresses(o *Finding, ev *event.Event) bool {
	if st.users[o.Principal.User] || st.apps[o.Principal.Application] {
		return true
	}
	if o.Fingerprint != "" && len(st.fps) > 0 {
		if st.fps[o.Fingerprint] || st.fps[fmt.Sprint(o.FingerprintHash)] {
			return true
		}
	}
	if ev != nil && ev.Route != "" && st.routes[ev.Route] {
		return true
	}
	if len(st.nets) > 0 && o.Principal.ClientAddr != "" {
		if a, err := netip.ParseAddr(o.Principal.ClientAddr); err == nil {
			for _, p := range st.nets {
				if p.Contains(a.Unmap()) {
					return true
				}
			}
		}
	}
	return false
}

// Findings returns all findings, most severe first, then by first seen and
// id, so output is deterministic.
func (e *Engine) Findings() []Finding { return e.agg.Sorted() }

// Aggregator groups occurrences by Finding.ID.
type Aggregator struct {
	byID map[string]*Finding
}

// NewAggregator returns an empty aggregator.
func NewAggregator() *Aggregator { return &Aggregator{byID: map[string]*Finding{}} }

// Add folds o into the finding with its id and returns that finding.
func (a *Aggregator) Add(o *Finding) *Finding {
	if f, ok := a.byID[o.ID]; ok {
		f.merge(o)
		return f
	}
	f := *o
	f.Evidence = slices.Clone(o.Evidence)
	f.Tables = slices.Clone(o.Tables)
	f.Columns = slices.Clone(o.Columns)
	a.byID[o.ID] = &f
	return &f
}

// Sorted returns copies of all findings, most severe first.
func (a *Aggregator) Sorted() []Finding {
	out := make([]Finding, 0, len(a.byID))
	for _, f := range a.byID {
		out = append(out, *f)
	}
	slices.SortFunc(out, func(x, y Finding) int {
		if c := cmp.Compare(y.Severity, x.Severity); c != 0 {
			return c
		}
		if c := x.FirstSeen.Compare(y.FirstSeen); c != 0 {
			return c
		}
		return cmp.Compare(x.ID, y.ID)
	})
	return out
}
