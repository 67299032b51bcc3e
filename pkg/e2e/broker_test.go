package e2e_test

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/agentctl/agentctl/pkg/testenv"
)

// brokerProc is an `agentctl serve --foreground` of one test.
type brokerProc struct {
	cmd  *exec.Cmd
	sock string
	pid  int
}

// startBroker starts a broker with e's environment and user (the agent's
// when e is newAgentEnv's), and returns once it listens. It is stopped
// when the test ends.
func startBroker(t *testing.T, e *env) *brokerProc {
	t.Helper()
	dir := t.TempDir()
	if e.agent != nil {
		dir = e.agent.Dir(t)
	}
	return startBrokerAt(t, e, filepath.Join(dir, "agentctl", "broker.sock"))
}

// startBrokerAt is startBroker on the socket sock.
func startBrokerAt(t *testing.T, e *env, sock string) *brokerProc {
	t.Helper()
	var cred *syscall.Credential
	if e.agent != nil {
		cred = e.agent.Cred
	}
	return startServe(t, e.vars, e.dir, sock, cred, nil, nil)
}

// startServe starts `agentctl serve --foreground --socket sock ARGS…` with
// vars in dir (as cred, when set), hands each line it writes before it
// serves to line (when set), and returns once it serves. It is stopped
// when the test ends.
func startServe(t *testing.T, vars []string, dir, sock string, cred *syscall.Credential, args []string, line func(string)) *brokerProc {
	t.Helper()
	b := &brokerProc{sock: sock}
	b.cmd = exec.Command(agentctlBin(t), append([]string{"serve", "--foreground", "--socket", b.sock}, args...)...)
	b.cmd.Env, b.cmd.Dir = vars, dir
	if cred != nil {
		b.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	stderr, err := b.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	b.pid = b.cmd.Process.Pid
	t.Cleanup(func() {
		b.cmd.Process.Signal(syscall.SIGTERM)
		b.cmd.Wait()
	})
	r := bufio.NewReader(stderr)
	var seen []string
	for {
		l, err := r.ReadString('\n')
		seen = append(seen, l)
		if line != nil {
			line(l)
		}
		if strings.Contains(l, "broker serving at "+b.sock) {
			break
		}
		if err != nil {
			t.Fatalf("agentctl serve %s: %v\n%s", strings.Join(args, " "), err, strings.Join(seen, ""))
		}
	}
	go io.Copy(io.Discard, r)
	return b
}

// via returns a copy of e whose commands go to the broker b.
func (e *env) via(b *brokerProc) *env {
	c := *e
	c.vars = append(append([]string{}, e.vars...), "AGENTCTL_SOCKET="+b.sock)
	return &c
}

// TestBrokerOutputIsTheOneShotOutput runs a table of commands one-shot
// and through a broker, as the agent's user against a real cluster: the
// same stdout, stderr and exit code, byte for byte, and the broker's
// worker (not the client) is what ran and audited them.
func TestBrokerOutputIsTheOneShotOutput(t *testing.T) {
	c := testenv.Start(t)
	ns := c.NewNamespace(t)
	c.Apply(t, ns, webFixtures)
	kcAdmin := c.Kubeconfig(t, testenv.UserAdmin)
	manifest := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-stdin\ndata: {a: b}\n"
	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
	}{
		{"sandboxed read: get cm -o name", "", []string{"kubectl", "--kubeconfig", "KC", "-n", ns, "get", "cm", "-o", "name"}},
		{"sandboxed read: get cm app-config -o yaml", "", []string{"kubectl", "--kubeconfig", "KC", "-n", ns, "get", "cm", "app-config", "-o", "yaml"}},
		{"the tool's own error: get nosuchkind", "", []string{"kubectl", "--kubeconfig", "KC", "-n", ns, "get", "nosuchkind"}},
		{"refusal: delete cm in CI", "", []string{"kubectl", "--kubeconfig", "KC", "-n", ns, "delete", "cm", "app-config"}},
		{"refusal as json: -o json delete cm", "", []string{"-o", "json", "kubectl", "--kubeconfig", "KC", "-n", ns, "delete", "cm", "app-config"}},
		{"stdin: create --dry-run=client -f -", manifest, []string{"kubectl", "--kubeconfig", "KC", "-n", ns, "create", "--dry-run=client", "-f", "-", "-o", "name"}},
		{"stdin: apply --dry-run=server -f -", manifest, []string{"kubectl", "--kubeconfig", "KC", "-n", ns, "apply", "--dry-run=server", "-f", "-"}},
		{"stdin: apply -f - refused in CI", manifest, []string{"-o", "json", "kubectl", "--kubeconfig", "KC", "-n", ns, "apply", "-f", "-"}},
		{"explain", "", []string{"explain", "--", "kubectl", "-n", ns, "delete", "pod", "web"}},
		{"usage error: a typo", "", []string{"kubectl", "--kubeconfig", "KC", "gett", "pods"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A fresh agent and broker per case: refusals count towards
			// the OS user's lockout.
			e := newAgentEnv(t)
			kc := e.give(kcAdmin)
			for i, a := range tc.args {
				if a == "KC" {
					tc.args[i] = kc
				}
			}
			b := startBroker(t, e)
			viaBroker := e.via(b)
			one := e.runStdin(agentctlBin(t), tc.stdin, tc.args...)
			via := viaBroker.runStdin(agentctlBin(t), tc.stdin, tc.args...)
			// Each request has an id of its own, and the approval hash
			// covers it: the one field that must differ.
			for _, r := range []*result{&one, &via} {
				r.stderr = refusalIDs.ReplaceAllString(r.stderr, `"$1":"ID"`)
			}
			if one.stdout != via.stdout || one.stderr != via.stderr || one.code != via.code {
				t.Fatalf("one-shot: exit %d\nstdout: %q\nstderr: %q\nvia the broker: exit %d\nstdout: %q\nstderr: %q",
					one.code, one.stdout, one.stderr, via.code, via.stdout, via.stderr)
			}
			if one.stdout == "" && one.stderr == "" {
				t.Errorf("the command printed nothing: exit %d", one.code)
			}
			// What the broker ran, its worker ran: a child of the broker.
			if tc.args[0] == "explain" {
				return // explain writes no audit record
			}
			var byBroker, byClient int
			for _, r := range e.auditRecords() {
				if r["kind"] == "decision" {
					if r["ppid"] == float64(b.pid) {
						byBroker++
					} else {
						byClient++
					}
				}
			}
			if byBroker != 1 || byClient != 1 {
				t.Errorf("decision records: %d by the broker's workers (children of pid %d), %d one-shot; want 1 and 1", byBroker, b.pid, byClient)
			}
		})
	}
}

// TestBrokerKilledMidCommand kills the broker while a watch runs through
// it: the client says the broker went away and exits 70, the command is
// killed with it (no process of it is left), and the audit log has the
// command's decision record and no result.
func TestBrokerKilledMidCommand(t *testing.T) {
	c := testenv.Start(t)
	ns := c.NewNamespace(t)
	c.Apply(t, ns, webFixtures)
	e := newAgentEnv(t)
	kc := e.give(c.Kubeconfig(t, testenv.UserAdmin))
	b := startBroker(t, e)
	cl := exec.Command(agentctlBin(t), "kubectl", "--kubeconfig", kc, "-n", ns, "get", "cm", "app-config", "-w")
	cl.Env, cl.Dir = e.via(b).vars, e.dir
	if e.agent.Cred != nil {
		cl.SysProcAttr = &syscall.SysProcAttr{Credential: e.agent.Cred}
	}
	stdout, _ := cl.StdoutPipe()
	// A file, not a pipe: a command that outlived the broker would hold
	// a pipe open and Wait with it.
	errFile, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	cl.Stderr = errFile
	stderrText := func() string { b, _ := os.ReadFile(errFile.Name()); return string(b) }
	if err := cl.Start(); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(stdout)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("the watch ended before printing app-config: %v\nstderr: %s", err, stderrText())
		}
		if strings.HasPrefix(line, "app-config") {
			break
		}
	}
	if err := b.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cl.Wait() // not reading stdout to its end: a surviving command holds it open
	if code := cl.ProcessState.ExitCode(); code != 70 || !strings.Contains(stderrText(), "agentctl: broker went away") {
		t.Errorf("client: exit %d, stderr %q; want 70 and broker went away", code, stderrText())
	}
	// No process of the command is left: none names the namespace.
	deadline := time.Now().Add(hang)
	for left := processesNaming(ns); len(left) > 0; left = processesNaming(ns) {
		if time.Now().After(deadline) {
			t.Fatalf("processes of the killed broker's command live on: %v", left)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var decision map[string]any
	results := map[any]bool{}
	for _, rec := range e.auditRecords() {
		switch rec["kind"] {
		case "decision":
			if strings.Contains(fmt.Sprint(rec["args"]), "-w") {
				decision = rec
			}
		case "result":
			results[rec["id"]] = true
		}
	}
	if decision == nil {
		t.Fatal("no decision record of the watch")
	}
	if results[decision["id"]] {
		t.Error("the killed command has a result record")
	}
	// The dead broker left its socket; the next one takes over.
	if _, err := os.Lstat(b.sock); err != nil {
		t.Fatalf("the killed broker's socket: %v", err)
	}
	next := startBrokerAt(t, e, b.sock)
	got := e.via(next).agentctl("kubectl", "--kubeconfig", kc, "-n", ns, "get", "cm", "app-config", "-o", "name")
	if got.code != 0 || got.stdout != "configmap/app-config\n" {
		t.Fatalf("through the broker that took over: exit %d\nstdout: %s\nstderr: %s", got.code, got.stdout, got.stderr)
	}
}

// TestServeInTheBackground: `agentctl serve` without --foreground returns
// once its broker listens, naming socket and pid; a second one refuses
// while it runs.
func TestServeInTheBackground(t *testing.T) {
	e := newAgentEnv(t)
	sock := filepath.Join(e.agent.Dir(t), "agentctl", "broker.sock")
	got := e.agentctl("serve", "--socket", sock)
	var pid int
	if _, err := fmt.Sscanf(got.stderr, "agentctl: broker serving at "+sock+" (pid %d)", &pid); err != nil || got.code != 0 {
		t.Fatalf("serve: exit %d, stderr %q (%v)", got.code, got.stderr, err)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGTERM) })
	if again := e.agentctl("serve", "--socket", sock); again.code == 0 || !strings.Contains(again.stderr, fmt.Sprintf("a broker is already serving at %q (pid %d)", sock, pid)) {
		t.Errorf("a second serve: exit %d, stderr %q", again.code, again.stderr)
	}
	via := e.via(&brokerProc{sock: sock}).agentctl("explain", "--", "kubectl", "get", "pods")
	if via.code != 0 {
		t.Fatalf("through the background broker: exit %d\nstderr: %s", via.code, via.stderr)
	}
	if log, err := os.ReadFile(filepath.Join(filepath.Dir(sock), "broker.log")); err != nil || !strings.Contains(string(log), "broker serving at") {
		t.Errorf("broker.log: %q, %v", log, err)
	}
}

// processesNaming lists the pids whose command line contains s.
func processesNaming(s string) []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, d := range ents {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		b, _ := os.ReadFile("/proc/" + d.Name() + "/cmdline")
		if strings.Contains(string(b), s) {
			if st, _ := os.ReadFile("/proc/" + d.Name() + "/stat"); !strings.Contains(string(st), ") Z ") {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// TestBrokerRefusesOtherUsers runs the broker as the agent and a client
// as root: the broker refuses the other uid (exit 77), runs nothing, and
// audits the refusal.
func TestBrokerRefusesOtherUsers(t *testing.T) {
	e := newAgentEnv(t)
	if !e.agent.Root() {
		t.Skip("needs a second user: run the tests as root, as CI does")
	}
	b := startBroker(t, e)
	root := newEnv(t)
	root.vars = append(root.vars, "AGENTCTL_SOCKET="+b.sock)
	got := root.agentctl("kubectl", "get", "pods")
	if got.code != 77 || !strings.Contains(got.stderr, "uid 0 may not use the broker of uid 65534") {
		t.Fatalf("root's client: exit %d\nstdout: %s\nstderr: %s", got.code, got.stdout, got.stderr)
	}
	var refused bool
	for _, r := range e.auditRecords() {
		if r["kind"] == "broker" && r["note"] == "peer refused" && r["uid"] == float64(0) {
			refused = true
		}
		if r["kind"] == "decision" {
			t.Errorf("a command ran: %v", r)
		}
	}
	if !refused {
		t.Error("no broker record of the refused peer in the broker's audit log")
	}
}

// TestBrokerDropsGarbageAndServesOn sends a broker garbage and a 1 GB
// frame header: each connection is dropped with an audited error and the
// broker goes on running commands.
func TestBrokerDropsGarbageAndServesOn(t *testing.T) {
	e := newEnv(t)
	b := startBroker(t, e)
	for _, bad := range [][]byte{[]byte("\x00\x00\x00\x05Hnope garbage"), binary.BigEndian.AppendUint32(nil, 1<<30)} {
		c, err := net.Dial("unix", b.sock)
		if err != nil {
			t.Fatal(err)
		}
		c.Write(bad)
		c.(*net.UnixConn).CloseWrite()
		io.Copy(io.Discard, c) // until the broker drops it
		c.Close()
	}
	got := e.via(b).agentctl("explain", "--", "kubectl", "get", "pods")
	if got.code != 0 {
		t.Fatalf("after the garbage: exit %d\nstderr: %s", got.code, got.stderr)
	}
	n := 0
	for _, r := range e.auditRecords() {
		if r["kind"] == "broker" && r["note"] == "protocol error" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d audited protocol errors, want 2", n)
	}
}

// TestBrokerRequired: with `broker: required` in root's config and no
// broker, a command exits 70 naming the socket; with one, it runs.
func TestBrokerRequired(t *testing.T) {
	adminFiles(t, map[string]string{"config.yaml": "broker: required\n"})
	e := newAgentEnv(t)
	sock := filepath.Join(e.agent.Dir(t), "agentctl", "broker.sock")
	got := e.via(&brokerProc{sock: sock}).agentctl("explain", "--", "kubectl", "get", "pods")
	if got.code != 70 || !strings.Contains(got.stderr, "no broker at "+sock) || !strings.Contains(got.stderr, "agentctl serve") {
		t.Fatalf("without a broker: exit %d\nstderr: %s", got.code, got.stderr)
	}
	b := startBroker(t, e)
	if got := e.via(b).agentctl("explain", "--", "kubectl", "get", "pods"); got.code != 0 {
		t.Fatalf("with a broker: exit %d\nstderr: %s", got.code, got.stderr)
	}
}

// TestForwardingClientInitialisesNothingOfKubectls: a client whose
// command a broker runs exits from package early's init, before
// kubectl's, client-go's, cobra's, bubbletea's and cel's packages
// initialise, and initialises under a quarter of the packages the
// one-shot path does (docs/protocol.md, "A cheap client"). A few leaf
// packages with no dependencies of their own initialise first anyway:
// Go picks the lexically first ready package while early waits for its
// own dependencies.
func TestForwardingClientInitialisesNothingOfKubectls(t *testing.T) {
	e := newEnv(t)
	b := startBroker(t, e)
	e.vars = append(e.vars, "GODEBUG=inittrace=1") // the clients'; never a worker's
	inits := func(r result) (n int, heavy []string) {
		for _, line := range strings.Split(r.stderr, "\n") {
			f := strings.Fields(line)
			if len(f) < 2 || f[0] != "init" {
				continue
			}
			n++
			for _, h := range []string{"k8s.io/kubectl/", "k8s.io/api/", "k8s.io/client-go/kubernetes", "github.com/spf13/cobra", "github.com/charmbracelet/bubbletea", "github.com/google/cel-go/cel"} {
				if strings.HasPrefix(f[1], h) {
					heavy = append(heavy, f[1])
				}
			}
		}
		return n, heavy
	}
	oneShot, _ := inits(e.agentctl("kubectl", "version", "--client"))
	got := e.via(b).agentctl("kubectl", "version", "--client")
	if got.code != 0 || !strings.Contains(got.stdout, "Client Version") {
		t.Fatalf("forwarded kubectl version: exit %d\nstdout: %s\nstderr: %s", got.code, got.stdout, got.stderr)
	}
	n, heavy := inits(got)
	if n == 0 {
		t.Fatalf("no inittrace in the client's stderr: %s", got.stderr)
	}
	if len(heavy) > 0 || n*4 > oneShot {
		t.Fatalf("the forwarding client initialised %d packages (the one-shot path %d), %d of them heavy (%v)", n, oneShot, len(heavy), heavy)
	}
}

// TestBrokerTerraformLikeOneShot runs a terraform plan and a refused
// apply one-shot and through a broker whose environment holds the
// terraform configuration (CLI config, provider mirror): the same bytes
// and exit codes (but for the random name of the saved plan file).
func TestBrokerTerraformLikeOneShot(t *testing.T) {
	planFile := regexp.MustCompile(`plan-[0-9]+\.tfplan`)
	e, _ := tfEnv(t, "creates")
	b := startBroker(t, e)
	for _, args := range [][]string{
		{"terraform", "plan", "-no-color", "-input=false"},
		{"terraform", "apply", "-no-color", "-input=false"},
	} {
		one := e.agentctl(args...)
		via := e.via(b).agentctl(args...)
		one.stderr = planFile.ReplaceAllString(one.stderr, "plan-N.tfplan")
		via.stderr = planFile.ReplaceAllString(via.stderr, "plan-N.tfplan")
		if one.stdout != via.stdout || one.stderr != via.stderr || one.code != via.code {
			t.Errorf("%v: one-shot: exit %d\nstdout: %q\nstderr: %q\nvia the broker: exit %d\nstdout: %q\nstderr: %q",
				args, one.code, one.stdout, one.stderr, via.code, via.stdout, via.stderr)
		}
	}
}

// refusalIDs are the per-request fields of a JSON refusal.
var refusalIDs = regexp.MustCompile(`"(requestId|approvalHash)":"[0-9a-f]+"`)
