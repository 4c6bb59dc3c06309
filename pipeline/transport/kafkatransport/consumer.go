package kafkatransport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/segmentio/kafka-go"
)

// ConsumerGroupConfig returns the kafka-go consumer-group settings of
// analyze for topic: explicit generations (the caller reads partitions
// itself and commits with Generation.CommitOffsets, never auto-commit),
// first offset for partitions the group has never committed.
func (c Config) ConsumerGroupConfig(topic string, log *slog.Logger) (kafka.ConsumerGroupConfig, error) {
	d, err := c.Dialer()
	if err != nil {
		return kafka.ConsumerGroupConfig{}, err
	}
	cc := c.Consumer
	g := kafka.ConsumerGroupConfig{
		ID:                cc.GroupID,
		Brokers:           c.Brokers,
		Dialer:            d,
		Topics:            []string{topic},
		HeartbeatInterval: cc.HeartbeatInterval,
		SessionTimeout:    cc.SessionTimeout,
		RebalanceTimeout:  cc.RebalanceTimeout,
		JoinGroupBackoff:  time.Second,
		StartOffset:       kafka.FirstOffset,
		Timeout:           10 * time.Second,
	}
	if log != nil {
		g.ErrorLogger = kafka.LoggerFunc(func(msg string, args ...any) {
			log.Warn("kafka consumer group", "detail", fmt.Sprintf(msg, args...))
		})
	}
	return g, nil
}

// NewPartitionReader returns a reader of one partition (no group: the
// group's generation owns assignment and commits) positioned at offset.
// Use FetchMessage only; the reader never commits.
func (c Config) NewPartitionReader(topic string, partition int, offset int64) (*kafka.Reader, error) {
	d, err := c.Dialer()
	if err != nil {
		return nil, err
	}
	cc := c.Consumer
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:        c.Brokers,
		Topic:          topic,
		Partition:      partition,
		Dialer:         d,
		MinBytes:       cc.MinBytes,
		MaxBytes:       cc.MaxBytes,
		MaxWait:        cc.MaxWait,
		QueueCapacity:  1000,
		ReadBackoffMin: 50 * time.Millisecond,
		ReadBackoffMax: time.Second,
	})
	if err := r.SetOffset(offset); err != nil {
		_ = r.Close()
		return nil, fmt.Errorf("positioning %s/%d at %d: %w", topic, partition, offset, err)
	}
	return r, nil
}

// NewClient returns an admin/metadata client on the configured transport.
func (c Config) NewClient() (*kafka.Client, error) {
	t, err := c.Transport()
	if err != nil {
		return nil, err
	}
	return &kafka.Client{Addr: kafka.TCP(c.Brokers...), Transport: t, Timeout: 15 * time.Second}, nil
}

// PartitionEnds returns the first and the next-to-be-written offset of
// each of topic's partitions.
func PartitionEnds(ctx context.Context, cl *kafka.Client, topic string, partitions []int) (first, end map[int]int64, err error) {
	reqs := make([]kafka.OffsetRequest, 0, 2*len(partitions))
	for _, p := range partitions {
		reqs = append(reqs, kafka.FirstOffsetOf(p), kafka.LastOffsetOf(p))
	}
	res, err := cl.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
	if err != nil {
		return nil, nil, fmt.Errorf("listing offsets of %s: %w", topic, err)
	}
	first, end = map[int]int64{}, map[int]int64{}
	for _, po := range res.Topics[topic] {
		if po.Error != nil {
			return nil, nil, fmt.Errorf("listing offsets of %s/%d: %w", topic, po.Partition, po.Error)
		}
		if po.FirstOffset >= 0 {
			first[po.Partition] = po.FirstOffset
		}
		if po.LastOffset >= 0 {
			end[po.Partition] = po.LastOffset
		}
	}
	return first, end, nil
}

// TopicSpec describes a topic analyze needs.
type TopicSpec struct {
	Name       string
	Partitions int
	Configs    map[string]string // e.g. cleanup.policy=compact
}

// EnsureConsumerTopics creates the topics that do not exist yet with the
// configured replication; existing topics are left alone.
func EnsureConsumerTopics(ctx context.Context, cl *kafka.Client, replication int, specs ...TopicSpec) error {
	req := &kafka.CreateTopicsRequest{}
	for _, s := range specs {
		tc := kafka.TopicConfig{Topic: s.Name, NumPartitions: s.Partitions, ReplicationFactor: replication}
		for k, v := range s.Configs {
			tc.ConfigEntries = append(tc.ConfigEntries, kafka.ConfigEntry{ConfigName: k, ConfigValue: v})
		}
		req.Topics = append(req.Topics, tc)
	}
	res, err := cl.CreateTopics(ctx, req)
	if err != nil {
		return fmt.Errorf("creating topics: %w", err)
	}
	var errs []error
	for name, e := range res.Errors {
		if e != nil && !errors.Is(e, kafka.TopicAlreadyExists) {
			errs = append(errs, fmt.Errorf("creating topic %s: %w", name, e))
		}
	}
	return errors.Join(errs...)
}

// StateTopicSpec is the compacted, single-partition topic holding detector
// state snapshots keyed by consumer group, events topic and partition.
// Messages may be large (baselines, the reorder buffer), hence the raised
// max.message.bytes.
func (c Config) StateTopicSpec() TopicSpec {
	return TopicSpec{Name: c.Topics.State, Partitions: 1, Configs: map[string]string{
		"cleanup.policy":            "compact",
		"max.message.bytes":         "67108864",
		"min.compaction.lag.ms":     "0",
		"segment.ms":                "3600000",
		"min.cleanable.dirty.ratio": "0.1",
	}}
}
