package e2e_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/agentctl/agentctl/pkg/testenv"
)

// tfEnv is an e2e environment whose working directory is a fresh copy of
// testdata/terraform/<config>, initialised, with its own testcloud.
func tfEnv(t *testing.T, config string) (*env, *testenv.TerraformDir) {
	t.Helper()
	d := testenv.NewTerraformDir(t, config)
	e := newEnv(t)
	e.dir = d.Dir
	for _, kv := range d.Env {
		if k, _, _ := strings.Cut(kv, "="); k != "PATH" && k != "HOME" {
			e.vars = append(e.vars, kv)
		}
	}
	e.vars = append(e.vars, "AGENTCTL_TERRAFORM="+d.Bin)
	return e, d
}

// tfExplained is the part of `agentctl explain --output json` read here.
type tfExplained struct {
	Class     string `json:"class"`
	Resources []struct {
		Address string `json:"address"`
		Action  string `json:"action"`
	} `json:"resources"`
	Plan *struct {
		Summary string `json:"summary"`
		SHA256  string `json:"sha256"`
	} `json:"plan"`
	Target struct {
		Dir string `json:"dir"`
	} `json:"target"`
}

func tfExplain(t *testing.T, e *env, args ...string) tfExplained {
	t.Helper()
	got := e.agentctl(append([]string{"explain", "--output", "json", "--", "terraform"}, args...)...)
	if got.code != 0 {
		t.Fatalf("explain exited %d, want 0\nstderr: %s", got.code, got.stderr)
	}
	var x tfExplained
	if err := json.Unmarshal([]byte(got.stdout), &x); err != nil {
		t.Fatalf("explain printed no JSON object: %v\n%s", err, got.stdout)
	}
	return x
}

// stateFiles returns the local state of d (and its backup), to compare.
func stateFiles(t *testing.T, d *testenv.TerraformDir) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, name := range []string{"terraform.tfstate", "terraform.tfstate.backup"} {
		if b, err := os.ReadFile(filepath.Join(d.Dir, name)); err == nil {
			m[name] = string(b)
		}
	}
	return m
}

// TestTerraformApplyIsClassifiedFromThePlanAndRefusedInCI checks that an
// apply's class comes from its plan, and that in CI (nobody can approve)
// it exits 77 and leaves the cloud and the state as they were.
func TestTerraformApplyIsClassifiedFromThePlanAndRefusedInCI(t *testing.T) {
	for _, tc := range []struct {
		name    string
		config  string
		prepare bool // apply the configuration first
		cwdUp   bool // run from the parent directory
		env     []string
		args    []string
		class   string
		summary string
	}{
		{name: "creates only: write", config: "creates", args: []string{"apply"},
			class: "write", summary: "Plan: 2 to add, 0 to change, 0 to destroy."},
		{name: "fewer instances deletes one: destructive", config: "fleet", prepare: true,
			args: []string{"apply", "-auto-approve", "-var=instances=1"}, class: "destructive",
			summary: "Plan: 0 to add, 0 to change, 1 to destroy."},
		{name: "destroy: destructive", config: "fleet", prepare: true, args: []string{"destroy", "-auto-approve"},
			class: "destructive", summary: "Plan: 0 to add, 0 to change, 2 to destroy."},
		{name: "IAM role and attachment: privilege", config: "iam", args: []string{"apply", "-auto-approve"},
			class: "privilege", summary: "Plan: 2 to add, 0 to change, 0 to destroy."},
		{name: "firewall rule: privilege", config: "firewall", args: []string{"apply"},
			class: "privilege", summary: "Plan: 1 to add, 0 to change, 0 to destroy."},
		{name: "TF_CLI_ARGS_apply=-auto-approve changes nothing", config: "creates",
			env: []string{"TF_CLI_ARGS_apply=-auto-approve"}, args: []string{"apply"},
			class: "write", summary: "Plan: 2 to add, 0 to change, 0 to destroy."},
		{name: "-chdir resolves against the working directory", config: "iam", cwdUp: true,
			args: []string{"-chdir=work", "apply", "-auto-approve"}, class: "privilege",
			summary: "Plan: 2 to add, 0 to change, 0 to destroy."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, d := tfEnv(t, tc.config)
			if tc.prepare {
				d.Run(t, "apply", "-auto-approve", "-input=false")
			}
			if tc.cwdUp {
				e.dir = filepath.Dir(d.Dir)
			}
			e.vars = append(e.vars, tc.env...)
			cloud, state := d.CloudSnapshot(t), stateFiles(t, d)

			x := tfExplain(t, e, tc.args...)
			if x.Class != tc.class || x.Plan == nil || x.Plan.Summary != tc.summary {
				t.Errorf("explain: class %s plan %+v, want %s with %q", x.Class, x.Plan, tc.class, tc.summary)
			}
			if x.Target.Dir != d.Dir {
				t.Errorf("explain: target dir %q, want %q", x.Target.Dir, d.Dir)
			}

			got := e.agentctl(append([]string{"terraform"}, tc.args...)...)
			if got.code != exitDenied {
				t.Errorf("exit code %d, want %d\nstdout: %s\nstderr: %s", got.code, exitDenied, got.stdout, got.stderr)
			}
			if strings.Contains(got.stdout, "Apply complete") || strings.Contains(got.stdout, "Destroy complete") {
				t.Errorf("stdout says terraform applied:\n%s", got.stdout)
			}
			if after := d.CloudSnapshot(t); !reflect.DeepEqual(cloud, after) {
				t.Errorf("the cloud changed:\nbefore %v\nafter  %v", cloud, after)
			}
			if after := stateFiles(t, d); !reflect.DeepEqual(state, after) {
				t.Error("the terraform state changed")
			}
		})
	}
}

// TestTerraformPlanPassesThrough checks that a read runs the real
// terraform and hands its output and exit code to the agent unchanged.
func TestTerraformPlanPassesThrough(t *testing.T) {
	e, d := tfEnv(t, "creates")
	got := e.agentctl("terraform", "plan", "-no-color", "-input=false")
	if got.code != 0 || !strings.Contains(got.stdout, "Plan: 2 to add, 0 to change, 0 to destroy.") {
		t.Errorf("exit code %d\nstdout: %s\nstderr: %s", got.code, got.stdout, got.stderr)
	}
	if snap := d.CloudSnapshot(t); len(snap) != 0 {
		t.Errorf("plan changed the cloud: %v", snap)
	}
	bad := e.agentctl("terraform", "validate", "-no-color", "-json=maybe")
	if bad.code != exitDenied || !strings.Contains(bad.stderr, "unknown") {
		t.Errorf("a flag terraform rejects: exit code %d, want %d (unknown)\nstderr: %s", bad.code, exitDenied, bad.stderr)
	}
}
