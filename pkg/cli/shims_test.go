package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentctl/agentctl/pkg/exitcode"
)

func TestShimsInstallStatusUninstall(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shims")
	code, out, errOut := runCLI(t, nil, "shims", "install", dir)
	if code != 0 {
		t.Fatalf("install: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, dir) || !strings.HasPrefix(out, "export PATH=") {
		t.Errorf("install should print the PATH line, got %q", out)
	}
	self, _ := os.Executable()
	self, _ = filepath.EvalSymlinks(self)
	for _, n := range shimNames {
		real, err := filepath.EvalSymlinks(filepath.Join(dir, n))
		if err != nil || real != self {
			t.Errorf("shim %s resolves to %q (%v), want agentctl %q", n, real, err, self)
		}
	}
	// Installing again is a no-op; a foreign file is never overwritten.
	if code, _, errOut := runCLI(t, nil, "shims", "install", dir); code != 0 {
		t.Fatalf("second install: exit %d: %s", code, errOut)
	}
	code, out, _ = runCLI(t, []string{"PATH=" + dir + ":/usr/bin:/bin"}, "shims", "status", dir)
	if code != 0 || !strings.Contains(out, filepath.Join(dir, "kubectl")+" → agentctl") {
		t.Errorf("status should show kubectl intercepted:\n%s", out)
	}
	foreign := filepath.Join(dir, "keep-me")
	os.WriteFile(foreign, []byte("x"), 0o644)
	if code, _, errOut := runCLI(t, nil, "shims", "uninstall", dir); code != 0 {
		t.Fatalf("uninstall: exit %d: %s", code, errOut)
	}
	for _, n := range shimNames {
		if _, err := os.Lstat(filepath.Join(dir, n)); !os.IsNotExist(err) {
			t.Errorf("shim %s still there after uninstall", n)
		}
	}
	if _, err := os.Stat(foreign); err != nil {
		t.Errorf("uninstall removed a file it did not create: %v", err)
	}
}

func TestShimsInstallRefusesForeignFile(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "kubectl"), []byte("#!/bin/sh\n"), 0o755)
	code, _, errOut := runCLI(t, nil, "shims", "install", dir)
	if code == 0 || !strings.Contains(errOut, "is not an agentctl shim") {
		t.Errorf("exit %d, stderr %q: want a refusal naming the file", code, errOut)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "kubectl")); string(b) != "#!/bin/sh\n" {
		t.Error("the foreign kubectl was changed")
	}
}

func TestFindToolSkipsAgentctlItself(t *testing.T) {
	shimDir := t.TempDir()
	self, _ := os.Executable()
	os.Symlink(self, filepath.Join(shimDir, "terraform"))
	realDir := t.TempDir()
	real := filepath.Join(realDir, "terraform")
	os.WriteFile(real, []byte("#!/bin/sh\n"), 0o755)
	f := &Factory{Environ: []string{"PATH=" + shimDir + ":" + realDir}, Executable: os.Executable}
	got, err := findTool(f, "terraform")
	if err != nil || got != real {
		t.Errorf("findTool = %q, %v; want the real %q, never the shim", got, err, real)
	}
	f.Environ = []string{"PATH=" + shimDir}
	if _, err := findTool(f, "terraform"); err == nil || !strings.Contains(err.Error(), `cannot find "terraform"`) {
		t.Errorf("with only the shim on PATH: err = %v, want not found", err)
	}
}

func TestShimNameDispatch(t *testing.T) {
	for argv0, want := range map[string]string{"/x/shims/kubectl": "kubectl", "terraform": "terraform", "tofu": "tofu", "/usr/bin/agentctl": ""} {
		got, ok := isShimName(argv0)
		if got != want || ok != (want != "") {
			t.Errorf("isShimName(%q) = %q, %v", argv0, got, ok)
		}
	}
}

func TestConfiguredToolWinsOverTheAgentsPath(t *testing.T) {
	home := t.TempDir()
	agentDir, realDir := t.TempDir(), t.TempDir()
	for _, d := range []string{agentDir, realDir} {
		os.WriteFile(filepath.Join(d, "terraform"), []byte("#!/bin/sh\n"), 0o755)
	}
	real := filepath.Join(realDir, "terraform")
	os.MkdirAll(filepath.Join(home, "agentctl"), 0o700)
	os.WriteFile(filepath.Join(home, "agentctl", "config.yaml"), []byte("tools:\n  terraform: "+real+"\n"), 0o600)
	f := &Factory{
		Environ:    []string{"XDG_CONFIG_HOME=" + home, "PATH=" + agentDir, "AGENTCTL_TERRAFORM=" + filepath.Join(agentDir, "terraform")},
		Executable: os.Executable,
	}
	if got, err := findTool(f, "terraform"); err != nil || got != real {
		t.Errorf("findTool = %q, %v; want the configured %q, not the agent's", got, err, real)
	}
	os.WriteFile(filepath.Join(home, "agentctl", "config.yaml"), []byte("tools:\n  terraform: relative/terraform\n"), 0o600)
	code, _, errOut := runCLI(t, []string{"XDG_CONFIG_HOME=" + home}, "terraform", "version")
	if code != exitcode.Config || !strings.Contains(errOut, `tools.terraform: "relative/terraform" is not an absolute path`) {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

// TestCredentialsNeedANamedTerraform checks that a configuration that
// hands credentials to terraform does not let PATH or AGENTCTL_TERRAFORM,
// which the agent sets, choose the binary that gets them.
func TestCredentialsNeedANamedTerraform(t *testing.T) {
	home := t.TempDir()
	agentDir := t.TempDir()
	fake := filepath.Join(agentDir, "terraform")
	os.WriteFile(fake, []byte("#!/bin/sh\necho the agent's terraform\n"), 0o755)
	cfgPath := filepath.Join(home, "agentctl", "config.yaml")
	os.MkdirAll(filepath.Dir(cfgPath), 0o700)
	const target = "targets:\n- name: aws\n  read:\n    env:\n      AWS_ACCESS_KEY_ID: {command: [/bin/echo, read-key]}\n  deploy:\n    env:\n      AWS_ACCESS_KEY_ID: {command: [/bin/echo, deploy-key]}\n"
	os.WriteFile(cfgPath, []byte(target), 0o600)
	for _, env := range [][]string{{"PATH=" + agentDir}, {"AGENTCTL_TERRAFORM=" + fake}} {
		code, out, errOut := runCLI(t, append([]string{"XDG_CONFIG_HOME=" + home}, env...), "terraform", "version")
		if code != exitcode.Config || strings.Contains(out, "the agent's terraform") ||
			!strings.Contains(errOut, "tools.terraform does not name the terraform binary") || !strings.Contains(errOut, "hint: set tools.terraform") {
			t.Errorf("%v: exit %d\nstdout: %s\nstderr: %s", env, code, out, errOut)
		}
	}
	os.WriteFile(cfgPath, []byte(target+"tools:\n  terraform: "+fake+"\n"), 0o600)
	f := &Factory{Environ: []string{"XDG_CONFIG_HOME=" + home, "PATH=/nonexistent"}, Executable: os.Executable}
	if got, err := findTool(f, "terraform"); err != nil || got != fake {
		t.Errorf("with tools.terraform: findTool = %q, %v", got, err)
	}
}

// TestNoIdentityIsAConfigurationError checks a command no target gives an
// identity for: exit 78 (nothing ran), one hint saying what to add.
func TestNoIdentityIsAConfigurationError(t *testing.T) {
	home := t.TempDir()
	cfgPath := filepath.Join(home, "agentctl", "config.yaml")
	os.MkdirAll(filepath.Dir(cfgPath), 0o700)
	os.WriteFile(cfgPath, []byte("targets:\n- name: infra\n  match: {dir: /srv/infra/**}\n  read:\n    env:\n      AWS_PROFILE: {command: [/bin/echo, ro]}\ntools:\n  terraform: /bin/false\n"), 0o600)
	code, _, errOut := runCLI(t, []string{"XDG_CONFIG_HOME=" + home}, "terraform", "version")
	if code != exitcode.Config || !strings.Contains(errOut, "no read identity configured for terraform dir") ||
		strings.Count(errOut, "hint:") != 1 || !strings.Contains(errOut, "hint: add a target matching it") {
		t.Errorf("exit %d, stderr:\n%s", code, errOut)
	}
}
