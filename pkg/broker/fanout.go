package broker

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/agentctl/agentctl/pkg/approve"
	"github.com/agentctl/agentctl/pkg/broker/proto"
)

// maxInboxLine bounds one inbox protocol message (approve's own bound).
const maxInboxLine = 160 << 20

// Conns is a net.Listener whose connections the broker hands over: the
// requesters it shows to an approver inside the broker (see
// [Server.Web]). Each is a [*RelayedConn].
type Conns struct {
	c    chan net.Conn
	done chan struct{}
	once sync.Once
}

// NewConns returns an open [Conns].
func NewConns() *Conns { return &Conns{c: make(chan net.Conn), done: make(chan struct{})} }

var _ net.Listener = (*Conns)(nil)

// Accept returns the next connection.
func (l *Conns) Accept() (net.Conn, error) {
	select {
	case c := <-l.c:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close stops handing over connections.
func (l *Conns) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

// Addr implements net.Listener.
func (l *Conns) Addr() net.Addr { return &net.UnixAddr{Name: "web", Net: "unix"} }

func (l *Conns) deliver(c net.Conn) bool {
	select {
	case l.c <- c:
		return true
	case <-l.done:
		return false
	}
}

// ServeInbox listens on InboxSocket until ctx ends, for Web: it shows
// every request there, and in the inbox attached (if one is), and sends
// the requester the first answer.
func (s *Server) ServeInbox(ctx context.Context) error {
	if s.Web == nil || s.InboxSocket == "" {
		return errors.New("the broker has no web approver or no inbox socket")
	}
	iln, err := listenInbox(s.InboxSocket)
	if err != nil {
		return err
	}
	go func() {
		<-ctx.Done()
		iln.Close()
	}()
	for {
		r, err := iln.AcceptUnix()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		go s.fanOut(ctx, r)
	}
}

// attach holds c as the attached inbox until it goes.
func (s *Server) attach(ctx context.Context, c *net.UnixConn, w *proto.Welcome) {
	if err := proto.Write(c, proto.TWelcome, w); err != nil {
		return
	}
	s.attachMu.Lock()
	s.attached = c
	s.attachMu.Unlock()
	gone := make(chan struct{})
	go func() {
		var b [1]byte
		c.Read(b[:])
		close(gone)
	}()
	select {
	case <-gone:
	case <-ctx.Done():
	}
	s.attachMu.Lock()
	s.attached = nil
	s.attachMu.Unlock()
}

// sink is one approver a request is shown to.
type sink struct {
	where string // "the web page", "agentctl inbox"
	c     *net.UnixConn
}

type answerLine struct {
	s    *sink
	line []byte
	err  error
}

// fanOut shows the request on r to every approver and sends r the first
// answer. The broker reads the request (to copy it) but signs nothing:
// each approver signs its own answer, and the requester verifies it.
func (s *Server) fanOut(ctx context.Context, r *net.UnixConn) {
	defer r.Close()
	pid, uid, err := peerCred(r)
	if err != nil || uid != os.Geteuid() {
		return
	}
	h := proto.Handover{PID: pid}
	if client, ok := s.workers.Load(pid); ok {
		h.PID, h.Worker = client.(int), pid
	}
	br := bufio.NewReaderSize(r, 64<<10)
	r.SetReadDeadline(time.Now().Add(handshakeTimeout))
	line, err := readLine(br)
	if err != nil {
		return // a probe (approve.InboxRunning) or garbage
	}
	r.SetReadDeadline(time.Time{})

	var sinks []*sink
	if mine, theirs, err := socketPair(); err == nil {
		if s.Web.deliver(&RelayedConn{UnixConn: theirs, PID: h.PID}) {
			sinks = append(sinks, &sink{"the web page", mine})
		} else {
			mine.Close()
			theirs.Close()
		}
	}
	s.attachMu.Lock()
	if s.attached != nil {
		if mine, theirs, err := socketPair(); err == nil {
			err := handOver(s.attached, &h, theirs)
			theirs.Close()
			if err == nil {
				sinks = append(sinks, &sink{"agentctl inbox", mine})
			} else {
				mine.Close()
			}
		}
	}
	s.attachMu.Unlock()
	defer func() {
		for _, k := range sinks {
			k.c.Close()
		}
	}()

	answers := make(chan answerLine, len(sinks))
	for _, k := range sinks {
		go func() {
			if _, err := k.c.Write(line); err != nil {
				answers <- answerLine{s: k, err: err}
				return
			}
			l, err := readLine(bufio.NewReader(k.c))
			answers <- answerLine{s: k, line: l, err: err}
		}()
	}
	gone := make(chan struct{})
	go func() {
		// The requester sends nothing more: a read returns when it goes.
		br.ReadByte()
		close(gone)
	}()
	for left := len(sinks); left > 0; {
		select {
		case a := <-answers:
			left--
			if a.err != nil {
				continue
			}
			r.SetWriteDeadline(time.Now().Add(5 * time.Second))
			r.Write(a.line)
			note := verdictWord(a.line) + " in " + a.s.where
			for _, k := range sinks {
				if k != a.s {
					k.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
					k.c.Write(approve.AnsweredLine(note))
				}
			}
			return
		case <-gone:
			return
		case <-ctx.Done():
			return
		}
	}
	// Every approver went without an answer: closing r is a denial.
}

// verdictWord is "approved" or "denied", as the answer line says.
func verdictWord(line []byte) string {
	var m struct {
		Answer struct {
			Approved bool `json:"approved"`
		} `json:"answer"`
	}
	if json.Unmarshal(line, &m) == nil && m.Answer.Approved {
		return "approved"
	}
	return "denied"
}

// readLine reads one newline-terminated message, newline included.
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		if err == nil {
			return line, nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return nil, err
		}
		if len(line) > maxInboxLine {
			return nil, errors.New("inbox message too long")
		}
	}
}

// socketPair is a connected pair of Unix stream sockets.
func socketPair() (*net.UnixConn, *net.UnixConn, error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		return nil, nil, err
	}
	conn := func(fd int) (*net.UnixConn, error) {
		syscall.CloseOnExec(fd)
		f := os.NewFile(uintptr(fd), "socketpair")
		defer f.Close()
		c, err := net.FileConn(f)
		if err != nil {
			return nil, err
		}
		return c.(*net.UnixConn), nil
	}
	a, err := conn(fds[0])
	if err != nil {
		syscall.Close(fds[1])
		return nil, nil, err
	}
	b, err := conn(fds[1])
	if err != nil {
		a.Close()
		return nil, nil, err
	}
	return a, b, nil
}
