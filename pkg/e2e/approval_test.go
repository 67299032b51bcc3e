package e2e_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/agentctl/agentctl/pkg/testenv"
)

// screenWait bounds how long a test waits for a screen to show something.
// It is a deadlock guard, not a speed assertion.
const screenWait = 90 * time.Second

// term is a real terminal: a private tmux server with one 120×40 window.
type term struct {
	t    *testing.T
	sock string
	env  []string
}

// approvalEnv is an interactive user's environment: no CI, a private
// HOME, XDG_RUNTIME_DIR (the inbox socket) and XDG_CONFIG_HOME (its key).
func approvalEnv(t *testing.T) (dir string, vars []string) {
	dir, err := os.MkdirTemp("", "e2e-approval")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "HOME" || k == "KUBECONFIG" || k == "CI" || k == "TMUX" || k == "NO_COLOR" || strings.HasPrefix(k, "XDG_"),
			strings.HasPrefix(k, "AGENTCTL_") && k != "AGENTCTL_TESTBIN":
			continue
		}
		vars = append(vars, kv)
	}
	for _, d := range []string{"home", "run", "cfg"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	vars = append(vars, "HOME="+filepath.Join(dir, "home"), "XDG_RUNTIME_DIR="+filepath.Join(dir, "run"),
		"XDG_CONFIG_HOME="+filepath.Join(dir, "cfg"), "TERM=xterm-256color")
	return dir, vars
}

func newTerm(t *testing.T, dir string, env []string) *term {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed")
	}
	return &term{t: t, sock: filepath.Join(dir, "tmux.sock"), env: env}
}

func (tm *term) tmux(args ...string) string {
	tm.t.Helper()
	cmd := exec.Command("tmux", append([]string{"-S", tm.sock, "-f", "/dev/null"}, args...)...)
	cmd.Env = tm.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		tm.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// start runs a shell script in a new tmux window named name. The script's
// last line prints EXIT=<code> and keeps the pane open.
func (tm *term) start(name, script string) {
	tm.t.Helper()
	path := filepath.Join(filepath.Dir(tm.sock), name+".sh")
	if err := os.WriteFile(path, []byte(script+"\necho \"EXIT=$?\"\nsleep 600\n"), 0o700); err != nil {
		tm.t.Fatal(err)
	}
	if _, err := os.Stat(tm.sock); err != nil {
		tm.tmux("new-session", "-d", "-s", "e2e", "-n", name, "-x", "120", "-y", "40", "sh "+path)
		tm.t.Cleanup(func() { exec.Command("tmux", "-S", tm.sock, "kill-server").Run() })
		return
	}
	tm.tmux("new-window", "-t", "e2e", "-n", name, "sh "+path)
}

func (tm *term) screen(name string) string {
	return tm.tmux("capture-pane", "-p", "-t", "e2e:"+name)
}

// waitFor waits until the window shows every one of wants.
func (tm *term) waitFor(name string, wants ...string) string {
	tm.t.Helper()
	deadline := time.Now().Add(screenWait)
	for {
		s := tm.screen(name)
		ok := true
		for _, w := range wants {
			ok = ok && strings.Contains(s, w)
		}
		if ok {
			return s
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("window %s never showed %q; screen:\n%s", name, wants, s)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (tm *term) keys(name string, keys ...string) {
	tm.t.Helper()
	tm.tmux(append([]string{"send-keys", "-t", "e2e:" + name}, keys...)...)
}

// flat joins a screen's lines, so that text the screen wrapped reads whole.
func flat(screen string) string {
	return strings.Join(strings.Fields(screen), " ")
}

func shellQuote(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

func configMapExists(t *testing.T, c *testenv.Cluster, ns, name string) bool {
	t.Helper()
	_, err := c.AdminClient(t).CoreV1().ConfigMaps(ns).Get(context.Background(), name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false
	}
	if err != nil {
		t.Fatalf("get configmap %s/%s: %v", ns, name, err)
	}
	return true
}

// TestTerminalApproval runs `agentctl kubectl delete` in a real terminal
// while the agent owns stdin and stdout (redirected to files): the screen
// appears on /dev/tty, and the key pressed decides whether the object goes.
func TestTerminalApproval(t *testing.T) {
	c := testenv.Start(t)
	bin := agentctlBin(t)
	for _, tc := range []struct {
		name     string
		keys     []string
		wantExit string
		wantGone bool
	}{
		{"a approves: the configmap is deleted", []string{"a"}, "EXIT=0", true},
		{"d denies: the configmap stays", []string{"d"}, "EXIT=77", false},
		{"r and a reason deny: the configmap stays", []string{"r", "wrong cluster", "Enter"}, "EXIT=77", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns := c.NewNamespace(t)
			c.Apply(t, ns, webFixtures)
			admin := c.Kubeconfig(t, testenv.UserAdmin)
			dir, env := approvalEnv(t)
			tm := newTerm(t, dir, env)
			out, errf := filepath.Join(dir, "stdout"), filepath.Join(dir, "stderr")
			tm.start("agent", fmt.Sprintf("%s </dev/null >%s 2>%s",
				shellQuote([]string{bin, "--intent", "clean up the old config", "kubectl", "--kubeconfig", admin, "-n", ns, "delete", "cm", "app-config"}), out, errf))
			screen := flat(tm.waitFor("agent", "approval needed", "a approve", "d deny"))
			for _, want := range []string{"clean up the old config", "delete cm app-config", "namespace=" + ns, "DESTRUCTIVE"} {
				if !strings.Contains(screen, want) {
					t.Errorf("screen lacks %q:\n%s", want, screen)
				}
			}
			tm.keys("agent", tc.keys...)
			tm.waitFor("agent", "EXIT=")
			stderr, _ := os.ReadFile(errf)
			if s := tm.screen("agent"); !strings.Contains(s, tc.wantExit) {
				stdout, _ := os.ReadFile(out)
				t.Fatalf("want %s; screen:\n%s\nstdout: %s\nstderr: %s", tc.wantExit, s, stdout, stderr)
			}
			if gone := !configMapExists(t, c, ns, "app-config"); gone != tc.wantGone {
				t.Errorf("configmap gone = %v, want %v", gone, tc.wantGone)
			}
			if !tc.wantGone && !strings.Contains(string(stderr), "not approved") {
				t.Errorf("the agent is not told it was not approved: %q", stderr)
			}
			if !configMapExists(t, c, ns, "other-config") {
				t.Error("other-config was deleted too")
			}
		})
	}
}

// TestInboxApproval runs `agentctl inbox` in a terminal and the agent's
// command with no terminal at all (its own session): the request shows in
// the inbox, and the inbox's signed answer decides.
func TestInboxApproval(t *testing.T) {
	c := testenv.Start(t)
	bin := agentctlBin(t)
	for _, tc := range []struct {
		name     string
		keys     []string
		wantCode int
		wantGone bool
	}{
		{"approved in the inbox: deleted", []string{"a"}, 0, true},
		{"denied in the inbox: stays", []string{"d"}, exitDenied, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns := c.NewNamespace(t)
			c.Apply(t, ns, webFixtures)
			admin := c.Kubeconfig(t, testenv.UserAdmin)
			dir, env := approvalEnv(t)
			tm := newTerm(t, dir, env)
			tm.start("inbox", shellQuote([]string{bin, "inbox"}))
			tm.waitFor("inbox", "agentctl inbox", "0 pending")

			cmd := exec.Command(bin, "--agent", "e2e-agent", "kubectl", "--kubeconfig", admin, "-n", ns, "delete", "cm", "app-config")
			cmd.Env, cmd.Dir = env, dir
			cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // no controlling terminal
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			defer cmd.Process.Kill()

			tm.waitFor("inbox", "1 pending", "e2e-agent", "DESTRUCTIVE")
			tm.keys("inbox", "Enter")
			if s := flat(tm.waitFor("inbox", "approval needed", "a approve")); !strings.Contains(s, "delete cm app-config") {
				t.Errorf("inbox detail lacks the command:\n%s", s)
			}
			tm.keys("inbox", tc.keys...)
			select {
			case <-done:
			case <-time.After(screenWait):
				t.Fatalf("agentctl never finished; stderr: %s", stderr.String())
			}
			if code := cmd.ProcessState.ExitCode(); code != tc.wantCode {
				t.Errorf("exit %d, want %d; stderr: %s", code, tc.wantCode, stderr.String())
			}
			if !strings.Contains(stderr.String(), "waiting for approval in agentctl inbox") {
				t.Errorf("agentctl did not say it waits for the inbox: %q", stderr.String())
			}
			if gone := !configMapExists(t, c, ns, "app-config"); gone != tc.wantGone {
				t.Errorf("configmap gone = %v, want %v", gone, tc.wantGone)
			}
		})
	}
}

// TestTerminalApprovalTypedConfirmation checks that a privilege change is
// approved only after the context's name is typed: a wrong name is refused
// on the screen, the right one runs the command.
func TestTerminalApprovalTypedConfirmation(t *testing.T) {
	c := testenv.Start(t)
	bin := agentctlBin(t)
	ns := c.NewNamespace(t)
	admin := c.Kubeconfig(t, testenv.UserAdmin)
	dir, env := approvalEnv(t)
	tm := newTerm(t, dir, env)
	tm.start("agent", fmt.Sprintf("%s </dev/null >/dev/null 2>%s", shellQuote([]string{bin, "kubectl", "--kubeconfig", admin,
		"-n", ns, "create", "rolebinding", "agent-view", "--clusterrole=view", "--user=agent"}), filepath.Join(dir, "stderr")))
	tm.waitFor("agent", "approval needed", "PRIVILEGE", "a approve")
	tm.keys("agent", "a")
	screen := tm.waitFor("agent", "type the target's name")
	word := between(screen, `type the target's name "`, `"`)
	if word == "" {
		t.Fatalf("no name to type on the screen:\n%s", screen)
	}
	tm.keys("agent", "not-"+word, "Enter")
	tm.waitFor("agent", "does not match")
	if _, err := c.AdminClient(t).RbacV1().RoleBindings(ns).Get(context.Background(), "agent-view", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("rolebinding after a wrong name: %v", err)
	}
	tm.keys("agent", word, "Enter")
	if s := tm.waitFor("agent", "EXIT="); !strings.Contains(s, "EXIT=0") {
		stderr, _ := os.ReadFile(filepath.Join(dir, "stderr"))
		t.Fatalf("screen:\n%s\nstderr: %s", s, stderr)
	}
	if _, err := c.AdminClient(t).RbacV1().RoleBindings(ns).Get(context.Background(), "agent-view", metav1.GetOptions{}); err != nil {
		t.Errorf("rolebinding after the right name: %v", err)
	}
}

func between(s, start, end string) string {
	_, after, ok := strings.Cut(s, start)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(after, end)
	return v
}
