package e2e_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/agentctl/agentctl/pkg/testenv"
)

// TestJSONRefusalIsActionable: a refusal in CI says where the command
// was going (target), what it would have touched (resources), the request
// id its audit record carries, and which policy rule, in which file,
// would allow it; with an inbox running, the hint says how to reach it
// instead.
func TestJSONRefusalIsActionable(t *testing.T) {
	c := testenv.Start(t)
	ns := c.NewNamespace(t)
	c.Apply(t, ns, webFixtures)
	admin := c.Kubeconfig(t, testenv.UserAdmin)
	e := newEnv(t)
	refuse := func() map[string]any {
		t.Helper()
		got := e.agentctl("--output", "json", "kubectl", "--kubeconfig", admin, "-n", ns, "delete", "cm", "app-config")
		if got.code != exitDenied {
			t.Fatalf("exit %d, want %d\nstderr: %s", got.code, exitDenied, got.stderr)
		}
		var obj map[string]any
		if err := json.Unmarshal([]byte(got.stderr), &obj); err != nil {
			t.Fatalf("stderr is not one JSON object: %v\n%s", err, got.stderr)
		}
		return obj
	}

	obj := refuse()
	id, _ := obj["requestId"].(string)
	var audited []string
	for _, rec := range e.auditRecords() {
		if rec["kind"] == "decision" {
			audited = append(audited, fmt.Sprint(rec["id"]))
		}
	}
	if id == "" || len(audited) == 0 || audited[len(audited)-1] != id {
		t.Errorf("requestId %q, the audit log's decisions %v", id, audited)
	}
	target, _ := obj["target"].(map[string]any)
	if target["namespace"] != ns || target["server"] == nil {
		t.Errorf("target %v, want namespace %q and the server", target, ns)
	}
	res, _ := obj["resources"].([]any)
	if len(res) != 1 || fmt.Sprint(res[0].(map[string]any)["name"]) != "app-config" || fmt.Sprint(res[0].(map[string]any)["kind"]) != "ConfigMap" {
		t.Errorf("resources %v, want the ConfigMap app-config", res)
	}
	hint, _ := obj["hint"].(string)
	for _, want := range []string{"builtin:default.yaml:", build.admin + "/policy.yaml", fmt.Sprintf("namespace: %q", ns), "nonInteractive: true", "decision: allow"} {
		if !strings.Contains(hint, want) {
			t.Errorf("CI hint lacks %q: %s", want, hint)
		}
	}

	// Non-interactive, with an inbox running: how to use it.
	e.vars = append(e.vars, "XDG_RUNTIME_DIR="+t.TempDir())
	approveInInbox(t, e.vars)
	obj = refuse()
	if hint, _ := obj["hint"].(string); !strings.Contains(hint, "agentctl inbox` is running") || !strings.Contains(hint, "--approver inbox") {
		t.Errorf("hint with an inbox running: %s", hint)
	}
	if !configMapExists(t, c, ns, "app-config") {
		t.Error("the configmap was deleted")
	}
}

// TestOwnedPlanHasNoApplyAdvice: when agentctl plans an apply to its own
// plan file, the agent sees terraform's plan but not terraform's advice to
// run `terraform apply PLANFILE` on agentctl's file.
func TestOwnedPlanHasNoApplyAdvice(t *testing.T) {
	e, _ := tfEnv(t, "creates")
	got := e.agentctl("terraform", "apply")
	if got.code != exitDenied {
		t.Fatalf("exit %d, want %d\nstderr: %s", got.code, exitDenied, got.stderr)
	}
	if !strings.Contains(got.stderr, "Plan: 2 to add, 0 to change, 0 to destroy.") {
		t.Errorf("terraform's plan is missing:\n%s", got.stderr)
	}
	for _, advice := range []string{"To perform exactly these actions", `terraform apply "`, "Saved the plan to"} {
		if strings.Contains(got.stderr, advice) {
			t.Errorf("the agent sees terraform's advice %q:\n%s", advice, got.stderr)
		}
	}
}
