package run_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/classify/terraform"
	"github.com/agentctl/agentctl/pkg/request"
	"github.com/agentctl/agentctl/pkg/run"
	"github.com/agentctl/agentctl/pkg/testenv"
)

func assessApply(t *testing.T, d *testenv.TerraformDir, env []string, args ...string) *classify.Assessment {
	t.Helper()
	c := terraform.New(terraform.Options{Terraform: d.Bin, ScratchDir: t.TempDir()})
	req := &request.Request{Tool: "terraform", Args: args, Cwd: d.Dir, Env: append(append([]string{}, d.Env...), env...)}
	a, err := c.Classify(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if a.Plan == nil {
		t.Fatalf("terraform %q was not planned: %+v", args, a)
	}
	return a
}

func TestApplyPlanAppliesTheAssessedPlan(t *testing.T) {
	d := testenv.NewTerraformDir(t, "creates")
	a := assessApply(t, d, []string{"TF_CLI_ARGS_apply=-auto-approve"}, "apply")
	var out bytes.Buffer
	code, err := run.ApplyPlan(context.Background(), "terraform", d.Bin, a.Exec, a.Plan, d.Env, "", run.Stdio{Stdout: &out, Stderr: &out})
	if err != nil || code != 0 {
		t.Fatalf("apply: code %d err %v\n%s", code, err, out.String())
	}
	if _, ok := d.CloudSnapshot(t)["instance/web.json"]; !ok {
		t.Errorf("instance not created; cloud %v", d.CloudSnapshot(t))
	}
	if !strings.Contains(out.String(), "Apply complete! Resources: 2 added") {
		t.Errorf("output:\n%s", out.String())
	}
}

func TestApplyPlanRefusesAPlanFileChangedAfterAssessment(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"agentctl's own plan file", []string{"apply"}},
		{"the agent's plan file", []string{"apply", "agent.tfplan"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := testenv.NewTerraformDir(t, "fleet")
			d.Run(t, "plan", "-input=false", "-out=agent.tfplan", "-var=instances=1")
			a := assessApply(t, d, nil, tc.args...)
			// Swap in another valid plan: four instances instead of one.
			d.Run(t, "plan", "-input=false", "-out=other.tfplan", "-var=instances=4")
			other, err := os.ReadFile(filepath.Join(d.Dir, "other.tfplan"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(a.Plan.Path, other, 0o600); err != nil {
				t.Fatal(err)
			}
			before := d.CloudSnapshot(t)
			var out bytes.Buffer
			_, err = run.ApplyPlan(context.Background(), "terraform", d.Bin, a.Exec, a.Plan, d.Env, "", run.Stdio{Stdout: &out, Stderr: &out})
			var pc *run.PlanChangedError
			if !errors.As(err, &pc) {
				t.Fatalf("err %v, want a PlanChangedError\n%s", err, out.String())
			}
			if after := d.CloudSnapshot(t); !reflect.DeepEqual(before, after) || len(after) != 0 {
				t.Errorf("the cloud changed: %v", after)
			}
			if _, err := os.Stat(filepath.Join(d.Dir, "terraform.tfstate")); !os.IsNotExist(err) {
				t.Errorf("state was written: %v", err)
			}
		})
	}
}

func TestApplyPlanRefusesAnInvocationOfAnotherFile(t *testing.T) {
	plan := &classify.Plan{Path: "/tmp/a.tfplan", SHA256: strings.Repeat("0", 64)}
	inv := classify.Invocation{Args: []string{"apply", "-input=false", "/tmp/b.tfplan"}}
	if _, err := run.ApplyPlan(context.Background(), "terraform", "/bin/false", inv, plan, nil, "", run.Stdio{}); err == nil {
		t.Fatal("applied a plan file that was not assessed")
	}
}

func TestTerraformPassesOutputAndExitCodeThrough(t *testing.T) {
	d := testenv.NewTerraformDir(t, "fleet")
	for _, tc := range []struct {
		name string
		args []string
		env  []string
		code int
		out  string
	}{
		{"validate succeeds", []string{"validate", "-no-color"}, nil, 0, "Success! The configuration is valid."},
		{"a bad variable fails with 1", []string{"plan", "-no-color", "-var=instances=many"}, nil, 1, "instances"},
		{"TF_CLI_ARGS_plan is removed from the child", []string{"plan", "-no-color"},
			[]string{"TF_CLI_ARGS_plan=-frobnicate", "TF_CLI_ARGS=-frobnicate"}, 0, "2 to add"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			env := append(append([]string{}, d.Env...), tc.env...)
			code, err := run.Terraform(context.Background(), d.Bin, tc.args, d.Dir, env, run.Stdio{Stdout: &out, Stderr: &out})
			if err != nil || code != tc.code || !strings.Contains(out.String(), tc.out) {
				t.Errorf("code %d err %v, want code %d and %q in:\n%s", code, err, tc.code, tc.out, out.String())
			}
		})
	}
}
