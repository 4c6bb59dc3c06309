package alertsink

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/segmentio/kafka-go"

	"roachwatch/pipeline/transport/kafkatransport"
)

// kafkaRoute writes alerts to a topic: value = alert JSON, key = incident
// key (kafka.Hash puts a key on one partition, so a key's alerts keep
// their order), RequireAll, synchronous. accept returns nil only when
// every in-sync replica has every alert of the call.
//
// With kafka.topics.create the route creates its topic before the first
// write when it is missing (kafka.topics.partitions and
// replication_factor), since kafka.topics.create only covers the topics
// the kafka section names.
type kafkaRoute struct {
	w       *kafka.Writer
	topic   string
	m       *Metrics
	kc      kafkatransport.Config
	tr      *kafka.Transport
	ensured bool // guarded by the route order lock
}

func newKafkaRoute(rc RouteConfig, kc kafkatransport.Config, m *Metrics) (*kafkaRoute, error) {
	tr, err := kc.Transport()
	if err != nil {
		return nil, err
	}
	w := &kafka.Writer{
		Addr:         kafka.TCP(kc.Brokers...),
		Topic:        rc.Topic,
		Balancer:     &kafka.Hash{},
		RequiredAcks: kafka.RequireAll,
		BatchSize:    1000,
		BatchTimeout: 2 * time.Millisecond, // a synchronous write waits for its partial batch
		WriteTimeout: rc.Timeout,
		MaxAttempts:  max(rc.MaxRetries, 0) + 1,
		Transport:    tr,
	}
	return &kafkaRoute{w: w, topic: rc.Topic, m: m, kc: kc, tr: tr}, nil
}

// ensure creates the topic when it is missing and topic creation is on.
func (k *kafkaRoute) ensure(ctx context.Context) error {
	if k.ensured || !k.kc.Topics.Create {
		return nil
	}
	client := &kafka.Client{Addr: k.w.Addr, Transport: k.tr, Timeout: 15 * time.Second}
	res, err := client.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{
		Topic: k.topic, NumPartitions: k.kc.Topics.Partitions, ReplicationFactor: k.kc.Topics.ReplicationFactor}}})
	if err != nil {
		return fmt.Errorf("creating topic %s: %w", k.topic, err)
	}
	if err := res.Errors[k.topic]; err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
		return fmt.Errorf("creating topic %s: %w", k.topic, err)
	}
	k.ensured = true
	return nil
}

func (k *kafkaRoute) accept(ctx context.Context, as []*Alert) error {
	if err := k.ensure(ctx); err != nil {
		return err
	}
	msgs := make([]kafka.Message, len(as))
	for i, a := range as {
		v, err := json.Marshal(a)
		if err != nil {
			return fmt.Errorf("encoding alert %s: %w", a.ID, err)
		}
		msgs[i] = kafka.Message{Key: []byte(a.IncidentKey), Value: v, Headers: []kafka.Header{
			{Key: "rw-rule", Value: []byte(a.RuleID)}, {Key: "rw-severity", Value: []byte(a.Severity.String())}}}
	}
	start := time.Now()
	err := k.w.WriteMessages(ctx, msgs...)
	k.m.Latency.WithLabelValues(KindKafka).Observe(time.Since(start).Seconds())
	if err != nil {
		// Whole call or error: even when kafka.WriteErrors says only some
		// failed, the caller retries all of them; consumers drop repeats
		// by alert id.
		for _, a := range as {
			k.m.Failed.WithLabelValues(KindKafka, a.Severity.String()).Inc()
		}
		return fmt.Errorf("writing %d alerts to %s: %w", len(as), k.topic, err)
	}
	for _, a := range as {
		k.m.Sent.WithLabelValues(KindKafka, a.Severity.String()).Inc()
	}
	return nil
}

func (k *kafkaRoute) close(context.Context) error { return k.w.Close() }

// writerRoute writes one JSON line per alert (stdout). accept returns
// once the lines are written and flushed to w.
type writerRoute struct {
	bw  *bufio.Writer
	enc *json.Encoder
	m   *Metrics
}

func newWriterRoute(w io.Writer, m *Metrics) *writerRoute {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	return &writerRoute{bw: bw, enc: enc, m: m}
}

func (s *writerRoute) accept(_ context.Context, as []*Alert) error {
	for _, a := range as {
		if err := s.enc.Encode(a); err != nil {
			return fmt.Errorf("writing alert: %w", err)
		}
	}
	if err := s.bw.Flush(); err != nil {
		return fmt.Errorf("writing alerts: %w", err)
	}
	for _, a := range as {
		s.m.Sent.WithLabelValues(KindStdout, a.Severity.String()).Inc()
	}
	return nil
}

func (s *writerRoute) close(context.Context) error { return s.bw.Flush() }
