package e2e_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/agentctl/agentctl/pkg/testenv"
)

// build is the agentctl binary of this test run, built on first use.
var build struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	if spec := os.Getenv(ptyAgentEnv); spec != "" {
		os.Exit(ptyAgentMain(spec))
	}
	defer func() {
		if build.dir != "" {
			os.RemoveAll(build.dir)
		}
	}()
	testenv.RunMain(m)
}

// agentctlBin builds ./cmd/agentctl once per test run into a temporary
// directory and returns the binary's path.
func agentctlBin(t *testing.T) string {
	t.Helper()
	build.once.Do(func() {
		gobin, err := exec.LookPath("go")
		if err != nil {
			build.err = err
			return
		}
		if build.dir, err = os.MkdirTemp("", "agentctl-e2e-"); err != nil {
			build.err = err
			return
		}
		build.path = filepath.Join(build.dir, "agentctl")
		cmd := exec.Command(gobin, "build", "-o", build.path, "./cmd/agentctl")
		cmd.Dir = filepath.Join("..", "..")
		// As released (Makefile, goreleaser): without cgo, go-landlock
		// restricts every thread with Go's own AllThreadsSyscall; with cgo
		// it goes through libpsx, which hangs in the sandbox child.
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			build.err = errors.New(string(out) + err.Error())
		}
	})
	if build.err != nil {
		t.Fatalf("go build ./cmd/agentctl: %v", build.err)
	}
	return build.path
}

// result is what a finished command left behind.
type result struct {
	stdout, stderr string
	code           int
}

// env is the process environment of one test's commands: the test's own
// HOME (so no user's kubeconfig, policy or audit log is read) and working
// directory (beside HOME, as an agent's project would be), CI=true (nobody
// can approve), and nothing of the caller's KUBECONFIG or AGENTCTL_*.
type env struct {
	t    *testing.T
	home string
	dir  string // working directory
	vars []string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, home: t.TempDir(), dir: t.TempDir()}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "HOME" || k == "KUBECONFIG" || k == "CI" || strings.HasPrefix(k, "XDG_"),
			strings.HasPrefix(k, "AGENTCTL_") && k != "AGENTCTL_TESTBIN":
			continue
		}
		e.vars = append(e.vars, kv)
	}
	e.vars = append(e.vars, "HOME="+e.home, "CI=true")
	return e
}

// agentctl runs the agentctl binary with args.
func (e *env) agentctl(args ...string) result {
	e.t.Helper()
	return e.run(agentctlBin(e.t), args...)
}

// kubectl runs the upstream kubectl binary with args.
func (e *env) kubectl(args ...string) result {
	e.t.Helper()
	return e.run(testenv.Bin(e.t, "kubectl"), args...)
}

// hang is how long one command may run before the test calls it hung and
// kills it (with SIGQUIT first, so a Go program prints its goroutines).
// It guards against hangs only; no test asserts a duration.
const hang = 2 * time.Minute

func (e *env) run(bin string, args ...string) result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGQUIT) }
	cmd.WaitDelay = 10 * time.Second
	cmd.Env = e.vars
	cmd.Dir = e.dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		e.t.Fatalf("%s %s hung for %v and was killed\nstdout: %s\nstderr: %s",
			filepath.Base(bin), strings.Join(args, " "), hang, stdout.String(), stderr.String())
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		e.t.Fatalf("run %s: %v", filepath.Base(bin), err)
	}
	return result{stdout: stdout.String(), stderr: stderr.String(), code: cmd.ProcessState.ExitCode()}
}

// looseningNeedsRoot skips a test whose --policy file must loosen the
// policy: only a file owned by root may (docs/policy.md, "Who may
// loosen"), and only root can write one. CI runs as root.
func looseningNeedsRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("a --policy file that loosens must be root's: run the tests as root, as CI does")
	}
}
