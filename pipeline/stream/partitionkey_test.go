package stream_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"roachwatch/detectors"
	"roachwatch/internal/config"
	"roachwatch/pipeline/event"
	"roachwatch/pipeline/loggen"
	"roachwatch/pipeline/stream/streamtest"
	"roachwatch/pipeline/transport/kafkatransport"
)

// sprayFixture is loggen's output (seed 1, 1 day, 3000 entries/day) plus a
// password-spraying burst (sprayLogs) in dir, the events decoded from it
// in event-time order and the embedded run's findings over them.
type sprayFixture struct {
	dir      string
	cfg      config.Config
	events   []event.Event
	embedded []detectors.Finding
}

// sprayAddr is the address the spraying comes from (TEST-NET-1).
const sprayAddr = "192.0.2.66"

// loadSprayFixture writes the logs into a fresh t.TempDir (loggen is
// deterministic; it takes a fraction of a second).
func loadSprayFixture(t *testing.T) sprayFixture {
	t.Helper()
	f := sprayFixture{dir: t.TempDir(), cfg: config.Default()}
	lc := loggen.DefaultConfig()
	lc.Out, lc.Seed, lc.Days, lc.Rate = f.dir, 1, 1, 3000
	truth, err := loggen.Generate(lc)
	require.NoError(t, err)
	require.NoError(t, sprayLogs(f.dir, truth))
	f.cfg.Redaction.Key = "stream-test-key-0123456789"
	f.events, err = streamtest.Decode(context.Background(), f.cfg, f.dir)
	require.NoError(t, err)
	f.embedded, err = streamtest.Embedded(f.cfg, f.events)
	require.NoError(t, err)
	return f
}

var sessionRE = regexp.MustCompile(`"SessionID":"([0-9a-f]+)"`)

// sprayLogs adds password spraying to loggen's output, which plants brute
// force against one user but no spraying: it copies the failed connections
// of the planted brute-force burst (CockroachDB log lines, with the file's
// header) into a file of their own, from sprayAddr instead and each for
// another user (spray01, spray02, ...): many users from one address.
func sprayLogs(dir string, truth *loggen.Truth) error {
	var bf *loggen.Incident
	for _, inc := range truth.Incidents {
		if inc.Category == "brute_force" && !inc.Lookalike {
			bf = inc
		}
	}
	if bf == nil {
		return fmt.Errorf("loggen planted no brute force")
	}
	files, err := filepath.Glob(filepath.Join(dir, "crdb", fmt.Sprintf("node%d", bf.Node), "logs", "cockroach-sql-auth.*.log"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no SESSIONS log of node %d: %v", bf.Node, err)
	}
	var header []string
	sessions := map[string][]string{} // session id -> its lines
	var order []string
	failed := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			if i < 20 && strings.Contains(line, "[config]") && f == files[0] {
				header = append(header, line)
				continue
			}
			m := sessionRE.FindStringSubmatch(line)
			if m == nil || !strings.Contains(line, bf.Principal.ClientAddr+":") {
				continue
			}
			if _, ok := sessions[m[1]]; !ok {
				order = append(order, m[1])
			}
			sessions[m[1]] = append(sessions[m[1]], line)
			if strings.Contains(line, `"EventType":"client_authentication_failed"`) {
				failed[m[1]] = true
			}
		}
	}
	out := slices.Clone(header)
	n := 0
	for _, sid := range order {
		if !failed[sid] {
			continue // the successful login after the burst, and unrelated sessions
		}
		n++
		r := strings.NewReplacer(bf.Principal.ClientAddr+":", sprayAddr+":", bf.Principal.User, fmt.Sprintf("spray%02d", n),
			sid, sid[:len(sid)-4]+"5a5a")
		for _, line := range sessions[sid] {
			out = append(out, r.Replace(line))
		}
	}
	if n < 12 {
		return fmt.Errorf("only %d failed connections in the brute-force burst", n)
	}
	sd := filepath.Join(dir, "crdb", "spray", "logs")
	if err := os.MkdirAll(sd, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(sd, filepath.Base(files[0])), []byte(strings.Join(out, "\n")+"\n"), 0o644)
}

// splitByKey puts evs into n partitions as ingest's producer does (the
// message key of partitionKey, kafka.Hash), each in its original order.
func splitByKey(evs []event.Event, partitionKey string, n int) [][]event.Event {
	parts := make([]int, n)
	for i := range parts {
		parts[i] = i
	}
	out := make([][]event.Event, n)
	var h kafka.Hash
	for i := range evs {
		p := h.Balance(kafka.Message{Key: kafkatransport.KeyFor(partitionKey, &evs[i])}, parts...)
		out[p] = append(out[p], evs[i])
	}
	return out
}

// partitionedFindings runs one engine per partition of splitByKey, as
// streaming analyze does, and returns every finding by id.
func partitionedFindings(t *testing.T, cfg config.Config, evs []event.Event, partitionKey string, n int) map[string]detectors.Finding {
	t.Helper()
	got := map[string]detectors.Finding{}
	for _, part := range splitByKey(evs, partitionKey, n) {
		fs, err := streamtest.Embedded(cfg, part)
		require.NoError(t, err)
		for _, f := range fs {
			require.NotContains(t, got, f.ID, "one incident found in two partitions")
			got[f.ID] = f
		}
	}
	return got
}

// isSpraying tells RW-AUTH-001's spraying findings (many users from one
// address) from its other patterns.
func isSpraying(f detectors.Finding) bool {
	return f.RuleID == "RW-AUTH-001" && strings.HasPrefix(f.Details["pattern"], "password spraying")
}

// requireCrossPrincipal checks that the findings hold what this test is
// about: spraying from sprayAddr and the planted audit silence.
func requireCrossPrincipal(t *testing.T, fs map[string]detectors.Finding) {
	t.Helper()
	var spraying, audit int
	for _, f := range fs {
		if isSpraying(f) && f.Principal.ClientAddr == sprayAddr {
			spraying++
		}
		if f.RuleID == "RW-AUDIT-001" {
			audit++
		}
	}
	require.Equal(t, 1, spraying, "one spraying finding from %s", sprayAddr)
	require.Positive(t, audit, "RW-AUDIT-001 findings")
}

// differingRules lists the rules whose findings in got are not exactly
// want's (missing, extra or different).
func differingRules(want, got map[string]detectors.Finding) []string {
	differ := map[string]bool{}
	for id, w := range want {
		a, _ := json.Marshal(w)
		b, _ := json.Marshal(got[id])
		if string(a) != string(b) {
			differ[w.RuleID] = true
		}
	}
	for id, g := range got {
		if _, ok := want[id]; !ok {
			differ[g.RuleID] = true
		}
	}
	out := make([]string, 0, len(differ))
	for r := range differ {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// Without a broker: split the events over 6 partitions as the producer
// would and run one engine per partition. Keyed by cluster, the findings
// are exactly the embedded run's, cross-principal rules included; keyed by
// principal (the default), spraying and the audit silence are split
// across partitions and differ — which is what makes the cluster key
// worth having, and shows this comparison can fail.
func TestPartitionKeySplitFindings(t *testing.T) {
	f := loadSprayFixture(t)
	want := byID(f.embedded)
	requireCrossPrincipal(t, want)

	got := partitionedFindings(t, f.cfg, f.events, kafkatransport.PartitionKeyCluster, 6)
	require.Empty(t, differingRules(want, got), "partition_key cluster: findings differ from the embedded run")

	got = partitionedFindings(t, f.cfg, f.events, kafkatransport.PartitionKeyPrincipal, 6)
	differ := differingRules(want, got)
	t.Logf("partition_key principal, 6 partitions: rules that differ from the embedded run: %v", differ)
	require.Contains(t, differ, "RW-AUTH-001", "spraying over 20 users must not survive a split by principal")
	require.Contains(t, differ, "RW-AUDIT-001")
}

// byID indexes findings by id.
func byID(fs []detectors.Finding) map[string]detectors.Finding {
	out := make(map[string]detectors.Finding, len(fs))
	for _, f := range fs {
		out[f.ID] = f
	}
	return out
}
