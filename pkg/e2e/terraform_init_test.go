package e2e_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTerraformInitOfPinnedProvidersIsASandboxedRead: `terraform init
// -lockfile=readonly -backend=false -get=false` installs only what the lock
// file pins, from the project's filesystem mirror: agentctl runs it as a
// read, in the sandbox, with no approval (here in CI, where nobody could
// approve), and the lock file stays as it was. A plain init, and one the
// lock file does not cover, are not this form: the first still needs an
// approval, the second fails with terraform's own error and installs
// nothing.
func TestTerraformInitOfPinnedProvidersIsASandboxedRead(t *testing.T) {
	e, d := tfEnv(t, "creates")
	e.vars = append(e.vars, "CI=true")
	lockPath := filepath.Join(d.Dir, ".terraform.lock.hcl")
	lock, err := os.ReadFile(lockPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(d.Dir, ".terraform")); err != nil {
		t.Fatal(err)
	}
	readOnly := []string{"terraform", "init", "-lockfile=readonly", "-backend=false", "-get=false", "-input=false", "-no-color"}

	if x := tfExplain(t, e, readOnly[1:]...); x.Class != "read" {
		t.Fatalf("explain: class %q, want read", x.Class)
	}
	got := e.agentctl(readOnly...)
	if got.code != 0 || !strings.Contains(got.stdout, "Terraform has been successfully initialized") {
		t.Fatalf("read-only init: exit %d, want 0\nstdout: %s\nstderr: %s", got.code, got.stdout, got.stderr)
	}
	rec := e.lastResult()
	if sb, _ := rec["sandbox"].(string); rec["decision"] != "sandbox" || !strings.Contains(sb, "landlock") {
		t.Errorf("the init's result record: decision %v, sandbox %q, want the read sandbox", rec["decision"], sb)
	}
	matches, _ := filepath.Glob(filepath.Join(d.Dir, ".terraform", "providers", "*", "*", "testcloud", "0.1.0", "*", "terraform-provider-testcloud"))
	if len(matches) != 1 {
		t.Errorf("the read-only init installed no testcloud in .terraform/providers (%v)", matches)
	}
	if now, _ := os.ReadFile(lockPath); string(now) != string(lock) {
		t.Errorf("the lock file changed:\n%s\nwas:\n%s", now, lock)
	}
	if plan := e.agentctl("terraform", "plan", "-no-color", "-input=false"); plan.code != 0 || !strings.Contains(plan.stdout, "Plan: 2 to add") {
		t.Errorf("plan after the read-only init: exit %d\n%s%s", plan.code, plan.stdout, plan.stderr)
	}

	// A plain init still needs a human: in CI it is refused.
	if x := tfExplain(t, e, "init", "-input=false"); x.Class != "write" {
		t.Errorf("explain init: class %q, want write", x.Class)
	}
	if plain := e.agentctl("terraform", "init", "-input=false", "-no-color"); plain.code != exitDenied {
		t.Errorf("plain init in CI: exit %d, want %d\n%s", plain.code, exitDenied, plain.stderr)
	}

	// A lock file that pins another hash: terraform refuses to install,
	// says so itself, and the lock file is not rewritten.
	if err := os.RemoveAll(filepath.Join(d.Dir, ".terraform")); err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(lock), `"h1:`, `"h1:AAAA`, 1)
	if bad == string(lock) {
		t.Fatalf("the lock file holds no h1 hash:\n%s", lock)
	}
	if err := os.WriteFile(lockPath, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	got = e.agentctl(readOnly...)
	if got.code != 1 || !strings.Contains(got.stderr, "checksum") {
		t.Errorf("read-only init against a wrong pin: exit %d, want terraform's 1 naming the checksum\nstdout: %s\nstderr: %s", got.code, got.stdout, got.stderr)
	}
	if now, _ := os.ReadFile(lockPath); string(now) != bad {
		t.Errorf("the lock file was rewritten:\n%s", now)
	}
	if m, _ := filepath.Glob(filepath.Join(d.Dir, ".terraform", "providers", "*", "*", "testcloud", "*", "*", "terraform-provider-testcloud")); len(m) != 0 {
		t.Errorf("a provider the lock file does not pin was installed: %v", m)
	}
}
