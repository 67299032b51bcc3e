package e2e_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/agentctl/agentctl/pkg/testenv"
)

// Finding 6 of issue 14: SIGKILL of agentctl must not orphan the command
// it runs, and the audit log must show the decision that no result
// follows. Each test starts agentctl as the agent on a command that does
// not end by itself, waits until the command is running, SIGKILLs
// agentctl, and checks that every process below it dies and that
// `agentctl audit verify` lists the decision as unfinished.

// killMidway SIGKILLs r's agentctl once ready has returned and checks
// that nothing it started outlives it and that audit verify reports the
// decision as unfinished (exit 0: the chain holds).
func killMidway(t *testing.T, e *env, r *running, ready func()) {
	t.Helper()
	ready()
	below := descendants(r.cmd.Process.Pid)
	if len(below) == 0 {
		t.Fatalf("agentctl runs no child process; the test proves nothing\n%s", r.output())
	}
	t.Logf("below agentctl: %v", below)
	r.kill(t)
	for _, p := range survivors(t, below) {
		t.Errorf("still running %v after agentctl was killed: %v", orphanDeadline, p)
	}
	var id string
	for _, rec := range e.auditRecords() {
		if rec["kind"] == "decision" {
			id, _ = rec["id"].(string)
		}
	}
	got := e.agentctl("audit", "verify")
	if got.code != 0 || id == "" || !strings.Contains(got.stdout, "unfinished: 1 decision") || !strings.Contains(got.stdout, id) {
		t.Errorf("audit verify: exit %d, want 0 listing request %q as unfinished\nstdout: %s\nstderr: %s", got.code, id, got.stdout, got.stderr)
	}
}

// TestSIGKILLOfAgentctlKillsTheSandboxedRead: a sandboxed watch
// (`get -w`), killed while it waits for changes.
func TestSIGKILLOfAgentctlKillsTheSandboxedRead(t *testing.T) {
	c := testenv.Start(t)
	ns := c.NewNamespace(t)
	c.Apply(t, ns, webFixtures)
	e := newAgentEnv(t)
	kc := e.give(c.Kubeconfig(t, testenv.UserAdmin))
	r := e.startAgentctl("kubectl", "--kubeconfig", kc, "-n", ns, "get", "cm", "app-config", "-w", "-o", "name")
	killMidway(t, e, r, func() { r.waitLine(t, "configmap/app-config") })
	if !strings.Contains(fmt.Sprint(e.auditRecords()), "sandbox") {
		t.Errorf("the watch did not run sandboxed: %v", e.auditRecords())
	}
}

// TestSIGKILLOfAgentctlKillsTheApprovedChange: a delete that policy
// allows runs outside the sandbox with the agent's identity; the
// ConfigMap has a finalizer, so kubectl waits for it to go, and is
// killed while it waits.
func TestSIGKILLOfAgentctlKillsTheApprovedChange(t *testing.T) {
	c := testenv.Start(t)
	ns := c.NewNamespace(t)
	c.Apply(t, ns, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: held, finalizers: [agentctl.test/hold]}\ndata: {a: b}\n")
	t.Cleanup(func() {
		c.AdminClient(t).CoreV1().ConfigMaps(ns).Patch(context.Background(), "held", types.MergePatchType,
			[]byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{})
	})
	adminFiles(t, map[string]string{"policy.yaml": `version: 1
rules:
  - name: e2e-configmap-deletes
    tool: [kubectl]
    class: [destructive]
    resource: [configmaps]
    namespace: [` + ns + `]
    decision: allow
`})
	e := newAgentEnv(t)
	kc := e.give(c.Kubeconfig(t, testenv.UserAdmin))
	r := e.startAgentctl("kubectl", "--kubeconfig", kc, "-n", ns, "delete", "cm", "held")
	killMidway(t, e, r, func() { r.waitLine(t, `configmap "held" deleted`) })
	for _, rec := range e.auditRecords() {
		if rec["kind"] == "decision" && rec["decision"] != "allow" {
			t.Errorf("decision %v, want allow (outside the sandbox)", rec["decision"])
		}
	}
}

// heldFIFO replaces the cloud's file of instance "web" with a FIFO that
// the test holds open for reading and writing, so that the provider
// blocks on it: reading it finds no data, and, with full, writing it
// finds the pipe full. It returns a func that reports whether one of
// pids' processes has the FIFO open (the provider is blocked in it).
func heldFIFO(t *testing.T, a *tfAgent, full bool) func([]osProc) bool {
	t.Helper()
	p := filepath.Join(a.d.Cloud, "instance", "web.json")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	os.Remove(p)
	if err := unix.Mkfifo(p, 0o644); err != nil {
		t.Fatal(err)
	}
	a.e.agent.Own(t, a.d.Cloud)
	f, err := os.OpenFile(p, os.O_RDWR|unix.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if full {
		unix.FcntlInt(f.Fd(), unix.F_SETPIPE_SZ, 4096)
		for {
			if _, err := unix.Write(int(f.Fd()), make([]byte, 4096)); err != nil {
				break // EAGAIN: full
			}
		}
	}
	return func(ps []osProc) bool {
		for _, pr := range ps {
			fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pr.pid))
			for _, fd := range fds {
				if l, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pr.pid, fd.Name())); strings.HasSuffix(l, "/instance/web.json") {
					return true
				}
			}
		}
		return false
	}
}

// waitFor polls until cond holds for the processes below r's agentctl;
// it fails t if agentctl ends first.
func waitFor(t *testing.T, r *running, what string, cond func([]osProc) bool) {
	t.Helper()
	for end := time.Now().Add(hang); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		select {
		case <-r.waited:
			t.Fatalf("agentctl ended before %s\n%s", what, r.output())
		default:
		}
		if cond(descendants(r.cmd.Process.Pid)) {
			return
		}
	}
	t.Fatalf("agentctl never got to %s\n%s", what, r.output())
}

// TestSIGKILLOfAgentctlKillsTheSandboxedPlanAndItsProvider: a sandboxed
// terraform plan whose provider blocks while it refreshes an instance.
func TestSIGKILLOfAgentctlKillsTheSandboxedPlanAndItsProvider(t *testing.T) {
	a := newTFAgent(t, "creates")
	a.d.Run(t, "apply", "-auto-approve", "-input=false", "-no-color")
	a.e.agent.Own(t, a.d.Dir)
	blocked := heldFIFO(t, a, false)
	r := a.e.startAgentctl("terraform", "plan", "-no-color", "-input=false")
	killMidway(t, a.e, r, func() { waitFor(t, r, "a provider reading the cloud", blocked) })
}

// TestSIGKILLOfAgentctlKillsTheApprovedApply: an apply that policy
// allows runs outside the sandbox; its provider blocks while it creates
// the instance. terraform dies with agentctl, and its provider plugin,
// which terraform started, with it: terraform runs as the init of a PID
// namespace of its own.
func TestSIGKILLOfAgentctlKillsTheApprovedApply(t *testing.T) {
	adminFiles(t, map[string]string{"policy.yaml": `version: 1
rules:
  - name: e2e-terraform-writes
    tool: [terraform]
    class: [write]
    decision: allow
`})
	a := newTFAgent(t, "creates")
	blocked := heldFIFO(t, a, true)
	r := a.e.startAgentctl("terraform", "apply", "-no-color", "-input=false")
	killMidway(t, a.e, r, func() { waitFor(t, r, "a provider writing the cloud", blocked) })
}
