package kubectl

import (
	"reflect"
	"strings"
	"testing"

	"github.com/agentctl/agentctl/pkg/classify"
)

// TestGrantsInReasons: a privilege change says what it grants in its
// reasons, which the approval screen shows as its reason lines.
func TestGrantsInReasons(t *testing.T) {
	for _, tc := range []struct {
		name  string
		args  string
		stdin string
		want  string
	}{
		{"manifest ClusterRoleBinding to a ServiceAccount", "apply -f -", `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: deployer-admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects:
- {kind: ServiceAccount, name: deployer, namespace: ci}
`, "ClusterRoleBinding deployer-admin binds ClusterRole cluster-admin (every verb on every resource) to ServiceAccount ci/deployer (cluster-wide)"},
		{"manifest RoleBinding: a subject without namespace is in the binding's", "-n shop apply -f -", `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: view}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects:
- {kind: ServiceAccount, name: web}
- {kind: User, name: alice}
`, "RoleBinding view binds ClusterRole view to ServiceAccount shop/web, User alice in namespace shop"},
		{"manifest ClusterRole with wildcards and escalate", "apply -f -", `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: ops}
rules:
- {apiGroups: [""], resources: [pods, secrets], verbs: [get, list]}
- {apiGroups: [rbac.authorization.k8s.io], resources: ["*"], verbs: [escalate, bind]}
`, "ClusterRole ops grants get,list on pods,secrets; escalate,bind on * (cluster-wide); note: bind, escalate, wildcard *"},
		{"create clusterrolebinding from flags", "create clusterrolebinding x --clusterrole=cluster-admin --serviceaccount=kube-system:default --user=agent", "",
			"ClusterRoleBinding x binds ClusterRole cluster-admin (every verb on every resource) to User agent, ServiceAccount kube-system/default (cluster-wide)"},
		{"create role from flags", "-n shop create role pod-reader --verb=get,list --resource=pods", "",
			"Role pod-reader grants get,list on pods in namespace shop"},
		{"create clusterrole that impersonates", "create clusterrole imp --verb=impersonate --resource=users", "",
			"ClusterRole imp grants impersonate on users (cluster-wide); note: impersonate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := classifyArgs(t, strings.Fields(tc.args), tc.stdin)
			if a.Class != classify.Privilege {
				t.Errorf("class %s, want privilege", a.Class)
			}
			for _, r := range a.Reasons {
				if r.Message == tc.want {
					return
				}
			}
			t.Errorf("no reason %q in\n%s", tc.want, dump(a))
		})
	}
}

// TestDeleteMatches: a delete records how to list what it matches, with
// the selection as kubectl reads it from the flags.
func TestDeleteMatches(t *testing.T) {
	for _, tc := range []struct {
		args string
		want classify.Matches
	}{
		{"-n shop delete deploy web api", classify.Matches{Args: []string{"deploy", "web", "api"}}},
		{"delete deploy,cm -l app=web -n shop", classify.Matches{Args: []string{"deploy,cm", "--selector=app=web"}, Selector: "-l app=web", Open: true}},
		{"delete pods --all", classify.Matches{Args: []string{"pods"}, Selector: "--all", Open: true}},
		{"delete pods --field-selector=status.phase=Failed -A", classify.Matches{Args: []string{"pods", "--field-selector=status.phase=Failed", "--all-namespaces"}, Selector: "--field-selector status.phase=Failed --all-namespaces", Open: true}},
	} {
		t.Run(tc.args, func(t *testing.T) {
			a := classifyArgs(t, strings.Fields(tc.args), "")
			if a.Matches == nil || !reflect.DeepEqual(*a.Matches, tc.want) {
				t.Errorf("Matches = %+v, want %+v", a.Matches, tc.want)
			}
		})
	}
}
