package broker_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/agentctl/agentctl/pkg/broker"
	"github.com/agentctl/agentctl/pkg/broker/client"
	"github.com/agentctl/agentctl/pkg/broker/proto"
)

func socketPath(t *testing.T) string {
	t.Helper()
	// Short: a unix socket path has at most 107 bytes.
	d, err := os.MkdirTemp("", "brk")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return filepath.Join(d, "agentctl", "broker.sock")
}

func TestSecondBrokerRefused(t *testing.T) {
	sock := socketPath(t)
	ln, err := broker.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = broker.Listen(sock)
	var re *broker.RunningError
	if !errors.As(err, &re) || re.PID != os.Getpid() || !errors.Is(err, broker.ErrRunning) {
		t.Fatalf("second Listen: %v, want a RunningError naming pid %d", err, os.Getpid())
	}
	if fi, err := os.Stat(filepath.Dir(sock)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("socket directory: %v, %v; want mode 0700", fi.Mode(), err)
	}
}

func TestStaleSocketTakenOver(t *testing.T) {
	sock := socketPath(t)
	if err := os.MkdirAll(filepath.Dir(sock), 0o700); err != nil {
		t.Fatal(err)
	}
	// A dead broker's socket: bound, never unlinked, nobody listening.
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: sock}); err != nil {
		t.Fatal(err)
	}
	syscall.Close(fd)
	if _, err := client.Dial(sock); err == nil {
		t.Fatal("the stale socket answers")
	}
	ln, err := broker.Listen(sock)
	if err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	defer ln.Close()
	c, err := client.Dial(sock)
	if err != nil {
		t.Fatalf("the new broker does not answer: %v", err)
	}
	c.Close()
}

func TestDirectoryOthersCanEnterRefused(t *testing.T) {
	sock := socketPath(t)
	if err := os.MkdirAll(filepath.Dir(sock), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := broker.Listen(sock); err == nil || !strings.Contains(err.Error(), "mode 0755") {
		t.Fatalf("Listen in a 0755 directory: %v", err)
	}
}

// serve starts a broker whose workers run exe, and returns its socket
// and the events it reported.
func serve(t *testing.T, exe string, env []string) (string, func() []broker.Event) {
	t.Helper()
	return serveRuns(t, exe, env, runsAll)
}

// runsAll lets the tests' broker run any argv (they run /bin/sh).
func runsAll([]string) bool { return true }

// serveRuns is serve with the broker's Runs.
func serveRuns(t *testing.T, exe string, env []string, runs func([]string) bool) (string, func() []broker.Event) {
	t.Helper()
	return serveServer(t, &broker.Server{Exe: exe, Env: env, Runs: runs})
}

// serveServer serves srv on a new socket until the test ends, keeping
// its events.
func serveServer(t *testing.T, srv *broker.Server) (string, func() []broker.Event) {
	t.Helper()
	sock := socketPath(t)
	ln, err := broker.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var events []broker.Event
	srv.Event = func(ev broker.Event) {
		mu.Lock()
		events = append(events, ev)
		mu.Unlock()
	}
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
	return sock, func() []broker.Event {
		mu.Lock()
		defer mu.Unlock()
		return append([]broker.Event(nil), events...)
	}
}

// stdio is a command's three streams as pipes: stdin given, stdout and
// stderr read to their ends.
type stdio struct {
	files          [3]*os.File
	stdout, stderr chan string
}

func newStdio(t *testing.T, in string) *stdio {
	t.Helper()
	s := &stdio{stdout: make(chan string, 1), stderr: make(chan string, 1)}
	ir, iw, _ := os.Pipe()
	or, ow, _ := os.Pipe()
	er, ew, _ := os.Pipe()
	go func() { iw.WriteString(in); iw.Close() }()
	go func() { b, _ := io.ReadAll(or); s.stdout <- string(b) }()
	go func() { b, _ := io.ReadAll(er); s.stderr <- string(b) }()
	s.files = [3]*os.File{ir, ow, ew}
	return s
}

// close closes this side's copies of the command's ends.
func (s *stdio) close() {
	for _, f := range s.files {
		f.Close()
	}
}

func forward(t *testing.T, sock string, req *proto.Request, s *stdio) (int, error) {
	t.Helper()
	c, err := client.Dial(sock)
	if err != nil {
		t.Fatal(err)
	}
	code, err := client.Forward(c, req, s.files, nil)
	s.close()
	return code, err
}

func TestRequestRunsInAWorkerOfTheBrokersWorld(t *testing.T) {
	sock, _ := serve(t, "/bin/sh", []string{"PATH=/usr/bin:/bin", "KUBECONFIG=/broker/kubeconfig", "HOME=/broker"})
	cwd := t.TempDir()
	s := newStdio(t, "from stdin\n")
	code, err := forward(t, sock, &proto.Request{
		Argv: []string{"sh", "-c", `read line; echo "$line"; pwd; echo "kc=$KUBECONFIG home=$HOME term=$TERM tfvar=$TF_VAR_x worker=$AGENTCTL_BROKER_WORKER"; echo oops >&2; exit 3`},
		Cwd:  cwd,
		// What a hostile client sends beyond the allow-list is dropped.
		Env: []string{"KUBECONFIG=/agent/kubeconfig", "HOME=/agent", "TERM=xterm-test", "TF_VAR_x=1"},
	}, s)
	if err != nil || code != 3 {
		t.Fatalf("Forward: exit %d, %v; want 3", code, err)
	}
	want := "from stdin\n" + cwd + "\nkc=/broker/kubeconfig home=/broker term=xterm-test tfvar=1 worker=1\n"
	if got := <-s.stdout; got != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", got, want)
	}
	if got := <-s.stderr; got != "oops\n" {
		t.Errorf("stderr %q", got)
	}
}

func TestSignalReachesTheCommand(t *testing.T) {
	sock, _ := serve(t, "/bin/sh", []string{"PATH=/usr/bin:/bin"})
	s := newStdio(t, "")
	// Read stdout line by line: "ready" says the client forwards signals.
	or, ow, _ := os.Pipe()
	s.files[1] = ow
	res := make(chan int, 1)
	go func() {
		code, _ := forward(t, sock, &proto.Request{Argv: []string{"sh", "-c", `trap 'echo interrupted; exit 5' INT; echo ready; while :; do sleep 0.05; done`}, Cwd: "/"}, s)
		res <- code
	}()
	r := bufio.NewReader(or)
	if line, _ := r.ReadString('\n'); line != "ready\n" {
		t.Fatalf("first line %q", line)
	}
	syscall.Kill(os.Getpid(), syscall.SIGINT) // as Ctrl-C on the client's terminal
	if line, _ := r.ReadString('\n'); line != "interrupted\n" {
		t.Errorf("after SIGINT: %q", line)
	}
	if code := <-res; code != 5 {
		t.Errorf("exit %d, want the trap's 5", code)
	}
}

// handshake connects and says hello.
func handshake(t *testing.T, sock string) *client.Conn {
	t.Helper()
	c, err := client.Dial(sock)
	if err != nil {
		t.Fatal(err)
	}
	if err := proto.Write(c, proto.THello, proto.NewHello("test")); err != nil {
		t.Fatal(err)
	}
	var w proto.Welcome
	if err := proto.ReadAs(c, proto.TWelcome, &w); err != nil || w.Version != proto.Version {
		t.Fatalf("welcome: %+v, %v", w, err)
	}
	return c
}

func TestClientGoneKillsTheCommand(t *testing.T) {
	sock, _ := serve(t, "/bin/sh", []string{"PATH=/usr/bin:/bin"})
	c := handshake(t, sock)
	or, ow, _ := os.Pipe()
	frame, _ := proto.Marshal(proto.TRequest, &proto.Request{Argv: []string{"sh", "-c", "echo started; exec sleep 1000"}, Cwd: "/", FDs: 3})
	if err := c.SendFDs(frame, 0, int(ow.Fd()), 2); err != nil {
		t.Fatal(err)
	}
	ow.Close()
	r := bufio.NewReader(or)
	if line, _ := r.ReadString('\n'); line != "started\n" {
		t.Fatalf("first line %q", line)
	}
	c.Close() // the client dies
	// The pipe ends when its last writer, the command, is dead.
	if rest, err := io.ReadAll(r); err != nil || rest != nil && len(rest) > 0 {
		t.Errorf("after the client went: %q, %v", rest, err)
	}
}

func TestGarbageAndHugeFramesAreDroppedAndAudited(t *testing.T) {
	sock, events := serve(t, "/bin/sh", []string{"PATH=/usr/bin:/bin"})
	for _, tc := range []struct {
		name string
		send []byte
	}{
		{"garbage", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")},
		{"a 1 GB frame", append(binary.BigEndian.AppendUint32(nil, 1<<30), 'H')},
		{"truncated hello", append(binary.BigEndian.AppendUint32(nil, 100), "H{"...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(events())
			c, err := client.Dial(sock)
			if err != nil {
				t.Fatal(err)
			}
			c.Write(tc.send)
			c.CloseWrite()
			var w proto.Welcome
			err = proto.ReadAs(c, proto.TWelcome, &w)
			c.Close()
			var pe *proto.Error
			if !errors.As(err, &pe) || pe.Code != proto.CodeProtocol {
				t.Errorf("answer: %v, want a protocol error", err)
			}
			evs := events()
			if len(evs) != before+1 || evs[len(evs)-1].What != "protocol error" || evs[len(evs)-1].PeerUID != os.Getuid() {
				t.Errorf("events %+v, want one protocol error of uid %d", evs[before:], os.Getuid())
			}
		})
	}
	// And the broker still serves.
	s := newStdio(t, "")
	if code, err := forward(t, sock, &proto.Request{Argv: []string{"sh", "-c", "echo still here"}, Cwd: "/"}, s); code != 0 || err != nil {
		t.Fatalf("after the bad clients: exit %d, %v", code, err)
	}
	if got := <-s.stdout; got != "still here\n" {
		t.Errorf("stdout %q", got)
	}
}

// A client is the broker's user but may be an agent in agentctl run's
// jail: asked for anything but a wrapped tool or explain (agentctl inbox
// approve, agentctl approve BUNDLE), the broker would run it outside the
// jail, with the human's keys.
func TestBrokerRunsOnlyTheWrappedTools(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "ran")
	sock, events := serveRuns(t, "/bin/sh", []string{"PATH=/usr/bin:/bin"}, client.Forwardable)
	for _, tc := range []struct {
		argv []string
		says string
	}{
		{[]string{"agentctl", "inbox", "approve", "req-1"}, `"agentctl inbox …"`},
		{[]string{"/usr/bin/agentctl", "approve", "bundle.json"}, `"agentctl approve …"`},
		{[]string{"agentctl", "--token=SECRET", "inbox", "approve", "req-1"}, `"agentctl …"`},
		{[]string{"sh", "-c", "touch " + marker}, `"sh …"`},
		{[]string{"agentctl"}, `"agentctl"`},
	} {
		s := newStdio(t, "")
		code, err := forward(t, sock, &proto.Request{Argv: tc.argv, Cwd: "/"}, s)
		var pe *proto.Error
		if code != 70 || !errors.As(err, &pe) || pe.Code != proto.CodeRequest || !strings.HasSuffix(pe.Message, "not "+tc.says) || pe.Hint == "" {
			t.Errorf("%q: exit %d, %v", tc.argv, code, err)
		}
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the broker ran sh -c")
	}
	evs := events()
	if len(evs) != 5 {
		t.Fatalf("events %+v", evs)
	}
	for _, ev := range evs {
		if ev.What != "request refused" || ev.Err == nil {
			t.Errorf("event %+v", ev)
		}
	}
}

func TestOtherVersionGetsAnErrorBeforeAnythingRuns(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "ran")
	sock, events := serve(t, "/bin/sh", []string{"PATH=/usr/bin:/bin"})
	c, err := client.Dial(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	proto.Write(c, proto.THello, &proto.Hello{Magic: proto.Magic, Min: 99, Max: 99})
	// A client that does not wait for the welcome sends its request at once.
	frame, _ := proto.Marshal(proto.TRequest, &proto.Request{Argv: []string{"sh", "-c", "touch " + marker}, Cwd: "/", FDs: 3})
	c.SendFDs(frame, 0, 1, 2)
	var w proto.Welcome
	err = proto.ReadAs(c, proto.TWelcome, &w)
	var pe *proto.Error
	if !errors.As(err, &pe) || pe.Code != proto.CodeVersion || !strings.Contains(pe.Message, "99 to 99") || pe.Hint == "" {
		t.Fatalf("answer to version 99: %v", err)
	}
	// Closed (a reset, with the request unread): no frame follows.
	if typ, _, err := proto.Read(c); err == nil {
		t.Errorf("a %s frame after the error, want the connection closed", typ)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the request of a client of another version ran")
	}
	if evs := events(); len(evs) != 1 || evs[0].What != "protocol error" {
		t.Errorf("events %+v", evs)
	}
}

func TestClientOfAnotherVersionSaysSo(t *testing.T) {
	// A broker of a future version, faked: it refuses our hello.
	sock := socketPath(t)
	ln, err := broker.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan error, 1)
	go func() {
		c, err := ln.AcceptUnix()
		if err != nil {
			got <- err
			return
		}
		defer c.Close()
		var h proto.Hello
		proto.ReadAs(c, proto.THello, &h)
		_, e := proto.Negotiate(&h, 7, 7, "future")
		proto.Write(c, proto.TError, e)
		_, _, err = proto.Read(c) // nothing more may come
		got <- err
	}()
	s := newStdio(t, "")
	code, err := forward(t, sock, &proto.Request{Argv: []string{"agentctl", "kubectl", "delete", "ns", "prod"}, Cwd: "/"}, s)
	var pe *proto.Error
	if code != 70 || !errors.As(err, &pe) || pe.Code != proto.CodeVersion {
		t.Fatalf("Forward to a broker of version 7: exit %d, %v", code, err)
	}
	if err := <-got; err != io.EOF {
		t.Errorf("the client sent more after the refusal: %v", err)
	}
}

func TestSixtyFourConcurrentClients(t *testing.T) {
	sock, events := serve(t, "/bin/sh", []string{"PATH=/usr/bin:/bin"})
	const n = 64
	errs := make(chan string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := newStdio(t, strings.Repeat("x", i))
			code, err := forward(t, sock, &proto.Request{Argv: []string{"sh", "-c", `wc -c; exit $((TF_VAR_n % 7))`}, Cwd: "/", Env: []string{"TF_VAR_n=" + strconv.Itoa(i)}}, s)
			out := strings.TrimSpace(<-s.stdout)
			if err != nil || code != i%7 || out != strconv.Itoa(i) {
				errs <- fmt.Sprintf("client %d: exit %d, %v, stdout %q", i, code, err, out)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if evs := events(); len(evs) != 0 {
		t.Errorf("events: %+v", evs)
	}
}

// openPTY returns a new pseudo-terminal's slave side, which is nobody's
// controlling terminal.
func openPTY(t *testing.T) *os.File {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	slave, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	return slave
}

// TestATerminalMustBeTheClientsOwn passes, as the client's terminal, a
// pipe and then a pseudo-terminal that is not the client's controlling
// terminal (one an agent could drive): each request is refused, nothing
// runs, and the broker reports why.
func TestATerminalMustBeTheClientsOwn(t *testing.T) {
	sock, events := serve(t, "/bin/sh", []string{"PATH=/usr/bin:/bin"})
	pr, pw, _ := os.Pipe()
	defer pr.Close()
	defer pw.Close()
	for _, tc := range []struct {
		name string
		tty  *os.File
		want string
	}{
		{"a pipe", pr, "is not a terminal"},
		{"another terminal", openPTY(t), "is not the client's controlling terminal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			marker := filepath.Join(t.TempDir(), "ran")
			s := newStdio(t, "")
			c, err := client.Dial(sock)
			if err != nil {
				t.Fatal(err)
			}
			code, err := client.Forward(c, &proto.Request{Argv: []string{"sh", "-c", "touch " + marker}, Cwd: "/"}, s.files, tc.tty)
			s.close()
			var pe *proto.Error
			if code != 70 || !errors.As(err, &pe) || pe.Code != proto.CodeRequest || !strings.Contains(pe.Message, tc.want) {
				t.Fatalf("Forward: exit %d, %v; want 70 and %q", code, err, tc.want)
			}
			if _, err := os.Stat(marker); err == nil {
				t.Error("the command ran")
			}
		})
	}
	if evs := events(); len(evs) != 2 || evs[0].What != "request refused" {
		t.Errorf("events %+v, want two refused requests", evs)
	}
}

// serveApprover starts a broker with an approver socket and an inbox
// socket, and returns both paths.
func serveApprover(t *testing.T) (approver, inbox string) {
	t.Helper()
	sock := socketPath(t)
	ln, err := broker.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	aln, err := broker.ListenApprover(ln)
	if err != nil {
		t.Fatal(err)
	}
	inbox = filepath.Join(filepath.Dir(sock), "inbox", "inbox.sock")
	srv := &broker.Server{Exe: "/bin/true", InboxSocket: inbox, Runs: runsAll}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 2)
	go func() { done <- srv.Serve(ctx, ln) }()
	go func() { done <- srv.ServeApprover(ctx, aln) }()
	t.Cleanup(func() {
		cancel()
		<-done
		<-done
		ln.Close()
	})
	return broker.ApproverSocket(sock), inbox
}

// TestAttachedInboxGetsTheRequestersConnections attaches an inbox: a
// requester that connects to the inbox socket is handed to it whole, so
// the two speak directly; a second inbox is refused while one is
// attached; once it detaches, nobody answers on the inbox socket.
func TestAttachedInboxGetsTheRequestersConnections(t *testing.T) {
	approver, inbox := serveApprover(t)
	if _, err := net.Dial("unix", inbox); err == nil {
		t.Fatal("the inbox socket answers before an inbox attached")
	}
	att, err := broker.Attach(approver)
	if err != nil {
		t.Fatal(err)
	}
	var pe *proto.Error
	if _, err := broker.Attach(approver); !errors.As(err, &pe) || pe.Code != proto.CodeBusy {
		t.Errorf("second Attach: %v, want busy", err)
	}
	req, err := net.Dial("unix", inbox)
	if err != nil {
		t.Fatalf("the inbox socket does not answer while an inbox is attached: %v", err)
	}
	defer req.Close()
	c, err := att.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if rc, ok := c.(*broker.RelayedConn); !ok || rc.PID != os.Getpid() {
		t.Errorf("handed over %T %+v, want a RelayedConn for pid %d (a requester that is not a worker)", c, c, os.Getpid())
	}
	req.Write([]byte("request\n"))
	if line, _ := bufio.NewReader(c).ReadString('\n'); line != "request\n" {
		t.Errorf("the inbox read %q", line)
	}
	c.Write([]byte("answer\n"))
	if line, _ := bufio.NewReader(req).ReadString('\n'); line != "answer\n" {
		t.Errorf("the requester read %q", line)
	}
	att.Close()
	for i := 0; ; i++ {
		r, err := net.Dial("unix", inbox)
		if err != nil {
			break
		}
		r.Close()
		if i > 500 {
			t.Fatal("the inbox socket still answers after the inbox detached")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestAttachRefusedBesideAStandaloneInbox: an inbox that listens on the
// inbox socket itself (started before the broker) keeps it; a second one
// cannot attach in its place.
func TestAttachRefusedBesideAStandaloneInbox(t *testing.T) {
	approver, inbox := serveApprover(t)
	if err := os.MkdirAll(filepath.Dir(inbox), 0o700); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("unix", inbox)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if _, err := broker.Attach(approver); err == nil || !strings.Contains(err.Error(), "not attached to the broker") {
		t.Errorf("Attach beside a standalone inbox: %v", err)
	}
}

// TestVersionOneClientStillRuns speaks protocol version 1 (no terminal
// in the request) to this broker: welcomed as 1, its command runs.
func TestVersionOneClientStillRuns(t *testing.T) {
	sock, _ := serve(t, "/bin/sh", []string{"PATH=/usr/bin:/bin"})
	c, err := client.Dial(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := proto.Write(c, proto.THello, &proto.Hello{Magic: proto.Magic, Min: 1, Max: 1}); err != nil {
		t.Fatal(err)
	}
	var w proto.Welcome
	if err := proto.ReadAs(c, proto.TWelcome, &w); err != nil || w.Version != 1 {
		t.Fatalf("welcome: %+v, %v; want version 1", w, err)
	}
	s := newStdio(t, "")
	frame, _ := proto.Marshal(proto.TRequest, &proto.Request{Argv: []string{"sh", "-c", "echo v1"}, Cwd: "/", FDs: 3})
	if err := c.SendFDs(frame, int(s.files[0].Fd()), int(s.files[1].Fd()), int(s.files[2].Fd())); err != nil {
		t.Fatal(err)
	}
	s.close()
	var exit proto.Exit
	if err := proto.ReadAs(c, proto.TExit, &exit); err != nil || exit.Code != 0 {
		t.Fatalf("exit: %+v, %v", exit, err)
	}
	if got := <-s.stdout; got != "v1\n" {
		t.Errorf("stdout %q", got)
	}
}
