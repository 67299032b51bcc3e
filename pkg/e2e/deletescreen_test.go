package e2e_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/agentctl/agentctl/pkg/testenv"
)

const apiDeployment = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  labels: {app: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
      - name: api
        image: api:2.4.1
`

// TestTerminalApprovalDeleteListsLiveObjects deletes by a label selector
// across three types in a real terminal: the screen lists the objects the
// selector matches in the cluster now, with a summary each, says that the
// selection is open, and a single key does not approve a delete of more
// than one object: the context's name must be typed. Then exactly the
// listed objects go.
func TestTerminalApprovalDeleteListsLiveObjects(t *testing.T) {
	c := testenv.Start(t)
	bin := agentctlBin(t)
	ns := c.NewNamespace(t)
	c.Apply(t, ns, webFixtures)
	c.Apply(t, ns, apiDeployment)
	admin := c.Kubeconfig(t, testenv.UserAdmin)
	dir, env := approvalEnv(t)
	tm := newTerm(t, dir, env)
	errf := filepath.Join(dir, "stderr")
	tm.start("agent", fmt.Sprintf("%s </dev/null >/dev/null 2>%s", shellQuote([]string{bin, "--intent", "remove the web tier",
		"kubectl", "--kubeconfig", admin, "-n", ns, "delete", "deploy,cm,pod", "-l", "app=web"}), errf))
	screen := tm.waitFor("agent", "approval needed", "a approve")
	for _, want := range []string{
		"matches 3 objects now (-l app=web); it deletes what matches when it runs",
		"Deployment  " + ns + "/api", "replicas 3, image api:2.4.1, age ",
		"ConfigMap   " + ns + "/app-config",
		"Pod         " + ns + "/web-0", "image web:1",
	} {
		if !strings.Contains(screen, want) {
			t.Errorf("screen lacks %q:\n%s", want, screen)
		}
	}
	if strings.Contains(screen, "(all)") {
		t.Errorf("screen shows (all) instead of the selector:\n%s", screen)
	}
	if strings.Contains(screen, "other-config") {
		t.Errorf("screen lists an object the selector does not match:\n%s", screen)
	}
	tm.keys("agent", "a")
	screen = tm.waitFor("agent", "type the target's name")
	word := between(screen, `type the target's name "`, `"`)
	if word == "" {
		t.Fatalf("no name to type on the screen:\n%s", screen)
	}
	if !configMapExists(t, c, ns, "app-config") {
		t.Fatal("a single key deleted the objects")
	}
	tm.keys("agent", word, "Enter")
	if s := tm.waitFor("agent", "EXIT="); !strings.Contains(s, "EXIT=0") {
		stderr, _ := os.ReadFile(errf)
		t.Fatalf("screen:\n%s\nstderr: %s", s, stderr)
	}
	if configMapExists(t, c, ns, "app-config") {
		t.Error("app-config stays after the approved delete")
	}
	if _, err := c.AdminClient(t).AppsV1().Deployments(ns).Get(context.Background(), "api", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("deployment api after the approved delete: %v", err)
	}
	if !configMapExists(t, c, ns, "other-config") {
		t.Error("other-config was deleted too")
	}
}

const viewBinding = `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: web-view
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects:
- {kind: ServiceAccount, name: web}
`

// TestTerminalApprovalPrivilegeNoOp applies a RoleBinding the cluster
// already holds: the screen says what it grants, that the dry run found
// nothing to change, and one key approves. The same manifest with a
// changed subject still needs the typed name.
func TestTerminalApprovalPrivilegeNoOp(t *testing.T) {
	c := testenv.Start(t)
	bin := agentctlBin(t)
	ns := c.NewNamespace(t)
	c.Apply(t, ns, viewBinding)
	admin := c.Kubeconfig(t, testenv.UserAdmin)
	dir, env := approvalEnv(t)
	for _, tc := range []struct {
		name     string
		manifest string
		noop     bool
	}{
		{"unchanged", viewBinding, true},
		{"another subject", strings.Replace(viewBinding, "name: web}", "name: admin}", 1), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(dir, tc.name+".yaml")
			if err := os.WriteFile(file, []byte(tc.manifest), 0o644); err != nil {
				t.Fatal(err)
			}
			tm := newTerm(t, filepath.Join(dir, tc.name[:3]), env)
			if err := os.MkdirAll(filepath.Join(dir, tc.name[:3]), 0o700); err != nil {
				t.Fatal(err)
			}
			tm.start("agent", fmt.Sprintf("%s </dev/null >/dev/null 2>&1", shellQuote([]string{bin,
				"kubectl", "--kubeconfig", admin, "-n", ns, "apply", "-f", file})))
			screen := flat(tm.waitFor("agent", "approval needed", "PRIVILEGE", "a approve"))
			subject := "ServiceAccount " + ns + "/web"
			if !tc.noop {
				subject = "ServiceAccount " + ns + "/admin"
			}
			nospace := func(s string) string { return strings.ReplaceAll(s, " ", "") }
			if want := "RoleBinding web-view binds ClusterRole view to " + subject; !strings.Contains(nospace(screen), nospace(want)) {
				t.Errorf("screen lacks %q:\n%s", want, screen)
			}
			if got := strings.Contains(nospace(screen), nospace("the cluster already matches: applying changes nothing")); got != tc.noop {
				t.Errorf("no-op shown = %v, want %v:\n%s", got, tc.noop, screen)
			}
			tm.keys("agent", "a")
			if tc.noop {
				if s := tm.waitFor("agent", "EXIT="); !strings.Contains(s, "EXIT=0") {
					t.Fatalf("one key did not approve the no-op:\n%s", s)
				}
				return
			}
			tm.waitFor("agent", "type the target's name")
		})
	}
}

// TestTerminalApprovalTerraformScreen applies a terraform change in a real
// terminal: the screen shows the -var values the plan shows anyway, the
// resources with their address and provider (no Kubernetes columns) and no
// environment the policy did not map.
func TestTerminalApprovalTerraformScreen(t *testing.T) {
	_, d := tfEnv(t, "fleet")
	bin := agentctlBin(t)
	dir, env := approvalEnv(t)
	for _, kv := range d.Env {
		if k, _, _ := strings.Cut(kv, "="); k != "PATH" && k != "HOME" {
			env = append(env, kv)
		}
	}
	env = append(env, "AGENTCTL_TERRAFORM="+d.Bin)
	tm := newTerm(t, dir, env)
	tm.start("agent", fmt.Sprintf("cd %s && %s </dev/null >/dev/null 2>&1", shellQuote([]string{d.Dir}),
		shellQuote([]string{bin, "terraform", "apply", "-var", "instances=3", "-var", "image=debian-13"})))
	screen := tm.waitFor("agent", "approval needed", "a approve")
	for _, want := range []string{
		"terraform apply -var instances=3 -var image=debian-13",
		"ACTION  ADDRESS",
		"PROVIDER", "agentctl.test/agentctl/testcloud",
		"testcloud_instance.node[2]",
	} {
		if !strings.Contains(screen, want) {
			t.Errorf("screen lacks %q:\n%s", want, screen)
		}
	}
	for _, not := range []string{"KIND", "NAMESPACE", "env unknown", "***"} {
		if strings.Contains(screen, not) {
			t.Errorf("screen shows %q:\n%s", not, screen)
		}
	}
	tm.keys("agent", "d")
	tm.waitFor("agent", "EXIT=")
}
