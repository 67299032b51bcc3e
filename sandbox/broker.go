package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// The egress broker runs in agentctl, outside the network namespace. The
// child asks it over a SOCK_SEQPACKET socketpair to dial "host:port"; the
// broker checks the allowlist, dials (resolving names outside), and passes
// the connected socket back with SCM_RIGHTS. Bytes then flow between the
// sandboxed command and that socket without going through agentctl.
//
// Messages: child → broker "<id> <host:port>"; broker → child "<id> ok"
// with one fd, or "<id> err <reason>".

const dialTimeout = 30 * time.Second

// broker serves dial requests from one child.
type broker struct {
	conn  *net.UnixConn
	allow map[string]bool // Destination.Addr()

	mu      sync.Mutex
	refused []string // destinations asked for and not allowed, in order, once each
}

// refusals returns the destinations the broker refused because they were
// not allowed (not those whose dial failed).
func (b *broker) refusals() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.refused...)
}

func (b *broker) refuse(addr string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, r := range b.refused {
		if r == addr {
			return
		}
	}
	if len(b.refused) < 16 {
		b.refused = append(b.refused, addr)
	}
}

func newBroker(f *os.File, dests []Destination) (*broker, error) {
	c, err := net.FileConn(f)
	if err != nil {
		return nil, fmt.Errorf("sandbox broker: %w", err)
	}
	b := &broker{conn: c.(*net.UnixConn), allow: map[string]bool{}}
	for _, d := range dests {
		b.allow[d.Addr()] = true
	}
	return b, nil
}

// serve answers requests until the child closes its end or ctx ends.
func (b *broker) serve(ctx context.Context) {
	stop := context.AfterFunc(ctx, func() { b.conn.Close() })
	defer stop()
	defer b.conn.Close()
	var wg sync.WaitGroup
	defer wg.Wait()
	buf := make([]byte, 1024)
	for {
		n, _, _, _, err := b.conn.ReadMsgUnix(buf, nil)
		if err != nil || n == 0 {
			return
		}
		id, addr, ok := strings.Cut(string(buf[:n]), " ")
		if !ok {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.answer(ctx, id, addr)
		}()
	}
}

func (b *broker) answer(ctx context.Context, id, addr string) {
	d, err := ParseDestination(addr)
	if err == nil && !b.allow[d.Addr()] {
		err = fmt.Errorf("destination %q not allowed", addr)
		b.refuse(d.Addr())
	}
	var f *os.File
	if err == nil {
		var c net.Conn
		dctx, cancel := context.WithTimeout(ctx, dialTimeout)
		c, err = (&net.Dialer{}).DialContext(dctx, "tcp", d.Addr())
		cancel()
		if err == nil {
			f, err = c.(*net.TCPConn).File()
			c.Close()
		}
	}
	if err != nil {
		b.conn.WriteMsgUnix([]byte(id+" err "+err.Error()), nil, nil)
		return
	}
	defer f.Close()
	b.conn.WriteMsgUnix([]byte(id+" ok"), unix.UnixRights(int(f.Fd())), nil)
}

// dialer is the child's end of the broker.
type dialer struct {
	conn    *net.UnixConn
	mu      sync.Mutex
	next    int
	pending map[string]chan dialResult
}

type dialResult struct {
	fd  int
	err error
}

func newDialer(f *os.File) (*dialer, error) {
	c, err := net.FileConn(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("sandbox dialer: %w", err)
	}
	d := &dialer{conn: c.(*net.UnixConn), pending: map[string]chan dialResult{}}
	go d.read()
	return d, nil
}

func (d *dialer) read() {
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4))
	for {
		n, oobn, _, _, err := d.conn.ReadMsgUnix(buf, oob)
		if err != nil {
			d.failAll(err)
			return
		}
		fd := -1
		if msgs, err := unix.ParseSocketControlMessage(oob[:oobn]); err == nil && len(msgs) > 0 {
			if fds, err := unix.ParseUnixRights(&msgs[0]); err == nil && len(fds) > 0 {
				fd = fds[0]
			}
		}
		id, rest, _ := strings.Cut(string(buf[:n]), " ")
		res := dialResult{fd: fd}
		if rest != "ok" || fd < 0 {
			res.err = errors.New(strings.TrimPrefix(rest, "err "))
			if fd >= 0 {
				unix.Close(fd)
			}
		}
		d.mu.Lock()
		ch := d.pending[id]
		delete(d.pending, id)
		d.mu.Unlock()
		if ch != nil {
			ch <- res
		} else if res.err == nil {
			unix.Close(fd)
		}
	}
}

func (d *dialer) failAll(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for id, ch := range d.pending {
		ch <- dialResult{err: fmt.Errorf("egress broker gone: %w", err)}
		delete(d.pending, id)
	}
}

// dial asks the broker for a connection to addr.
func (d *dialer) dial(addr string) (net.Conn, error) {
	ch := make(chan dialResult, 1)
	d.mu.Lock()
	d.next++
	id := strconv.Itoa(d.next)
	d.pending[id] = ch
	d.mu.Unlock()
	if _, _, err := d.conn.WriteMsgUnix([]byte(id+" "+addr), nil, nil); err != nil {
		d.mu.Lock()
		delete(d.pending, id)
		d.mu.Unlock()
		return nil, fmt.Errorf("egress broker: %w", err)
	}
	res := <-ch
	if res.err != nil {
		return nil, fmt.Errorf("egress to %q refused: %w", addr, res.err)
	}
	f := os.NewFile(uintptr(res.fd), "egress")
	defer f.Close()
	return net.FileConn(f)
}
