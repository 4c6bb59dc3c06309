package djangoparse

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// maxTime is the last instant whose UnixNano fits an int64 (2262-04-11).
var maxTime = time.Unix(0, math.MaxInt64)

// nanos converts t to ns since the epoch, rejecting instants that do not fit
// or are not after the epoch: an event time must be positive.
func nanos(t time.Time) (int64, bool) {
	if !t.After(time.Unix(0, 0)) || t.After(maxTime) {
		return 0, false
	}
	return t.UnixNano(), true
}

// digits parses b as an unsigned decimal of exactly len(b) digits.
func digits(b string) (int, bool) {
	if b == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// civil builds a time from validated calendar fields; time.Date would
// silently normalize 2025-02-30 into March.
func civil(y, mo, d, h, mi, s, ns int, loc *time.Location) (time.Time, bool) {
	if mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 60 {
		return time.Time{}, false
	}
	if d > time.Date(y, time.Month(mo)+1, 0, 0, 0, 0, 0, time.UTC).Day() {
		return time.Time{}, false
	}
	return time.Date(y, time.Month(mo), d, h, mi, s, ns, loc), true
}

// parseAsctime parses Python's default asctime "2025-06-11 16:05:44,902"
// (also with 'T', '.' or up to 9 fraction digits) in loc. frac reports
// whether a fraction was present.
func parseAsctime(s string, loc *time.Location) (ns int64, frac bool, ok bool) {
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') || s[13] != ':' || s[16] != ':' {
		return 0, false, false
	}
	y, ok1 := digits(s[0:4])
	mo, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	h, ok4 := digits(s[11:13])
	mi, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return 0, false, false
	}
	fns := 0
	if rest := s[19:]; rest != "" {
		if (rest[0] != ',' && rest[0] != '.') || len(rest) < 2 || len(rest) > 10 {
			return 0, false, false
		}
		f, okf := digits(rest[1:])
		if !okf {
			return 0, false, false
		}
		for i := len(rest) - 1; i < 9; i++ {
			f *= 10
		}
		fns, frac = f, true
	}
	t, okc := civil(y, mo, d, h, mi, sec, fns, loc)
	if !okc {
		return 0, false, false
	}
	ns, ok = nanos(t)
	return ns, frac, ok
}

var months = map[string]int{"Jan": 1, "Feb": 2, "Mar": 3, "Apr": 4, "May": 5, "Jun": 6,
	"Jul": 7, "Aug": 8, "Sep": 9, "Oct": 10, "Nov": 11, "Dec": 12}

// parseServerTime parses runserver's server_time "11/Jun/2025 16:05:44"
// (also with ':' between date and time, as older Django wrote) in loc.
func parseServerTime(s string, loc *time.Location) (int64, bool) {
	if len(s) != 20 || s[2] != '/' || s[6] != '/' || (s[11] != ' ' && s[11] != ':') || s[14] != ':' || s[17] != ':' {
		return 0, false
	}
	mo, okm := months[s[3:6]]
	d, ok1 := digits(s[0:2])
	y, ok2 := digits(s[7:11])
	h, ok3 := digits(s[12:14])
	mi, ok4 := digits(s[15:17])
	sec, ok5 := digits(s[18:20])
	if !(okm && ok1 && ok2 && ok3 && ok4 && ok5) {
		return 0, false
	}
	t, ok := civil(y, mo, d, h, mi, sec, 0, loc)
	if !ok {
		return 0, false
	}
	return nanos(t)
}

// isoLayouts are the ISO-8601 shapes of python-json-logger's timestamp
// (datetime.isoformat), ECS @timestamp and structlog's TimeStamper.
var isoLayouts = []string{
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999",
}

// parseAnyTime parses a time string of a JSON record: ISO-8601 with or
// without zone (zone-less in loc), asctime, server_time, or epoch seconds.
func parseAnyTime(s string, loc *time.Location) (int64, bool) {
	s = strings.TrimSpace(s)
	if ns, _, ok := parseAsctime(s, loc); ok {
		return ns, true
	}
	if len(s) >= 19 && s[4] == '-' {
		for _, l := range isoLayouts {
			if t, err := time.ParseInLocation(l, s, loc); err == nil {
				return nanos(t)
			}
		}
		return 0, false
	}
	if len(s) == 20 && s[2] == '/' {
		return parseServerTime(s, loc)
	}
	return parseEpoch(s)
}

// parseEpoch parses an epoch number given as text. Plain decimals
// ("1749650748.25") are converted exactly; float64 would turn .25 s into
// .249999872 s. Other forms (exponents) go through float64.
func parseEpoch(s string) (int64, bool) {
	ip, fp, _ := strings.Cut(s, ".")
	if len(ip) > 0 && len(ip) <= 11 && len(fp) <= 9 && isDigits(ip) && (fp == "" || isDigits(fp)) {
		sec, _ := digits(ip)
		frac := 0
		if fp != "" {
			frac, _ = digits(fp)
			for i := len(fp); i < 9; i++ {
				frac *= 10
			}
		}
		if sec > 0 && sec < 1e11 {
			return int64(sec)*1e9 + int64(frac), true
		}
	}
	if fp == "" && len(ip) <= 19 && isDigits(ip) {
		// Integer ms, µs or ns: scale exactly.
		n, err := strconv.ParseInt(ip, 10, 64)
		switch {
		case err != nil || n <= 0:
			return 0, false
		case n < 1e14:
			return n * 1e6, true
		case n < 1e17:
			return n * 1e3, true
		}
		return n, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, false
	}
	return epochNanos(f)
}

// epochNanos converts an epoch number to ns, guessing the unit from its
// magnitude (record.created is seconds; other loggers write ms, µs or ns).
func epochNanos(f float64) (int64, bool) {
	if math.IsNaN(f) || f <= 0 {
		return 0, false
	}
	switch {
	case f < 1e11:
		f *= 1e9
	case f < 1e14:
		f *= 1e6
	case f < 1e17:
		f *= 1e3
	}
	if f >= math.MaxInt64 {
		return 0, false
	}
	return int64(f), int64(f) > 0
}
