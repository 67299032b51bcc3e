package e2e_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestTerraformApplyOfAMissingPlanFileIsTerraformsError checks that
// `terraform apply MISSING.tfplan` through agentctl says what terraform
// says about a plan file that does not exist, with terraform's exit code,
// and not agentctl's "internal failure" (issue 23).
func TestTerraformApplyOfAMissingPlanFileIsTerraformsError(t *testing.T) {
	e, d := tfEnv(t, "creates")
	for _, args := range [][]string{{"apply", "-no-color", "MISSING.tfplan"}, {"apply", "MISSING.tfplan"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			real := exec.Command(d.Bin, args...)
			real.Dir, real.Env = d.Dir, d.Env
			out, err := real.CombinedOutput()
			ee, ok := err.(*exec.ExitError)
			if !ok || !strings.Contains(string(out), `Failed to load "MISSING.tfplan" as a plan file`) {
				t.Fatalf("terraform itself: %v\n%s", err, out)
			}
			got := e.agentctl(append([]string{"terraform"}, args...)...)
			if got.code != ee.ExitCode() {
				t.Errorf("exit %d, want terraform's %d\nstderr: %s", got.code, ee.ExitCode(), got.stderr)
			}
			for _, want := range []string{`Failed to load "MISSING.tfplan" as a plan file`, "stat MISSING.tfplan: no such file or directory"} {
				if !strings.Contains(got.stderr, want) {
					t.Errorf("stderr does not say %q:\n%s", want, got.stderr)
				}
			}
			if strings.Contains(got.stderr, "internal") {
				t.Errorf("stderr calls it an internal failure:\n%s", got.stderr)
			}
		})
	}
}
