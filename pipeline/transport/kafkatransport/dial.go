package kafkatransport

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"
)

// TLSConfig builds the client TLS config: verify-full (chain and host
// name) unless InsecureSkipVerify. It returns nil when TLS is off.
func (c Config) TLSClientConfig() (*tls.Config, error) {
	t := c.TLS
	if !t.Enabled {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify} //nolint:gosec // opt-in, validated and logged
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("kafka.tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("kafka.tls.ca_file: %s holds no PEM certificate", t.CAFile)
		}
		cfg.RootCAs = pool
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("kafka.tls.cert_file/key_file: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// Mechanism builds the SASL mechanism, nil when SASL is off.
func (c Config) Mechanism() (sasl.Mechanism, error) {
	if c.SASL.Mechanism == "" {
		return nil, nil
	}
	pw, err := c.SASL.password()
	if err != nil {
		return nil, err
	}
	switch c.SASL.Mechanism {
	case "PLAIN":
		return plain.Mechanism{Username: c.SASL.Username, Password: pw}, nil
	case "SCRAM-SHA-256":
		return scram.Mechanism(scram.SHA256, c.SASL.Username, pw)
	case "SCRAM-SHA-512":
		return scram.Mechanism(scram.SHA512, c.SASL.Username, pw)
	}
	return nil, fmt.Errorf("kafka.sasl.mechanism: unknown %q", c.SASL.Mechanism)
}

// Dialer returns the dialer for readers and admin connections.
func (c Config) Dialer() (*kafka.Dialer, error) {
	t, err := c.TLSClientConfig()
	if err != nil {
		return nil, err
	}
	m, err := c.Mechanism()
	if err != nil {
		return nil, err
	}
	return &kafka.Dialer{ClientID: c.ClientID, Timeout: 10 * time.Second, DualStack: true, TLS: t, SASLMechanism: m}, nil
}

// Transport returns the transport for writers and kafka.Client.
func (c Config) Transport() (*kafka.Transport, error) {
	t, err := c.TLSClientConfig()
	if err != nil {
		return nil, err
	}
	m, err := c.Mechanism()
	if err != nil {
		return nil, err
	}
	return &kafka.Transport{ClientID: c.ClientID, TLS: t, SASL: m, DialTimeout: 10 * time.Second,
		Dial: (&net.Dialer{Timeout: 10 * time.Second}).DialContext}, nil
}
