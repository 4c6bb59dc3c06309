// Package formats detects the format of an input file and builds the
// matching decoder. It is the one place that knows every decoder.
package formats

import (
	"bytes"
	"fmt"
	"time"

	"roachwatch/pipeline/parse"
	"roachwatch/pipeline/parse/crdbparse"
	"roachwatch/pipeline/parse/djangoparse"
)

// Options configures the decoders.
type Options struct {
	MaxEntryBytes  int
	DjangoFormat   string
	DjangoLocation *time.Location
	DjangoHost     string
	// FallbackTime (ns) stamps Django records of formats without a time
	// before any timed record was seen (the file's modification time).
	FallbackTime int64
}

// sampleLines is how many non-empty lines Detect looks at.
const sampleLines = 20

// Detect names the format of a file from its first lines (at most
// sampleLines non-empty ones are used): the format most lines look like,
// ties broken in favour of CockroachDB formats. It returns
// "" when no line looks like any format.
func Detect(lines [][]byte) string {
	votes := map[string]int{}
	seen := 0
	for _, l := range lines {
		l = bytes.TrimSpace(l)
		if len(l) == 0 {
			continue
		}
		if seen++; seen > sampleLines {
			break
		}
		switch {
		case crdbparse.LooksLikeJSON(l):
			votes[parse.FormatCRDBJSON]++
		case crdbparse.LooksLikeV2(l):
			votes[parse.FormatCRDBV2]++
		case djangoparse.LooksLikeJSON(l):
			votes[parse.FormatDjangoJSON]++
		case djangoparse.LooksLikeText(l):
			votes[parse.FormatDjangoText]++
		}
	}
	best, n := "", 0
	for _, f := range []string{parse.FormatCRDBJSON, parse.FormatCRDBV2, parse.FormatDjangoJSON, parse.FormatDjangoText} {
		if votes[f] > n {
			best, n = f, votes[f]
		}
	}
	return best
}

// New builds the decoder for format.
func New(format string, n *parse.Normalizer, o Options) (parse.Decoder, error) {
	co := crdbparse.Options{MaxEntryBytes: o.MaxEntryBytes}
	do := djangoparse.Options{
		Format:        o.DjangoFormat,
		Location:      o.DjangoLocation,
		Host:          o.DjangoHost,
		MaxEntryBytes: o.MaxEntryBytes,
		FallbackTime:  o.FallbackTime,
	}
	switch format {
	case parse.FormatCRDBJSON, parse.FormatCRDBJSONCompact:
		return crdbparse.NewJSONDecoder(n, co), nil
	case parse.FormatCRDBV2:
		return crdbparse.NewV2Decoder(n, co), nil
	case parse.FormatDjangoJSON:
		return djangoparse.NewJSONDecoder(n, do), nil
	case parse.FormatDjangoText:
		return djangoparse.NewTextDecoder(n, do)
	default:
		return nil, fmt.Errorf("no decoder for format %q", format)
	}
}
