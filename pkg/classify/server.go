package classify

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// Server is a Kubernetes API server address as client-go dials it: the
// URL of a kubeconfig cluster's server or of kubectl's --server, read with
// net/url exactly as rest.DefaultServerURL reads it, and the "host:port"
// the HTTP transport connects to.
type Server struct {
	// URL is the canonical form: scheme://host:port[/path], the scheme and
	// host lowercase, the default port written out, no trailing slash.
	// Two servers are the same server when their URLs are equal.
	URL string
	// Scheme is "https" or "http".
	Scheme string
	// Host is the host name or IP address, without brackets.
	Host string
	// Port is the TCP port, the scheme's default (443, 80) when the URL
	// gives none.
	Port uint16
	// Path is the path prefix a proxy in front of the API server relocates
	// it to, "" for none.
	Path string
}

// Dest is the "host:port" the transport dials.
func (s Server) Dest() string {
	return net.JoinHostPort(s.Host, strconv.Itoa(int(s.Port)))
}

// ErrServer is wrapped by every error of [ParseServer].
var ErrServer = errors.New("server URL refused")

// ServerHint is what a user whose server URL was refused can do.
const ServerHint = "write the API server as https://HOST:PORT (a DNS name or an IP address in its usual form, an optional /path, nothing else)"

// ParseServer reads an API server URL and refuses what is not plainly
// one server: anything other readers could take for another host or
// port than the one client-go dials. Refused are a missing scheme (client-go
// would pick http or https from the TLS settings), schemes other than
// https and http, user information (https://a:1@b:2 dials b:2),
// percent-encoding, backslashes, whitespace and control characters, an
// empty, non-numeric, zero, out-of-range or zero-padded port, IPv6 zones,
// IPv4 addresses in any but dotted-quad form (127.1, 0x7f.1, 2130706433:
// the resolver reads them as 127.0.0.1), host names ending in a dot, a
// query, a fragment, and a path with empty, "." or ".." segments.
func ParseServer(s string) (Server, error) {
	bad := func(why string) (Server, error) {
		return Server{}, fmt.Errorf("%w: %q: %s", ErrServer, HideUserinfo(s), why)
	}
	if s == "" {
		return bad("empty")
	}
	for _, r := range s {
		switch {
		case r <= ' ' || r == 0x7f:
			return bad("whitespace or a control character")
		case r > 0x7e:
			return bad("a character outside printable ASCII")
		case r == '\\':
			return bad("a backslash")
		case r == '%':
			return bad("percent-encoding")
		case r == '@':
			return bad("user information (\"@\"): the part after it is the host that is dialled")
		case r == '?' || r == '#':
			return bad("a query or fragment")
		}
	}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return bad("no scheme: client-go would choose http or https from the TLS settings")
	}
	scheme = strings.ToLower(scheme)
	if scheme != "https" && scheme != "http" {
		return bad(fmt.Sprintf("scheme %q (want https or http)", scheme))
	}
	authority, path, _ := strings.Cut(rest, "/")
	host, port := authority, ""
	if strings.HasPrefix(authority, "[") {
		end := strings.Index(authority, "]")
		if end < 0 {
			return bad("an unclosed \"[\"")
		}
		host = authority[1:end]
		switch after := authority[end+1:]; {
		case after == "":
		case strings.HasPrefix(after, ":"):
			port = after[1:]
			if port == "" {
				return bad("an empty port after \":\"")
			}
		default:
			return bad("text after the IPv6 address")
		}
		a, err := netip.ParseAddr(host)
		if err != nil || !a.Is6() || a.Zone() != "" || a.Is4In6() {
			return bad(fmt.Sprintf("%q is not a plain IPv6 address", host))
		}
		host = a.String()
	} else {
		if i := strings.LastIndex(authority, ":"); i >= 0 {
			host, port = authority[:i], authority[i+1:]
			if port == "" {
				return bad("an empty port after \":\"")
			}
		}
		if strings.Contains(host, ":") || strings.ContainsAny(host, "[]") {
			return bad("an IPv6 address must be in brackets")
		}
		if why := hostProblem(host); why != "" {
			return bad(why)
		}
		host = strings.ToLower(host)
	}
	var p uint16
	if port == "" {
		p = 443
		if scheme == "http" {
			p = 80
		}
	} else {
		n, err := strconv.ParseUint(port, 10, 16)
		switch {
		case err != nil || strings.TrimLeft(port, "0123456789") != "":
			return bad(fmt.Sprintf("port %q is not a number from 1 to 65535", port))
		case n == 0:
			return bad("port 0")
		case port[0] == '0':
			return bad(fmt.Sprintf("port %q has a leading zero", port))
		}
		p = uint16(n)
	}
	if path != "" {
		path = strings.TrimSuffix(path, "/")
		if path != "" {
			for _, seg := range strings.Split(path, "/") {
				if seg == "" || seg == "." || seg == ".." {
					return bad("a path with an empty, \".\" or \"..\" segment")
				}
			}
			path = "/" + path
		}
	}
	// What was accepted must read the same to net/url, which client-go
	// uses.
	u, err := url.Parse(s)
	if ue := (*url.Error)(nil); errors.As(err, &ue) {
		err = ue.Err
	}
	switch {
	case err != nil:
		return bad(err.Error())
	case u.User != nil || u.Opaque != "" || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery ||
		!strings.EqualFold(u.Host, authority) || u.Port() != port:
		return bad("not a plain scheme://host:port URL")
	}
	srv := Server{Scheme: scheme, Host: host, Port: p, Path: path}
	srv.URL = scheme + "://" + srv.Dest() + path
	return srv, nil
}

// hostProblem says what is wrong with a host name or IPv4 address, "" for
// nothing.
func hostProblem(h string) string {
	if h == "" {
		return "no host"
	}
	if a, err := netip.ParseAddr(h); err == nil {
		if a.Is4() {
			return "" // dotted quad, no leading zeros: ParseAddr refuses the rest
		}
		return fmt.Sprintf("host %q is not a plain address", h)
	}
	if strings.HasSuffix(h, ".") {
		return fmt.Sprintf("host %q ends in a dot", h)
	}
	labels := strings.Split(h, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return fmt.Sprintf("host %q is not a DNS name", h)
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return fmt.Sprintf("host %q is not a DNS name", h)
			}
		}
	}
	// A name whose last label starts with a digit is no DNS name but an
	// IPv4 address in a form the resolver accepts (127.1, 0x7f.1,
	// 2130706433, 0177.0.0.1): refuse it rather than guess which.
	if last := labels[len(labels)-1]; last[0] >= '0' && last[0] <= '9' {
		return fmt.Sprintf("host %q looks like an IPv4 address in a non-standard form", h)
	}
	return ""
}

// CAFingerprint returns the lowercase hex SHA-256 of the DER of the one
// certificate in a PEM certificate authority bundle. A bundle that is
// empty, holds anything but exactly one certificate, or does not parse
// has no fingerprint: a second certificate would let the server be
// another one than the fingerprint names.
func CAFingerprint(pemData []byte) (string, error) {
	var ders [][]byte
	rest := pemData
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return "", fmt.Errorf("certificate authority holds a %q block", b.Type)
		}
		ders = append(ders, b.Bytes)
	}
	if len(strings.TrimSpace(string(rest))) != 0 {
		return "", errors.New("certificate authority holds text that is not PEM")
	}
	if len(ders) != 1 {
		return "", fmt.Errorf("certificate authority holds %d certificates, not one", len(ders))
	}
	if _, err := x509.ParseCertificate(ders[0]); err != nil {
		return "", fmt.Errorf("certificate authority: %w", err)
	}
	sum := sha256.Sum256(ders[0])
	return hex.EncodeToString(sum[:]), nil
}

// HideUserinfo replaces the user information of a URL (what comes before
// the last "@" of its authority, which may be a password) with "***", so
// that the URL can be shown and logged.
func HideUserinfo(s string) string {
	j := strings.Index(s, "://")
	if j < 0 {
		return s
	}
	auth := s[j+3:]
	if k := strings.IndexAny(auth, "/?#"); k >= 0 {
		auth = auth[:k]
	}
	k := strings.LastIndex(auth, "@")
	if k < 0 {
		return s
	}
	return s[:j+3] + "***" + s[j+3+k:]
}
