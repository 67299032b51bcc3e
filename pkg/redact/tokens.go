package redact

import (
	"bytes"
	"strings"
)

// Token patterns are found in whole batches of complete lines: each rule
// looks for a literal anchor with bytes.Index (vectorised) and checks the
// bytes around it, so text without anchors costs one fast scan per rule.

// finder checks an anchor byte found at b[i] and returns the span to
// replace.
type finder func(b []byte, i int) (start, end int, ok bool)

// tokenRule finds its pattern by a byte that is rare in ordinary output,
// so the vectorised bytes.IndexByte skips most text.
type tokenRule struct {
	anchor byte
	find   finder
	kind   Kind
}

var tokenRules = []tokenRule{
	{'J', findJWT, JWT},               // eyJ
	{'B', findBearer, Bearer},         // Bearer
	{'I', findAWSKeyID, AWSKey},       // AKIA, ASIA
	{'_', findAWSSecret, AWSKey},      // _ACCESS_KEY, _access_key
	{'.', findVaultToken, VaultToken}, // hvs. s. b.
}

// tokens redacts exact credentials and token patterns in b.
func (r *Redactor) tokens(b []byte) []byte {
	for _, e := range r.exact {
		b = r.replaceAll(b, e.b[e.at], e.find, Credential)
	}
	for _, t := range tokenRules {
		if r.on(t.kind) {
			b = r.replaceAll(b, t.anchor, t.find, t.kind)
		}
	}
	if r.on(Bearer) && bytes.Contains(b, []byte("bearer ")) {
		b = r.replaceAll(b, 'b', findBearer, Bearer)
	}
	return b
}

func (r *Redactor) replaceAll(b []byte, anchor byte, f finder, k Kind) []byte {
	var out []byte
	last, from, n := 0, 0, 0
	for from < len(b) {
		i := bytes.IndexByte(b[from:], anchor)
		if i < 0 {
			break
		}
		i += from
		s, e, ok := f(b, i)
		if !ok || s < last {
			from = i + 1
			continue
		}
		out = append(out, b[last:s]...)
		out = append(out, marker(k)...)
		last, from = e, max(e, i+1)
		n++
	}
	if n == 0 {
		return b
	}
	r.count(k, n)
	return append(out, b[last:]...)
}

// exactValue is a secret matched exactly, found by its rarest byte.
type exactValue struct {
	b  []byte
	at int
}

func newExact(s []byte) exactValue {
	e := exactValue{b: s}
	best := 99
	for i, c := range s {
		if r := rarity(c); r < best {
			best, e.at = r, i
		}
	}
	return e
}

// rarity ranks how common a byte is in kubectl and terraform output.
func rarity(c byte) int {
	switch {
	case c == 'J' || c == 'Q' || c == 'X' || c == 'Z' || c == 'K' || c == 'V' || c == 'W' || c == 'Y':
		return 0
	case c >= 'A' && c <= 'Z':
		return 1
	case c == '+' || c == '=' || c == '~' || c == '%':
		return 2
	case c >= '0' && c <= '9':
		return 3
	case strings.IndexByte("etaoinsrlcdm", c) >= 0:
		return 6
	}
	return 4
}

func (e exactValue) find(b []byte, i int) (int, int, bool) {
	s := i - e.at
	if s < 0 || s+len(e.b) > len(b) || !bytes.Equal(b[s:s+len(e.b)], e.b) {
		return 0, 0, false
	}
	return s, s + len(e.b), true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isB64URL(c byte) bool { return isAlnum(c) || c == '-' || c == '_' }

func run(b []byte, i int, ok func(byte) bool) int {
	for i < len(b) && ok(b[i]) {
		i++
	}
	return i
}

// findJWT matches header.payload.signature, base64url, header starting eyJ.
func findJWT(b []byte, i int) (int, int, bool) {
	if i < 2 || b[i-1] != 'y' || b[i-2] != 'e' {
		return 0, 0, false
	}
	i -= 2
	if i > 0 && isB64URL(b[i-1]) {
		return 0, 0, false
	}
	e := run(b, i, isB64URL)
	if e-i < 10 || e >= len(b) || b[e] != '.' {
		return 0, 0, false
	}
	p := run(b, e+1, isB64URL)
	if p-e-1 < 10 || p >= len(b) || b[p] != '.' {
		return 0, 0, false
	}
	return i, run(b, p+1, isB64URL), true
}

func isTokenChar(c byte) bool {
	return isB64URL(c) || c == '.' || c == '~' || c == '+' || c == '/' || c == '='
}

// findBearer matches the token after "Bearer " (any case of B).
func findBearer(b []byte, i int) (int, int, bool) {
	if !bytes.HasPrefix(b[i+1:], []byte("earer ")) {
		return 0, 0, false
	}
	s := i + len("Bearer")
	if s >= len(b) || b[s] != ' ' {
		return 0, 0, false
	}
	s = skipSpaces(b, s)
	e := run(b, s, isTokenChar)
	if e-s < 8 {
		return 0, 0, false
	}
	return s, e, true
}

func isUpperNum(c byte) bool { return c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' }

// findAWSKeyID matches AKIA/ASIA and 16 upper-case letters or digits.
func findAWSKeyID(b []byte, i int) (int, int, bool) {
	if i < 2 || i+1 >= len(b) || b[i-2] != 'A' || (b[i-1] != 'K' && b[i-1] != 'S') || b[i+1] != 'A' {
		return 0, 0, false
	}
	i -= 2
	if i > 0 && isAlnum(b[i-1]) {
		return 0, 0, false
	}
	e := run(b, i+4, isUpperNum)
	if e-i != 20 || (e < len(b) && isAlnum(b[e])) {
		return 0, 0, false
	}
	return i, e, true
}

func isB64(c byte) bool { return isAlnum(c) || c == '+' || c == '/' || c == '=' }

// findAWSSecret matches the 40-character value after AWS_SECRET_ACCESS_KEY
// (env, shell, INI and JSON forms).
func findAWSSecret(b []byte, i int) (int, int, bool) {
	if !bytes.HasPrefix(b[i:], []byte("_ACCESS_KEY")) && !bytes.HasPrefix(b[i:], []byte("_access_key")) {
		return 0, 0, false
	}
	s := i + len("_access_key")
	for s < len(b) && (b[s] == '"' || b[s] == '\'' || b[s] == ' ' || b[s] == '=' || b[s] == ':') {
		s++
	}
	e := run(b, s, isB64)
	if e-s != 40 {
		return 0, 0, false
	}
	return s, e, true
}

// findVaultToken matches hvs./hvb./hvr. tokens and legacy s./b. tokens
// of exactly 24 letters and digits mixing upper and lower case, so
// "s.metadata" or "pods.apps" never match. i is the dot.
func findVaultToken(b []byte, i int) (int, int, bool) {
	if i == 0 {
		return 0, 0, false
	}
	if c := b[i-1]; i >= 3 && b[i-3] == 'h' && b[i-2] == 'v' && (c == 's' || c == 'b' || c == 'r') {
		s := i - 3
		if s > 0 && (isB64URL(b[s-1]) || b[s-1] == '.') {
			return 0, 0, false
		}
		e := run(b, i+1, isB64URL)
		return s, e, e-i-1 >= 20
	}
	if c := b[i-1]; c != 's' && c != 'b' {
		return 0, 0, false
	}
	s := i - 1
	if s > 0 && (isB64URL(b[s-1]) || b[s-1] == '.' || b[s-1] == '/') {
		return 0, 0, false
	}
	e := run(b, i+1, isAlnum)
	if e-i-1 != 24 || (e < len(b) && (b[e] == '.' || b[e] == '_' || b[e] == '-')) {
		return 0, 0, false
	}
	var upper, lower bool
	for _, c := range b[i+1 : e] {
		upper = upper || c >= 'A' && c <= 'Z'
		lower = lower || c >= 'a' && c <= 'z'
	}
	return s, e, upper && lower
}
