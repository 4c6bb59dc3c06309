//go:build integration

package clickhousesink_test

import (
	"context"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/stretchr/testify/require"

	"roachwatch/pipeline/event"
	"roachwatch/pipeline/sink/clickhousesink"
)

func count(t *testing.T, conn driver.Conn, q string, args ...any) int64 {
	t.Helper()
	var n uint64
	require.NoError(t, conn.QueryRow(context.Background(), q, args...).Scan(&n), q)
	return int64(n)
}

// checkEvents compares the stored events with the written ones: the count,
// and every encoded field of a few rich events.
func checkEvents(t *testing.T, conn driver.Conn, c corpus) {
	t.Helper()
	ids := map[string]bool{}
	for i := range c.events {
		ids[c.events[i].ID] = true
	}
	require.EqualValues(t, len(ids), count(t, conn, "SELECT count() FROM events FINAL"))
	require.EqualValues(t, len(ids), count(t, conn, "SELECT uniqExact(id) FROM events"))

	// One event of each kind with the most content: values, secrets, query
	// tags, a client address.
	pick := map[string]*event.Event{}
	for i := range c.events {
		ev := &c.events[i]
		switch {
		case len(ev.Values) > 0 && pick["values"] == nil:
			pick["values"] = ev
		case len(ev.Secrets) > 0 && pick["secrets"] == nil:
			pick["secrets"] = ev
		case len(ev.QueryTags) > 0 && len(ev.SensitiveColumns) > 0 && pick["tags"] == nil:
			pick["tags"] = ev
		case ev.ClientAddr == "" && pick["noaddr"] == nil:
			pick["noaddr"] = ev
		}
	}
	require.Len(t, pick, 4, "loggen data should have every kind of event")
	for kind, ev := range pick {
		var (
			tm                      time.Time
			addr                    netip.Addr
			client, user, fp, route string
			fph                     uint64
			sens, valClass, secType []string
			tags, attrs             map[string]string
			rows                    int64
		)
		err := conn.QueryRow(context.Background(), "SELECT time, client_addr, client, user, fingerprint, fingerprint_hash, route, "+
			"sensitive_columns, `values.class`, `secrets.type`, query_tags, attrs, rows FROM events FINAL WHERE id = ?", ev.ID).
			Scan(&tm, &addr, &client, &user, &fp, &fph, &route, &sens, &valClass, &secType, &tags, &attrs, &rows)
		require.NoError(t, err, kind)
		require.Equal(t, ev.Time, tm.UnixNano(), kind)
		require.Equal(t, ev.ClientAddr, client, kind)
		if ev.ClientAddr == "" {
			require.Equal(t, netip.IPv6Unspecified(), addr, kind)
		} else {
			require.Equal(t, netip.MustParseAddr(ev.ClientAddr), addr.Unmap(), kind)
		}
		require.Equal(t, ev.User, user, kind)
		require.Equal(t, ev.Fingerprint, fp, kind)
		require.Equal(t, ev.FingerprintHash, fph, kind)
		require.Equal(t, ev.Route, route, kind)
		require.ElementsMatch(t, ev.SensitiveColumns, sens, kind)
		require.Len(t, valClass, len(ev.Values), kind)
		for i, v := range ev.Values {
			require.Equal(t, v.Class, valClass[i], kind)
		}
		require.Len(t, secType, len(ev.Secrets), kind)
		for i, s := range ev.Secrets {
			require.Equal(t, s.Type, secType[i], kind)
		}
		require.Equal(t, len(ev.QueryTags), len(tags), kind)
		for k, v := range ev.QueryTags {
			require.Equal(t, v, tags[k], kind)
		}
		require.Equal(t, len(ev.Attrs), len(attrs), kind)
		require.Equal(t, ev.Rows, rows, kind)
	}
}

// checkViews checks every analyst view against counts computed from the
// events and findings in Go.
func checkViews(t *testing.T, conn driver.Conn, c corpus) {
	t.Helper()
	var sensitive, failed, hostnossl int64
	sessions := map[string]bool{}
	fps := map[string]bool{}
	clients := map[string]bool{}
	for i := range c.events {
		ev := &c.events[i]
		sensitive += int64(len(ev.SensitiveColumns))
		if ev.AuthFailure != "" {
			failed++
		}
		if ev.Transport == event.TransportPlain {
			hostnossl++
			k := ev.Cluster + "/" + ev.SessionID + "/" + ev.ClientAddr
			if ev.SessionID == "" {
				k += "/" + ev.User
			}
			sessions[k] = true
		}
		if ev.FingerprintHash != 0 {
			fps[ev.Cluster+"/"+strconv.FormatUint(ev.FingerprintHash, 10)] = true
		}
		// Addresses that are not IPs (unix sockets, "[local]") are stored
		// as :: and left out of the view, as are empty ones.
		if a := clickhousesink.ParseClientAddr(ev.ClientAddr); a != netip.IPv6Unspecified() {
			clients[ev.Cluster+"/"+a.String()+"/"+ev.User] = true
		}
	}
	require.Positive(t, sensitive)
	require.Positive(t, failed)
	require.Positive(t, hostnossl)
	require.EqualValues(t, len(c.findings), count(t, conn, "SELECT count() FROM v_findings"))
	require.EqualValues(t, len(c.findings), count(t, conn, "SELECT count() FROM v_open_findings"))
	require.EqualValues(t, sensitive, count(t, conn, "SELECT count() FROM v_sensitive_access"))
	require.EqualValues(t, len(sessions), count(t, conn, "SELECT count() FROM v_non_tls_sessions"))
	require.EqualValues(t, hostnossl, count(t, conn, "SELECT sum(events) FROM v_non_tls_sessions"))
	require.EqualValues(t, failed, count(t, conn, "SELECT count() FROM v_failed_auths"))
	require.EqualValues(t, len(c.events), count(t, conn, "SELECT sum(events) FROM v_principal_hourly"))
	require.EqualValues(t, failed, count(t, conn, "SELECT sum(failed_auths) FROM v_principal_hourly"))
	require.EqualValues(t, hostnossl, count(t, conn, "SELECT sum(non_tls_events) FROM v_principal_hourly"))
	require.EqualValues(t, len(fps), count(t, conn, "SELECT count() FROM v_fingerprints"))
	require.EqualValues(t, len(clients), count(t, conn, "SELECT count() FROM v_client_addresses"))
	// Rollups agree with the raw events they summarize.
	require.Equal(t,
		count(t, conn, "SELECT toUInt64(sum(rows_read)) FROM events FINAL"),
		count(t, conn, "SELECT toUInt64(sum(rows_read)) FROM v_principal_hourly"))
	require.Equal(t,
		count(t, conn, "SELECT toUInt64(countIf(notEmpty(sensitive_columns))) FROM events FINAL"),
		count(t, conn, "SELECT sum(sensitive_reads) FROM v_principal_hourly"))
	require.Zero(t, count(t, conn, "SELECT count() FROM v_client_addresses WHERE client LIKE '::ffff:%' OR client = '::'"),
		"IPv4 clients read back as IPv4 and unknown addresses are not listed")
}
