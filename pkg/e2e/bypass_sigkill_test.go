package e2e_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

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
	if left := survivors(t, below); len(left) > 0 {
		t.Errorf("still running %v after agentctl was killed: %v", orphanDeadline, left)
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
