package approve

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// InboxServer is the listening side of `agentctl inbox`: it accepts
// requests from agentctl processes of this user and signs the answers a
// human gives.
type InboxServer struct {
	key      ed25519.PrivateKey
	approver string
	ttl      time.Duration
	ln       net.Listener
	sock     string
	pending  chan *Pending
	now      func() time.Time
}

// ServerOptions configure [Listen].
type ServerOptions struct {
	// Approver names who answers (the OS user), recorded in each answer.
	Approver string
	// AnswerTTL is how long a signed answer stays valid (0: 1 minute).
	AnswerTTL time.Duration
	// Now returns the time; nil means time.Now.
	Now func() time.Time
}

// Listen opens the inbox socket at p.Socket in a private (0700) directory.
// It refuses to start when another inbox answers on it and removes a
// stale socket left by one that died.
func Listen(p Paths, key ed25519.PrivateKey, o ServerOptions) (*InboxServer, error) {
	if err := privateDir(filepath.Dir(p.Socket)); err != nil {
		return nil, fmt.Errorf("inbox socket directory: %w", err)
	}
	if InboxRunning(p) {
		return nil, fmt.Errorf("an agentctl inbox is already running on %q", p.Socket)
	}
	if err := os.Remove(p.Socket); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	ln, err := net.Listen("unix", p.Socket)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(p.Socket, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	s := &InboxServer{key: key, approver: o.Approver, ttl: o.AnswerTTL, ln: ln, sock: p.Socket,
		pending: make(chan *Pending), now: o.Now}
	if s.ttl == 0 {
		s.ttl = time.Minute
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// Requests delivers each request as it arrives.
func (s *InboxServer) Requests() <-chan *Pending { return s.pending }

// Close stops listening and removes the socket.
func (s *InboxServer) Close() error {
	err := s.ln.Close()
	os.Remove(s.sock)
	return err
}

// Serve accepts connections until ctx ends or the server is closed.
func (s *InboxServer) Serve(ctx context.Context) error {
	go func() {
		<-ctx.Done()
		s.ln.Close()
	}()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		go s.handle(ctx, c.(*net.UnixConn))
	}
}

func (s *InboxServer) handle(ctx context.Context, c *net.UnixConn) {
	pid, uid, err := peerCred(c)
	if err != nil || uid != os.Getuid() {
		c.Close()
		return
	}
	r := bufio.NewReader(c)
	m, err := readMessage(r)
	if err != nil || m.Type != "request" || m.Screen == nil || m.Nonce == "" || !validHash(m.Screen.Hash) {
		c.Close() // probes (InboxRunning) and garbage alike
		return
	}
	m.Screen.PID = pid // what the kernel says, not what was claimed
	m.Screen.Clean()   // whoever sent it, nothing in it reaches the terminal raw
	p := &Pending{Screen: m.Screen, Received: s.now(), srv: s, conn: c, nonce: m.Nonce, gone: make(chan struct{})}
	go func() {
		// The requester sends nothing more: a read returns when it goes.
		r.ReadByte()
		close(p.gone)
	}()
	select {
	case s.pending <- p:
	case <-p.gone:
	case <-ctx.Done():
		c.Close()
	}
}

func validHash(h string) bool {
	b, err := hex.DecodeString(h)
	return err == nil && len(b) == 32
}

// Pending is one request waiting in the inbox.
type Pending struct {
	Screen   *Screen
	Received time.Time

	srv   *InboxServer
	conn  net.Conn
	nonce string
	gone  chan struct{}
	once  sync.Once
}

// Gone is closed when the requester stops waiting (timed out, killed).
func (p *Pending) Gone() <-chan struct{} { return p.gone }

// Answer signs v for this request and sends it to the requester.
func (p *Pending) Answer(v Verdict) error {
	err := errors.New("request already answered")
	p.once.Do(func() {
		defer p.conn.Close()
		a := &SignedAnswer{
			Hash: p.Screen.Hash, Nonce: p.nonce, Approved: v.Approved, Reason: v.Reason,
			Approver: p.srv.approver, KeyID: KeyID(p.srv.key.Public().(ed25519.PublicKey)),
			Expires: p.srv.now().Add(p.srv.ttl).UnixNano(),
		}
		a.Sign(p.srv.key)
		p.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
		err = writeMessage(p.conn, &message{Type: "answer", Answer: a})
	})
	return err
}
