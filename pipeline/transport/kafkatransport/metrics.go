package kafkatransport

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// ProducerMetrics are the producer's metrics (bounded labels only).
type ProducerMetrics struct {
	Produced  *prometheus.CounterVec // topic: events | dlq
	DLQ       *prometheus.CounterVec // reason
	Latency   prometheus.Histogram
	BatchSize prometheus.Histogram
	Retries   prometheus.Counter
	Errors    prometheus.Counter
}

// NewProducerMetrics registers the producer metrics with reg.
func NewProducerMetrics(reg prometheus.Registerer) *ProducerMetrics {
	f := promauto.With(reg)
	return &ProducerMetrics{
		Produced: f.NewCounterVec(prometheus.CounterOpts{Name: "roachwatch_producer_messages_total",
			Help: "Messages acknowledged by Kafka (RequireAll), by topic kind."}, []string{"topic"}),
		DLQ: f.NewCounterVec(prometheus.CounterOpts{Name: "roachwatch_producer_dlq_total",
			Help: "DLQ records acknowledged by Kafka, by reason."}, []string{"reason"}),
		Latency: f.NewHistogram(prometheus.HistogramOpts{Name: "roachwatch_producer_write_duration_seconds",
			Help: "Duration of one synchronous WriteMessages call.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 15)}),
		BatchSize: f.NewHistogram(prometheus.HistogramOpts{Name: "roachwatch_producer_batch_messages",
			Help: "Messages per WriteMessages call.", Buckets: prometheus.ExponentialBuckets(1, 4, 9)}),
		Retries: f.NewCounter(prometheus.CounterOpts{Name: "roachwatch_producer_retries_total",
			Help: "Write attempts repeated after a failure (with backoff)."}),
		Errors: f.NewCounter(prometheus.CounterOpts{Name: "roachwatch_producer_write_errors_total",
			Help: "WriteMessages calls that failed for at least one message."}),
	}
}
