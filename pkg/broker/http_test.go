package broker_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"testing"

	"github.com/agentctl/agentctl/pkg/broker"
	"github.com/agentctl/agentctl/pkg/broker/proto"
)

// unixHTTP is an HTTP client whose every connection goes to sock.
func unixHTTP(sock string) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
	}}
}

// One socket, two protocols: HTTP goes to Server.HTTP with its peer as
// SO_PEERCRED saw it, and the broker's own protocol still runs commands.
func TestHTTPAndTheBrokerProtocolShareTheSocket(t *testing.T) {
	sock, _ := serveServer(t, &broker.Server{Exe: "/bin/sh", Env: []string{"PATH=/usr/bin:/bin"}, Runs: runsAll,
		HTTP: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, ok := broker.PeerOf(r.Context())
			if !ok {
				http.Error(w, "no peer", http.StatusInternalServerError)
				return
			}
			fmt.Fprintf(w, "%s %s pid=%d uid=%d", r.Method, r.URL.Path, p.PID, p.UID)
		})})

	hc := unixHTTP(sock)
	for range 2 { // a kept-alive connection and its next request
		resp, err := hc.Post("http://broker/mcp", "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := fmt.Sprintf("POST /mcp pid=%d uid=%d", os.Getpid(), os.Geteuid()); string(body) != want {
			t.Errorf("HTTP answer %q, want %q", body, want)
		}
	}

	s := newStdio(t, "")
	code, err := forward(t, sock, &proto.Request{Argv: []string{"sh", "-c", "echo ran; exit 4"}, Cwd: t.TempDir()}, s)
	if err != nil || code != 4 {
		t.Fatalf("Forward beside HTTP: exit %d, %v; want 4", code, err)
	}
	if got := <-s.stdout; got != "ran\n" {
		t.Errorf("stdout %q", got)
	}
}
