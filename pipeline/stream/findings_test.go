package stream

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roachwatch/detectors"
)

// combine over a split equals one aggregator over everything, for every
// split point: the property the hand-over relies on.
func TestCombineEqualsOneAggregator(t *testing.T) {
	base := time.Date(2025, 6, 9, 0, 0, 0, 0, time.UTC)
	var occ []detectors.Finding
	for i := range 40 {
		o := detectors.Finding{
			ID: "inc", RuleID: "RW-X-001", Severity: detectors.Severity(i % 3), Title: fmt.Sprint("t", i), Summary: fmt.Sprint("s", i),
			FirstSeen: base.Add(time.Duration(i) * time.Minute), LastSeen: base.Add(time.Duration(i) * time.Minute), Count: 1,
			Evidence: []string{fmt.Sprint("ev", i%25)}, Tables: []string{fmt.Sprint("t", i%5)}, Columns: []string{fmt.Sprint("c", i%40)},
			Details:   map[string]string{"k": fmt.Sprint(i), fmt.Sprint("d", i%3): "x"},
			SessionID: fmt.Sprint("s", i/20),
		}
		if i == 7 {
			o.Principal.Application = "app"
		}
		occ = append(occ, o)
	}
	whole := detectors.NewAggregator()
	for i := range occ {
		whole.Add(&occ[i])
	}
	want, err := json.Marshal(whole.Sorted())
	require.NoError(t, err)
	for cut := 1; cut < len(occ); cut++ {
		before, after := detectors.NewAggregator(), detectors.NewAggregator()
		for i := range occ[:cut] {
			before.Add(&occ[i])
		}
		for i := cut; i < len(occ); i++ {
			after.Add(&occ[i])
		}
		a, b := before.Sorted()[0], after.Sorted()[0]
		got, err := json.Marshal([]detectors.Finding{combine(&a, &b)})
		require.NoError(t, err)
		require.JSONEq(t, string(want), string(got), "split at %d", cut)
	}
}
