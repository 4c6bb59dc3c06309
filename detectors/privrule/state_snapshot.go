package privrule

import (
	"errors"
	"io"

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
)

// ErrSnapshot is wrapped by every Restore error about the snapshot's content.
var ErrSnapshot = errors.New("privrule snapshot")

var snapFormat = snapcodec.Format{Magic: snapMagic, Version: snapVersion, Err: ErrSnapshot, Name: "a privrule detector snapshot"}

// Snapshot writes the detector's state to w.
func (d *Detector) Snapshot(w io.Writer) error {
	e := snapcodec.NewEncoder(snapMagic, snapVersion)
	d.recent.Encode(e)
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
	nd.recent.Decode(s)
	if err := s.End(); err != nil {
		return err
	}
	*d = *nd
	return nil
}
