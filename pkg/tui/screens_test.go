package tui

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/agentctl/agentctl/pkg/approve"
	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/policy"
	"github.com/agentctl/agentctl/pkg/request"
)

// The screens of issue 23, built as agentctl builds them (approve.NewScreen
// from a request, its assessment, the policy's decision and the preview),
// from inputs as kubectl and terraform produce them.

// sizes are the terminal sizes every screen is checked at.
var sizes = [][2]int{{80, 24}, {200, 50}}

func screenOf(args []string, a *classify.Assessment, d policy.Decision, diff string, live *approve.Live, noop bool) *approve.Screen {
	tool := a.Tool
	r := &approve.Request{
		Req: &request.Request{ID: "7f3a9c0e1b2d4f6a8c9e0b1d", Time: t0, Tool: tool, Args: args,
			Agent: "claude-code", Intent: "retire the web tier of the shop", Cwd: "/home/dev/shop"},
		Assessment: a, Decision: d, Diff: diff, Live: live, NoOp: noop, Expires: t0.Add(5 * time.Minute),
	}
	s := approve.NewScreen(r)
	s.PID, s.User = 4242, "dev" // the test's own would change every run
	s.Hash = approve.HashOf(r)
	return s
}

var kubeTarget = classify.Target{Context: "prod-eu", Cluster: "prod-eu", Namespace: "shop", Env: "prod"}

func changesNeedHuman() policy.Decision {
	return policy.Decision{Action: policy.Approve, Rule: "changes-need-human", Message: "this command changes infrastructure; a human must approve it", Env: "prod"}
}

func deleteSelectorScreen() *approve.Screen {
	args := []string{"-n", "shop", "delete", "deploy,cm", "-l", "app=web"}
	a := &classify.Assessment{Tool: "kubectl", Class: classify.Destructive, Subcommand: "delete", Target: kubeTarget,
		Resources: []classify.Resource{
			{Group: "apps", Kind: "Deployment", Resource: "deployments", Namespace: "shop", Action: "delete", Class: classify.Destructive},
			{Kind: "ConfigMap", Resource: "configmaps", Namespace: "shop", Action: "delete", Class: classify.Destructive},
		},
		Reasons: []classify.Reason{{Class: classify.Destructive, Message: "delete deletes deployments"}, {Class: classify.Destructive, Message: "delete deletes configmaps"}},
		Matches: &classify.Matches{Args: []string{"deploy,cm", "--selector=app=web"}, Selector: "-l app=web", Open: true},
		Exec:    classify.Invocation{Args: args},
	}
	objs, err := approve.ParseLive(strings.Join([]string{
		"Deployment   shop   web      2025-02-27T09:14:02Z   3        registry.example/shop/web:1.27.3   <none>",
		"Deployment   shop   web-canary   2025-03-01T11:02:40Z   1    registry.example/shop/web:1.28.0-rc1   <none>",
		"ConfigMap    shop   web-config   2025-02-27T09:14:01Z   <none>   <none>   <none>",
	}, "\n"), t0)
	if err != nil {
		panic(err)
	}
	live := &approve.Live{Objects: objs, Selector: "-l app=web", Open: true}
	return screenOf(args, a, changesNeedHuman(), "", live, false)
}

// kubectlDiff is what kubectl diff prints for a Deployment whose image and
// replicas change: the temporary files, the fields the server sets, and a
// long last-applied annotation.
const kubectlDiff = `diff -u -N /tmp/LIVE-2841736189/apps.v1.Deployment.shop.web /tmp/MERGED-1325364371/apps.v1.Deployment.shop.web
--- /tmp/LIVE-2841736189/apps.v1.Deployment.shop.web	2025-03-01 12:00:00.339912876 +0000
+++ /tmp/MERGED-1325364371/apps.v1.Deployment.shop.web	2025-03-01 12:00:00.340912876 +0000
@@ -4,10 +4,10 @@
   annotations:
     deployment.kubernetes.io/revision: "7"
     kubectl.kubernetes.io/last-applied-configuration: |
       {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"annotations":{},"labels":{"app":"web"},"name":"web","namespace":"shop"},"spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"image":"registry.example/shop/web:1.27.3","name":"web"}]}}}}
   creationTimestamp: "2025-02-27T09:14:02Z"
-  generation: 7
+  generation: 8
   labels:
     app: web
   name: web
   namespace: shop
-  resourceVersion: "918273"
+  resourceVersion: "918301"
   uid: 6c1e2f4a-9b7d-4e3c-8a1f-2d5b6c7e8f90
 spec:
   progressDeadlineSeconds: 600
-  replicas: 3
+  replicas: 5
   revisionHistoryLimit: 10
   selector:
     matchLabels:
@@ -30,7 +30,7 @@
     spec:
       containers:
-      - image: registry.example/shop/web:1.27.3
+      - image: registry.example/shop/web:1.28.0
         imagePullPolicy: IfNotPresent
         name: web
         args: ["--listen=:8080", "--upstream=http://inventory.shop.svc.cluster.local:8080/api/v2/items?expand=stock,price,images&region=eu-west"]
         resources: {}
`

func applyDiffScreen() *approve.Screen {
	args := []string{"apply", "-f", "-"}
	a := &classify.Assessment{Tool: "kubectl", Class: classify.Write, Subcommand: "apply", Target: kubeTarget,
		Resources: []classify.Resource{{Group: "apps", Kind: "Deployment", Resource: "deployments", Namespace: "shop", Name: "web", Action: "apply", Source: classify.SourceManifest, Class: classify.Write}},
		Reasons:   []classify.Reason{{Class: classify.Write, Message: "apply changes deployments/web"}},
		Exec:      classify.Invocation{Args: args, Stdin: []byte("kind: Deployment\n")},
	}
	return screenOf([]string{"apply", "-f", "deploy/web.yaml"}, a, changesNeedHuman(), kubectlDiff, nil, false)
}

const bindingDiff = `diff -u -N /tmp/LIVE-771/rbac.authorization.k8s.io.v1.ClusterRoleBinding..deployer-admin /tmp/MERGED-772/rbac.authorization.k8s.io.v1.ClusterRoleBinding..deployer-admin
--- /tmp/LIVE-771/rbac.authorization.k8s.io.v1.ClusterRoleBinding..deployer-admin	2025-03-01 12:00:00.1 +0000
+++ /tmp/MERGED-772/rbac.authorization.k8s.io.v1.ClusterRoleBinding..deployer-admin	2025-03-01 12:00:00.1 +0000
@@ -0,0 +1,14 @@
+apiVersion: rbac.authorization.k8s.io/v1
+kind: ClusterRoleBinding
+metadata:
+  creationTimestamp: "2025-03-01T12:00:00Z"
+  name: deployer-admin
+  uid: 0d9c8b7a-6f5e-4d3c-2b1a-0f9e8d7c6b5a
+roleRef:
+  apiGroup: rbac.authorization.k8s.io
+  kind: ClusterRole
+  name: cluster-admin
+subjects:
+- kind: ServiceAccount
+  name: deployer
+  namespace: ci
`

func privilegeBindingScreen(noop bool) *approve.Screen {
	args := []string{"apply", "-f", "-"}
	a := &classify.Assessment{Tool: "kubectl", Class: classify.Privilege, Subcommand: "apply", Target: kubeTarget,
		Resources: []classify.Resource{{Group: "rbac.authorization.k8s.io", Kind: "ClusterRoleBinding", Resource: "clusterrolebindings", Name: "deployer-admin", Action: "apply", Source: classify.SourceManifest, Class: classify.Privilege}},
		Reasons: []classify.Reason{
			{Class: classify.Privilege, Message: "apply changes who can do what: clusterrolebindings/deployer-admin"},
			{Class: classify.Privilege, Message: "ClusterRoleBinding deployer-admin binds ClusterRole cluster-admin (every verb on every resource) to ServiceAccount ci/deployer (cluster-wide)"},
		},
		Exec: classify.Invocation{Args: args, Stdin: []byte("kind: ClusterRoleBinding\n")},
	}
	d := policy.Decision{Action: policy.Approve, Rule: "privilege-needs-human", Confirm: true, Env: "prod",
		Message: "this changes who can do what (RBAC, IAM, network or admission policy); a human must confirm by typing the target"}
	diff := bindingDiff
	if noop {
		diff = "(no changes: the cluster already matches)"
	}
	return screenOf([]string{"apply", "-f", "rbac/deployer.yaml"}, a, d, diff, nil, noop)
}

const destroyPlan = `testcloud_instance.node[0]: Refreshing state... [id=i-0a1b2c]
testcloud_instance.node[1]: Refreshing state... [id=i-3d4e5f]

Terraform used the selected providers to generate the following execution
plan. Resource actions are indicated with the following symbols:
  - destroy

Terraform will perform the following actions:

  # terraform_data.marker will be destroyed
  - resource "terraform_data" "marker" {
      - id     = "5b2a7c1e-0d3f-4a6b-9c8e-1f2d3e4a5b6c" -> null
      - input  = "fleet" -> null
      - output = "fleet" -> null
    }

  # testcloud_instance.node[0] will be destroyed
  - resource "testcloud_instance" "node" {
      - id    = "i-0a1b2c" -> null
      - image = "debian-12" -> null
      - name  = "node-0" -> null
      - size  = "small" -> null
    }

  # testcloud_instance.node[1] will be destroyed
  - resource "testcloud_instance" "node" {
      - id    = "i-3d4e5f" -> null
      - image = "debian-12" -> null
      - name  = "node-1" -> null
      - size  = "small" -> null
    }

Plan: 0 to add, 0 to change, 3 to destroy.
`

func terraformScreen(sub string, args []string, plan string, res []classify.Resource, summary string, vars map[string]bool) *approve.Screen {
	class := classify.Write
	var reasons []classify.Reason
	for _, r := range res {
		class = classify.Max(class, r.Class)
		if r.Class >= classify.Destructive {
			reasons = append(reasons, classify.Reason{Class: r.Class, Message: r.Address + ": " + r.Action})
		}
	}
	a := &classify.Assessment{Tool: "terraform", Class: class, Subcommand: sub,
		Target:    classify.Target{Dir: "/home/dev/infra/fleet", Workspace: "default"},
		Resources: res, Reasons: append(reasons, classify.Reason{Class: class, Message: summary}),
		Plan: &classify.Plan{Path: "/home/dev/.cache/agentctl/plans/7f3a.tfplan", Summary: summary, Owned: true,
			Rendered: plan, Variables: vars},
		Exec: classify.Invocation{Args: []string{"apply", "-input=false", "/home/dev/.cache/agentctl/plans/7f3a.tfplan"}, Dir: "/home/dev/infra/fleet"},
	}
	d := policy.Decision{Action: policy.Approve, Rule: "terraform-apply-prod",
		Message: "terraform changes in prod need a human approval; the approved plan runs with the deploy identity"}
	return screenOf(args, a, d, "", nil, false)
}

const provider = "agentctl.test/agentctl/testcloud"

func destroyScreen() *approve.Screen {
	return terraformScreen("destroy", []string{"destroy", "-auto-approve"}, destroyPlan, []classify.Resource{
		{Address: "terraform_data.marker", Type: "terraform_data", Name: "marker", Action: "delete", Provider: "terraform.io/builtin/terraform", Source: classify.SourcePlan, Class: classify.Destructive},
		{Address: "testcloud_instance.node[0]", Type: "testcloud_instance", Name: "node", Action: "delete", Provider: provider, Source: classify.SourcePlan, Class: classify.Destructive},
		{Address: "testcloud_instance.node[1]", Type: "testcloud_instance", Name: "node", Action: "delete", Provider: provider, Source: classify.SourcePlan, Class: classify.Destructive},
	}, "Plan: 0 to add, 0 to change, 3 to destroy.", map[string]bool{"cloud_dir": false, "image": false, "instances": false, "size": false})
}

const replacePlan = `Terraform used the selected providers to generate the following execution
plan. Resource actions are indicated with the following symbols:
  ~ update in-place

Terraform will perform the following actions:

  # testcloud_instance.node[0] will be updated in-place
  ~ resource "testcloud_instance" "node" {
        id    = "i-0a1b2c"
      ~ image = "debian-12" -> "debian-13"
        name  = "node-0"
        # (1 unchanged attribute hidden)
    }

Plan: 0 to add, 1 to change, 0 to destroy.
`

func terraformApplyScreen() *approve.Screen {
	return terraformScreen("apply", []string{"apply", "-var", "image=debian-13", "-var=db_password=hunter2", "-var", "token=s3cr3t"}, replacePlan, []classify.Resource{
		{Address: "testcloud_instance.node[0]", Type: "testcloud_instance", Name: "node", Action: "update", Provider: provider, Source: classify.SourcePlan, Class: classify.Write},
	}, "Plan: 0 to add, 1 to change, 0 to destroy.", map[string]bool{"image": false, "db_password": true, "instances": false})
}

// TestGoldenIssue23 renders each screen at 80×24 and 200×50.
func TestGoldenIssue23(t *testing.T) {
	for _, tc := range []struct {
		name   string
		screen func() *approve.Screen
		msgs   []tea.Msg
	}{
		{"delete_selector", deleteSelectorScreen, nil},
		{"delete_selector_confirm", deleteSelectorScreen, []tea.Msg{press("a")}},
		{"apply_diff", applyDiffScreen, nil},
		{"apply_diff_scrolled", applyDiffScreen, []tea.Msg{press("down"), press("down"), press("down")}},
		{"privilege_binding", func() *approve.Screen { return privilegeBindingScreen(false) }, nil},
		{"privilege_noop", func() *approve.Screen { return privilegeBindingScreen(true) }, nil},
		{"terraform_destroy", destroyScreen, []tea.Msg{press("a")}},
		{"terraform_apply_vars", terraformApplyScreen, nil},
	} {
		for _, sz := range sizes {
			t.Run(fmt.Sprintf("%s_%dx%d", tc.name, sz[0], sz[1]), func(t *testing.T) {
				m := NewModel(tc.screen(), Options{NoColor: true, Now: func() time.Time { return t0 }, Width: sz[0], Height: sz[1], Location: time.UTC})
				m = drive(m, tc.msgs...)
				view := m.View()
				checkFits(t, view, sz[0], sz[1])
				golden.RequireEqual(t, []byte(view))
			})
		}
	}
}

func checkFits(t *testing.T, view string, w, h int) {
	t.Helper()
	lines := strings.Split(view, "\n")
	if len(lines) > h {
		t.Errorf("%dx%d: view has %d lines", w, h, len(lines))
	}
	for _, l := range lines {
		if n := len([]rune(l)); n > w {
			t.Errorf("%dx%d: line of %d cells: %q", w, h, n, l)
		}
	}
}

// TestFlowDeleteSelectorNeedsTheTypedName runs the delete screen in a
// bubbletea program at both sizes: a alone asks for the name, the name
// approves.
func TestFlowDeleteSelectorNeedsTheTypedName(t *testing.T) {
	for _, sz := range sizes {
		t.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(t *testing.T) {
			m := NewModel(deleteSelectorScreen(), Options{NoColor: true, Now: func() time.Time { return t0 }, Width: sz[0], Height: sz[1], Location: time.UTC})
			m.quitOnDone = true
			tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(sz[0], sz[1]))
			teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
				return bytes.Contains(b, []byte("matches 3 objects now")) && bytes.Contains(b, []byte("a approve"))
			}, teatest.WithDuration(10*time.Second))
			tm.Send(press("a"))
			teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
				return bytes.Contains(b, []byte("type prod-eu to approve"))
			}, teatest.WithDuration(10*time.Second))
			for _, k := range append(typeText("prod-eu"), press("enter")) {
				tm.Send(k)
			}
			fm := tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second)).(Model)
			if v := fm.Verdict(); !v.Approved {
				t.Fatalf("verdict %+v, want approved after the typed name", v)
			}
		})
	}
}
