package cli

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os/user"
	"path/filepath"
	"strconv"
	"time"

	"github.com/agentctl/agentctl/pkg/approve"
	"github.com/agentctl/agentctl/pkg/broker"
	"github.com/agentctl/agentctl/pkg/webapprove"
)

// webOptions are serve's --web flags.
type webOptions struct {
	Addr, Cert, Key, URL string
}

func (o *webOptions) args() []string {
	var a []string
	for _, kv := range [][2]string{{"--web", o.Addr}, {"--web-cert", o.Cert}, {"--web-key", o.Key}, {"--web-url", o.URL}} {
		if kv[1] != "" {
			a = append(a, kv[0], kv[1])
		}
	}
	return a
}

// validate checks the flags alone.
func (o *webOptions) validate() error {
	if o.Addr == "" {
		if o.Cert != "" || o.Key != "" || o.URL != "" {
			return &UsageError{Err: errors.New("--web-cert, --web-key and --web-url need --web ADDR")}
		}
		return nil
	}
	if (o.Cert == "") != (o.Key == "") {
		return &UsageError{Err: errors.New("--web-cert and --web-key go together")}
	}
	if _, _, err := webListenAddr(o.Addr); err != nil {
		return &UsageError{Err: err}
	}
	return nil
}

// webListenAddr is where --web listens: HOST:PORT, or PORT alone for
// the loopback address; it says whether that is loopback.
func webListenAddr(addr string) (string, bool, error) {
	if _, err := strconv.Atoi(addr); err == nil {
		addr = "127.0.0.1:" + addr
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", false, fmt.Errorf("--web %q is not HOST:PORT or PORT: %v", addr, err)
	}
	if _, err := strconv.Atoi(port); err != nil {
		return "", false, fmt.Errorf("--web %q: port %q is not a number", addr, port)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	loop := host == "localhost"
	if ip := net.ParseIP(host); ip != nil {
		loop = ip.IsLoopback()
	}
	return net.JoinHostPort(host, port), loop, nil
}

// startWeb starts the web approval page for srv: it listens on --web,
// signs answers with the inbox key, and has srv show it every request.
func startWeb(ctx context.Context, f *Factory, o *webOptions, srv *broker.Server, pin approve.Paths, notify string) error {
	addr, loop, err := webListenAddr(o.Addr)
	if err != nil {
		return &UsageError{Err: err}
	}
	paths, err := approve.PinnedPaths(f.Getenv, pin)
	if err != nil {
		return &ConfigError{Err: err}
	}
	key, err := approve.LoadOrCreateKey(paths)
	if err != nil {
		return &ConfigError{Err: err}
	}
	if pub := key.Public().(ed25519.PublicKey); pin.Trusted != nil && !pin.Trusted.Equal(pub) {
		return &ConfigError{Err: &hintError{
			msg:  fmt.Sprintf("the inbox key %q (key id %s) is not the one approval.inboxPublicKey trusts (key id %s): agentctl would refuse every answer of the web page", paths.Key, approve.KeyID(pub), approve.KeyID(pin.Trusted)),
			hint: fmt.Sprintf("root sets approval.inboxPublicKey in /etc/agentctl/config.yaml to the public key at %q", paths.Pub),
		}}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--web %q: %w", o.Addr, err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	host, _, _ := net.SplitHostPort(addr)
	origin := o.URL
	useTLS := !loop || o.Cert != ""
	if origin == "" {
		switch {
		case loop && !useTLS:
			origin = fmt.Sprintf("http://localhost:%d", port)
		case loop:
			origin = fmt.Sprintf("https://localhost:%d", port)
		case net.ParseIP(host) != nil:
			ln.Close()
			return &UsageError{Err: &hintError{
				msg:  fmt.Sprintf("--web %q listens on an IP address, and passkeys need a host name", o.Addr),
				hint: fmt.Sprintf("name the address the browser opens with --web-url https://NAME:%d", port),
			}}
		default:
			origin = fmt.Sprintf("https://%s", net.JoinHostPort(host, strconv.Itoa(port)))
		}
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		ln.Close()
		return &UsageError{Err: fmt.Errorf("--web-url %q is not an http(s)://HOST[:PORT] origin", origin)}
	}
	if useTLS != (u.Scheme == "https") {
		ln.Close()
		if !loop {
			return &UsageError{Err: &hintError{msg: fmt.Sprintf("--web-url %q: a page on a non-loopback address is served over TLS only", origin), hint: "use an https:// URL"}}
		}
		return &UsageError{Err: fmt.Errorf("--web-url %q: the page is served over %s", origin, map[bool]string{true: "TLS (https://)", false: "http://"}[useTLS])}
	}
	name := ""
	if cu, err := user.Current(); err == nil {
		name = cu.Username
	}
	logf := func(format string, args ...any) { fmt.Fprintf(f.IO.ErrOut, "agentctl: web: "+format+"\n", args...) }
	conns := broker.NewConns()
	inbox := approve.Serve(conns, key, approve.ServerOptions{Approver: name, Classify: inboxClassifier()})
	store := &webapprove.Store{Dir: filepath.Dir(paths.Key)}
	web, err := webapprove.New(webapprove.Options{Origin: origin, Store: store, User: name, Requests: inbox.Requests(),
		Notify: webapprove.Notifier(notify, logf)})
	if err != nil {
		ln.Close()
		return &UsageError{Err: err}
	}
	hs := &http.Server{Handler: web.Handler(), ReadHeaderTimeout: 10 * time.Second}
	fingerprint := ""
	if useTLS {
		cert, err := webCertificate(o, u.Hostname())
		if err != nil {
			ln.Close()
			return &ConfigError{Err: err}
		}
		sum := sha256.Sum256(cert.Certificate[0])
		fingerprint = hex.EncodeToString(sum[:])
		hs.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		ln = tls.NewListener(ln, hs.TLSConfig)
	}
	srv.Web = conns
	go inbox.Serve(ctx)
	go func() {
		for n := range inbox.Notices() {
			logf("%s", n)
		}
	}()
	go web.Run(ctx)
	go hs.Serve(ln)
	go func() {
		<-ctx.Done()
		hs.Close()
		conns.Close()
	}()
	go func() {
		if err := srv.ServeInbox(ctx); err != nil {
			logf("the broker cannot listen on the inbox socket: %v", err)
		}
	}()
	logf("approval page at %s/ (%d passkey(s) enrolled; enroll one with `agentctl approvers enroll`)", origin, store.Count())
	if fingerprint != "" {
		logf("TLS certificate sha256 %s", fingerprint)
	}
	return nil
}

// webCertificate is --web-cert/--web-key, else a self-signed certificate
// for host, made now.
func webCertificate(o *webOptions, host string) (tls.Certificate, error) {
	if o.Cert != "" {
		c, err := tls.LoadX509KeyPair(o.Cert, o.Key)
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("--web-cert %q / --web-key %q: %w", o.Cert, o.Key, err)
		}
		return c, nil
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: host},
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(30 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if ip := net.ParseIP(host); ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	} else {
		tmpl.DNSNames = []string{host}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k}, nil
}
