package e2e_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/agentctl/agentctl/pkg/testenv"
)

const webFixtures = `
apiVersion: v1
kind: ConfigMap
metadata:
  name: app-config
  labels: {app: web}
data:
  greeting: hello
  multi: |
    line one
    line two
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: other-config
  labels: {app: other}
data: {x: "1"}
---
apiVersion: v1
kind: Pod
metadata:
  name: web-0
  labels: {app: web}
spec:
  containers:
  - name: web
    image: web:1
`

// age matches kubectl's human durations (AGE column): "0s", "12s", "3m4s".
var age = regexp.MustCompile(`\b(\d+[smhdy])+\b`)

// TestKubectlGetIsUpstreamKubectl checks that a read through agentctl prints
// byte for byte what upstream kubectl prints, with the same exit code.
func TestKubectlGetIsUpstreamKubectl(t *testing.T) {
	c := testenv.Start(t)
	ns := c.NewNamespace(t)
	c.Apply(t, ns, webFixtures)
	admin := c.Kubeconfig(t, testenv.UserAdmin)
	reader := c.Kubeconfig(t, testenv.UserReader)

	for _, tc := range []struct {
		name string
		args []string
		age  bool // the output has an AGE column
	}{
		{"get cm NAME -o yaml", []string{"--kubeconfig", admin, "-n", ns, "get", "cm", "app-config", "-o", "yaml"}, false},
		{"get configmap NAME -o json", []string{"--kubeconfig", admin, "-n", ns, "get", "configmap", "app-config", "-o", "json"}, false},
		{"get cm -o name with a selector", []string{"--kubeconfig", admin, "get", "cm", "-n", ns, "-l", "app=web", "-o", "name"}, false},
		{"flags before the verb: -n NS --kubeconfig=K get configmaps -o yaml", []string{"-n", ns, "--kubeconfig=" + admin, "get", "configmaps", "-o", "yaml"}, false},
		{"get cm/NAME -o jsonpath", []string{"--kubeconfig", admin, "-n", ns, "get", "cm/app-config", "-o", "jsonpath={.data.multi}"}, false},
		{"get cm -o wide", []string{"--kubeconfig", admin, "-n", ns, "get", "cm", "-o", "wide"}, true},
		{"get pod NAME -o yaml", []string{"--kubeconfig", admin, "-n", ns, "get", "pod", "web-0", "-o", "yaml"}, false},
		{"get pods -o wide", []string{"--kubeconfig", admin, "-n", ns, "get", "pods", "-o", "wide"}, true},
		{"get pods --show-labels", []string{"--kubeconfig", admin, "-n", ns, "get", "po", "--show-labels"}, true},
		{"get ns NAME -o name", []string{"--kubeconfig", admin, "get", "ns", ns, "-o", "name"}, false},
		{"get ns NAME", []string{"--kubeconfig", admin, "get", "namespace", ns}, true},
		{"not found: get cm missing", []string{"--kubeconfig", admin, "-n", ns, "get", "cm", "missing"}, false},
		{"not found: empty namespace", []string{"--kubeconfig", admin, "-n", ns, "get", "deployments"}, false},
		{"forbidden: reader gets configmaps", []string{"--kubeconfig", reader, "-n", ns, "get", "cm"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			want := e.kubectl(tc.args...)
			got := e.agentctl(append([]string{"kubectl"}, tc.args...)...)
			if tc.age {
				want.stdout = age.ReplaceAllString(want.stdout, "<age>")
				got.stdout = age.ReplaceAllString(got.stdout, "<age>")
			}
			if got.code != want.code {
				t.Errorf("exit code %d, kubectl's %d\nstderr: %s", got.code, want.code, got.stderr)
			}
			if got.stdout != want.stdout {
				t.Errorf("stdout differs from kubectl's\n--- agentctl ---\n%s\n--- kubectl ---\n%s", got.stdout, want.stdout)
			}
			if got.stderr != want.stderr {
				t.Errorf("stderr differs from kubectl's\n--- agentctl ---\n%s\n--- kubectl ---\n%s", got.stderr, want.stderr)
			}
		})
	}
}

// TestKubectlGetUsesRBACOfTheKubeconfig checks that a reader bound to a
// namespaced role reads what the role allows, like upstream kubectl.
func TestKubectlGetUsesRBACOfTheKubeconfig(t *testing.T) {
	c := testenv.Start(t)
	ns := c.NewNamespace(t)
	c.Apply(t, ns, webFixtures)
	// Not ClusterRole view: without a controller-manager nothing
	// aggregates its rules, so it allows nothing.
	c.Apply(t, ns, `
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: configmap-reader}
rules:
- {apiGroups: [""], resources: [configmaps], verbs: [get, list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader-configmaps}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: configmap-reader}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: reader}
`)
	e := newEnv(t)
	args := []string{"kubectl", "--kubeconfig", c.Kubeconfig(t, testenv.UserReader), "-n", ns, "get", "cm", "-o", "name"}
	got := e.agentctl(args...)
	want := "configmap/app-config\nconfigmap/other-config\n"
	if got.code != 0 || got.stdout != want {
		t.Errorf("agentctl %s: exit %d, stdout %q, want exit 0, stdout %q\nstderr: %s",
			strings.Join(args, " "), got.code, got.stdout, want, got.stderr)
	}
}
