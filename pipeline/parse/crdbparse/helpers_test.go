package crdbparse

import (
	"bytes"
	"errors"
	"testing"

	"roachwatch/pipeline/event"
	"roachwatch/pipeline/parse"
	"roachwatch/pipeline/source"
)

// testNormalizer returns a Normalizer with the fixed test key.
func testNormalizer() *parse.Normalizer {
	return parse.NewNormalizer(parse.NormalizerConfig{Key: []byte("test-key")})
}

// decoderFor picks the decoder for input by its first non-empty line.
func decoderFor(input []byte, o Options) parse.Decoder {
	for _, l := range bytes.Split(input, []byte("\n")) {
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		if LooksLikeJSON(l) || l[0] == '{' {
			return NewJSONDecoder(testNormalizer(), o)
		}
		break
	}
	return NewV2Decoder(testNormalizer(), o)
}

// decodeAll feeds input line by line (split on '\n', with byte offsets)
// and flushes. Every line is fed from one reused buffer that is scribbled
// over after each Feed, so a decoder that keeps line bytes without copying
// them fails the golden comparison. Errors must be *parse.LineError.
func decodeAll(t testing.TB, dec parse.Decoder, input []byte) ([]event.Event, []*parse.LineError) {
	t.Helper()
	var (
		evs  []event.Event
		errs []*parse.LineError
		buf  []byte
		off  int64
	)
	collect := func(err error) {
		if err == nil {
			return
		}
		var le *parse.LineError
		if !errors.As(err, &le) || !errors.Is(err, parse.ErrMalformed) {
			t.Fatalf("error %v (%T) is not a *parse.LineError", err, err)
		}
		errs = append(errs, le)
	}
	lines := bytes.Split(input, []byte("\n"))
	if n := len(lines); n > 0 && len(lines[n-1]) == 0 {
		lines = lines[:n-1]
	}
	for _, l := range lines {
		buf = append(buf[:0], l...)
		var err error
		evs, err = dec.Feed(source.Line{Text: buf, File: "test.log", Offset: off}, evs)
		collect(err)
		for i := range buf {
			buf[i] = '#'
		}
		off += int64(len(l)) + 1
	}
	var err error
	evs, err = dec.Flush(evs)
	collect(err)
	return evs, errs
}

func reasons(errs []*parse.LineError) []string {
	out := make([]string, 0, len(errs))
	for _, e := range errs {
		out = append(out, e.Reason)
	}
	return out
}

// checkInvariants asserts what every event must satisfy.
func checkInvariants(t testing.TB, evs []event.Event) {
	t.Helper()
	for i, ev := range evs {
		if ev.ID == "" || ev.Time == 0 || ev.Source != event.SourceCRDB || ev.Type == "" {
			t.Fatalf("event %d incomplete: id=%q time=%d source=%q type=%q", i, ev.ID, ev.Time, ev.Source, ev.Type)
		}
	}
}
