package clickhousesink

import "roachwatch/pipeline/event"

// EncodeEvents encodes evs into columns the way WriteEvents does, without
// sending them; benchmarks use it to split client time into encoding and
// the rest.
func EncodeEvents(evs []event.Event) int {
	var c eventColumns
	c.grow(len(evs))
	for i := range evs {
		c.add(&evs[i])
	}
	return c.len()
}
