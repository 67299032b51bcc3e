package tui

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentctl/agentctl/pkg/approve"
	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/request"
)

// syncBuffer is an io.Writer the test can read while the inbox writes.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func inboxRequest(id string, class classify.Class) *approve.Request {
	a := &classify.Assessment{Tool: "kubectl", Class: class,
		Exec:   classify.Invocation{Args: []string{"delete", "cm", "x", "-n", "web"}},
		Target: classify.Target{Context: "test", Namespace: "web"}}
	r := &approve.Request{
		Req:        &request.Request{ID: id, Tool: "kubectl", Args: []string{"-n", "web", "delete", "cm", "x"}, Agent: "bot"},
		Assessment: a,
		Expires:    time.Now().Add(time.Minute),
	}
	r.Hash = approve.HashOf(r)
	return r
}

// TestPlainInboxAnswersLineByLine runs the line-based inbox against real
// requesters on its socket: each request is printed, and the next line
// answers it, signed and checked as the screen's answers are.
func TestPlainInboxAnswersLineByLine(t *testing.T) {
	dir, err := os.MkdirTemp("", "inbox")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	p := approve.Paths{Socket: filepath.Join(dir, "run", "inbox.sock"), Key: filepath.Join(dir, "cfg", "inbox.key"), Pub: filepath.Join(dir, "cfg", "inbox.pub")}
	key, err := approve.LoadOrCreateKey(p)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := approve.Listen(p, key, approve.ServerOptions{Approver: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	in, feed := io.Pipe()
	out := &syncBuffer{}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a hang, not a duration under test
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- RunInboxPlain(ctx, srv, in, out) }()

	waitFor := func(n int, want string) {
		t.Helper()
		for strings.Count(out.String(), want) < n {
			if ctx.Err() != nil {
				t.Fatalf("the inbox never showed %q %d times:\n%s", want, n, out.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	ask := func(id string, class classify.Class) <-chan approve.Answer {
		c := make(chan approve.Answer, 1)
		go func() {
			a, err := (&approve.Inbox{Paths: p}).Approve(ctx, inboxRequest(id, class))
			if err != nil {
				t.Error(err)
			}
			c <- a
		}()
		return c
	}

	for i, tc := range []struct {
		class  classify.Class
		answer string
		ok     bool
		reason string
	}{
		{classify.Destructive, "y", true, ""},
		{classify.Destructive, "n: wrong cluster", false, "wrong cluster"},
		{classify.Privilege, "y", false, ""}, // needs the target's name
	} {
		c := ask(string(rune('a'+i)), tc.class)
		waitFor(i+1, "approval needed")
		if _, err := io.WriteString(feed, tc.answer+"\n"); err != nil {
			t.Fatal(err)
		}
		a := <-c
		if a.Approved != tc.ok || a.Reason != tc.reason || a.Channel != "inbox" || (tc.ok && a.Approver != "alice") {
			t.Errorf("%q to a %s request: answer %+v", tc.answer, tc.class, a)
		}
	}
	if !strings.Contains(out.String(), "delete cm x") {
		t.Errorf("the request was not printed:\n%s", out.String())
	}
	c := ask("d", classify.Destructive)
	waitFor(4, "approval needed")
	feed.Close()
	if a := <-c; a.Approved {
		t.Errorf("end of input approved: %+v", a)
	}
	if err := <-done; err != nil {
		t.Errorf("RunInboxPlain: %v", err)
	}
}
