package auditrule

import (
	"cmp"
	"encoding/json"
	"io"
	"maps"
	"slices"

	"roachwatch/detectors"
)

// Snapshot body, version 1 (see snapshot_codec.go for the container):
//
//	maxTime, nextScan
//	activity: initialized, current minute, the 128 words of the ring
//	tamper incidents, oldest first (at most 32): count, then per incident
//	    time, id, cluster, user, client addr, application, severity, summary
//	HBA configurations sorted by cluster: count, then cluster, config
//	streams sorted by key: count, then per stream
//	    cluster, node, channel, type, object, last, lastID, lastMin,
//	    minutes (the 64-minute history), reported, and when reported the
//	    pending silence finding as JSON (its end is reported from it)
//	recent statements, oldest first: count, then user, minute, signature
//
// That is the whole state: the rest of the detector is config.
const (
	snapMagic   = "RWAUDT"
	snapVersion = 1

	maxSnapStreams = 1 << 24 // beyond any sane max_streams
	maxSnapRecent  = 1 << 26 // beyond any sane max_recent
	maxSnapHBA     = 64      // as settingChange bounds d.hba
)

// Snapshot writes the detector's state to w.
func (d *Detector) Snapshot(w io.Writer) error {
	e := newSnapEncoder(snapMagic, snapVersion)
	e.i(d.maxTime)
	e.i(d.nextScan)
	e.flag(d.activity.init)
	e.i(d.activity.cur)
	for _, b := range d.activity.bits {
		e.u(b)
	}

	nt := min(d.nTamper, maxTampers)
	e.u(uint64(nt))
	for i := nt; i >= 1; i-- {
		t := &d.tampers[(d.nTamper-i)%maxTampers]
		e.i(t.time)
		e.str(t.id)
		e.str(t.cluster)
		e.str(t.principal.User)
		e.str(t.principal.ClientAddr)
		e.str(t.principal.Application)
		e.u(uint64(t.severity))
		e.str(t.summary)
	}

	clusters := slices.Sorted(maps.Keys(d.hba))
	e.u(uint64(len(clusters)))
	for _, c := range clusters {
		e.str(c)
		e.str(d.hba[c])
	}

	keys := slices.SortedFunc(maps.Keys(d.streams), compareKeys)
	e.u(uint64(len(keys)))
	for _, k := range keys {
		s := d.streams[k]
		for _, f := range [...]string{k.cluster, k.node, k.channel, k.typ, k.object} {
			e.str(f)
		}
		e.i(s.last)
		e.str(s.lastID)
		e.i(s.lastMin)
		e.u(s.minutes)
		e.flag(s.reported)
		if s.reported {
			b, err := json.Marshal(&s.report)
			if err != nil {
				return err
			}
			e.str(string(b))
		}
	}

	recent := d.recent.order
	if len(recent) == d.recent.max {
		recent = append(slices.Clone(recent[d.recent.next:]), recent[:d.recent.next]...)
	}
	e.u(uint64(len(recent)))
	for _, k := range recent {
		e.str(k.user)
		e.i(k.minute)
		e.str(k.sig)
	}
	return e.writeTo(w)
}

// compareKeys orders stream keys field by field.
func compareKeys(a, b streamKey) int {
	return cmp.Or(cmp.Compare(a.cluster, b.cluster), cmp.Compare(a.node, b.node), cmp.Compare(a.channel, b.channel),
		cmp.Compare(a.typ, b.typ), cmp.Compare(a.object, b.object))
}

// Restore replaces the state with a snapshot written by Snapshot. A
// rejected snapshot leaves the state as it was. The snapshot is fitted to
// the current config: beyond max_streams the streams silent the longest,
// and beyond max_recent the oldest statements, are dropped, as the
// detector would have forgotten them.
func (d *Detector) Restore(r io.Reader) error {
	s, err := openSnapshot(r, snapMagic, snapVersion)
	if err != nil {
		return err
	}
	nd := New(d.cfg)
	nd.maxTime, nd.nextScan = s.i(), s.i()
	nd.activity.init, nd.activity.cur = s.flag(), s.i()
	for i := range nd.activity.bits {
		nd.activity.bits[i] = s.u()
	}
	if nd.activity.cur < 0 {
		s.fail("activity") // minutes index the ring: event times are after 1970
	}

	nt := s.count(maxTampers, "tamper")
	for i := range nt {
		t := tamper{time: s.i(), id: s.str(), cluster: s.str()}
		t.principal = detectors.Principal{User: s.str(), ClientAddr: s.str(), Application: s.str()}
		sev := s.u()
		if sev > uint64(detectors.SeverityCritical) {
			s.fail("severity")
		}
		t.severity, t.summary = detectors.Severity(sev), s.str()
		nd.tampers[i] = t
	}
	nd.nTamper = nt

	n := s.count(maxSnapHBA, "HBA")
	for i, prev := 0, ""; i < n; i++ {
		c := s.str()
		if i > 0 && c <= prev {
			s.fail("HBA order")
		}
		nd.hba[c], prev = s.str(), c
	}

	n = s.count(maxSnapStreams, "stream")
	var prev streamKey
	for i := range n {
		if s.err != nil {
			break
		}
		k := streamKey{cluster: s.str(), node: s.str(), channel: s.str(), typ: s.str(), object: s.str()}
		st := &stream{last: s.i(), lastID: s.str(), lastMin: s.i(), minutes: s.u(), reported: s.flag()}
		if st.reported {
			if err := json.Unmarshal([]byte(s.str()), &st.report); err != nil && s.err == nil {
				s.fail("pending silence finding")
			}
		}
		if i > 0 && compareKeys(prev, k) >= 0 {
			s.fail("stream order")
		}
		if st.last < 0 || st.lastMin < 0 {
			s.fail("stream times")
		}
		prev = k
		nd.streams[k] = st
	}
	if extra := len(nd.streams) - nd.cfg.MaxStreams; extra > 0 {
		// What evictOldest would drop one by one: least recent last event
		// first, ties by name.
		ks := slices.SortedFunc(maps.Keys(nd.streams), func(a, b streamKey) int {
			return cmp.Or(cmp.Compare(nd.streams[a].last, nd.streams[b].last), cmp.Compare(a.String(), b.String()))
		})
		for _, k := range ks[:extra] {
			delete(nd.streams, k)
		}
	}

	n = s.count(maxSnapRecent, "statement")
	keys := make([]recentKey, 0, min(n, nd.recent.max))
	for i := range n {
		k := recentKey{user: s.str(), minute: s.i(), sig: s.str()}
		if i >= n-nd.recent.max { // keep the newest
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		nd.recent.m[k] = struct{}{}
	}
	if len(nd.recent.m) != len(keys) {
		s.fail("statements (duplicate)")
	}
	nd.recent.order = keys
	if err := s.end(); err != nil {
		return err
	}
	*d = *nd
	return nil
}
