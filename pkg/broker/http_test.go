package broker_test

import (
	"context"
	"encoding/binary"
	"errors"
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

// Beside an HTTP handler, what is neither HTTP nor a frame is still the
// broker protocol's to refuse and audit: a 1 GB length's first byte is
// not 0, and it is no method name either.
func TestHugeFrameBesideHTTPIsAProtocolError(t *testing.T) {
	sock, events := serveServer(t, &broker.Server{Exe: "/bin/sh", Runs: runsAll,
		HTTP: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { t.Error("a frame reached the HTTP handler") })})
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	c.Write(binary.BigEndian.AppendUint32(nil, 1<<30))
	c.(*net.UnixConn).CloseWrite()
	var w proto.Welcome
	err = proto.ReadAs(c, proto.TWelcome, &w)
	c.Close()
	var pe *proto.Error
	if !errors.As(err, &pe) || pe.Code != proto.CodeProtocol {
		t.Errorf("answer: %v, want a protocol error", err)
	}
	if evs := events(); len(evs) != 1 || evs[0].What != "protocol error" {
		t.Errorf("events %+v, want one protocol error", evs)
	}
}
