package e2e_test

import (
	"encoding/json"
	"testing"

	"github.com/agentctl/agentctl/pkg/testenv"
)

// gizmoCRD adds a namespaced kind whose short name only discovery knows.
const gizmoCRD = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gizmos.e2e.agentctl.test
spec:
  group: e2e.agentctl.test
  scope: Namespaced
  names:
    plural: gizmos
    singular: gizmo
    kind: Gizmo
    shortNames: [gzm]
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
`

// explained is the part of `agentctl explain --output json` these tests read.
type explained struct {
	Class     string `json:"class"`
	Resources []struct {
		Group string `json:"group"`
		Kind  string `json:"kind"`
		Name  string `json:"name"`
	} `json:"resources"`
}

// explain runs `agentctl explain --output json -- kubectl ARGS` and decodes
// its one JSON object.
func explain(t *testing.T, e *env, args ...string) explained {
	t.Helper()
	got := e.agentctl(append([]string{"explain", "--output", "json", "--", "kubectl"}, args...)...)
	if got.code != 0 {
		t.Fatalf("explain exited %d, want 0\nstderr: %s", got.code, got.stderr)
	}
	var x explained
	if err := json.Unmarshal([]byte(got.stdout), &x); err != nil {
		t.Fatalf("explain printed no JSON object: %v\n%s", err, got.stdout)
	}
	return x
}

// wantResource fails t unless x names a resource of group and kind.
func wantResource(t *testing.T, x explained, group, kind string) {
	t.Helper()
	for _, r := range x.Resources {
		if r.Group == group && r.Kind == kind {
			return
		}
	}
	t.Errorf("resources %+v, want one of group %q kind %q", x.Resources, group, kind)
}

// TestExplainDiscoversCustomResourceShortNames checks that a short name that
// only the cluster's discovery knows is resolved to its CRD's group and kind.
func TestExplainDiscoversCustomResourceShortNames(t *testing.T) {
	c := testenv.Start(t)
	c.Apply(t, "", gizmoCRD)
	ns := c.NewNamespace(t)
	kc := c.Kubeconfig(t, testenv.UserAdmin)

	for _, tc := range []struct {
		name      string
		args      []string
		wantClass string
	}{
		{"delete SHORTNAME NAME", []string{"--kubeconfig", kc, "delete", "gzm", "x"}, "destructive"},
		{"flags before the verb: -n NS delete SHORTNAME/NAME", []string{"-n", ns, "--kubeconfig=" + kc, "delete", "gzm/x"}, "destructive"},
		{"delete PLURAL.GROUP NAME", []string{"--kubeconfig", kc, "-n", ns, "delete", "gizmos.e2e.agentctl.test", "x"}, "destructive"},
		{"get SHORTNAME", []string{"--kubeconfig", kc, "-n", ns, "get", "gzm"}, "read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := explain(t, newEnv(t), tc.args...)
			if x.Class != tc.wantClass {
				t.Errorf("class %q, want %q", x.Class, tc.wantClass)
			}
			wantResource(t, x, "e2e.agentctl.test", "Gizmo")
		})
	}
}

// TestExplainOffline checks classification when the cluster cannot be
// reached: built-in kinds still classify, unknown short names are unknown.
func TestExplainOffline(t *testing.T) {
	kc := testenv.OfflineKubeconfig(t, testenv.UserAdmin)
	for _, tc := range []struct {
		name             string
		args             []string
		wantClass        string
		wantGroup, wantK string
	}{
		{"built-in short name: delete deploy NAME", []string{"--kubeconfig", kc, "delete", "deploy", "web"}, "destructive", "apps", "Deployment"},
		{"built-in: delete configmap NAME", []string{"--kubeconfig", kc, "-n", "prod", "delete", "configmap", "web"}, "destructive", "", "ConfigMap"},
		{"built-in: get pods", []string{"--kubeconfig", kc, "get", "pods"}, "read", "", "Pod"},
		{"custom short name: delete gzm NAME", []string{"--kubeconfig", kc, "delete", "gzm", "x"}, "unknown", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := explain(t, newEnv(t), tc.args...)
			if x.Class != tc.wantClass {
				t.Errorf("class %q, want %q", x.Class, tc.wantClass)
			}
			if tc.wantK != "" {
				wantResource(t, x, tc.wantGroup, tc.wantK)
			}
		})
	}
}
