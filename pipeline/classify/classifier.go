package classify

import (
	"bytes"
	"fmt"
	"regexp"
)

// Pattern is a named national-id format. Regex uses Go RE2 syntax and is
// matched against the whole trimmed value, so it needs no anchors.
type Pattern struct {
	Name  string `mapstructure:"name"`
	Regex string `mapstructure:"regex"`
}

// Config configures a Classifier. The zero value is valid.
type Config struct {
	// NationalIDs are extra personal-id formats (national insurance
	// numbers, tax ids, ...) tried after the built-in classes.
	NationalIDs []Pattern `mapstructure:"national_ids"`
}

// Classifier classifies values and scans free text. It is immutable after
// New and safe for concurrent use. A nil *Classifier behaves like one built
// from the zero Config.
type Classifier struct {
	ids []nationalID
}

// New compiles cfg's patterns. Errors name the offending pattern.
func New(cfg Config) (*Classifier, error) {
	c := &Classifier{}
	for i, p := range cfg.NationalIDs {
		id, err := compileNationalID(p)
		if err != nil {
			return nil, fmt.Errorf("classify: national_ids[%d] %q: %w", i, p.Name, err)
		}
		c.ids = append(c.ids, id)
	}
	return c, nil
}

// Value classifies one value (a SQL literal or bound parameter, already
// unquoted). Leading and trailing ASCII whitespace is ignored. It never
// allocates and never returns ClassBytes.
func (c *Classifier) Value(v []byte) Class {
	cl, _ := c.classify(v)
	return cl
}

// ClassifyNamed is Value that also returns the name of the matching
// national-id pattern when the class is ClassNationalID, and "" otherwise.
func (c *Classifier) ClassifyNamed(v []byte) (Class, string) {
	cl, idx := c.classify(v)
	if idx < 0 {
		return cl, ""
	}
	return cl, c.ids[idx].name
}

var redactionMarker = []byte("‹×›")

// classify is the dispatcher. One pass over the value collects which kinds
// of bytes it contains; the shape then selects the few recognizers that can
// possibly match, so a name or an id costs one pass and a few compares.
func (c *Classifier) classify(v []byte) (Class, int) {
	v = trimSpace(v)
	if len(v) == 0 {
		return ClassEmpty, -1
	}
	var mask uint16
	for _, b := range v {
		mask |= kindOf[b]
	}
	switch {
	case mask == kDigit:
		if isPAN(v) {
			return ClassPAN, -1
		}
		if idx := c.nationalID(v); idx >= 0 {
			return ClassNationalID, idx
		}
		return ClassNumber, -1
	case mask&^(kDigit|kSpace|kDash|kDot|kSlash|kPlus|kParen) == 0:
		if cl := numericShape(v); cl != "" {
			return cl, -1
		}
	case mask&kHigh != 0:
		if bytes.Equal(v, redactionMarker) {
			return ClassRedacted, -1
		}
	case mask == kStar:
		if len(v) >= 3 {
			return ClassRedacted, -1
		}
	case mask&kAt != 0:
		if isEmail(v) {
			return ClassEmail, -1
		}
	default:
		if cl := c.opaqueShape(v, mask); cl != "" {
			return cl, -1
		}
	}
	if idx := c.nationalID(v); idx >= 0 {
		return ClassNationalID, idx
	}
	return ClassText, -1
}

// numericShape handles values made only of digits and the separators of
// numbers, phones, dates, SSNs and grouped card numbers.
func numericShape(v []byte) Class {
	switch {
	case isSSN(v):
		return ClassSSN
	case isDate(v):
		return ClassDate
	case isPhone(v):
		return ClassPhone
	case isPAN(v):
		return ClassPAN
	case isNumber(v):
		return ClassNumber
	}
	return ""
}

// opaqueShape handles letters-and-digits values: armor, Fernet, IBAN,
// UUIDs and encoded ciphertext.
func (c *Classifier) opaqueShape(v []byte, mask uint16) Class {
	if v[0] == '-' && bytes.HasPrefix(v, pgpBegin) {
		return ClassPGPArmor
	}
	if mask&(kLower|kUpper) != 0 && mask&kDigit != 0 && len(v) < 32 && isNumber(v) {
		return ClassNumber // exponent notation: 1.5e-3
	}
	if mask&^(kDigit|kUpper|kSpace) == 0 && isIBAN(v) {
		return ClassIBAN
	}
	if len(v) < minCipherLen || mask&^(kDigit|kUpper|kLower|kDash|kUnderscore|kPlus|kSlash|kEq) != 0 {
		return ""
	}
	if v[0] == 'g' && isFernet(v) {
		return ClassFernet
	}
	if isUUID(v) {
		return ClassText
	}
	if looksCiphertext(v, mask) {
		return ClassCiphertext
	}
	return ""
}

// nationalID returns the index of the first configured pattern matching
// v, or -1. The regexp runs only when v passes the pattern's length and
// byte-set prefilter.
func (c *Classifier) nationalID(v []byte) int {
	if c == nil {
		return -1
	}
	for i := range c.ids {
		if c.ids[i].match(v) {
			return i
		}
	}
	return -1
}

// compileNationalID validates p and derives its prefilter.
func compileNationalID(p Pattern) (nationalID, error) {
	if p.Name == "" {
		return nationalID{}, fmt.Errorf("name is required")
	}
	if p.Regex == "" {
		return nationalID{}, fmt.Errorf("regex is required")
	}
	re, err := regexp.Compile(`^(?:` + p.Regex + `)$`)
	if err != nil {
		return nationalID{}, fmt.Errorf("compiling regex: %w", err)
	}
	id := nationalID{name: p.Name, re: re}
	if err := id.derivePrefilter(p.Regex); err != nil {
		return nationalID{}, err
	}
	return id, nil
}
