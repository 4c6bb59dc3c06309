package alertsink

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Metrics of the alert router. Labels are bounded: kind is one of the four
// route kinds, severity one of five names, reason one of a few constants.
// Route names are deliberately not labels (they come from config, but
// stay out of series so that renaming a route does not orphan series).
type Metrics struct {
	Sent         *prometheus.CounterVec // kind, severity: delivered (2xx, Kafka ack, written)
	Failed       *prometheus.CounterVec // kind, severity: given up after retries or permanent errors
	Dropped      *prometheus.CounterVec // kind, severity: dropped from a full queue or at the Close deadline
	Retries      *prometheus.CounterVec // kind: retried attempts
	Deduplicated *prometheus.CounterVec // severity: versions not alerted (already alerted in the window)
	Silenced     *prometheus.CounterVec // severity: alerts muted by a silence
	Alerts       *prometheus.CounterVec // severity, reason: alerts decided (before fan-out)
	Queued       *prometheus.GaugeVec   // kind: alerts waiting in webhook/Slack queues
	Latency      *prometheus.HistogramVec
	Evictions    prometheus.Counter // dedup entries evicted by alerts.max_keys
}

// NewMetrics registers the router's metrics on reg (nil: a private
// registry, for tests and benchmarks).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	f := promauto.With(reg)
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return f.NewCounterVec(prometheus.CounterOpts{Name: "roachwatch_alerts_" + name, Help: help}, labels)
	}
	return &Metrics{
		Sent:         counter("sent_total", "Alerts delivered, by route kind and severity.", "kind", "severity"),
		Failed:       counter("failed_total", "Alerts given up on after retries or a permanent error, by route kind and severity.", "kind", "severity"),
		Dropped:      counter("dropped_total", "Alerts dropped from a full drop_oldest queue or still queued at the Close deadline.", "kind", "severity"),
		Retries:      counter("retries_total", "Delivery attempts repeated after a transient failure, by route kind.", "kind"),
		Deduplicated: counter("deduplicated_total", "Finding versions not alerted because their incident was alerted in the suppression window.", "severity"),
		Silenced:     counter("silenced_total", "Alerts muted by a configured silence.", "severity"),
		Alerts:       counter("decided_total", "Alerts decided before fan-out to routes, by severity and reason.", "severity", "reason"),
		Queued: f.NewGaugeVec(prometheus.GaugeOpts{Name: "roachwatch_alerts_queued",
			Help: "Alerts waiting in webhook and Slack route queues."}, []string{"kind"}),
		Latency: f.NewHistogramVec(prometheus.HistogramOpts{Name: "roachwatch_alerts_delivery_seconds",
			Help: "Time to deliver one alert (or batch, for Kafka), retries included.", Buckets: prometheus.ExponentialBuckets(0.001, 4, 10)},
			[]string{"kind"}),
		Evictions: f.NewCounter(prometheus.CounterOpts{Name: "roachwatch_alerts_dedup_evictions_total",
			Help: "Dedup entries evicted because alerts.max_keys was reached (may cause repeated alerts)."}),
	}
}
