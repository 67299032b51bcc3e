package e2e_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/agentctl/agentctl/pkg/testenv"
)

const appliedConfigMap = `apiVersion: v1
kind: ConfigMap
metadata:
  name: applied-by-agent
data:
  k: v
`

// TestCredentialsReadIdentityAndRBAC: with a credentials configuration, a
// sandboxed read runs as the read identity (testenv's reader, bound to the
// bootstrap read ClusterRole), which RBAC keeps from Secrets even when a
// policy lets the secret read through; an allowed change runs with a
// token the broker minted for the deploy ServiceAccount.
func TestCredentialsReadIdentityAndRBAC(t *testing.T) {
	l := newCredLab(t)
	reader := l.c.Kubeconfig(t, testenv.UserReader)
	l.config(t, fmt.Sprintf(`targets:
- name: lab
  match: {context: %s}
  read:
    kubeconfig: {path: %s}
  deploy:
    kubernetes-token:
      serviceAccount: %s/%s-deploy
      ttl: 10m
      broker: {path: %s}
`, labContext, reader, l.ns, l.prefix, l.c.Kubeconfig(t, testenv.UserBroker)))
	pol := l.policy(t, `  - {name: secret-reads-for-this-test, class: secret, decision: sandbox}
  - {name: dev-writes-allowed, env: dev, class: write, decision: allow}
`)
	e := l.e

	got := e.agentctl("kubectl", "get", "configmaps", "-o", "name")
	if got.code != 0 || !strings.Contains(got.stdout, "configmap/app-config\n") {
		t.Fatalf("get configmaps: exit %d, want 0 listing app-config\nstdout: %s\nstderr: %s", got.code, got.stdout, got.stderr)
	}
	res := e.lastResult()
	if id := fmt.Sprint(res["identity"]); !strings.HasPrefix(id, "read kubeconfig ") || !strings.HasSuffix(id, " context reader") {
		t.Errorf("get configmaps: audit identity %q, want the read identity (context reader)", id)
	}
	if res["decision"] != "sandbox" {
		t.Errorf("get configmaps: audit decision %v, want sandbox", res["decision"])
	}

	for _, args := range [][]string{
		{"get", "secrets"},
		{"get", "secrets", "-o", "yaml"},
	} {
		name := strings.Join(args, " ")
		got := e.agentctl(append([]string{"--policy", pol, "kubectl"}, args...)...)
		want := `User "reader" cannot list resource "secrets"`
		if got.code == 0 || !strings.Contains(got.stderr, "Forbidden") || !strings.Contains(got.stderr, want) {
			t.Errorf("%s: exit %d, want kubectl's Forbidden (%s)\nstdout: %s\nstderr: %s", name, got.code, want, got.stdout, got.stderr)
		}
		res := e.lastResult()
		if id := fmt.Sprint(res["identity"]); !strings.HasPrefix(id, "read ") {
			t.Errorf("%s: audit identity %q, want the read identity", name, id)
		}
		if res["executed"] != true {
			t.Errorf("%s: audit says it did not run (%v): the refusal must come from RBAC, not agentctl", name, res["executed"])
		}
	}

	got = e.agentctlStdin(appliedConfigMap, "--policy", pol, "kubectl", "apply", "-f", "-")
	if got.code != 0 || !strings.Contains(got.stdout, "configmap/applied-by-agent created") {
		t.Fatalf("apply: exit %d, want 0\nstdout: %s\nstderr: %s", got.code, got.stdout, got.stderr)
	}
	if !configMapExists(t, l.c, l.ns, "applied-by-agent") {
		t.Error("apply: the configmap is not in the cluster")
	}
	want := "deploy kubernetes-token " + l.ns + "/" + l.prefix + "-deploy"
	if id := e.lastResult()["identity"]; id != want {
		t.Errorf("apply: audit identity %q, want %q", id, want)
	}
}

// TestCredentialsAgentTargetFlagsRefused: with a credentials configuration
// an agent cannot bring its own identity or cluster: --token, --server,
// --kubeconfig and a --context no target names are refused with exit 77
// before anything is minted or run.
func TestCredentialsAgentTargetFlagsRefused(t *testing.T) {
	l := newCredLab(t)
	l.startVault(t)
	l.config(t, l.vaultConfig(t))
	admin := l.c.Kubeconfig(t, testenv.UserAdmin)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"--token=VALUE", []string{"--token=agent-brought-token", "get", "configmaps"}},
		{"--token VALUE after the verb", []string{"get", "configmaps", "--token", "agent-brought-token"}},
		{"--server=URL", []string{"--server=https://127.0.0.1:1", "get", "configmaps"}},
		{"-s URL", []string{"-s", "https://127.0.0.1:1", "get", "configmaps"}},
		{"--server of the real cluster", []string{"--server=" + l.c.Server(), "delete", "cm", "app-config"}},
		{"--kubeconfig of the admin", []string{"--kubeconfig", admin, "delete", "cm", "app-config"}},
		{"--context no target names", []string{"--context=admin", "get", "configmaps"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			creds := l.vault.Calls("creds")
			got := l.e.agentctl(append([]string{"kubectl"}, tc.args...)...)
			if got.code != exitDenied {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", got.code, exitDenied, got.stdout, got.stderr)
			}
			if got.stdout != "" {
				t.Errorf("stdout %q, want nothing: the command must not run", got.stdout)
			}
			if !strings.Contains(got.stderr, "denied") {
				t.Errorf("stderr does not say it was denied: %q", got.stderr)
			}
			if n := l.vault.Calls("creds"); n != creds {
				t.Errorf("%d credential(s) minted for a refused command", n-creds)
			}
		})
	}
	if !configMapExists(t, l.c, l.ns, "app-config") {
		t.Error("app-config was deleted")
	}
}
