package cryptorule

import (
	"slices"
	"strconv"
	"strings"

	"roachwatch/pipeline/event"
)

// maxDistinct caps the value hashes remembered per incident; the finding
// then says "1000+" distinct values.
const maxDistinct = 1000

// maxClasses caps the value classes or secret types listed per incident.
const maxClasses = 16

// incident is what an open finding needs beyond what the aggregator sums:
// the value classes seen, the distinct value hashes and the rows read.
type incident struct {
	query   string // the investigation query, built once (detectors.Quote is not cheap)
	ws      int64
	rows    int64
	classes []string
	hashes  map[string]struct{}
}

// addClass records cl and returns the classes seen so far, sorted and
// comma-separated.
func (in *incident) addClass(cl string) string {
	if !slices.Contains(in.classes, cl) && len(in.classes) < maxClasses {
		in.classes = append(in.classes, cl)
		slices.Sort(in.classes)
	}
	return strings.Join(in.classes, ",")
}

// addHash records a value hash and returns the distinct count as text.
func (in *incident) addHash(h string) string {
	if h != "" && len(in.hashes) < maxDistinct {
		if in.hashes == nil {
			in.hashes = make(map[string]struct{}, 1)
		}
		in.hashes[h] = struct{}{}
	}
	if len(in.hashes) >= maxDistinct {
		return strconv.Itoa(maxDistinct) + "+"
	}
	return strconv.Itoa(len(in.hashes))
}

// query returns the incident's investigation query, building it on first
// use; in may be nil (untracked incident).
func (in *incident) cachedQuery(build func() string) string {
	if in == nil {
		return build()
	}
	if in.query == "" {
		in.query = build()
	}
	return in.query
}

// incidents holds the open incidents by finding id. Entries of windows
// older than the previous one are dropped when a new window starts (events
// arrive in event-time order, give or take the runner's reorder buffer), and
// at most max entries are kept: beyond that, new incidents are reported
// without running totals. Memory is therefore bounded by max entries of
// about 200 bytes plus up to maxDistinct 16-byte hashes each.
type incidents struct {
	max    int
	window int64
	maxWS  int64
	m      map[string]*incident
}

func newIncidents(max int, window int64) *incidents {
	return &incidents{max: max, window: window, m: make(map[string]*incident)}
}

// get returns the incident with id in the window starting at ws, creating
// it; nil when the table is full.
func (s *incidents) get(id string, ws int64) *incident {
	if ws > s.maxWS {
		s.maxWS = ws
		s.prune(ws - s.window)
	}
	if in, ok := s.m[id]; ok {
		return in
	}
	if len(s.m) >= s.max {
		s.prune(s.maxWS)
		if len(s.m) >= s.max {
			return nil
		}
	}
	in := &incident{ws: ws}
	s.m[id] = in
	return in
}

// prune drops incidents of windows starting before oldest.
func (s *incidents) prune(oldest int64) {
	for id, in := range s.m {
		if in.ws < oldest {
			delete(s.m, id)
		}
	}
}

// dupKey identifies one statement execution across the CockroachDB
// channels that log it: SQL_EXEC (query_execute), SENSITIVE_ACCESS
// (sensitive_table_access) and TELEMETRY (sampled_query) each write their
// own entry with the same node, principal, connection and timestamp.
type dupKey struct {
	node, user, addr string
	port             int
	t                int64
	fp               uint64
}

// dedupSize is the number of recent executions remembered (about 100
// bytes each). The copies of one execution reach the detector within the
// runner's reorder window, a few thousand events at most, and only events
// relevant to RW-CRYPTO-001/002 are recorded.
const dedupSize = 16384

// dedup recognises the second and later copies of a statement execution
// so they add evidence but neither count nor rows twice.
type dedup struct {
	max  int
	m    map[dupKey]int64 // rows already counted
	ring []dupKey
	next int
}

func newDedup(max int) *dedup { return &dedup{max: max, m: make(map[dupKey]int64)} }

// see records ev and reports whether it is the first copy of its
// execution, and how many rows it adds to what earlier copies reported
// (copies differ: telemetry logs rows read, others rows returned).
func (d *dedup) see(ev *event.Event) (first bool, rows int64) {
	if ev.Source != event.SourceCRDB || ev.FingerprintHash == 0 {
		return true, ev.Rows
	}
	k := dupKey{node: ev.Node, user: ev.User, addr: ev.ClientAddr, port: ev.ClientPort, t: ev.Time, fp: ev.FingerprintHash}
	if counted, ok := d.m[k]; ok {
		if ev.Rows > counted {
			d.m[k] = ev.Rows
			return false, ev.Rows - counted
		}
		return false, 0
	}
	if len(d.ring) < d.max {
		d.ring = append(d.ring, k)
	} else {
		delete(d.m, d.ring[d.next])
		d.ring[d.next] = k
		d.next = (d.next + 1) % d.max
	}
	d.m[k] = ev.Rows
	return true, ev.Rows
}

// hostOf names the machine that wrote ev: the CockroachDB node or Django
// host, else (Django logs rarely name their host) the last two elements of
// the log file's path, e.g. "django/app.log", which stay the same when the
// same logs are replayed from another directory.
func hostOf(ev *event.Event) string {
	if ev.Node != "" {
		return ev.Node
	}
	f := ev.Origin.File
	if f == "" {
		return ""
	}
	if i := strings.LastIndexByte(f, '/'); i >= 0 {
		if j := strings.LastIndexByte(f[:i], '/'); j >= 0 {
			return f[j+1:]
		}
	}
	return f
}
