package broker_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/agentctl/agentctl/pkg/broker"
	"github.com/agentctl/agentctl/pkg/broker/proto"
	"github.com/agentctl/agentctl/pkg/broker/worker"
	"github.com/agentctl/agentctl/sandbox/spawn"
)

// helperEnv makes this test binary a broker's worker (warm or fresh):
// it reports what it saw.
const helperEnv = "BROKER_TEST_WORKER"

func TestMain(m *testing.M) {
	if os.Getenv(spawn.MarkerEnv) != "" {
		os.Exit(0) // a warm worker's prestarted sandbox child: unused here
	}
	if os.Getenv(helperEnv) != "" {
		os.Exit(workerHelper())
	}
	os.Exit(m.Run())
}

// workerHelper is a worker: what its initialisation saw (here: before
// worker.Become), then what the request gave it.
func workerHelper() int {
	initLang, warmAtInit := os.Getenv("LANG"), os.Getenv(worker.WarmEnv)
	w, code, exit := worker.Become()
	if exit {
		return code
	}
	runtime.GC() // the streams it started with must not take 0, 1, 2 with them
	runtime.GC()
	in, _ := io.ReadAll(os.Stdin)
	cwd, _ := os.Getwd()
	fmt.Printf("argv=%q cwd=%s warm=%q init-LANG=%q LANG=%q kc=%s term=%s marker=%q in=%s\n",
		os.Args, cwd, warmAtInit, initLang, os.Getenv("LANG"), os.Getenv("KUBECONFIG"), os.Getenv("TERM"),
		os.Getenv(worker.WarmEnv), in)
	fmt.Fprintln(os.Stderr, "oops")
	runtime.KeepAlive(w)
	return 3
}

// serveWarm starts a broker with n warm workers of this test binary and
// waits until they are idle.
func serveWarm(t *testing.T, env []string, n int) (string, *broker.Server) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	sock := socketPath(t)
	ln, err := broker.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	srv := &broker.Server{Exe: exe, Env: append(env, helperEnv+"=1"), Warm: n, Runs: runsAll, Ready: func() { close(ready) },
		Event: func(ev broker.Event) { t.Errorf("event: %+v", ev) }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		ln.Close()
	})
	<-ready
	waitIdle(t, srv, n)
	return sock, srv
}

// waitIdle polls until n warm workers wait (no timed assertion: the
// test's own deadline bounds it).
func waitIdle(t *testing.T, srv *broker.Server, n int) {
	t.Helper()
	for {
		switch idle := broker.IdleWorkers(srv); {
		case idle < 0:
			t.Fatal("the broker keeps no warm workers")
		case idle >= n:
			return
		}
		time.Sleep(time.Millisecond)
	}
}

func TestWarmWorkerTakesTheRequestsWorld(t *testing.T) {
	sock, srv := serveWarm(t, []string{"PATH=/usr/bin:/bin", "KUBECONFIG=/broker/kubeconfig", "LANG=C.UTF-8"}, 2)
	cwd := t.TempDir()
	for i := range 3 { // more than the pool holds: it refills
		s := newStdio(t, fmt.Sprintf("stdin %d", i))
		code, err := forward(t, sock, &proto.Request{
			Argv: []string{"kubectl", "get", "pods"},
			Cwd:  cwd,
			Env:  []string{"KUBECONFIG=/agent/kubeconfig", "TERM=xterm-test", "LANG=C.UTF-8"},
		}, s)
		if err != nil || code != 3 {
			t.Fatalf("request %d: exit %d, %v; want 3", i, code, err)
		}
		want := fmt.Sprintf(`argv=["kubectl" "get" "pods"] cwd=%s warm="3" init-LANG="C.UTF-8" LANG="C.UTF-8" kc=/broker/kubeconfig term=xterm-test marker="" in=stdin %d`+"\n", cwd, i)
		if got := <-s.stdout; got != want {
			t.Errorf("request %d, stdout:\n%s\nwant:\n%s", i, got, want)
		}
		if got := <-s.stderr; got != "oops\n" {
			t.Errorf("request %d, stderr %q", i, got)
		}
		waitIdle(t, srv, 2)
	}
}

func TestWarmWorkerOfAnotherLocaleIsNotUsed(t *testing.T) {
	sock, srv := serveWarm(t, []string{"PATH=/usr/bin:/bin", "LANG=C.UTF-8"}, 1)
	run := func() string {
		s := newStdio(t, "")
		if code, err := forward(t, sock, &proto.Request{Argv: []string{"kubectl"}, Cwd: "/", Env: []string{"LANG=de_DE.UTF-8"}}, s); code != 3 || err != nil {
			t.Fatalf("exit %d, %v", code, err)
		}
		<-s.stderr
		return <-s.stdout
	}
	// Initialised with the broker's C.UTF-8, a warm worker would print
	// kubectl's English: the request gets a worker that initialised in
	// German (a fresh one, or one the pool started since).
	if got := run(); !strings.Contains(got, `init-LANG="de_DE.UTF-8" LANG="de_DE.UTF-8"`) {
		t.Errorf("first request of another locale: %s", got)
	}
	// The pool follows: its next worker initialises in German.
	waitIdle(t, srv, 1)
	if got := run(); !strings.Contains(got, `warm="3" init-LANG="de_DE.UTF-8" LANG="de_DE.UTF-8"`) {
		t.Errorf("second request: %s", got)
	}
}
