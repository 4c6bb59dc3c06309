package classify

// Recognizers for numbers, SSNs, payment cards, phones and dates. Each takes
// a whole trimmed value and neither allocates nor looks beyond v.

// isNumber accepts [+-]digits[.digits][e[+-]digits] and [+-].digits.
func isNumber(v []byte) bool {
	i := 0
	if i < len(v) && (v[i] == '+' || v[i] == '-') {
		i++
	}
	intDigits := 0
	for i < len(v) && isDigit(v[i]) {
		i++
		intDigits++
	}
	fracDigits := 0
	if i < len(v) && v[i] == '.' {
		i++
		for i < len(v) && isDigit(v[i]) {
			i++
			fracDigits++
		}
	}
	if intDigits+fracDigits == 0 {
		return false
	}
	if i < len(v) && (v[i] == 'e' || v[i] == 'E') {
		i++
		if i < len(v) && (v[i] == '+' || v[i] == '-') {
			i++
		}
		exp := 0
		for i < len(v) && isDigit(v[i]) {
			i++
			exp++
		}
		if exp == 0 {
			return false
		}
	}
	return i == len(v)
}

// digitsAt reports whether v[i:i+n] are all digits and returns their value.
func digitsAt(v []byte, i, n int) (int, bool) {
	if i < 0 || i+n > len(v) {
		return 0, false
	}
	x := 0
	for _, b := range v[i : i+n] {
		if !isDigit(b) {
			return 0, false
		}
		x = x*10 + int(b-'0')
	}
	return x, true
}

// isSSN accepts ddd-dd-dddd and ddd dd dddd (one separator kind).
func isSSN(v []byte) bool {
	if len(v) != 11 || (v[3] != '-' && v[3] != ' ') || v[6] != v[3] {
		return false
	}
	area, ok1 := digitsAt(v, 0, 3)
	group, ok2 := digitsAt(v, 4, 2)
	serial, ok3 := digitsAt(v, 7, 4)
	return ok1 && ok2 && ok3 && validSSN(area, group, serial)
}

// validSSN applies the SSA's never-issued rules.
func validSSN(area, group, serial int) bool {
	return area != 0 && area != 666 && area < 900 && group != 0 && serial != 0
}

// isPAN accepts 13–19 digits, optionally grouped by single spaces or single
// dashes (one kind per value), that pass Luhn and plausibleIIN.
func isPAN(v []byte) bool {
	if len(v) < 13 || len(v) > 23 {
		return false
	}
	var digits [19]byte
	n := 0
	var sep byte
	for i, b := range v {
		if isDigit(b) {
			if n == len(digits) {
				return false
			}
			digits[n] = b - '0'
			n++
			continue
		}
		if (b != ' ' && b != '-') || i == 0 || i == len(v)-1 || !isDigit(v[i-1]) {
			return false
		}
		if sep != 0 && b != sep {
			return false
		}
		sep = b
	}
	return n >= 13 && plausibleIIN(digits[:n]) && luhn(digits[:n])
}

// luhn checks the mod-10 check digit of a digit sequence (values 0–9).
func luhn(d []byte) bool {
	sum := 0
	double := false
	for i := len(d) - 1; i >= 0; i-- {
		x := int(d[i])
		if double {
			x *= 2
			if x > 9 {
				x -= 9
			}
		}
		sum += x
		double = !double
	}
	return sum%10 == 0
}

// plausibleIIN checks the issuer prefix against the major networks and the
// lengths they issue: Visa 4 (13, 16, 19), Mastercard 51–55 and 2221–2720
// (16), Amex 34/37 (15), Discover 6011/644–649/65, JCB 35, UnionPay 62
// (16–19), Diners 30/36/38/39 (14–19).
func plausibleIIN(d []byte) bool {
	n := len(d)
	p2 := int(d[0])*10 + int(d[1])
	p4 := p2*100 + int(d[2])*10 + int(d[3])
	switch {
	case d[0] == 4:
		return n == 13 || n == 16 || n == 19
	case p2 >= 51 && p2 <= 55, p4 >= 2221 && p4 <= 2720:
		return n == 16
	case p2 == 34 || p2 == 37:
		return n == 15
	case p4 == 6011, p2 == 65, p4/10 >= 644 && p4/10 <= 649, p2 == 35, p2 == 62:
		return n >= 16
	case p2 == 30 || p2 == 36 || p2 == 38 || p2 == 39:
		return n >= 14
	}
	return false
}

// isPhone accepts E.164 (+ then 8–15 digits, first digit 1–9, optionally
// grouped by single spaces, dashes, dots or a parenthesised group) and NANP
// (ddd) ddd-dddd, (ddd)ddd-dddd, ddd-ddd-dddd, ddd.ddd.dddd with an area
// code starting 2–9.
func isPhone(v []byte) bool {
	if len(v) > 0 && v[0] == '+' {
		return isE164(v[1:])
	}
	switch len(v) {
	case 12: // ddd-ddd-dddd, ddd.ddd.dddd
		s := v[3]
		if (s != '-' && s != '.') || v[7] != s {
			return false
		}
		_, ok1 := digitsAt(v, 0, 3)
		_, ok2 := digitsAt(v, 4, 3)
		_, ok3 := digitsAt(v, 8, 4)
		return ok1 && ok2 && ok3 && v[0] >= '2'
	case 13, 14: // (ddd)ddd-dddd, (ddd) ddd-dddd
		if v[0] != '(' || v[4] != ')' {
			return false
		}
		rest := v[5:]
		if len(v) == 14 {
			if rest[0] != ' ' {
				return false
			}
			rest = rest[1:]
		}
		_, ok1 := digitsAt(v, 1, 3)
		_, ok2 := digitsAt(rest, 0, 3)
		_, ok3 := digitsAt(rest, 4, 4)
		return ok1 && ok2 && ok3 && rest[3] == '-' && v[1] >= '2'
	}
	return false
}

func isE164(v []byte) bool {
	if len(v) == 0 || v[0] < '1' || v[0] > '9' {
		return false
	}
	digits := 0
	open := false
	prevSep := false
	for i, b := range v {
		switch {
		case isDigit(b):
			digits++
			prevSep = false
			continue
		case b == '(' && !open:
			open = true
		case b == ')' && open && !prevSep:
			open = false
			if i+1 < len(v) && v[i+1] == ' ' {
				continue // ") " is one separator
			}
		case (b == ' ' || b == '-' || b == '.') && !prevSep:
		default:
			return false
		}
		prevSep = true
	}
	return !open && !prevSep && digits >= 8 && digits <= 15
}

// isDate accepts yyyy-mm-dd, m/d/yyyy or mm/dd/yyyy, d.m.yyyy or dd.mm.yyyy
// for years 1000–2999 and real calendar days.
func isDate(v []byte) bool {
	if len(v) == 10 && v[4] == '-' && v[7] == '-' {
		y, ok1 := digitsAt(v, 0, 4)
		m, ok2 := digitsAt(v, 5, 2)
		d, ok3 := digitsAt(v, 8, 2)
		return ok1 && ok2 && ok3 && validDate(y, m, d)
	}
	if len(v) < 8 || len(v) > 10 {
		return false
	}
	sep := v[len(v)-5]
	if sep != '/' && sep != '.' {
		return false
	}
	y, ok := digitsAt(v, len(v)-4, 4)
	if !ok {
		return false
	}
	head := v[:len(v)-5]
	p := 1
	if len(head) > 2 && head[2] == sep {
		p = 2
	}
	if head[p] != sep || len(head)-p-1 < 1 || len(head)-p-1 > 2 {
		return false
	}
	a, ok1 := digitsAt(head, 0, p)
	b, ok2 := digitsAt(head, p+1, len(head)-p-1)
	if !ok1 || !ok2 {
		return false
	}
	if sep == '/' {
		return validDate(y, a, b)
	}
	return validDate(y, b, a)
}

// validDate checks a proleptic Gregorian calendar day.
func validDate(y, m, d int) bool {
	if y < 1000 || y > 2999 || m < 1 || m > 12 || d < 1 {
		return false
	}
	days := [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m]
	if m == 2 && y%4 == 0 && (y%100 != 0 || y%400 == 0) {
		days = 29
	}
	return d <= days
}
