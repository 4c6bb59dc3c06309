package stream

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
)

// metrics of the streaming analyzer. Labels are bounded: partition
// numbers, sink names, rule ids and severities.
type metrics struct {
	lag             *prometheus.GaugeVec   // messages behind the partition's end, at the last fetch
	committed       *prometheus.GaugeVec   // last committed offset
	events          prometheus.Counter     // events acknowledged by every sink
	undecodable     prometheus.Counter     // messages that held no readable event
	dlq             *prometheus.CounterVec // rejects acknowledged by the DLQ topic, by reason
	findings        *prometheus.CounterVec // finding versions acknowledged, by rule and severity
	batchLatency    prometheus.Histogram   // seal -> every sink acknowledged
	batchSize       prometheus.Histogram
	inFlight        prometheus.Gauge
	sinkErrors      *prometheus.CounterVec
	commitFailures  prometheus.Counter
	snapshots       prometheus.Counter
	snapshotBytes   prometheus.Histogram
	restores        *prometheus.CounterVec // by outcome: snapshot, empty, failed
	replayed        prometheus.Counter     // messages replayed into state only (below the committed offset)
	lateEvents      prometheus.Counter
	rebalances      prometheus.Counter
	assigned        prometheus.Gauge
	endToEndLatency prometheus.Histogram // produce time (message timestamp) -> batch acknowledged
}

func newMetrics(reg prometheus.Registerer) *metrics {
	f := promauto.With(reg)
	return &metrics{
		lag: f.NewGaugeVec(prometheus.GaugeOpts{Name: "roachwatch_stream_consumer_lag_messages",
			Help: "Messages between the last fetched offset and the partition's high-water mark."}, []string{"partition"}),
		committed: f.NewGaugeVec(prometheus.GaugeOpts{Name: "roachwatch_stream_committed_offset",
			Help: "Last offset committed for the partition (the next to read)."}, []string{"partition"}),
		events: f.NewCounter(prometheus.CounterOpts{Name: "roachwatch_stream_events_total",
			Help: "Events acknowledged by every sink."}),
		undecodable: f.NewCounter(prometheus.CounterOpts{Name: "roachwatch_stream_undecodable_messages_total",
			Help: "Messages on the events topic that hold no usable event (diverted to the DLQ topic and committed past)."}),
		dlq: f.NewCounterVec(prometheus.CounterOpts{Name: "roachwatch_stream_dlq_messages_total",
			Help: "Undecodable messages written to the DLQ topic (with reason and source position), by reason."}, []string{"reason"}),
		findings: f.NewCounterVec(prometheus.CounterOpts{Name: "roachwatch_stream_findings_total",
			Help: "Finding versions acknowledged by every sink."}, []string{"rule", "severity"}),
		batchLatency: f.NewHistogram(prometheus.HistogramOpts{Name: "roachwatch_stream_batch_latency_seconds",
			Help: "Time from sealing a batch to its acknowledgement by every sink.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 16)}),
		batchSize: f.NewHistogram(prometheus.HistogramOpts{Name: "roachwatch_stream_batch_messages",
			Help: "Messages per batch.", Buckets: prometheus.ExponentialBuckets(1, 4, 9)}),
		inFlight: f.NewGauge(prometheus.GaugeOpts{Name: "roachwatch_stream_batches_in_flight",
			Help: "Batches handed to the sinks and not yet acknowledged."}),
		sinkErrors: f.NewCounterVec(prometheus.CounterOpts{Name: "roachwatch_stream_sink_errors_total",
			Help: "Failed sink writes (each is retried)."}, []string{"sink"}),
		commitFailures: f.NewCounter(prometheus.CounterOpts{Name: "roachwatch_stream_commit_failures_total",
			Help: "Offset commits the group coordinator refused or that failed."}),
		snapshots: f.NewCounter(prometheus.CounterOpts{Name: "roachwatch_stream_state_snapshots_total",
			Help: "Partition state snapshots written to the state store."}),
		snapshotBytes: f.NewHistogram(prometheus.HistogramOpts{Name: "roachwatch_stream_state_snapshot_bytes",
			Help: "Size of partition state snapshots.", Buckets: prometheus.ExponentialBuckets(256, 4, 10)}),
		restores: f.NewCounterVec(prometheus.CounterOpts{Name: "roachwatch_stream_state_restores_total",
			Help: "Partition assignments by how their state was obtained."}, []string{"outcome"}),
		replayed: f.NewCounter(prometheus.CounterOpts{Name: "roachwatch_stream_replayed_messages_total",
			Help: "Messages below the committed offset replayed into detector state only."}),
		lateEvents: f.NewCounter(prometheus.CounterOpts{Name: "roachwatch_stream_late_events_total",
			Help: "Events that arrived behind the reorder watermark."}),
		rebalances: f.NewCounter(prometheus.CounterOpts{Name: "roachwatch_stream_generations_total",
			Help: "Consumer group generations joined."}),
		assigned: f.NewGauge(prometheus.GaugeOpts{Name: "roachwatch_stream_assigned_partitions",
			Help: "Partitions assigned in the current generation."}),
		endToEndLatency: f.NewHistogram(prometheus.HistogramOpts{Name: "roachwatch_stream_end_to_end_latency_seconds",
			Help: "From the message's produce timestamp to the acknowledgement of its batch by every sink.", Buckets: prometheus.ExponentialBuckets(0.005, 1.5, 20)}),
	}
}

func partLabel(p int) string { return strconv.Itoa(p) }

// Serve serves /metrics from g and /healthz on addr until ctx ends. It is
// the fallback until a shared metrics server exists; healthy reports
// readiness for /healthz (nil: always healthy).
func Serve(ctx context.Context, addr string, g prometheus.Gatherer, healthy func() error) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		if healthy != nil {
			if err := healthy(); err != nil {
				http.Error(w, err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	// Owner: this function; exit: Shutdown below when ctx ends.
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	if e := <-done; !errors.Is(e, http.ErrServerClosed) {
		err = errors.Join(err, e)
	}
	return err
}

// summary logs, at the end of Run, what a benchmark needs: events and
// rejects acknowledged, and the batch and end-to-end latency quantiles
// (estimated from the histograms' buckets).
func (m *metrics) summary(log *slog.Logger) {
	log.Info("streaming summary",
		"events", counterValue(m.events), "undecodable", counterValue(m.undecodable),
		"e2e_p50_s", quantile(m.endToEndLatency, 0.5), "e2e_p99_s", quantile(m.endToEndLatency, 0.99),
		"batch_p50_s", quantile(m.batchLatency, 0.5), "batch_p99_s", quantile(m.batchLatency, 0.99))
}

func counterValue(c prometheus.Counter) float64 {
	var d dto.Metric
	if c.Write(&d) != nil {
		return 0
	}
	return d.GetCounter().GetValue()
}

// quantile estimates the q-quantile of h by linear interpolation inside
// the bucket that holds it (as PromQL's histogram_quantile does); 0 for
// an empty histogram, the largest finite bound when it lies beyond.
func quantile(h prometheus.Histogram, q float64) float64 {
	var d dto.Metric
	if h.Write(&d) != nil || d.GetHistogram().GetSampleCount() == 0 {
		return 0
	}
	hist := d.GetHistogram()
	rank := q * float64(hist.GetSampleCount())
	lo, prev := 0.0, 0.0
	for _, b := range hist.GetBucket() {
		n := float64(b.GetCumulativeCount())
		if n >= rank {
			if n == prev {
				return b.GetUpperBound()
			}
			return lo + (b.GetUpperBound()-lo)*(rank-prev)/(n-prev)
		}
		lo, prev = b.GetUpperBound(), n
	}
	return lo
}
