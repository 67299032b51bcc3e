package broker

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"
)

// The broker's socket speaks two protocols: its own (package proto),
// whose every conversation starts with a frame length, a big-endian u32
// no larger than 1 MiB and so a first byte of 0, and HTTP (the MCP
// tools over streamable HTTP, Server.HTTP), whose requests start with a
// method name, in capitals. The first byte, peeked and left in the
// socket, says which: a capital letter is HTTP, anything else the
// broker's protocol, whose reader refuses (and audits) what is not a
// frame, a huge length included.

// PeerKey is the context key under which Server.HTTP's requests carry
// their [Peer].
type peerKey struct{}

// Peer is the process at the other end of an HTTP connection, as
// SO_PEERCRED saw it when it connected: the broker's own uid, always.
type Peer struct {
	PID, UID int
}

// PeerOf returns the peer of an HTTP request that Server.HTTP serves.
func PeerOf(ctx context.Context) (Peer, bool) {
	p, ok := ctx.Value(peerKey{}).(Peer)
	return p, ok
}

// peekByte returns the first byte c will read, without reading it, or
// waits until deadline.
func peekByte(c *net.UnixConn, deadline time.Time) (byte, error) {
	c.SetReadDeadline(deadline)
	defer c.SetReadDeadline(time.Time{})
	raw, err := c.SyscallConn()
	if err != nil {
		return 0, err
	}
	var b [1]byte
	var n int
	var rerr error
	if err := raw.Read(func(fd uintptr) bool {
		n, _, rerr = syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK)
		return rerr != syscall.EAGAIN
	}); err != nil {
		return 0, err
	}
	if rerr != nil {
		return 0, rerr
	}
	if n == 0 {
		return 0, errors.New("connection closed before its first byte")
	}
	return b[0], nil
}

// peerConn is an HTTP connection and its peer.
type peerConn struct {
	net.Conn
	peer Peer
}

// connListener hands the connections the broker accepted and found to
// speak HTTP to an http.Server.
type connListener struct {
	conns chan net.Conn
	addr  net.Addr
	once  sync.Once
	done  chan struct{}
}

func newConnListener(addr net.Addr) *connListener {
	return &connListener{conns: make(chan net.Conn), addr: addr, done: make(chan struct{})}
}

func (l *connListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *connListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *connListener) Addr() net.Addr { return l.addr }

// serve gives c to the HTTP server, or closes it when the server is gone.
func (l *connListener) serve(c net.Conn) {
	select {
	case l.conns <- c:
	case <-l.done:
		c.Close()
	}
}

// startHTTP starts the HTTP server of s.HTTP on a connListener, which
// handle feeds; stop shuts it down, closing its connections.
func (s *Server) startHTTP(addr net.Addr) (stop func()) {
	s.httpLn = newConnListener(addr)
	hs := &http.Server{
		Handler:           s.HTTP,
		ReadHeaderTimeout: handshakeTimeout,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if pc, ok := c.(*peerConn); ok {
				return context.WithValue(ctx, peerKey{}, pc.peer)
			}
			return ctx
		},
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		hs.Serve(s.httpLn)
	}()
	return func() {
		s.httpLn.Close()
		// Streams held open (an MCP client's GET) end now: the
		// broker is stopping.
		hs.Close()
		<-done
	}
}
