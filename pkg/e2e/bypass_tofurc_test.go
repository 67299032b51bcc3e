package e2e_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentctl/agentctl/pkg/testenv"
)

// TestBypassTofuRCDevOverrides plays an agent that writes ~/.tofurc, the
// CLI configuration OpenTofu reads before ~/.terraformrc, with
// dev_overrides, and then a filesystem_mirror outside the project:
// `agentctl tofu plan` reads the file tofu reads and refuses both, as it
// does for terraform's.
func TestBypassTofuRCDevOverrides(t *testing.T) {
	agentctlBin(t)
	e := newAgentEnv(t)
	tofu := e.agent.Bin(t, testenv.Tofu(t))
	src, err := os.ReadFile(filepath.Join("..", "..", "testdata", "terraform", "data-only", "main.tf"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.dir, "main.tf"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	e.agent.Own(t, filepath.Join(e.dir, "main.tf"))
	vars := e.vars[:0]
	for _, kv := range e.vars {
		if !strings.HasPrefix(kv, "TF_CLI_CONFIG_FILE=") { // tofu reads ~/.tofurc only without it
			vars = append(vars, kv)
		}
	}
	e.vars = append(vars, "AGENTCTL_TOFU="+tofu, "CHECKPOINT_DISABLE=1")
	if got := e.run(tofu, "init", "-input=false", "-no-color"); got.code != 0 {
		t.Fatalf("tofu init: exit %d\n%s%s", got.code, got.stdout, got.stderr)
	}
	if got := e.agentctl("tofu", "plan", "-no-color", "-input=false"); got.code != 0 || !strings.Contains(got.stdout, "2 to add") {
		t.Fatalf("tofu plan before: exit %d\nstdout: %s\nstderr: %s", got.code, got.stdout, got.stderr)
	}
	rc := filepath.Join(e.home, ".tofurc")
	evil := filepath.Join(e.home, "evil")
	for _, tc := range []struct {
		name, body, want string
		code             int
	}{
		{"dev_overrides", fmt.Sprintf("provider_installation {\n  dev_overrides {\n    \"example.com/x/y\" = %q\n  }\n  direct {}\n}\n", evil), "dev_overrides", exitDenied},
		{"filesystem_mirror outside the project", fmt.Sprintf("provider_installation {\n  filesystem_mirror {\n    path = %q\n  }\n}\n", evil), "outside the project", exitConfig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.MkdirAll(evil, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(rc, []byte(tc.body), 0o644); err != nil {
				t.Fatal(err)
			}
			e.agent.Own(t, rc)
			e.agent.Own(t, evil)
			got := e.agentctl("tofu", "plan", "-no-color", "-input=false")
			if got.code != tc.code || !strings.Contains(got.stderr, tc.want) || !strings.Contains(got.stderr, rc) {
				t.Errorf("exit %d, want %d refusing %s in %q\nstdout: %s\nstderr: %s", got.code, tc.code, tc.want, rc, got.stdout, got.stderr)
			}
		})
	}
}
