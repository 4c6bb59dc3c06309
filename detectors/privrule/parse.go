package privrule

import "strings"

// parseFingerprint reads a grant or role change from a statement
// fingerprint (literals are already '?'): GRANT role[, ...] TO member[, ...],
// GRANT privilege[, ...] ON [TABLE|DATABASE|...] object TO grantee[, ...],
// CREATE|ALTER ROLE|USER name [WITH] option ... It reports false for
// anything else, including REVOKE.
func parseFingerprint(fp string) (change, bool) {
	s := strings.ToLower(strings.TrimSpace(strings.ReplaceAll(fp, `"`, "")))
	s = strings.TrimSuffix(s, ";")
	switch {
	case strings.HasPrefix(s, "grant "):
		return parseGrant(s[len("grant "):])
	case strings.HasPrefix(s, "create role "), strings.HasPrefix(s, "create user "),
		strings.HasPrefix(s, "alter role "), strings.HasPrefix(s, "alter user "):
		return parseRole(strings.Fields(s)[2:])
	}
	return change{}, false
}

func parseGrant(rest string) (change, bool) {
	to := strings.LastIndex(rest, " to ")
	if to < 0 {
		return change{}, false
	}
	head, tail := rest[:to], rest[to+len(" to "):]
	for _, suffix := range []string{" with grant option", " with admin option"} {
		tail = strings.TrimSuffix(tail, suffix)
	}
	targets := splitList(tail)
	on := strings.Index(head, " on ")
	if on < 0 {
		return change{kind: kindRoleGrant, what: splitList(head), targets: targets}, len(targets) > 0
	}
	c := change{kind: kindObjectGrant, what: splitList(head[:on]), targets: targets, table: true}
	obj := strings.TrimSpace(head[on+len(" on "):])
	for _, p := range []string{"table ", "database ", "schema ", "type ", "function ", "sequence ", "all tables in schema ", "external connection "} {
		if strings.HasPrefix(obj, p) {
			obj = strings.TrimSpace(obj[len(p):])
			c.table = p == "table " || p == "sequence "
			break
		}
	}
	objs := splitList(obj)
	if len(objs) == 0 {
		return change{}, false
	}
	c.object, c.objects = objs[0], objs
	return c, len(targets) > 0
}

// splitList splits a comma-separated list of names.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func parseRole(tokens []string) (change, bool) {
	for len(tokens) > 0 && (tokens[0] == "if" || tokens[0] == "not" || tokens[0] == "exists") {
		tokens = tokens[1:]
	}
	if len(tokens) == 0 {
		return change{}, false
	}
	c := change{kind: kindRoleOption, targets: []string{tokens[0]}}
	for _, t := range tokens[1:] {
		if t == "set" || t == "reset" {
			break // ALTER ROLE ... SET var: session defaults, not options
		}
		if t == "with" || t == "?" || t == "=" {
			continue
		}
		c.what = append(c.what, strings.Trim(t, ","))
	}
	return c, true
}
