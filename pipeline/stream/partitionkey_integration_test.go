//go:build integration

package stream_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roachwatch/detectors"
	"roachwatch/internal/testenv/kafkaenv"
	"roachwatch/pipeline/transport/kafkatransport"
)

// buildIngest builds cmd/ingest into a temporary directory.
func buildIngest(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ingest")
	out, err := exec.Command("go", "build", "-o", bin, "roachwatch/cmd/ingest").CombinedOutput()
	require.NoError(t, err, "go build ./cmd/ingest:\n%s", out)
	return bin
}

// ingestImport runs `ingest import` over dir into kc's topics, with kc's
// brokers, topics and partition key and the fixture's redaction key.
func ingestImport(t *testing.T, kc kafkatransport.Config, redactionKey, dir string) {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "ingest.yaml")
	require.NoError(t, os.WriteFile(cfg, fmt.Appendf(nil, `kafka:
  brokers: [%q]
  tls:
    enabled: false
  topics:
    events: %s
    dlq: %s
    alerts: %s
    state: %s
    partitions: %d
    replication_factor: 1
  producer:
    compression: lz4
    partition_key: %s
    # Several partitions written at once and small batches, so that any
    # reordering within a partition (import's batches span hours of event
    # time, far beyond stream.reorder_lateness) would change the findings.
    max_in_flight: 4
    batch_size: 200
ingest:
  metrics_listen: ""
redaction:
  key: %q
`, kc.Brokers[0], kc.Topics.Events, kc.Topics.DLQ, kc.Topics.Alerts, kc.Topics.State, kc.Topics.Partitions,
		kc.Producer.PartitionKey, redactionKey), 0o600))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, buildIngest(t), "import", "--config", cfg, "--input", dir)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "ingest import:\n%s", out)
}

// loggen's logs plus a spraying burst go through the real `ingest import`
// with kafka.producer.partition_key: cluster into a 6-partition topic;
// streaming analyze's findings are exactly the embedded run's over the
// same files, cross-principal rules (RW-AUTH-001 spraying, RW-AUDIT-001)
// included. TestEndToEndMatchesEmbedded shows what the default key
// (principal) gives on 6 partitions, TestPartitionKeySplitFindings that
// it loses the spraying on these events.
func TestClusterKeyMatchesEmbedded(t *testing.T) {
	env := kafkaenv.Broker(t)
	sf := loadSprayFixture(t)
	want := byID(sf.embedded)
	requireCrossPrincipal(t, want)

	const parts = 6
	kc := kafkaConfig(t, env, parts)
	kc.Producer.PartitionKey = kafkatransport.PartitionKeyCluster
	ingestImport(t, kc, sf.cfg.Redaction.Key.Reveal(), sf.dir)

	// Every cluster's events are in one partition: the ones kafka.Hash
	// gives the cluster keys, and no other.
	wantParts := map[int]int64{}
	for p, evs := range splitByKey(sf.events, kafkatransport.PartitionKeyCluster, parts) {
		if len(evs) > 0 {
			wantParts[p] = int64(len(evs))
		}
	}
	cl, err := kc.NewClient()
	require.NoError(t, err)
	var ends map[int]int64
	require.EventuallyWithT(t, func(c *assert.CollectT) { // the new topic's metadata may lag
		var e error
		_, ends, e = kafkatransport.PartitionEnds(context.Background(), cl, kc.Topics.Events, []int{0, 1, 2, 3, 4, 5})
		assert.NoError(c, e)
	}, 30*time.Second, 200*time.Millisecond)
	gotParts := map[int]int64{}
	for p, end := range ends {
		if end > 0 {
			gotParts[p] = end
		}
	}
	require.Equal(t, wantParts, gotParts, "messages per partition with partition_key cluster")
	t.Logf("%d events in partitions %v", len(sf.events), gotParts)

	m := newMember(t, fixture{cfg: sf.cfg, events: sf.events, embedded: sf.embedded}, kc)
	runUntilDrained(t, m)
	require.Zero(t, checkEvents(t, sf.events, m.events), "no duplicates without crashes")
	got := lastVersions(readLines[detectors.Finding](t, m.findings))
	requireCrossPrincipal(t, got)
	require.Equal(t, jsonOf(t, want), jsonOf(t, got), "findings differ from the embedded run")
}
