package credentials

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/testenv"
)

// BenchmarkIssueToUse measures, per command, what the credential costs
// (a fresh broker as in a new agentctl process: Vault login, token check,
// a Kubernetes secrets engine credential minted by the real API server, a
// temporary kubeconfig, lease revocation) against the command itself
// (kubectl get configmaps with that credential). docs/credentials.md
// gives the ratio.
func BenchmarkIssueToUse(b *testing.B) {
	c, ns, prefix := bootstrap(b)
	s := deployVault(b, c, ns, prefix)
	y := "vault:\n  address: " + s.URL + "\n  auth:\n    approle: {roleID: agentctl, secretID: approle-secret-id-1234}\n" +
		"targets:\n- name: test\n  deploy:\n    vault-kubernetes: {role: deploy, namespace: " + ns + ", ttl: 10m, cluster: {path: " + c.Kubeconfig(b, testenv.UserReader) + "}}\n"
	cfg, err := Parse(filepath.Join(b.TempDir(), "config.yaml"), []byte(y))
	if err != nil {
		b.Fatal(err)
	}
	target := classify.Target{Context: "lab", Namespace: ns}
	kubectl := testenv.Bin(b, "kubectl")

	b.Run("acquire+release", func(b *testing.B) {
		for b.Loop() {
			cred, err := NewBroker(cfg).Acquire(context.Background(), target, Deploy)
			if err != nil {
				b.Fatal(err)
			}
			if err := cred.Release(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
	})
	cred, err := NewBroker(cfg).Acquire(context.Background(), target, Deploy)
	if err != nil {
		b.Fatal(err)
	}
	defer cred.Release(context.Background())
	env := cred.Environ(ChildEnv(os.Environ(), nil))
	b.Run("kubectl-get", func(b *testing.B) {
		for b.Loop() {
			if out := runKubectl(b, kubectl, env, "", "get", "configmaps"); strings.Contains(out.stderr, "rror") {
				b.Fatal(out.stderr)
			}
		}
	})
}
