package loggen

import (
	"fmt"
	"strings"
)

// Fictional people and things for the simulated clinic and shop.
var (
	firstNames = []string{"Ada", "Bruno", "Chiara", "Dmitri", "Esi", "Farah", "Goran", "Hana", "Ines", "Jonas",
		"Kemal", "Lena", "Mateo", "Nia", "Oskar", "Priya", "Quentin", "Rosa", "Sven", "Tariq", "Uma", "Viktor", "Wanjiru", "Yusuf", "Zoe"}
	lastNames = []string{"Okafor", "Lindqvist", "Moreau", "Tanaka", "Haddad", "Novak", "Adeyemi", "Rossi", "Kowalski",
		"Fernandes", "O'Brien", "Nakamura", "Petrov", "Mensah", "Schulz", "Delgado", "Ivanova", "Kruger", "Larsen", "Mbeki"}
	productWords = []string{"linen shirt", "union jack mug", "rock ' or ' roll poster", "garden hose", "desk lamp",
		"o'reilly cookbook", "trail shoes", "tea kettle", "wool scarf", "union square print", "phone case", "yoga mat"}
	usernames = []string{"amoreau", "bnovak", "ctanaka", "dhaddad", "eokafor", "frossi", "glarsen", "hmensah",
		"ischulz", "jdelgado", "kpetrov", "lkruger", "frontdesk", "nurse.kim", "dr.adeyemi"}
)

// fullName draws "First Last".
func fullName(r *rng) (first, last string) { return pick(r, firstNames), pick(r, lastNames) }

// email draws an address in a documentation domain.
func email(r *rng, first, last string) string {
	l := strings.ToLower(strings.ReplaceAll(last, "'", ""))
	return fmt.Sprintf("%s.%s%d@%s", strings.ToLower(first), l, r.intn(100), pick(r, []string{"example.com", "example.org", "example.net"}))
}

// ssn draws a well-formed US SSN (area 001-665 or 667-899, never 000).
func ssn(r *rng) string {
	area := r.between(1, 898)
	if area == 666 {
		area = 667
	}
	return fmt.Sprintf("%03d-%02d-%04d", area, r.between(1, 99), r.between(1, 9999))
}

// cardNumber draws a 16-digit Luhn-valid card number with a Visa or
// Mastercard prefix.
func cardNumber(r *rng) string {
	d := make([]byte, 0, 16)
	if r.chance(0.5) {
		d = append(d, 4)
	} else {
		d = append(d, 5, byte(r.between(1, 5)))
	}
	for len(d) < 15 {
		d = append(d, byte(r.intn(10)))
	}
	d = append(d, luhnCheck(d))
	out := make([]byte, len(d))
	for i, v := range d {
		out[i] = '0' + v
	}
	return string(out)
}

// luhnCheck returns the check digit for payload digits d.
func luhnCheck(d []byte) byte {
	sum := 0
	for i := len(d) - 1; i >= 0; i-- {
		v := int(d[i])
		if (len(d)-1-i)%2 == 0 {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
	}
	return byte((10 - sum%10) % 10)
}

// LuhnValid reports whether s is a Luhn-valid digit string.
func LuhnValid(s string) bool {
	if len(s) < 12 {
		return false
	}
	sum := 0
	for i := len(s) - 1; i >= 0; i-- {
		c := s[i]
		if c < '0' || c > '9' {
			return false
		}
		v := int(c - '0')
		if (len(s)-1-i)%2 == 1 {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
	}
	return sum%10 == 0
}

// iban draws a German IBAN with valid mod-97 check digits.
func iban(r *rng) string {
	bban := make([]byte, 18)
	for i := range bban {
		bban[i] = byte('0' + r.intn(10))
	}
	rem := 0
	for _, c := range string(bban) + "131400" { // D=13 E=14, check digits 00
		rem = (rem*10 + int(c-'0')) % 97
	}
	return fmt.Sprintf("DE%02d%s", 98-rem, bban)
}

// route is a Django URL pattern with its sqlcommenter comment, rendered
// both after psycopg2 substitution (%%→%) and without params (%% kept).
type route struct {
	method, pattern, view string
	comment, commentRaw   string
}

func newRoute(method, pattern, view string) *route {
	pairs := []string{
		"controller=" + pyRepr1(pyQuote(view)),
		"framework=" + pyRepr1(pyQuote("django:4.2.11")),
		"route=" + pyRepr1(pyQuote(pattern)),
	}
	raw := " /*" + strings.Join(pairs, ",") + "*/"
	raw = strings.ReplaceAll(raw, "%", "%%")
	return &route{method: method, pattern: pattern, view: view,
		comment: strings.ReplaceAll(raw, "%%", "%"), commentRaw: raw}
}

// pyQuote is urllib.parse.quote with safe="/".
func pyQuote(s string) string {
	const hexd = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_.-~/", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexd[c>>4])
		b.WriteByte(hexd[c&15])
	}
	return b.String()
}

func pyRepr1(s string) string { return "'" + s + "'" }

// The application's routes.
var (
	rtPatientDetail = newRoute("GET", "api/patients/<int:pk>/", "clinic:patient-detail")
	rtPatientList   = newRoute("GET", "api/patients/", "clinic:patient-list")
	rtPatientSSN    = newRoute("POST", "api/patients/<int:pk>/identity/", "clinic:patient-identity")
	rtCustomer      = newRoute("GET", "shop/customers/<int:pk>/", "shop:customer-detail")
	rtCustomerNew   = newRoute("POST", "shop/customers/", "shop:customer-create")
	rtOrders        = newRoute("GET", "shop/orders/", "shop:order-list")
	rtSearch        = newRoute("GET", "shop/search/", "shop:product-search")
	rtLogin         = newRoute("POST", "accounts/login/", "accounts:login")
	rtUserLookup    = newRoute("GET", "api/users/lookup/", "accounts:user-lookup")
)

// commentFor is the sqlcommenter suffix of the current request.
func (s *session) commentFor(hasParams bool) string {
	if s.comment == "" {
		return ""
	}
	if hasParams {
		return s.comment
	}
	return s.commentRaw
}
