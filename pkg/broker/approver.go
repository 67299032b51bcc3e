package broker

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/agentctl/agentctl/pkg/broker/proto"
)

// ApproverSocket is the approver socket beside the broker socket sock:
// approver.sock in the same 0700 directory.
func ApproverSocket(sock string) string {
	return filepath.Join(filepath.Dir(sock), "approver.sock")
}

// ListenApprover listens on the approver socket of the broker listening
// on ln: beside it, in the directory Listen checked, under the lock it
// holds (so a socket file there is a dead broker's).
func ListenApprover(ln *Listener) (*net.UnixListener, error) {
	path := ApproverSocket(ln.Path)
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("cannot remove the stale approver socket %q: %w", path, err)
	}
	aln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %q: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		aln.Close()
		return nil, fmt.Errorf("cannot restrict %q: %w", path, err)
	}
	return aln, nil
}

// ServeApprover lets one `agentctl inbox` at a time attach on aln (peers
// of the broker's uid only). While one is attached, the broker listens on
// s.InboxSocket, the inbox socket its workers (and this user's one-shot
// agentctl processes) ask, and hands every connection there to the
// inbox, whole (SCM_RIGHTS), naming the client a worker's request is
// for: requester and inbox then speak the inbox protocol end to end, and
// the broker can neither read an answer's key nor forge one. It returns
// when ctx ends or aln fails.
func (s *Server) ServeApprover(ctx context.Context, aln *net.UnixListener) error {
	if s.InboxSocket == "" {
		return errors.New("the broker has no inbox socket to serve")
	}
	go func() {
		<-ctx.Done()
		aln.Close()
	}()
	var attached sync.Mutex
	for {
		c, err := aln.AcceptUnix()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		go func() {
			defer c.Close()
			pid, uid, err := peerCred(c)
			if err != nil {
				s.event(Event{What: "approver refused", PeerUID: -1, Err: fmt.Errorf("cannot read the peer's credentials: %w", err)})
				return
			}
			if uid != os.Geteuid() {
				e := &proto.Error{Code: proto.CodePeer, Message: fmt.Sprintf("uid %d may not answer for the broker of uid %d", uid, os.Geteuid())}
				s.event(Event{What: "approver refused", PeerUID: uid, PeerPID: pid, Err: e})
				proto.Write(c, proto.TError, e)
				return
			}
			c.SetReadDeadline(time.Now().Add(handshakeTimeout))
			var hello proto.Hello
			if err := proto.ReadAs(c, proto.THello, &hello); err != nil {
				s.event(Event{What: "approver refused", PeerUID: uid, PeerPID: pid, Err: err})
				return
			}
			c.SetReadDeadline(time.Time{})
			w, perr := proto.NegotiateApprover(&hello, proto.ApproverVersion, proto.ApproverVersion, s.Version)
			if perr != nil {
				proto.Write(c, proto.TError, perr)
				return
			}
			if !attached.TryLock() {
				proto.Write(c, proto.TError, &proto.Error{Code: proto.CodeBusy, Message: "an agentctl inbox is attached to the broker already",
					Hint: "answer in that inbox, or quit it first"})
				return
			}
			defer attached.Unlock()
			s.relay(ctx, c, w)
		}()
	}
}

// relay serves one attached inbox: it listens on the inbox socket until
// the inbox goes.
func (s *Server) relay(ctx context.Context, c *net.UnixConn, w *proto.Welcome) {
	if s.Web != nil {
		s.attach(ctx, c, w)
		return
	}
	iln, err := listenInbox(s.InboxSocket)
	if err != nil {
		proto.Write(c, proto.TError, &proto.Error{Code: proto.CodeRequest, Message: err.Error()})
		return
	}
	defer iln.Close()
	if err := proto.Write(c, proto.TWelcome, w); err != nil {
		return
	}
	gone := make(chan struct{})
	go func() {
		// The inbox sends nothing more: a read returns when it goes.
		var b [1]byte
		c.Read(b[:])
		close(gone)
	}()
	go func() {
		select {
		case <-gone:
		case <-ctx.Done():
		}
		iln.Close()
	}()
	for {
		r, err := iln.AcceptUnix()
		if err != nil {
			return
		}
		pid, uid, err := peerCred(r)
		if err != nil || uid != os.Geteuid() {
			r.Close()
			continue
		}
		h := proto.Handover{PID: pid}
		if client, ok := s.workers.Load(pid); ok {
			h.PID, h.Worker = client.(int), pid
		}
		err = handOver(c, &h, r)
		r.Close()
		if err != nil {
			return
		}
	}
}

// handOver sends h with the connection r attached.
func handOver(c *net.UnixConn, h *proto.Handover, r *net.UnixConn) error {
	frame, err := proto.Marshal(proto.THandover, h)
	if err != nil {
		return err
	}
	f, err := r.File()
	if err != nil {
		return err
	}
	defer f.Close()
	_, _, err = c.WriteMsgUnix(frame, syscall.UnixRights(int(f.Fd())), nil)
	return err
}

// listenInbox listens on the inbox socket path, in a private directory,
// unless an inbox answers there already (one not attached to a broker).
func listenInbox(path string) (*net.UnixListener, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create the inbox socket's directory %q: %w", dir, err)
	}
	if err := privateDir(dir); err != nil {
		return nil, err
	}
	if c, err := net.Dial("unix", path); err == nil {
		c.Close()
		return nil, fmt.Errorf("an agentctl inbox not attached to the broker listens on %q already", path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("cannot listen on the inbox socket %q: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

// Attached is an inbox's side of the approver socket: a net.Listener
// whose connections are the requesters the broker hands over, each a
// [*RelayedConn].
type Attached struct {
	c    *net.UnixConn
	r    *fdReader
	once sync.Once
}

// RelayedConn is a requester's connection the broker handed over.
type RelayedConn struct {
	*net.UnixConn
	// PID is the process the request is for (the broker's client), as
	// the broker says.
	PID int
}

// UnixConn is the connection itself, for its peer's credentials.
func (r *RelayedConn) Unix() *net.UnixConn { return r.UnixConn }

// RequesterPID is the process the request is for.
func (r *RelayedConn) RequesterPID() int { return r.PID }

// Attach connects to the broker's approver socket at path as the inbox.
// It refuses a socket whose listener is not of this uid.
func Attach(path string) (*Attached, error) {
	conn, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, err
	}
	if _, uid, err := peerCred(conn); err != nil {
		conn.Close()
		return nil, fmt.Errorf("cannot read the credentials of the approver socket %q: %w", path, err)
	} else if uid != os.Geteuid() {
		conn.Close()
		return nil, fmt.Errorf("the approver socket %q is served by uid %d, not by this user's broker", path, uid)
	}
	if err := proto.Write(conn, proto.THello, &proto.Hello{Magic: proto.ApproverMagic, Min: proto.ApproverVersion, Max: proto.ApproverVersion}); err != nil {
		conn.Close()
		return nil, err
	}
	var w proto.Welcome
	if err := proto.ReadAs(conn, proto.TWelcome, &w); err != nil {
		conn.Close()
		return nil, err
	}
	return &Attached{c: conn, r: &fdReader{c: conn}}, nil
}

var _ net.Listener = (*Attached)(nil)

// Accept returns the next requester's connection.
func (a *Attached) Accept() (net.Conn, error) {
	var h proto.Handover
	if err := proto.ReadAs(a.r, proto.THandover, &h); err != nil {
		a.r.closeFDs()
		return nil, fmt.Errorf("the broker: %w", err)
	}
	fds := a.r.takeFDs()
	if len(fds) != 1 {
		closeAll(fds)
		return nil, fmt.Errorf("the broker handed over %d descriptors, want 1", len(fds))
	}
	f := os.NewFile(uintptr(fds[0]), "requester")
	defer f.Close()
	c, err := net.FileConn(f)
	if err != nil {
		return nil, err
	}
	uc, ok := c.(*net.UnixConn)
	if !ok {
		c.Close()
		return nil, errors.New("the broker handed over something other than a unix socket")
	}
	return &RelayedConn{UnixConn: uc, PID: h.PID}, nil
}

// Close detaches from the broker: it stops handing over requests.
func (a *Attached) Close() error {
	var err error
	a.once.Do(func() { err = a.c.Close() })
	return err
}

// Addr is the approver socket's address.
func (a *Attached) Addr() net.Addr { return a.c.RemoteAddr() }
