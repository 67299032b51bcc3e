package testenv_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/agentctl/agentctl/pkg/testenv"
)

func TestMain(m *testing.M) { testenv.RunMain(m) }

func TestVersionsMatchTheModules(t *testing.T) {
	for _, tc := range []struct {
		gomod, module, want string
	}{
		{"../../testdata/cluster/go.mod", "k8s.io/kubernetes", testenv.KubernetesVersion},
		{"../../testdata/etcd/go.mod", "go.etcd.io/etcd/server/v3", testenv.EtcdVersion},
	} {
		data, err := os.ReadFile(tc.gomod)
		if err != nil {
			t.Fatal(err)
		}
		re := regexp.MustCompile(`(?m)^\s*(?:require\s+)?` + regexp.QuoteMeta(tc.module) + `\s+(\S+)`)
		m := re.FindSubmatch(data)
		if m == nil {
			t.Fatalf("%s does not require %s", tc.gomod, tc.module)
		}
		if got := string(m[1]); got != tc.want {
			t.Errorf("%s requires %s %s, testenv expects %s", tc.gomod, tc.module, got, tc.want)
		}
	}
}

func TestClusterCreatesNamespaces(t *testing.T) {
	c := testenv.Start(t)
	ns := c.NewNamespace(t)
	got, err := c.AdminClient(t).CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get the new namespace: %v", err)
	}
	if got.Status.Phase != "Active" {
		t.Errorf("namespace %q is %q, want Active", ns, got.Status.Phase)
	}
}

func TestRBACDeniesNonAdminUsers(t *testing.T) {
	c := testenv.Start(t)
	for _, user := range []string{testenv.UserReader, testenv.UserDeployer, testenv.UserBroker} {
		t.Run(user, func(t *testing.T) {
			_, err := c.Client(t, user).CoreV1().Namespaces().List(context.Background(), metav1.ListOptions{})
			if !apierrors.IsForbidden(err) {
				t.Errorf("%s lists namespaces: got error %v, want Forbidden", user, err)
			}
		})
	}
}

func TestApplyMakesACustomResourceUsable(t *testing.T) {
	c := testenv.Start(t)
	ns := c.NewNamespace(t)
	objs := c.Apply(t, ns, `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.smoke.testenv.example
spec:
  group: smoke.testenv.example
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wdg]}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
---
apiVersion: smoke.testenv.example/v1
kind: Widget
metadata: {name: w1}
spec: {size: 3}
`)
	if len(objs) != 2 {
		t.Fatalf("applied %d objects, want 2", len(objs))
	}
	if w := objs[1]; w.GetNamespace() != ns || w.GetName() != "w1" {
		t.Errorf("widget applied as %s/%s, want %s/w1", w.GetNamespace(), w.GetName(), ns)
	}
}

func TestUpstreamKubectlGetsNamespaces(t *testing.T) {
	c := testenv.Start(t)
	kubectl := testenv.Bin(t, "kubectl")
	ns := c.NewNamespace(t)

	for _, tc := range []struct {
		user     string
		wantCode int
		want     string
	}{
		{testenv.UserAdmin, 0, "namespace/" + ns + "\n"},
		{testenv.UserReader, 1, `namespaces "` + ns + `" is forbidden: User "reader" cannot get resource "namespaces"`},
	} {
		t.Run(tc.user, func(t *testing.T) {
			cmd := exec.Command(kubectl, "get", "ns", ns, "-o", "name")
			cmd.Env = append(os.Environ(), "KUBECONFIG="+c.Kubeconfig(t, tc.user), "HOME="+t.TempDir())
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			if code := cmd.ProcessState.ExitCode(); code != tc.wantCode {
				t.Fatalf("kubectl exit code %d (%v), want %d\nstderr: %s", code, err, tc.wantCode, stderr.String())
			}
			if got := stdout.String() + stderr.String(); !strings.Contains(got, tc.want) {
				t.Errorf("kubectl printed %q, want it to contain %q", got, tc.want)
			}
		})
	}
}

func TestOfflineKubeconfigCannotConnect(t *testing.T) {
	kubectl := testenv.Bin(t, "kubectl")
	cmd := exec.Command(kubectl, "--kubeconfig", testenv.OfflineKubeconfig(t, testenv.UserAdmin), "get", "ns")
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("kubectl reached an offline server:\n%s", out)
	}
	if !strings.Contains(string(out), "connection refused") {
		t.Errorf("kubectl printed %q, want connection refused", out)
	}
}
