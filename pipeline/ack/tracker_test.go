package ack

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
)

func pos(off int64) Position { return Position{Offset: off} }

func TestTrackerReleasesContiguousOnly(t *testing.T) {
	tests := []struct {
		name  string
		add   []int64
		done  []int // indexes into add, in completion order
		want  int64
		pendN int
	}{
		{"in order", []int64{10, 20, 30}, []int{0, 1, 2}, 30, 0},
		{"gap holds", []int64{10, 20, 30}, []int{1, 2}, 0, 3},
		{"gap filled", []int64{10, 20, 30}, []int{2, 1, 0}, 30, 0},
		{"partial", []int64{10, 20, 30, 40}, []int{0, 2}, 10, 3},
		{"double done ignored", []int64{10, 20}, []int{0, 0}, 10, 1},
		{"nothing", []int64{10}, nil, 0, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := NewTracker(pos(0))
			seqs := make([]uint64, len(tc.add))
			for i, o := range tc.add {
				seqs[i] = tr.Add(pos(o))
			}
			for _, i := range tc.done {
				tr.Done(seqs[i])
			}
			require.Equal(t, tc.want, tr.Committed().Offset)
			require.Equal(t, tc.pendN, tr.Pending())
		})
	}
}

func TestTrackerRandomOrder(t *testing.T) {
	tr := NewTracker(pos(0))
	const n = 10000
	seqs := make([]uint64, n)
	for i := range n {
		seqs[i] = tr.Add(pos(int64(i + 1)))
	}
	perm := rand.Perm(n)
	maxDone := -1
	done := make([]bool, n)
	for _, i := range perm {
		tr.Done(seqs[i])
		done[i] = true
		for maxDone+1 < n && done[maxDone+1] {
			maxDone++
		}
		require.Equal(t, int64(maxDone+1), tr.Committed().Offset)
	}
	require.Zero(t, tr.Pending())
}

func TestStoreRoundTripAndAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ck.json")
	got, err := Load(path)
	require.NoError(t, err)
	require.Empty(t, got)
	files := map[string]FileState{"1:2": {Position: Position{Offset: 42, FPLen: 8, FP: "ab"}, Path: "/x.log", Updated: time.Unix(1, 0).UTC()}}
	require.NoError(t, Save(path, files))
	got, err = Load(path)
	require.NoError(t, err)
	require.Equal(t, files, got)
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, ents, 1, "no temp file left behind")
	require.NoError(t, os.WriteFile(path, []byte("{torn"), 0o600))
	_, err = Load(path)
	require.ErrorContains(t, err, "decoding checkpoints")
}

func TestCheckpointerWritesOnlyAcked(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ck.json")
	reg := prometheus.NewRegistry()
	c, err := NewCheckpointer(path, time.Hour, reg, nil)
	require.NoError(t, err)
	tr := c.Track("1:2", "/a.log", Position{})
	s1 := tr.Add(pos(100))
	s2 := tr.Add(pos(200))
	tr.Done(s2)
	require.NoError(t, c.Sync())
	got, err := Load(path)
	require.NoError(t, err)
	require.Equal(t, int64(0), got["1:2"].Offset, "200 is not contiguous yet")
	tr.Done(s1)
	require.NoError(t, c.Sync())
	got, err = Load(path)
	require.NoError(t, err)
	require.Equal(t, int64(200), got["1:2"].Offset)
	require.Equal(t, 2.0, testutil.ToFloat64(c.m.writes))

	// Restart: the position is offered for resume, unclaimed ones are dropped.
	c2, err := NewCheckpointer(path, time.Hour, prometheus.NewRegistry(), nil)
	require.NoError(t, err)
	p, ok := c2.Resume("1:2")
	require.True(t, ok)
	require.Equal(t, int64(200), p.Offset)
	require.Equal(t, 1, c2.DropUnclaimed())
	require.NoError(t, c2.Sync())
	got, err = Load(path)
	require.NoError(t, err)
	require.Empty(t, got)
}

func TestCheckpointerCountsFailures(t *testing.T) {
	dir := t.TempDir()
	c, err := NewCheckpointer(filepath.Join(dir, "missing-dir", "ck.json"), time.Hour, prometheus.NewRegistry(), nil)
	require.NoError(t, err)
	tr := c.Track("1:2", "/a.log", Position{})
	tr.Done(tr.Add(pos(5)))
	require.Error(t, c.Sync())
	require.Equal(t, 1.0, testutil.ToFloat64(c.m.failures))
}
