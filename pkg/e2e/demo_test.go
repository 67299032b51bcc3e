package e2e_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentctl/agentctl/pkg/testenv"
)

// TestDemoWithoutATerminal runs `make demo`'s script as CI does, with no
// terminal: it must finish without waiting for anyone, refuse every
// change (exit 77), leave the configmap it was asked to delete, and end
// with an intact audit chain; its commands go through the broker it starts.
func TestDemoWithoutATerminal(t *testing.T) {
	bin := agentctlBin(t)
	for _, name := range []string{"etcd", "kube-apiserver", "kubectl"} {
		testenv.Bin(t, name) // the demo would build what is missing
	}
	cache, err := testenv.CacheDir()
	if err != nil {
		t.Fatal(err)
	}
	// It builds a small binary and starts a cluster before the commands
	// of the demo run: a deadlock guard, not a speed assertion.
	const demoHang = 3 * hang
	ctx, cancel := context.WithTimeout(context.Background(), demoHang)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join("..", "..", "testdata", "tools", "demo.sh"))
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); k == "KUBECONFIG" || strings.HasPrefix(k, "AGENTCTL_") || strings.HasPrefix(k, "XDG_") {
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	cmd.Env = append(cmd.Env, "CI=true", "AGENTCTL_TESTBIN="+cache, "AGENTCTL_DEMO_BIN="+bin)
	out, err := cmd.CombinedOutput() // stdin: /dev/null
	if ctx.Err() != nil {
		t.Fatalf("the demo hung for %v:\n%s", demoHang, out)
	}
	if err != nil {
		t.Fatalf("the demo failed: %v\n%s", err, out)
	}
	s := string(out)
	for _, want := range []string{
		"denied: destructive (delete deletes configmaps/app-config)",
		`"decision":"deny"`,
		"configmap/app-config\n(exit 0)",
		"chain intact",
		"agentctl: broker serving at ", // the demo's commands go through a broker
	} {
		if !strings.Contains(s, want) {
			t.Errorf("the demo's output lacks %q:\n%s", want, s)
		}
	}
	if n := strings.Count(s, "(exit 77)"); n != 3 {
		t.Errorf("the demo refused %d commands, want 3 (the delete, the RBAC apply, the agent's own policy):\n%s", n, s)
	}
}
