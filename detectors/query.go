package detectors

import (
	"strings"
	"time"
)

var quoter = strings.NewReplacer(`\`, `\\`, `'`, `\'`)

// Quote renders s as a ClickHouse string literal.
func Quote(s string) string { return "'" + quoter.Replace(s) + "'" }

// TimeRange renders a ClickHouse predicate on the events table's time
// column covering [from, to] with a minute of slack on each side.
func TimeRange(from, to time.Time) string {
	const layout = "2006-01-02 15:04:05.000000000"
	return "time BETWEEN toDateTime64(" + Quote(from.Add(-time.Minute).UTC().Format(layout)) + ", 9, 'UTC') AND toDateTime64(" +
		Quote(to.Add(time.Minute).UTC().Format(layout)) + ", 9, 'UTC')"
}
