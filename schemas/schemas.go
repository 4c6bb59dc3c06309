// Package schemas embeds roachwatch's public data contracts: the JSON
// Schemas of events and findings (and, with later work, the ClickHouse
// migrations and analyst queries), so binaries and tests use the same
// files the documentation points to.
package schemas

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed *.schema.json
var files embed.FS

// Names of the embedded schemas.
const (
	Event   = "event.schema.json"
	Finding = "finding.schema.json"
)

// Compile compiles the embedded schema called name.
func Compile(name string) (*jsonschema.Schema, error) {
	b, err := files.ReadFile(name)
	if err != nil {
		return nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(name, doc); err != nil {
		return nil, err
	}
	return c.Compile(name)
}

// Validate checks that the JSON document b conforms to s.
func Validate(s *jsonschema.Schema, b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return err
	}
	return s.Validate(v)
}
