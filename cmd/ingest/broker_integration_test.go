//go:build integration

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"roachwatch/internal/testenv/kafkaenv"
	"roachwatch/internal/testenv/testca"
	"roachwatch/pipeline/secret"
	"roachwatch/pipeline/transport/kafkatransport"
)

// ownBroker starts a second broker on non-default ports for the stop/start
// test; the shared one on the default ports is never stopped.
type ownBroker struct {
	run, plain string
	cmdline    []string
}

func startOwnBroker(t *testing.T) *ownBroker {
	t.Helper()
	kafkaenv.Broker(t) // skips without java / the shared broker
	b := &ownBroker{run: "/tmp/rw-kafka-ingest", plain: "127.0.0.1:29092"}
	cmd := exec.Command("bash", "../../scripts/kafka.sh", "start")
	cmd.Env = append(os.Environ(), "KAFKA_PLAIN_PORT=29092", "KAFKA_SASL_PORT=29093", "KAFKA_CONTROLLER_PORT=29094", "ROACHWATCH_RUN="+b.run)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	t.Cleanup(func() {
		c := exec.Command("bash", "../../scripts/kafka.sh", "stop")
		c.Env = append(os.Environ(), "ROACHWATCH_RUN="+b.run, "KAFKA_PLAIN_PORT=29092", "KAFKA_SASL_PORT=29093", "KAFKA_CONTROLLER_PORT=29094")
		_ = c.Run()
	})
	return b
}

func (b *ownBroker) pid(t *testing.T) int {
	s, err := os.ReadFile(filepath.Join(b.run, "kafka.pid"))
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(string(s)))
	require.NoError(t, err)
	return pid
}

// stop ends the broker (SIGTERM, clean shutdown) but keeps its data, so
// start brings the same topics back (kafka.sh start would format anew).
func (b *ownBroker) stop(t *testing.T) {
	pid := b.pid(t)
	cl, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	require.NoError(t, err)
	b.cmdline = strings.Split(strings.TrimRight(string(cl), "\x00"), "\x00")
	require.NoError(t, syscall.Kill(pid, syscall.SIGTERM))
	require.Eventually(t, func() bool { return syscall.Kill(pid, 0) != nil }, 60*time.Second, 100*time.Millisecond)
}

func (b *ownBroker) start(t *testing.T) {
	logf, err := os.OpenFile(filepath.Join(b.run, "broker.log"), os.O_APPEND|os.O_WRONLY, 0o600)
	require.NoError(t, err)
	defer logf.Close()
	cmd := exec.Command(b.cmdline[0], b.cmdline[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	require.NoError(t, cmd.Start())
	require.NoError(t, os.WriteFile(filepath.Join(b.run, "kafka.pid"), []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o600))
	go func() { _ = cmd.Wait() }()
	require.Eventually(t, func() bool {
		c, err := net.DialTimeout("tcp", b.plain, time.Second)
		if err == nil {
			_ = c.Close()
		}
		return err == nil
	}, 60*time.Second, 200*time.Millisecond)
}

// TestBrokerStopStart: the broker goes away during ingest and comes back;
// ingest retries with backoff and loses nothing.
func TestBrokerStopStart(t *testing.T) {
	b := startOwnBroker(t)
	dir := t.TempDir()
	prefix := topicPrefix(t)
	cfg := writeConfig(t, dir, b.plain, prefix, "")
	log := filepath.Join(dir, "app.log")
	var all strings.Builder
	n := 0
	write := func(k int) {
		var s strings.Builder
		for range k {
			s.WriteString(v2(n))
			n++
		}
		appendTo(t, log, s.String())
		all.WriteString(s.String())
	}
	write(300)
	p := startIngest(t, "run", "--config", cfg, "--input", log)
	time.Sleep(2 * time.Second)
	b.stop(t)
	for range 20 {
		write(50)
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(3 * time.Second) // several backoff rounds against a dead broker
	b.start(t)
	write(200)
	ids := idsOf(t, all.String())
	got := readTopic(t, b.plain, prefix+".events", len(ids), 3*time.Second, 120*time.Second, eventID)
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, p.wait(t, 60*time.Second), p.logs.String())
	missing := 0
	for _, id := range ids {
		if got[id] == 0 {
			missing++
		}
	}
	require.Zero(t, missing, "lost across the broker restart; logs:\n%s", p.logs.String())
	require.Contains(t, p.logs.String(), "kafka write failed; retrying with backoff")
}

// TestTLSSCRAM: the SASL_SSL listener accepts the right CA and password
// and refuses the wrong ones with an error naming the cause.
func TestTLSSCRAM(t *testing.T) {
	env := kafkaenv.Broker(t)
	prefix := topicPrefix(t)
	base := kafkatransport.DefaultConfig()
	base.Brokers = []string{env.SASL}
	base.Topics = kafkatransport.TopicsConfig{Events: prefix + ".events", DLQ: prefix + ".dlq", Alerts: prefix + ".alerts",
		State: prefix + ".state", Partitions: 1, ReplicationFactor: 1, Create: true}
	base.TLS = kafkatransport.TLSConfig{Enabled: true, CAFile: env.CA, ServerName: kafkaenv.TLSServerName}
	base.SASL = kafkatransport.SASLConfig{Mechanism: "SCRAM-SHA-512", Username: env.User, Password: secret.String(env.Password)}
	log := slog.New(slog.DiscardHandler)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	require.NoError(t, kafkatransport.EnsureTopics(ctx, base, log))

	wrongPW := base
	wrongPW.SASL.Password = "not-the-password"
	err := kafkatransport.EnsureTopics(ctx, wrongPW, log)
	require.Error(t, err)
	require.Contains(t, err.Error(), "SASL Authentication Failed")
	require.NotContains(t, err.Error(), "not-the-password")

	wrongCA := base
	wrongCA.TLS.CAFile = testca.UnrelatedCA(t, "not the broker's CA")
	err = kafkatransport.EnsureTopics(ctx, wrongCA, log)
	require.Error(t, err)
	require.Contains(t, err.Error(), "certificate signed by unknown authority")
	t.Logf("wrong CA: %v", err)

	// Produce through the secured listener and read it back.
	enc := &kafkatransport.Encoder{Topics: base.Topics, MaxMessageBytes: 1 << 20, HashKey: []byte("k")}
	prod, err := kafkatransport.NewProducer(base, enc, kafkatransport.NewProducerMetrics(nil), log)
	require.NoError(t, err)
	in := make(chan kafkatransport.Batch, 1)
	acked := make(chan struct{})
	in <- kafkatransport.Batch{Msgs: []kafka.Message{{Topic: base.Topics.Events, Key: []byte("k"), Value: []byte(`{"id":"tls-1"}`)}}, Done: func() { close(acked) }}
	close(in)
	require.NoError(t, prod.Run(ctx, in))
	<-acked
	require.NoError(t, prod.Close())
}

// TestMalformedToDLQ: bad lines reach the DLQ with reason, position and a
// keyed hash (never the raw line); the good lines around them are
// produced; the run goes on; /metrics counts them.
func TestMalformedToDLQ(t *testing.T) {
	env := kafkaenv.Broker(t)
	dir := t.TempDir()
	prefix := topicPrefix(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	cfg := writeConfig(t, dir, env.Plain, prefix, "")
	b, err := os.ReadFile(cfg)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(cfg, bytes.Replace(b, []byte(`metrics_listen: ""`), []byte(`metrics_listen: "`+addr+`"`), 1), 0o600))

	log := filepath.Join(dir, "app.log")
	var good strings.Builder
	var text strings.Builder
	for n := range 30 {
		good.WriteString(v2(n))
		text.WriteString(v2(n))
		if n%10 == 5 {
			text.WriteString("garbage line with password=hunter2 " + strconv.Itoa(n) + "\n")
		}
	}
	appendTo(t, log, text.String())
	p := startIngest(t, "run", "--config", cfg, "--input", log)
	ids := idsOf(t, good.String())
	got := readTopic(t, env.Plain, prefix+".events", len(ids), time.Second, 60*time.Second, eventID)
	for _, id := range ids {
		require.Equal(t, 1, got[id])
	}
	var recs []kafkatransport.DLQRecord
	readTopic(t, env.Plain, prefix+".dlq", 3, time.Second, 60*time.Second, func(m kafka.Message) string {
		require.NotContains(t, string(m.Value), "hunter2", "raw line in the DLQ without keep_raw")
		var r kafkatransport.DLQRecord
		require.NoError(t, json.Unmarshal(m.Value, &r))
		recs = append(recs, r)
		return fmt.Sprint(r.Offset)
	})
	require.Len(t, recs, 3)
	for _, r := range recs {
		require.Equal(t, "no_prefix", r.Reason)
		require.Equal(t, log, r.File)
		require.NotEmpty(t, r.LineHash)
		require.Empty(t, r.Line)
	}
	require.Eventually(t, func() bool {
		return testutil.ScrapeAndCompare("http://"+addr+"/metrics", strings.NewReader(`
# HELP roachwatch_producer_dlq_total DLQ records acknowledged by Kafka, by reason.
# TYPE roachwatch_producer_dlq_total counter
roachwatch_producer_dlq_total{reason="no_prefix"} 3
# HELP roachwatch_tail_parse_errors_total Lines or entries that could not be parsed (sent to the DLQ), by reason.
# TYPE roachwatch_tail_parse_errors_total counter
roachwatch_tail_parse_errors_total{reason="no_prefix",source="crdb-v2"} 3
`), "roachwatch_producer_dlq_total", "roachwatch_tail_parse_errors_total") == nil
	}, 10*time.Second, 200*time.Millisecond)
	resp, err := http.Get("http://" + addr + "/healthz")
	require.NoError(t, err)
	require.Equal(t, 200, resp.StatusCode)
	_ = resp.Body.Close()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, p.wait(t, 30*time.Second), p.logs.String())
}
