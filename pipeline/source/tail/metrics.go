package tail

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Metrics are the tail's metrics. Labels are bounded: source is a format
// name ("crdb-v2", "django-text", ..., "unknown", "stdin-…"), reason a
// parse.Reason*; never a path.
type Metrics struct {
	LinesRead   *prometheus.CounterVec
	BytesRead   *prometheus.CounterVec
	Events      *prometheus.CounterVec
	ParseErrors *prometheus.CounterVec
	Truncations prometheus.Counter
	Rotations   prometheus.Counter
	FilesOpen   prometheus.Gauge
	Unacked     *prometheus.GaugeVec
	Flushes     prometheus.Counter
	// ShutdownFlushes counts held entries flushed at a graceful stop.
	ShutdownFlushes prometheus.Counter
}

// NewMetrics registers the tail metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	return &Metrics{
		LinesRead: f.NewCounterVec(prometheus.CounterOpts{Name: "roachwatch_tail_lines_read_total",
			Help: "Physical lines read from log files and stdin."}, []string{"source"}),
		BytesRead: f.NewCounterVec(prometheus.CounterOpts{Name: "roachwatch_tail_read_bytes_total",
			Help: "Bytes of complete lines read."}, []string{"source"}),
		Events: f.NewCounterVec(prometheus.CounterOpts{Name: "roachwatch_tail_events_decoded_total",
			Help: "Events decoded (multi-line entries reassembled)."}, []string{"source"}),
		ParseErrors: f.NewCounterVec(prometheus.CounterOpts{Name: "roachwatch_tail_parse_errors_total",
			Help: "Lines or entries that could not be parsed (sent to the DLQ), by reason."}, []string{"source", "reason"}),
		Truncations: f.NewCounter(prometheus.CounterOpts{Name: "roachwatch_tail_truncations_total",
			Help: "Files found truncated (copytruncate or rewritten); reading restarted at offset 0."}),
		Rotations: f.NewCounter(prometheus.CounterOpts{Name: "roachwatch_tail_rotations_total",
			Help: "Files whose path moved to another file (rename rotation) or disappeared."}),
		FilesOpen: f.NewGauge(prometheus.GaugeOpts{Name: "roachwatch_tail_files_open",
			Help: "Files currently open for tailing."}),
		Unacked: f.NewGaugeVec(prometheus.GaugeOpts{Name: "roachwatch_tail_unacked_bytes",
			Help: "Bytes read but not yet acknowledged by Kafka (checkpoint lag)."}, []string{"source"}),
		Flushes: f.NewCounter(prometheus.CounterOpts{Name: "roachwatch_tail_multiline_flushes_total",
			Help: "Held multi-line entries flushed after multiline_wait without new data."}),
		ShutdownFlushes: f.NewCounter(prometheus.CounterOpts{Name: "roachwatch_tail_shutdown_flushes_total",
			Help: "Held multi-line entries flushed at a graceful shutdown (SIGINT/SIGTERM)."}),
	}
}
