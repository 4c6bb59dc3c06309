package stream

import (
	"testing"

	"github.com/stretchr/testify/require"

	"roachwatch/pipeline/event"
)

func TestReorder(t *testing.T) {
	tests := []struct {
		name      string
		lateness  int64
		max       int
		times     []int64 // pushed in this order, offsets 0..n-1
		wantOrder []int64 // offsets released after Push of everything (before Drain)
		wantAll   []int64 // offsets in release order including Drain
		late      int64
		forced    int64
	}{
		{"in order passes through behind the watermark", 2, 100, []int64{1, 2, 3, 4, 5},
			[]int64{0, 1, 2}, []int64{0, 1, 2, 3, 4}, 0, 0},
		{"swapped within lateness is fixed", 2, 100, []int64{10, 9, 12, 11, 15},
			[]int64{1, 0, 3, 2}, []int64{1, 0, 3, 2, 4}, 0, 0},
		{"ties keep offset order", 0, 100, []int64{5, 5, 5, 6},
			[]int64{0, 1, 2, 3}, []int64{0, 1, 2, 3}, 0, 0},
		{"too late is released next and counted", 1, 100, []int64{10, 20, 5, 21},
			[]int64{0, 2, 1}, []int64{0, 2, 1, 3}, 1, 0},
		{"full buffer releases the oldest early", 1000, 2, []int64{3, 1, 2, 4},
			[]int64{1, 2}, []int64{1, 2, 0, 3}, 0, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReorder(tc.lateness, tc.max)
			var out []Pending
			for i, ts := range tc.times {
				out = r.Push(&event.Event{ID: "e", Time: ts}, int64(i), out)
			}
			require.Equal(t, tc.wantOrder, offsets(out))
			out = r.Drain(out)
			require.Equal(t, tc.wantAll, offsets(out))
			require.Equal(t, tc.late, r.Late)
			require.Equal(t, tc.forced, r.Forced)
			require.Zero(t, r.Len())
		})
	}
}

// A buffer restored from its state releases what the original would have.
func TestReorderStateRoundTrip(t *testing.T) {
	times := []int64{10, 14, 11, 13, 12, 20, 18, 25, 19, 30}
	whole := NewReorder(5, 100)
	var want []Pending
	for i, ts := range times {
		want = whole.Push(&event.Event{Time: ts}, int64(i), want)
	}
	want = whole.Drain(want)

	for cut := range times {
		a := NewReorder(5, 100)
		var got []Pending
		for i, ts := range times[:cut] {
			got = a.Push(&event.Event{Time: ts}, int64(i), got)
		}
		b := NewReorder(5, 100)
		b.restore(a.state())
		for i, ts := range times[cut:] {
			got = b.Push(&event.Event{Time: ts}, int64(cut+i), got)
		}
		got = b.Drain(got)
		require.Equal(t, offsets(want), offsets(got), "cut at %d", cut)
	}
}

func offsets(ps []Pending) []int64 {
	out := make([]int64, len(ps))
	for i, p := range ps {
		out[i] = p.Offset
	}
	return out
}
