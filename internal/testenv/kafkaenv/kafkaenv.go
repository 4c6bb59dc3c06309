// Package kafkaenv connects integration tests to the real Kafka broker that
// scripts/kafka.sh starts on loopback.
//
// The script prints the broker's coordinates as environment variables:
//
//	bash scripts/kafka.sh start && eval "$(bash scripts/kafka.sh env)"
//	go test -tags integration ./...
//
// Tests call Broker first. Without the variables it skips the test with a
// message that says how to start the broker (and whether Java, which the
// broker needs, is installed); with ROACHWATCH_REQUIRE_KAFKA=1 it fails
// instead, so a CI run that meant to test against Kafka cannot pass by
// skipping. There is deliberately no in-process fake here: driver behaviour
// is tested against the real server.
package kafkaenv

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/scram"
)

// Environment variables read by Broker; scripts/kafka.sh env prints them.
const (
	VarPlain    = "ROACHWATCH_TEST_KAFKA"          // host:port of the PLAINTEXT listener
	VarSASL     = "ROACHWATCH_TEST_KAFKA_SASL"     // host:port of the SASL_SSL listener
	VarCA       = "ROACHWATCH_TEST_KAFKA_CA"       // PEM file of the CA that signed the broker certificate
	VarUser     = "ROACHWATCH_TEST_KAFKA_USER"     // SCRAM (and PLAIN) user
	VarPassword = "ROACHWATCH_TEST_KAFKA_PASSWORD" // its password
	// VarRequire set to 1 turns a missing broker from a skip into a failure.
	VarRequire = "ROACHWATCH_REQUIRE_KAFKA"
)

// TLSServerName is the name the broker certificate is issued for (it also
// carries IP SAN 127.0.0.1).
const TLSServerName = "localhost"

// dialTimeout bounds every connection attempt a helper makes, so a broker that
// is down or a handshake that stalls fails a test quickly instead of hanging.
const dialTimeout = 10 * time.Second

// Env is where the test broker listens and how to authenticate to it.
type Env struct {
	Plain string // PLAINTEXT listener, host:port
	SASL  string // SASL_SSL listener (TLS + SCRAM-SHA-512/256 or PLAIN), host:port

	CA       string // path of the PEM CA certificate for the SASL_SSL listener
	User     string
	Password string
}

// FromEnviron reads Env from the process environment. It returns the names
// of the variables that are unset or empty.
func FromEnviron() (Env, []string) {
	e := Env{
		Plain:    os.Getenv(VarPlain),
		SASL:     os.Getenv(VarSASL),
		CA:       os.Getenv(VarCA),
		User:     os.Getenv(VarUser),
		Password: os.Getenv(VarPassword),
	}
	var missing []string
	for _, v := range []struct{ name, val string }{
		{VarPlain, e.Plain}, {VarSASL, e.SASL}, {VarCA, e.CA}, {VarUser, e.User}, {VarPassword, e.Password},
	} {
		if v.val == "" {
			missing = append(missing, v.name)
		}
	}
	return e, missing
}

// Broker returns the test broker's Env. When the variables are missing it
// skips the test, or fails it if ROACHWATCH_REQUIRE_KAFKA=1. When they are
// set it checks that the CA file loads and that the PLAINTEXT listener
// accepts connections, and fails the test otherwise: a configured but dead
// broker is an error, not a reason to skip.
func Broker(t testing.TB) Env {
	t.Helper()
	e, missing := FromEnviron()
	if len(missing) > 0 {
		msg := fmt.Sprintf("kafka integration test needs a broker: %s unset; run `bash scripts/kafka.sh start && eval \"$(bash scripts/kafka.sh env)\"`%s",
			strings.Join(missing, ", "), javaHint())
		if os.Getenv(VarRequire) == "1" {
			t.Fatalf("%s (failing, not skipping, because %s=1)", msg, VarRequire)
		}
		t.Skip(msg)
	}
	if _, err := e.TLSConfig(); err != nil {
		t.Fatalf("kafka test env: %v", err)
	}
	conn, err := net.DialTimeout("tcp", e.Plain, dialTimeout)
	if err != nil {
		t.Fatalf("kafka test broker at %s (%s) is not reachable: %v; is `bash scripts/kafka.sh status` running?", e.Plain, VarPlain, err)
	}
	_ = conn.Close()
	return e
}

// javaHint explains the one legitimate reason for the broker to be absent.
func javaHint() string {
	if _, err := exec.LookPath("java"); err != nil {
		return " (java is not installed, so scripts/kafka.sh cannot run the broker)"
	}
	return ""
}

// TLSConfig is the client TLS configuration for the SASL_SSL listener:
// only the test CA is trusted, the server name is localhost, TLS 1.2 or later.
func (e Env) TLSConfig() (*tls.Config, error) {
	pem, err := os.ReadFile(e.CA)
	if err != nil {
		return nil, fmt.Errorf("reading kafka test CA %s: %w", e.CA, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("kafka test CA %s: no PEM certificate found", e.CA)
	}
	return &tls.Config{
		RootCAs:    pool,
		ServerName: TLSServerName,
		MinVersion: tls.VersionTLS12,
	}, nil
}

// Mechanism is SCRAM-SHA-512 with the test user's credentials.
func (e Env) Mechanism() (sasl.Mechanism, error) {
	if e.User == "" {
		return nil, errors.New("kafka test env: empty SASL user")
	}
	m, err := scram.Mechanism(scram.SHA512, e.User, e.Password)
	if err != nil {
		return nil, fmt.Errorf("kafka test env: scram mechanism: %w", err)
	}
	return m, nil
}

// saslSSL returns what the SASL_SSL listener needs: TLS and the mechanism.
func (e Env) saslSSL() (*tls.Config, sasl.Mechanism, error) {
	tlsCfg, err := e.TLSConfig()
	if err != nil {
		return nil, nil, err
	}
	mech, err := e.Mechanism()
	if err != nil {
		return nil, nil, err
	}
	return tlsCfg, mech, nil
}

// NewSASLDialer is SASLDialer with the error returned.
func (e Env) NewSASLDialer() (*kafka.Dialer, error) {
	tlsCfg, mech, err := e.saslSSL()
	if err != nil {
		return nil, err
	}
	return &kafka.Dialer{
		Timeout:       dialTimeout,
		TLS:           tlsCfg,
		SASLMechanism: mech,
	}, nil
}

// SASLDialer is a dialer for the SASL_SSL listener (TLS + SCRAM-SHA-512), for
// kafka.ReaderConfig.Dialer and kafka.DialContext. It panics if the CA file
// cannot be read; Broker has already checked that, so use NewSASLDialer for
// an Env that did not come from Broker.
func (e Env) SASLDialer() *kafka.Dialer {
	d, err := e.NewSASLDialer()
	if err != nil {
		panic(err)
	}
	return d
}

// NewSASLTransport is SASLTransport with the error returned.
func (e Env) NewSASLTransport() (*kafka.Transport, error) {
	tlsCfg, mech, err := e.saslSSL()
	if err != nil {
		return nil, err
	}
	return &kafka.Transport{
		DialTimeout: dialTimeout,
		TLS:         tlsCfg,
		SASL:        mech,
	}, nil
}

// SASLTransport is a transport for the SASL_SSL listener, for kafka.Writer
// and kafka.Client. It panics like SASLDialer.
func (e Env) SASLTransport() *kafka.Transport {
	tr, err := e.NewSASLTransport()
	if err != nil {
		panic(err)
	}
	return tr
}

// PlainDialer is a dialer for the PLAINTEXT listener.
func (e Env) PlainDialer() *kafka.Dialer {
	return &kafka.Dialer{Timeout: dialTimeout}
}

// PlainTransport is a transport for the PLAINTEXT listener.
func (e Env) PlainTransport() *kafka.Transport {
	return &kafka.Transport{DialTimeout: dialTimeout}
}

// CreateTopic creates topic with the given number of partitions
// (replication 1) over the PLAINTEXT listener, waits until every partition
// has a leader, and deletes the topic when the test ends: the broker is
// shared by the whole run, so tests leave it as they found it.
func (e Env) CreateTopic(t testing.TB, topic string, partitions int) {
	t.Helper()
	CreateTopicWith(t, &kafka.Client{Addr: kafka.TCP(e.Plain), Transport: e.PlainTransport(), Timeout: 30 * time.Second},
		topic, partitions)
}

// CreateTopicWith is CreateTopic through client (another listener).
func CreateTopicWith(t testing.TB, client *kafka.Client, topic string, partitions int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := client.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{
		{Topic: topic, NumPartitions: partitions, ReplicationFactor: 1}}})
	if err == nil {
		err = res.Errors[topic]
	}
	if err != nil {
		t.Fatalf("creating topic %s: %v", topic, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := client.DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: []string{topic}}); err != nil {
			t.Logf("deleting topic %s: %v", topic, err)
		}
	})
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if led(ctx, client, topic, partitions) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("partitions of %s never got a leader", topic)
		}
	}
}

// led reports whether topic has its partitions, each with a leader.
func led(ctx context.Context, client *kafka.Client, topic string, partitions int) bool {
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil || len(md.Topics) != 1 || md.Topics[0].Error != nil || len(md.Topics[0].Partitions) != partitions {
		return false
	}
	for _, p := range md.Topics[0].Partitions {
		if p.Error != nil || p.Leader.ID == 0 {
			return false
		}
	}
	return true
}
