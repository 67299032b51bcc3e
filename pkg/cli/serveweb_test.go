package cli

import (
	"strings"
	"testing"
)

func TestWebOptions(t *testing.T) {
	for _, tc := range []struct {
		name    string
		o       webOptions
		want    string // listen address
		loop    bool
		wantErr string
	}{
		{"a port alone: loopback", webOptions{Addr: "8844"}, "127.0.0.1:8844", true, ""},
		{"no host: loopback", webOptions{Addr: ":8844"}, "127.0.0.1:8844", true, ""},
		{"localhost", webOptions{Addr: "localhost:8844"}, "localhost:8844", true, ""},
		{"ipv6 loopback", webOptions{Addr: "[::1]:8844"}, "[::1]:8844", true, ""},
		{"a LAN name", webOptions{Addr: "laptop.lan:8844"}, "laptop.lan:8844", false, ""},
		{"every address", webOptions{Addr: "0.0.0.0:8844", URL: "https://laptop.lan:8844"}, "0.0.0.0:8844", false, ""},
		{"no port", webOptions{Addr: "laptop.lan"}, "", false, `--web "laptop.lan" is not HOST:PORT or PORT`},
		{"a port that is no number", webOptions{Addr: "laptop.lan:http"}, "", false, `port "http" is not a number`},
		{"a certificate without its key", webOptions{Addr: "8844", Cert: "c.pem"}, "", false, "--web-cert and --web-key go together"},
		{"--web-url without --web", webOptions{URL: "https://x:1"}, "", false, "need --web ADDR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.o.validate()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("validate: %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			addr, loop, err := webListenAddr(tc.o.Addr)
			if err != nil || addr != tc.want || loop != tc.loop {
				t.Errorf("webListenAddr(%q) = %q, %v, %v; want %q, %v", tc.o.Addr, addr, loop, err, tc.want, tc.loop)
			}
		})
	}
}
