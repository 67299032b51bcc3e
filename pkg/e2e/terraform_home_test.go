package e2e_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentctl/agentctl/pkg/testenv"
)

// TestTerraformPlanMatchesRawTerraformWithCredentialsAtHome checks that a
// sandboxed terraform plan prints exactly what terraform prints, although
// the user's ~/.terraform.d (which holds credentials.tfrc.json) is out of
// the sandbox's reach and no CLI configuration is named.
func TestTerraformPlanMatchesRawTerraformWithCredentialsAtHome(t *testing.T) {
	tf := testenv.Terraform(t)
	e := newEnv(t)
	vars := e.vars[:0:0]
	for _, kv := range e.vars {
		if !strings.HasPrefix(kv, "TF_") {
			vars = append(vars, kv)
		}
	}
	e.vars = append(vars, "AGENTCTL_TERRAFORM="+tf)
	os.MkdirAll(filepath.Join(e.home, ".terraform.d"), 0o700)
	os.WriteFile(filepath.Join(e.home, ".terraform.d", "credentials.tfrc.json"), []byte(`{"credentials":{"app.example":{"token":"tf-token-must-never-leak"}}}`), 0o600)
	src, err := os.ReadFile(filepath.Join("..", "..", "testdata", "terraform", "data-only", "main.tf"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(e.dir, "main.tf"), src, 0o644)
	raw := func(args ...string) result {
		cmd := exec.Command(tf, args...)
		cmd.Dir, cmd.Env = e.dir, e.vars
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return result{stdout: string(out), code: code}
	}
	if r := raw("init", "-input=false", "-no-color"); r.code != 0 {
		t.Fatalf("terraform init: %s", r.stdout)
	}
	want := raw("plan", "-no-color", "-input=false")
	got := e.agentctl("terraform", "plan", "-no-color", "-input=false")
	if got.code != want.code || got.stdout+got.stderr != want.stdout {
		t.Errorf("agentctl terraform plan (exit %d):\n%s%s\nterraform plan (exit %d):\n%s", got.code, got.stdout, got.stderr, want.code, want.stdout)
	}
}
