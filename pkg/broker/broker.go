// Package broker is agentctl's per-user broker (`agentctl serve`): it
// listens on a unix socket, admits only clients of its own uid
// (SO_PEERCRED), speaks the protocol of package proto with each, and runs
// every request in a worker of its own: agentctl itself, in one-shot
// mode, with the client's standard streams, argv and working directory
// and an environment the broker builds from its own (see [WorkerEnv]);
// a warm one that has initialised already when it can (package worker,
// [Server.Warm]), else a fresh one. The
// worker does everything a one-shot agentctl does, audit included; the
// broker only carries requests, signals and exit codes, and reports what
// it refused through [Server.Event].
//
// The protocol is documented in docs/protocol.md.
package broker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/agentctl/agentctl/pkg/broker/client"
	"github.com/agentctl/agentctl/pkg/broker/proto"
	"github.com/agentctl/agentctl/pkg/broker/worker"
	"github.com/agentctl/agentctl/pkg/childproc"
)

// handshakeTimeout bounds the hello and the request of a connection.
const handshakeTimeout = 30 * time.Second

// Event is something the broker refused or failed at, for the audit log.
type Event struct {
	What    string // "peer refused", "protocol error", "request refused", "worker failed", "approver refused"
	PeerUID int
	PeerPID int
	Err     error
	Argv    []string // the request's, when one was read
	Cwd     string
}

// Server runs requests. Its fields are set before Serve and not changed.
type Server struct {
	// Exe is the agentctl binary workers run.
	Exe string
	// Env is the broker's own environment, KEY=VALUE: the base of every
	// worker's (WorkerEnv).
	Env []string
	// Version is agentctl's version, told to clients.
	Version string
	// Event receives what the broker refused; it must be safe for
	// concurrent use. Nil drops events.
	Event func(Event)
	// Ready, when set, is called once the server accepts connections.
	Ready func()
	// InboxSocket is where the broker's workers ask the inbox; the
	// broker listens there while an inbox is attached (ServeApprover).
	InboxSocket string
	// Warm is how many prestarted workers the broker keeps waiting for
	// requests (package worker); 0 starts every worker fresh.
	Warm int
	// Runs says which argv the broker runs (agentctl serve: the wrapped
	// tools and explain, client.Forwardable); nil runs none. A client
	// is the broker's user but may be a jailed agent: whatever else it
	// asks for (agentctl inbox approve, agentctl approve BUNDLE) would
	// run outside its jail with the human's keys.
	Runs func(argv []string) bool
	// HTTP, when set, serves the connections that speak HTTP instead of
	// the broker's protocol (agentctl serve: the MCP tools over
	// streamable HTTP), after the same peer check; [PeerOf] gives a
	// request's peer. Nil: such a connection is a protocol error.
	HTTP http.Handler
	// Web, when set, is an approver inside the broker (the web page,
	// `agentctl serve --web`): the broker then listens on InboxSocket
	// for as long as it serves (ServeInbox), and shows every request
	// there and, while one is attached, in the inbox; the first answer
	// goes to the requester, and the other is told where it was
	// answered.
	Web *Conns

	httpLn   *connListener
	uid      int
	attachMu sync.Mutex
	attached *net.UnixConn // the attached inbox, with Web
	wg       sync.WaitGroup
	workers  sync.Map // a running worker's pid → its client's pid
	pool     *pool
}

// Serve accepts connections on ln until ctx ends or ln fails, and waits
// for the requests that are running to end.
func (s *Server) Serve(ctx context.Context, ln *Listener) error {
	s.uid = os.Geteuid()
	if s.Warm > 0 {
		s.pool = newPool(s.Exe, s.Env, s.Warm)
		fillCtx, stopFill := context.WithCancel(ctx)
		filled := make(chan struct{})
		go func() {
			defer close(filled)
			s.pool.fill(fillCtx)
		}()
		defer func() {
			stopFill()
			<-filled
		}()
	}
	go func() {
		<-ctx.Done()
		ln.UnixListener.Close()
	}()
	if s.HTTP != nil {
		stop := s.startHTTP(ln.Addr())
		defer stop()
	}
	if s.Ready != nil {
		s.Ready()
	}
	defer s.wg.Wait()
	for {
		c, err := ln.AcceptUnix()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.handle(c)
		}()
	}
}

func (s *Server) event(ev Event) {
	if s.Event != nil {
		s.Event(ev)
	}
}

// handle is one client's conversation.
func (s *Server) handle(c *net.UnixConn) {
	closeConn := true
	defer func() {
		if closeConn {
			c.Close()
		}
	}()
	pid, uid, err := peerCred(c)
	if err != nil {
		s.event(Event{What: "peer refused", PeerUID: -1, Err: fmt.Errorf("cannot read the peer's credentials: %w", err)})
		return
	}
	if uid != s.uid {
		e := &proto.Error{Code: proto.CodePeer, Message: fmt.Sprintf("uid %d may not use the broker of uid %d", uid, s.uid),
			Hint: "each user runs their own broker: agentctl serve"}
		s.event(Event{What: "peer refused", PeerUID: uid, PeerPID: pid, Err: e})
		proto.Write(c, proto.TError, e)
		return
	}
	if s.HTTP != nil {
		b, err := peekByte(c, time.Now().Add(handshakeTimeout))
		if err != nil {
			s.event(Event{What: "protocol error", PeerUID: uid, PeerPID: pid, Err: fmt.Errorf("hello: %w", err)})
			return
		}
		if b >= 'A' && b <= 'Z' { // a method name: HTTP
			closeConn = false
			s.httpLn.serve(&peerConn{Conn: c, peer: Peer{PID: pid, UID: uid}})
			return
		}
	}
	// A client has this long to say hello and send its request: one
	// that connects and says nothing does not hold a goroutine forever.
	c.SetReadDeadline(time.Now().Add(handshakeTimeout))
	r := &fdReader{c: c}
	defer r.closeFDs()
	fail := func(what string, e *proto.Error, req *proto.Request) {
		ev := Event{What: what, PeerUID: uid, PeerPID: pid, Err: e}
		if req != nil {
			ev.Argv, ev.Cwd = req.Argv, req.Cwd
		}
		s.event(ev)
		proto.Write(c, proto.TError, e)
	}
	var hello proto.Hello
	if err := proto.ReadAs(r, proto.THello, &hello); err != nil {
		fail("protocol error", &proto.Error{Code: proto.CodeProtocol, Message: "hello: " + err.Error()}, nil)
		return
	}
	welcome, perr := proto.Negotiate(&hello, proto.MinVersion, proto.Version, s.Version)
	if perr != nil {
		fail("protocol error", perr, nil)
		return
	}
	if err := proto.Write(c, proto.TWelcome, welcome); err != nil {
		return
	}
	var req proto.Request
	if err := proto.ReadAs(r, proto.TRequest, &req); err != nil {
		fail("protocol error", &proto.Error{Code: proto.CodeProtocol, Message: "request: " + err.Error()}, nil)
		return
	}
	c.SetReadDeadline(time.Time{})
	fds := r.takeFDs()
	e := checkRequest(&req, fds, welcome.Version, pid)
	if e == nil && (s.Runs == nil || !s.Runs(req.Argv)) {
		e = &proto.Error{Code: proto.CodeRequest, Message: fmt.Sprintf("the broker runs kubectl, terraform, tofu and explain only, not %s", quoteArgv(req.Argv)),
			Hint: "run agentctl's other commands yourself, outside the agent's jail"}
	}
	if e != nil {
		closeAll(fds)
		fail("request refused", e, &req)
		return
	}
	s.run(c, r, &req, fds, pid, func(e *proto.Error) { fail("worker failed", e, &req) })
}

// checkRequest checks req and the descriptors that came with it from
// the client pid, speaking protocol version v.
func checkRequest(req *proto.Request, fds []int, v, pid int) *proto.Error {
	want, what := 3, "stdin, stdout, stderr"
	if req.TTY && v >= proto.TTYVersion {
		want, what = 4, "stdin, stdout, stderr, terminal"
	}
	switch {
	case len(fds) != want || req.FDs != want:
		return &proto.Error{Code: proto.CodeRequest, Message: fmt.Sprintf("request with %d descriptors, want %d (%s)", len(fds), want, what)}
	case len(req.Argv) == 0:
		return &proto.Error{Code: proto.CodeRequest, Message: "request without argv"}
	case !filepath.IsAbs(req.Cwd):
		return &proto.Error{Code: proto.CodeRequest, Message: fmt.Sprintf("working directory %q is not absolute", req.Cwd)}
	}
	if want == 4 {
		if err := checkTTY(fds[3], pid); err != nil {
			return &proto.Error{Code: proto.CodeRequest, Message: err.Error(),
				Hint: "a client passes its own controlling terminal (/dev/tty), or none"}
		}
	}
	return nil
}

// run starts the worker for req, forwards signals to it while it runs and
// sends its exit code.
func (s *Server) run(c *net.UnixConn, r *fdReader, req *proto.Request, fds []int, clientPID int, fail func(*proto.Error)) {
	files := make([]*os.File, len(fds))
	for i, fd := range fds {
		files[i] = os.NewFile(uintptr(fd), []string{"stdin", "stdout", "stderr", "tty"}[i])
	}
	cmd, err := s.start(req, files, clientPID)
	for _, f := range files {
		f.Close()
	}
	if err != nil {
		fail(&proto.Error{Code: proto.CodeRequest, Message: "cannot start the command: " + err.Error()})
		return
	}
	s.wait(c, r, cmd, clientPID, fail)
}

// start starts the worker for req: a warm one from the pool when one can
// take it (a request that passes the client's terminal, files[3], gets a
// fresh one), else a fresh one.
func (s *Server) start(req *proto.Request, files []*os.File, clientPID int) (*exec.Cmd, error) {
	env := WorkerEnv(s.Env, req.Env)
	if s.pool != nil && len(files) == 3 {
		if fi, err := os.Stat(req.Cwd); err == nil && fi.IsDir() {
			if cmd := s.pool.take(&worker.Spec{Argv: req.Argv, Cwd: req.Cwd, Env: env}, files); cmd != nil {
				return cmd, nil
			}
		}
	}
	cmd := &exec.Cmd{
		Path:   s.Exe,
		Args:   req.Argv,
		Dir:    req.Cwd,
		Env:    env,
		Stdin:  files[0],
		Stdout: files[1],
		Stderr: files[2],
		// A session of its own: the worker has no controlling terminal,
		// so it never prompts on the broker's. It asks on the client's
		// terminal when the client passed it (checked by checkRequest),
		// as descriptor 3 (docs/protocol.md).
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	if len(files) == 4 {
		cmd.ExtraFiles = files[3:]
		cmd.Env = append(cmd.Env, client.TTYEnv+"=3", client.ClientPIDEnv+"="+strconv.Itoa(clientPID))
	}
	return cmd, childproc.Start(cmd)
}

// wait forwards signals to the worker cmd while it runs and sends its
// exit code.
func (s *Server) wait(c *net.UnixConn, r *fdReader, cmd *exec.Cmd, clientPID int, fail func(*proto.Error)) {
	pgid := cmd.Process.Pid
	// The inbox names the client, not the worker (ServeApprover).
	s.workers.Store(pgid, clientPID)
	defer s.workers.Delete(pgid)
	done := make(chan struct{})
	go func() {
		// Signals until the client goes: a client that goes before the
		// exit frame is dead, and so is its command, as the one-shot
		// agentctl's children die with it.
		for {
			var sig proto.Signal
			if err := proto.ReadAs(r, proto.TSignal, &sig); err != nil {
				select {
				case <-done:
				default:
					syscall.Kill(-pgid, syscall.SIGKILL)
				}
				return
			}
			if forwarded(syscall.Signal(sig.Signal)) {
				syscall.Kill(-pgid, syscall.Signal(sig.Signal))
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	code := 0
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
	case err != nil:
		fail(&proto.Error{Code: proto.CodeInternal, Message: err.Error()})
		return
	}
	proto.Write(c, proto.TExit, &proto.Exit{Code: code})
	c.CloseRead() // ends the signal reader
}

// forwarded says whether a client may send sig to its command.
func forwarded(sig syscall.Signal) bool {
	switch sig {
	case syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGWINCH:
		return true
	}
	return false
}

func closeAll(fds []int) {
	for _, fd := range fds {
		syscall.Close(fd)
	}
}

// fdReader reads a connection with recvmsg, keeping the descriptors that
// arrive (SCM_RIGHTS) for takeFDs. It reads no further than asked, so
// frames are never read ahead.
type fdReader struct {
	c   *net.UnixConn
	mu  sync.Mutex
	fds []int
}

func (r *fdReader) Read(p []byte) (int, error) {
	oob := make([]byte, syscall.CmsgSpace(4*8))
	n, oobn, _, _, err := r.c.ReadMsgUnix(p, oob)
	if oobn > 0 {
		if msgs, perr := syscall.ParseSocketControlMessage(oob[:oobn]); perr == nil {
			for _, m := range msgs {
				if fds, err := syscall.ParseUnixRights(&m); err == nil {
					for _, fd := range fds {
						syscall.CloseOnExec(fd)
					}
					r.mu.Lock()
					r.fds = append(r.fds, fds...)
					r.mu.Unlock()
				}
			}
		}
	}
	if n == 0 && err == nil {
		return 0, io.EOF // recvmsg returns 0 at the end of a stream
	}
	return n, err
}

func (r *fdReader) takeFDs() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	fds := r.fds
	r.fds = nil
	return fds
}

func (r *fdReader) closeFDs() { closeAll(r.takeFDs()) }

// quoteArgv names argv in a message: argv[0]'s base name and argv[1]
// unless it is a flag, quoted; nothing more, since a flag's value or a
// later argument may be a secret.
func quoteArgv(argv []string) string {
	words := []string{filepath.Base(argv[0])}
	if len(argv) > 1 && !strings.HasPrefix(argv[1], "-") {
		words = append(words, argv[1])
	}
	s := strings.Join(words, " ")
	if len(argv) > len(words) {
		s += " …"
	}
	return strconv.Quote(s)
}
