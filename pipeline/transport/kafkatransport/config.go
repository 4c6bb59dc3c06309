// Package kafkatransport moves roachwatch events through Apache Kafka with
// segmentio/kafka-go: connection config (TLS verify-full by default,
// SASL/SCRAM or PLAIN), topic management, the producer used by ingest and
// the consumer-group reader used by analyze, and the wire form of events.
package kafkatransport

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"roachwatch/pipeline/secret"
)

// Config is the kafka section of the config.
type Config struct {
	Brokers  []string       `mapstructure:"brokers"`
	ClientID string         `mapstructure:"client_id"`
	Topics   TopicsConfig   `mapstructure:"topics"`
	TLS      TLSConfig      `mapstructure:"tls"`
	SASL     SASLConfig     `mapstructure:"sasl"`
	Producer ProducerConfig `mapstructure:"producer"`
	Consumer ConsumerConfig `mapstructure:"consumer"`
}

// TopicsConfig names the topics and how they are created when missing.
type TopicsConfig struct {
	Events            string `mapstructure:"events"`
	DLQ               string `mapstructure:"dlq"`
	Alerts            string `mapstructure:"alerts"`
	State             string `mapstructure:"state"` // compacted: detector state snapshots per partition
	Partitions        int    `mapstructure:"partitions"`
	ReplicationFactor int    `mapstructure:"replication_factor"`
	Create            bool   `mapstructure:"create"` // create missing topics at start
}

// TLSConfig configures TLS to the brokers. With Enabled, the server
// certificate is verified against CAFile (or the system roots) and its
// name (verify-full); InsecureSkipVerify exists for lab set-ups only and
// is logged loudly.
type TLSConfig struct {
	Enabled            bool   `mapstructure:"enabled"`
	CAFile             string `mapstructure:"ca_file"`
	CertFile           string `mapstructure:"cert_file"`
	KeyFile            string `mapstructure:"key_file"`
	ServerName         string `mapstructure:"server_name"`
	InsecureSkipVerify bool   `mapstructure:"insecure_skip_verify"`
}

// SASLConfig configures SASL authentication.
type SASLConfig struct {
	Mechanism    string        `mapstructure:"mechanism"` // "", PLAIN, SCRAM-SHA-256, SCRAM-SHA-512
	Username     string        `mapstructure:"username"`
	Password     secret.String `mapstructure:"password"`      // prefer ROACHWATCH_KAFKA_SASL_PASSWORD or password_file
	PasswordFile string        `mapstructure:"password_file"` // file holding the password
}

// ProducerConfig tunes ingest's writer. Acks are always RequireAll and
// writes are always synchronous: nothing is acknowledged to the source
// before the brokers have it.
type ProducerConfig struct {
	BatchSize       int           `mapstructure:"batch_size"`
	BatchBytes      int64         `mapstructure:"batch_bytes"`
	BatchTimeout    time.Duration `mapstructure:"batch_timeout"`
	Compression     string        `mapstructure:"compression"` // zstd, lz4, snappy, gzip, none
	MaxMessageBytes int           `mapstructure:"max_message_bytes"`
	WriteTimeout    time.Duration `mapstructure:"write_timeout"`
	MaxInFlight     int           `mapstructure:"max_in_flight"` // concurrent WriteMessages calls
	PartitionKey    string        `mapstructure:"partition_key"` // message key of events: principal or cluster (PartitionKeys)
}

// ConsumerConfig tunes analyze's consumer group.
type ConsumerConfig struct {
	GroupID           string        `mapstructure:"group_id"`
	MinBytes          int           `mapstructure:"min_bytes"`
	MaxBytes          int           `mapstructure:"max_bytes"`
	MaxWait           time.Duration `mapstructure:"max_wait"`
	BatchSize         int           `mapstructure:"batch_size"`    // events per sink batch
	BatchTimeout      time.Duration `mapstructure:"batch_timeout"` // flush a partial batch after this
	MaxInFlight       int           `mapstructure:"max_in_flight"` // batches written but not yet committed
	SessionTimeout    time.Duration `mapstructure:"session_timeout"`
	RebalanceTimeout  time.Duration `mapstructure:"rebalance_timeout"`
	HeartbeatInterval time.Duration `mapstructure:"heartbeat_interval"`
}

// DefaultConfig is the documented default: TLS on, topics created with 6
// partitions and replication 3 (set 1 for a single broker).
func DefaultConfig() Config {
	return Config{
		Brokers:  []string{"localhost:9093"},
		ClientID: "roachwatch",
		Topics: TopicsConfig{Events: "roachwatch.events", DLQ: "roachwatch.dlq", Alerts: "roachwatch.alerts",
			State: "roachwatch.state", Partitions: 6, ReplicationFactor: 3, Create: true},
		TLS: TLSConfig{Enabled: true},
		Producer: ProducerConfig{BatchSize: 5000, BatchBytes: 16 << 20, BatchTimeout: 50 * time.Millisecond,
			Compression: "zstd", MaxMessageBytes: 16 << 20, WriteTimeout: 30 * time.Second, MaxInFlight: 4,
			PartitionKey: PartitionKeyPrincipal},
		Consumer: ConsumerConfig{GroupID: "roachwatch-analyze", MinBytes: 1, MaxBytes: 32 << 20, MaxWait: 250 * time.Millisecond,
			BatchSize: 10000, BatchTimeout: 500 * time.Millisecond, MaxInFlight: 4,
			SessionTimeout: 10 * time.Second, RebalanceTimeout: 10 * time.Second, HeartbeatInterval: time.Second},
	}
}

var compressions = []string{"zstd", "lz4", "snappy", "gzip", "none"}

// Validate checks the section; errors name kafka.<key> and the fix.
func (c Config) Validate() error {
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("kafka.brokers: name at least one broker host:port"))
	}
	for _, b := range c.Brokers {
		if !strings.Contains(b, ":") {
			errs = append(errs, fmt.Errorf("kafka.brokers: %q must be host:port", b))
		}
	}
	for k, v := range map[string]string{"events": c.Topics.Events, "dlq": c.Topics.DLQ, "alerts": c.Topics.Alerts, "state": c.Topics.State} {
		if v == "" {
			errs = append(errs, fmt.Errorf("kafka.topics.%s: must not be empty", k))
		}
	}
	if c.Topics.Partitions < 1 || c.Topics.ReplicationFactor < 1 {
		errs = append(errs, errors.New("kafka.topics.partitions and kafka.topics.replication_factor: must be at least 1"))
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		errs = append(errs, errors.New("kafka.tls.cert_file and kafka.tls.key_file: set both for a client certificate, or neither"))
	}
	switch c.SASL.Mechanism {
	case "":
	case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
		if c.SASL.Username == "" {
			errs = append(errs, fmt.Errorf("kafka.sasl.username: required with mechanism %s", c.SASL.Mechanism))
		}
		if c.SASL.Password == "" && c.SASL.PasswordFile == "" {
			errs = append(errs, errors.New("kafka.sasl.password: set ROACHWATCH_KAFKA_SASL_PASSWORD or kafka.sasl.password_file"))
		}
		if c.SASL.Mechanism == "PLAIN" && !c.TLS.Enabled {
			errs = append(errs, errors.New("kafka.sasl.mechanism: PLAIN without kafka.tls.enabled sends the password in the clear; enable TLS"))
		}
	default:
		errs = append(errs, fmt.Errorf("kafka.sasl.mechanism: %q is not one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 (or empty)", c.SASL.Mechanism))
	}
	if !slices.Contains(compressions, c.Producer.Compression) {
		errs = append(errs, fmt.Errorf("kafka.producer.compression: %q is not one of %s", c.Producer.Compression, strings.Join(compressions, ", ")))
	}
	if c.Producer.BatchSize < 1 || c.Producer.BatchTimeout <= 0 || c.Producer.MaxMessageBytes < 1024 {
		errs = append(errs, errors.New("kafka.producer: batch_size, batch_timeout must be positive and max_message_bytes at least 1024"))
	}
	if c.Producer.MaxInFlight < 1 {
		errs = append(errs, fmt.Errorf("kafka.producer.max_in_flight: must be at least 1, got %d", c.Producer.MaxInFlight))
	}
	if !slices.Contains(PartitionKeys, c.Producer.PartitionKey) {
		errs = append(errs, fmt.Errorf("kafka.producer.partition_key: %q is not one of %s", c.Producer.PartitionKey, strings.Join(PartitionKeys, ", ")))
	}
	if c.Producer.BatchBytes < int64(c.Producer.MaxMessageBytes) {
		errs = append(errs, errors.New("kafka.producer.batch_bytes: must be at least kafka.producer.max_message_bytes, or large events cannot be sent"))
	}
	if c.Consumer.GroupID == "" {
		errs = append(errs, errors.New("kafka.consumer.group_id: must not be empty"))
	}
	if c.Consumer.BatchSize < 1 || c.Consumer.MaxInFlight < 1 || c.Consumer.BatchTimeout <= 0 {
		errs = append(errs, errors.New("kafka.consumer: batch_size, max_in_flight and batch_timeout must be positive"))
	}
	return errors.Join(errs...)
}

// password returns the SASL password from the config or its file.
func (c SASLConfig) password() (string, error) {
	if c.Password != "" {
		return c.Password.Reveal(), nil
	}
	b, err := os.ReadFile(c.PasswordFile)
	if err != nil {
		return "", fmt.Errorf("kafka.sasl.password_file: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}
