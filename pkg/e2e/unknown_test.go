package e2e_test

import (
	"strings"
	"testing"

	"github.com/agentctl/agentctl/pkg/testenv"
)

// TestUnknownVerbAndTypeAreKubectlsOwnErrors: a mistyped verb with no
// plugin for it (kubectl gte pods), a resource type the server does not
// have (get nosuchtype) and a flag before an unknown verb get exactly
// kubectl's own error, did-you-mean and exit code, not an exec or
// privilege approval; they are audited as refusals, and however many
// there are, they are no lockout strikes.
func TestUnknownVerbAndTypeAreKubectlsOwnErrors(t *testing.T) {
	c := testenv.Start(t)
	dev, prod := c.NewNamespace(t), c.NewNamespace(t)
	c.Apply(t, dev, webFixtures)
	admin := c.Kubeconfig(t, testenv.UserAdmin)
	e := newEnv(t)
	p := devProdPolicy(t, e.dir, dev, prod, 2)
	for _, args := range [][]string{
		{"gte", "pods"},
		{"get", "nosuchtype"},
		{"get", "pods,nosuchtype.example.com"},
		{"-n", dev, "gte"},
	} {
		argv := append([]string{"--kubeconfig", admin, "-n", dev}, args...)
		want := e.kubectl(argv...)
		for i := 0; i < 2; i++ {
			got := e.agentctl(append([]string{"--policy", p, "kubectl"}, argv...)...)
			if got.code != want.code || got.stderr != want.stderr || got.stdout != want.stdout {
				t.Errorf("kubectl %s: exit %d, stderr %q; kubectl's: exit %d, stderr %q", strings.Join(args, " "), got.code, got.stderr, want.code, want.stderr)
			}
		}
	}
	refused := 0
	for _, rec := range e.auditRecords() {
		if rec["kind"] == "decision" && rec["decision"] == "deny" && rec["rule"] == "agentctl:tool-rejects" {
			refused++
		}
	}
	if refused != 8 {
		t.Errorf("%d refusals by agentctl:tool-rejects in the audit log, want 8", refused)
	}
	// Eight mistakes, a lockout after two denials: none counted.
	got := e.agentctl("--policy", p, "kubectl", "--kubeconfig", admin, "-n", dev, "delete", "cm", "app-config")
	if got.code != 0 {
		t.Errorf("the delete the policy allows, after the mistakes: exit %d, want 0 (not locked out)\nstderr: %s", got.code, got.stderr)
	}
}
