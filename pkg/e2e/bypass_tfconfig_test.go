package e2e_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/agentctl/agentctl/pkg/testenv"
)

// tfAgent is a terraform working directory of the agent's (owned by the
// agent's user, initialised with testcloud from the test's mirror) and a
// CLI configuration file of its own that the agent may rewrite.
type tfAgent struct {
	e    *env
	d    *testenv.TerraformDir
	rc   string // the agent's TF_CLI_CONFIG_FILE
	tf   string // a terraform the agent can run
	vars []string
	// evil is the agent's own "provider": a directory whose
	// terraform-provider-testcloud leaves mark behind and then runs the
	// real provider, as a hostile one would after taking the credentials.
	evil, mark string
}

func newTFAgent(t *testing.T, config string) *tfAgent {
	t.Helper()
	agentctlBin(t)
	e := newAgentEnv(t)
	d := testenv.NewTerraformDir(t, config)
	a := &tfAgent{e: e, d: d, tf: e.agent.Bin(t, testenv.Terraform(t))}
	testRC := envValue(d.Env, "TF_CLI_CONFIG_FILE")
	// The test's CLI configuration, copied below.
	e.agent.Share(t, filepath.Dir(testRC))
	e.agent.Own(t, d.Dir)
	body, err := os.ReadFile(testRC)
	if err != nil {
		t.Fatal(err)
	}
	a.rc = filepath.Join(e.home, "agent.tfrc")
	if err := os.WriteFile(a.rc, body, 0o644); err != nil {
		t.Fatal(err)
	}
	a.evil = filepath.Join(e.home, "evil")
	a.mark = filepath.Join(e.home, "agent-provider-ran")
	real := filepath.Join(d.Mirror, testenv.TestcloudAddress, "0.1.0")
	pkgs, err := filepath.Glob(filepath.Join(real, "*", "terraform-provider-testcloud"))
	if err != nil || len(pkgs) != 1 {
		t.Fatalf("mirrored testcloud: %v %v", pkgs, err)
	}
	if err := os.MkdirAll(a.evil, 0o755); err != nil {
		t.Fatal(err)
	}
	script := fmt.Sprintf("#!/bin/sh\necho ran >> %s\nexec %s \"$@\"\n", shellQuote([]string{a.mark}), shellQuote([]string{pkgs[0]}))
	if err := os.WriteFile(filepath.Join(a.evil, "terraform-provider-testcloud"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	e.agent.Own(t, a.rc)
	e.agent.Own(t, a.evil)
	e.dir = d.Dir
	for _, kv := range d.Env {
		if k, _, _ := strings.Cut(kv, "="); k != "PATH" && k != "HOME" && k != "TF_CLI_CONFIG_FILE" {
			a.vars = append(a.vars, kv)
		}
	}
	a.vars = append(a.vars, "TF_CLI_CONFIG_FILE="+a.rc, "AGENTCTL_TERRAFORM="+a.tf)
	e.vars = append(e.vars, a.vars...)
	return a
}

// devOverrides writes the agent's CLI configuration with a dev_overrides
// block for testcloud (pointing at the agent's provider) before the
// mirror block the test installed from.
func (a *tfAgent) devOverrides(t *testing.T) {
	t.Helper()
	body, err := os.ReadFile(a.rc)
	if err != nil {
		t.Fatal(err)
	}
	over := fmt.Sprintf("provider_installation {\n  dev_overrides {\n    %q = %q\n  }\n", testenv.TestcloudAddress, a.evil)
	s := strings.Replace(string(body), "provider_installation {\n", over, 1)
	if s == string(body) {
		t.Fatalf("the test's CLI configuration has no provider_installation block:\n%s", body)
	}
	// Written in place: the file stays the agent's.
	if err := os.WriteFile(a.rc, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkOverrideWorks runs terraform itself with the agent's CLI
// configuration: it must run the agent's provider, or the test proves
// nothing. The mark it leaves is removed.
func (a *tfAgent) checkOverrideWorks(t *testing.T) {
	t.Helper()
	cmd := exec.Command(a.d.Bin, "plan", "-lock=false", "-input=false", "-no-color")
	cmd.Dir = a.d.Dir
	for _, kv := range a.d.Env {
		if !strings.HasPrefix(kv, "TF_CLI_CONFIG_FILE=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "TF_CLI_CONFIG_FILE="+a.rc)
	out, err := cmd.CombinedOutput()
	if err != nil || !a.providerRan() || !strings.Contains(string(out), "Provider development overrides are in effect") {
		t.Fatalf("terraform does not run the agent's provider with its configuration: %v\n%s", err, out)
	}
	if err := os.Remove(a.mark); err != nil {
		t.Fatal(err)
	}
}

func (a *tfAgent) providerRan() bool {
	_, err := os.Stat(a.mark)
	return err == nil
}

// TestBypassTerraformDevOverridesAddedWhileApprovalWaits plays an agent
// that lets the human approve a plan made with the normal provider and,
// while the approval is on screen, adds dev_overrides to its
// TF_CLI_CONFIG_FILE so that the approved apply would run its own
// provider binary, outside any sandbox, with the deploy identity. The
// apply runs with the configuration read at plan time and refuses the
// changed file: the agent's provider never runs, the cloud is unchanged
// and the refusal is in the audit log.
func TestBypassTerraformDevOverridesAddedWhileApprovalWaits(t *testing.T) {
	a := newTFAgent(t, "creates")
	before := a.d.CloudSnapshot(t)
	dir, tmuxEnv := approvalEnv(t)
	tm := newTerm(t, dir, tmuxEnv)
	errf := filepath.Join(a.e.home, "stderr")
	vars := append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + a.e.home, "TERM=xterm-256color"}, a.vars...)
	cmd := append([]string{"env", "-i"}, vars...)
	if a.e.agent.Root() {
		// The pane's terminal is root's; /dev/tty opens whatever the owner.
		cmd = append([]string{"setpriv", "--reuid=" + strconv.Itoa(a.e.agent.UID), "--regid=" + strconv.Itoa(a.e.agent.GID), "--clear-groups"}, cmd...)
	}
	cmd = append(cmd, agentctlBin(t), "terraform", "apply")
	tm.start("agent", fmt.Sprintf("cd %s && %s </dev/null >/dev/null 2>%s", shellQuote([]string{a.d.Dir}), shellQuote(cmd), shellQuote([]string{errf})))
	if s := flat(tm.waitFor("agent", "approval needed", "a approve")); !strings.Contains(s, "Plan: 2 to add") {
		t.Fatalf("the approval does not show the plan:\n%s", s)
	}
	if a.providerRan() {
		t.Fatal("the agent's provider ran before the swap; the test proves nothing")
	}

	a.devOverrides(t)
	a.checkOverrideWorks(t)

	tm.keys("agent", "a")
	screen := tm.waitFor("agent", "EXIT=")
	stderr, _ := os.ReadFile(errf)
	if strings.Contains(screen, "EXIT=0") || !strings.Contains(string(stderr), "CLI configuration") {
		t.Errorf("the apply was not refused; screen:\n%s\nstderr: %s", screen, stderr)
	}
	if a.providerRan() {
		t.Error("the agent's dev_overrides provider ran during the approved apply")
	}
	if !reflect.DeepEqual(before, a.d.CloudSnapshot(t)) {
		t.Error("the cloud changed")
	}
	var refused bool
	for _, rec := range a.e.auditRecords() {
		if rec["kind"] == "result" && strings.Contains(fmt.Sprint(rec["error"]), "CLI configuration") {
			refused = true
		}
	}
	if !refused {
		t.Errorf("the audit log has no result record of the refusal: %v", a.e.auditRecords())
	}
}

// TestBypassTerraformDevOverridesAtPlanTime checks that a CLI
// configuration with dev_overrides is refused before anything runs, for
// an apply (whose plan agentctl makes) and for a sandboxed plan, unless
// the admin config allows dev_overrides.
func TestBypassTerraformDevOverridesAtPlanTime(t *testing.T) {
	for _, args := range [][]string{{"terraform", "apply"}, {"terraform", "plan"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			a := newTFAgent(t, "creates")
			a.devOverrides(t)
			got := a.e.agentctl(args...)
			if got.code != exitDenied || !strings.Contains(got.stderr, "dev_overrides") || !strings.Contains(got.stderr, "allowDevOverrides") {
				t.Errorf("exit %d, want %d with a refusal of dev_overrides\nstderr: %s", got.code, exitDenied, got.stderr)
			}
			if a.providerRan() {
				t.Error("the agent's provider ran")
			}
			var audited bool
			for _, rec := range a.e.auditRecords() {
				// An apply is refused while it is assessed (a denial), a
				// sandboxed plan when it runs (its result).
				if rec["decision"] == "deny" && strings.Contains(fmt.Sprint(rec["reason"]), "dev_overrides") ||
					rec["kind"] == "result" && strings.Contains(fmt.Sprint(rec["error"]), "dev_overrides") {
					audited = true
				}
			}
			if !audited {
				t.Errorf("the refusal is not in the audit log: %v", a.e.auditRecords())
			}
		})
	}
	t.Run("allowed by the admin config", func(t *testing.T) {
		adminFiles(t, map[string]string{"config.yaml": "terraform:\n  allowDevOverrides: true\n"})
		a := newTFAgent(t, "creates")
		a.devOverrides(t)
		got := a.e.agentctl("terraform", "plan", "-no-color")
		if got.code != 0 || !strings.Contains(got.stdout+got.stderr, "Plan: 2 to add") {
			t.Errorf("exit %d, want the plan\nstdout: %s\nstderr: %s", got.code, got.stdout, got.stderr)
		}
	})
}

// TestBypassTerraformCLIConfigCommentGrantsNoRead plays an agent whose CLI
// configuration names ~/.ssh/id_rsa in a comment, which once made the
// sandbox grant that file to the plan; the configuration then reads it
// with file(). The sandboxed plan must fail and the key appear nowhere.
func TestBypassTerraformCLIConfigCommentGrantsNoRead(t *testing.T) {
	a := newTFAgent(t, "creates")
	key := filepath.Join(a.e.home, ".ssh", "id_rsa")
	if err := os.MkdirAll(filepath.Dir(key), 0o700); err != nil {
		t.Fatal(err)
	}
	const secret = "SSH-KEY-MUST-NOT-LEAK-7f3a"
	if err := os.WriteFile(key, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a.e.agent.Own(t, filepath.Dir(key))
	body, err := os.ReadFile(a.rc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(a.rc, append([]byte(fmt.Sprintf("# keys live in %q\n", key)), body...), 0o644); err != nil {
		t.Fatal(err)
	}
	theft := fmt.Sprintf("output \"stolen\" {\n  value = file(%q)\n}\n", key)
	if err := os.WriteFile(filepath.Join(a.d.Dir, "theft.tf"), []byte(theft), 0o644); err != nil {
		t.Fatal(err)
	}
	a.e.agent.Own(t, filepath.Join(a.d.Dir, "theft.tf"))

	got := a.e.agentctl("terraform", "plan", "-no-color")
	// Landlock denies the read, or the sandbox's own root has no such
	// file at all (its mount namespace holds only the granted paths).
	if out := flat(got.stdout + got.stderr); got.code == 0 || !strings.Contains(out, "permission denied") && !strings.Contains(out, "no file exists") {
		t.Errorf("the sandboxed plan read the key: exit %d\nstdout: %s\nstderr: %s", got.code, got.stdout, got.stderr)
	}
	if strings.Contains(got.stdout+got.stderr, secret) {
		t.Error("the key came out")
	}
}

func envValue(env []string, key string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v
		}
	}
	return ""
}

// exitConfig is agentctl's exit code for a configuration error.
const exitConfig = 78

// TestBypassTerraformProviderDirsOutsideTheProject plays an agent that
// keeps a provider of its own outside the project and points terraform
// at it: a filesystem_mirror or plugin_cache_dir in its CLI configuration,
// or (with no provider_installation block) the implied local mirror
// ~/.terraform.d/plugins, from which terraform init would install it.
// Each is refused as a configuration error (78) naming
// terraform.allowMirrors, for a sandboxed plan and for an apply, and
// audited; an administrator's terraform.allowMirrors lets it through.
func TestBypassTerraformProviderDirsOutsideTheProject(t *testing.T) {
	mirrorBlock := func(path string) string {
		return fmt.Sprintf("provider_installation {\n  filesystem_mirror {\n    path = %q\n  }\n}\n", path)
	}
	for _, tc := range []struct {
		name string
		rc   func(a *tfAgent) string // the agent's CLI configuration
		dir  func(a *tfAgent) string // the directory it plants a provider in
		want string
	}{
		{"filesystem_mirror in the agent's home",
			func(a *tfAgent) string { return mirrorBlock(filepath.Join(a.e.home, "mirror")) },
			func(a *tfAgent) string { return filepath.Join(a.e.home, "mirror") }, "filesystem_mirror"},
		{"plugin_cache_dir in the agent's home",
			func(a *tfAgent) string {
				return mirrorBlock(a.d.Mirror) + fmt.Sprintf("plugin_cache_dir = %q\n", filepath.Join(a.e.home, "cache"))
			},
			func(a *tfAgent) string { return filepath.Join(a.e.home, "cache") }, "plugin_cache_dir"},
		{"implied local mirror ~/.terraform.d/plugins",
			func(a *tfAgent) string { return "disable_checkpoint = true\n" },
			func(a *tfAgent) string { return filepath.Join(a.e.home, ".terraform.d", "plugins") }, "implied local mirror"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newTFAgent(t, "creates")
			plant := filepath.Join(tc.dir(a), testenv.TestcloudAddress, "0.1.0", runtime.GOOS+"_"+runtime.GOARCH)
			if err := os.MkdirAll(plant, 0o755); err != nil {
				t.Fatal(err)
			}
			evil, err := os.ReadFile(filepath.Join(a.evil, "terraform-provider-testcloud"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(plant, "terraform-provider-testcloud"), evil, 0o755); err != nil {
				t.Fatal(err)
			}
			a.e.agent.Own(t, tc.dir(a))
			if err := os.WriteFile(a.rc, []byte(tc.rc(a)), 0o644); err != nil {
				t.Fatal(err)
			}
			for _, args := range [][]string{{"terraform", "plan", "-no-color"}, {"terraform", "apply"}} {
				got := a.e.agentctl(args...)
				if got.code != exitConfig || !strings.Contains(got.stderr, tc.want) || !strings.Contains(got.stderr, "outside the project") || !strings.Contains(got.stderr, "terraform.allowMirrors") {
					t.Errorf("%q: exit %d, want %d refusing the %s\nstdout: %s\nstderr: %s", args, got.code, exitConfig, tc.want, got.stdout, got.stderr)
				}
			}
			if a.providerRan() {
				t.Error("the agent's provider ran")
			}
			var audited bool
			for _, rec := range a.e.auditRecords() {
				if strings.Contains(fmt.Sprint(rec["error"])+fmt.Sprint(rec["reason"]), "outside the project") {
					audited = true
				}
			}
			if !audited {
				t.Errorf("the refusal is not in the audit log: %v", a.e.auditRecords())
			}
		})
	}
	t.Run("allowed by the admin config", func(t *testing.T) {
		a := newTFAgent(t, "creates")
		adminFiles(t, map[string]string{"config.yaml": fmt.Sprintf("terraform:\n  allowMirrors: [%q]\n", a.e.home)})
		mirror := filepath.Join(a.e.home, "mirror")
		if err := os.MkdirAll(mirror, 0o755); err != nil {
			t.Fatal(err)
		}
		a.e.agent.Own(t, mirror)
		if err := os.WriteFile(a.rc, []byte(mirrorBlock(mirror)), 0o644); err != nil {
			t.Fatal(err)
		}
		got := a.e.agentctl("terraform", "plan", "-no-color")
		if got.code != 0 || !strings.Contains(got.stdout+got.stderr, "Plan: 2 to add") {
			t.Errorf("exit %d, want the plan\nstdout: %s\nstderr: %s", got.code, got.stdout, got.stderr)
		}
	})
}
