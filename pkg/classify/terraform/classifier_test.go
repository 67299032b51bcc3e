package terraform_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/classify/terraform"
	"github.com/agentctl/agentctl/pkg/request"
)

func TestPassthroughInvocation(t *testing.T) {
	cwd := t.TempDir()
	for _, d := range []string{"x", "infra/prod"} {
		if err := os.MkdirAll(filepath.Join(cwd, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name  string
		args  []string
		env   []string
		class classify.Class
		exec  []string
		dir   string // Target.Dir relative to cwd
	}{
		{"plan runs as given", []string{"plan", "-no-color"}, nil, classify.Read,
			[]string{"plan", "-no-color"}, "."},
		{"-chdir is kept and resolves against the cwd", []string{"-chdir=infra/prod", "plan"}, nil, classify.Read,
			[]string{"-chdir=infra/prod", "plan"}, "infra/prod"},
		{"TF_CLI_ARGS_plan is merged after the subcommand", []string{"-chdir=x", "plan", "-no-color"},
			[]string{"TF_CLI_ARGS_plan=-refresh=false -var 'a=b c'"}, classify.Read,
			[]string{"-chdir=x", "plan", "-refresh=false", "-var", "a=b c", "-no-color"}, "x"},
		{"TF_CLI_ARGS_<cmd> lands before TF_CLI_ARGS, as in terraform", []string{"state", "list"},
			[]string{"TF_CLI_ARGS=-state=a.tfstate", "TF_CLI_ARGS_state_list=-id=i-1"}, classify.Read,
			[]string{"state", "list", "-id=i-1", "-state=a.tfstate"}, "."},
		{"TF_CLI_ARGS_output keeps output secret", []string{"output"},
			[]string{"TF_CLI_ARGS_output=-json"}, classify.Secret, []string{"output", "-json"}, "."},
		{"a bad TF_CLI_ARGS is unknown", []string{"plan"}, []string{"TF_CLI_ARGS=$(id)"}, classify.Unknown,
			[]string{"plan"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := terraform.New(terraform.Options{})
			req := &request.Request{Tool: "terraform", Args: tc.args, Env: tc.env, Cwd: cwd}
			a, err := c.Classify(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if a.Class != tc.class {
				t.Errorf("class %s, want %s; reasons %v", a.Class, tc.class, a.Reasons)
			}
			if !reflect.DeepEqual(a.Exec.Args, tc.exec) || a.Exec.Dir != cwd {
				t.Errorf("exec %q in %q, want %q in %q", a.Exec.Args, a.Exec.Dir, tc.exec, cwd)
			}
			if tc.dir != "" && a.Target.Dir != filepath.Join(cwd, tc.dir) {
				t.Errorf("target dir %q, want %q", a.Target.Dir, filepath.Join(cwd, tc.dir))
			}
		})
	}
}

func TestWorkspaceComesFromEnvOrDataDir(t *testing.T) {
	cwd := t.TempDir()
	c := terraform.New(terraform.Options{})
	ws := func(env ...string) string {
		a, err := c.Classify(context.Background(), &request.Request{Tool: "terraform", Args: []string{"plan"}, Env: env, Cwd: cwd})
		if err != nil {
			t.Fatal(err)
		}
		return a.Target.Workspace
	}
	if got := ws(); got != "default" {
		t.Errorf("workspace %q, want default", got)
	}
	if err := os.MkdirAll(filepath.Join(cwd, ".terraform"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cwd, ".terraform", "environment"), []byte("staging"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := ws(); got != "staging" {
		t.Errorf("workspace %q, want staging from .terraform/environment", got)
	}
	if got := ws("TF_WORKSPACE=prod"); got != "prod" {
		t.Errorf("workspace %q, want prod from TF_WORKSPACE", got)
	}
}

func TestApplyWithoutABinaryIsAConfigurationError(t *testing.T) {
	c := terraform.New(terraform.Options{})
	_, err := c.Classify(context.Background(), &request.Request{Tool: "tofu", Args: []string{"apply"}, Cwd: t.TempDir()})
	if err == nil {
		t.Fatal("apply classified without a tofu binary to plan with")
	}
}

func TestChildEnvDropsTFCLIArgs(t *testing.T) {
	got := terraform.ChildEnv([]string{"TF_CLI_ARGS=-x", "TF_CLI_ARGS_apply=-auto-approve", "TF_VAR_a=1", "PATH=/bin", "TF_CLI_CONFIG_FILE=x"})
	want := []string{"TF_VAR_a=1", "PATH=/bin", "TF_CLI_CONFIG_FILE=x"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%q, want %q", got, want)
	}
}
