package e2e_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/agentctl/agentctl/pkg/testenv"
)

// ptyAgentEnv makes this test binary play an agent that runs commands in
// a pseudo-terminal of its own and lets its model type into it (as
// Codex's PTY exec does): the variable holds the command as a JSON array.
const ptyAgentEnv = "E2E_PTY_AGENT"

// ptyAgentMain runs the command of ptyAgentEnv with a new pseudo-terminal
// as its controlling terminal and standard streams, answers "a" (approve)
// whenever an approval screen shows there, copies what the terminal
// shows to its stdout, and exits with the command's code.
func ptyAgentMain(spec string) int {
	var argv []string
	if err := json.Unmarshal([]byte(spec), &argv); err != nil || len(argv) == 0 {
		fmt.Fprintf(os.Stderr, "pty agent: bad %s: %v\n", ptyAgentEnv, err)
		return 2
	}
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pty agent:", err)
		return 2
	}
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		fmt.Fprintln(os.Stderr, "pty agent: unlock:", err)
		return 2
	}
	// A size, as an agent's terminal has: a screen of 0×0 shows nothing.
	if err := unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 40, Col: 120}); err != nil {
		fmt.Fprintln(os.Stderr, "pty agent: window size:", err)
		return 2
	}
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pty agent: ptsname:", err)
		return 2
	}
	slave, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pty agent:", err)
		return 2
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "pty agent:", err)
		return 2
	}
	slave.Close()
	var (
		mu   sync.Mutex
		seen bytes.Buffer
		done = make(chan struct{})
	)
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			k, err := master.Read(buf)
			mu.Lock()
			seen.Write(buf[:k])
			os.Stdout.Write(buf[:k])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	exited := make(chan struct{})
	go func() {
		// The model approves its own command, again and again until the
		// command ends, in case a key comes before the screen reads keys.
		for {
			select {
			case <-exited:
				return
			case <-time.After(200 * time.Millisecond):
			}
			mu.Lock()
			show := strings.Contains(plainText(seen.String()), "approvalneeded")
			mu.Unlock()
			if show {
				master.Write([]byte("a"))
			}
		}
	}()
	werr := cmd.Wait()
	close(exited)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
	if werr != nil && cmd.ProcessState == nil {
		return 2
	}
	return cmd.ProcessState.ExitCode()
}

// ansi matches the terminal control sequences a screen is drawn with.
var ansi = regexp.MustCompile(`\x1b(\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[()][0-9A-Za-z]|[=>78])`)

// plainText is what a terminal stream says without its control sequences
// and without any whitespace (a screen places words with cursor moves).
func plainText(s string) string {
	return strings.Join(strings.Fields(ansi.ReplaceAllString(s, " ")), "")
}

// TestTerminalApprovalOnADrivenTerminal runs the approval where a human
// terminal (a tmux pane) holds something in between. An agent that runs
// agentctl in a pseudo-terminal of its own could answer the approval
// screen itself: agentctl does not show it there, refuses, and points to
// the inbox. script, like sudo with use_pty, only passes the human's
// terminal on: the screen shows and the human's key decides.
func TestTerminalApprovalOnADrivenTerminal(t *testing.T) {
	c := testenv.Start(t)
	bin := agentctlBin(t)
	t.Run("an agent's pseudo-terminal: refused, nothing deleted", func(t *testing.T) {
		ns := c.NewNamespace(t)
		c.Apply(t, ns, webFixtures)
		admin := c.Kubeconfig(t, testenv.UserAdmin)
		dir, env := approvalEnv(t)
		tm := newTerm(t, dir, env)
		seen := deleteFromAgentPTY(t, tm, dir, bin, admin, ns)
		if !strings.Contains(flat(string(seen)), "can type into this one") || !strings.Contains(string(seen), "agentctl inbox") {
			t.Errorf("the refusal does not say why or where to approve:\n%s", seen)
		}
		if !configMapExists(t, c, ns, "app-config") {
			t.Error("app-config was deleted: the agent approved its own command")
		}
	})
	t.Run("script passes the human's terminal on: approved by the human", func(t *testing.T) {
		if _, err := exec.LookPath("script"); err != nil {
			t.Skip("script (util-linux) is not installed")
		}
		ns := c.NewNamespace(t)
		c.Apply(t, ns, webFixtures)
		admin := c.Kubeconfig(t, testenv.UserAdmin)
		dir, env := approvalEnv(t)
		tm := newTerm(t, dir, env)
		inner := shellQuote([]string{bin, "kubectl", "--kubeconfig", admin, "-n", ns, "delete", "cm", "app-config"})
		tm.start("agent", fmt.Sprintf("script -qec %s /dev/null", shellQuote([]string{inner + " </dev/null >/dev/null 2>&1"})))
		tm.waitFor("agent", "approval needed", "a approve")
		tm.keys("agent", "a")
		if s := tm.waitFor("agent", "EXIT="); !strings.Contains(s, "EXIT=0") {
			t.Fatalf("want EXIT=0; screen:\n%s", s)
		}
		if configMapExists(t, c, ns, "app-config") {
			t.Error("app-config still exists after the human approved")
		}
	})
}

// deleteFromAgentPTY runs `agentctl kubectl delete cm app-config` in a
// pseudo-terminal an agent holds (ptyAgentEnv) inside tm's pane "agent",
// checks that it was refused (exit 77) without drawing the approval
// screen there, and returns what the agent's terminal showed.
func deleteFromAgentPTY(t *testing.T, tm *term, dir, bin, kubeconfig, ns string) []byte {
	t.Helper()
	self, err := os.Executable() // this test binary plays the agent (ptyAgentEnv)
	if err != nil {
		t.Fatal(err)
	}
	argv, _ := json.Marshal([]string{bin, "kubectl", "--kubeconfig", kubeconfig, "-n", ns, "delete", "cm", "app-config"})
	out := filepath.Join(dir, "agent-terminal")
	tm.start("agent", fmt.Sprintf("%s=%s %s >%s 2>&1", ptyAgentEnv, shellQuote([]string{string(argv)}), shellQuote([]string{self}), out))
	screen := tm.waitFor("agent", "EXIT=")
	seen, _ := os.ReadFile(out)
	if !strings.Contains(screen, "EXIT=77") {
		t.Errorf("want EXIT=77; screen:\n%s\nthe agent's terminal:\n%s", screen, seen)
	}
	if strings.Contains(plainText(string(seen)), "approvalneeded") {
		t.Errorf("the approval screen was shown on the agent's terminal:\n%s", seen)
	}
	return seen
}
