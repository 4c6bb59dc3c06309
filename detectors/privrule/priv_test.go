package privrule

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roachwatch/detectors"
	"roachwatch/pipeline/event"
)

var t0 = time.Date(2025, 6, 9, 8, 9, 39, 0, time.UTC).UnixNano()

var seq int

// stmt builds an event of type typ run by user with fingerprint fp.
func stmt(typ, user, tag, fp string, mod ...func(*event.Event)) *event.Event {
	seq++
	e := &event.Event{ID: fmt.Sprintf("e%d", seq), Time: t0, Source: event.SourceCRDB, Type: typ, Node: "2", User: user,
		ClientAddr: "192.0.2.209", Application: "$ cockroach sql", StatementTag: tag, Fingerprint: fp, FingerprintHash: uint64(len(fp))}
	for _, m := range mod {
		m(e)
	}
	return e
}

func grantRole(user string, roles, members []string) *event.Event {
	return stmt("grant_role", user, "GRANT", fmt.Sprintf("grant %s to %s", roles[0], members[0]), func(e *event.Event) {
		e.Channel, e.Roles, e.Members = "USER_ADMIN", roles, members
	})
}

func roleOpts(typ, user, role string, opts []string, fp string) *event.Event {
	return stmt(typ, user, "ALTER ROLE", fp, func(e *event.Event) { e.RoleName, e.Options = role, opts })
}

func tablePriv(user, table, grantee string, granted, revoked []string) *event.Event {
	return stmt("change_table_privilege", user, "GRANT", "grant ... on "+table, func(e *event.Event) {
		e.Channel, e.Object, e.Grantee, e.GrantedPrivileges, e.RevokedPrivileges = "PRIVILEGES", table, grantee, granted, revoked
	})
}

// copies returns the SQL_EXEC and TELEMETRY copies of a statement.
func copies(user, tag, fp string, dt time.Duration) []*event.Event {
	at := func(e *event.Event) { e.Time += int64(dt) }
	return []*event.Event{stmt("query_execute", user, tag, fp, at), stmt("sampled_query", user, tag, fp, at)}
}

func at(dt time.Duration, e *event.Event) *event.Event { e.Time += int64(dt); return e }

func evs(groups ...any) []*event.Event {
	var out []*event.Event
	for _, g := range groups {
		switch v := g.(type) {
		case *event.Event:
			out = append(out, v)
		case []*event.Event:
			out = append(out, v...)
		}
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

func TestPriv001(t *testing.T) {
	noApps := DefaultConfig()
	noApps.AppUsers = nil
	type want struct {
		severity detectors.Severity
		count    int64
		user     string
	}
	cases := []struct {
		name   string
		cfg    *Config
		events []*event.Event
		want   []want
	}{
		{name: "root grants admin to the app user web",
			events: evs(grantRole("root", []string{"admin"}, []string{"web"})), want: []want{{detectors.SeverityCritical, 1, "root"}}},
		{name: "structured event and its two SQL copies count once",
			events: evs(grantRole("root", []string{"admin"}, []string{"web"}), copies("root", "GRANT", "grant admin to web", 0)),
			want:   []want{{detectors.SeverityCritical, 1, "root"}}},
		{name: "SQL copies first, then the structured event, still once",
			events: evs(copies("root", "GRANT", "grant admin to web", 0), grantRole("root", []string{"admin"}, []string{"web"})),
			want:   []want{{detectors.SeverityCritical, 1, "root"}}},
		{name: "fallback from the fingerprint when USER_ADMIN is not collected",
			events: evs(copies("root", "GRANT", "grant admin to web", 0)), want: []want{{detectors.SeverityCritical, 1, "root"}}},
		{name: "copy logged in the next minute is the same statement",
			events: evs(grantRole("root", []string{"admin"}, []string{"web"}), copies("root", "GRANT", "grant admin to web", 59*time.Second)),
			want:   []want{{detectors.SeverityCritical, 1, "root"}}},
		{name: "the same grant run again an hour later is a new incident",
			events: evs(grantRole("root", []string{"admin"}, []string{"web"}), at(2*time.Hour, grantRole("root", []string{"admin"}, []string{"web"}))),
			want:   []want{{detectors.SeverityCritical, 1, "root"}, {detectors.SeverityCritical, 1, "root"}}},
		{name: "operator grants admin to a human role: medium",
			events: evs(grantRole("root", []string{"admin"}, []string{"alice"})), want: []want{{detectors.SeverityMedium, 1, "root"}}},
		{name: "non-operator grants admin: high",
			events: evs(grantRole("bob", []string{"admin"}, []string{"alice"})), want: []want{{detectors.SeverityHigh, 1, "bob"}}},
		{name: "any role granted to an application principal",
			events: evs(grantRole("root", []string{"readers"}, []string{"reporting"})), want: []want{{detectors.SeverityCritical, 1, "root"}}},
		{name: "ordinary role granted to a human is quiet",
			events: evs(grantRole("root", []string{"readers"}, []string{"alice"}))},
		{name: "create role with CREATEROLE by an operator",
			events: evs(roleOpts("create_role", "root", "ops2", []string{"CREATEROLE", "LOGIN"}, "create role ops2 with createrole login")),
			want:   []want{{detectors.SeverityMedium, 1, "root"}}},
		{name: "alter role web CREATELOGIN is critical",
			events: evs(roleOpts("alter_role", "root", "web", []string{"CREATELOGIN"}, "alter role web with createlogin")),
			want:   []want{{detectors.SeverityCritical, 1, "root"}}},
		{name: "options missing from the event are read from the fingerprint",
			events: evs(roleOpts("alter_role", "root", "web", nil, "alter role web with modifyclustersetting")),
			want:   []want{{detectors.SeverityCritical, 1, "root"}}},
		{name: "NOCREATEROLE and password changes are quiet",
			events: evs(roleOpts("alter_role", "root", "web", []string{"NOCREATEROLE"}, "alter role web with nocreaterole"),
				roleOpts("alter_role", "root", "web", []string{"PASSWORD"}, "alter role web with password ?"),
				copies("root", "ALTER ROLE", "alter role web set search_path = ?", 0))},
		{name: "fallback create user with CONTROLJOB",
			events: evs(copies("etl_owner", "CREATE USER", "create user if not exists etl2 with password ? controljob", 0)),
			want:   []want{{detectors.SeverityHigh, 1, "etl_owner"}}},
		{name: "SELECT on patients granted to web",
			events: evs(tablePriv("root", "clinic.public.patients", "web", []string{"SELECT"}, nil)),
			want:   []want{{detectors.SeverityCritical, 1, "root"}}},
		{name: "DELETE on customers to a human by an operator: medium",
			events: evs(tablePriv("root", "shop.public.customers", "alice", []string{"DELETE"}, nil)),
			want:   []want{{detectors.SeverityMedium, 1, "root"}}},
		{name: "ALL on patients to public is critical",
			events: evs(tablePriv("root", "clinic.public.patients", "public", []string{"ALL"}, nil)),
			want:   []want{{detectors.SeverityCritical, 1, "root"}}},
		{name: "SELECT on a lookup table to public is medium",
			events: evs(tablePriv("root", "shop.public.countries", "public", []string{"SELECT"}, nil)),
			want:   []want{{detectors.SeverityMedium, 1, "root"}}},
		{name: "look-alike: SELECT on a non-sensitive table to reporting is quiet",
			events: evs(tablePriv("root", "analytics.public.daily_stats", "reporting", []string{"SELECT"}, nil),
				copies("root", "GRANT", "grant select on table daily_stats to reporting", 0))},
		{name: "look-alike: revokes are quiet",
			events: evs(tablePriv("root", "clinic.public.patients", "web", nil, []string{"ALL"}),
				copies("root", "REVOKE", "revoke admin from web", 0))},
		{name: "fallback object grant on a sensitive table in a list",
			events: evs(copies("billing_app", "GRANT", "grant select, update on table countries, \"customers\" to billing_app", 0)),
			want:   []want{{detectors.SeverityCritical, 1, "billing_app"}}},
		{name: "grants by one principal in one hour are one incident",
			events: evs(grantRole("root", []string{"admin"}, []string{"alice"}), at(10*time.Minute, grantRole("root", []string{"admin"}, []string{"web"}))),
			want:   []want{{detectors.SeverityCritical, 2, "root"}}},
		{name: "app_users may be empty: grants to web are then an operator change",
			cfg:    &noApps,
			events: evs(tablePriv("root", "clinic.public.patients", "web", []string{"SELECT"}, nil), grantRole("root", []string{"readers"}, []string{"web"})),
			want:   []want{{detectors.SeverityMedium, 1, "root"}}},
		{name: "internal activity is ignored",
			events: evs(grantRole("node", []string{"admin"}, []string{"web"}), func() *event.Event {
				e := grantRole("root", []string{"admin"}, []string{"web"})
				e.Internal = true
				return e
			}()), want: []want{{detectors.SeverityCritical, 1, "node"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			if tc.cfg != nil {
				cfg = *tc.cfg
			}
			got := run(t, cfg, tc.events)
			require.Len(t, got, len(tc.want), "findings: %+v", got)
			for i, w := range tc.want {
				f := got[i]
				require.Equal(t, w.severity, f.Severity, f.Summary)
				require.Equal(t, w.count, f.Count, f.Summary)
				require.Equal(t, w.user, f.Principal.User)
				require.NotEmpty(t, f.Details["expected"])
				require.NotEmpty(t, f.Details["seen"])
				require.Contains(t, f.Query, "roachwatch.events")
			}
		})
	}
}

func TestParseFingerprint(t *testing.T) {
	cases := []struct {
		fp      string
		ok      bool
		kind    changeKind
		what    string
		targets string
		object  string
	}{
		{fp: "grant admin to web", ok: true, kind: kindRoleGrant, what: "admin", targets: "web"},
		{fp: "GRANT admin, ops TO web, \"billing_app\" WITH ADMIN OPTION", ok: true, kind: kindRoleGrant, what: "admin,ops", targets: "web,billing_app"},
		{fp: "grant all privileges on table clinic.public.patients to public with grant option", ok: true, kind: kindObjectGrant, what: "all privileges", targets: "public", object: "clinic.public.patients"},
		{fp: "grant select on database clinic to reporting", ok: true, kind: kindObjectGrant, what: "select", targets: "reporting", object: "clinic"},
		{fp: "create role if not exists ops2 with createrole login password ?", ok: true, kind: kindRoleOption, what: "createrole,login,password", targets: "ops2"},
		{fp: "alter user web set timezone = ?", ok: true, kind: kindRoleOption, targets: "web"},
		{fp: "revoke admin from web"},
		{fp: "grant"},
		{fp: "select * from patients"},
	}
	for _, tc := range cases {
		t.Run(tc.fp, func(t *testing.T) {
			c, ok := parseFingerprint(tc.fp)
			require.Equal(t, tc.ok, ok)
			if !ok {
				return
			}
			require.Equal(t, tc.kind, c.kind)
			require.Equal(t, tc.what, joinList(c.what))
			require.Equal(t, tc.targets, joinList(c.targets))
			require.Equal(t, tc.object, c.object)
		})
	}
}

func joinList(l []string) string {
	s := ""
	for i, v := range l {
		if i > 0 {
			s += ","
		}
		s += v
	}
	return s
}

func TestConfigValidate(t *testing.T) {
	require.NoError(t, DefaultConfig().Validate())
	c := DefaultConfig()
	c.AppUsers = []string{}
	require.NoError(t, c.Validate(), "app_users may be empty")
	c.Window, c.MaxRecent, c.PowerfulRoles, c.RoleOptions = 0, 1, nil, []string{"NOCREATEROLE"}
	err := c.Validate()
	require.Error(t, err)
	for _, s := range []string{"detectors.priv.window", "detectors.priv.max_recent", "detectors.priv.powerful_roles", "detectors.priv.role_options"} {
		require.Contains(t, err.Error(), s)
	}
}

// BenchmarkObserve runs ordinary SQL traffic with a grant now and then.
func BenchmarkObserve(b *testing.B) {
	in := []*event.Event{
		stmt("query_execute", "web", "SELECT", "select id, name from patients where id = ?"),
		stmt("sampled_query", "web", "UPDATE", "update customers set email = ? where id = ?"),
		stmt("client_authentication_ok", "web", "", ""),
		stmt("query_execute", "web", "INSERT", "insert into orders values (?, ?)"),
		stmt("query_execute", "root", "GRANT", "grant select on table daily_stats to reporting"),
		grantRole("root", []string{"admin"}, []string{"web"}),
	}
	d := New(DefaultConfig())
	out := make([]detectors.Finding, 0, 4)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev := in[i%len(in)]
		out = d.Observe(ev, out[:0])
	}
}
