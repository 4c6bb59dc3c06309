package kafkatransport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
)

// EnsureTopics connects to the brokers and creates the events, DLQ,
// alerts and state topics when they are missing (kafka.topics.create),
// with kafka.topics.partitions and replication_factor. The state topic is
// compacted (cleanup.policy=compact): it holds the latest detector state
// snapshot per key. Every topic gets max.message.bytes from
// kafka.producer.max_message_bytes. Existing topics are left as they are.
//
// It is also ingest's and analyze's start-up connectivity check: its
// error names the brokers, the security set-up and the cause (an unknown
// certificate authority, a failed SASL authentication, a refused
// connection).
func EnsureTopics(ctx context.Context, cfg Config, log *slog.Logger) error {
	tr, err := cfg.Transport()
	if err != nil {
		return err
	}
	defer tr.CloseIdleConnections()
	client := &kafka.Client{Addr: kafka.TCP(cfg.Brokers...), Transport: tr, Timeout: 15 * time.Second}
	names := []string{cfg.Topics.Events, cfg.Topics.DLQ, cfg.Topics.Alerts, cfg.Topics.State}
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: nil})
	if err != nil {
		return fmt.Errorf("connecting to kafka %s (%s): %w", strings.Join(cfg.Brokers, ","), cfg.securityDesc(), err)
	}
	have := map[string]bool{}
	for _, t := range md.Topics {
		if t.Error == nil {
			have[t.Name] = true
		}
	}
	var missing []kafka.TopicConfig
	for _, n := range names {
		if have[n] {
			continue
		}
		tc := kafka.TopicConfig{Topic: n, NumPartitions: cfg.Topics.Partitions, ReplicationFactor: cfg.Topics.ReplicationFactor,
			ConfigEntries: []kafka.ConfigEntry{{ConfigName: "max.message.bytes", ConfigValue: strconv.Itoa(cfg.Producer.MaxMessageBytes)}}}
		if n == cfg.Topics.State {
			tc.ConfigEntries = append(tc.ConfigEntries, kafka.ConfigEntry{ConfigName: "cleanup.policy", ConfigValue: "compact"})
		}
		missing = append(missing, tc)
	}
	if len(missing) == 0 {
		return nil
	}
	if !cfg.Topics.Create {
		var ns []string
		for _, m := range missing {
			ns = append(ns, m.Topic)
		}
		return fmt.Errorf("kafka topics %s do not exist and kafka.topics.create is off", strings.Join(ns, ", "))
	}
	res, err := client.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: missing})
	if err != nil {
		return fmt.Errorf("creating kafka topics: %w", err)
	}
	var errs []error
	for _, m := range missing {
		err := res.Errors[m.Topic]
		switch {
		case err == nil:
			log.Info("kafka topic created", "topic", m.Topic, "partitions", m.NumPartitions, "replication_factor", m.ReplicationFactor)
		case errors.Is(err, kafka.TopicAlreadyExists): // created concurrently by the other binary
		default:
			errs = append(errs, fmt.Errorf("creating kafka topic %s: %w", m.Topic, err))
		}
	}
	return errors.Join(errs...)
}

// securityDesc describes the connection's security for error messages,
// without any secret.
func (c Config) securityDesc() string {
	s := "plaintext"
	if c.TLS.Enabled {
		s = "tls verify-full"
		if c.TLS.InsecureSkipVerify {
			s = "tls without verification"
		}
		if c.TLS.CAFile != "" {
			s += ", ca " + c.TLS.CAFile
		}
	}
	if c.SASL.Mechanism != "" {
		s += ", sasl " + c.SASL.Mechanism + " as " + c.SASL.Username
	}
	return s
}
