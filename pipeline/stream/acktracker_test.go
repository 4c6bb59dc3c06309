package stream

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestAckTracker(t *testing.T) {
	type step struct {
		ack       int64 // lo of the batch to ack
		want      int64 // committable after
		wantMoved bool
	}
	tests := []struct {
		name  string
		start int64
		spans [][2]int64
		steps []step
	}{
		{"in order", 0, [][2]int64{{0, 10}, {10, 20}, {20, 25}},
			[]step{{0, 10, true}, {10, 20, true}, {20, 25, true}}},
		{"out of order waits for the gap", 100, [][2]int64{{100, 110}, {110, 120}, {120, 130}},
			[]step{{120, 100, false}, {110, 100, false}, {100, 130, true}}},
		{"middle first then head", 5, [][2]int64{{5, 6}, {6, 9}, {9, 40}},
			[]step{{6, 5, false}, {5, 9, true}, {9, 40, true}}},
		{"offsets skipped by kafka stay inside spans", 0, [][2]int64{{0, 7}, {7, 50}},
			[]step{{7, 0, false}, {0, 50, true}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := NewAckTracker(tc.start)
			require.Equal(t, tc.start, tr.Committable())
			for _, s := range tc.spans {
				require.NoError(t, tr.Track(s[0], s[1]))
			}
			for _, s := range tc.steps {
				got, moved, err := tr.Ack(s.ack)
				require.NoError(t, err)
				require.Equal(t, s.want, got, "after ack of %d", s.ack)
				require.Equal(t, s.wantMoved, moved, "after ack of %d", s.ack)
			}
			require.Equal(t, 0, tr.Pending())
		})
	}
}

func TestAckTrackerRejectsGapsAndUnknownAcks(t *testing.T) {
	tr := NewAckTracker(10)
	require.Error(t, tr.Track(11, 20), "a batch must start where the last ended")
	require.Error(t, tr.Track(10, 10), "empty batch")
	require.NoError(t, tr.Track(10, 20))
	_, _, err := tr.Ack(15)
	require.Error(t, err)
	require.Equal(t, int64(20), tr.End())
}

func TestAckTrackerWait(t *testing.T) {
	tr := NewAckTracker(0)
	require.NoError(t, tr.Track(0, 5))
	require.NoError(t, tr.Track(5, 9))
	done := make(chan error, 1)
	go func() { done <- tr.Wait(context.Background(), 9) }()
	_, _, _ = tr.Ack(5)
	select {
	case <-done:
		t.Fatal("Wait returned before the head batch was acknowledged")
	case <-time.After(20 * time.Millisecond):
	}
	_, _, _ = tr.Ack(0)
	require.NoError(t, <-done)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.NoError(t, tr.Track(9, 12))
	require.ErrorIs(t, tr.Wait(ctx, 12), context.Canceled)
}
