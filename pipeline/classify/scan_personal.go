package classify

// Personal data in free text: dashed SSNs, card numbers and IBANs. These
// run on runs of at least digitRunMin digits, spaces and dashes holding at
// least minRunDigits digits; the boundary rules keep fragments of longer
// numbers, UUIDs, hex strings and decimals out.

// minRunDigits is the fewest digits any of the three can have in one run.
const minRunDigits = 9

// ibanLookback bounds how far before a digit run a spaced IBAN may start.
const ibanLookback = 36

// digitRun inspects a run t[a:b] of digits, spaces and dashes.
func (s *scanner) digitRun(a, b int) {
	t := s.text
	digits := 0
	for _, c := range t[a:b] {
		if isDigit(c) {
			digits++
		}
	}
	if digits < minRunDigits {
		return
	}
	s.spacedIBAN(a, b)
	for g := a; g < b; {
		if !isDigit(t[g]) || g < s.ibanEnd {
			g++
			continue
		}
		ge := g
		for ge < b && isDigit(t[ge]) {
			ge++
		}
		if end := s.personalAt(g, ge, b); end > 0 {
			g = end
			continue
		}
		g = ge
	}
}

// personalAt tries an SSN or a card number starting at the digit group
// t[g:ge] of the run ending at b and returns the end of what it reported,
// or 0.
func (s *scanner) personalAt(g, ge, b int) int {
	t := s.text
	if !startBoundary(t, g) {
		return 0
	}
	if ge-g == 3 && ge+8 <= b && t[ge] == '-' && t[ge+3] == '-' {
		area, ok1 := digitsAt(t, g, 3)
		group, ok2 := digitsAt(t, ge+1, 2)
		serial, ok3 := digitsAt(t, ge+4, 4)
		if ok1 && ok2 && ok3 && endBoundary(t, ge+8) && validSSN(area, group, serial) {
			s.report(SecretSSN, g, ge+8)
			return ge + 8
		}
		return 0
	}
	if n := ge - g; n >= 13 && n <= 19 {
		var d [19]byte
		for k := range n {
			d[k] = t[g+k] - '0'
		}
		if endBoundary(t, ge) && plausibleIIN(d[:n]) && luhn(d[:n]) {
			s.report(SecretPAN, g, ge)
			return ge
		}
		return 0
	}
	if ge-g == 4 {
		return s.groupedPAN(g, b)
	}
	return 0
}

// groupedPAN reads groups of 3–6 digits separated by one repeated single
// space or dash, starting with the 4-digit group at g, and reports the
// first reading of 13–19 digits that is a plausible card number.
func (s *scanner) groupedPAN(g, b int) int {
	t := s.text
	var d [19]byte
	n := 0
	var sep byte
	for i, first := g, true; i < b; first = false {
		e := i
		for e < b && isDigit(t[e]) {
			e++
		}
		if l := e - i; (!first && (l < 3 || l > 6)) || n+l > len(d) {
			return 0
		}
		for k := i; k < e; k++ {
			d[n] = t[k] - '0'
			n++
		}
		if n >= 13 && endBoundary(t, e) && plausibleIIN(d[:n]) && luhn(d[:n]) {
			s.report(SecretPAN, g, e)
			return e
		}
		if e+1 >= b || !isDigit(t[e+1]) || (sep != 0 && t[e] != sep) {
			return 0
		}
		sep = t[e]
		i = e + 1
	}
	return 0
}

// startBoundary rejects a number glued to a word, a decimal point, a sign
// or a dashed structure (UUIDs, dates, longer ids) before t[g].
func startBoundary(t []byte, g int) bool {
	if g == 0 {
		return true
	}
	p := t[g-1]
	return !isWordByte(p) && p != '.' && p != '+' && p != '-'
}

// endBoundary is startBoundary for the byte at e; a sentence-ending '.'
// is fine, a decimal point is not.
func endBoundary(t []byte, e int) bool {
	if e >= len(t) {
		return true
	}
	q := t[e]
	next := e+1 < len(t) && isAlnum(t[e+1])
	switch {
	case isWordByte(q) || q == '+':
		return false
	case q == '.' || q == '-':
		return !next
	}
	return true
}

// spacedIBAN looks just before the run t[a:b] for the country code of an
// IBAN written in groups of four, as "DE89 3704 0044 0532 0130 00".
func (s *scanner) spacedIBAN(a, b int) {
	t := s.text
	for j := a; j >= max(0, a-ibanLookback, s.ibanEnd); j-- {
		if j+4 > len(t) || !isUpper(t[j]) || (j > 0 && isAlnum(t[j-1])) {
			continue
		}
		if end, ok := parseIBAN(t, j, false, true); ok && end > a {
			s.report(SecretIBAN, j, end)
			s.ibanEnd = end
			return
		}
	}
}
