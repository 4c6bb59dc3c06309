package alertsink

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"roachwatch/detectors"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestSlackPayloadGolden(t *testing.T) {
	crit := fnd("RW-TLS-001", "app", "", detectors.SeverityCritical, 42, t0.Add(17*time.Minute))
	crit.Title = "SQL session without TLS touched a sensitive column"
	crit.Summary = "app <script> & friends read users.ssn over 3 sessions without TLS from 10.0.3.7"
	rose := fnd("RW-SQLI-001", "web", "", detectors.SeverityCritical, 7, t0.Add(3*time.Minute))
	rose.Query = "SELECT * FROM roachwatch.events WHERE fingerprint LIKE '%```%'"
	high := detectors.SeverityHigh
	long := fnd("RW-TLS-001", "etl", "", detectors.SeverityLow, 1, t0)
	long.Summary = strings.Repeat("very long summary ", 300)
	cases := map[string]*Alert{
		"slack_critical.json": newAlert(&crit, testRules["RW-TLS-001"], IncidentKey(&crit), ReasonNew, nil,
			t0.Add(18*time.Minute), "https://grafana.example/d/rw?var-finding={finding_id}"),
		"slack_severity_rose.json": newAlert(&rose, testRules["RW-SQLI-001"], IncidentKey(&rose), ReasonSeverityRose, &high, t0.Add(4*time.Minute), ""),
		"slack_long.json":          newAlert(&long, detectors.Rule{}, IncidentKey(&long), ReasonNew, nil, t0, ""),
	}
	for name, a := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := slackPayload(a)
			require.NoError(t, err)
			var pretty bytes.Buffer
			require.NoError(t, json.Indent(&pretty, got, "", "  "))
			pretty.WriteByte('\n')
			path := filepath.Join("testdata", name)
			if *update {
				require.NoError(t, os.WriteFile(path, pretty.Bytes(), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err)
			require.JSONEq(t, string(want), string(got))
			checkSlackLimits(t, got)
		})
	}
}

// checkSlackLimits checks the Block Kit limits an incoming webhook enforces.
func checkSlackLimits(t *testing.T, b []byte) {
	t.Helper()
	var m slackMessage
	require.NoError(t, json.Unmarshal(b, &m))
	require.NotEmpty(t, m.Text)
	require.LessOrEqual(t, len(m.Blocks), 50)
	for _, bl := range m.Blocks {
		if bl.Text != nil {
			max := slackTextMax
			if bl.Type == "header" {
				max = slackHeaderMax
			}
			require.LessOrEqual(t, utf8.RuneCountInString(bl.Text.Text), max)
		}
		for _, f := range bl.Fields {
			require.LessOrEqual(t, utf8.RuneCountInString(f.Text), slackFieldMax)
		}
	}
}
