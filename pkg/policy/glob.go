package policy

import "strings"

// pattern is one glob pattern of a policy file: "*" matches any run of
// characters (including "/" and ":"), "?" matches one character, and every
// other character matches itself. A pattern without wildcards is an exact
// match. Patterns are compiled once, at load.
type pattern struct {
	src   string
	fold  bool // compare case-insensitively (resource kinds)
	exact bool
}

func newPattern(src string, fold bool) pattern {
	if fold {
		src = strings.ToLower(src)
	}
	return pattern{src: src, fold: fold, exact: !strings.ContainsAny(src, "*?")}
}

func (p pattern) match(s string) bool {
	if p.fold {
		s = strings.ToLower(s)
	}
	if p.exact {
		return p.src == s
	}
	return globMatch(p.src, s)
}

// globMatch matches s against a pattern of "*" and "?" wildcards. It
// backtracks only to the last star, so it runs in O(len(p)·len(s)) at worst.
func globMatch(p, s string) bool {
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == s[si]):
			pi++
			si++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// patterns is a list of alternatives: it matches when any pattern does.
// An empty list is "not set".
type patterns []pattern

func (ps patterns) any(s string) bool {
	for _, p := range ps {
		if p.match(s) {
			return true
		}
	}
	return false
}

func (ps patterns) strings() []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.src
	}
	return out
}
