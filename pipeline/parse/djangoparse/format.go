package djangoparse

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// layout is a compiled Python logging format. The fields before {message}
// become the prefix matcher that recognizes the first line of a record; the
// fields after it become the suffix matcher, applied to the line where the
// message ends (Python appends tracebacks after the whole formatted line).
// A layout with no prefix is read as bare messages (see messageStart).
type layout struct {
	src    string
	prefix *regexp.Regexp // anchored at the line start; nil: bare messages
	suffix *regexp.Regexp // anchored at the line end; nil: message is last

	// Submatch group numbers in prefix (or suffix for the s* ones); -1 when
	// the format lacks the field.
	levelGroup, nameGroup, timeGroup, serverGroup, createdGroup, msecsGroup int
	sLevelGroup, sNameGroup                                                 int
}

// hasTime reports whether records of the layout carry their own time.
func (l *layout) hasTime() bool {
	return l.timeGroup >= 0 || l.serverGroup >= 0 || l.createdGroup >= 0
}

// part is a literal or a field of a tokenized format.
type part struct {
	lit    string
	field  string // "" for a literal
	padded bool   // width given: Python pads with spaces
}

// fieldPattern is the regexp of a LogRecord attribute. Token fields are
// lazy so that the literal after them ends them.
func fieldPattern(name string) string {
	switch name {
	case "asctime":
		return `\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?`
	case "server_time":
		return `\d{2}/[A-Za-z]{3}/\d{4}[ :]\d{2}:\d{2}:\d{2}`
	case "created", "relativeCreated", "msecs":
		return `\d+(?:\.\d+)?`
	case "levelname":
		return `DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL|FATAL|NOTSET|Level \d+`
	case "levelno", "lineno", "process", "thread":
		return `\d+`
	case "name", "module", "funcName", "filename", "pathname":
		return `\S+?`
	case "processName", "threadName": // "Thread-1 (process_request_thread)"
		return `\S+(?: \([^()\s]*\))?`
	default: // taskName, extras added by filters
		return `.*?`
	}
}

var (
	layoutMu    sync.Mutex
	layoutCache = map[string]*layout{}
)

// compileLayout compiles format (a format string, not a preset name),
// caching the result: decoders are built per file, formats per config.
func compileLayout(format string) (*layout, error) {
	layoutMu.Lock()
	defer layoutMu.Unlock()
	if l, ok := layoutCache[format]; ok {
		return l, nil
	}
	l, err := buildLayout(format)
	if err != nil {
		return nil, err
	}
	if len(layoutCache) < 256 {
		layoutCache[format] = l
	}
	return l, nil
}

func buildLayout(format string) (*layout, error) {
	var parts []part
	var err error
	switch {
	case strings.Contains(format, "%("):
		parts, err = tokenizePercent(format)
	case strings.Contains(format, "{"):
		parts, err = tokenizeBrace(format)
	default:
		return nil, fmt.Errorf("djangoparse: format %q has no {field} or %%(field)s: `$`-style and literal formats are not supported", format)
	}
	if err != nil {
		return nil, fmt.Errorf("djangoparse: format %q: %w", format, err)
	}
	msg := -1
	for i, p := range parts {
		if p.field == "message" {
			if msg >= 0 {
				return nil, fmt.Errorf("djangoparse: format %q has {message} twice", format)
			}
			msg = i
		}
	}
	if msg < 0 {
		return nil, fmt.Errorf("djangoparse: format %q has no message field", format)
	}
	l := &layout{src: format, levelGroup: -1, nameGroup: -1, timeGroup: -1, serverGroup: -1,
		createdGroup: -1, msecsGroup: -1, sLevelGroup: -1, sNameGroup: -1}
	if msg > 0 {
		re, groups, err := compileParts(parts[:msg], "^", "")
		if err != nil {
			return nil, fmt.Errorf("djangoparse: format %q: %w", format, err)
		}
		l.prefix = re
		for name, g := range groups {
			switch name {
			case "levelname":
				l.levelGroup = g
			case "name":
				l.nameGroup = g
			case "asctime":
				l.timeGroup = g
			case "server_time":
				l.serverGroup = g
			case "created":
				l.createdGroup = g
			case "msecs":
				l.msecsGroup = g
			}
		}
	}
	if msg < len(parts)-1 {
		re, groups, err := compileParts(parts[msg+1:], "", "$")
		if err != nil {
			return nil, fmt.Errorf("djangoparse: format %q: %w", format, err)
		}
		l.suffix = re
		if g, ok := groups["levelname"]; ok {
			l.sLevelGroup = g
		}
		if g, ok := groups["name"]; ok {
			l.sNameGroup = g
		}
	}
	return l, nil
}

// compileParts builds the regexp of a run of parts; groups maps the first
// occurrence of each field to its submatch number.
func compileParts(parts []part, head, tail string) (*regexp.Regexp, map[string]int, error) {
	var b strings.Builder
	b.WriteString(head)
	groups := map[string]int{}
	n := 0
	for _, p := range parts {
		if p.field == "" {
			b.WriteString(regexp.QuoteMeta(p.lit))
			continue
		}
		n++
		if _, ok := groups[p.field]; !ok {
			groups[p.field] = n
		}
		if p.padded {
			b.WriteString(` *`)
		}
		b.WriteString("(" + fieldPattern(p.field) + ")")
		if p.padded {
			b.WriteString(` *`)
		}
	}
	b.WriteString(tail)
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, nil, err
	}
	return re, groups, nil
}

// tokenizeBrace splits a str.format-style format ("{name!r:>8}").
func tokenizeBrace(f string) ([]part, error) {
	var parts []part
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			parts = append(parts, part{lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(f); {
		c := f[i]
		switch {
		case c == '{' && i+1 < len(f) && f[i+1] == '{':
			lit.WriteByte('{')
			i += 2
		case c == '}' && i+1 < len(f) && f[i+1] == '}':
			lit.WriteByte('}')
			i += 2
		case c == '{':
			j := strings.IndexByte(f[i:], '}')
			if j < 0 {
				return nil, fmt.Errorf("unclosed '{' at byte %d", i)
			}
			inner := f[i+1 : i+j]
			if strings.IndexByte(inner, '{') >= 0 {
				return nil, fmt.Errorf("nested '{' at byte %d is not supported", i)
			}
			name, spec, _ := strings.Cut(inner, ":")
			name, _, _ = strings.Cut(name, "!")
			if !isIdent(name) {
				return nil, fmt.Errorf("field %q at byte %d is not a LogRecord attribute name", name, i)
			}
			flush()
			parts = append(parts, part{field: name, padded: strings.ContainsAny(spec, "123456789")})
			i += j + 1
		case c == '}':
			return nil, fmt.Errorf("single '}' at byte %d", i)
		default:
			lit.WriteByte(c)
			i++
		}
	}
	flush()
	return parts, nil
}

// tokenizePercent splits a %-style format ("%(levelname)-8s").
func tokenizePercent(f string) ([]part, error) {
	var parts []part
	var lit strings.Builder
	for i := 0; i < len(f); {
		c := f[i]
		if c != '%' {
			lit.WriteByte(c)
			i++
			continue
		}
		if i+1 < len(f) && f[i+1] == '%' {
			lit.WriteByte('%')
			i += 2
			continue
		}
		if i+1 >= len(f) || f[i+1] != '(' {
			return nil, fmt.Errorf("'%%' at byte %d is not followed by (name)", i)
		}
		j := strings.IndexByte(f[i:], ')')
		if j < 0 {
			return nil, fmt.Errorf("unclosed '%%(' at byte %d", i)
		}
		name := f[i+2 : i+j]
		if !isIdent(name) {
			return nil, fmt.Errorf("field %q at byte %d is not a LogRecord attribute name", name, i)
		}
		k := i + j + 1
		for k < len(f) && strings.IndexByte("#0- +", f[k]) >= 0 {
			k++
		}
		w := k
		for k < len(f) && (f[k] >= '0' && f[k] <= '9' || f[k] == '.') {
			k++
		}
		if k >= len(f) || strings.IndexByte("diouxXeEfFgGcrsa", f[k]) < 0 {
			return nil, fmt.Errorf("field %q at byte %d has no conversion type", name, i)
		}
		if lit.Len() > 0 {
			parts = append(parts, part{lit: lit.String()})
			lit.Reset()
		}
		parts = append(parts, part{field: name, padded: k > w && strings.ContainsAny(f[w:k], "123456789")})
		i = k + 1
	}
	if lit.Len() > 0 {
		parts = append(parts, part{lit: lit.String()})
	}
	return parts, nil
}

// isIdent reports whether s is a Python identifier (ASCII subset).
func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9' {
			continue
		}
		return false
	}
	return true
}
