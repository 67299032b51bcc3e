package testenv

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Cluster is one running etcd and kube-apiserver on 127.0.0.1.
type Cluster struct {
	dir       string // temporary directory: keys, tokens, data, logs
	pki       *pki
	etcd      *process
	apiserver *process
	server    string // https://127.0.0.1:<port>
	stopOnce  sync.Once

	// A converging cluster's (see [StartConverging]): kube-controller-manager,
	// kube-scheduler and kwok, stopped before the API server.
	components []*process
	converging bool
}

// shared is the cluster of this test binary. It is package state on
// purpose: starting a control plane takes seconds, so every test of a
// binary shares one, and RunMain stops it.
var shared struct {
	once sync.Once
	c    *Cluster
	err  error
}

// Start returns the test binary's shared cluster, starting it on first use.
// It skips or fails t (see [Bin]) when the binaries are missing and fails t
// when the cluster cannot start, printing the control plane's logs.
func Start(t testing.TB) *Cluster {
	t.Helper()
	etcd, apiserver := Bin(t, "etcd"), Bin(t, "kube-apiserver")
	shared.once.Do(func() { shared.c, shared.err = startCluster(etcd, apiserver) })
	if shared.err != nil {
		t.Fatalf("start test cluster: %v", shared.err)
	}
	return shared.c
}

// RunMain runs the tests of m and then stops the shared clusters (of
// [Start] and [StartConverging]) that were started. Use it as the whole TestMain; testing exits with m.Run's code:
//
//	func TestMain(m *testing.M) { testenv.RunMain(m) }
func RunMain(m *testing.M) {
	defer func() {
		removeAgentBins()
		if shared.c != nil {
			shared.c.Stop()
		}
		if sharedConverging.c != nil {
			sharedConverging.c.Stop()
		}
	}()
	m.Run()
}

// NewCluster starts a cluster of t's own, stopped when t ends. Use it only
// to change the cluster itself (stop it); otherwise use [Start].
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	etcd, apiserver := Bin(t, "etcd"), Bin(t, "kube-apiserver")
	c, err := startCluster(etcd, apiserver)
	if err != nil {
		t.Fatalf("start test cluster: %v", err)
	}
	t.Cleanup(c.Stop)
	return c
}

// Server returns the API server's URL, https://127.0.0.1:PORT.
func (c *Cluster) Server() string { return c.server }

// CAData returns the PEM certificate that verifies the API server.
func (c *Cluster) CAData() []byte { return c.pki.caPEM }

// Token returns the bearer token of user, one of [Users]. It panics for an
// unknown user, a bug in the test.
func (c *Cluster) Token(user string) string {
	token, ok := c.pki.tokens[user]
	if !ok {
		panic(fmt.Sprintf("testenv: unknown user %q", user))
	}
	return token
}

// Dir returns the cluster's temporary directory, where etcd.log and
// kube-apiserver.log are (and, in a converging cluster,
// kube-controller-manager.log, kube-scheduler.log and kwok.log).
func (c *Cluster) Dir() string { return c.dir }

// Stop stops the API server and etcd and removes the cluster's directory.
// It may be called more than once.
func (c *Cluster) Stop() {
	c.stopOnce.Do(func() {
		for _, p := range c.components {
			p.stop(10 * time.Second)
		}
		c.apiserver.stop(10 * time.Second)
		c.etcd.stop(10 * time.Second)
		os.RemoveAll(c.dir)
	})
}

// startCluster starts etcd and kube-apiserver and waits until the API server
// is ready. A start that lost a port race is retried with new ports.
func startCluster(etcdBin, apiserverBin string) (*Cluster, error) {
	var err error
	for range 3 {
		var c *Cluster
		c, err = tryStart(etcdBin, apiserverBin)
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, errPortTaken) {
			break
		}
	}
	return nil, err
}

func tryStart(etcdBin, apiserverBin string) (c *Cluster, err error) {
	dir, err := os.MkdirTemp("", "agentctl-testenv-")
	if err != nil {
		return nil, err
	}
	c = &Cluster{dir: dir}
	defer func() {
		if err != nil {
			logs := ""
			for _, p := range []*process{c.etcd, c.apiserver} {
				if p != nil {
					logs += "\n" + p.tail(40)
				}
			}
			if strings.Contains(logs, "address already in use") {
				err = fmt.Errorf("%w: %w", errPortTaken, err)
			}
			err = fmt.Errorf("%w%s", err, logs)
			c.Stop()
		}
	}()
	if c.pki, err = newPKI(dir); err != nil {
		return c, fmt.Errorf("generate keys: %w", err)
	}
	ports, err := freePorts(3)
	if err != nil {
		return c, err
	}
	etcdURL := "http://127.0.0.1:" + strconv.Itoa(ports[0])
	peerURL := "http://127.0.0.1:" + strconv.Itoa(ports[1])
	c.server = "https://127.0.0.1:" + strconv.Itoa(ports[2])

	c.etcd, err = startProcess(dir, "etcd", etcdBin,
		"--name=testenv",
		"--data-dir="+filepath.Join(dir, "etcd-data"),
		"--listen-client-urls="+etcdURL,
		"--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL,
		"--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=testenv="+peerURL,
		"--unsafe-no-fsync=true",
		"--log-level=warn",
	)
	if err != nil {
		return c, err
	}
	if err := waitHTTP(c.etcd, http.DefaultClient, etcdURL+"/health", "", time.Minute); err != nil {
		return c, fmt.Errorf("etcd not healthy: %w", err)
	}

	c.apiserver, err = startProcess(dir, "kube-apiserver", apiserverBin,
		"--etcd-servers="+etcdURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(ports[2]),
		"--cert-dir="+filepath.Join(dir, "certs"),
		"--tls-cert-file="+c.pki.certFile,
		"--tls-private-key-file="+c.pki.keyFile,
		"--token-auth-file="+c.pki.tokenFile,
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file="+c.pki.saKeyFile,
		"--service-account-signing-key-file="+c.pki.saKeyFile,
		"--service-cluster-ip-range=10.0.0.0/24",
		"--allow-privileged=true",
		"--enable-priority-and-fairness=false",
		"--disable-admission-plugins=ServiceAccount",
		"--profiling=false",
	)
	if err != nil {
		return c, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(c.pki.caPEM)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer client.CloseIdleConnections()
	if err := waitHTTP(c.apiserver, client, c.server+"/readyz", c.pki.tokens[UserAdmin], 2*time.Minute); err != nil {
		return c, fmt.Errorf("kube-apiserver not ready: %w", err)
	}
	return c, nil
}

// waitHTTP polls url until it answers 200, p exits, or timeout passes.
func waitHTTP(p *process, client *http.Client, url, token string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	last := errors.New("no answer yet")
	for {
		if done, err := p.exited(); done {
			return err
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Errorf("%s: %s", url, resp.Status)
		} else {
			last = err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("after %v: %w", timeout, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
