// Command composetool holds the two small jobs the compose stack needs inside the
// roachwatch image, which has no shell, curl or openssl (distroless):
//
//	composetool healthz URL
//	    GET URL (e.g. http://127.0.0.1:9465/healthz) and exit 0 on a 2xx answer, 1 otherwise:
//	    the healthcheck of roachwatch-ingest and roachwatch-analyze.
//	composetool kafka-pem --key node.key --cert node.crt --out kafka.pem
//	    write the PEM keystore Kafka reads (ssl.keystore.type=PEM): the private key as
//	    unencrypted PKCS#8 ("BEGIN PRIVATE KEY", the only form Kafka accepts) followed by the
//	    certificate chain. `cockroach cert` writes RSA keys as PKCS#1, hence this step.
//	    The output is written 0600 next to the input, atomically; an existing output is kept.
package main

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "healthz":
		if len(os.Args) != 3 {
			usage()
		}
		err = healthz(os.Args[2])
	case "kafka-pem":
		err = kafkaPEM(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "composetool %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: composetool healthz URL | composetool kafka-pem --key FILE --cert FILE --out FILE")
	os.Exit(2)
}

func healthz(url string) error {
	c := &http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s answered %s", url, resp.Status)
	}
	return nil
}

func kafkaPEM(args []string) error {
	fs := flag.NewFlagSet("kafka-pem", flag.ContinueOnError)
	keyPath := fs.String("key", "", "private key (PEM: PKCS#1, PKCS#8 or EC)")
	certPath := fs.String("cert", "", "certificate chain (PEM)")
	out := fs.String("out", "", "output PEM keystore")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *keyPath == "" || *certPath == "" || *out == "" {
		return errors.New("--key, --cert and --out are required")
	}
	if _, err := os.Stat(*out); err == nil {
		fmt.Printf("composetool kafka-pem: %s exists, kept\n", *out)
		return nil
	}
	keyPEM, err := os.ReadFile(*keyPath)
	if err != nil {
		return err
	}
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return fmt.Errorf("%s holds no PEM block", *keyPath)
	}
	var key any
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	default:
		return fmt.Errorf("%s: unsupported PEM block %q", *keyPath, block.Type)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", *keyPath, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	chain, err := os.ReadFile(*certPath)
	if err != nil {
		return err
	}
	if b, _ := pem.Decode(chain); b == nil || b.Type != "CERTIFICATE" {
		return fmt.Errorf("%s holds no PEM certificate", *certPath)
	}
	buf := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	buf = append(buf, chain...)
	tmp, err := os.CreateTemp(filepath.Dir(*out), ".kafka-pem-*")
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if err := tmp.Chmod(0o600); err != nil {
		return err
	}
	if _, err := tmp.Write(buf); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), *out); err != nil {
		return err
	}
	fmt.Printf("composetool kafka-pem: wrote %s\n", *out)
	return nil
}
