package privrule

import (
	"errors"
	"io"
	"slices"

	"roachwatch/detectors/internal/snapcodec"
)

// Snapshot body, version 1 (see snapcodec for the container):
//
//	recent statements, oldest first: count, then per statement
//	    user, minute, signature
//
// The ring of recent statements (which copies of a grant were counted
// already) is the detector's only state; everything else is config. The
// order is kept because it decides which statement is forgotten next.
const (
	snapMagic   = "RWPRIV"
	snapVersion = 1

	maxSnapRecent = 1 << 26 // beyond any sane max_recent
)

// ErrSnapshot is wrapped by every Restore error about the snapshot's content.
var ErrSnapshot = errors.New("privrule snapshot")

var snapFormat = snapcodec.Format{Magic: snapMagic, Version: snapVersion, Err: ErrSnapshot, Name: "a privrule detector snapshot"}

// Snapshot writes the detector's state to w.
func (d *Detector) Snapshot(w io.Writer) error {
	e := snapcodec.NewEncoder(snapMagic, snapVersion)
	keys := d.recent.order
	if len(keys) == d.recent.max {
		keys = append(slices.Clone(keys[d.recent.next:]), keys[:d.recent.next]...)
	}
	e.U(uint64(len(keys)))
	for _, k := range keys {
		e.Str(k.user)
		e.I(k.minute)
		e.Str(k.sig)
	}
	return e.Finish(w)
}

// Restore replaces the state with a snapshot written by Snapshot. A
// rejected snapshot leaves the state as it was. Beyond max_recent the
// oldest statements are dropped, as the detector would have forgotten
// them.
func (d *Detector) Restore(r io.Reader) error {
	s, err := snapcodec.Open(r, snapFormat)
	if err != nil {
		return err
	}
	nd := New(d.cfg)
	n := s.Count(maxSnapRecent, "statement")
	keys := make([]recentKey, 0, min(n, nd.recent.max))
	for i := range n {
		k := recentKey{user: s.Str(), minute: s.I(), sig: s.Str()}
		if i >= n-nd.recent.max { // keep the newest
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		nd.recent.m[k] = struct{}{}
	}
	if len(nd.recent.m) != len(keys) {
		s.Fail("statements (duplicate)")
	}
	nd.recent.order = keys
	if err := s.End(); err != nil {
		return err
	}
	*d = *nd
	return nil
}
