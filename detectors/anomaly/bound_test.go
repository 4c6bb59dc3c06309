package anomaly

import (
	"runtime"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"roachwatch/detectors"
	"roachwatch/pipeline/event"
)

// tinyConfig is the per-principal config of the 1M case: a few shapes and
// tables, one remembered item per kind, no hour profile.
func tinyConfig(n int) Config {
	c := DefaultConfig()
	c.MaxPrincipals, c.MaxFingerprints, c.MaxTables = n, 2, 1
	c.MaxAddresses, c.MaxNetworks, c.MaxApps = 1, 1, 1
	c.OffHours = false
	return c
}

// fill makes n distinct principals (cluster + user), each with a login
// and perShape statements of distinct shapes, tables and addresses.
func fill(d *Detector, n, perPrincipal int) {
	ev := event.Event{Source: event.SourceCRDB, Type: "query_execute", Cluster: "c1", StatementTag: "SELECT", Application: "app", ID: "x"}
	tbl := make([]string, 1)
	var out []detectors.Finding
	t := day0
	for i := range n {
		ev.User = "user_" + strconv.Itoa(i)
		for j := range perPrincipal {
			t += 1000
			ev.Time = t
			ev.FingerprintHash = uint64(j + 1)
			ev.ClientAddr = "10." + strconv.Itoa(j%250) + ".0." + strconv.Itoa(1+j%200)
			tbl[0] = "t" + strconv.Itoa(j)
			ev.Tables = tbl
			ev.Rows = int64(j)
			out = d.Observe(&ev, out[:0])
		}
	}
}

func heapAlloc() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestMemoryBound holds MemoryBytes and the real heap growth to the
// documented bound (PrincipalBound).
func TestMemoryBound(t *testing.T) {
	cases := []struct {
		name       string
		cfg        Config
		principals int
		events     int // per principal
	}{
		{"10k defaults", func() Config { c := DefaultConfig(); c.MaxPrincipals = 10000; return c }(), 10000, 3},
		{"10k saturated caps", func() Config { c := DefaultConfig(); c.MaxPrincipals = 10000; return c }(), 10000, 80},
		{"100k defaults", func() Config { c := DefaultConfig(); c.MaxPrincipals = 100000; return c }(), 100000, 3},
		{"1M tiny per-principal config", tinyConfig(1000000), 1000000, 2},
		{"cap 50k under 200k principals (LRU)", func() Config { c := DefaultConfig(); c.MaxPrincipals = 50000; return c }(), 200000, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if testing.Short() && tc.principals*tc.events > 300000 {
				t.Skip("large")
			}
			before := heapAlloc()
			d := New(tc.cfg)
			fill(d, tc.principals, tc.events)
			heap := int64(heapAlloc() - before)
			per, bound := PrincipalBound(tc.cfg)
			mem := d.MemoryBytes()
			t.Logf("%d principals held (%d evicted): MemoryBytes %d (%.0f B/principal), heap %d, bound %d (%d B/principal)",
				d.Principals(), d.Evicted(), mem, float64(mem)/float64(d.Principals()), heap, bound, per)
			require.Equal(t, min(tc.principals, tc.cfg.MaxPrincipals), d.Principals())
			require.Equal(t, int64(max(0, tc.principals-tc.cfg.MaxPrincipals)), d.Evicted())
			require.LessOrEqual(t, mem, bound)
			require.LessOrEqual(t, heap, bound, "real heap growth within the documented bound")
			require.LessOrEqual(t, float64(heap), 1.5*float64(mem), "MemoryBytes tracks the real heap")
			runtime.KeepAlive(d)
		})
	}
}

// TestLRUEviction: at the cap the least recently observed principal goes.
func TestLRUEviction(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxPrincipals = 3
	d := New(cfg)
	g := &gen{rnd: 1}
	for _, u := range []string{"a", "b", "c", "a", "d"} {
		ev := g.ev(day0+int64(g.seq)*sec, u)
		d.Observe(&ev, nil)
	}
	require.Equal(t, 3, d.Principals())
	require.Equal(t, int64(1), d.Evicted())
	var held []string
	for i := d.st.head; i >= 0; i = d.st.ps[i].next {
		held = append(held, d.st.ps[i].key)
	}
	require.Equal(t, []string{"d", "a", "c"}, held, "b was least recently seen")
	before := d.MemoryBytes()
	ev := g.ev(day0+hour, "b")
	d.Observe(&ev, nil)
	require.Equal(t, int64(2), d.Evicted(), "c goes for b")
	require.InDelta(t, before, d.MemoryBytes(), 64, "slots are reused")
}

// BenchmarkObserve runs the detector over the loggen mix (sessions,
// statements of every channel, internal and Django events), replaying
// the corpus with shifted times so the state keeps growing as in a live
// stream.
func BenchmarkObserve(b *testing.B) {
	src, _ := loggenEvents(b)
	evs := make([]event.Event, len(src))
	copy(evs, src)
	span := evs[len(evs)-1].Time - evs[0].Time + int64(hour)
	d := New(DefaultConfig())
	var out []detectors.Finding
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j := i % len(evs)
		if j == 0 && i > 0 {
			for k := range evs {
				evs[k].Time += span
			}
		}
		out = d.Observe(&evs[j], out[:0])
	}
	b.ReportMetric(float64(d.MemoryBytes()), "state-bytes")
}

func benchPrincipals(b *testing.B, n int, cfg Config) {
	b.ReportAllocs()
	var d *Detector
	var heap int64
	for i := 0; i < b.N; i++ {
		before := heapAlloc()
		d = New(cfg)
		fill(d, n, 2)
		heap = int64(heapAlloc() - before)
	}
	_, bound := PrincipalBound(cfg)
	b.ReportMetric(float64(d.MemoryBytes()), "state-bytes")
	b.ReportMetric(float64(heap), "heap-bytes")
	b.ReportMetric(float64(bound), "bound-bytes")
	b.ReportMetric(float64(d.MemoryBytes())/float64(n), "bytes/principal")
}

func principalsConfig(n int) Config {
	c := DefaultConfig()
	c.MaxPrincipals = n
	return c
}

func BenchmarkPrincipals10k(b *testing.B)  { benchPrincipals(b, 10000, principalsConfig(10000)) }
func BenchmarkPrincipals100k(b *testing.B) { benchPrincipals(b, 100000, principalsConfig(100000)) }

// BenchmarkPrincipals1M uses the tiny per-principal config (2 shapes,
// 1 table, 1 item per kind, no hour profile).
func BenchmarkPrincipals1M(b *testing.B) { benchPrincipals(b, 1000000, tinyConfig(1000000)) }
