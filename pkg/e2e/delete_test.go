package e2e_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/agentctl/agentctl/pkg/testenv"
)

// exitDenied is agentctl's exit code for a command refused by policy or for
// want of an approver.
const exitDenied = 77

// TestRefusedDeleteChangesNothing checks that a delete nobody can approve
// (CI, --non-interactive) exits 77 and leaves the object in the cluster.
func TestRefusedDeleteChangesNothing(t *testing.T) {
	c := testenv.Start(t)
	ns := c.NewNamespace(t)
	c.Apply(t, ns, webFixtures)
	admin := c.Kubeconfig(t, testenv.UserAdmin)

	for _, tc := range []struct {
		name string
		args []string
	}{
		{"CI=true: kubectl delete cm NAME", []string{"kubectl", "--kubeconfig", admin, "-n", ns, "delete", "cm", "app-config"}},
		{"--non-interactive: flags before the verb, TYPE/NAME", []string{"--non-interactive", "kubectl", "-n", ns, "--kubeconfig=" + admin, "delete", "configmap/app-config"}},
		{"--output json: delete by selector", []string{"--output", "json", "kubectl", "--kubeconfig", admin, "delete", "-n", ns, "cm", "-l", "app=web"}},
		{"--now does not help", []string{"kubectl", "--kubeconfig", admin, "-n", ns, "delete", "cm", "app-config", "--now", "--wait=false"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := newEnv(t).agentctl(tc.args...)
			if got.code != exitDenied {
				t.Errorf("exit code %d, want %d\nstdout: %s\nstderr: %s", got.code, exitDenied, got.stdout, got.stderr)
			}
			if strings.Contains(got.stdout, "deleted") {
				t.Errorf("stdout says something was deleted: %q", got.stdout)
			}
			if got.stderr == "" {
				t.Error("stderr is empty: the agent is not told why it was refused")
			}
			if tc.args[0] == "--output" {
				var decision map[string]any
				if err := json.Unmarshal([]byte(got.stderr), &decision); err != nil {
					t.Errorf("--output json: stderr is not one JSON object: %v\n%s", err, got.stderr)
				}
			}
			_, err := c.AdminClient(t).CoreV1().ConfigMaps(ns).Get(context.Background(), "app-config", metav1.GetOptions{})
			if err != nil {
				t.Errorf("configmap app-config after a refused delete: %v", err)
			}
		})
	}
}
