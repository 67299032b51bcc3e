package credentials

import (
	"bytes"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// RBACOptions shapes the RBAC that [KubernetesRBAC] prints.
type RBACOptions struct {
	// Namespace holds the ServiceAccounts and is where the deploy
	// identity may change things. Default "default".
	Namespace string
	// Prefix names the objects: PREFIX-read, PREFIX-deploy, PREFIX-broker.
	// Default "agentctl".
	Prefix string
	// ReadUsers, DeployUsers and BrokerUsers add User subjects to the
	// bindings, for identities that are users of the cluster rather than
	// the generated ServiceAccounts.
	ReadUsers, DeployUsers, BrokerUsers []string
	// ExtraReadGroups adds API groups (those of custom resources) the read
	// identity may get, list and watch in full.
	ExtraReadGroups []string
}

// readCoreResources are the core ("") resources the read identity may
// read: everything but secrets and the exec, attach, portforward, proxy
// and token subresources, which RBAC can only leave out by listing the rest.
var readCoreResources = []string{
	"configmaps", "endpoints", "events", "limitranges", "namespaces", "namespaces/status",
	"nodes", "nodes/status", "persistentvolumeclaims", "persistentvolumeclaims/status",
	"persistentvolumes", "persistentvolumes/status", "pods", "pods/log", "pods/status",
	"podtemplates", "replicationcontrollers", "replicationcontrollers/scale",
	"replicationcontrollers/status", "resourcequotas", "resourcequotas/status",
	"serviceaccounts", "services", "services/status", "componentstatuses",
}

// readGroups are the built-in API groups read in full (no group among
// them has a subresource that execs, proxies or reveals a secret).
var readGroups = []string{
	"apps", "batch", "autoscaling", "policy", "networking.k8s.io", "discovery.k8s.io",
	"events.k8s.io", "storage.k8s.io", "scheduling.k8s.io", "node.k8s.io",
	"coordination.k8s.io", "rbac.authorization.k8s.io", "apiextensions.k8s.io",
	"admissionregistration.k8s.io", "certificates.k8s.io", "flowcontrol.apiserver.k8s.io",
	"apiregistration.k8s.io", "metrics.k8s.io", "resource.k8s.io",
}

var readVerbs = []string{"get", "list", "watch"}

var writeVerbs = []string{"get", "list", "watch", "create", "update", "patch", "delete"}

// KubernetesRBAC returns least-privilege RBAC for agentctl's identities as
// multi-document YAML: a ServiceAccount each for read, deploy and broker;
// a read ClusterRole (get/list/watch on everything but Secrets, and no
// exec, attach, portforward, proxy or serviceaccounts/token) bound
// cluster-wide; a deploy Role in the namespace (workloads, services,
// config maps; no Secrets, no RBAC); and a broker Role that may only
// create tokens for the deploy ServiceAccount.
func KubernetesRBAC(o RBACOptions) ([]byte, error) {
	ns, p := orDefault(o.Namespace, "default"), orDefault(o.Prefix, "agentctl")
	read, deploy, broker := p+"-read", p+"-deploy", p+"-broker"
	meta := func(name, namespace string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: map[string]string{"app.kubernetes.io/managed-by": "agentctl"}}
	}
	subjects := func(sa string, users []string) []rbacv1.Subject {
		s := []rbacv1.Subject{{Kind: "ServiceAccount", Name: sa, Namespace: ns}}
		for _, u := range users {
			s = append(s, rbacv1.Subject{Kind: "User", APIGroup: rbacv1.GroupName, Name: u})
		}
		return s
	}
	rbacType := func(kind string) metav1.TypeMeta {
		return metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: kind}
	}
	saType := metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"}
	objs := []any{
		&corev1.ServiceAccount{TypeMeta: saType, ObjectMeta: meta(read, ns)},
		&corev1.ServiceAccount{TypeMeta: saType, ObjectMeta: meta(deploy, ns)},
		&corev1.ServiceAccount{TypeMeta: saType, ObjectMeta: meta(broker, ns)},
		&rbacv1.ClusterRole{TypeMeta: rbacType("ClusterRole"), ObjectMeta: meta(read, ""), Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: readCoreResources, Verbs: readVerbs},
			{APIGroups: append(append([]string(nil), readGroups...), o.ExtraReadGroups...), Resources: []string{"*"}, Verbs: readVerbs},
		}},
		&rbacv1.ClusterRoleBinding{TypeMeta: rbacType("ClusterRoleBinding"), ObjectMeta: meta(read, ""),
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: read},
			Subjects: subjects(read, o.ReadUsers)},
		&rbacv1.Role{TypeMeta: rbacType("Role"), ObjectMeta: meta(deploy, ns), Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"configmaps", "services", "pods", "persistentvolumeclaims"}, Verbs: writeVerbs},
			{APIGroups: []string{""}, Resources: []string{"pods/log", "events", "endpoints"}, Verbs: readVerbs},
			{APIGroups: []string{"apps"}, Resources: []string{"deployments", "deployments/scale", "statefulsets", "statefulsets/scale", "daemonsets", "replicasets"}, Verbs: writeVerbs},
			{APIGroups: []string{"batch"}, Resources: []string{"jobs", "cronjobs"}, Verbs: writeVerbs},
			{APIGroups: []string{"autoscaling"}, Resources: []string{"horizontalpodautoscalers"}, Verbs: writeVerbs},
			{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"ingresses"}, Verbs: writeVerbs},
			{APIGroups: []string{"policy"}, Resources: []string{"poddisruptionbudgets"}, Verbs: writeVerbs},
		}},
		&rbacv1.RoleBinding{TypeMeta: rbacType("RoleBinding"), ObjectMeta: meta(deploy, ns),
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: deploy},
			Subjects: subjects(deploy, o.DeployUsers)},
		&rbacv1.Role{TypeMeta: rbacType("Role"), ObjectMeta: meta(broker, ns), Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"serviceaccounts/token"}, ResourceNames: []string{deploy}, Verbs: []string{"create"}},
		}},
		&rbacv1.RoleBinding{TypeMeta: rbacType("RoleBinding"), ObjectMeta: meta(broker, ns),
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: broker},
			Subjects: subjects(broker, o.BrokerUsers)},
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# RBAC for agentctl's identities (agentctl bootstrap kubernetes --namespace %s).\n", ns)
	fmt.Fprintf(&b, "# read: %s (cluster-wide get/list/watch, no Secrets, no exec/attach/portforward/proxy/token)\n", read)
	fmt.Fprintf(&b, "# deploy: %s (changes in namespace %s, no Secrets, no RBAC)\n", deploy, ns)
	fmt.Fprintf(&b, "# broker: %s (may only create tokens for serviceaccount %s/%s)\n", broker, ns, deploy)
	for _, o := range objs {
		y, err := yaml.Marshal(o)
		if err != nil {
			return nil, err
		}
		b.WriteString("---\n")
		b.Write(bytes.ReplaceAll(y, []byte("  creationTimestamp: null\n"), nil))
	}
	return b.Bytes(), nil
}
