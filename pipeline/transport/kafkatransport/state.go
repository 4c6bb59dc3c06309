package kafkatransport

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

// StateStore keeps analyze's per-partition detector state in the
// compacted topic kafka.topics.state (one partition; see StateTopicSpec).
// Each message is the whole state of one events partition, keyed by
// StateKey; compaction keeps the last one per key. Save returns only after
// every in-sync replica has the snapshot, so a commit made after Save can
// always be matched by its state.
type StateStore struct {
	cfg    Config
	client *kafka.Client
	w      *kafka.Writer
}

// StateKey is the key of the snapshot of an events partition: group, topic
// and partition, so two groups reading the same topic keep separate state.
func StateKey(group, topic string, partition int) string {
	return fmt.Sprintf("%s/%s/%d", group, topic, partition)
}

// NewStateStore opens a store on c.Topics.State.
func NewStateStore(c Config, client *kafka.Client) (*StateStore, error) {
	t, err := c.Transport()
	if err != nil {
		return nil, err
	}
	w := &kafka.Writer{
		Addr:         kafka.TCP(c.Brokers...),
		Topic:        c.Topics.State,
		Balancer:     &kafka.Hash{},
		RequiredAcks: kafka.RequireAll,
		BatchTimeout: time.Millisecond,
		BatchBytes:   64 << 20,
		Compression:  kafka.Zstd,
		WriteTimeout: 30 * time.Second,
		Transport:    t,
	}
	return &StateStore{cfg: c, client: client, w: w}, nil
}

// Save writes the snapshots (key -> value) and waits for RequireAll.
func (s *StateStore) Save(ctx context.Context, snaps map[string][]byte) error {
	if len(snaps) == 0 {
		return nil
	}
	msgs := make([]kafka.Message, 0, len(snaps))
	for k, v := range snaps {
		msgs = append(msgs, kafka.Message{Key: []byte(k), Value: v})
	}
	if err := s.w.WriteMessages(ctx, msgs...); err != nil {
		return fmt.Errorf("writing state snapshots to %s: %w", s.cfg.Topics.State, err)
	}
	return nil
}

// Load reads the state topic from its start to its current end and
// returns the last snapshot of each of keys (absent keys have none). It
// reads the whole (compacted) topic: the cost is one snapshot per
// partition the group has ever owned, plus what compaction has not yet
// removed.
func (s *StateStore) Load(ctx context.Context, keys []string) (map[string][]byte, error) {
	want := make(map[string]bool, len(keys))
	for _, k := range keys {
		want[k] = true
	}
	topic := s.cfg.Topics.State
	first, end, err := PartitionEnds(ctx, s.client, topic, []int{0})
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	if end[0] <= first[0] {
		return out, nil
	}
	d, err := s.cfg.Dialer()
	if err != nil {
		return nil, err
	}
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: s.cfg.Brokers, Topic: topic, Partition: 0, Dialer: d,
		MinBytes: 1, MaxBytes: 64 << 20, MaxWait: 100 * time.Millisecond,
	})
	defer r.Close()
	if err := r.SetOffset(first[0]); err != nil {
		return nil, fmt.Errorf("reading %s: %w", topic, err)
	}
	for {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", topic, err)
		}
		if k := string(m.Key); want[k] {
			if len(m.Value) == 0 {
				delete(out, k) // tombstone
			} else {
				out[k] = m.Value
			}
		}
		if m.Offset >= end[0]-1 {
			return out, nil
		}
	}
}

// Close flushes and closes the writer.
func (s *StateStore) Close() error {
	return errors.Join(s.w.Close())
}
