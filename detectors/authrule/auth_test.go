package authrule

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roachwatch/detectors"
	"roachwatch/pipeline/event"
)

var t0 = time.Date(2025, 6, 9, 11, 57, 0, 0, time.UTC).UnixNano()

var seq int

// login builds a SESSIONS event; every call is a new connection unless
// session is given.
func login(typ string, dt time.Duration, user, addr string, mod ...func(*event.Event)) *event.Event {
	seq++
	e := &event.Event{ID: fmt.Sprintf("e%d", seq), Time: t0 + int64(dt), Source: event.SourceCRDB, Channel: "SESSIONS",
		Type: "client_authentication_" + typ, Node: "1", Cluster: "c1", User: user, ClientAddr: addr, ClientPort: 40000 + seq,
		SessionID: fmt.Sprintf("s%d", seq), AuthMethod: "password", Application: "hydra"}
	if typ == "failed" {
		e.AuthFailure = "CREDENTIALS_INVALID"
	}
	for _, m := range mod {
		m(e)
	}
	return e
}

// fails returns n failures for user from addr, every step from start.
func fails(n int, start, step time.Duration, user, addr string) []*event.Event {
	var out []*event.Event
	for i := 0; i < n; i++ {
		out = append(out, login("failed", start+time.Duration(i)*step, user, addr))
	}
	return out
}

// expired returns the two failure events CockroachDB logs for one login
// with an expired password.
func expired(dt time.Duration, user, addr string) []*event.Event {
	a := login("failed", dt, user, addr, func(e *event.Event) { e.AuthFailure = "CREDENTIALS_EXPIRED" })
	b := login("failed", dt+time.Millisecond, user, addr, func(e *event.Event) { e.SessionID, e.ClientPort = a.SessionID, a.ClientPort })
	return []*event.Event{a, b}
}

func cat(groups ...[]*event.Event) []*event.Event {
	var out []*event.Event
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

func one(e *event.Event) []*event.Event { return []*event.Event{e} }

func run(t *testing.T, cfg Config, evs []*event.Event) []detectors.Finding {
	t.Helper()
	require.NoError(t, cfg.Validate())
	e, err := detectors.NewEngine([]detectors.Detector{New(cfg)}, nil)
	require.NoError(t, err)
	for _, ev := range evs {
		before := *ev
		e.Observe(ev)
		require.Equal(t, before, *ev, "Observe must not modify the event")
	}
	e.Finish()
	return e.Findings()
}

func TestAuth001(t *testing.T) {
	type want struct {
		severity detectors.Severity
		pattern  kind
		count    int64
		user     string
		addr     string
	}
	const attacker = "203.0.113.8"
	cases := []struct {
		name   string
		events []*event.Event
		want   []want
	}{
		{name: "typo then success is quiet",
			events: cat(fails(2, 0, 3*time.Second, "billing_app", "10.20.4.22"), one(login("ok", 8*time.Second, "billing_app", "10.20.4.22")))},
		{name: "four failures in the window are below the threshold",
			events: fails(4, 0, 30*time.Second, "migrator", attacker)},
		{name: "five failures in three minutes are a burst",
			events: fails(5, 0, 40*time.Second, "migrator", attacker),
			want:   []want{{detectors.SeverityHigh, kindUserAddr, 5, "migrator", attacker}}},
		{name: "five failures spread over more than the window are quiet",
			events: fails(5, 0, 50*time.Second, "migrator", attacker)},
		{name: "a burst keeps growing as one incident",
			events: fails(34, 0, 3*time.Second, "migrator", attacker),
			want:   []want{{detectors.SeverityHigh, kindUserAddr, 34, "migrator", attacker}}},
		{name: "success after the burst is critical",
			events: cat(fails(20, 0, 4*time.Second, "migrator", attacker), one(login("ok", 90*time.Second, "migrator", attacker))),
			want:   []want{{detectors.SeverityCritical, kindUserAddr, 20, "migrator", attacker}}},
		{name: "success after the success window stays high",
			events: cat(fails(6, 0, 4*time.Second, "migrator", attacker), one(login("ok", 11*time.Minute, "migrator", attacker))),
			want:   []want{{detectors.SeverityHigh, kindUserAddr, 6, "migrator", attacker}}},
		{name: "success of another user from another address does not escalate",
			events: cat(fails(6, 0, 4*time.Second, "migrator", attacker), one(login("ok", time.Minute, "web", "10.20.3.14"))),
			want:   []want{{detectors.SeverityHigh, kindUserAddr, 6, "migrator", attacker}}},
		{name: "expired password: two events per connection count once (4 logins quiet)",
			events: cat(expired(0, "nurse", attacker), expired(10*time.Second, "nurse", attacker),
				expired(20*time.Second, "nurse", attacker), expired(30*time.Second, "nurse", attacker))},
		{name: "expired password: five logins are a burst of five",
			events: cat(expired(0, "nurse", attacker), expired(10*time.Second, "nurse", attacker), expired(20*time.Second, "nurse", attacker),
				expired(30*time.Second, "nurse", attacker), expired(40*time.Second, "nurse", attacker)),
			want: []want{{detectors.SeverityHigh, kindUserAddr, 5, "nurse", attacker}}},
		{name: "spraying ten users from one address",
			events: spray(10, attacker),
			want:   []want{{detectors.SeverityHigh, kindAddr, 10, "", attacker}}},
		{name: "nine users from one address are below the spraying threshold",
			events: spray(9, attacker)},
		{name: "spraying then any login from the address is critical",
			events: cat(spray(12, attacker), one(login("ok", 2*time.Minute, "user7", attacker))),
			want:   []want{{detectors.SeverityCritical, kindAddr, 12, "", attacker}}},
		{name: "one user from three addresses",
			events: cat(fails(4, 0, 10*time.Second, "admin", "198.51.100.1"), fails(3, 5*time.Second, 10*time.Second, "admin", "198.51.100.2"),
				fails(3, 7*time.Second, 10*time.Second, "admin", "198.51.100.3")),
			want: []want{{detectors.SeverityHigh, kindUser, 10, "admin", ""}}},
		{name: "two bursts far apart are two incidents",
			events: cat(fails(5, 0, time.Second, "migrator", attacker), fails(5, time.Hour, time.Second, "migrator", attacker)),
			want:   []want{{detectors.SeverityHigh, kindUserAddr, 5, "migrator", attacker}, {detectors.SeverityHigh, kindUserAddr, 5, "migrator", attacker}}},
		{name: "internal and Django events are ignored",
			events: cat(withMod(fails(6, 0, time.Second, "root", "10.0.0.1"), func(e *event.Event) { e.Internal = true }),
				withMod(fails(6, 0, time.Second, "web", "10.0.0.2"), func(e *event.Event) { e.Source = event.SourceDjango }))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := run(t, DefaultConfig(), tc.events)
			require.Len(t, got, len(tc.want), "findings: %+v", got)
			for i, w := range tc.want {
				f := got[i]
				require.Equal(t, Rule001.ID, f.RuleID)
				require.Equal(t, w.severity, f.Severity, f.Summary)
				require.Equal(t, patternNames[w.pattern], f.Details["pattern"])
				require.Equal(t, w.count, f.Count)
				require.Equal(t, strconv.FormatInt(w.count, 10), f.Details["attempts"])
				require.Equal(t, w.user, f.Principal.User)
				require.Equal(t, w.addr, f.Principal.ClientAddr)
				require.NotEmpty(t, f.Details["expected"])
				require.NotEmpty(t, f.Details["failure_reasons"])
				require.Contains(t, f.Query, "roachwatch.events")
				require.NotEmpty(t, f.Evidence)
				if w.severity == detectors.SeverityCritical {
					require.Contains(t, f.Details, "success")
					require.Contains(t, f.Summary, "got in")
				}
			}
		})
	}
}

func spray(n int, addr string) []*event.Event {
	var out []*event.Event
	for i := 0; i < n; i++ {
		out = append(out, login("failed", time.Duration(i)*15*time.Second, "user"+strconv.Itoa(i), addr))
	}
	return out
}

func withMod(evs []*event.Event, m func(*event.Event)) []*event.Event {
	for _, e := range evs {
		m(e)
	}
	return evs
}

func TestAuth001ExpiredReasonsJoinTheBurst(t *testing.T) {
	evs := cat(fails(5, 0, time.Second, "nurse", "203.0.113.9"), expired(6*time.Second, "nurse", "203.0.113.9"))
	got := run(t, DefaultConfig(), evs)
	require.Len(t, got, 1)
	require.Equal(t, int64(6), got[0].Count)
	require.Equal(t, "CREDENTIALS_INVALID,CREDENTIALS_EXPIRED", got[0].Details["failure_reasons"])
}

func TestAuth001StateIsBounded(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxKeys, cfg.MaxConnections = 16, 16
	d := New(cfg)
	for i := 0; i < 1000; i++ {
		ev := login("failed", time.Duration(i)*time.Second, "u"+strconv.Itoa(i), "198.51.100."+strconv.Itoa(i%250)+"."+strconv.Itoa(i))
		d.Observe(ev, nil)
		require.LessOrEqual(t, d.keys.Len(), 16)
		require.LessOrEqual(t, len(d.conns.m), 16)
	}
	require.Len(t, d.keys.nodes, 16)
	// The newest keys survive, the oldest are forgotten.
	_, ok := d.keys.peek(key{kindUserAddr, "u999", "198.51.100.249.999"})
	require.True(t, ok)
	_, ok = d.keys.peek(key{kindUserAddr, "u0", "198.51.100.0.0"})
	require.False(t, ok)
}

func TestLRU(t *testing.T) {
	c := newLRU[string, int](3)
	for _, k := range []string{"a", "b", "c"} {
		v, created := c.put(k)
		require.True(t, created)
		*v = len(k)
	}
	_, ok := c.get("a") // a is now the most recent; b is the oldest
	require.True(t, ok)
	c.put("d")
	_, ok = c.peek("b")
	require.False(t, ok, "least recently used entry evicted")
	for _, k := range []string{"a", "c", "d"} {
		_, ok := c.peek(k)
		require.True(t, ok, k)
	}
	require.Equal(t, 3, c.Len())
}

func TestConfigValidate(t *testing.T) {
	require.NoError(t, DefaultConfig().Validate())
	bad := DefaultConfig()
	bad.Window, bad.Threshold, bad.SprayUsers, bad.MaxKeys = 0, 1, 1000, 0
	err := bad.Validate()
	require.Error(t, err)
	for _, s := range []string{"detectors.auth.window", "detectors.auth.threshold", "detectors.auth.max_keys", "at most 256"} {
		require.Contains(t, err.Error(), s)
	}
}

// BenchmarkObserve measures a realistic mix: mostly successful logins,
// one failure in ten, a few addresses bursting.
func BenchmarkObserve(b *testing.B) {
	evs := make([]*event.Event, 4096)
	for i := range evs {
		typ := "ok"
		if i%10 == 0 {
			typ = "failed"
		}
		evs[i] = login(typ, time.Duration(i)*100*time.Millisecond, "u"+strconv.Itoa(i%50), "10.20."+strconv.Itoa(i%7)+".1")
	}
	d := New(DefaultConfig())
	out := make([]detectors.Finding, 0, 16)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev := *evs[i%len(evs)]
		ev.Time += int64(i/len(evs)) * int64(time.Hour)
		ev.SessionID = ""
		ev.ClientPort = i
		out = d.Observe(&ev, out[:0])
	}
}
