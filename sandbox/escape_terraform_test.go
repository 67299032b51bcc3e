package sandbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentctl/agentctl/pkg/testenv"
)

// TestEscapeTerraformPlan runs the real terraform plan, with the testcloud
// provider plugin, in the sandbox. The allowed plan works; a configuration
// that reads ~/.aws/credentials during plan (the way an `external` data
// source or a hostile provider would) fails, and the secret appears
// nowhere.
//
// The `external` provider cannot be installed here (no registry), so the
// read is done by terraform's own file() function inside the plan, and a
// child process that tries to read and send out credentials is covered by
// TestEscapeExecedTool: a provider plugin is such a child.
func TestEscapeTerraformPlan(t *testing.T) {
	e := newEscapeEnv(t)
	d := testenv.NewTerraformDir(t, "creates")
	planFile := filepath.Join(t.TempDir(), "plan.tfplan")
	mkfile(t, planFile, "")
	cfg := Config{
		Argv:             []string{d.Bin, "plan", "-input=false", "-no-color", "-lock=false", "-out=" + planFile},
		Dir:              d.Dir,
		Env:              append(replaceEnv(d.Env, "HOME", e.home), "TF_IN_AUTOMATION=1"),
		ReadOnly:         []string{d.Dir, d.Cloud, filepath.Dir(envValue(d.Env, "TF_CLI_CONFIG_FILE")), testenv.Testcloud(t)},
		ReadWrite:        []string{filepath.Join(d.Dir, ".terraform"), planFile},
		Scratch:          e.scratch,
		Deny:             e.deny,
		AllowUnixSockets: true, // terraform talks to its provider plugins over Unix sockets
		Required:         true,
	}
	t.Run("allowed plan with its provider plugin", func(t *testing.T) {
		code, out := runTerraform(t, cfg)
		if code != 0 || !strings.Contains(out, "Plan: 2 to add") {
			t.Fatalf("terraform plan in the sandbox: exit %d\n%s", code, out)
		}
		if fi, err := os.Stat(planFile); err != nil || fi.Size() == 0 {
			t.Errorf("plan file not written: %v", err)
		}
	})
	t.Run("plan that reads ~/.aws/credentials", func(t *testing.T) {
		mkfile(t, filepath.Join(d.Dir, "theft.tf"), `output "stolen" {
  value = file("${pathexpand("~")}/.aws/credentials")
}
`)
		code, out := runTerraform(t, cfg)
		if code == 0 {
			t.Errorf("terraform plan succeeded:\n%s", out)
		}
		if !unreachable(out) && !strings.Contains(strings.Join(strings.Fields(out), " "), "no file exists at") {
			t.Errorf("want permission denied, or no such file (not in the sandbox's root):\n%s", out)
		}
		if strings.Contains(out, "SECRET-") {
			t.Errorf("the secret came out:\n%s", out)
		}
	})
}

func runTerraform(t *testing.T, cfg Config) (int, string) {
	t.Helper()
	var out strings.Builder
	code, enf, err := Run(t.Context(), cfg, Stdio{Out: &out, Err: &out})
	if err != nil {
		t.Fatalf("sandbox.Run: %v", err)
	}
	t.Logf("enforced: %v\n%s", enf, out.String())
	return code, out.String()
}

func replaceEnv(env []string, key, value string) []string {
	out := []string{key + "=" + value}
	for _, kv := range env {
		if !strings.HasPrefix(kv, key+"=") {
			out = append(out, kv)
		}
	}
	return out
}

func envValue(env []string, key string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v
		}
	}
	return ""
}
