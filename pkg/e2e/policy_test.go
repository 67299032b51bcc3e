package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/agentctl/agentctl/pkg/approve"
	"github.com/agentctl/agentctl/pkg/testenv"
)

// devProdPolicy maps one namespace to dev and one to prod and lets agents
// delete in dev without a human.
func devProdPolicy(t *testing.T, dir, dev, prod string, lockout int) string {
	t.Helper()
	looseningNeedsRoot(t)
	src := fmt.Sprintf(`
environments:
  - {name: dev, namespace: %q}
  - {name: prod, namespace: %q}
limits:
  lockout: {denials: %d, window: 10m}
rules:
  - name: dev-deletes-allowed
    env: dev
    class: destructive
    decision: allow
`, dev, prod, lockout)
	p := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPolicyDevAllowsProdRefuses runs the same kubectl delete against a
// namespace the policy maps to dev (allowed: it runs, with no human) and
// one it maps to prod (refused: exit 77, the object stays).
func TestPolicyDevAllowsProdRefuses(t *testing.T) {
	c := testenv.Start(t)
	dev, prod := c.NewNamespace(t), c.NewNamespace(t)
	c.Apply(t, dev, webFixtures)
	c.Apply(t, prod, webFixtures)
	admin := c.Kubeconfig(t, testenv.UserAdmin)
	e := newEnv(t)
	p := devProdPolicy(t, e.dir, dev, prod, 5)

	got := e.agentctl("--output", "json", "--policy", p, "kubectl", "--kubeconfig", admin, "-n", prod, "delete", "cm", "app-config")
	if got.code != exitDenied {
		t.Errorf("prod: exit %d, want %d\nstderr: %s", got.code, exitDenied, got.stderr)
	}
	var refusal map[string]any
	if err := json.Unmarshal([]byte(got.stderr), &refusal); err != nil {
		t.Errorf("prod: stderr is not one JSON object: %v\n%s", err, got.stderr)
	} else if refusal["decision"] != "deny" || !strings.HasPrefix(fmt.Sprint(refusal["rule"]), "builtin:default.yaml:") {
		t.Errorf("prod: decision %v by %v, want deny by the default policy's rule", refusal["decision"], refusal["rule"])
	}
	if !configMapExists(t, c, prod, "app-config") {
		t.Error("prod: the configmap was deleted")
	}

	got = e.agentctl("--policy", p, "kubectl", "--kubeconfig", admin, "-n", dev, "delete", "cm", "app-config")
	if got.code != 0 || !strings.Contains(got.stdout, `configmap "app-config" deleted`) {
		t.Errorf("dev: exit %d, want 0 and kubectl's own output\nstdout: %s\nstderr: %s", got.code, got.stdout, got.stderr)
	}
	if configMapExists(t, c, dev, "app-config") {
		t.Error("dev: the configmap is still there")
	}
}

// TestPolicyLockoutThenUnlock: after K denials the agent is locked out, so
// even the delete its policy allows is refused, until `agentctl unlock`.
func TestPolicyLockoutThenUnlock(t *testing.T) {
	c := testenv.Start(t)
	dev, prod := c.NewNamespace(t), c.NewNamespace(t)
	c.Apply(t, dev, webFixtures)
	c.Apply(t, prod, webFixtures)
	admin := c.Kubeconfig(t, testenv.UserAdmin)
	e := newEnv(t)
	e.vars = append(e.vars, "AGENTCTL_AGENT=e2e-bot")
	p := devProdPolicy(t, e.dir, dev, prod, 2)
	del := func(ns string) result {
		return e.agentctl("--output", "json", "--policy", p, "kubectl", "--kubeconfig", admin, "-n", ns, "delete", "cm", "app-config")
	}

	for i := 0; i < 2; i++ {
		if got := del(prod); got.code != exitDenied {
			t.Fatalf("prod delete %d: exit %d, want %d: %s", i+1, got.code, exitDenied, got.stderr)
		}
	}
	got := del(dev)
	if got.code != exitDenied || !strings.Contains(got.stderr, `"rule":"lockout"`) || !strings.Contains(got.stderr, "agentctl unlock") {
		t.Fatalf("locked agent's dev delete: exit %d, want %d by rule lockout naming agentctl unlock\nstderr: %s", got.code, exitDenied, got.stderr)
	}
	if !configMapExists(t, c, dev, "app-config") {
		t.Fatal("a locked agent deleted the configmap")
	}
	if got := e.agentctl("kubectl", "--kubeconfig", admin, "-n", dev, "get", "cm", "app-config"); got.code != 0 {
		t.Errorf("a locked agent's read: exit %d, want 0: %s", got.code, got.stderr)
	}

	// The agent cannot lift its own lockout: the unlock needs a human.
	if got := e.agentctl("unlock"); got.code != exitDenied || strings.Contains(got.stdout, "unlocked") {
		t.Fatalf("unlock with nobody to approve it: exit %d, want %d\n%s%s", got.code, exitDenied, got.stdout, got.stderr)
	}
	if got := del(dev); got.code != exitDenied {
		t.Fatalf("after a refused unlock: exit %d, want %d", got.code, exitDenied)
	}
	// A human approves it in agentctl inbox.
	e.vars = slices.DeleteFunc(e.vars, func(kv string) bool { return kv == "CI=true" })
	e.vars = append(e.vars, "XDG_RUNTIME_DIR="+t.TempDir())
	approveInInbox(t, e.vars)
	if got := e.agentctl("unlock"); got.code != 0 || !strings.Contains(got.stdout, `"e2e-bot" unlocked`) {
		t.Fatalf("unlock: exit %d\n%s%s", got.code, got.stdout, got.stderr)
	}
	e.vars = append(e.vars, "CI=true")
	if got := del(dev); got.code != 0 {
		t.Errorf("after unlock: exit %d, want 0: %s", got.code, got.stderr)
	}
	if configMapExists(t, c, dev, "app-config") {
		t.Error("after unlock: the configmap is still there")
	}
}

// approveInInbox runs an agentctl inbox for the environment vars (in this
// process, as a human's second terminal would) that approves the first
// request it gets.
func approveInInbox(t *testing.T, vars []string) {
	t.Helper()
	srv, ctx := testInbox(t, vars)
	go func() {
		select {
		case p := <-srv.Requests():
			p.Answer(approve.Verdict{Approved: true})
		case <-ctx.Done():
		}
	}()
}

// testInbox listens as `agentctl inbox` does for a user with the
// environment vars (its XDG dirs), as the human "e2e-human", until the
// test ends; the caller answers its requests.
func testInbox(t *testing.T, vars []string) (*approve.InboxServer, context.Context) {
	t.Helper()
	getenv := func(k string) string {
		for i := len(vars) - 1; i >= 0; i-- {
			if name, v, _ := strings.Cut(vars[i], "="); name == k {
				return v
			}
		}
		return ""
	}
	paths, err := approve.DefaultPaths(getenv)
	if err != nil {
		t.Fatal(err)
	}
	key, err := approve.LoadOrCreateKey(paths)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := approve.Listen(paths, key, approve.ServerOptions{Approver: "e2e-human"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); srv.Close() })
	go srv.Serve(ctx)
	return srv, ctx
}
