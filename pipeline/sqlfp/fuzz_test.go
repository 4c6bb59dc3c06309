package sqlfp

import (
	"bytes"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cespare/xxhash/v2"
)

func FuzzAnalyze(f *testing.F) {
	for _, s := range corpus {
		f.Add([]byte(s))
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	a, b := NewAnalyzer(), NewAnalyzer()
	f.Fuzz(func(t *testing.T, stmt []byte) {
		r := a.Analyze(stmt)
		fp := string(r.Fingerprint)
		if r.Hash != xxhash.Sum64String(fp) {
			t.Fatalf("hash mismatch for %q", stmt)
		}
		if utf8.Valid(stmt) && !utf8.ValidString(fp) {
			t.Fatalf("invalid UTF-8 fingerprint %q from %q", fp, stmt)
		}
		if got, _ := b.Fingerprint(stmt); string(got) != fp {
			t.Fatalf("Fingerprint %q != Analyze %q for %q", got, fp, stmt)
		}
		if len(r.Tables) > MaxTables || len(r.Columns) > MaxColumns || len(r.Bindings) > MaxBindings || len(r.Comments) > MaxComments {
			t.Fatalf("cap exceeded for %q", stmt)
		}
		// a.src is the marker-free statement and a.toks its tokens; both
		// stay valid until the next call on a.
		src := bytes.Clone(a.src)
		mutated := bytes.Clone(src)
		for _, tok := range a.toks {
			lit := src[tok.s:tok.e]
			switch {
			case tok.kind == tkNumber && !bytes.ContainsAny(lit, "xX"):
				for k := tok.s; k < tok.e; k++ {
					if isDigit(mutated[k]) {
						mutated[k] = '0' + (mutated[k]-'0'+3)%10
					}
				}
			case tok.kind == tkString && lit[0] == '\'':
				for k := tok.s + 1; k < tok.e; k++ {
					switch c := mutated[k]; {
					case c >= 'a' && c <= 'z':
						mutated[k] = 'a' + (c-'a'+7)%26
					case c >= 'A' && c <= 'Z':
						mutated[k] = 'A' + (c-'A'+7)%26
					case isDigit(c):
						mutated[k] = '0' + (c-'0'+3)%10
					}
				}
				checkNoLeak(t, stmt, src, fp, tok)
			}
		}
		// Removing whole runes from valid UTF-8 cannot form a new marker;
		// from invalid input it can ("\xe2‹\x80\xb9"), and one pass is the
		// contract. So compare the mutation against src's own fingerprint.
		got, _ := b.Fingerprint(src)
		srcFP := string(got)
		if utf8.Valid(stmt) && srcFP != fp {
			t.Fatalf("markers changed the fingerprint: %q vs %q for %q", srcFP, fp, stmt)
		}
		if got, _ := b.Fingerprint(mutated); string(got) != srcFP {
			t.Fatalf("literal mutation changed the fingerprint:\n in  %q\n mut %q\n fp  %q\n got %q", src, mutated, srcFP, got)
		}
	})
}

// checkNoLeak fails when a string literal of 4+ bytes shows up in the
// fingerprint, quoted, or unquoted where nothing else in the statement
// could have produced it.
func checkNoLeak(t *testing.T, stmt, src []byte, fp string, tok token) {
	lit := string(src[tok.s:tok.e])
	if len(lit) < 6 || lit[len(lit)-1] != '\'' {
		return
	}
	if strings.Contains(fp, lit) && !strings.Contains(fp, `"`) {
		t.Fatalf("literal %q leaked into %q from %q", lit, fp, stmt)
	}
	content := lit[1 : len(lit)-1]
	if strings.ContainsAny(content, " \t\r\n\f\v?,()[];'\"") {
		return
	}
	outside := strings.ToLower(string(src[:tok.s]) + " " + string(src[tok.e:]))
	if strings.Contains(fp, content) && !strings.Contains(outside, strings.ToLower(content)) {
		t.Fatalf("literal content %q leaked into %q from %q", content, fp, stmt)
	}
}

func FuzzParseSQLCommenter(f *testing.F) {
	f.Add([]byte(`controller='accounts%%3Aprofile',framework='django%%3A4.2.11'`), "route", "accounts/<int:pk>/")
	f.Add([]byte(`/*traceparent='00-5a1e9c0b7d2f44c1a8e3f6b2d9c0e7a1-3b9d2c4e5f6a7b8c-01'*/`), "app_name", "clinic")
	f.Add([]byte(`k='it\'s',k='dup'`), "a b", "c,d=e'f")
	f.Add([]byte(`not sqlcommenter`), "", "")
	f.Add([]byte(`k='%%%41+%2B%zz\\'%2541'`), `\\\'%%%`, "%4")
	var reused CommentParser // buffers carried from input to input
	reused.String = func(b []byte) string { return string(b) }
	f.Fuzz(func(t *testing.T, comment []byte, key, value string) {
		orig := bytes.Clone(comment)
		m := ParseSQLCommenter(comment)
		if m != nil && len(m) == 0 {
			t.Fatalf("empty non-nil map for %q", comment)
		}
		if m2 := reused.Parse(comment); !reflect.DeepEqual(m, m2) {
			t.Fatalf("CommentParser %q != ParseSQLCommenter %q for %q", m2, m, comment)
		}
		if !bytes.Equal(orig, comment) {
			t.Fatalf("comment changed: %q to %q", orig, comment)
		}
		for _, in := range []string{string(comment), key, value} {
			if got, want := unescapeTag([]byte(in)), unescapeTagRef(in); got != want {
				t.Fatalf("unescapeTag(%q) = %q, want %q", in, got, want)
			}
		}
		// Round trip through the Python serialization (quote, then double
		// every %). Values with % are decoded twice by design, so skip them.
		if key == "" || strings.Contains(key+value, "%") {
			return
		}
		enc := url.QueryEscape(key) + "='" + url.QueryEscape(value) + "'"
		for _, c := range []string{enc, strings.ReplaceAll(enc, "%", "%%")} {
			m := ParseSQLCommenter([]byte(c))
			if len(m) != 1 || m[key] != value {
				t.Fatalf("round trip of %q=%q via %q gave %q", key, value, c, m)
			}
		}
	})
}

// unescapeTagRef is unescapeTag written with the library calls it stands
// for.
func unescapeTagRef(s string) string {
	s = strings.ReplaceAll(s, `\'`, `'`)
	s = strings.ReplaceAll(s, "%%", "%")
	s, err := url.QueryUnescape(s)
	if err != nil {
		return ""
	}
	s, err = url.PathUnescape(s)
	if err != nil {
		return ""
	}
	return s
}
