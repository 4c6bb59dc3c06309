package report

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"roachwatch/detectors"
	"roachwatch/pipeline/event"
)

// maxLine bounds one JSON line of the input files.
const maxLine = 16 << 20

// JSONLSource reads the files the embedded mode writes: findings JSONL
// (`analyze run --output`) and, optionally, events JSONL
// (`analyze run --events-output`). Files ending in .gz are decompressed.
// The findings file is read once and kept; the events file is streamed on
// every Sessions call. Not safe for concurrent use.
type JSONLSource struct {
	FindingsPath string // required
	EventsPath   string // optional: without it Sessions reports no data

	findings []detectors.Finding
	loaded   bool
}

var _ Source = (*JSONLSource)(nil)
var _ Newester = (*JSONLSource)(nil)

// Findings returns the findings whose FirstSeen lies in [from, to].
func (s *JSONLSource) Findings(ctx context.Context, from, to time.Time) ([]detectors.Finding, error) {
	if err := s.load(ctx); err != nil {
		return nil, err
	}
	var out []detectors.Finding
	for _, f := range s.findings {
		if inRange(f.FirstSeen, from, to) {
			out = append(out, f)
		}
	}
	return out, nil
}

// Newest returns the newest LastSeen of the findings or, with no
// findings, the newest session event time.
func (s *JSONLSource) Newest(ctx context.Context) (time.Time, bool, error) {
	if err := s.load(ctx); err != nil {
		return time.Time{}, false, err
	}
	if t, ok := newestFinding(s.findings); ok {
		return t, true, nil
	}
	if s.EventsPath == "" {
		return time.Time{}, false, nil
	}
	var newest int64
	err := eachLine(ctx, s.EventsPath, func(n int, b []byte) error {
		var ev struct {
			Time int64 `json:"time"`
		}
		if err := json.Unmarshal(b, &ev); err != nil {
			return fmt.Errorf("%s line %d: %w", s.EventsPath, n, err)
		}
		newest = max(newest, ev.Time)
		return nil
	})
	return time.Unix(0, newest).UTC(), newest > 0, err
}

func (s *JSONLSource) load(ctx context.Context) error {
	if s.loaded {
		return nil
	}
	err := eachLine(ctx, s.FindingsPath, func(n int, b []byte) error {
		var f detectors.Finding
		if err := json.Unmarshal(b, &f); err != nil {
			return fmt.Errorf("%s line %d: %w", s.FindingsPath, n, err)
		}
		s.findings = append(s.findings, f)
		return nil
	})
	if err != nil {
		return err
	}
	s.loaded = true
	return nil
}

// sessionEvent is the part of an event the session statistics need.
type sessionEvent struct {
	Time        int64             `json:"time"`
	Channel     string            `json:"channel"`
	Type        string            `json:"type"`
	Source      string            `json:"source"`
	Internal    bool              `json:"internal"`
	Node        string            `json:"node"`
	User        string            `json:"user"`
	Application string            `json:"application"`
	ClientAddr  string            `json:"client_addr"`
	SessionID   string            `json:"session_id"`
	Transport   string            `json:"transport"`
	AuthMethod  string            `json:"auth_method"`
	Attrs       map[string]string `json:"attrs"`
}

// Sessions streams the events file and aggregates the sessions whose
// authentication lies in [from, to]. A session's application is taken
// from any event of the same session id that names one.
func (s *JSONLSource) Sessions(ctx context.Context, from, to time.Time) (SessionStats, error) {
	var st SessionStats
	if s.EventsPath == "" {
		return st, nil
	}
	st.Available = true
	type key struct {
		g  SessionGroup
		id string
	}
	var auths []key
	var listed []Session
	apps := map[string]string{}
	lo, hi := from.UnixNano(), to.UnixNano()
	err := eachLine(ctx, s.EventsPath, func(n int, b []byte) error {
		var ev sessionEvent
		if err := json.Unmarshal(b, &ev); err != nil {
			return fmt.Errorf("%s line %d: %w", s.EventsPath, n, err)
		}
		if ev.Application != "" && ev.SessionID != "" {
			apps[ev.SessionID] = ev.Application
		}
		if ev.Time < lo || ev.Time > hi || ev.Internal || (ev.Source != "" && ev.Source != event.SourceCRDB) {
			return nil
		}
		switch ev.Type {
		case "sensitive_table_access":
			st.AuditedAccesses++
		case "client_session_end":
			if d, err := strconv.ParseInt(ev.Attrs["Duration"], 10, 64); err == nil {
				st.EndedSessions++
				if time.Duration(d) < ShortSession {
					st.ShortSessions++
				}
			}
		case "client_authentication_ok", "client_authentication_failed":
			t := time.Unix(0, ev.Time).UTC()
			g := SessionGroup{
				Day: t.Format(time.DateOnly), Transport: ev.Transport, User: ev.User, Application: ev.Application,
				Network: Network(ev.ClientAddr), AuthMethod: ev.AuthMethod, Failed: ev.Type == "client_authentication_failed", Sessions: 1,
			}
			auths = append(auths, key{g, ev.SessionID})
			if ev.Transport == event.TransportPlain {
				st.NonTLSTotal++
				listed = append(listed, Session{Time: t, SessionID: ev.SessionID, Node: ev.Node, User: ev.User,
					Application: ev.Application, ClientAddr: ev.ClientAddr, Transport: ev.Transport, AuthMethod: ev.AuthMethod, Failed: g.Failed})
			}
		}
		return nil
	})
	if err != nil {
		return SessionStats{}, err
	}
	// Applications are named by statements after the authentication, so
	// they are filled in once the whole file has been read.
	cube := map[SessionGroup]int64{}
	for _, a := range auths {
		if a.g.Application == "" {
			a.g.Application = apps[a.id]
		}
		a.g.Sessions = 0
		cube[a.g]++
	}
	for g, n := range cube {
		g.Sessions = n
		st.Groups = append(st.Groups, g)
	}
	for i := range listed {
		if listed[i].Application == "" {
			listed[i].Application = apps[listed[i].SessionID]
		}
	}
	sort.SliceStable(listed, func(i, j int) bool { return listed[i].Time.Before(listed[j].Time) })
	if len(listed) > MaxListedSessions {
		listed = listed[:MaxListedSessions]
	}
	st.NonTLS = listed
	return st, nil
}

// eachLine calls fn with every non-blank line of path (1-based numbers).
func eachLine(ctx context.Context, path string, fn func(n int, b []byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	n := 0
	for sc.Scan() {
		n++
		if n%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		b := sc.Bytes()
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		if err := fn(n, b); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	return nil
}

// parseAddr parses an IP address, tolerating a port or brackets.
func parseAddr(s string) (netip.Addr, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), nil
	}
	a, err := netip.ParseAddr(strings.Trim(s, "[]"))
	return a.Unmap(), err
}
