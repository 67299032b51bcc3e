package e2e_test

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestApproveBundleOnTheApprovalScreen signs a proposal from a real
// terminal: agentctl approve shows the TUI's approval screen (the apply's
// command, the target, the pins, the plan), d leaves the bundle unsigned,
// a signs it, and the signed plan then applies in CI. A privilege bundle
// asks for the workspace's name before it signs.
func TestApproveBundleOnTheApprovalScreen(t *testing.T) {
	aliceKey, alice := humanKey(t, "alice@example.com")
	approvalsConfig(t, alice)
	e, _ := tfEnv(t, "fleet")
	p := propose(t, e, "-var=instances=3")
	dir, env := approvalEnv(t)
	tm := newTerm(t, dir, env)
	approveCmd := shellQuote([]string{agentctlBin(t), "approve", "--key", aliceKey, p.Bundle})
	sigs := func() []string {
		m, _ := filepath.Glob(p.Bundle + ".*.sig")
		return m
	}

	tm.start("deny", approveCmd)
	screen := tm.waitFor("deny", "approval needed", "a approve")
	for _, want := range []string{"terraform apply " + p.Plan, "workspace=default", "sha256 of what runs: " + p.SHA256,
		"pinned: backend local, state lineage", "Terraform will perform the following actions"} {
		if !strings.Contains(screen, want) {
			t.Errorf("screen lacks %q:\n%s", want, screen)
		}
	}
	tm.keys("deny", "d")
	if s := tm.waitFor("deny", "EXIT="); strings.Contains(s, "EXIT=0") || !strings.Contains(s, "not signed") {
		t.Fatalf("denied on the screen:\n%s", s)
	}
	if s := sigs(); len(s) != 0 {
		t.Fatalf("a denied bundle was signed: %v", s)
	}

	tm.start("approve", approveCmd)
	tm.waitFor("approve", "approval needed", "a approve")
	tm.keys("approve", "a")
	if s := tm.waitFor("approve", "EXIT="); !strings.Contains(s, "EXIT=0") || !strings.Contains(s, "signed with SHA256:") {
		t.Fatalf("approved on the screen:\n%s", s)
	}
	if s := sigs(); len(s) != 1 {
		t.Fatalf("signatures after the approval: %v", s)
	}
	got := e.agentctl("terraform", "apply", "-no-color", "prod.tfplan")
	if got.code != 0 || !strings.Contains(got.stdout, "Apply complete! Resources: 3 added") {
		t.Fatalf("signed apply exited %d\nstdout: %s\nstderr: %s", got.code, got.stdout, got.stderr)
	}
	if strings.Contains(got.stdout, "\x1b[") {
		t.Errorf("the apply ran with colours after -no-color:\n%q", got.stdout)
	}

	// A privilege bundle: a alone does not sign; the workspace's name does.
	e2, _ := tfEnv(t, "iam")
	p2 := propose(t, e2)
	if p2.Class != "privilege" {
		t.Fatalf("class %q, want privilege", p2.Class)
	}
	tm.start("privilege", shellQuote([]string{agentctlBin(t), "approve", "--key", aliceKey, p2.Bundle}))
	tm.waitFor("privilege", "approval needed", "PRIVILEGE", "a approve")
	tm.keys("privilege", "a")
	tm.waitFor("privilege", `type the target's name "default"`)
	if m, _ := filepath.Glob(p2.Bundle + ".*.sig"); len(m) != 0 {
		t.Fatal("one key signed a privilege bundle")
	}
	tm.keys("privilege", "default", "Enter")
	if s := tm.waitFor("privilege", "EXIT="); !strings.Contains(s, "EXIT=0") {
		t.Fatalf("privilege approved with the typed name:\n%s", s)
	}
	if m, _ := filepath.Glob(p2.Bundle + ".*.sig"); len(m) != 1 {
		t.Fatalf("signatures of the privilege bundle: %v", m)
	}
}
