package redact

import "bytes"

// Token patterns are found in whole batches of complete lines: each rule
// looks for a literal anchor with bytes.Index (vectorised) and checks the
// bytes around it, so text without anchors costs one fast scan per rule.

// finder checks an anchor found at b[i] and returns the span to replace.
type finder func(b []byte, i int) (start, end int, ok bool)

type tokenRule struct {
	anchor []byte
	find   finder
	kind   Kind
}

var tokenRules = []tokenRule{
	{[]byte("eyJ"), findJWT, JWT},
	{[]byte("earer"), findBearer, Bearer},
	{[]byte("AKIA"), findAWSKeyID, AWSKey},
	{[]byte("ASIA"), findAWSKeyID, AWSKey},
	{[]byte("SECRET_ACCESS_KEY"), findAWSSecret, AWSKey},
	{[]byte("secret_access_key"), findAWSSecret, AWSKey},
	{[]byte("hv"), findVaultToken, VaultToken},
	{[]byte("s."), findLegacyVaultToken, VaultToken},
	{[]byte("b."), findLegacyVaultToken, VaultToken},
}

// tokens redacts exact credentials and token patterns in b.
func (r *Redactor) tokens(b []byte) []byte {
	for _, e := range r.exact {
		n := len(e)
		b = r.replaceAll(b, e, func(_ []byte, i int) (int, int, bool) { return i, i + n, true }, Credential)
	}
	for _, t := range tokenRules {
		if r.on(t.kind) {
			b = r.replaceAll(b, t.anchor, t.find, t.kind)
		}
	}
	return b
}

func (r *Redactor) replaceAll(b, anchor []byte, f finder, k Kind) []byte {
	var out []byte
	last, from, n := 0, 0, 0
	for from < len(b) {
		i := bytes.Index(b[from:], anchor)
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
		last, from = e, e
		n++
	}
	if n == 0 {
		return b
	}
	r.count(k, n)
	return append(out, b[last:]...)
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
	if i == 0 || (b[i-1] != 'B' && b[i-1] != 'b') {
		return 0, 0, false
	}
	s := i + len("earer")
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
	s := i + len("secret_access_key")
	for s < len(b) && (b[s] == '"' || b[s] == '\'' || b[s] == ' ' || b[s] == '=' || b[s] == ':') {
		s++
	}
	e := run(b, s, isB64)
	if e-s != 40 {
		return 0, 0, false
	}
	return s, e, true
}

// findVaultToken matches hvs./hvb./hvr. tokens.
func findVaultToken(b []byte, i int) (int, int, bool) {
	if i+4 > len(b) || b[i+3] != '.' || (b[i+2] != 's' && b[i+2] != 'b' && b[i+2] != 'r') {
		return 0, 0, false
	}
	if i > 0 && (isB64URL(b[i-1]) || b[i-1] == '.') {
		return 0, 0, false
	}
	e := run(b, i+4, isB64URL)
	if e-i-4 < 20 {
		return 0, 0, false
	}
	return i, e, true
}

// findLegacyVaultToken matches s./b. and exactly 24 letters and digits,
// mixing upper and lower case, so "s.metadata" or "pods.apps" never match.
func findLegacyVaultToken(b []byte, i int) (int, int, bool) {
	if i > 0 && (isB64URL(b[i-1]) || b[i-1] == '.' || b[i-1] == '/') {
		return 0, 0, false
	}
	e := run(b, i+2, isAlnum)
	if e-i-2 != 24 || (e < len(b) && (b[e] == '.' || b[e] == '_' || b[e] == '-')) {
		return 0, 0, false
	}
	var upper, lower bool
	for _, c := range b[i+2 : e] {
		upper = upper || c >= 'A' && c <= 'Z'
		lower = lower || c >= 'a' && c <= 'z'
	}
	return i, e, upper && lower
}
