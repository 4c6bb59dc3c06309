package auditrule

import (
	"cmp"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"slices"

	"roachwatch/detectors"
	"roachwatch/detectors/internal/snapcodec"
)

// Snapshot body, version 1 (see snapcodec for the container):
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
	maxSnapHBA     = 64      // as settingChange bounds d.hba
)

// ErrSnapshot is wrapped by every Restore error about the snapshot's content.
var ErrSnapshot = errors.New("auditrule snapshot")

var snapFormat = snapcodec.Format{Magic: snapMagic, Version: snapVersion, Err: ErrSnapshot, Name: "an auditrule detector snapshot"}

// Snapshot writes the detector's state to w.
func (d *Detector) Snapshot(w io.Writer) error {
	e := snapcodec.NewEncoder(snapMagic, snapVersion)
	e.I(d.maxTime)
	e.I(d.nextScan)
	e.Flag(d.activity.init)
	e.I(d.activity.cur)
	for _, b := range d.activity.bits {
		e.U(b)
	}

	nt := min(d.nTamper, maxTampers)
	e.U(uint64(nt))
	for i := nt; i >= 1; i-- {
		t := &d.tampers[(d.nTamper-i)%maxTampers]
		e.I(t.time)
		e.Str(t.id)
		e.Str(t.cluster)
		e.Str(t.principal.User)
		e.Str(t.principal.ClientAddr)
		e.Str(t.principal.Application)
		e.U(uint64(t.severity))
		e.Str(t.summary)
	}

	clusters := slices.Sorted(maps.Keys(d.hba))
	e.U(uint64(len(clusters)))
	for _, c := range clusters {
		e.Str(c)
		e.Str(d.hba[c])
	}

	keys := slices.SortedFunc(maps.Keys(d.streams), compareKeys)
	e.U(uint64(len(keys)))
	for _, k := range keys {
		s := d.streams[k]
		for _, f := range [...]string{k.cluster, k.node, k.channel, k.typ, k.object} {
			e.Str(f)
		}
		e.I(s.last)
		e.Str(s.lastID)
		e.I(s.lastMin)
		e.U(s.minutes)
		e.Flag(s.reported)
		if s.reported {
			b, err := json.Marshal(&s.report)
			if err != nil {
				return err
			}
			e.Str(string(b))
		}
	}

	d.recent.Encode(e)
	return e.Finish(w)
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
	s, err := snapcodec.Open(r, snapFormat)
	if err != nil {
		return err
	}
	nd := New(d.cfg)
	nd.maxTime, nd.nextScan = s.I(), s.I()
	nd.activity.init, nd.activity.cur = s.Flag(), s.I()
	for i := range nd.activity.bits {
		nd.activity.bits[i] = s.U()
	}
	if nd.activity.cur < 0 {
		s.Fail("activity") // minutes index the ring: event times are after 1970
	}

	nt := s.Count(maxTampers, "tamper")
	for i := range nt {
		t := tamper{time: s.I(), id: s.Str(), cluster: s.Str()}
		t.principal = detectors.Principal{User: s.Str(), ClientAddr: s.Str(), Application: s.Str()}
		sev := s.U()
		if sev > uint64(detectors.SeverityCritical) {
			s.Fail("severity")
		}
		t.severity, t.summary = detectors.Severity(sev), s.Str()
		nd.tampers[i] = t
	}
	nd.nTamper = nt

	n := s.Count(maxSnapHBA, "HBA")
	for i, prev := 0, ""; i < n; i++ {
		c := s.Str()
		if i > 0 && c <= prev {
			s.Fail("HBA order")
		}
		nd.hba[c], prev = s.Str(), c
	}

	n = s.Count(maxSnapStreams, "stream")
	var prev streamKey
	for i := range n {
		if s.Err() != nil {
			break
		}
		k := streamKey{cluster: s.Str(), node: s.Str(), channel: s.Str(), typ: s.Str(), object: s.Str()}
		st := &stream{last: s.I(), lastID: s.Str(), lastMin: s.I(), minutes: s.U(), reported: s.Flag()}
		if st.reported {
			if err := json.Unmarshal([]byte(s.Str()), &st.report); err != nil && s.Err() == nil {
				s.Fail("pending silence finding")
			}
		}
		if i > 0 && compareKeys(prev, k) >= 0 {
			s.Fail("stream order")
		}
		if st.last < 0 || st.lastMin < 0 {
			s.Fail("stream times")
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

	nd.recent.Decode(s)
	if err := s.End(); err != nil {
		return err
	}
	*d = *nd
	return nil
}
