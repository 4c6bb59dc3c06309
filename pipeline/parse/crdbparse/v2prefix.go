package crdbparse

import (
	"bytes"
	"time"

	"roachwatch/pipeline/parse"
)

// redactableMark is the crdb-v2 redactability indicator ⋮ (U+22EE).
const redactableMark = "⋮"

// v2Line is the parsed prefix of one crdb-v2 physical line. Slices alias
// the line.
type v2Line struct {
	sev        byte
	ts         int64 // UTC ns
	chanNum    int64 // -1 when the line has no "N@" (DEV)
	redactable bool
	tags       []byte
	counter    []byte
	cont       byte
	key        []byte // everything before the cont char: equal on all lines of one entry
	msg        []byte
}

// parseV2Line parses the prefix
//
//	L yymmdd hh:mm:ss.uuuuuu[±hhmmss] goid [(gostd) ][chan@]file:line [⋮] [tags] counter cont
//
// by hand; it accepts exactly what the RE2 expression of log-formats.md
// §2.1 accepts, except that an empty tag list "[]" (v21.1) is allowed and
// the first "] " that is followed by a valid counter and cont closes the
// tags. It returns "" or the LineError reason.
func parseV2Line(b []byte, l *v2Line) string {
	if len(b) < 24 {
		return parse.ReasonNoPrefix
	}
	if severityLetter(b[0]) == "" {
		return parse.ReasonNoPrefix
	}
	l.sev = b[0]
	// Fixed layout: Lyymmdd hh:mm:ss.uuuuuu
	if !digitsAt(b, 1, 6) || b[7] != ' ' || !digitsAt(b, 8, 2) || b[10] != ':' ||
		!digitsAt(b, 11, 2) || b[13] != ':' || !digitsAt(b, 14, 2) || b[16] != '.' || !digitsAt(b, 17, 6) {
		return parse.ReasonNoPrefix
	}
	i := 23
	var offset int64
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		if !digitsAt(b, i+1, 6) {
			return parse.ReasonNoPrefix
		}
		oh, om, os := num(b, i+1, 2), num(b, i+3, 2), num(b, i+5, 2)
		if oh > 23 || om > 59 || os > 59 {
			return parse.ReasonBadTimestamp
		}
		offset = (oh*3600 + om*60 + os) * int64(time.Second)
		if b[i] == '-' {
			offset = -offset
		}
		i += 7
	}
	ts, ok := v2Time(b)
	if !ok {
		return parse.ReasonBadTimestamp
	}
	l.ts = ts - offset
	if i >= len(b) || b[i] != ' ' {
		return parse.ReasonNoPrefix
	}
	i++
	// goroutine id
	j := skipDigits(b, i)
	if j == i || j >= len(b) || b[j] != ' ' {
		return parse.ReasonNoPrefix
	}
	i = j + 1
	if bytes.HasPrefix(b[i:], []byte("(gostd) ")) {
		i += len("(gostd) ")
	}
	// optional channel
	l.chanNum = -1
	if j = skipDigits(b, i); j > i && j < len(b) && b[j] == '@' {
		if j-i > 9 {
			return parse.ReasonNoPrefix
		}
		l.chanNum = num(b, i, j-i)
		i = j + 1
	}
	// file:line
	k := bytes.IndexByte(b[i:], ':')
	if k < 0 {
		return parse.ReasonNoPrefix
	}
	i += k + 1
	j = skipDigits(b, i)
	if j == i || j >= len(b) || b[j] != ' ' {
		return parse.ReasonNoPrefix
	}
	i = j + 1
	// redactability marker, then " ["
	l.redactable = bytes.HasPrefix(b[i:], []byte(redactableMark))
	if l.redactable {
		i += len(redactableMark)
	}
	if i+1 >= len(b) || b[i] != ' ' || b[i+1] != '[' {
		return parse.ReasonNoPrefix
	}
	i += 2
	return l.tail(b, i)
}

// tail parses "tags] counter cont msg" starting after "[".
func (l *v2Line) tail(b []byte, start int) string {
	for from := start; from < len(b); {
		k := bytes.Index(b[from:], []byte("] "))
		if k < 0 {
			return parse.ReasonNoPrefix
		}
		end := from + k
		i := end + 2
		j := skipDigits(b, i)
		if j+1 < len(b) && b[j] == ' ' && isCont(b[j+1]) {
			l.tags = b[start:end]
			l.counter = b[i:j]
			l.cont = b[j+1]
			l.key = b[:j+1]
			l.msg = b[j+2:]
			return ""
		}
		from = end + 1
	}
	return parse.ReasonNoPrefix
}

func isCont(c byte) bool {
	switch c {
	case ' ', '=', '+', '|', '!':
		return true
	}
	return false
}

// v2Time converts the fixed-layout UTC time of a crdb-v2 prefix to ns.
// Two-digit years are 20yy (years before 2000 print as 00).
func v2Time(b []byte) (int64, bool) {
	yy, mo, dd := num(b, 1, 2), num(b, 3, 2), num(b, 5, 2)
	hh, mi, ss, us := num(b, 8, 2), num(b, 11, 2), num(b, 14, 2), num(b, 17, 6)
	if mo < 1 || mo > 12 || dd < 1 || dd > 31 || hh > 23 || mi > 59 || ss > 60 {
		return 0, false
	}
	t := time.Date(int(2000+yy), time.Month(mo), int(dd), int(hh), int(mi), int(ss), int(us)*1000, time.UTC)
	if t.Day() != int(dd) { // 310231 and the like
		return 0, false
	}
	return t.UnixNano(), true
}

func digitsAt(b []byte, i, n int) bool {
	if i+n > len(b) {
		return false
	}
	for _, c := range b[i : i+n] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// num parses n digits at b[i:]; the caller has checked them.
func num(b []byte, i, n int) int64 {
	var v int64
	for _, c := range b[i : i+n] {
		v = v*10 + int64(c-'0')
	}
	return v
}

func skipDigits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

// stripANSI appends b without ANSI CSI sequences (ESC [ params final), the
// colouring of crdb-v2-tty, to dst.
func stripANSI(dst, b []byte) []byte {
	for {
		i := bytes.IndexByte(b, 0x1b)
		if i < 0 || i+1 >= len(b) || b[i+1] != '[' {
			return append(dst, b...)
		}
		dst = append(dst, b[:i]...)
		j := i + 2
		for j < len(b) && b[j] >= 0x20 && b[j] <= 0x3f {
			j++
		}
		if j < len(b) && b[j] >= 0x40 && b[j] <= 0x7e {
			j++
		}
		b = b[j:]
	}
}

// LooksLikeV2 reports whether line is the first line of a crdb-v2 (or,
// after removing colour escapes, crdb-v2-tty) entry, including file
// header entries.
func LooksLikeV2(line []byte) bool {
	line = trimLine(line)
	if bytes.IndexByte(line, 0x1b) >= 0 {
		line = stripANSI(nil, line)
	}
	var l v2Line
	return parseV2Line(line, &l) == "" && (l.cont == ' ' || l.cont == '=')
}
