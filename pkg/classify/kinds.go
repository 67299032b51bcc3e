package classify

import "strings"

// privilegeKinds are the Kubernetes kinds that change who can do what;
// any change to one is a privilege change, whichever tool makes it.
var privilegeKinds = map[string]bool{
	"Role": true, "ClusterRole": true, "RoleBinding": true, "ClusterRoleBinding": true,
	"ServiceAccount":               true,
	"MutatingWebhookConfiguration": true, "ValidatingWebhookConfiguration": true,
	"ValidatingAdmissionPolicy": true, "ValidatingAdmissionPolicyBinding": true,
	"MutatingAdmissionPolicy": true, "MutatingAdmissionPolicyBinding": true,
	"NetworkPolicy": true,
	// An APIService can route a whole API group to a service of one's own.
	"APIService": true,
}

// PrivilegeKind reports whether a change to an object of Kubernetes kind k
// changes who can do what: RBAC, service accounts, admission webhooks and
// policies, network policies (CiliumNetworkPolicy and other CRD kinds whose
// name ends in NetworkPolicy too), AuthorizationPolicy, APIService.
func PrivilegeKind(k string) bool {
	return privilegeKinds[k] || strings.HasSuffix(k, "NetworkPolicy") || k == "AuthorizationPolicy"
}
