package stream

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"roachwatch/detectors"
	"roachwatch/pipeline/event"
)

// snapshotVersion is the version of the snapshot encoding below.
const snapshotVersion = 1

// partState is the detector state of one partition: its own detectors and
// engine, its reorder buffer, and the findings restored from a snapshot.
// It covers exactly the messages below next. Owned by the partition's
// goroutine; not safe for concurrent use.
type partState struct {
	dets     []detectors.Detector
	eng      *detectors.Engine
	reorder  *Reorder
	restored map[string]*detectors.Finding // findings as of the snapshot, by id
	horizon  int64                         // findings idle longer than this (event time) leave snapshots
	next     int64                         // every message below this offset is in the state
	scratch  []Pending
}

// newPartState builds a fresh state starting at offset next.
func newPartState(o *Options, next int64) (*partState, error) {
	dets := o.NewDetectors()
	eng, err := detectors.NewEngine(dets, o.Rules)
	if err != nil {
		return nil, err
	}
	return &partState{
		dets: dets, eng: eng, restored: map[string]*detectors.Finding{},
		reorder: NewReorder(o.Config.ReorderLateness.Nanoseconds(), o.Config.ReorderMaxEvents),
		horizon: o.Config.FindingsHorizon.Nanoseconds(), next: next,
	}, nil
}

// observe feeds the message at offset (its decoded event) through the
// reorder buffer into the engine and calls emit for every finding that
// changed. The pointer passed to emit belongs to the engine: use version
// (on the same goroutine, before the next observe) to get a copy.
func (s *partState) observe(ev *event.Event, offset int64, emit func(*detectors.Finding)) {
	s.scratch = s.reorder.Push(ev, offset, s.scratch[:0])
	s.release(emit)
	s.next = offset + 1
}

// skip records that the message at offset holds no event (undecodable,
// counted and logged by the caller) so the state still covers it.
func (s *partState) skip(offset int64) { s.next = offset + 1 }

// finish is the end of input: drain the reorder buffer and close the
// windows of detectors that hold findings.
func (s *partState) finish(emit func(*detectors.Finding)) {
	s.scratch = s.reorder.Drain(s.scratch[:0])
	s.release(emit)
	for _, f := range s.eng.Finish() {
		emit(f)
	}
}

func (s *partState) release(emit func(*detectors.Finding)) {
	for i := range s.scratch {
		for _, f := range s.eng.Observe(&s.scratch[i].Event) {
			emit(f)
		}
		s.scratch[i] = Pending{}
	}
}

// version returns an independent copy of the current version of the
// engine's finding f, including what was restored for its id.
func (s *partState) version(f *detectors.Finding) detectors.Finding {
	if r, ok := s.restored[f.ID]; ok {
		return combine(r, f)
	}
	return cloneFinding(f)
}

// snapshot is the encoded state of a partition.
type snapshot struct {
	V         int                 `json:"v"`
	Next      int64               `json:"next_offset"` // the state covers every offset below
	Detectors []detectorState     `json:"detectors"`
	Findings  []detectors.Finding `json:"findings"` // open findings (last seen within the horizon)
	Reorder   reorderState        `json:"reorder"`
}

type detectorState struct {
	Rules string `json:"rules"` // the detector's rule ids, to match it on restore
	State []byte `json:"state"`
}

func rulesOf(d detectors.Detector) string {
	var ids []string
	for _, r := range d.Rules() {
		ids = append(ids, r.ID)
	}
	return strings.Join(ids, ",")
}

// encode writes the state: every detectors.Stateful detector's own
// snapshot, the open findings (combined with restored ones) and the
// events held in the reorder buffer.
func (s *partState) encode() ([]byte, error) {
	snap := snapshot{V: snapshotVersion, Next: s.next, Reorder: s.reorder.state()}
	for _, d := range s.dets {
		st, ok := d.(detectors.Stateful)
		if !ok {
			continue
		}
		var b bytes.Buffer
		if err := st.Snapshot(&b); err != nil {
			return nil, fmt.Errorf("snapshot of detector %s: %w", rulesOf(d), err)
		}
		snap.Detectors = append(snap.Detectors, detectorState{Rules: rulesOf(d), State: b.Bytes()})
	}
	cutoff := s.reorder.maxTime - s.horizon
	seen := map[string]bool{}
	for _, f := range s.eng.Findings() {
		seen[f.ID] = true
		v := s.version(&f)
		if s.horizon <= 0 || v.LastSeen.UnixNano() >= cutoff {
			snap.Findings = append(snap.Findings, v)
		}
	}
	for id, r := range s.restored {
		if !seen[id] && (s.horizon <= 0 || r.LastSeen.UnixNano() >= cutoff) {
			snap.Findings = append(snap.Findings, *r)
		}
	}
	slices.SortFunc(snap.Findings, func(a, b detectors.Finding) int { return strings.Compare(a.ID, b.ID) })
	return json.Marshal(&snap)
}

// decodeState restores a state from b into a fresh state built from o.
// Detectors are matched by their rule ids; a Stateful detector without a
// saved state starts empty, a saved state without its detector (rule
// disabled since) is ignored, and a state the detector rejects is an
// error.
func decodeState(o *Options, b []byte) (*partState, error) {
	var snap snapshot
	if err := json.Unmarshal(b, &snap); err != nil {
		return nil, fmt.Errorf("decoding state snapshot: %w", err)
	}
	if snap.V != snapshotVersion {
		return nil, fmt.Errorf("state snapshot version %d, this analyze reads %d", snap.V, snapshotVersion)
	}
	s, err := newPartState(o, snap.Next)
	if err != nil {
		return nil, err
	}
	saved := map[string][]byte{}
	for _, ds := range snap.Detectors {
		saved[ds.Rules] = ds.State
	}
	for _, d := range s.dets {
		st, ok := d.(detectors.Stateful)
		if !ok {
			continue
		}
		if b, ok := saved[rulesOf(d)]; ok {
			if err := st.Restore(bytes.NewReader(b)); err != nil {
				return nil, fmt.Errorf("restoring detector %s: %w", rulesOf(d), err)
			}
		}
	}
	for i := range snap.Findings {
		s.restored[snap.Findings[i].ID] = &snap.Findings[i]
	}
	s.reorder.restore(snap.Reorder)
	return s, nil
}
