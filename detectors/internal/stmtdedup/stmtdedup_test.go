package stmtdedup

import (
	"bytes"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"roachwatch/detectors/internal/snapcodec"
)

func TestAddForgetsOldestAndNextMinuteCopies(t *testing.T) {
	s := New(16)
	for i := range 100 {
		require.True(t, s.Add(Key{User: "u", Minute: int64(i * 10), Sig: strconv.Itoa(i)}))
	}
	require.Equal(t, 16, s.Len())
	require.Len(t, s.m, 16)
	require.True(t, s.Add(Key{User: "u", Minute: 0, Sig: "0"}), "the oldest entries are forgotten")
	require.False(t, s.Add(Key{User: "u", Minute: 991, Sig: "99"}), "next-minute copy of a recent statement")
	require.False(t, s.Add(Key{User: "u", Minute: 990, Sig: "99"}), "the same statement again")
	require.True(t, s.Add(Key{User: "v", Minute: 990, Sig: "99"}), "another principal")
}

var format = snapcodec.Format{Magic: "RWTEST", Version: 1, Err: snapcodec.ErrSnapshot, Name: "a test snapshot"}

func roundTrip(t *testing.T, s *Set, into *Set) error {
	t.Helper()
	e := snapcodec.NewEncoder(format.Magic, format.Version)
	s.Encode(e)
	var buf bytes.Buffer
	require.NoError(t, e.Finish(&buf))
	d, err := snapcodec.Open(&buf, format)
	require.NoError(t, err)
	into.Decode(d)
	return d.End()
}

func TestSnapshotKeepsOrderAndBound(t *testing.T) {
	s := New(8)
	for i := range 20 { // wraps the ring
		s.Add(Key{User: "u", Minute: int64(i * 10), Sig: strconv.Itoa(i)})
	}
	r := New(8)
	require.NoError(t, roundTrip(t, s, r))
	require.Equal(t, s.oldestFirst(), r.oldestFirst())
	// The restored set forgets in the same order as the original.
	for i := 20; i < 24; i++ {
		k := Key{User: "u", Minute: int64(i * 10), Sig: strconv.Itoa(i)}
		require.Equal(t, s.Add(k), r.Add(k))
	}
	require.Equal(t, s.oldestFirst(), r.oldestFirst())

	small := New(3)
	require.NoError(t, roundTrip(t, s, small))
	require.Equal(t, s.oldestFirst()[5:], small.oldestFirst(), "a smaller bound keeps the newest")
}
