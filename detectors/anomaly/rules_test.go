package anomaly

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roachwatch/detectors"
	"roachwatch/pipeline/event"
)

var day0 = time.Date(2025, 6, 9, 0, 0, 0, 0, time.UTC).UnixNano() // a Monday

const (
	sec  = int64(time.Second)
	min_ = int64(time.Minute)
	hour = int64(time.Hour)
	day  = 24 * hour
)

// gen builds synthetic CockroachDB events; seq makes ids unique and a
// small LCG varies row counts deterministically.
type gen struct {
	seq uint64
	rnd uint64
}

func (g *gen) jitter(n int64) int64 {
	g.rnd = g.rnd*6364136223846793005 + 1442695040888963407
	if n <= 0 {
		return 0
	}
	return n*8/10 + int64((g.rnd>>33)%uint64(n*4/10+1)) // n +-20 %
}

type opt func(*event.Event)

func (g *gen) ev(t int64, user string, opts ...opt) event.Event {
	g.seq++
	e := event.Event{ID: fmt.Sprintf("ev%06d", g.seq), Time: t, Source: event.SourceCRDB, Type: "query_execute",
		User: user, Application: "django", ClientAddr: "10.20.3.14", StatementTag: "SELECT",
		FingerprintHash: 1, Fingerprint: "select ? from t", Tables: []string{"orders"}, Rows: 1}
	for _, o := range opts {
		o(&e)
	}
	return e
}

func fp(h uint64) opt {
	return func(e *event.Event) { e.FingerprintHash = h; e.Fingerprint = fmt.Sprintf("shape %d", h) }
}
func rows(n int64) opt             { return func(e *event.Event) { e.Rows = n } }
func addr(a string) opt            { return func(e *event.Event) { e.ClientAddr = a } }
func app(a string) opt             { return func(e *event.Event) { e.Application = a } }
func tables(t ...string) opt       { return func(e *event.Event) { e.Tables = t } }
func sensitive(cols ...string) opt { return func(e *event.Event) { e.SensitiveColumns = cols } }
func fullScan(e *event.Event)      { e.FullTableScan = true }
func internal(e *event.Event)      { e.Internal = true }
func session(e *event.Event) {
	e.Type, e.FingerprintHash, e.Fingerprint, e.Tables, e.Rows = "client_authentication_ok", 0, "", nil, 0
}

// steady is ORM-like traffic: one statement every step from start for
// dur, cycling through shapes, rows around base, at every hour unless
// hours limits them to [from, to).
func (g *gen) steady(user string, start, dur, step int64, shapes []uint64, base int64, from, to int, opts ...opt) []event.Event {
	var out []event.Event
	i := 0
	for t := start; t < start+dur; t += step {
		if h := int((t / hour) % 24); h < from || h >= to {
			continue
		}
		o := append([]opt{fp(shapes[i%len(shapes)]), rows(g.jitter(base))}, opts...)
		out = append(out, g.ev(t, user, o...))
		i++
	}
	return out
}

func shapes(n int) []uint64 {
	s := make([]uint64, n)
	for i := range s {
		s[i] = uint64(1000 + i)
	}
	return s
}

func ruleIDs(fs []detectors.Finding) []string {
	var ids []string
	for _, f := range fs {
		ids = append(ids, f.RuleID+"/"+f.Severity.String())
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

func TestRules(t *testing.T) {
	probeT := day0 + 3*day + 10*hour + 7*min_ // Thursday 10:07
	cases := []struct {
		name  string
		cfg   func(*Config)
		build func(g *gen) []event.Event
		want  []string // rule/severity of every finding of the run
	}{
		{"steady ORM traffic stays quiet", nil, func(g *gen) []event.Event {
			return g.steady("web", day0, 4*day, 20*sec, shapes(12), 3, 0, 24)
		}, nil},
		{"001 rows far above the shape's baseline", nil, func(g *gen) []event.Event {
			h := g.steady("web", day0, 3*day, 20*sec, shapes(12), 100, 0, 24)
			return append(h, g.ev(probeT, "web", fp(1003), rows(200000)))
		}, []string{"RW-ANOM-001/high"}},
		{"001 big but normal report query stays quiet", nil, func(g *gen) []event.Event {
			h := g.steady("reporting", day0, 3*day, 5*min_, []uint64{7, 8}, 50000, 0, 24, app("metabase"))
			return append(h, g.ev(probeT, "reporting", fp(7), rows(64000), app("metabase")))
		}, nil},
		{"001 new shape: the table's baseline judges it", nil, func(g *gen) []event.Event {
			h := g.steady("reporting", day0, 3*day, 5*min_, []uint64{7, 8}, 1000, 0, 24, app("metabase"), tables("customers"))
			return append(h, g.ev(probeT, "reporting", fp(99), rows(250000), app("metabase"), tables("customers")))
		}, []string{"RW-ANOM-001/high"}},
		{"001 below min_rows stays quiet", nil, func(g *gen) []event.Event {
			h := g.steady("web", day0, 3*day, 20*sec, shapes(12), 1, 0, 24)
			return append(h, g.ev(probeT, "web", fp(1003), rows(5000)))
		}, nil},
		{"001 first full scan of a sensitive table", nil, func(g *gen) []event.Event {
			h := g.steady("web", day0, 3*day, 20*sec, shapes(12), 3, 0, 24)
			return append(h, g.ev(probeT, "web", fp(1003), rows(40), tables("patients"), sensitive("patients.ssn"), fullScan))
		}, []string{"RW-ANOM-001/high"}},
		{"001 full scan done daily stays quiet", nil, func(g *gen) []event.Event {
			h := g.steady("web", day0, 3*day, 20*sec, shapes(12), 3, 0, 24)
			for d := range int64(3) {
				h = append(h, g.ev(day0+d*day+2*hour, "web", fp(1003), tables("patients"), sensitive("patients.ssn"), fullScan))
			}
			slices.SortStableFunc(h, func(a, b event.Event) int { return int(a.Time - b.Time) })
			return append(h, g.ev(probeT, "web", fp(1003), tables("patients"), sensitive("patients.ssn"), fullScan))
		}, nil},
		{"002 new shape from a settled app principal", nil, func(g *gen) []event.Event {
			h := g.steady("web", day0, 3*day, 20*sec, shapes(12), 3, 0, 24)
			return append(h, g.ev(probeT, "web", fp(777)))
		}, []string{"RW-ANOM-002/high"}},
		{"002 configured app user", func(c *Config) { c.AutoAppUsers, c.AppUsers = false, []string{"web"} }, func(g *gen) []event.Event {
			h := g.steady("web", day0, 3*day, 20*sec, shapes(12), 3, 0, 24)
			return append(h, g.ev(probeT, "web", fp(777)))
		}, []string{"RW-ANOM-002/high"}},
		{"002 interactive user with ever-new shapes stays quiet", nil, func(g *gen) []event.Event {
			var h []event.Event
			for i := range int64(300) {
				h = append(h, g.ev(day0+i*15*min_, "analyst", fp(uint64(5000+i)), app("psql")))
			}
			return append(h, g.ev(probeT, "analyst", fp(777), app("psql")))
		}, nil},
		{"002 not an app principal when auto is off", func(c *Config) { c.AutoAppUsers = false }, func(g *gen) []event.Event {
			h := g.steady("web", day0, 3*day, 20*sec, shapes(12), 3, 0, 24)
			return append(h, g.ev(probeT, "web", fp(777)))
		}, nil},
		{"003 rate spike", nil, func(g *gen) []event.Event {
			h := g.steady("web", day0, 3*day, 20*sec, shapes(12), 3, 0, 24)
			for i := range int64(600) {
				h = append(h, g.ev(probeT+i*50*int64(time.Millisecond), "web", fp(1001)))
			}
			return h
		}, []string{"RW-ANOM-003/medium"}},
		{"003 busy minute under min_rate stays quiet", nil, func(g *gen) []event.Event {
			h := g.steady("web", day0, 3*day, 20*sec, shapes(12), 3, 0, 24)
			for i := range int64(100) {
				h = append(h, g.ev(probeT+i*500*int64(time.Millisecond), "web", fp(1001)))
			}
			return h
		}, nil},
		{"004 activity at an hour never seen", nil, func(g *gen) []event.Event {
			h := g.steady("ops", day0, 3*day, 30*sec, shapes(4), 3, 9, 17, app("psql"))
			return append(h, g.ev(day0+3*day+3*hour, "ops", fp(1001), app("psql")))
		}, []string{"RW-ANOM-004/low"}},
		{"004 known shape at a new hour the profile covers stays quiet", nil, func(g *gen) []event.Event {
			h := g.steady("ops", day0, 3*day, 30*sec, shapes(4), 3, 1, 17, app("psql"))
			return append(h, g.ev(day0+3*day+3*hour, "ops", fp(1001), app("psql")))
		}, nil},
		{"004 too little history stays quiet", nil, func(g *gen) []event.Event {
			h := g.steady("ops", day0, 3*day, 10*min_, shapes(4), 3, 9, 17, app("psql"))
			return append(h, g.ev(day0+3*day+3*hour, "ops", fp(1001), app("psql")))
		}, nil},
		{"005 new network", nil, func(g *gen) []event.Event {
			h := g.steady("billing_app", day0, 3*day, 30*sec, shapes(6), 1, 0, 24, app("billing"), addr("10.20.4.21"))
			return append(h, g.ev(probeT, "billing_app", session, app(""), addr("10.99.16.38")))
		}, []string{"RW-ANOM-005/medium"}},
		{"005 new address in a known network is low", nil, func(g *gen) []event.Event {
			h := g.steady("billing_app", day0, 3*day, 30*sec, shapes(6), 1, 0, 24, app("billing"), addr("10.20.4.21"))
			return append(h, g.ev(probeT, "billing_app", session, app(""), addr("10.20.4.99")))
		}, []string{"RW-ANOM-005/low"}},
		{"005 new application name is low", nil, func(g *gen) []event.Event {
			h := g.steady("billing_app", day0, 3*day, 30*sec, shapes(6), 1, 0, 24, app("billing"), addr("10.20.4.21"))
			return append(h, g.ev(probeT, "billing_app", fp(1001), app("psql"), addr("10.20.4.21")))
		}, []string{"RW-ANOM-005/low"}},
		{"005 IPv6 /48 is one network", nil, func(g *gen) []event.Event {
			h := g.steady("billing_app", day0, 3*day, 30*sec, shapes(6), 1, 0, 24, app("billing"), addr("2001:db8:1:1::5"))
			return append(h, g.ev(probeT, "billing_app", fp(1001), app("billing"), addr("2001:db8:1:2::9")))
		}, []string{"RW-ANOM-005/low"}},
		{"005 failed logins from a new network teach nothing and alert nothing", nil, func(g *gen) []event.Event {
			h := g.steady("billing_app", day0, 3*day, 30*sec, shapes(6), 1, 0, 24, app("billing"), addr("10.20.4.21"))
			f := g.ev(probeT, "billing_app", session, app(""), addr("203.0.113.8"))
			f.Type, f.AuthFailure = "client_authentication_failed", "CREDENTIALS_INVALID"
			return append(h, f)
		}, nil},
		{"006 never-seen principal reads sensitive columns", nil, func(g *gen) []event.Event {
			h := g.steady("web", day0, 3*day, 20*sec, shapes(12), 3, 0, 24)
			return append(h, g.ev(probeT, "etl_tmp", session, app("etl"), addr("10.20.6.50")),
				g.ev(probeT+2*sec, "etl_tmp", fp(42), rows(5000), app("etl"), addr("10.20.6.50"), tables("patients"), sensitive("patients.ssn")))
		}, []string{"RW-ANOM-006/medium"}},
		{"006 new principal on non-sensitive tables stays quiet", nil, func(g *gen) []event.Event {
			h := g.steady("web", day0, 3*day, 20*sec, shapes(12), 3, 0, 24)
			return append(h, g.ev(probeT, "etl_tmp", fp(42), rows(50), app("etl"), addr("10.20.6.50")))
		}, nil},
		{"006 principal seen in warm-up, then evicted, stays quiet", func(c *Config) { c.MaxPrincipals = 1 }, func(g *gen) []event.Event {
			h := []event.Event{g.ev(day0+hour, "etl_tmp", fp(42), app("etl"))}
			h = append(h, g.steady("web", day0+2*hour, 3*day, 20*sec, shapes(12), 3, 0, 24)...)
			return append(h, g.ev(probeT, "etl_tmp", fp(42), rows(5000), app("etl"), tables("patients"), sensitive("patients.ssn")))
		}, nil},
		{"internal and skipped users are never baselined", nil, func(g *gen) []event.Event {
			h := g.steady("web", day0, 3*day, 20*sec, shapes(12), 3, 0, 24)
			return append(h, g.ev(probeT, "node", tables("patients"), sensitive("patients.ssn"), fullScan),
				g.ev(probeT, "newbie", internal, tables("patients"), sensitive("patients.ssn")))
		}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			require.NoError(t, cfg.Validate())
			g := &gen{rnd: 1}
			fs := runEngine(t, New(cfg), tc.build(g))
			require.Equal(t, tc.want, ruleIDs(fs), "findings: %+v", fs)
			for _, f := range fs {
				require.NotEmpty(t, f.Summary)
				require.NotEmpty(t, f.Query)
				require.NotEmpty(t, f.Details["seen"], "details say what was seen")
				require.NotEmpty(t, f.Details["expected"], "details say what was expected")
			}
		})
	}
}

func TestValidate(t *testing.T) {
	require.NoError(t, DefaultConfig().Validate())
	cases := []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"window", func(c *Config) { c.Window = 0 }, "detectors.anomaly.window"},
		{"warmup", func(c *Config) { c.Warmup = -time.Hour }, "detectors.anomaly.warmup"},
		{"max_principals", func(c *Config) { c.MaxPrincipals = 0 }, "detectors.anomaly.max_principals: must be in 1.."},
		{"max_fingerprints", func(c *Config) { c.MaxFingerprints = 0 }, "detectors.anomaly.max_fingerprints"},
		{"seen_filter_bits", func(c *Config) { c.SeenFilterBits = 1000 }, "detectors.anomaly.seen_filter_bits: must be a power of two"},
		{"alpha", func(c *Config) { c.Alpha = 0 }, "detectors.anomaly.alpha"},
		{"rows_mads", func(c *Config) { c.RowsMADs = -1 }, "detectors.anomaly.rows_mads"},
		{"off_hours_ratio", func(c *Config) { c.OffHoursRatio = 1 }, "detectors.anomaly.off_hours_ratio"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.mod(&c)
			require.ErrorContains(t, c.Validate(), tc.want)
		})
	}
}
