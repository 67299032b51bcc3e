package terraform_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	tfjson "github.com/hashicorp/terraform-json"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/classify/terraform"
	"github.com/agentctl/agentctl/pkg/request"
	"github.com/agentctl/agentctl/pkg/testenv"
)

// assess classifies terraform args in d (the request's Cwd) with env added.
func assess(t *testing.T, d *testenv.TerraformDir, opts terraform.Options, cwd string, env []string, args ...string) *classify.Assessment {
	t.Helper()
	opts.Terraform = d.Bin
	if opts.ScratchDir == "" {
		opts.ScratchDir = t.TempDir()
	}
	if cwd == "" {
		cwd = d.Dir
	}
	req := &request.Request{Tool: "terraform", Args: args, Cwd: cwd, Env: append(slices.Clone(d.Env), env...)}
	a, err := terraform.New(opts).Classify(context.Background(), req)
	if err != nil {
		t.Fatalf("classify terraform %q: %v", args, err)
	}
	return a
}

func actions(a *classify.Assessment) map[string]string {
	m := map[string]string{}
	for _, r := range a.Resources {
		m[r.Address] = r.Action
	}
	return m
}

func hasReason(a *classify.Assessment, substr string) bool {
	for _, r := range a.Reasons {
		if strings.Contains(r.Message, substr) {
			return true
		}
	}
	return false
}

func TestApplyOfCreatesOnlyIsWrite(t *testing.T) {
	d := testenv.NewTerraformDir(t, "creates")
	a := assess(t, d, terraform.Options{}, "", nil, "apply", "-auto-approve")
	if a.Class != classify.Write {
		t.Errorf("class %s, want write; reasons %v", a.Class, a.Reasons)
	}
	want := map[string]string{"testcloud_instance.web": "create", "terraform_data.marker": "create"}
	if got := actions(a); !reflect.DeepEqual(got, want) {
		t.Errorf("resources %v, want %v", got, want)
	}
	p := a.Plan
	if p == nil || !p.Owned || p.Summary != "Plan: 2 to add, 0 to change, 0 to destroy." {
		t.Fatalf("plan %+v", p)
	}
	b, err := os.ReadFile(p.Path)
	if err != nil || classify.SHA256(b) != p.SHA256 {
		t.Errorf("plan file %q does not have the recorded hash (%v)", p.Path, err)
	}
	if !strings.Contains(p.Rendered, "testcloud_instance.web will be created") || strings.Contains(p.Rendered, "\x1b[") {
		t.Errorf("rendered plan without colour expected, got:\n%s", p.Rendered)
	}
	if want := []string{"apply", "-input=false", p.Path}; !reflect.DeepEqual(a.Exec.Args, want) {
		t.Errorf("exec %q, want %q", a.Exec.Args, want)
	}
	if a.Exec.Dir != d.Dir {
		t.Errorf("exec dir %q, want %q", a.Exec.Dir, d.Dir)
	}
	if snap := d.CloudSnapshot(t); len(snap) != 0 {
		t.Errorf("classifying changed the cloud: %v", snap)
	}
	if err := terraform.Cleanup(a); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p.Path); !os.IsNotExist(err) {
		t.Errorf("owned plan file left behind: %v", err)
	}
}

func TestPlanDecidesTheClassOfApply(t *testing.T) {
	d := testenv.NewTerraformDir(t, "fleet")
	d.Run(t, "apply", "-auto-approve", "-input=false")
	tests := []struct {
		name    string
		args    []string
		class   classify.Class
		summary string
		actions map[string]string
	}{
		{"fewer instances delete one", []string{"apply", "-var=instances=1"}, classify.Destructive,
			"Plan: 0 to add, 0 to change, 1 to destroy.",
			map[string]string{"testcloud_instance.node[0]": "no-op", "testcloud_instance.node[1]": "delete"}},
		{"a new image replaces both", []string{"apply", "-var", "image=ubuntu"}, classify.Destructive,
			"Plan: 2 to add, 0 to change, 2 to destroy.",
			map[string]string{"testcloud_instance.node[0]": "replace", "testcloud_instance.node[1]": "replace"}},
		{"a new size updates in place", []string{"apply", "-auto-approve", "-var=size=large"}, classify.Write,
			"Plan: 0 to add, 2 to change, 0 to destroy.",
			map[string]string{"testcloud_instance.node[0]": "update", "testcloud_instance.node[1]": "update"}},
		{"no changes is a read", []string{"apply"}, classify.Read, "No changes.",
			map[string]string{"testcloud_instance.node[0]": "no-op", "testcloud_instance.node[1]": "no-op"}},
		{"-replace forces a replacement", []string{"apply", "-replace=testcloud_instance.node[1]"}, classify.Destructive,
			"Plan: 1 to add, 0 to change, 1 to destroy.",
			map[string]string{"testcloud_instance.node[0]": "no-op", "testcloud_instance.node[1]": "replace"}},
		{"destroy deletes everything", []string{"destroy", "-auto-approve"}, classify.Destructive,
			"Plan: 0 to add, 0 to change, 2 to destroy.",
			map[string]string{"testcloud_instance.node[0]": "delete", "testcloud_instance.node[1]": "delete"}},
		{"destroy -target deletes one", []string{"destroy", "-target=testcloud_instance.node[0]"}, classify.Destructive,
			"Plan: 0 to add, 0 to change, 1 to destroy.",
			map[string]string{"testcloud_instance.node[0]": "delete"}},
		{"apply -destroy is a destroy plan", []string{"apply", "-destroy"}, classify.Destructive,
			"Plan: 0 to add, 0 to change, 2 to destroy.",
			map[string]string{"testcloud_instance.node[0]": "delete", "testcloud_instance.node[1]": "delete"}},
	}
	before := d.CloudSnapshot(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := assess(t, d, terraform.Options{}, "", nil, tc.args...)
			if a.Class != tc.class {
				t.Errorf("class %s, want %s; reasons %v", a.Class, tc.class, a.Reasons)
			}
			if a.Plan == nil || a.Plan.Summary != tc.summary {
				t.Errorf("plan %+v, want summary %q", a.Plan, tc.summary)
			}
			if got := actions(a); !reflect.DeepEqual(got, tc.actions) {
				t.Errorf("resources %v, want %v", got, tc.actions)
			}
			if slices.Contains(a.Exec.Args, "-auto-approve") {
				t.Errorf("exec carries -auto-approve: %q", a.Exec.Args)
			}
		})
	}
	if after := d.CloudSnapshot(t); !reflect.DeepEqual(before, after) {
		t.Errorf("classifying changed the cloud:\nbefore %v\nafter  %v", before, after)
	}
}

func TestPrivilegeTypesMakeAPlanPrivilege(t *testing.T) {
	for _, tc := range []struct {
		config string
		extra  []string
		reason string
	}{
		{"iam", nil, "testcloud_iam_role.deployer: create of privilege type testcloud_iam_role"},
		{"firewall", nil, "testcloud_firewall_rule.ssh: create of privilege type"},
		{"creates", []string{"testcloud_inst*"}, `matches "testcloud_inst*"`},
	} {
		t.Run(tc.config, func(t *testing.T) {
			d := testenv.NewTerraformDir(t, tc.config)
			a := assess(t, d, terraform.Options{ExtraPrivilegeTypes: tc.extra}, "", nil, "apply")
			if a.Class != classify.Privilege || !hasReason(a, tc.reason) {
				t.Errorf("class %s, want privilege with reason %q; reasons %v", a.Class, tc.reason, a.Reasons)
			}
		})
	}
}

func TestIAMUpdateIsPrivilege(t *testing.T) {
	d := testenv.NewTerraformDir(t, "iam")
	d.Run(t, "apply", "-auto-approve", "-input=false")
	a := assess(t, d, terraform.Options{}, "", nil, "apply", "-var=policy=admin")
	if a.Class != classify.Privilege || actions(a)["testcloud_iam_role.deployer"] != "update" {
		t.Errorf("class %s resources %v, want privilege with an update", a.Class, actions(a))
	}
}

func TestSensitiveOutputChangesAreNoted(t *testing.T) {
	d := testenv.NewTerraformDir(t, "sensitive")
	a := assess(t, d, terraform.Options{}, "", nil, "apply")
	if !hasReason(a, `output "db_password" (sensitive): create`) {
		t.Errorf("reasons %v do not note the sensitive output", a.Reasons)
	}
	if hasReason(a, "hunter2") || strings.Contains(a.Plan.Rendered, "hunter2") {
		t.Error("the sensitive value leaked into the assessment")
	}
}

func TestApplyOfTheAgentsPlanFile(t *testing.T) {
	d := testenv.NewTerraformDir(t, "data-only")
	d.Run(t, "plan", "-out=agent.tfplan", "-input=false")
	a := assess(t, d, terraform.Options{}, "", nil, "apply", "-auto-approve", "agent.tfplan")
	path := filepath.Join(d.Dir, "agent.tfplan")
	if a.Plan == nil || a.Plan.Owned || a.Plan.Path != path {
		t.Fatalf("plan %+v, want the agent's %q", a.Plan, path)
	}
	b, _ := os.ReadFile(path)
	if a.Plan.SHA256 != classify.SHA256(b) {
		t.Error("recorded hash is not the plan file's")
	}
	if a.Class != classify.Write || a.Plan.Summary != "Plan: 2 to add, 0 to change, 0 to destroy." {
		t.Errorf("class %s summary %q", a.Class, a.Plan.Summary)
	}
	if want := []string{"apply", "-input=false", path}; !reflect.DeepEqual(a.Exec.Args, want) {
		t.Errorf("exec %q, want %q", a.Exec.Args, want)
	}
}

func TestChdirPlansTheNamedDirectory(t *testing.T) {
	d := testenv.NewTerraformDir(t, "creates")
	parent := filepath.Dir(d.Dir)
	a := assess(t, d, terraform.Options{}, parent, nil, "-chdir=work", "apply")
	if a.Target.Dir != d.Dir || a.Exec.Dir != d.Dir {
		t.Errorf("target dir %q exec dir %q, want %q", a.Target.Dir, a.Exec.Dir, d.Dir)
	}
	if actions(a)["testcloud_instance.web"] != "create" {
		t.Errorf("resources %v: the plan was not made in %q", actions(a), d.Dir)
	}
}

func TestTFCLIArgsApplyAutoApproveChangesNothing(t *testing.T) {
	d := testenv.NewTerraformDir(t, "iam")
	a := assess(t, d, terraform.Options{}, "", []string{"TF_CLI_ARGS_apply=-auto-approve", "TF_CLI_ARGS=-no-color"}, "apply")
	if a.Class != classify.Privilege {
		t.Errorf("class %s, want privilege", a.Class)
	}
	// TF_CLI_ARGS's -no-color is the user's: the apply keeps it.
	if want := []string{"apply", "-input=false", "-no-color", a.Plan.Path}; !reflect.DeepEqual(a.Exec.Args, want) {
		t.Errorf("exec %q, want %q", a.Exec.Args, want)
	}
	if !hasReason(a, "TF_CLI_ARGS_apply") {
		t.Errorf("reasons %v do not mention TF_CLI_ARGS_apply", a.Reasons)
	}
}

func TestPlanFailureIsAPlanError(t *testing.T) {
	d := testenv.NewTerraformDir(t, "fleet")
	req := &request.Request{Tool: "terraform", Args: []string{"apply", "-var=instances=many"}, Cwd: d.Dir, Env: d.Env}
	c := terraform.New(terraform.Options{Terraform: d.Bin, ScratchDir: t.TempDir()})
	_, err := c.Classify(context.Background(), req)
	var pe *terraform.PlanError
	if !errors.As(err, &pe) || pe.ExitCode != 1 || !strings.Contains(pe.Output, "instances") {
		t.Fatalf("error %v, want a PlanError with exit code 1 naming the variable", err)
	}
}

func TestLeanPlanReadingAgreesWithTerraformJSON(t *testing.T) {
	d := testenv.NewTerraformDir(t, "fleet")
	d.Run(t, "apply", "-auto-approve", "-input=false")
	d.Run(t, "plan", "-input=false", "-out=p.tfplan", "-var=instances=3", "-var=image=other", "-replace=testcloud_instance.node[0]")
	raw, err := d.Try("show", "-json", "p.tfplan")
	if err != nil {
		t.Fatalf("show -json: %v\n%s", err, raw)
	}
	var full tfjson.Plan
	if err := json.Unmarshal([]byte(raw), &full); err != nil {
		t.Fatal(err)
	}
	lean, err := terraform.ParsePlanJSON([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	priv := terraform.Privilege{"testcloud_iam_*"}
	if l, f := terraform.AssessPlan(lean, priv), terraform.AssessPlan(&full, priv); !reflect.DeepEqual(l, f) {
		t.Errorf("lean %+v\nfull %+v", l, f)
	}
}

func TestParsePlanJSONRefusesOtherFormats(t *testing.T) {
	for _, in := range []string{`{}`, `{"format_version":"2.0"}`, `[`, `{"format_version":"1.2","errored":true}`} {
		if _, err := terraform.ParsePlanJSON([]byte(in)); err == nil {
			t.Errorf("ParsePlanJSON(%s) accepted", in)
		}
	}
}

func TestEveryClassifyingCommandGoesThroughOptionsRun(t *testing.T) {
	d := testenv.NewTerraformDir(t, "creates")
	var ran [][]string
	run := func(ctx context.Context, bin string, args []string, dir string, env []string, stdout, stderr io.Writer) (int, error) {
		ran = append(ran, args)
		if dir != d.Dir {
			t.Errorf("terraform %q ran in %q, want %q", args, dir, d.Dir)
		}
		return terraform.Exec(ctx, bin, args, dir, env, stdout, stderr)
	}
	a := assess(t, d, terraform.Options{Run: run}, "", []string{"TF_CLI_ARGS_plan=-frobnicate"}, "apply", "-var=cloud_dir="+d.Cloud)
	want := [][]string{
		{"plan", "-input=false", "-out=" + a.Plan.Path, "-var=cloud_dir=" + d.Cloud},
		{"show", "-json", "-no-color", a.Plan.Path},
		{"show", "-no-color", a.Plan.Path},
	}
	if !reflect.DeepEqual(ran, want) {
		t.Errorf("ran %q\nwant %q", ran, want)
	}
}
