//go:build integration

package clickhousesink_test

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roachwatch/pipeline/event"
	"roachwatch/pipeline/sink/clickhousesink"
)

// col returns column name of t as strings (fmt.Sprint of each value).
func col(t *testing.T, tb *clickhousesink.Table, name string) []string {
	t.Helper()
	for i, c := range tb.Columns {
		if c == name {
			out := make([]string, len(tb.Rows))
			for j, r := range tb.Rows {
				out[j] = fmt.Sprint(r[i])
			}
			return out
		}
	}
	t.Fatalf("no column %s in %v", name, tb.Columns)
	return nil
}

// num returns column name of t as int64s.
func num(t *testing.T, tb *clickhousesink.Table, name string) []int64 {
	t.Helper()
	for i, c := range tb.Columns {
		if c == name {
			out := make([]int64, len(tb.Rows))
			for j, r := range tb.Rows {
				v := reflect.ValueOf(r[i])
				switch v.Kind() {
				case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
					out[j] = v.Int()
				case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
					out[j] = int64(v.Uint())
				default:
					t.Fatalf("column %s is %T, not a number", name, r[i])
				}
			}
			return out
		}
	}
	t.Fatalf("no column %s in %v", name, tb.Columns)
	return nil
}

func sum(xs []int64) int64 {
	var s int64
	for _, x := range xs {
		s += x
	}
	return s
}

// keys joins columns of every row into "a|b|c" strings, sorted and unique.
func keys(t *testing.T, tb *clickhousesink.Table, names ...string) []string {
	t.Helper()
	cols := make([][]string, len(names))
	for i, n := range names {
		cols[i] = col(t, tb, n)
	}
	set := map[string]bool{}
	for r := range tb.Rows {
		k := ""
		for i := range names {
			if i > 0 {
				k += "|"
			}
			k += cols[i][r]
		}
		set[k] = true
	}
	return sortedKeys(set)
}

func sortedKeys(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// sessionUsers maps every session to the user that authenticated it, as
// the queries attribute sessions.
func sessionUsers(evs []event.Event) map[string]string {
	m := map[string]string{}
	for i := range evs {
		if evs[i].SessionID != "" && evs[i].User != "" {
			if _, ok := m[evs[i].Cluster+"/"+evs[i].SessionID]; !ok {
				m[evs[i].Cluster+"/"+evs[i].SessionID] = evs[i].User
			}
		}
	}
	return m
}

// TestStoreEndToEnd writes loggen events and their findings, then checks
// every view and every analyst query against what the events say.
func TestStoreEndToEnd(t *testing.T) {
	c := loadCorpus(t)
	require.Greater(t, len(c.events), 3000)
	require.NotEmpty(t, c.findings)
	for _, protocol := range []string{clickhousesink.ProtocolNative, clickhousesink.ProtocolHTTP} {
		t.Run(protocol, func(t *testing.T) {
			ctx := context.Background()
			s, env, db := openStore(t, protocol)
			start := time.Now()
			require.NoError(t, s.WriteEvents(ctx, c.events))
			t.Logf("%s: wrote %d events in %s", protocol, len(c.events), time.Since(start))
			require.NoError(t, s.WriteFindings(ctx, c.findings))
			admin := env.Open(t, db)
			checkEvents(t, admin, c)
			checkViews(t, admin, c)
			checkQueries(t, s, c)
			checkTriage(t, s, admin, c)
		})
	}
}

// TestBuffer feeds events one by one through a reused event, as the
// embedded run's callback does, and checks that size-triggered flushes
// plus the final Flush store every event exactly as written.
func TestBuffer(t *testing.T) {
	c := loadCorpus(t)
	ctx := context.Background()
	s, env, db := openStore(t, clickhousesink.ProtocolNative, func(cfg *clickhousesink.Config) {
		cfg.BatchSize, cfg.FlushInterval = 1000, time.Hour
	})
	conn := env.Open(t, db)
	buf := s.NewBuffer()
	var ev event.Event // reused, like the runner's
	for i := range c.events {
		ev = deepCopy(&c.events[i])
		require.NoError(t, buf.Add(ctx, &ev))
		ev.Tables = append(ev.Tables[:0], "overwritten") // the caller reuses its buffers
	}
	require.Equal(t, len(c.events)%1000, buf.Len(), "full batches were written as they filled")
	require.EqualValues(t, len(c.events)/1000*1000, count(t, conn, "SELECT count() FROM events"))
	require.NoError(t, buf.Flush(ctx))
	require.Zero(t, buf.Len())
	require.EqualValues(t, len(c.events), count(t, conn, "SELECT count() FROM events FINAL"))
	require.Zero(t, count(t, conn, "SELECT count() FROM events WHERE has(tables, 'overwritten')"))
}
