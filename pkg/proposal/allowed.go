package proposal

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/crypto/ssh"
)

// AllowedSigner is one line of an allowed_signers file, in the format of
// ssh-keygen(1) ALLOWED SIGNERS that git's gpg.ssh.allowedSignersFile uses:
//
//	principals [namespaces="agentctl,..."] keytype base64-key [comment]
//
// Principals name the human ("alice@example.com"); several may be given,
// separated by commas. A line without namespaces= allows every namespace;
// one with it must list "agentctl". The options cert-authority,
// valid-after and valid-before are not supported and make the file
// invalid rather than being ignored.
type AllowedSigner struct {
	Principals []string
	Namespaces []string // nil: any
	Key        ssh.PublicKey
	Line       int
}

// AllowedSigners is a parsed allowed_signers file.
type AllowedSigners []AllowedSigner

// ParseAllowedSigners parses an allowed_signers file; name is used in errors.
func ParseAllowedSigners(name string, data []byte) (AllowedSigners, error) {
	var out AllowedSigners
	sc := bufio.NewScanner(bytes.NewReader(data))
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		s, err := parseAllowedLine(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, n, err)
		}
		s.Line = n
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

// nextField splits off one whitespace-separated field, keeping double-quoted
// runs (namespaces="a b") together.
func nextField(s string) (field, rest string) {
	s = strings.TrimLeft(s, " \t")
	quoted := false
	for i, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
		case (r == ' ' || r == '\t') && !quoted:
			return s[:i], s[i:]
		}
	}
	return s, ""
}

func parseAllowedLine(line string) (AllowedSigner, error) {
	var s AllowedSigner
	principals, rest := nextField(line)
	for _, p := range strings.Split(strings.Trim(principals, `"`), ",") {
		if p != "" {
			s.Principals = append(s.Principals, p)
		}
	}
	if len(s.Principals) == 0 {
		return s, fmt.Errorf("no principals")
	}
	field, after := nextField(rest)
	if field == "" {
		return s, fmt.Errorf("no public key")
	}
	if !isKeyType(field, after) {
		// options: comma-separated, before the key
		for _, opt := range splitOptions(field) {
			k, v, _ := strings.Cut(opt, "=")
			switch strings.ToLower(k) {
			case "namespaces":
				for _, ns := range strings.Split(strings.Trim(v, `"`), ",") {
					s.Namespaces = append(s.Namespaces, strings.TrimSpace(ns))
				}
			default:
				return s, fmt.Errorf("unsupported option %q", k)
			}
		}
		rest = after
	}
	key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(strings.TrimSpace(rest)))
	if err != nil {
		return s, fmt.Errorf("public key: %w", err)
	}
	if _, ok := key.(*ssh.Certificate); ok {
		return s, fmt.Errorf("certificates are not supported")
	}
	s.Key = key
	return s, nil
}

// isKeyType reports whether field is a key type followed by a key of that
// type, and so not an options field.
func isKeyType(field, rest string) bool {
	b64, _ := nextField(rest)
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return false
	}
	key, err := ssh.ParsePublicKey(raw)
	return err == nil && key.Type() == field
}

func splitOptions(s string) []string {
	var out []string
	quoted, start := false, 0
	for i, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
		case r == ',' && !quoted:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// Lookup returns the principals allowed to sign in namespace with key, or
// nil if none is.
func (a AllowedSigners) Lookup(key ssh.PublicKey, namespace string) []string {
	var out []string
	for _, s := range a {
		if !bytes.Equal(s.Key.Marshal(), key.Marshal()) {
			continue
		}
		if s.Namespaces != nil && !slices.Contains(s.Namespaces, namespace) {
			continue
		}
		out = append(out, s.Principals...)
	}
	return out
}
