package sandbox

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/agentctl/agentctl/sandbox/spawn"
)

func run(t *testing.T, cfg Config, stdin string) (int, string, Enforcement, error) {
	t.Helper()
	var out strings.Builder
	code, enf, err := Run(t.Context(), cfg, Stdio{In: strings.NewReader(stdin), Out: &out, Err: &out})
	return code, out.String(), enf, err
}

func TestRunPassesExitCodes(t *testing.T) {
	requireKernel(t)
	tests := []struct {
		name string
		cfg  Config
		want int
	}{
		{name: "entry exit 3", cfg: Config{Entry: "exit", Argv: []string{"3"}}, want: 3},
		{name: "exec exit 7", cfg: Config{Argv: []string{"/bin/sh", "-c", "exit 7"}}, want: 7},
		{name: "exec killed by a signal", cfg: Config{Argv: []string{"/bin/sh", "-c", "kill -9 $$"}}, want: 128 + 9},
		{name: "exec of a missing program", cfg: Config{Argv: []string{"/bin/sh", "-c", "exec /nonexistent"}}, want: 127},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Required = true
			code, out, _, err := run(t, tt.cfg, "")
			if err != nil || code != tt.want {
				t.Fatalf("Run() = %d, %v; want %d\n%s", code, err, tt.want, out)
			}
		})
	}
}

func TestRunStdinAndEnv(t *testing.T) {
	requireKernel(t)
	code, out, enf, err := run(t, Config{Entry: "cat", Required: true}, "manifest bytes")
	if err != nil || code != 0 || out != "manifest bytes" {
		t.Fatalf("cat entry = %d, %v, %q", code, err, out)
	}
	if want := probeOnce(); enf.LandlockABI != want.LandlockABI || !enf.UserNS || !enf.NetNS || !enf.FS {
		t.Errorf("enforcement = %v, want what Probe reports: ABI %d, namespaces", enf, want.LandlockABI)
	}

	_, out, _, err = run(t, Config{Entry: "env", Env: []string{"KEEP=1", "TMPDIR=/tmp", "NO_PROXY=*"},
		Destinations: []string{"api.example.test:443"}, Required: true}, "")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, kv := range strings.Split(strings.TrimSpace(out), "\n") {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	scratch := env["TMPDIR"]
	if env["KEEP"] != "1" || !strings.Contains(scratch, "agentctl-sandbox-") || env["HOME"] != scratch {
		t.Errorf("env = %q, want KEEP kept, TMPDIR and HOME the scratch dir", env)
	}
	if !strings.HasPrefix(env["HTTPS_PROXY"], "http://127.0.0.1:") || env["NO_PROXY"] != "" {
		t.Errorf("env = %q, want HTTPS_PROXY at the in-namespace proxy and NO_PROXY empty", env)
	}
	if _, err := os.Stat(scratch); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("scratch dir %s left behind: %v", scratch, err)
	}
	if strings.Contains(out, markerEnv) {
		t.Errorf("the sandbox marker leaked into the command's environment:\n%s", out)
	}
}

func TestRunRefusesGrantsOverDeniedPaths(t *testing.T) {
	home := t.TempDir()
	mkfile(t, filepath.Join(home, ".aws/credentials"), "SECRET")
	link := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.Symlink(filepath.Join(home, ".aws/credentials"), link); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(t.TempDir(), "ran")
	for name, ro := range map[string]string{"home dir": home, "symlink to a credential": link} {
		t.Run(name, func(t *testing.T) {
			_, _, _, err := run(t, Config{Argv: []string{"/usr/bin/touch", marker}, ReadOnly: []string{ro},
				Deny: []string{filepath.Join(home, ".aws")}}, "")
			if err == nil || !strings.Contains(err.Error(), "denied path") {
				t.Fatalf("Run() err = %v, want a refusal", err)
			}
			if _, err := os.Stat(marker); err == nil {
				t.Error("the command ran")
			}
		})
	}
}

func TestRunCancelTerminatesCommand(t *testing.T) {
	requireKernel(t)
	ctx, cancel := context.WithCancel(t.Context())
	cfg := Config{Argv: []string{"/bin/sh", "-c", "echo started; exec sleep 600"}, Required: true}
	pr, pw, _ := os.Pipe()
	defer pr.Close()
	go func() {
		buf := make([]byte, 8)
		pr.Read(buf) // "started": the command runs
		cancel()
	}()
	code, _, err := Run(ctx, cfg, Stdio{Out: pw})
	pw.Close()
	if err != nil || code != 128+int(syscall.SIGTERM) {
		t.Fatalf("Run() = %d, %v; want %d", code, err, 128+int(syscall.SIGTERM))
	}
}

func TestMaybeChildOutsideSandbox(t *testing.T) {
	if isChild, _ := MaybeChild(nil); isChild {
		t.Fatal("a normal process took itself for a sandbox child")
	}
}

func TestProxyReachesAllowedDestination(t *testing.T) {
	requireKernel(t)
	tr := streamTrap(t, "tcp", "127.0.0.1:0")
	_, port, _ := strings.Cut(tr.addr, ":")
	// A name other than localhost goes through the in-namespace CONNECT
	// proxy and is resolved by the broker outside.
	name := loopbackAlias(t)
	dest := name + ":" + port
	code, out, _, err := run(t, Config{Entry: "attempt", Argv: []string{"/nonexistent-kubeconfig", "proxy", dest},
		Destinations: []string{dest}, Required: true}, "")
	if err != nil || code != 0 || !strings.Contains(out, "escaped: tunnel open") {
		t.Fatalf("Run() = %d, %v\n%s", code, err, out)
	}
	time.Sleep(50 * time.Millisecond) // let the trap record the line; not a timing assertion
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if !slices.Contains(tr.got, "EXFIL\n") {
		t.Errorf("the allowed destination got %q, want the tunnelled line", tr.got)
	}
}

// loopbackAlias finds a name in /etc/hosts, other than localhost, for
// 127.0.0.1, or skips t.
func loopbackAlias(t *testing.T) string {
	b, _ := os.ReadFile("/etc/hosts")
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "127.0.0.1" {
			continue
		}
		for _, n := range f[1:] {
			if n != "localhost" && !strings.HasPrefix(n, "#") {
				return n
			}
		}
	}
	t.Skip("no name for 127.0.0.1 in /etc/hosts besides localhost")
	return ""
}

// TestRunWithoutNamespaces plays a kernel that refuses user namespaces
// (AppArmor on Ubuntu 24.04, a container's seccomp profile): required
// configs are refused and say why; best-effort ones run under Landlock
// alone and report what was missing.
func TestRunWithoutNamespaces(t *testing.T) {
	if probeOnce().LandlockABI < 1 {
		t.Skip("needs Landlock")
	}
	blocked := &spawn.NamespaceError{Err: syscall.EPERM}
	start := func() *Child {
		c, err := prestart(Stdio{}, false)
		if err != nil {
			t.Fatal(err)
		}
		c.nsErr = blocked
		return c
	}
	home := t.TempDir()
	mkfile(t, filepath.Join(home, ".aws/credentials"), "SECRET")
	marker := filepath.Join(t.TempDir(), "ran")

	c := start()
	_, _, err := c.Run(t.Context(), Config{Argv: []string{"/usr/bin/touch", marker}, Required: true})
	var ne *NotEnforceableError
	if !errors.As(err, &ne) || !strings.Contains(err.Error(), "user namespace") || !strings.Contains(err.Error(), "operation not permitted") || ne.Hint() == "" {
		t.Fatalf("required: err = %v, want a NotEnforceableError naming the user namespace and why", err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the command ran although the sandbox was required")
	}

	c = start()
	script := "if cat " + filepath.Join(home, ".aws/credentials") + "; then exit 9; fi; touch " + marker
	code, enf, err := c.Run(t.Context(), Config{Argv: []string{"/bin/sh", "-c", script},
		ReadWrite: []string{filepath.Dir(marker)}})
	if err != nil || code != 0 {
		t.Fatalf("best effort: Run() = %d, %v; want 0 (credentials unreadable, marker written)", code, err)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("best effort: the command did not run: %v", err)
	}
	if enf.NetNS || enf.UserNS || !enf.FS || !slices.Contains(enf.Missing, "user namespace") {
		t.Errorf("best effort: enforcement = %v, want Landlock without namespaces, missing listed", enf)
	}
}

// blockingReader never returns from Read until released, like an agent's
// stdin that stays open.
type blockingReader struct{ release chan struct{} }

func (r blockingReader) Read([]byte) (int, error) { <-r.release; return 0, errors.New("released") }

// TestRunDoesNotWaitForStdin checks that a command that never reads its
// stdin returns when it exits, though the agent's stdin stays open.
func TestRunDoesNotWaitForStdin(t *testing.T) {
	requireKernel(t)
	in := blockingReader{release: make(chan struct{})}
	defer close(in.release)
	done := make(chan int, 1)
	go func() {
		code, _, err := Run(t.Context(), Config{Entry: "exit", Argv: []string{"4"}, Required: true}, Stdio{In: in, Out: new(strings.Builder)})
		if err != nil {
			t.Error(err)
		}
		done <- code
	}()
	select {
	case code := <-done:
		if code != 4 {
			t.Errorf("exit code %d, want 4", code)
		}
	case <-time.After(time.Minute): // a hang, not a duration under test
		t.Fatal("Run waited for the agent's stdin after the command exited")
	}
}
