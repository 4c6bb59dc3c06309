package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roachwatch/detectors"
	"roachwatch/internal/cli"
	"roachwatch/pipeline/loggen"
	"roachwatch/schemas"
)

// generate writes a loggen scenario into a temp dir and returns it with
// its truth.
func generate(t *testing.T, seed uint64, days, rate int) (string, *loggen.Truth) {
	t.Helper()
	dir := t.TempDir()
	cfg := loggen.DefaultConfig()
	cfg.Out, cfg.Seed, cfg.Days, cfg.Rate = dir, seed, days, rate
	truth, err := loggen.Generate(cfg)
	require.NoError(t, err)
	return dir, truth
}

// analyze runs `analyze run` in-process and returns the findings file's
// bytes, the decoded findings and the exit code.
func analyze(t *testing.T, args ...string) ([]byte, []detectors.Finding, int) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "findings.jsonl")
	root := newRoot()
	var stdout, stderr bytes.Buffer
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	root.SetArgs(append([]string{"run", "--progress", "never", "--output", out}, args...))
	err := root.Execute()
	code := cli.Code(err)
	require.Contains(t, []int{cli.ExitOK, cli.ExitFindings}, code, "analyze failed: %v\nstderr:\n%s", err, stderr.String())
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	var fs []detectors.Finding
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var f detectors.Finding
		require.NoError(t, json.Unmarshal(sc.Bytes(), &f))
		fs = append(fs, f)
	}
	require.NoError(t, sc.Err())
	return b, fs, code
}

func within(ts string, f detectors.Finding) bool {
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return false
	}
	return !t.Before(f.FirstSeen) && !t.After(f.LastSeen)
}

// TestEmbeddedRunFindsPlantedTLSIncidents is the end-to-end test of the
// spine: loggen output through every parser, the normalizer and RW-TLS-001.
func TestEmbeddedRunFindsPlantedTLSIncidents(t *testing.T) {
	t.Setenv("ROACHWATCH_REDACTION_KEY", "e2e-test-key-0123456789")
	dir, truth := generate(t, 7, 2, 4000)
	raw, findings, _ := analyze(t, "--input", dir)

	findingSchema, err := schemas.Compile(schemas.Finding)
	require.NoError(t, err)
	for _, line := range bytes.Split(bytes.TrimSpace(raw), []byte("\n")) {
		require.NoError(t, schemas.Validate(findingSchema, line), "finding does not match its schema: %s", line)
	}

	var tls []detectors.Finding
	for _, f := range findings {
		if f.RuleID == "RW-TLS-001" {
			tls = append(tls, f)
		}
	}
	planted := 0
	matched := make([]bool, len(tls))
	for _, inc := range truth.Incidents {
		if inc.ExpectedRule != "RW-TLS-001" || inc.Lookalike {
			continue
		}
		planted++
		found := false
		for i, f := range tls {
			if f.Principal.User == inc.Principal.User && f.Principal.ClientAddr == inc.Principal.ClientAddr && within(inc.DecisiveTime, f) {
				found = true
				matched[i] = true
				if inc.Severity != "" {
					require.Equal(t, inc.Severity, f.Severity.String(), "incident %s (%s)", inc.ID, inc.Category)
				}
			}
		}
		require.True(t, found, "planted incident %s (%s, %s@%s at %s) not found", inc.ID, inc.Category,
			inc.Principal.User, inc.Principal.ClientAddr, inc.DecisiveTime)
	}
	require.GreaterOrEqual(t, planted, 4, "the scenario must plant non-TLS sessions")
	for i, f := range tls {
		require.True(t, matched[i], "RW-TLS-001 on a session that was not planted without TLS: %s@%s %s", f.Principal.User, f.Principal.ClientAddr, f.Summary)
	}
}

// The same input gives byte-identical findings, whatever the scheduling.
func TestEmbeddedRunIsDeterministic(t *testing.T) {
	t.Setenv("ROACHWATCH_REDACTION_KEY", "e2e-test-key-0123456789")
	dir, _ := generate(t, 11, 1, 3000)
	a, fa, _ := analyze(t, "--input", dir)
	t.Setenv("ROACHWATCH_RUN_WORKERS", "1")
	b, _, _ := analyze(t, "--input", dir)
	require.NotEmpty(t, fa)
	require.Equal(t, string(a), string(b))
}

func TestFailOnExitCode(t *testing.T) {
	t.Setenv("ROACHWATCH_REDACTION_KEY", "e2e-test-key-0123456789")
	dir, _ := generate(t, 3, 1, 2000)
	_, fs, code := analyze(t, "--input", dir, "--fail-on", "critical")
	require.NotEmpty(t, fs)
	require.Equal(t, cli.ExitFindings, code)
}

func TestEventsOutputMatchesSchema(t *testing.T) {
	t.Setenv("ROACHWATCH_REDACTION_KEY", "e2e-test-key-0123456789")
	dir, _ := generate(t, 5, 1, 1500)
	events := filepath.Join(t.TempDir(), "events.jsonl")
	analyze(t, "--input", dir, "--events-output", events)
	s, err := schemas.Compile(schemas.Event)
	require.NoError(t, err)
	f, err := os.Open(events)
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	n := 0
	for sc.Scan() {
		line := sc.Bytes()
		require.NoError(t, schemas.Validate(s, line), "event does not match its schema: %.500s", line)
		var doc any
		require.NoError(t, json.Unmarshal(line, &doc))
		for _, str := range stringsOf(doc) {
			for name, re := range leaks {
				if m := re.FindString(str); m != "" && !strings.Contains(m, "‹#") && (name != "card" || loggen.LuhnValid(m)) {
					t.Fatalf("%s in the clear in an event: %q in %.300s", name, m, line)
				}
			}
		}
		n++
	}
	require.NoError(t, sc.Err())
	require.Greater(t, n, 1000)
}

// leaks are shapes of sensitive values that must never reach an event.
var leaks = map[string]*regexp.Regexp{
	"ssn":          regexp.MustCompile(`\b\d{3}-\d{2}-\d{4}\b`),
	"card":         regexp.MustCompile(`\b\d{13,19}\b`),
	"dsn password": regexp.MustCompile(`(?i)postgres(?:ql)?://[^:/\s"]+:[^@\s"*]+@`),
	"jwt":          regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.`),
}

// stringsOf returns the string values of a decoded JSON document that are
// text, not bare numeric ids (hashes and uint64 fingerprint ids are
// all-digit strings and may be Luhn-valid by chance).
func stringsOf(v any) []string {
	var out []string
	switch x := v.(type) {
	case string:
		if strings.Trim(x, "0123456789") != "" {
			out = append(out, x)
		}
	case map[string]any:
		for _, e := range x {
			out = append(out, stringsOf(e)...)
		}
	case []any:
		for _, e := range x {
			out = append(out, stringsOf(e)...)
		}
	}
	return out
}

// --state saves baselines after a run and restores them in the next.
func TestStateFileSurvivesRestart(t *testing.T) {
	t.Setenv("ROACHWATCH_REDACTION_KEY", "e2e-test-key-0123456789")
	dir, _ := generate(t, 9, 1, 1500)
	state := filepath.Join(t.TempDir(), "baselines.state")
	analyze(t, "--input", dir, "--state", state)
	st, err := os.Stat(state)
	require.NoError(t, err)
	require.Greater(t, st.Size(), int64(100), "the anomaly baselines are in the file")
	analyze(t, "--input", dir, "--state", state) // restores, runs, saves again
	require.NoError(t, os.WriteFile(state, []byte("not a state file"), 0o600))
	root := newRoot()
	root.SetOut(io.Discard)
	root.SetErr(io.Discard)
	root.SetArgs([]string{"run", "--progress", "never", "--input", dir, "--state", state})
	err = root.Execute()
	require.ErrorContains(t, err, "not a roachwatch state file")
}

// The acceptance test for the detector catalog: on a multi-day
// loggen scenario, every planted incident is found and no look-alike gets
// a high or critical finding.
func TestEvalMultiDayScenario(t *testing.T) {
	t.Setenv("ROACHWATCH_REDACTION_KEY", "e2e-test-key-0123456789")
	dir, _ := generate(t, 13, 3, 6000)
	root := newRoot()
	var stdout, stderr bytes.Buffer
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	root.SetArgs([]string{"eval", "--progress", "never", "--format", "json", "--input", filepath.Join(dir, "crdb"),
		"--input", filepath.Join(dir, "django"), "--truth", filepath.Join(dir, "truth.json")})
	err := root.Execute()
	var rep EvalReport
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &rep), "stderr: %s", stderr.String())
	require.NoError(t, err, "eval: %s", stdout.String())
	require.Equal(t, 1.0, rep.Recall)
	require.Zero(t, rep.FalseAlarms)
	cats := map[string]bool{}
	for _, c := range rep.Categories {
		cats[c.Category] = true
		require.Empty(t, c.Missed, c.Category)
	}
	for _, c := range []string{"tls_plaintext", "tls_plaintext_sensitive", "plaintext_write", "sqli", "brute_force",
		"privilege_escalation", "audit_tampering", "audit_silence", "secrets_in_logs", "exfiltration", "new_principal",
		"new_client_network", "off_hours", "plaintext_read"} {
		require.True(t, cats[c], "category %s planted and scored", c)
	}
}
