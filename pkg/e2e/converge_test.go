package e2e_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/agentctl/agentctl/pkg/testenv"
)

// convergePolicy lets agents change ns without a human and waits up to a
// minute for each change to converge.
func convergePolicy(t *testing.T, dir, ns string) string {
	t.Helper()
	looseningNeedsRoot(t)
	src := fmt.Sprintf(`
convergence: {timeout: 60s}
rules:
  - name: writes-allowed
    namespace: %q
    class: [write, destructive]
    decision: allow
`, ns)
	p := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func webDeployment(image, cpu string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: %s
        resources: {requests: {cpu: %q}}
`, image, cpu)
}

// convergenceRecords are the convergence records of the audit log in
// e's home.
func convergenceRecords(t *testing.T, e *env) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, r := range readAudit(t, filepath.Join(e.home, ".local", "state", "agentctl", "audit.jsonl")) {
		if r["kind"] == "convergence" {
			out = append(out, r["convergence"].(map[string]any))
		}
	}
	return out
}

// TestConvergenceImageChange checks that an image change through agentctl
// waits for the rollout and says it converged, on stderr only, with
// kubectl's own stdout and exit code, and a convergence record.
func TestConvergenceImageChange(t *testing.T) {
	c := testenv.StartConverging(t)
	ns := c.NewNamespace(t)
	admin := c.Kubeconfig(t, testenv.UserAdmin)
	e := newEnv(t)
	p := convergePolicy(t, e.dir, ns)

	got := e.runStdin(agentctlBin(t), webDeployment("testenv.invalid/web:1", "100m"), "--policy", p, "kubectl", "--kubeconfig", admin, "-n", ns, "apply", "-f", "-")
	if got.code != 0 || !strings.Contains(got.stderr, "agentctl: converged: deployment/web -n "+ns) {
		t.Fatalf("apply: exit %d\nstdout: %s\nstderr: %s", got.code, got.stdout, got.stderr)
	}
	got = e.agentctl("--policy", p, "kubectl", "--kubeconfig", admin, "-n", ns, "set", "image", "deploy/web", "app=testenv.invalid/web:2")
	if got.code != 0 || got.stdout != "deployment.apps/web image updated\n" {
		t.Errorf("set image: exit %d, stdout %q: want kubectl's own", got.code, got.stdout)
	}
	if !strings.Contains(got.stderr, "agentctl: converged: deployment/web -n "+ns) {
		t.Errorf("set image: stderr does not say it converged:\n%s", got.stderr)
	}
	d, err := c.AdminClient(t).AppsV1().Deployments(ns).Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil || d.Status.UpdatedReplicas != 2 || d.Status.AvailableReplicas != 2 {
		t.Errorf("after converged: %v, status %+v: the rollout was not done", err, d.Status)
	}
	recs := convergenceRecords(t, e)
	if len(recs) != 2 || recs[1]["state"] != "converged" {
		t.Fatalf("convergence records = %v, want two, the last converged", recs)
	}
	intent := fmt.Sprint(recs[1]["intents"])
	if !strings.Contains(intent, "testenv.invalid/web:2") || !strings.Contains(intent, "image") {
		t.Errorf("the record's intent does not name the image set: %s", intent)
	}
}

// TestConvergenceUnschedulable checks that a request no node can hold is
// reported failed with the scheduler's reason, and that kubectl's exit
// code (0: the apply itself worked) is kept.
func TestConvergenceUnschedulable(t *testing.T) {
	c := testenv.StartConverging(t)
	ns := c.NewNamespace(t)
	admin := c.Kubeconfig(t, testenv.UserAdmin)
	e := newEnv(t)
	p := convergePolicy(t, e.dir, ns)
	got := e.runStdin(agentctlBin(t), webDeployment("testenv.invalid/web:1", "64"), "--policy", p, "kubectl", "--kubeconfig", admin, "-n", ns, "apply", "-f", "-")
	if got.code != 0 || got.stdout != "deployment.apps/web created\n" {
		t.Errorf("apply: exit %d, stdout %q: want kubectl's", got.code, got.stdout)
	}
	if !strings.Contains(got.stderr, "agentctl: failed: deployment/web -n "+ns+": Unschedulable") || !strings.Contains(got.stderr, "Insufficient cpu") {
		t.Errorf("stderr does not report the scheduler's reason:\n%s", got.stderr)
	}
	recs := convergenceRecords(t, e)
	if len(recs) != 1 || recs[0]["state"] != "failed" {
		t.Errorf("convergence records = %v, want one, failed", recs)
	}
}

// TestConvergenceDelete checks that a deleted Deployment converges once
// its ReplicaSets and pods are gone.
func TestConvergenceDelete(t *testing.T) {
	c := testenv.StartConverging(t)
	ns := c.NewNamespace(t)
	admin := c.Kubeconfig(t, testenv.UserAdmin)
	e := newEnv(t)
	p := convergePolicy(t, e.dir, ns)
	if got := e.runStdin(agentctlBin(t), webDeployment("testenv.invalid/web:1", "100m"), "--policy", p, "kubectl", "--kubeconfig", admin, "-n", ns, "apply", "-f", "-"); got.code != 0 || !strings.Contains(got.stderr, "converged") {
		t.Fatalf("apply: exit %d\n%s", got.code, got.stderr)
	}
	got := e.agentctl("--policy", p, "kubectl", "--kubeconfig", admin, "-n", ns, "delete", "deploy", "web")
	if got.code != 0 || !strings.Contains(got.stderr, "agentctl: converged: deployment/web -n "+ns) {
		t.Fatalf("delete: exit %d\nstdout: %s\nstderr: %s", got.code, got.stdout, got.stderr)
	}
	pods, err := c.AdminClient(t).CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil || len(pods.Items) != 0 {
		t.Errorf("after the delete converged: %v, %d pods left", err, len(pods.Items))
	}
	recs := convergenceRecords(t, e)
	uids := fmt.Sprint(recs[len(recs)-1]["intents"])
	if !strings.Contains(uids, "uids") {
		t.Errorf("the delete's intent lists no dependents: %s", uids)
	}
}

const widgetCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
`

// TestConvergenceUnknownStatus checks that a custom resource kstatus has no
// rules for, and that has no status, is reported "unknown status", never
// converged.
func TestConvergenceUnknownStatus(t *testing.T) {
	c := testenv.StartConverging(t)
	c.Apply(t, "", widgetCRD)
	ns := c.NewNamespace(t)
	admin := c.Kubeconfig(t, testenv.UserAdmin)
	e := newEnv(t)
	p := convergePolicy(t, e.dir, ns)
	var got result
	// The CRD's API may take a moment to be served.
	for i := 0; i < 20; i++ {
		got = e.runStdin(agentctlBin(t), "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: 3}\n", "--policy", p, "kubectl", "--kubeconfig", admin, "-n", ns, "apply", "-f", "-")
		if got.code == 0 {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if got.code != 0 {
		t.Fatalf("apply: exit %d\n%s", got.code, got.stderr)
	}
	if !strings.Contains(got.stderr, "agentctl: unknown: widget.example.com/w -n "+ns) || !strings.Contains(got.stderr, "unknown status") || strings.Contains(got.stderr, "converged:") {
		t.Errorf("stderr does not say unknown status:\n%s", got.stderr)
	}
}

// TestConvergenceClusterGoneMidWait checks that a cluster that stops
// answering while agentctl waits gives a clear error, keeps kubectl's
// exit code, and leaves the change audited as applied.
func TestConvergenceClusterGoneMidWait(t *testing.T) {
	c := testenv.NewConvergingCluster(t)
	// The cluster is this test's and is stopped mid-test: no namespace
	// of its own to clean up.
	ns := "default"
	admin := c.Kubeconfig(t, testenv.UserAdmin)
	e := newEnv(t)
	p := convergePolicy(t, e.dir, ns)
	cs := c.AdminClient(t)
	go func() {
		// Stop the cluster once the (never schedulable) Deployment exists:
		// agentctl is waiting for it by then.
		for i := 0; i < 600; i++ {
			if _, err := cs.AppsV1().Deployments(ns).Get(context.Background(), "web", metav1.GetOptions{}); err == nil {
				time.Sleep(time.Second)
				c.Stop()
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	got := e.runStdin(agentctlBin(t), webDeployment("testenv.invalid/web:1", "64"), "--policy", p, "kubectl", "--kubeconfig", admin, "-n", ns, "apply", "-f", "-")
	if got.code != 0 || got.stdout != "deployment.apps/web created\n" {
		t.Errorf("apply: exit %d, stdout %q: want kubectl's", got.code, got.stdout)
	}
	if !strings.Contains(got.stderr, "agentctl: error: deployment/web -n "+ns) || !strings.Contains(got.stderr, "cannot read the cluster to check convergence") {
		t.Errorf("stderr does not say the cluster went away:\n%s", got.stderr)
	}
	var executed bool
	for _, r := range readAudit(t, filepath.Join(e.home, ".local", "state", "agentctl", "audit.jsonl")) {
		if r["kind"] == "result" && r["executed"] == true {
			executed = true
		}
	}
	if !executed {
		t.Error("the change is not audited as applied")
	}
	if recs := convergenceRecords(t, e); len(recs) != 1 || recs[0]["state"] != "error" {
		t.Errorf("convergence records = %v, want one, error", recs)
	}
}
