package auditrule

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roachwatch/detectors"
	"roachwatch/pipeline/event"
)

var t0 = time.Date(2025, 6, 9, 0, 30, 0, 0, time.UTC).UnixNano()

var seq int

func sqlEv(typ, user, tag, fp string, dt time.Duration) *event.Event {
	seq++
	return &event.Event{ID: fmt.Sprintf("e%d", seq), Time: t0 + int64(dt), Source: event.SourceCRDB, Type: typ, Node: "1",
		Channel: "SQL_EXEC", User: user, ClientAddr: "198.51.100.167", Application: "$ cockroach sql", StatementTag: tag, Fingerprint: fp}
}

// auditStmt is ALTER TABLE ... EXPERIMENTAL_AUDIT as SQL_EXEC and TELEMETRY log it.
func auditStmt(user, table, mode string, dt time.Duration) []*event.Event {
	fp := "alter table " + table + " experimental_audit set " + mode
	a, b := sqlEv("query_execute", user, "ALTER TABLE", fp, dt), sqlEv("sampled_query", user, "ALTER TABLE", fp, dt)
	b.Channel = "TELEMETRY"
	return []*event.Event{a, b}
}

// setting is SET CLUSTER SETTING with its OPS event and SQL_EXEC copy.
func setting(user, name, value string, dt time.Duration) []*event.Event {
	fp := `set cluster setting "` + name + `" = ?`
	ops := sqlEv("set_cluster_setting", user, "SET CLUSTER SETTING", fp, dt)
	ops.Channel, ops.SettingName, ops.SettingValue = "OPS", name, value
	return []*event.Event{sqlEv("query_execute", user, "SET CLUSTER SETTING", fp, dt), ops}
}

func cat(groups ...[]*event.Event) []*event.Event {
	var out []*event.Event
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

func run(t *testing.T, cfg Config, in []*event.Event) []detectors.Finding {
	t.Helper()
	require.NoError(t, cfg.Validate())
	e, err := detectors.NewEngine([]detectors.Detector{New(cfg)}, nil)
	require.NoError(t, err)
	for _, ev := range in {
		before := fmt.Sprintf("%+v", *ev)
		e.Observe(ev)
		require.Equal(t, before, fmt.Sprintf("%+v", *ev), "Observe must not modify the event")
	}
	e.Finish()
	return e.Findings()
}

func TestAudit001Tamper(t *testing.T) {
	type want struct {
		severity detectors.Severity
		count    int64
		detail   string
	}
	cases := []struct {
		name   string
		events []*event.Event
		want   []want
	}{
		{name: "audit off on a sensitive table, logged twice, counts once",
			events: auditStmt("root", "patients", "off", 0), want: []want{{detectors.SeverityCritical, 1, "audit_off patients"}}},
		{name: "audit off on another table is high",
			events: auditStmt("root", `"".orders`, "off", 0), want: []want{{detectors.SeverityHigh, 1, "audit_off orders"}}},
		{name: "look-alike: turning auditing on is quiet",
			events: cat(auditStmt("root", "patients", "read write", 0), auditStmt("root", "customers", "read", time.Second))},
		{name: "auth session log switched off",
			events: setting("root", "server.auth_log.sql_sessions.enabled", "false", 0),
			want:   []want{{detectors.SeverityHigh, 1, "setting server.auth_log.sql_sessions.enabled"}}},
		{name: "look-alike: operator turning logging on is quiet",
			events: cat(setting("root", "server.auth_log.sql_sessions.enabled", "true", 0), setting("root", "sql.log.all_statements.enabled", "true", time.Second))},
		{name: "statement log, old name, event log and admin audit off",
			events: cat(setting("mallory", "sql.trace.log_statement_execute", "off", 0), setting("mallory", "server.eventlog.enabled", "false", time.Second),
				setting("mallory", "sql.log.admin_audit.enabled", "false", 2*time.Second)),
			want: []want{{detectors.SeverityHigh, 3, "setting server.eventlog.enabled"}}},
		{name: "user audit emptied", events: setting("root", "sql.log.user_audit", "''", 0),
			want: []want{{detectors.SeverityHigh, 1, "setting sql.log.user_audit"}}},
		{name: "user audit set to NONE for everyone", events: setting("root", "sql.log.user_audit", "ALL NONE", 0),
			want: []want{{detectors.SeverityHigh, 1, "setting sql.log.user_audit"}}},
		{name: "look-alike: user audit configured", events: setting("root", "sql.log.user_audit", "web ALL\nreporting NONE", 0)},
		{name: "HBA trust is critical", events: setting("root", "server.host_based_authentication.configuration", "host all all 0.0.0.0/0 trust", 0),
			want: []want{{detectors.SeverityCritical, 1, "setting server.host_based_authentication.configuration"}}},
		{name: "HBA hostnossl is high", events: setting("root", "server.host_based_authentication.configuration", "hostnossl all all all password", 0),
			want: []want{{detectors.SeverityHigh, 1, "setting server.host_based_authentication.configuration"}}},
		{name: "look-alike: strict HBA and the same loose rule set again",
			events: cat(setting("root", "server.host_based_authentication.configuration", "hostssl all all all cert-password", 0),
				setting("root", "server.host_based_authentication.configuration", "hostnossl all web 10.0.0.0/8 password", 2*time.Minute),
				setting("root", "server.host_based_authentication.configuration", "hostnossl all web 10.0.0.0/8 password\nhostssl all all all cert", 4*time.Minute)),
			want: []want{{detectors.SeverityHigh, 1, "setting server.host_based_authentication.configuration"}}},
		{name: "telemetry sampling and name redaction off are low",
			events: cat(setting("root", "sql.telemetry.query_sampling.enabled", "false", 0), setting("root", "sql.log.redact_names.enabled", "false", time.Second)),
			want:   []want{{detectors.SeverityLow, 2, "setting sql.log.redact_names.enabled"}}},
		{name: "tamper then restore by an operator: one incident, the restore is quiet",
			events: cat(auditStmt("root", "patients", "off", 0), setting("root", "server.auth_log.sql_sessions.enabled", "false", 5*time.Second),
				setting("ops", "server.auth_log.sql_sessions.enabled", "true", 22*time.Minute), auditStmt("ops", "patients", "read write", 23*time.Minute)),
			want: []want{{detectors.SeverityCritical, 2, "setting server.auth_log.sql_sessions.enabled"}}},
		{name: "settings roachwatch does not watch are quiet", events: setting("root", "sql.log.slow_query.latency_threshold", "0", 0)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := run(t, DefaultConfig(), tc.events)
			require.Len(t, got, len(tc.want), "findings: %+v", got)
			for i, w := range tc.want {
				f := got[i]
				require.Equal(t, Rule001.ID, f.RuleID)
				require.Equal(t, w.severity, f.Severity, f.Summary)
				require.Equal(t, w.count, f.Count)
				require.Contains(t, f.Details, w.detail)
				require.NotEmpty(t, f.Principal.User)
				require.Contains(t, f.Query, "roachwatch.events")
			}
		})
	}
}

// traffic emits one event every step on each stream from start to end;
// stop[node] ends that node's stream early.
func traffic(nodes []string, start, end, step time.Duration, stop map[string]time.Duration) []*event.Event {
	var out []*event.Event
	for dt := start; dt < end; dt += step {
		for _, n := range nodes {
			if s, ok := stop[n]; ok && dt >= s {
				continue
			}
			seq++
			out = append(out, &event.Event{ID: "t" + strconv.Itoa(seq), Time: t0 + int64(dt), Source: event.SourceCRDB,
				Type: "client_authentication_info", Channel: "SESSIONS", Node: n, User: "web", ClientAddr: "10.20.3.14"})
		}
	}
	return out
}

func TestAudit001Silence(t *testing.T) {
	nodes := []string{"1", "2", "3"}
	cases := []struct {
		name     string
		events   []*event.Event
		severity detectors.Severity
		want     int
		user     string
		gapAtMin time.Duration
	}{
		{name: "one node falls silent while the others continue",
			events: traffic(nodes, 0, 100*time.Minute, 10*time.Second, map[string]time.Duration{"1": 70 * time.Minute}),
			want:   1, severity: detectors.SeverityMedium, gapAtMin: 10 * time.Minute},
		{name: "silence after a tamper change joins its incident",
			events: mergeByTime(traffic(nodes, 0, 100*time.Minute, 10*time.Second, map[string]time.Duration{"1": 70 * time.Minute}),
				setting("mallory", "server.auth_log.sql_sessions.enabled", "false", 70*time.Minute+time.Second)),
			want: 1, severity: detectors.SeverityHigh, user: "mallory", gapAtMin: 10 * time.Minute},
		{name: "whole cluster quiet at the end of the log is not a silence",
			events: traffic(nodes, 0, 70*time.Minute, 10*time.Second, nil)},
		{name: "whole cluster quiet for an hour, then resuming, is not a silence",
			events: cat(traffic(nodes, 0, 70*time.Minute, 10*time.Second, nil), traffic(nodes, 130*time.Minute, 160*time.Minute, 10*time.Second, nil))},
		{name: "gap shorter than silence_after is quiet",
			events: mergeByTime(traffic([]string{"2", "3"}, 0, 100*time.Minute, 10*time.Second, nil),
				traffic([]string{"1"}, 0, 60*time.Minute, 10*time.Second, nil), traffic([]string{"1"}, 69*time.Minute, 100*time.Minute, 10*time.Second, nil))},
		{name: "a stream that is always sparse is not steady",
			events: mergeByTime(traffic([]string{"2", "3"}, 0, 3*time.Hour, 10*time.Second, nil), traffic([]string{"1"}, 0, 3*time.Hour, 20*time.Minute, nil))},
		{name: "a burst is not steady: too few minutes with events",
			events: traffic(nodes, 25*time.Minute, 100*time.Minute, 10*time.Second, map[string]time.Duration{"1": 60 * time.Minute})},
		{name: "silence_after boundary: 9m50s is quiet",
			events: mergeByTime(traffic([]string{"2", "3"}, 0, 100*time.Minute, 10*time.Second, nil),
				traffic([]string{"1"}, 0, 60*time.Minute, 10*time.Second, nil), traffic([]string{"1"}, 69*time.Minute+40*time.Second, 100*time.Minute, 10*time.Second, nil))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := run(t, DefaultConfig(), tc.events)
			require.Len(t, got, tc.want, "findings: %+v", got)
			if tc.want == 0 {
				return
			}
			f := got[0]
			require.Equal(t, tc.severity, f.Severity, f.Summary)
			require.Equal(t, tc.user, f.Principal.User)
			var silence string
			for k, v := range f.Details {
				if strings.HasPrefix(k, "silence ") {
					require.Equal(t, "silence n1/SESSIONS/client_authentication_info", k)
					silence = v
				}
			}
			require.Contains(t, silence, "last event")
			require.Equal(t, "1", f.Node)
			require.GreaterOrEqual(t, f.LastSeen.Sub(f.FirstSeen), tc.gapAtMin)
		})
	}
}

func mergeByTime(groups ...[]*event.Event) []*event.Event {
	out := cat(groups...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Time < out[j-1].Time; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func TestAudit001SilenceResumeAndFinish(t *testing.T) {
	d := New(DefaultConfig())
	var occ []detectors.Finding
	// Node 1's last event is at 69m50s; the others log until 79m50s,
	// when its silence reaches silence_after, after the last periodic scan
	// (79m00s): only Finish can report it.
	for _, ev := range traffic([]string{"1", "2", "3"}, 0, 79*time.Minute+55*time.Second, 10*time.Second, map[string]time.Duration{"1": 70 * time.Minute}) {
		occ = d.Observe(ev, occ)
	}
	require.Empty(t, occ)
	fin := d.Finish(t0+int64(5*time.Hour), nil)
	require.Len(t, fin, 1, "Finish reports the silence due at the last event; a later lastTime does not extend it")
	require.Equal(t, 10*time.Minute, fin[0].LastSeen.Sub(fin[0].FirstSeen))
	require.Len(t, d.Finish(t0+int64(6*time.Hour), nil), 0, "a reported silence is not reported again")
	// Node 1 speaks again: the silence closes with its length, same incident.
	res := d.Observe(traffic([]string{"1"}, 82*time.Minute, 82*time.Minute+time.Second, time.Second, nil)[0], nil)
	require.Len(t, res, 1)
	all := append(append(occ, fin...), res...)
	require.Equal(t, all[0].ID, res[0].ID)
	require.Zero(t, res[0].Count)
	for _, v := range res[0].Details {
		require.Contains(t, v, "silent for 12m10s")
	}
}

func TestAudit001StreamsAreBounded(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxStreams = 8
	d := New(cfg)
	for i := 0; i < 100; i++ {
		d.Observe(&event.Event{ID: "x", Time: t0 + int64(i), Source: event.SourceCRDB, Type: "log", Channel: "OPS", Node: strconv.Itoa(i)}, nil)
		require.LessOrEqual(t, len(d.streams), 8)
	}
	_, ok := d.streams[streamKey{node: "99", channel: "OPS", typ: "log"}]
	require.True(t, ok, "the newest stream is kept, the oldest dropped")
}

func TestActivity(t *testing.T) {
	var a activity
	min := int64(time.Minute)
	for _, m := range []int64{10, 11, 12, 70, 200} {
		a.mark(m * min)
	}
	require.Equal(t, 5, a.count(0, 200))
	require.Equal(t, 3, a.count(10, 70)) // 11, 12 and 70
	require.Equal(t, 0, a.count(71, 199))
	a.mark((200 + activityMinutes) * min) // everything older falls off the ring
	require.Equal(t, 1, a.count(0, 200+activityMinutes))
}

func TestConfigValidate(t *testing.T) {
	require.NoError(t, DefaultConfig().Validate())
	c := DefaultConfig()
	c.Window, c.SilenceAfter, c.SteadyMinutes, c.ClusterActiveRatio, c.MaxStreams = 0, time.Second, 65, 2, 1
	err := c.Validate()
	require.Error(t, err)
	for _, k := range []string{"window", "silence_after", "steady_minutes", "cluster_active_ratio", "max_streams"} {
		require.Contains(t, err.Error(), "detectors.audit."+k)
	}
}

// BenchmarkObserve runs steady multi-node traffic with periodic scans.
func BenchmarkObserve(b *testing.B) {
	in := traffic([]string{"1", "2", "3", "4", "5"}, 0, time.Hour, time.Second, nil)
	chans := []string{"SESSIONS", "SQL_EXEC", "TELEMETRY", "SENSITIVE_ACCESS"}
	for i, ev := range in {
		ev.Channel = chans[i%len(chans)]
		ev.StatementTag, ev.Fingerprint = "SELECT", "select id from patients where id = ?"
	}
	d := New(DefaultConfig())
	out := make([]detectors.Finding, 0, 4)
	span := in[len(in)-1].Time - in[0].Time + int64(time.Second)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev := *in[i%len(in)]
		ev.Time += int64(i/len(in)) * span
		out = d.Observe(&ev, out[:0])
	}
}
