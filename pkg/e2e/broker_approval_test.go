package e2e_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/agentctl/agentctl/pkg/testenv"
)

// approvalBroker starts a broker in the interactive user's environment
// of approvalEnv, on the socket its clients find without AGENTCTL_SOCKET
// ($XDG_RUNTIME_DIR/agentctl/broker.sock).
func approvalBroker(t *testing.T, dir string, vars []string) *brokerProc {
	t.Helper()
	return startBrokerAt(t, &env{t: t, home: filepath.Join(dir, "home"), dir: dir, vars: vars}, filepath.Join(dir, "run", "agentctl", "broker.sock"))
}

// requestIDs are the ids a refusal names, which differ from run to run.
var requestIDs = regexp.MustCompile(`[0-9a-f]{12,}`)

// TestBrokerTerminalApproval deletes a configmap through the broker from
// a tmux pane while the agent owns stdin and stdout: the approval screen
// shows on that pane (the client's terminal, not the worker's, which has
// none), the key pressed there decides, and what the agent gets (stdout,
// stderr, exit code) is what the one-shot agentctl gives it.
func TestBrokerTerminalApproval(t *testing.T) {
	c := testenv.Start(t)
	bin := agentctlBin(t)
	for _, tc := range []struct {
		name     string
		key      string
		wantExit string
		wantGone bool
	}{
		{"a approves: deleted", "a", "EXIT=0", true},
		{"d denies: stays", "d", "EXIT=77", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			admin := c.Kubeconfig(t, testenv.UserAdmin)
			dir, vars := approvalEnv(t)
			b := approvalBroker(t, dir, vars)
			tm := newTerm(t, dir, vars)
			got := map[string]result{}
			for _, via := range []string{"one-shot", "broker"} {
				ns := c.NewNamespace(t)
				c.Apply(t, ns, webFixtures)
				out, errf := filepath.Join(dir, via+".stdout"), filepath.Join(dir, via+".stderr")
				env := ""
				if via == "one-shot" {
					env = "AGENTCTL_SOCKET=" + filepath.Join(dir, "no-broker.sock") + " "
				}
				tm.start(via, fmt.Sprintf("%s%s </dev/null >%s 2>%s", env,
					shellQuote([]string{bin, "--intent", "clean up the old config", "kubectl", "--kubeconfig", admin, "-n", ns, "delete", "cm", "app-config"}), out, errf))
				screen := flat(tm.waitFor(via, "approval needed", "a approve", "d deny"))
				for _, want := range []string{"clean up the old config", "delete cm app-config", "namespace=" + ns, "DESTRUCTIVE"} {
					if !strings.Contains(screen, want) {
						t.Errorf("%s: screen lacks %q:\n%s", via, want, screen)
					}
				}
				tm.keys(via, tc.key)
				s := tm.waitFor(via, "EXIT=")
				stdout, _ := os.ReadFile(out)
				stderr, _ := os.ReadFile(errf)
				if !strings.Contains(s, tc.wantExit) {
					t.Fatalf("%s: want %s; screen:\n%s\nstdout: %s\nstderr: %s", via, tc.wantExit, s, stdout, stderr)
				}
				if gone := !configMapExists(t, c, ns, "app-config"); gone != tc.wantGone {
					t.Errorf("%s: configmap gone = %v, want %v", via, gone, tc.wantGone)
				}
				// The namespaces differ, and so do the request ids.
				norm := func(b []byte) string {
					return requestIDs.ReplaceAllString(strings.ReplaceAll(string(b), ns, "NS"), "ID")
				}
				got[via] = result{stdout: norm(stdout), stderr: norm(stderr)}
			}
			if one, via := got["one-shot"], got["broker"]; one != via {
				t.Errorf("one-shot:\nstdout: %q\nstderr: %q\nvia the broker:\nstdout: %q\nstderr: %q", one.stdout, one.stderr, via.stdout, via.stderr)
			}
			// The broker's worker asked, on the tty channel.
			if asked := workerDecisions(t, dir, b, "tty"); asked != 1 {
				t.Errorf("%d decision records of the broker's workers answered on the terminal, want 1", asked)
			}
		})
	}
}

// TestBrokerTerminalApprovalOnADrivenTerminal runs the client in an
// agent's own pseudo-terminal (the agent is in a tmux pane and types "a"
// whenever a screen shows): the client passes that terminal, and the
// worker, which has no terminal of its own, checks who drives the
// client's terminal, not its own. Refused, nothing deleted.
func TestBrokerTerminalApprovalOnADrivenTerminal(t *testing.T) {
	c := testenv.Start(t)
	bin := agentctlBin(t)
	ns := c.NewNamespace(t)
	c.Apply(t, ns, webFixtures)
	admin := c.Kubeconfig(t, testenv.UserAdmin)
	dir, vars := approvalEnv(t)
	b := approvalBroker(t, dir, vars)
	tm := newTerm(t, dir, vars)
	seen := deleteFromAgentPTY(t, tm, dir, bin, admin, ns)
	if !strings.Contains(flat(string(seen)), "can type into this one") {
		t.Errorf("the refusal does not say why:\n%s", seen)
	}
	if !configMapExists(t, c, ns, "app-config") {
		t.Error("app-config was deleted: the agent approved its own command")
	}
	var byWorker int
	for _, r := range readAudit(t, filepath.Join(dir, "home", ".local", "state", "agentctl", "audit.jsonl")) {
		if r["kind"] == "decision" && r["ppid"] == float64(b.pid) {
			byWorker++
		}
	}
	if byWorker != 1 {
		t.Errorf("%d decision records by the broker's workers, want 1: the command did not go through the broker", byWorker)
	}
}

// TestBrokerInboxAnswersTwoClients attaches `agentctl inbox` to the
// broker and sends it two clients' deletes through the broker, from no
// terminal: both wait in the one inbox at once, each listed with the pid
// of the client that asked (not of the broker's worker that runs it);
// the one approved runs, the one denied does not, and each client gets
// its own answer's exit code.
func TestBrokerInboxAnswersTwoClients(t *testing.T) {
	c := testenv.Start(t)
	bin := agentctlBin(t)
	admin := c.Kubeconfig(t, testenv.UserAdmin)
	dir, vars := approvalEnv(t)
	b := approvalBroker(t, dir, vars)
	tm := newTerm(t, dir, vars)
	tm.start("inbox", shellQuote([]string{bin, "inbox"}))
	tm.waitFor("inbox", "agentctl inbox", "0 pending")

	type client struct {
		name, ns string
		cmd      *exec.Cmd
		stderr   strings.Builder
		done     chan struct{}
	}
	var clients []*client
	for i, name := range []string{"client-one", "client-two"} {
		cl := &client{name: name, ns: c.NewNamespace(t), done: make(chan struct{})}
		c.Apply(t, cl.ns, webFixtures)
		cl.cmd = exec.Command(bin, "--agent", name, "kubectl", "--kubeconfig", admin, "-n", cl.ns, "delete", "cm", "app-config")
		cl.cmd.Env, cl.cmd.Dir = vars, dir
		cl.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // no terminal: the inbox must answer
		cl.cmd.Stderr = &cl.stderr
		if err := cl.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { cl.cmd.Wait(); close(cl.done) }()
		t.Cleanup(func() { cl.cmd.Process.Kill(); <-cl.done })
		clients = append(clients, cl)
		tm.waitFor("inbox", fmt.Sprintf("%d pending", i+1), name)
	}
	list := tm.screen("inbox")
	for _, cl := range clients {
		var row []string
		for _, line := range strings.Split(list, "\n") {
			if strings.Contains(line, cl.name) {
				row = strings.Fields(line)
			}
		}
		if !slices.Contains(row, strconv.Itoa(cl.cmd.Process.Pid)) {
			t.Errorf("the inbox lists %s as %q, not with its pid %d:\n%s", cl.name, row, cl.cmd.Process.Pid, list)
		}
	}

	// Approve whichever opens first, deny the other.
	answers := map[string]string{}
	for i, key := range []string{"a", "d"} {
		tm.keys("inbox", "Enter")
		screen := flat(tm.waitFor("inbox", "approval needed", "a approve"))
		for _, cl := range clients {
			if strings.Contains(screen, "namespace="+cl.ns) {
				answers[cl.name] = key
			}
		}
		tm.keys("inbox", key)
		tm.waitFor("inbox", fmt.Sprintf("%d pending", 1-i))
	}
	for _, cl := range clients {
		select {
		case <-cl.done:
		case <-time.After(screenWait):
			t.Fatalf("%s never finished; stderr: %s", cl.name, cl.stderr.String())
		}
		wantCode, wantGone := exitDenied, false
		if answers[cl.name] == "a" {
			wantCode, wantGone = 0, true
		} else if answers[cl.name] != "d" {
			t.Fatalf("%s was never shown in the inbox", cl.name)
		}
		if code := cl.cmd.ProcessState.ExitCode(); code != wantCode {
			t.Errorf("%s: exit %d, want %d; stderr: %s", cl.name, code, wantCode, cl.stderr.String())
		}
		if gone := !configMapExists(t, c, cl.ns, "app-config"); gone != wantGone {
			t.Errorf("%s: configmap gone = %v, want %v", cl.name, gone, wantGone)
		}
	}
	if viaInbox := workerDecisions(t, dir, b, "inbox"); viaInbox != 2 {
		t.Errorf("%d decision records of the broker's workers answered in the inbox, want 2", viaInbox)
	}
}

// TestBrokerNoScreenForABackgroundJob runs the client as a background job
// of the pane's shell (job control on), as `agentctl kubectl delete … &`
// would: the keys typed there are the shell's. One-shot agentctl would be
// stopped by the terminal (SIGTTIN) until brought to the foreground; the
// broker's worker, in no job of that terminal, must not draw a screen on
// it and read those keys: refused, with why, nothing deleted.
func TestBrokerNoScreenForABackgroundJob(t *testing.T) {
	c := testenv.Start(t)
	bin := agentctlBin(t)
	ns := c.NewNamespace(t)
	c.Apply(t, ns, webFixtures)
	admin := c.Kubeconfig(t, testenv.UserAdmin)
	dir, vars := approvalEnv(t)
	// Without the check the screen would wait for a key: not for long.
	approvalBroker(t, dir, append(vars, "AGENTCTL_APPROVAL_TIMEOUT=20s"))
	tm := newTerm(t, dir, vars)
	errf := filepath.Join(dir, "stderr")
	tm.start("agent", fmt.Sprintf("set -m; %s </dev/null >/dev/null 2>%s & wait $!",
		shellQuote([]string{bin, "kubectl", "--kubeconfig", admin, "-n", ns, "delete", "cm", "app-config"}), errf))
	s := tm.waitFor("agent", "EXIT=")
	stderr, _ := os.ReadFile(errf)
	if strings.Contains(s, "approval needed") || !strings.Contains(s, "EXIT=77") {
		t.Errorf("want no screen and EXIT=77; screen:\n%s\nstderr: %s", s, stderr)
	}
	if !strings.Contains(string(stderr), "background job") {
		t.Errorf("the refusal does not say why: %s", stderr)
	}
	if !configMapExists(t, c, ns, "app-config") {
		t.Error("app-config was deleted")
	}
}

// workerDecisions counts the decision records in the approval env's audit
// log that the broker b's workers wrote with an approval answered on
// channel ("tty", "inbox").
func workerDecisions(t *testing.T, dir string, b *brokerProc, channel string) int {
	t.Helper()
	var n int
	for _, r := range readAudit(t, filepath.Join(dir, "home", ".local", "state", "agentctl", "audit.jsonl")) {
		if r["kind"] == "decision" && r["ppid"] == float64(b.pid) && r["channel"] == channel {
			n++
		}
	}
	return n
}
