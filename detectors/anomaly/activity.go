package anomaly

import (
	"math"
	"strings"

	"roachwatch/detectors"
	"roachwatch/pipeline/event"
)

const (
	minuteNS = int64(60e9)
	hourNS   = int64(3600e9)
	weekNS   = 7 * 24 * hourNS
)

// activity runs RW-ANOM-003 and 004 and learns the rate and hour profile.
func (d *Detector) activity(o *obs, out []detectors.Finding) []detectors.Finding {
	p, t := o.p, o.ev.Time
	if m := floorDiv(t, minuteNS); m > p.minute {
		if p.minuteN > 0 {
			p.rate.add(float64(p.minuteN), d.cfg.Alpha)
		}
		p.minute, p.minuteN = m, 0
		p.rateLimit = 0
		if p.rate.n >= uint32(d.cfg.MinSamples) {
			lim := max(p.rate.limit(d.cfg.RateMADs), float64(d.cfg.MinRate))
			p.rateLimit = uint32(min(math.Ceil(lim), math.MaxUint32-1))
		}
	}
	p.minuteN++
	if p.rateLimit > 0 && p.minuteN == p.rateLimit+1 && o.known {
		out = append(out, d.spike(o))
	}
	if h := p.hours; h != nil {
		bin := hourOfWeek(t)
		span := p.last - p.first
		if o.known && p.events >= uint32(d.cfg.OffHoursMin) && span >= d.offSpan {
			hour := floorDiv(t, hourNS)
			week := span >= weekNS
			if hour != p.offHour {
				if sh := h.share(bin, week); sh < d.cfg.OffHoursRatio {
					p.offHour = hour
					out = append(out, d.offHours(o, bin, sh, week))
				}
			}
		}
		h.add(bin)
	}
	return out
}

// newOrigin runs RW-ANOM-005 and learns addresses, networks and
// application names.
func (d *Detector) newOrigin(o *obs, out []detectors.Finding) []detectors.Finding {
	ev, p := o.ev, o.p
	if ev.ClientAddr != "" {
		newAddr := !hasItem(p.items, kindAddr, hash64(ev.ClientAddr))
		if newAddr {
			netw := network(ev.ClientAddr)
			newNet := netw != "" && !hasItem(p.items, kindNet, hash64(netw))
			switch {
			case newNet && o.known && p.flags&(flagAddrOverflow<<kindNet) == 0:
				out = append(out, d.origin(o, kindNet, netw, detectors.SeverityMedium))
			case o.known && p.flags&(flagAddrOverflow<<kindAddr) == 0 && !newNet:
				out = append(out, d.origin(o, kindAddr, ev.ClientAddr, detectors.SeverityLow))
			}
			d.remember(p, kindAddr, ev.ClientAddr, d.cfg.MaxAddresses)
			if newNet {
				d.remember(p, kindNet, netw, d.cfg.MaxNetworks)
			}
		}
	}
	if app := ev.Application; app != "" && !hasItem(p.items, kindApp, hash64(app)) {
		if o.known && p.flags&(flagAddrOverflow<<kindApp) == 0 {
			out = append(out, d.origin(o, kindApp, app, detectors.SeverityLow))
		}
		d.remember(p, kindApp, app, d.cfg.MaxApps)
	}
	return out
}

func (d *Detector) remember(p *principal, kind uint8, v string, capOf int) {
	if addItem(&p.items, kind, hash64(v), capOf) {
		p.flags |= flagAddrOverflow << kind
	}
}

// newcomer runs RW-ANOM-006.
func (d *Detector) newcomer(o *obs, out []detectors.Finding) []detectors.Finding {
	p := o.p
	if p.flags&flagNewcomer == 0 || !o.sensitive || o.ev.Time-p.first > d.newWin {
		return out
	}
	return append(out, d.neverSeen(o))
}

// cluster returns the cluster an event is attributed to.
func (d *Detector) cluster(c string) string {
	switch {
	case c == "":
		if d.nClusters == 1 {
			return d.sole
		}
	case d.nClusters == 0:
		d.sole, d.nClusters = strings.Clone(c), 1
	case d.nClusters == 1 && c != d.sole:
		d.nClusters = 2
	}
	return c
}

// isCopy reports whether (t, fp) is a channel copy of a statement just
// counted, and remembers it otherwise.
func (p *principal) isCopy(t int64, fp uint64) bool {
	k := uint64(t)*0x9e3779b97f4a7c15 ^ fp
	for _, r := range p.recent {
		if r == k {
			return true
		}
	}
	p.recent[p.recentPos] = k
	p.recentPos = (p.recentPos + 1) % uint8(len(p.recent))
	return false
}

// sensitive: the event touches a catalog-sensitive column, an audited
// table (sensitive_table_access) or a configured sensitive table.
func (d *Detector) sensitive(ev *event.Event) bool {
	if len(ev.SensitiveColumns) > 0 || ev.Type == "sensitive_table_access" {
		return true
	}
	if len(d.sens) > 0 {
		for _, t := range ev.Tables {
			if d.sens[t] || d.sens[t[strings.LastIndexByte(t, '.')+1:]] {
				return true
			}
		}
	}
	return false
}
