package e2e_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/agentctl/agentctl/pkg/testenv"
)

// TestTerminalApprovalTerraform runs `agentctl terraform apply` of the
// testcloud provider in a real terminal: the screen shows the plan agentctl
// made, and only an approval applies it.
func TestTerminalApprovalTerraform(t *testing.T) {
	bin := agentctlBin(t)
	for _, tc := range []struct {
		name        string
		keys        []string
		wantExit    string
		wantChanged bool
	}{
		{"a applies the plan", []string{"a"}, "EXIT=0", true},
		{"d leaves the cloud alone", []string{"d"}, "EXIT=77", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, dir, env := terraformApprovalEnv(t, "creates")
			before := d.CloudSnapshot(t)

			tm := newTerm(t, dir, env)
			out, errf := filepath.Join(dir, "stdout"), filepath.Join(dir, "stderr")
			tm.start("agent", fmt.Sprintf("cd %s && %s </dev/null >%s 2>%s", shellQuote([]string{d.Dir}),
				shellQuote([]string{bin, "--intent", "create the web instance", "terraform", "apply"}), out, errf))
			screen := flat(tm.waitFor("agent", "approval needed", "a approve"))
			for _, want := range []string{"create the web instance", "terraform apply", "Plan: 2 to add", "testcloud_instance.web"} {
				if !strings.Contains(screen, want) {
					t.Errorf("screen lacks %q:\n%s", want, tm.screen("agent"))
				}
			}
			tm.keys("agent", tc.keys...)
			tm.waitFor("agent", "EXIT=")
			if s := tm.screen("agent"); !strings.Contains(s, tc.wantExit) {
				stdout, _ := os.ReadFile(out)
				stderr, _ := os.ReadFile(errf)
				t.Fatalf("want %s; screen:\n%s\nstdout: %s\nstderr: %s", tc.wantExit, s, stdout, stderr)
			}
			if changed := !reflect.DeepEqual(before, d.CloudSnapshot(t)); changed != tc.wantChanged {
				t.Errorf("cloud changed = %v, want %v", changed, tc.wantChanged)
			}
		})
	}
}

// terraformApprovalEnv is a terraform working directory of config and the
// environment of an agent that runs agentctl there with a terminal for
// approvals (approvalEnv) and the test's terraform.
func terraformApprovalEnv(t *testing.T, config string) (d *testenv.TerraformDir, dir string, env []string) {
	t.Helper()
	d = testenv.NewTerraformDir(t, config)
	dir, env = approvalEnv(t)
	for _, kv := range d.Env {
		if k, _, _ := strings.Cut(kv, "="); k != "PATH" && k != "HOME" {
			env = append(env, kv)
		}
	}
	return d, dir, append(env, "AGENTCTL_TERRAFORM="+d.Bin)
}
