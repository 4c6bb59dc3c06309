package classify

// Byte kinds for the one-pass shape of a value. Every byte maps to exactly
// one kind, so OR-ing kinds over a value tells which kinds it contains.
const (
	kDigit uint16 = 1 << iota
	kUpper
	kLower
	kSpace
	kDash
	kDot
	kSlash
	kPlus
	kParen
	kAt
	kUnderscore
	kEq
	kStar
	kHigh  // a byte of a multi-byte UTF-8 sequence
	kOther // any other ASCII byte
)

// kindOf maps a byte to its kind.
var kindOf = func() (t [256]uint16) {
	for i := range t {
		b := byte(i)
		switch {
		case b >= '0' && b <= '9':
			t[i] = kDigit
		case b >= 'A' && b <= 'Z':
			t[i] = kUpper
		case b >= 'a' && b <= 'z':
			t[i] = kLower
		case b == ' ' || b == '\t' || b == '\n' || b == '\r':
			t[i] = kSpace
		case b == '-':
			t[i] = kDash
		case b == '.':
			t[i] = kDot
		case b == '/':
			t[i] = kSlash
		case b == '+':
			t[i] = kPlus
		case b == '(' || b == ')':
			t[i] = kParen
		case b == '@':
			t[i] = kAt
		case b == '_':
			t[i] = kUnderscore
		case b == '=':
			t[i] = kEq
		case b == '*':
			t[i] = kStar
		case b >= 0x80:
			t[i] = kHigh
		default:
			t[i] = kOther
		}
	}
	return t
}()

// b64val maps base64 characters of both alphabets (standard +/ and URL-safe
// -_) to their 6-bit value; every other byte maps to 0xff.
var b64val = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	const std = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	for i := 0; i < len(std); i++ {
		t[std[i]] = byte(i)
	}
	t['+'], t['/'] = 62, 63
	t['-'], t['_'] = 62, 63
	return t
}()

// hexval maps hex digits to their value and every other byte to 0xff.
var hexval = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i := byte(0); i < 10; i++ {
		t['0'+i] = i
	}
	for i := byte(0); i < 6; i++ {
		t['a'+i], t['A'+i] = 10+i, 10+i
	}
	return t
}()

func isDigit(b byte) bool { return b-'0' < 10 }

func isUpper(b byte) bool { return b-'A' < 26 }

func isAlnum(b byte) bool { return kindOf[b]&(kDigit|kUpper|kLower) != 0 }

// isWordByte reports identifier bytes: letters, digits and underscore.
func isWordByte(b byte) bool { return kindOf[b]&(kDigit|kUpper|kLower|kUnderscore) != 0 }

// trimSpace trims ASCII whitespace without allocating.
func trimSpace(v []byte) []byte {
	for len(v) > 0 && kindOf[v[0]] == kSpace {
		v = v[1:]
	}
	for len(v) > 0 && kindOf[v[len(v)-1]] == kSpace {
		v = v[:len(v)-1]
	}
	return v
}

// lowerASCII folds an ASCII upper-case letter to lower case.
func lowerASCII(b byte) byte {
	if isUpper(b) {
		return b + 'a' - 'A'
	}
	return b
}

// hasPrefixFold reports whether s starts with the lower-case ASCII prefix,
// ignoring ASCII case in s.
func hasPrefixFold(s []byte, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		if lowerASCII(s[i]) != prefix[i] {
			return false
		}
	}
	return true
}

// hasSuffixFold is hasPrefixFold for suffixes.
func hasSuffixFold(s []byte, suffix string) bool {
	if len(s) < len(suffix) {
		return false
	}
	return hasPrefixFold(s[len(s)-len(suffix):], suffix)
}
