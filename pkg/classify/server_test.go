package classify

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestParseServer(t *testing.T) {
	ok := []struct{ name, in, url, dest string }{
		{"https with port", "https://127.0.0.1:6443", "https://127.0.0.1:6443", "127.0.0.1:6443"},
		{"https default port", "https://api.example.com", "https://api.example.com:443", "api.example.com:443"},
		{"http default port", "http://localhost", "http://localhost:80", "localhost:80"},
		{"trailing slash", "https://api.example.com:6443/", "https://api.example.com:6443", "api.example.com:6443"},
		{"path prefix of a proxy", "https://rancher.example.com/k8s/clusters/c-1", "https://rancher.example.com:443/k8s/clusters/c-1", "rancher.example.com:443"},
		{"upper case scheme and host", "HTTPS://API.Example.COM:6443", "https://api.example.com:6443", "api.example.com:6443"},
		{"ipv6 in brackets", "https://[::1]:6443", "https://[::1]:6443", "[::1]:6443"},
		{"ipv6 default port", "https://[2001:db8::1]", "https://[2001:db8::1]:443", "[2001:db8::1]:443"},
		{"ipv6 written long", "https://[2001:0db8:0:0:0:0:0:1]:6443", "https://[2001:db8::1]:6443", "[2001:db8::1]:6443"},
		{"highest port", "https://h.example:65535", "https://h.example:65535", "h.example:65535"},
	}
	for _, c := range ok {
		t.Run(c.name, func(t *testing.T) {
			s, err := ParseServer(c.in)
			if err != nil {
				t.Fatalf("ParseServer(%q): %v", c.in, err)
			}
			if s.URL != c.url || s.Dest() != c.dest {
				t.Errorf("ParseServer(%q) = %q dialling %q, want %q dialling %q", c.in, s.URL, s.Dest(), c.url, c.dest)
			}
			// What is accepted is read by net/url the same way: the
			// transport dials the same host and port.
			u, err := url.Parse(c.in)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.EqualFold(u.Hostname(), strings.Trim(s.Host, "[]")) && !strings.Contains(c.in, "[") {
				t.Errorf("net/url reads host %q, ParseServer %q", u.Hostname(), s.Host)
			}
		})
	}
	refused := []struct{ name, in, why string }{
		{"userinfo hides the dialled port", "https://127.0.0.1:6443@127.0.0.1:9999", "user information"},
		{"userinfo without password", "https://admin@127.0.0.1:6443", "user information"},
		{"userinfo with a password is not shown", "https://admin:secret-pw@127.0.0.1:6443/x", "\"https://***@127.0.0.1:6443/x\""},
		{"two @", "https://a@b@127.0.0.1:9999", "user information"},
		{"no scheme", "127.0.0.1:6443", "no scheme"},
		{"no scheme, bare host", "api.example.com", "no scheme"},
		{"other scheme", "unix:///var/run/k8s.sock", "scheme"},
		{"socks scheme", "socks5://127.0.0.1:1080", "scheme"},
		{"empty", "", "empty"},
		{"empty port", "https://127.0.0.1:", "empty port"},
		{"non-numeric port", "https://127.0.0.1:API", "not a number"},
		{"port out of range", "https://127.0.0.1:65536", "not a number"},
		{"negative port", "https://127.0.0.1:-1", "not a number"},
		{"port zero", "https://127.0.0.1:0", "port 0"},
		{"leading zero port", "https://127.0.0.1:06443", "leading zero"},
		{"percent in host", "https://%31%32%37.0.0.1:6443", "percent"},
		{"percent in path", "https://h.example/%2e%2e/x", "percent"},
		{"backslash", `https://h.example\@127.0.0.1:9999`, "backslash"},
		{"space", "https://h.example :6443", "whitespace"},
		{"leading space", " https://h.example:6443", "whitespace"},
		{"tab", "https://h.example:6443\t", "whitespace"},
		{"newline", "https://h.example:6443\n", "whitespace"},
		{"non-ascii host", "https://ex\u0430mple.com", "outside printable ASCII"},
		{"zone id", "https://[fe80::1%25eth0]:6443", "percent"},
		{"ipv4-mapped ipv6", "https://[::ffff:127.0.0.1]:6443", "plain IPv6"},
		{"ipv6 without brackets", "https://::1:6443", "brackets"},
		{"unclosed bracket", "https://[::1:6443", "unclosed"},
		{"text after ipv6", "https://[::1]x:6443", "after the IPv6"},
		{"short ipv4", "https://127.1:6443", "IPv4"},
		{"hex ipv4", "https://0x7f.1:6443", "IPv4"},
		{"integer ipv4", "https://2130706433:6443", "IPv4"},
		{"octal ipv4", "https://0177.0.0.1:6443", "IPv4"},
		{"leading zero ipv4", "https://127.000.000.001:6443", "IPv4"},
		{"trailing dot", "https://api.example.com.:6443", "ends in a dot"},
		{"empty label", "https://api..example.com", "DNS name"},
		{"query", "https://h.example:6443?x=1", "query"},
		{"empty query", "https://h.example:6443?", "query"},
		{"fragment", "https://h.example:6443#x", "query or fragment"},
		{"dot-dot path", "https://h.example/a/../b", "path"},
		{"double slash path", "https://h.example//x", "path"},
		{"no host", "https:///api", "no host"},
		{"scheme only", "https://", "no host"},
	}
	for _, c := range refused {
		t.Run(c.name, func(t *testing.T) {
			s, err := ParseServer(c.in)
			if err == nil {
				t.Fatalf("ParseServer(%q) = %q dialling %q, want refused", c.in, s.URL, s.Dest())
			}
			if !errors.Is(err, ErrServer) || !strings.Contains(err.Error(), c.why) {
				t.Errorf("ParseServer(%q) = %v, want an ErrServer saying %q", c.in, err, c.why)
			}
			if strings.Contains(err.Error(), "secret-pw") {
				t.Errorf("error shows the user information: %q", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}
