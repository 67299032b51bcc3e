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

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/termsafe"
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
	notices  chan string
	now      func() time.Time
	classify func(ctx context.Context, x *Exec) (classify.Class, []string, error)
}

// ServerOptions configure [Listen].
type ServerOptions struct {
	// Approver names who answers (the OS user), recorded in each answer.
	Approver string
	// AnswerTTL is how long a signed answer stays valid (0: 1 minute).
	AnswerTTL time.Duration
	// Now returns the time; nil means time.Now.
	Now func() time.Time
	// Classify, when set, classifies a request's invocation on the
	// inbox's side (for kubectl: its argv and manifest bytes, offline),
	// once its content has matched its hash. A class above the one the
	// requester gave replaces it, with the reasons returned; the class
	// decides whether the target's name must be typed. An error counts
	// as class unknown.
	Classify func(ctx context.Context, x *Exec) (classify.Class, []string, error)
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
	s := Serve(ln, key, o)
	s.sock = p.Socket
	return s, nil
}

// Serve is an inbox on ln, a listener of its own: a broker's approver
// socket, which hands over the connections of requesters (see
// [Relayed]). Close closes ln.
func Serve(ln net.Listener, key ed25519.PrivateKey, o ServerOptions) *InboxServer {
	s := &InboxServer{key: key, approver: o.Approver, ttl: o.AnswerTTL, ln: ln,
		pending: make(chan *Pending), notices: make(chan string, 16), now: o.Now, classify: o.Classify}
	if s.ttl == 0 {
		s.ttl = time.Minute
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// Relayed is a requester's connection that a broker accepted and handed
// over: its peer is the requester (its uid is checked as any's), and the
// broker names the process the request is for (its client's, where the
// requester is the broker's worker), which the inbox shows.
type Relayed interface {
	Unix() *net.UnixConn
	RequesterPID() int
}

// Requests delivers each request as it arrives.
func (s *InboxServer) Requests() <-chan *Pending { return s.pending }

// Notices delivers one line about each request the inbox refused without
// showing it (its content did not match its hash). Lines are dropped
// while nobody reads them.
func (s *InboxServer) Notices() <-chan string { return s.notices }

func (s *InboxServer) notice(format string, args ...any) {
	select {
	case s.notices <- fmt.Sprintf(format, args...):
	default:
	}
}

// Close stops listening and removes the socket.
func (s *InboxServer) Close() error {
	err := s.ln.Close()
	if s.sock != "" {
		os.Remove(s.sock)
	}
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
			// A broker the inbox is attached to went away: say so
			// where the human looks.
			s.notice("the inbox takes no more requests: %v", err)
			return err
		}
		switch c := c.(type) {
		case *net.UnixConn:
			go s.handle(ctx, c, 0)
		case Relayed:
			go s.handle(ctx, c.Unix(), c.RequesterPID())
		default:
			c.Close()
		}
	}
}

// handle is one requester on c; for, when not 0, is the process a
// broker says the request is for.
func (s *InboxServer) handle(ctx context.Context, c *net.UnixConn, forPID int) {
	pid, uid, err := peerCred(c)
	if err != nil || uid != os.Getuid() {
		c.Close()
		return
	}
	if forPID > 0 {
		pid = forPID
	}
	r := bufio.NewReader(c)
	m, err := readMessage(r)
	if err != nil || m.Type != "request" || m.Request == nil || m.Request.Screen == nil || m.Nonce == "" || !validHash(m.Request.Screen.Hash) {
		c.Close() // probes (InboxRunning) and garbage alike
		return
	}
	scr := m.Request.Screen
	if sum := m.Request.Sum(); sum != scr.Hash {
		// What would be shown is not what the hash (the one the
		// requester checks the answer against) covers: a relay between
		// agentctl and the inbox, or a forgery. Show nothing; deny.
		s.notice("refused request %.12s from pid %d: what it shows does not match its hash (a program between agentctl and the inbox changed it); denied", scr.Hash, pid)
		defer c.Close()
		a := s.sign(scr.Hash, m.Nonce, Verdict{Reason: "the inbox refused the request: what it shows does not match its hash"})
		c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		writeMessage(c, &message{Type: "answer", Answer: a})
		return
	}
	scr.PID = pid // what the kernel (or the user's own broker) says, not what was claimed
	scr.Clean()   // whoever sent it, nothing in it reaches the terminal raw
	s.reclassify(ctx, scr, &m.Request.Exec)
	p := &Pending{Screen: scr, Exec: m.Request.Exec, Received: s.now(), srv: s, conn: c, nonce: m.Nonce, gone: make(chan struct{})}
	go func() {
		// The requester sends nothing more: a read returns when it goes.
		// A broker that showed the request elsewhere too (its web page)
		// says first where it was answered (see [Pending.Elsewhere]).
		if m, err := readMessage(r); err == nil && m.Type == "answered" {
			p.elsewhere = termsafe.Line(m.Note)
			if p.elsewhere == "" {
				p.elsewhere = "elsewhere"
			}
		}
		close(p.gone)
	}()
	select {
	case s.pending <- p:
	case <-p.gone:
	case <-ctx.Done():
		c.Close()
	}
}

// reclassify raises scr's class to the inbox's own classification of x,
// and demands the typed confirmation for the class that needs it.
func (s *InboxServer) reclassify(ctx context.Context, scr *Screen, x *Exec) {
	if s.classify != nil {
		c, reasons, err := s.classify(ctx, x)
		if err != nil {
			c, reasons = classify.Unknown, []string{"the inbox cannot classify the request itself: " + err.Error()}
		}
		if c > scr.Class {
			scr.Class = c
			for _, r := range reasons {
				scr.Reasons = append(scr.Reasons, termsafe.Line("inbox: "+r))
			}
		}
	}
	scr.Confirm = scr.Confirm || NeedsConfirm(scr.Class)
}

func validHash(h string) bool {
	b, err := hex.DecodeString(h)
	return err == nil && len(b) == 32
}

// Pending is one request waiting in the inbox.
type Pending struct {
	// Screen is what the request shows, checked against its hash, with
	// the class raised to the inbox's own classification.
	Screen *Screen
	// Exec is what runs if it is approved, checked against its hash.
	Exec     Exec
	Received time.Time

	srv   *InboxServer
	conn  net.Conn
	nonce string
	gone  chan struct{}
	once  sync.Once
	// elsewhere is set before gone is closed.
	elsewhere string
}

// Gone is closed when the requester stops waiting (timed out, killed),
// or the request was answered elsewhere.
func (p *Pending) Gone() <-chan struct{} { return p.gone }

// Elsewhere, once Gone is closed, says where the request was answered
// instead ("approved in the web page"), "" when its requester simply
// stopped waiting.
func (p *Pending) Elsewhere() string {
	select {
	case <-p.gone:
		return p.elsewhere
	default:
		return ""
	}
}

// Answer signs v for this request and sends it to the requester.
func (p *Pending) Answer(v Verdict) error {
	err := errors.New("request already answered")
	p.once.Do(func() {
		defer p.conn.Close()
		a := p.srv.sign(p.Screen.Hash, p.nonce, v)
		p.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
		err = writeMessage(p.conn, &message{Type: "answer", Answer: a})
	})
	return err
}

// sign signs v for the request with hash and nonce.
func (s *InboxServer) sign(hash, nonce string, v Verdict) *SignedAnswer {
	approver := s.approver
	if v.Approver != "" {
		approver = v.Approver
	}
	a := &SignedAnswer{
		Hash: hash, Nonce: nonce, Approved: v.Approved, Reason: v.Reason,
		Approver: approver, KeyID: KeyID(s.key.Public().(ed25519.PublicKey)),
		Expires: s.now().Add(s.ttl).UnixNano(),
	}
	a.Sign(s.key)
	return a
}
