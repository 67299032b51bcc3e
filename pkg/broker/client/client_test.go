package client

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentctl/agentctl/pkg/broker/proto"
)

func TestForwardable(t *testing.T) {
	for _, tc := range []struct {
		argv []string
		want bool
	}{
		{[]string{"agentctl", "kubectl", "get", "pods"}, true},
		{[]string{"/usr/bin/agentctl", "-o", "json", "--agent", "a", "terraform", "plan"}, true},
		{[]string{"/home/a/.local/share/agentctl/shims/kubectl", "get", "pods"}, true},
		{[]string{"agentctl", "--intent=why", "explain", "--", "kubectl", "get"}, true},
		{[]string{"agentctl", "serve"}, false},
		{[]string{"agentctl", "version"}, false},
		{[]string{"agentctl", "inbox"}, false},
		{[]string{"agentctl", "--unknown", "kubectl", "get"}, false},
		{[]string{"agentctl", "--", "kubectl"}, false},
	} {
		if got := Forwardable(tc.argv); got != tc.want {
			t.Errorf("Forwardable(%q) = %v, want %v", tc.argv, got, tc.want)
		}
	}
}

func TestWantsJSON(t *testing.T) {
	env := func(v string) func(string) string { return func(string) string { return v } }
	for _, tc := range []struct {
		argv []string
		env  string
		want bool
	}{
		{[]string{"agentctl", "-o", "json", "kubectl", "get"}, "", true},
		{[]string{"agentctl", "-ojson", "kubectl", "get"}, "", true},
		{[]string{"agentctl", "--output=json", "kubectl"}, "", true},
		{[]string{"agentctl", "kubectl", "get", "-o", "json"}, "", false}, // kubectl's own -o
		{[]string{"kubectl", "get", "pods"}, "json", true},
		{[]string{"agentctl", "-o", "text", "kubectl"}, "json", false},
	} {
		if got := wantsJSON(tc.argv, env(tc.env)); got != tc.want {
			t.Errorf("wantsJSON(%q, AGENTCTL_OUTPUT=%q) = %v, want %v", tc.argv, tc.env, got, tc.want)
		}
	}
	var b bytes.Buffer
	PrintJSONError(&b, &proto.Error{Code: proto.CodeVersion, Message: "m", Hint: "h"}, 70)
	var obj map[string]any
	if err := json.Unmarshal(b.Bytes(), &obj); err != nil || obj["exitCode"] != float64(70) || obj["hint"] != "h" || obj["error"] != "broker: m" {
		t.Errorf("JSON error %s: %v", b.String(), err)
	}
}

func TestSocket(t *testing.T) {
	env := map[string]string{}
	get := func(k string) string { return env[k] }
	if got := Socket(get); got != "" {
		t.Errorf("no XDG_RUNTIME_DIR: %q, want none", got)
	}
	env["XDG_RUNTIME_DIR"] = "relative"
	if got := Socket(get); got != "" {
		t.Errorf("relative XDG_RUNTIME_DIR: %q, want none", got)
	}
	env["XDG_RUNTIME_DIR"] = "/run/user/1000/"
	if got := Socket(get); got != "/run/user/1000/agentctl/broker.sock" {
		t.Errorf("Socket = %q", got)
	}
	env["AGENTCTL_SOCKET"] = "/tmp/b.sock"
	if got := Socket(get); got != "/tmp/b.sock" {
		t.Errorf("AGENTCTL_SOCKET: %q", got)
	}
}

// TestARefusalBeforeTheHelloIsNotAWentAway: a broker that refuses the
// client's uid says why and closes before it reads anything. A client
// whose hello then meets a closed socket still reports the refusal (exit
// 77 and the broker's message), not "broker went away".
func TestARefusalBeforeTheHelloIsNotAWentAway(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "b.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		proto.Write(c, proto.TError, &proto.Error{Code: proto.CodePeer, Message: "uid 0 may not use the broker of uid 65534"})
		c.Close()
	}()
	c, err := Dial(sock)
	if err != nil {
		t.Fatal(err)
	}
	<-closed // the broker is gone before the client says anything
	code, err := Forward(c, &proto.Request{Argv: []string{"agentctl", "kubectl", "get", "pods"}, Cwd: "/"},
		[3]*os.File{os.Stdin, os.Stdout, os.Stderr}, nil)
	if code != 77 || err == nil || !strings.Contains(err.Error(), "may not use the broker") {
		t.Fatalf("exit %d, %v; want 77 with the broker's refusal", code, err)
	}
}
