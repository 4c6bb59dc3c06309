package loggen

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// crdbV2 is the first-line regex of log-formats.md §2.1.
var crdbV2 = regexp.MustCompile(
	`^(?P<sev>[IWEF])` +
		`(?P<ts>\d{6} \d{2}:\d{2}:\d{2}\.\d{6}(?:[+-]\d{6})?) ` +
		`(?P<goid>\d+) ` +
		`(?:\(gostd\) )?` +
		`(?:(?P<chan>\d+)@)?` +
		`(?P<file>[^:]*):(?P<line>\d+) ` +
		`(?P<redactable>⋮?) ` +
		`\[(?P<tags>(?:[^\]]|\][^ ])+)\] ` +
		`(?P<counter>\d*) ` +
		`(?P<cont>[ =!+|])` +
		`(?P<msg>.*)$`)

var envelopeKeys = []string{"channel_numeric", "channel", "timestamp", "cluster_id", "node_id", "tenant_id", "version",
	"severity_numeric", "severity", "goroutine", "file", "line", "entry_counter", "redactable", "tags"}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var out []string
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	require.NoError(t, sc.Err())
	return out
}

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var m map[string]any
	require.NoError(t, d.Decode(&m), "invalid JSON: %.300s", s)
	return m
}

// crdbPayloads checks every CockroachDB file and returns all structured
// payloads (reassembled).
func crdbPayloads(t *testing.T, dir string, tr *Truth) []map[string]any {
	t.Helper()
	var payloads []map[string]any
	tsRe := regexp.MustCompile(`^\d{10}\.\d{9}$`)
	for _, n := range tr.Nodes {
		files, err := filepath.Glob(filepath.Join(dir, n.LogDir, "cockroach*.*.log"))
		require.NoError(t, err)
		require.Len(t, files, int(numGroups))
		for _, f := range files {
			lines := readLines(t, f)
			require.NotEmpty(t, lines)
			last := int64(0)
			if n.Format == FormatJSON {
				for _, l := range lines {
					m := decode(t, l)
					if _, ok := m["header"]; ok {
						require.Equal(t, map[string]any{"config": ""}, m["tags"])
						continue
					}
					for _, k := range envelopeKeys {
						require.Contains(t, m, k, "%s: %.200s", f, l)
					}
					require.Regexp(t, tsRe, m["timestamp"])
					require.Equal(t, n.ClusterID, m["cluster_id"])
					require.Equal(t, json.Number(itoa(int64(n.ID))), m["node_id"])
					c, _ := m["entry_counter"].(json.Number).Int64()
					require.Equal(t, last+1, c, "%s: counters must increase by one", f)
					last = c
					if ev, ok := m["event"].(map[string]any); ok {
						payloads = append(payloads, ev)
					} else {
						require.Contains(t, m, "message")
					}
				}
				continue
			}
			var cur *strings.Builder
			var prefix string
			finish := func() {
				if cur != nil {
					payloads = append(payloads, decode(t, cur.String()))
					cur = nil
				}
			}
			for _, l := range lines {
				sm := crdbV2.FindStringSubmatch(l)
				require.NotNil(t, sm, "%s: line does not match the crdb-v2 regex: %.300s", f, l)
				cont, counter := sm[crdbV2.SubexpIndex("cont")], sm[crdbV2.SubexpIndex("counter")]
				msg := sm[crdbV2.SubexpIndex("msg")]
				p := l[:len(l)-len(msg)-1]
				switch cont {
				case "|", "+":
					require.Equal(t, prefix, p, "%s: continuation with a different prefix", f)
					if cur != nil && cont == "|" {
						cur.WriteString(msg)
					}
					continue
				}
				finish()
				if sm[crdbV2.SubexpIndex("tags")] == "config" {
					require.Empty(t, counter)
					continue
				}
				c := int64(0)
				for _, ch := range counter {
					c = c*10 + int64(ch-'0')
				}
				require.Equal(t, last+1, c, "%s: counters must increase by one", f)
				last, prefix = c, p
				if cont == "=" {
					cur = &strings.Builder{}
					cur.WriteString(msg)
				}
			}
			finish()
		}
	}
	return payloads
}

func TestCRDBFormats(t *testing.T) {
	dir, tr := sharedRun(t)
	payloads := crdbPayloads(t, dir, tr)
	require.Equal(t, tr.Counts.CRDBEvents, int64(len(payloads))+countMessages(t, dir, tr))
	types := map[string]int{}
	for _, ev := range payloads {
		types[ev["EventType"].(string)]++
		_, err := ev["Timestamp"].(json.Number).Int64()
		require.NoError(t, err)
	}
	for _, want := range []string{"client_connection_start", "client_authentication_ok", "client_authentication_failed",
		"client_session_end", "client_connection_end", "query_execute", "sensitive_table_access", "sampled_query",
		"sampled_transaction", "slow_query", "set_cluster_setting", "grant_role"} {
		require.Positive(t, types[want], "no %s event", want)
	}
}

// countMessages counts unstructured (non-header) entries.
func countMessages(t *testing.T, dir string, tr *Truth) int64 {
	var n int64
	for _, nd := range tr.Nodes {
		files, _ := filepath.Glob(filepath.Join(dir, nd.LogDir, "cockroach*.*.log"))
		for _, f := range files {
			for _, l := range readLines(t, f) {
				if nd.Format == FormatJSON {
					if strings.Contains(l, `"message":`) && !strings.HasPrefix(l, `{"header"`) {
						n++
					}
				} else if sm := crdbV2.FindStringSubmatch(l); sm[crdbV2.SubexpIndex("cont")] == " " && sm[crdbV2.SubexpIndex("tags")] != "config" {
					n++
				}
			}
		}
	}
	return n
}

func TestSplitEntriesReassemble(t *testing.T) {
	dir, tr := sharedRun(t)
	found := 0
	for _, n := range tr.Nodes {
		if n.Format != FormatCRDBV2 {
			continue
		}
		lines := readLines(t, filepath.Join(dir, n.LogDir, "cockroach-sql-exec.log"))
		for i := 0; i < len(lines); i++ {
			if !strings.Contains(lines[i], "] ") || i+1 >= len(lines) {
				continue
			}
			next := crdbV2.FindStringSubmatch(lines[i+1])
			if next[crdbV2.SubexpIndex("cont")] != "|" {
				continue
			}
			first := crdbV2.FindStringSubmatch(lines[i])
			if first[crdbV2.SubexpIndex("cont")] != "=" {
				continue
			}
			joined := first[crdbV2.SubexpIndex("msg")]
			for j := i + 1; j < len(lines); j++ {
				sm := crdbV2.FindStringSubmatch(lines[j])
				if sm[crdbV2.SubexpIndex("cont")] != "|" {
					break
				}
				msg := sm[crdbV2.SubexpIndex("msg")]
				require.LessOrEqual(t, len(msg), maxV2Payload+len("›‹"))
				if strings.HasSuffix(joined, "›") {
					require.True(t, strings.HasPrefix(msg, "‹"), "a span closed at a split must reopen after '|'")
				}
				joined += msg
			}
			require.True(t, json.Valid([]byte(joined)), "reassembled entry is not JSON")
			require.True(t, json.Valid([]byte(strings.ReplaceAll(joined, "›‹", ""))))
			found++
		}
	}
	require.Positive(t, found, "no split entries generated")
}

func TestSplitV2(t *testing.T) {
	p := []byte(`{"Statement":"X ‹'` + strings.Repeat(`a\"b`, 30) + `'› Y"}`)
	pieces := splitV2(p, 20)
	require.Greater(t, len(pieces), 3)
	joined := bytes.Join(pieces, nil)
	require.True(t, json.Valid(joined))
	require.Equal(t, string(p), strings.ReplaceAll(string(joined), "›‹", ""))
}

var fernetRe = regexp.MustCompile(`gAAAAA[A-Za-z0-9_=-]+`)

func TestFernetTokensVerify(t *testing.T) {
	dir, tr := sharedRun(t)
	key := FernetKey(tr.Seed)
	n := 0
	for _, f := range []string{"django/app.log", "django/app.json.log", filepath.Join(tr.Nodes[0].LogDir, "cockroach-sql-exec.log")} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		require.NoError(t, err)
		for _, tok := range fernetRe.FindAll(b, -1) {
			ts, pt, err := FernetDecrypt(key, string(tok))
			require.NoError(t, err, "token %s", tok)
			require.NotEmpty(t, pt)
			require.Greater(t, ts, tr.startUnix()-86400)
			n++
		}
	}
	require.Positive(t, n)
	_, _, err := FernetDecrypt(FernetKey(tr.Seed+1), string(fernetRe.Find(mustRead(t, filepath.Join(dir, "django/app.log")))))
	require.ErrorIs(t, err, ErrFernetMAC)
}

func mustRead(t *testing.T, p string) []byte {
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	return b
}

func (tr *Truth) startUnix() int64 {
	s, _ := time.Parse(time.RFC3339, tr.Start)
	return s.Unix()
}

var djTextRe = regexp.MustCompile(`^(DEBUG|INFO|WARNING|ERROR|CRITICAL) \d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \w+ \d+ \d+ `)

func TestDjangoFormats(t *testing.T) {
	dir, tr := sharedRun(t)
	records := 0
	for _, l := range readLines(t, filepath.Join(dir, "django/app.json.log")) {
		m := decode(t, l)
		for _, k := range []string{"asctime", "levelname", "name", "message"} {
			require.Contains(t, m, k)
		}
		require.False(t, strings.ContainsFunc(l, func(r rune) bool { return r > 127 }), "ensure_ascii output")
		records++
	}
	inTraceback := false
	for _, l := range readLines(t, filepath.Join(dir, "django/app.log")) {
		if djTextRe.MatchString(l) {
			records++
			inTraceback = strings.HasPrefix(l, "ERROR")
			continue
		}
		require.True(t, inTraceback, "unexpected continuation line: %.200s", l)
	}
	require.Equal(t, tr.Counts.DjangoRecords, int64(records))
}

func TestTruth(t *testing.T) {
	dir, _ := sharedRun(t)
	var tr Truth
	require.NoError(t, json.Unmarshal(mustRead(t, filepath.Join(dir, "truth.json")), &tr))
	start, err := time.Parse(time.RFC3339, tr.Start)
	require.NoError(t, err)
	end, err := time.Parse(time.RFC3339, tr.End)
	require.NoError(t, err)
	require.Equal(t, "UTC", tr.DjangoTimezone)
	require.Equal(t, GeneratorVersion, tr.GeneratorVersion)
	for _, f := range tr.Files {
		_, err := os.Lstat(filepath.Join(dir, f))
		require.NoError(t, err, f)
	}
	perDay := map[string]map[int]bool{}
	prev := ""
	for _, inc := range tr.Incidents {
		var ts [3]time.Time
		for i, s := range []string{inc.FirstSeen, inc.DecisiveTime, inc.LastSeen} {
			ts[i], err = time.Parse(time.RFC3339Nano, s)
			require.NoError(t, err)
			require.False(t, ts[i].Before(start) || !ts[i].Before(end), "%s: %s outside the range", inc.ID, s)
		}
		require.False(t, ts[1].Before(ts[0]) || ts[2].Before(ts[1]), "%s: first <= decisive <= last", inc.ID)
		key := inc.FirstSeen + "\x00" + inc.ID
		require.LessOrEqual(t, prev, key, "incidents must be sorted by first_seen, id")
		prev = key
		require.NotEmpty(t, inc.Description)
		require.NotEmpty(t, inc.Principal.ClientAddr)
		require.Equal(t, inc.Lookalike, inc.ExpectedRule == "", inc.ID)
		if !inc.Lookalike {
			if perDay[inc.Category] == nil {
				perDay[inc.Category] = map[int]bool{}
			}
			perDay[inc.Category][int(ts[0].Sub(start)/(24*time.Hour))] = true
		}
	}
	cats := make([]string, 0, len(perDay))
	for c := range perDay {
		cats = append(cats, c)
	}
	sort.Strings(cats)
	for _, c := range []string{"tls_plaintext_sensitive", "tls_plaintext", "plaintext_write", "sqli", "brute_force", "audit_tampering", "audit_silence"} {
		require.Len(t, perDay[c], tr.Days, "category %s must appear every day (have %v)", c, cats)
	}
	for _, c := range []string{"off_hours", "plaintext_read", "exfiltration", "new_principal", "new_client_network"} {
		require.Equal(t, map[int]bool{tr.Days - 1: true}, perDay[c], "category %s is planted on the last day (have %v)", c, cats)
	}
	require.Equal(t, PlaintextColumns, tr.CatalogPlaintext)
	// Every category has benign look-alikes.
	look := map[string]bool{}
	for _, inc := range tr.Incidents {
		if inc.Lookalike {
			look[inc.Category] = true
		}
	}
	for _, c := range cats {
		if c == "tls_plaintext_sensitive" || c == "audit_silence" {
			continue // covered by tls_plaintext and audit_tampering look-alikes
		}
		require.True(t, look[c], "category %s has no look-alike", c)
	}
}

// The off-hours incident happens at night on the last day, when reporting
// never works otherwise; the silence starts before and becomes detectable
// after the tampering it follows.
func TestNewCategoryTimes(t *testing.T) {
	_, tr := sharedRun(t)
	var tamper []*Incident
	for _, inc := range tr.Incidents {
		first, _ := time.Parse(time.RFC3339Nano, inc.FirstSeen)
		dec, _ := time.Parse(time.RFC3339Nano, inc.DecisiveTime)
		switch {
		case inc.Category == "off_hours" && !inc.Lookalike:
			require.Equal(t, "reporting", inc.Principal.User)
			require.True(t, dec.Hour() >= 2 && dec.Hour() <= 3, "off_hours at %s", inc.DecisiveTime)
		case inc.Category == "plaintext_read" && !inc.Lookalike:
			require.Equal(t, "RW-CRYPTO-002", inc.ExpectedRule)
		case inc.Category == "audit_tampering" && !inc.Lookalike:
			tamper = append(tamper, inc)
		case inc.Category == "audit_silence":
			require.Equal(t, 10*time.Minute, dec.Sub(first), inc.ID)
		}
	}
	for _, tp := range tamper {
		var sil *Incident
		for _, inc := range tr.Incidents {
			if inc.ID == tp.ID+"-silence" {
				sil = inc
			}
		}
		require.NotNil(t, sil, "no silence for %s", tp.ID)
		require.Equal(t, tp.Principal.User, sil.Principal.User)
		require.Less(t, sil.FirstSeen, tp.LastSeen)
		require.Greater(t, sil.DecisiveTime, tp.DecisiveTime)
	}
}

func TestPlaintextValuesPlanted(t *testing.T) {
	dir, tr := sharedRun(t)
	ssnRe := regexp.MustCompile(`SET ssn = ‹'\d{3}-\d{2}-\d{4}'›`)
	cardRe := regexp.MustCompile(`‹'(\d{16})'›`)
	var ssnSeen, cardSeen bool
	for _, n := range tr.Nodes {
		b := mustRead(t, filepath.Join(dir, n.LogDir, "cockroach-sql-exec.log"))
		ssnSeen = ssnSeen || ssnRe.Match(b)
		for _, m := range cardRe.FindAllSubmatch(b, -1) {
			cardSeen = cardSeen || LuhnValid(string(m[1]))
		}
	}
	require.True(t, ssnSeen, "no plaintext SSN write")
	require.True(t, cardSeen, "no Luhn-valid plaintext card number")
}
