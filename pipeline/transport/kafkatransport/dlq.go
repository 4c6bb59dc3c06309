package kafkatransport

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"

	"github.com/segmentio/kafka-go"

	"roachwatch/pipeline/event"
)

// HeaderReason names the DLQ reason on every DLQ message.
const HeaderReason = "rw-dlq-reason"

// ReasonTooLarge is the DLQ reason of an event whose message exceeds
// kafka.producer.max_message_bytes (or that the broker refused as too
// large).
const ReasonTooLarge = "too_large"

// DLQRecord is the JSON value of a roachwatch.dlq message: why something
// could not become an event, and where it came from. It carries the raw
// line only when redaction.keep_raw is on; otherwise a keyed hash of it,
// because an unparseable line may hold secrets.
type DLQRecord struct {
	Reason   string `json:"reason"` // parse.Reason* or too_large
	Detail   string `json:"detail,omitempty"`
	Source   string `json:"source,omitempty"` // source kind (format)
	File     string `json:"file,omitempty"`
	FileID   string `json:"file_id,omitempty"` // dev:inode
	Offset   int64  `json:"offset"`
	EventID  string `json:"event_id,omitempty"` // too_large: the event that did not fit
	Size     int    `json:"size,omitempty"`     // too_large: message size in bytes
	LineHash string `json:"line_hash,omitempty"`
	Line     string `json:"line,omitempty"` // only with redaction.keep_raw
	Time     int64  `json:"time"`           // ingest time, ns
}

// Encoder turns events and rejected lines into messages for the events
// and DLQ topics. It is safe for concurrent use.
type Encoder struct {
	Topics          TopicsConfig
	MaxMessageBytes int
	HashKey         []byte // HMAC key for line hashes (the redaction key)
	KeepRaw         bool   // put the raw line into DLQ records
	PartitionKey    string // kafka.producer.partition_key: principal ("" too) or cluster
}

// Event encodes ev for the events topic. An event whose message would
// exceed MaxMessageBytes becomes a too_large DLQ record instead; the second
// result is false then.
func (e *Encoder) Event(ev *event.Event, source string) (kafka.Message, bool, error) {
	m, err := EncodeKeyed(ev, e.PartitionKey)
	if err != nil {
		return kafka.Message{}, false, err
	}
	if size := messageSize(m); size > e.MaxMessageBytes {
		return e.DLQ(DLQRecord{Reason: ReasonTooLarge, Detail: "event over kafka.producer.max_message_bytes",
			Source: source, File: ev.Origin.File, Offset: ev.Origin.Offset, EventID: ev.ID, Size: size, Time: ev.IngestTime}), false, nil
	}
	m.Topic = e.Topics.Events
	return m, true, nil
}

// Reject builds the DLQ message of an unparseable line.
func (e *Encoder) Reject(r DLQRecord, line []byte) kafka.Message {
	if line != nil {
		if e.KeepRaw {
			r.Line = string(line)
		} else {
			r.LineHash = LineHash(e.HashKey, line)
		}
	}
	return e.DLQ(r)
}

// DLQ encodes a DLQ record. The key is the file identity, so one file's
// records stay in order in one partition.
func (e *Encoder) DLQ(r DLQRecord) kafka.Message {
	v, _ := json.Marshal(r) // only strings and integers: cannot fail
	key := r.FileID
	if key == "" {
		key = r.File
	}
	return kafka.Message{Topic: e.Topics.DLQ, Key: []byte(key), Value: v, Headers: []kafka.Header{
		{Key: HeaderVersion, Value: []byte(strconv.Itoa(event.SchemaVersion))},
		{Key: HeaderSource, Value: []byte(r.Source)},
		{Key: HeaderReason, Value: []byte(r.Reason)},
	}}
}

// LineHash is the keyed hash of a line: HMAC-SHA256 under the redaction
// key, 32 hex digits. Equal lines hash equally under one key, so repeated
// bad input can be correlated without storing it.
func LineHash(key, line []byte) string {
	h := hmac.New(sha256.New, key)
	h.Write(line)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// messageSize approximates the size of m on the wire (record overhead
// aside), as kafka-go and the broker count it.
func messageSize(m kafka.Message) int {
	n := len(m.Key) + len(m.Value)
	for _, h := range m.Headers {
		n += len(h.Key) + len(h.Value)
	}
	return n
}

func headerValue(m kafka.Message, key string) string {
	for _, h := range m.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}
