//go:build linux

package sandbox

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// Inside the network namespace only loopback exists. For each loopback
// destination the child listens on the same address and port and forwards
// every connection through the broker, so a kubeconfig pointing at
// https://127.0.0.1:6443 works unchanged. Other destinations go through a
// CONNECT proxy on 127.0.0.1 that the child advertises in HTTPS_PROXY.

// forwarder owns the in-namespace listeners.
type forwarder struct {
	d         *dialer
	ports     []uint16 // bound ports, for the Landlock TCP rules
	proxyAddr string   // "127.0.0.1:port" when the proxy runs
}

func listenAddrs(d Destination) []string {
	port := strconv.Itoa(int(d.Port))
	if d.Host == "localhost" {
		return []string{net.JoinHostPort("127.0.0.1", port), net.JoinHostPort("::1", port)}
	}
	return []string{d.Addr()}
}

// start listens for every loopback destination and, when needed, the proxy.
func (fw *forwarder) start(dests []Destination, proxy bool) error {
	for _, d := range dests {
		if !d.Loopback {
			continue
		}
		for i, a := range listenAddrs(d) {
			ln, err := net.Listen("tcp", a)
			if err != nil {
				if i > 0 { // ::1 for localhost is optional (IPv6 may be off)
					continue
				}
				return fmt.Errorf("sandbox: listen on %s inside the namespace: %w", a, err)
			}
			fw.ports = append(fw.ports, d.Port)
			go fw.serveFixed(ln, d.Addr())
		}
	}
	if proxy {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("sandbox: egress proxy: %w", err)
		}
		fw.proxyAddr = ln.Addr().String()
		fw.ports = append(fw.ports, uint16(ln.Addr().(*net.TCPAddr).Port))
		go fw.serveProxy(ln)
	}
	return nil
}

func (fw *forwarder) serveFixed(ln net.Listener, dest string) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			up, err := fw.d.dial(dest)
			if err != nil {
				c.Close()
				return
			}
			pipe(c, up, nil)
		}()
	}
}

func (fw *forwarder) serveProxy(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go fw.proxyConn(c)
	}
}

// proxyConn serves one CONNECT request; anything else is refused.
func (fw *forwarder) proxyConn(c net.Conn) {
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil {
		c.Close()
		return
	}
	if req.Method != http.MethodConnect {
		io.WriteString(c, "HTTP/1.1 405 Method Not Allowed\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
		c.Close()
		return
	}
	up, err := fw.d.dial(req.Host)
	if err != nil {
		msg := err.Error()
		fmt.Fprintf(c, "HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s", len(msg), msg)
		c.Close()
		return
	}
	io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
	pipe(c, up, br)
}

// pipe copies both ways until both directions are done.
func pipe(c, up net.Conn, buffered io.Reader) {
	var wg sync.WaitGroup
	wg.Add(2)
	src := io.Reader(c)
	if buffered != nil {
		src = buffered
	}
	go func() {
		defer wg.Done()
		io.Copy(up, src)
		closeWrite(up)
	}()
	go func() {
		defer wg.Done()
		io.Copy(c, up)
		closeWrite(c)
	}()
	wg.Wait()
	c.Close()
	up.Close()
}

func closeWrite(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.CloseWrite()
	}
}

// loopbackUp brings up lo in the new network namespace.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("sandbox: bring up lo: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("sandbox: bring up lo: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP | unix.IFF_RUNNING)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("sandbox: bring up lo: %w", err)
	}
	return nil
}
