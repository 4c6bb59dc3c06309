package parse

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"roachwatch/pipeline/event"
)

func TestUnmark(t *testing.T) {
	cases := map[string]string{
		"":                             "",
		"plain":                        "plain",
		"‹a›":                          "a",
		"WHERE x = ‹'Okafor'› AND ‹y›": "WHERE x = 'Okafor' AND y",
		"‹unclosed":                    "unclosed",
		"€ and ‹€›":                    "€ and €", // other E2 sequences stay
		"trailing \xe2":                "trailing \xe2",
		"\xe2\x80":                     "\xe2\x80",
		"››x‹‹":                        "x",
	}
	for in, want := range cases {
		require.Equal(t, want, string(UnmarkBytes([]byte(in))), "%q", in)
		require.Equal(t, want, Unmark(in), "%q", in)
		require.Equal(t, "p"+want, string(appendUnmark([]byte("p"), in)), "%q", in)
	}
	// Unmark's second pass also removes a › that removing a ‹ created.
	joined := "a\xe2\x80‹\xbaz"
	require.Equal(t, Unmark(joined), string(appendUnmark(nil, joined)))
	buf := []byte("prefix")
	require.Equal(t, "ab", string(appendUnmarked(buf, []byte("‹a›b"))))
}

func TestRedactSpans(t *testing.T) {
	h := NewHasher([]byte("k"))
	got := h.RedactSpans("column ‹\"nam\"› does not exist at ‹'123-45-6789'›")
	require.NotContains(t, got, "123-45-6789")
	require.NotContains(t, got, "nam")
	require.Equal(t, 2, strings.Count(got, "‹#"))
	require.Equal(t, got, h.RedactSpans("column ‹\"nam\"› does not exist at ‹'123-45-6789'›"), "deterministic under one key")
	require.NotEqual(t, got, NewHasher([]byte("other")).RedactSpans("column ‹\"nam\"› does not exist at ‹'123-45-6789'›"))
	require.Equal(t, "no spans", h.RedactSpans("no spans"))
	require.NotContains(t, h.RedactSpans("open ‹secret"), "secret")
}

func TestRedactTextSecretsAndKeyDetail(t *testing.T) {
	n := NewNormalizer(NormalizerConfig{Key: []byte("k")})
	for in, leak := range map[string]string{
		"could not connect to postgresql://etl:s3cr3t-pw@db:26257/x":                        "s3cr3t-pw",
		`DETAIL:  Key (ssn)=(123-45-6789) already exists.`:                                  "123-45-6789",
		`DETAIL:  Key (email)=(ada@example.org) already exists. Key (x)=(y)`:                "ada@example.org",
		"token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ": "eyJzdWIiOiIxMjM0NTY3ODkwIn0",
	} {
		got := n.redactText(in)
		require.NotContains(t, got, leak, in)
		require.Contains(t, got, "‹#", in)
	}
	require.Equal(t, "nothing to hide here", n.redactText("nothing to hide here"))
}

func TestCommentAfterLiteral(t *testing.T) {
	for stmt, want := range map[string]bool{
		`SELECT 1 FROM u WHERE name = 'admin'--' LIMIT 21`:       true,
		`SELECT 1 FROM u WHERE name = 'admin' /* x */`:           true,
		`SELECT 1 FROM u WHERE id = 1 /*controller='a%3Ab'*/`:    false,
		`SELECT 1 FROM u -- a developer note`:                    false,
		`SELECT 1 FROM u WHERE name = 'it''s' /*route='x%2Fy'*/`: false, // sqlcommenter: parsed, not flagged below
	} {
		n := NewNormalizer(NormalizerConfig{Key: []byte("k")})
		ev := event.Event{Source: event.SourceDjango}
		n.Finish(&ev, &Raw{Entry: []byte(stmt), Statement: []byte(stmt)})
		require.Equal(t, want, ev.Attrs[AttrSQLComment] == CommentAfterLiteral, stmt)
	}
}
