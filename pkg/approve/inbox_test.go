package approve

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/request"
)

// The requester half of the two-process tests: the test binary re-run
// with AGENTCTL_TEST_REQUESTER=1 asks the inbox, and "runs the command"
// (creates $MARK) only when approved. It prints its answer as JSON.
func TestMain(m *testing.M) {
	if os.Getenv("AGENTCTL_TEST_REQUESTER") == "1" {
		os.Exit(requesterMain())
	}
	os.Exit(m.Run())
}

func requesterMain() int {
	p := Paths{Socket: os.Getenv("SOCK"), Key: os.Getenv("KEY"), Pub: os.Getenv("PUB")}
	exp, _ := strconv.ParseInt(os.Getenv("REQ_EXPIRES"), 10, 64)
	r := testRequestAt(os.Getenv("REQ_ID"), time.Unix(0, exp))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ans, err := (&Inbox{Paths: p, Status: os.Stderr}).Approve(ctx, r)
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		return 1
	}
	json.NewEncoder(os.Stdout).Encode(ans)
	if ans.Approved {
		os.WriteFile(os.Getenv("MARK"), []byte("ran"), 0o600)
	}
	return 0
}

func testRequest(id string) *Request { return testRequestAt(id, time.Now().Add(time.Minute)) }

func testRequestAt(id string, expires time.Time) *Request {
	a := &classify.Assessment{Tool: "kubectl", Class: classify.Destructive,
		Exec:   classify.Invocation{Args: []string{"delete", "cm", "x", "-n", "web"}},
		Target: classify.Target{Context: "test", Namespace: "web"}}
	r := &Request{
		Req:        &request.Request{ID: id, Tool: "kubectl", Args: []string{"-n", "web", "delete", "cm", "x"}, Agent: "test-agent"},
		Assessment: a,
		Expires:    expires,
	}
	r.Hash = HashOf(r)
	return r
}

// testPaths is a fresh inbox layout with a key created as `agentctl
// inbox` creates it.
func testPaths(t *testing.T) (Paths, ed25519.PrivateKey) {
	t.Helper()
	dir, err := os.MkdirTemp("", "inbox")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	p := Paths{Socket: filepath.Join(dir, "run", "inbox.sock"), Key: filepath.Join(dir, "cfg", "inbox.key"), Pub: filepath.Join(dir, "cfg", "inbox.pub")}
	key, err := LoadOrCreateKey(p)
	if err != nil {
		t.Fatal(err)
	}
	return p, key
}

type requester struct {
	cmd            *exec.Cmd
	stdout, stderr strings.Builder
	mark           string
	expires        time.Time
}

func startRequester(t *testing.T, p Paths, id string) *requester {
	t.Helper()
	r := &requester{mark: filepath.Join(t.TempDir(), "ran"), expires: time.Now().Add(time.Minute)}
	r.cmd = exec.Command(os.Args[0], "-test.run=^$")
	r.cmd.Env = append(os.Environ(), "AGENTCTL_TEST_REQUESTER=1", "SOCK="+p.Socket, "KEY="+p.Key, "PUB="+p.Pub, "REQ_ID="+id, "MARK="+r.mark,
		"REQ_EXPIRES="+strconv.FormatInt(r.expires.UnixNano(), 10))
	r.cmd.Stdout, r.cmd.Stderr = &r.stdout, &r.stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.cmd.Process.Kill(); r.cmd.Wait() })
	return r
}

// finish waits for the requester and returns its answer and whether the
// command ran.
func (r *requester) finish(t *testing.T) (Answer, bool) {
	t.Helper()
	if err := r.cmd.Wait(); err != nil {
		t.Fatalf("requester: %v\nstderr: %s", err, r.stderr.String())
	}
	var a Answer
	if err := json.Unmarshal([]byte(r.stdout.String()), &a); err != nil {
		t.Fatalf("requester output %q: %v", r.stdout.String(), err)
	}
	_, err := os.Stat(r.mark)
	return a, err == nil
}

func TestInboxAnswersRequesterInAnotherProcess(t *testing.T) {
	for _, tc := range []struct {
		name    string
		verdict Verdict
	}{
		{"approve from the inbox runs the command", Verdict{Approved: true}},
		{"deny with a reason from the inbox does not", Verdict{Reason: "not now"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, key := testPaths(t)
			srv, err := Listen(p, key, ServerOptions{Approver: "alice"})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go srv.Serve(ctx)
			defer srv.Close()

			r := startRequester(t, p, "req-1")
			var pend *Pending
			select {
			case pend = <-srv.Requests():
			case <-time.After(30 * time.Second):
				t.Fatalf("no request reached the inbox; requester stderr: %s", r.stderr.String())
			}
			if want := testRequestAt("req-1", r.expires).Hash; pend.Screen.Hash != want {
				t.Errorf("inbox got hash %s, want %s", pend.Screen.Hash, want)
			}
			if pend.Screen.PID != r.cmd.Process.Pid {
				t.Errorf("inbox shows pid %d, requester is %d", pend.Screen.PID, r.cmd.Process.Pid)
			}
			if got := pend.Screen.CommandLine(); got != "kubectl -n web delete cm x" {
				t.Errorf("inbox shows command %q", got)
			}
			if err := pend.Answer(tc.verdict); err != nil {
				t.Fatal(err)
			}
			a, ran := r.finish(t)
			if a.Approved != tc.verdict.Approved || ran != tc.verdict.Approved || a.Reason != tc.verdict.Reason {
				t.Errorf("answer %+v, ran=%v; want %+v", a, ran, tc.verdict)
			}
			if a.Channel != "inbox" || a.Approver != "alice" {
				t.Errorf("answer channel %q approver %q", a.Channel, a.Approver)
			}
			if !strings.Contains(r.stderr.String(), "waiting for approval in agentctl inbox (request req-1,") {
				t.Errorf("requester did not say it waits for the inbox, by the request id the inbox lists: %q", r.stderr.String())
			}
		})
	}
}

// fakeInbox listens on the inbox socket as an impostor would (the real
// inbox is not running) and answers the first request with forge's answer.
func fakeInbox(t *testing.T, p Paths, forge func(req *message) *SignedAnswer) {
	t.Helper()
	if err := privateDir(filepath.Dir(p.Socket)); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("unix", p.Socket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			m, err := readMessage(bufio.NewReader(c))
			if err != nil {
				c.Close()
				continue
			}
			writeMessage(c, &message{Type: "answer", Answer: forge(m)})
			c.Close()
		}
	}()
}

func TestForgedInboxAnswersAreRejected(t *testing.T) {
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	other := testRequest("req-other")
	for _, tc := range []struct {
		name  string
		forge func(key ed25519.PrivateKey, m *message) *SignedAnswer
		want  string
	}{
		{"a client without the key: unsigned approval", func(_ ed25519.PrivateKey, m *message) *SignedAnswer {
			return &SignedAnswer{Hash: m.Request.Screen.Hash, Nonce: m.Nonce, Approved: true, Expires: time.Now().Add(time.Minute).UnixNano()}
		}, "signature does not verify"},
		{"a client without the key: signed with its own key", func(_ ed25519.PrivateKey, m *message) *SignedAnswer {
			a := &SignedAnswer{Hash: m.Request.Screen.Hash, Nonce: m.Nonce, Approved: true, Expires: time.Now().Add(time.Minute).UnixNano()}
			a.Sign(otherKey)
			return a
		}, "signature does not verify"},
		{"replayed signature for another request", func(key ed25519.PrivateKey, m *message) *SignedAnswer {
			a := &SignedAnswer{Hash: other.Hash, Nonce: "nonce-of-the-other-request", Approved: true, Expires: time.Now().Add(time.Minute).UnixNano()}
			a.Sign(key)
			return a
		}, "signed for another request"},
		{"replayed signature for the same command with an old nonce", func(key ed25519.PrivateKey, m *message) *SignedAnswer {
			a := &SignedAnswer{Hash: m.Request.Screen.Hash, Nonce: "an-earlier-nonce", Approved: true, Expires: time.Now().Add(time.Minute).UnixNano()}
			a.Sign(key)
			return a
		}, "signed for another request"},
		{"expired signature", func(key ed25519.PrivateKey, m *message) *SignedAnswer {
			a := &SignedAnswer{Hash: m.Request.Screen.Hash, Nonce: m.Nonce, Approved: true, Expires: time.Now().Add(-time.Second).UnixNano()}
			a.Sign(key)
			return a
		}, "expired"},
		{"a signed denial turned into an approval", func(key ed25519.PrivateKey, m *message) *SignedAnswer {
			a := &SignedAnswer{Hash: m.Request.Screen.Hash, Nonce: m.Nonce, Approved: false, Expires: time.Now().Add(time.Minute).UnixNano()}
			a.Sign(key)
			a.Approved = true
			return a
		}, "signature does not verify"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, key := testPaths(t)
			fakeInbox(t, p, func(m *message) *SignedAnswer { return tc.forge(key, m) })
			r := startRequester(t, p, "req-1")
			a, ran := r.finish(t)
			if a.Approved || ran {
				t.Fatalf("forged answer accepted: %+v, ran=%v", a, ran)
			}
			if !strings.Contains(a.Reason, tc.want) {
				t.Errorf("reason %q, want it to say %q", a.Reason, tc.want)
			}
		})
	}
}

func TestUntrustedPublicKeyIsRefused(t *testing.T) {
	for _, tc := range []struct {
		name  string
		spoil func(p Paths) error
		want  string
	}{
		{"public key writable by group", func(p Paths) error { return os.Chmod(p.Pub, 0o664) }, "writable by group or others"},
		{"key directory writable by others", func(p Paths) error { return os.Chmod(filepath.Dir(p.Pub), 0o777) }, "writable by group or others"},
		{"public key is a symlink", func(p Paths) error {
			alt := p.Pub + ".alt"
			if err := os.Rename(p.Pub, alt); err != nil {
				return err
			}
			return os.Symlink(alt, p.Pub)
		}, "symlink"},
		{"no public key: inbox never ran", func(p Paths) error { return os.Remove(p.Pub) }, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, key := testPaths(t)
			if err := tc.spoil(p); err != nil {
				t.Fatal(err)
			}
			fakeInbox(t, p, func(m *message) *SignedAnswer {
				a := &SignedAnswer{Hash: m.Request.Screen.Hash, Nonce: m.Nonce, Approved: true, Expires: time.Now().Add(time.Minute).UnixNano()}
				a.Sign(key)
				return a
			})
			a, err := (&Inbox{Paths: p}).Approve(context.Background(), testRequest("req-1"))
			if err != nil {
				t.Fatal(err)
			}
			if a.Approved || !strings.Contains(a.Reason, tc.want) {
				t.Errorf("answer %+v, want a denial saying %q", a, tc.want)
			}
		})
	}
}

func TestSecondInboxRefusesToStart(t *testing.T) {
	p, key := testPaths(t)
	srv, err := Listen(p, key, ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	go srv.Serve(context.Background())
	if _, err := Listen(p, key, ServerOptions{}); err == nil || !strings.Contains(err.Error(), "already running") {
		t.Errorf("second inbox: %v", err)
	}
	fi, err := os.Stat(filepath.Dir(p.Socket))
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("socket directory mode: %v %v", fi.Mode().Perm(), err)
	}
	kfi, err := os.Stat(p.Key)
	if err != nil || kfi.Mode().Perm() != 0o600 {
		t.Errorf("key mode: %v %v", kfi.Mode().Perm(), err)
	}
}
