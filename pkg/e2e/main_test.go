package e2e_test

import (
	"bytes"
	"context"
	"errors"
	"io"
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
	once  sync.Once
	dir   string
	path  string
	admin string // what the binary reads as /etc/agentctl
	err   error
}

func TestMain(m *testing.M) {
	if spec := os.Getenv(ptyAgentEnv); spec != "" {
		os.Exit(ptyAgentMain(spec))
	}
	if spec := os.Getenv(inboxActorEnv); spec != "" {
		os.Exit(inboxActorMain(spec))
	}
	if sock := os.Getenv(rawClientEnv); sock != "" {
		os.Exit(rawClientMain(sock))
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
func agentctlBin(t testing.TB) string {
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
		// Readable by the agent's user (nobody, when the tests run as
		// root): the binary, and the admin directory the build points
		// /etc/agentctl at, which stays root's (see adminFiles).
		if build.err = os.Chmod(build.dir, 0o755); build.err != nil {
			return
		}
		build.admin = filepath.Join(build.dir, "etc-agentctl")
		build.path = filepath.Join(build.dir, "agentctl")
		cmd := exec.Command(gobin, "build", "-o", build.path,
			"-ldflags", "-X github.com/agentctl/agentctl/pkg/cli.defaultAdminDir="+build.admin, "./cmd/agentctl")
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
	// agent, when set, is the ordinary user the commands run as
	// (newAgentEnv).
	agent *testenv.Agent
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

// newAgentEnv is newEnv for a command run as an ordinary user, as a
// hostile agent would run it: nobody when the tests run as root (its home
// and working directory its own), else the test's user. Whatever the
// test gives the agent (a kubeconfig: e.give) must be made readable to it.
func newAgentEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t)
	e.agent = testenv.AgentUser(t)
	e.home, e.dir = e.agent.Dir(t), e.agent.Dir(t)
	for i, kv := range e.vars {
		if strings.HasPrefix(kv, "HOME=") {
			e.vars[i] = "HOME=" + e.home
		}
	}
	return e
}

// give copies the file at path to where the agent can read it (its own
// file, as a kubeconfig in its home would be) and returns the copy's path.
// Without an agent it returns path.
func (e *env) give(path string) string {
	e.t.Helper()
	if e.agent == nil {
		return path
	}
	return e.agent.Give(e.t, path)
}

// adminFiles writes files (name to content) into the directory this run's
// agentctl reads as /etc/agentctl, owned by root and writable by nobody
// else, and removes them when the test ends. Only root can write such
// files, so the test is skipped otherwise.
func adminFiles(t *testing.T, files map[string]string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the admin config must be root's: run the tests as root, as CI does")
	}
	agentctlBin(t)
	if err := os.MkdirAll(build.admin, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		p := filepath.Join(build.admin, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Remove(p) })
	}
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
	return e.runIn(nil, bin, args...)
}

// runStdin runs bin with args and stdin.
func (e *env) runStdin(bin, stdin string, args ...string) result {
	e.t.Helper()
	return e.runIn(strings.NewReader(stdin), bin, args...)
}

// runIn runs bin with args, reading stdin (nil: the null device).
func (e *env) runIn(stdin io.Reader, bin string, args ...string) result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGQUIT) }
	cmd.WaitDelay = 10 * time.Second
	cmd.Env = e.vars
	cmd.Dir = e.dir
	cmd.Stdin = stdin
	if e.agent != nil && e.agent.Cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: e.agent.Cred}
	}
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
