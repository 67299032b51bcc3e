package cli

import (
	"errors"
	"maps"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentctl/agentctl/pkg/audit"
)

func TestOTLPHeadersFile(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     map[string]string
		err      string
	}{
		{"name and value", "Authorization: Bearer abc\nX-Scope-OrgID:tenant-1\n", map[string]string{"Authorization": "Bearer abc", "X-Scope-OrgID": "tenant-1"}, ""},
		{"comments and blank lines", "# the SIEM's key\n\nApi-Key: k\n", map[string]string{"Api-Key": "k"}, ""},
		{"a value with a colon", "X-Url: https://siem:443/x\n", map[string]string{"X-Url": "https://siem:443/x"}, ""},
		{"no colon", "Api-Key k\n", nil, `line 1 is not "Name: value"`},
		{"space in the name", "Api Key: k\n", nil, `line 1 is not "Name: value"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseHeaders([]byte(tc.in))
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !maps.Equal(got, tc.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

// The audit.otlp example of docs/audit.md parses, and a bad setting is a
// configuration error naming the key.
func TestAdminConfigOTLP(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the admin config must be root's")
	}
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "audit.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```yaml\n(audit:\n  otlp:.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/audit.md has no audit.otlp example")
	}
	h := newCLIHome(t)
	cfg, err := readAdmin(h.write("etc-agentctl/config.yaml", string(m[1])))
	if err != nil {
		t.Fatal(err)
	}
	if o := cfg.Audit.OTLP; o == nil || o.Endpoint != "siem-collector.internal:4317" || o.Protocol != "grpc" || o.CA == "" || o.HeadersFile == "" {
		t.Fatalf("parsed %+v", cfg.Audit.OTLP)
	}
	for _, tc := range []struct{ otlp, want string }{
		{"endpoint: 127.0.0.1:4317\n    protocol: udp", `audit.otlp: protocol "udp" is not grpc or http`},
		{"endpoint: 127.0.0.1", `audit.otlp: endpoint "127.0.0.1" is not host:port`},
		{"endpoint: 127.0.0.1:4317\n    ca: ca.pem", `audit.otlp: ca "ca.pem" is not an absolute path`},
		{"endpoint: 127.0.0.1:4317\n    insecure: true\n    ca: /etc/ca.pem", `audit.otlp: insecure and ca exclude each other`},
	} {
		_, err := readAdmin(h.write("etc-agentctl/config.yaml", "audit:\n  otlp:\n    "+tc.otlp+"\n"))
		var ce *ConfigError
		if !errors.As(err, &ce) || !strings.HasSuffix(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want a configuration error ending in %q", tc.otlp, err, tc.want)
		}
	}
}

// TestFlushExportBacksOffAfterAFailure: a collector that accepts and never
// answers costs the first command its export bound; the commands after it
// do not try again (they do not even connect) until the backoff is over,
// and nothing is lost: the records wait in the log.
func TestFlushExportBacksOffAfterAFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var mu sync.Mutex
	accepted := 0
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			accepted++
			mu.Unlock()
			defer c.Close() // held open, never answered
		}
	}()
	conns := func() int { mu.Lock(); defer mu.Unlock(); return accepted }
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.jsonl")
	l, err := audit.Open(path, audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Append(&audit.Record{Kind: audit.KindDecision, Time: time.Now(), ID: "req-1", Tool: "kubectl", Decision: "deny"}); err != nil {
		t.Fatal(err)
	}
	cursor := filepath.Join(dir, "otlp.cursor")
	exporter := func() *audit.Exporter {
		e, err := audit.NewExporter(path, audit.OTLPConfig{Endpoint: ln.Addr().String(), Protocol: "http", Insecure: true, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	flushExport(exporter())
	first := conns()
	if first == 0 {
		t.Fatal("the first command's export did not reach the hanging collector: the test proves nothing")
	}
	if _, err := os.Stat(cursor + ".failed"); err != nil {
		t.Fatalf("no backoff mark after a failed export: %v", err)
	}
	for range 3 {
		flushExport(exporter())
	}
	if n := conns(); n != first {
		t.Errorf("the commands after a failed export connected %d more times; want none within %v", n-first, exportBackoff)
	}
	// After the backoff, a command tries again.
	old := time.Now().Add(-2 * exportBackoff)
	if err := os.Chtimes(cursor+".failed", old, old); err != nil {
		t.Fatal(err)
	}
	flushExport(exporter())
	if conns() == first {
		t.Error("a command after the backoff did not try the export again")
	}
}
