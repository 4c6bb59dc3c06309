package classify

// ibanLengths lists the total IBAN length per country (SWIFT IBAN registry).
// Countries not listed are accepted by Value with any length 15–34 and are
// never reported by ScanSecrets.
const ibanLengths = "AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BR29 BY28 CH21 CR22 CY28 " +
	"CZ24 DE22 DK18 DO28 EE20 EG29 ES24 FI18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 " +
	"HR21 HU28 IE22 IL23 IQ23 IS26 IT27 JO30 KW30 KZ20 LB28 LC32 LI21 LT20 LU20 LV21 " +
	"LY25 MC27 MD24 ME22 MK19 MR27 MT31 MU30 NL18 NO15 PK24 PL28 PS29 PT25 QA29 RO24 " +
	"RS22 SA24 SC31 SE24 SI19 SK24 SM27 ST25 SV28 TL23 TN24 TR26 UA29 VA22 VG24 XK20"

// ibanLen is ibanLengths indexed by (c0-'A')*26 + (c1-'A'); 0 = unknown.
var ibanLen = func() (t [26 * 26]uint8) {
	for i := 0; i+4 <= len(ibanLengths); i += 5 {
		e := ibanLengths[i : i+4]
		t[int(e[0]-'A')*26+int(e[1]-'A')] = (e[2]-'0')*10 + (e[3] - '0')
	}
	return t
}()

// isIBAN reports whether v is a whole IBAN, compact or grouped by single
// spaces. Unknown countries are accepted with a length of 15–34.
func isIBAN(v []byte) bool {
	end, ok := parseIBAN(v, 0, true, false)
	return ok && end == len(v)
}

// parseIBAN reads an IBAN starting at v[i]: two upper-case letters, two
// digits, then upper-case letters and digits, optionally in groups of four
// separated by single spaces (spaced must then hold). It returns the end
// offset. allowUnknown accepts countries missing from ibanLengths.
func parseIBAN(v []byte, i int, allowUnknown, spaced bool) (int, bool) {
	if i+4 > len(v) || !isUpper(v[i]) || !isUpper(v[i+1]) || !isDigit(v[i+2]) || !isDigit(v[i+3]) {
		return 0, false
	}
	want := int(ibanLen[int(v[i]-'A')*26+int(v[i+1]-'A')])
	if want == 0 && !allowUnknown {
		return 0, false
	}
	// mod-97 over BBAN then country letters and check digits; letters
	// count as two digits 10..35. Streaming keeps it allocation-free.
	r := 0
	n := 4
	spaces := 0
	j := i + 4
	for j < len(v) && n < 34 && (want == 0 || n < want) {
		b := v[j]
		if boundary := (n-4)%4 == 0; boundary && b == ' ' {
			// Spaced form: every earlier group boundary had a space too.
			if spaces != (n-4)/4 || j+1 >= len(v) || !isAlnum(v[j+1]) {
				break
			}
			spaces++
			j++
			continue
		} else if boundary && spaces > 0 && v[j-1] != ' ' {
			break // a spaced IBAN does not continue compact
		}
		if isDigit(b) {
			r = (r*10 + int(b-'0')) % 97
		} else if isUpper(b) {
			r = (r*100 + int(b-'A') + 10) % 97
		} else {
			break
		}
		n++
		j++
	}
	if (want != 0 && n != want) || n < 15 || (spaced && spaces == 0) {
		return 0, false
	}
	if spaces > 0 && j < len(v) && isAlnum(v[j]) {
		return 0, false
	}
	for k := i; k < i+4; k++ {
		b := v[k]
		if isUpper(b) {
			r = (r*100 + int(b-'A') + 10) % 97
		} else {
			r = (r*10 + int(b-'0')) % 97
		}
	}
	return j, r == 1
}
