package e2e_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentctl/agentctl/pkg/testenv"
)

// TestTofuIsInterceptedLikeTerraform runs the real OpenTofu through
// agentctl: its apply is classified from its plan and refused in CI with
// the state untouched, and its plan passes through.
func TestTofuIsInterceptedLikeTerraform(t *testing.T) {
	tofu := testenv.Tofu(t)
	e := newEnv(t)
	src, err := os.ReadFile(filepath.Join("..", "..", "testdata", "terraform", "data-only", "main.tf"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.dir, "main.tf"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	init := exec.Command(tofu, "init", "-input=false", "-no-color")
	init.Dir, init.Env = e.dir, append(e.vars, "TF_IN_AUTOMATION=1")
	if out, err := init.CombinedOutput(); err != nil {
		t.Fatalf("tofu init: %v\n%s", err, out)
	}
	e.vars = append(e.vars, "AGENTCTL_TOFU="+tofu)

	got := e.agentctl("explain", "--output", "json", "--", "tofu", "apply", "-auto-approve")
	if got.code != 0 || !strings.Contains(got.stdout, `"class": "write"`) || !strings.Contains(got.stdout, "2 to add") {
		t.Fatalf("explain tofu apply: exit %d, want class write from a plan with 2 to add\nstdout: %s\nstderr: %s", got.code, got.stdout, got.stderr)
	}

	got = e.agentctl("tofu", "apply", "-auto-approve")
	if got.code != exitDenied {
		t.Errorf("tofu apply in CI: exit %d, want %d\nstderr: %s", got.code, exitDenied, got.stderr)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "terraform.tfstate")); err == nil {
		t.Error("a refused tofu apply wrote state")
	}

	got = e.agentctl("tofu", "plan", "-no-color", "-input=false")
	if got.code != 0 || !strings.Contains(got.stdout, "Plan: 2 to add, 0 to change, 0 to destroy.") {
		t.Errorf("tofu plan through agentctl: exit %d\nstdout: %s\nstderr: %s", got.code, got.stdout, got.stderr)
	}
}
