package sandbox

import (
	"bytes"
	"context"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentctl/agentctl/pkg/testenv"
)

var probeOnce = sync.OnceValue(Probe)

// requireKernel skips t when this kernel cannot run the sandbox.
func requireKernel(t *testing.T) {
	t.Helper()
	st := probeOnce()
	if !st.UserNS || !st.NetNS || st.LandlockABI < 1 {
		t.Skipf("sandbox not enforceable on this kernel:\n%s", st.Report())
	}
}

// escapeEnv is a fake home full of credentials, a chosen kubeconfig for the
// real test cluster, and the sandbox config agentctl would build for it.
type escapeEnv struct {
	home       string
	kubeconfig string // the chosen one: ~/.kube/agentctl-read.yaml
	server     string // host:port of the API server
	scratch    string
	deny       []string
	extraRO    []string
	extraDest  []string
	required   bool
}

// credential files of the fake home, each holding "SECRET-<path>".
var credentialFiles = []string{
	".kube/config", ".ssh/id_ed25519", ".aws/credentials", ".config/gcloud/credentials.db",
	".azure/msal_token_cache.json", ".vault-token", ".terraform.d/credentials.tfrc.json",
	".docker/config.json", ".local/state/agentctl/audit.jsonl", ".config/agentctl/approver.key",
}

func newEscapeEnv(t *testing.T) *escapeEnv {
	t.Helper()
	requireKernel(t)
	c := testenv.Start(t)
	e := &escapeEnv{home: t.TempDir(), scratch: t.TempDir(), required: true}
	for _, f := range credentialFiles {
		p := filepath.Join(e.home, f)
		mkfile(t, p, "SECRET-"+f)
		top := strings.SplitN(f, "/", 2)[0]
		if top == ".config" || top == ".local" || top == ".terraform.d" || top == ".docker" || top == ".vault-token" {
			e.deny = append(e.deny, p)
		} else {
			e.deny = append(e.deny, filepath.Join(e.home, top))
		}
	}
	kc, err := os.ReadFile(c.Kubeconfig(t, testenv.UserReader))
	if err != nil {
		t.Fatal(err)
	}
	e.kubeconfig = filepath.Join(e.home, ".kube/agentctl-read.yaml")
	mkfile(t, e.kubeconfig, string(kc))
	u, err := url.Parse(c.Server())
	if err != nil {
		t.Fatal(err)
	}
	e.server = u.Host
	return e
}

func mkfile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func (e *escapeEnv) config(attempt string, args ...string) Config {
	return Config{
		Entry:        "attempt",
		Argv:         append([]string{e.kubeconfig, attempt}, args...),
		Env:          []string{"HOME=" + e.home, "PATH=/usr/bin:/bin"},
		ReadOnly:     append([]string{e.kubeconfig}, e.extraRO...),
		Scratch:      e.scratch,
		Destinations: append([]string{e.server}, e.extraDest...),
		Deny:         e.deny,
		Required:     e.required,
	}
}

// attempt runs the attempt entry in the sandbox and checks that the
// allowed read against the real cluster worked, that the attempt was
// blocked and that no secret came out. It returns stdout and stderr.
func (e *escapeEnv) attempt(t *testing.T, attempt string, args ...string) (string, string) {
	t.Helper()
	return e.mustBlock(t, e.config(attempt, args...))
}

func (e *escapeEnv) mustBlock(t *testing.T, cfg Config) (string, string) {
	t.Helper()
	stdout, stderr := runSandbox(t, cfg)
	t.Logf("inside the sandbox:\n%s", stdout)
	if !strings.Contains(stdout, "allowed: ") || strings.Contains(stdout, "allowed: FAILED") {
		t.Errorf("allowed read of the cluster failed:\n%s%s", stdout, stderr)
	}
	if strings.Contains(stdout, "escaped:") || !strings.Contains(stdout, "blocked:") {
		t.Errorf("attempt was not blocked:\n%s", stdout)
	}
	if strings.Contains(stdout+stderr, "SECRET-") {
		t.Errorf("a secret came out of the sandbox:\n%s%s", stdout, stderr)
	}
	return stdout, stderr
}

func runSandbox(t *testing.T, cfg Config) (string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code, enf, err := Run(ctx, cfg, Stdio{Out: &out, Err: &errb})
	if err != nil {
		t.Fatalf("sandbox.Run: %v", err)
	}
	if code != 0 {
		t.Errorf("exit code %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	if !enf.FS || !enf.NetNS {
		t.Errorf("enforcement = %v, want fs and netns", enf)
	}
	return out.String(), errb.String()
}

// trap is a listener outside the sandbox that records what reaches it.
type trap struct {
	mu   sync.Mutex
	got  []string
	addr string
}

func (tr *trap) record(s string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.got = append(tr.got, s)
}

// assertUntouched fails t if anything reached the trap.
func (tr *trap) assertUntouched(t *testing.T) {
	t.Helper()
	time.Sleep(50 * time.Millisecond) // let in-flight datagrams land; not a timing assertion
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if len(tr.got) > 0 {
		t.Errorf("the listener at %s outside the sandbox was reached: %q", tr.addr, tr.got)
	}
}

// streamTrap listens on network/addr and answers every line.
func streamTrap(t *testing.T, network, addr string) *trap {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatalf("listen %s %s: %v", network, addr, err)
	}
	t.Cleanup(func() { ln.Close() })
	tr := &trap{addr: ln.Addr().String()}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			tr.record("connection")
			go func() {
				defer c.Close()
				buf := make([]byte, 512)
				n, _ := c.Read(buf)
				tr.record(string(buf[:n]))
				c.Write([]byte("OK\n"))
			}()
		}
	}()
	return tr
}

func udpTrap(t *testing.T) *trap {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	tr := &trap{addr: pc.LocalAddr().String()}
	go func() {
		buf := make([]byte, 1500)
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			tr.record(string(buf[:n]))
		}
	}()
	return tr
}
