package e2e_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

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
			var asked int
			for _, r := range readAudit(t, filepath.Join(dir, "home", ".local", "state", "agentctl", "audit.jsonl")) {
				if r["kind"] == "decision" && r["ppid"] == float64(b.pid) && r["channel"] == "tty" {
					asked++
				}
			}
			if asked != 1 {
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
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ns := c.NewNamespace(t)
	c.Apply(t, ns, webFixtures)
	admin := c.Kubeconfig(t, testenv.UserAdmin)
	dir, vars := approvalEnv(t)
	b := approvalBroker(t, dir, vars)
	tm := newTerm(t, dir, vars)
	argv, _ := json.Marshal([]string{bin, "kubectl", "--kubeconfig", admin, "-n", ns, "delete", "cm", "app-config"})
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
