package classify

import "bytes"

// Recognizers for encrypted envelopes and identifier shapes that are not
// personal data: Fernet tokens, PGP armor, UUIDs, and e-mail addresses.

var pgpBegin = []byte("-----BEGIN PGP MESSAGE-----")

// Fernet layout (github.com/fernet/spec): version 0x80, 8-byte big-endian
// timestamp, 16-byte IV, AES-128-CBC ciphertext (a positive multiple of 16
// bytes, PKCS#7 padded), 32-byte HMAC-SHA256. The whole is URL-safe base64.
const (
	fernetVersion  = 0x80
	fernetOverhead = 1 + 8 + 16 + 32
	fernetMinLen   = fernetOverhead + 16
)

// isFernet reports whether v is a structurally valid Fernet token: URL-safe
// base64 (padded or not) decoding to the version byte and a length of
// 57 + 16k bytes, k ≥ 1. It never decodes more than the first byte: the
// length follows from the encoded length, and the HMAC cannot be checked
// without the key.
func isFernet(v []byte) bool {
	n := len(v)
	pad := 0
	for pad < 2 && n > 0 && v[n-1] == '=' {
		n--
		pad++
	}
	if pad > 0 && len(v)%4 != 0 {
		return false
	}
	if n%4 == 1 {
		return false
	}
	decoded := n / 4 * 3
	if r := n % 4; r > 0 {
		decoded += r - 1
	}
	if decoded < fernetMinLen || (decoded-fernetOverhead)%16 != 0 {
		return false
	}
	for _, b := range v[:n] {
		if b64val[b] == 0xff || b == '+' || b == '/' {
			return false
		}
	}
	first := b64val[v[0]]<<2 | b64val[v[1]]>>4
	return first == fernetVersion
}

// isUUID reports the canonical 8-4-4-4-12 form, and 32 hex digits whose
// version nibble is 1–8 and variant nibble 8–b (RFC 9562).
func isUUID(v []byte) bool {
	switch len(v) {
	case 36:
		for i, b := range v {
			if i == 8 || i == 13 || i == 18 || i == 23 {
				if b != '-' {
					return false
				}
			} else if hexval[b] == 0xff {
				return false
			}
		}
		return true
	case 32:
		for _, b := range v {
			if hexval[b] == 0xff {
				return false
			}
		}
		ver, variant := hexval[v[12]], hexval[v[16]]
		return ver >= 1 && ver <= 8 && variant >= 8 && variant <= 0xb
	}
	return false
}

// isEmail accepts local@domain with an RFC 5322 dot-atom local part and a
// domain of at least two labels whose last is 2+ letters.
func isEmail(v []byte) bool {
	at := bytes.IndexByte(v, '@')
	if at < 1 || at > 64 || len(v) > 254 {
		return false
	}
	local, domain := v[:at], v[at+1:]
	if local[0] == '.' || local[len(local)-1] == '.' {
		return false
	}
	for _, b := range local {
		if !isAlnum(b) && !isLocalPunct(b) {
			return false
		}
	}
	labels, labelLen, letters := 0, 0, true
	for i, b := range domain {
		switch {
		case b == '.':
			if labelLen == 0 || domain[i-1] == '-' {
				return false
			}
			labels++
			labelLen, letters = 0, true
			continue
		case b == '-':
			if labelLen == 0 {
				return false
			}
			letters = false
		case isDigit(b):
			letters = false
		case kindOf[b]&(kUpper|kLower) == 0:
			return false
		}
		labelLen++
		if labelLen > 63 {
			return false
		}
	}
	return labels >= 1 && labelLen >= 2 && letters
}

// isLocalPunct reports the punctuation allowed in an unquoted local part.
func isLocalPunct(b byte) bool {
	switch b {
	case '.', '!', '#', '$', '%', '&', '\'', '*', '+', '/', '=', '?', '^', '_', '`', '{', '|', '}', '~', '-':
		return true
	}
	return false
}
