package kubectl

import (
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// kind is one resource type the classifier knows.
type kind struct {
	gvk        schema.GroupVersionKind
	resource   string // plural
	singular   string
	short      []string
	namespaced bool
}

// builtinKinds is the table of built-in resource types of Kubernetes 1.34,
// as `kubectl api-resources` prints them against a stock API server:
// plural, short names, group/version, namespaced, kind. The test
// TestBuiltinTableMatchesScheme checks every row against client-go's scheme
// (k8s.io/api), so a kind that does not exist there cannot slip in.
const builtinKinds = `
bindings                          -             v1                                   true  Binding
componentstatuses                 cs            v1                                   false ComponentStatus
configmaps                        cm            v1                                   true  ConfigMap
endpoints                         ep            v1                                   true  Endpoints
events                            ev            v1                                   true  Event
limitranges                       limits        v1                                   true  LimitRange
namespaces                        ns            v1                                   false Namespace
nodes                             no            v1                                   false Node
persistentvolumeclaims            pvc           v1                                   true  PersistentVolumeClaim
persistentvolumes                 pv            v1                                   false PersistentVolume
pods                              po            v1                                   true  Pod
podtemplates                      -             v1                                   true  PodTemplate
replicationcontrollers            rc            v1                                   true  ReplicationController
resourcequotas                    quota         v1                                   true  ResourceQuota
secrets                           -             v1                                   true  Secret
serviceaccounts                   sa            v1                                   true  ServiceAccount
services                          svc           v1                                   true  Service
mutatingwebhookconfigurations     -             admissionregistration.k8s.io/v1      false MutatingWebhookConfiguration
validatingadmissionpolicies       -             admissionregistration.k8s.io/v1      false ValidatingAdmissionPolicy
validatingadmissionpolicybindings -             admissionregistration.k8s.io/v1      false ValidatingAdmissionPolicyBinding
validatingwebhookconfigurations   -             admissionregistration.k8s.io/v1      false ValidatingWebhookConfiguration
mutatingadmissionpolicies         -             admissionregistration.k8s.io/v1beta1 false MutatingAdmissionPolicy
mutatingadmissionpolicybindings   -             admissionregistration.k8s.io/v1beta1 false MutatingAdmissionPolicyBinding
customresourcedefinitions         crd,crds      apiextensions.k8s.io/v1              false CustomResourceDefinition
apiservices                       -             apiregistration.k8s.io/v1            false APIService
controllerrevisions               -             apps/v1                              true  ControllerRevision
daemonsets                        ds            apps/v1                              true  DaemonSet
deployments                       deploy        apps/v1                              true  Deployment
replicasets                       rs            apps/v1                              true  ReplicaSet
statefulsets                      sts           apps/v1                              true  StatefulSet
selfsubjectreviews                -             authentication.k8s.io/v1             false SelfSubjectReview
tokenreviews                      -             authentication.k8s.io/v1             false TokenReview
localsubjectaccessreviews         -             authorization.k8s.io/v1              true  LocalSubjectAccessReview
selfsubjectaccessreviews          -             authorization.k8s.io/v1              false SelfSubjectAccessReview
selfsubjectrulesreviews           -             authorization.k8s.io/v1              false SelfSubjectRulesReview
subjectaccessreviews              -             authorization.k8s.io/v1              false SubjectAccessReview
horizontalpodautoscalers          hpa           autoscaling/v2                       true  HorizontalPodAutoscaler
cronjobs                          cj            batch/v1                             true  CronJob
jobs                              -             batch/v1                             true  Job
certificatesigningrequests        csr           certificates.k8s.io/v1               false CertificateSigningRequest
clustertrustbundles               -             certificates.k8s.io/v1beta1          false ClusterTrustBundle
leases                            -             coordination.k8s.io/v1               true  Lease
endpointslices                    -             discovery.k8s.io/v1                  true  EndpointSlice
events                            ev            events.k8s.io/v1                     true  Event
flowschemas                       -             flowcontrol.apiserver.k8s.io/v1      false FlowSchema
prioritylevelconfigurations       -             flowcontrol.apiserver.k8s.io/v1      false PriorityLevelConfiguration
ingressclasses                    -             networking.k8s.io/v1                 false IngressClass
ingresses                         ing           networking.k8s.io/v1                 true  Ingress
ipaddresses                       ip            networking.k8s.io/v1                 false IPAddress
networkpolicies                   netpol        networking.k8s.io/v1                 true  NetworkPolicy
servicecidrs                      -             networking.k8s.io/v1                 false ServiceCIDR
runtimeclasses                    -             node.k8s.io/v1                       false RuntimeClass
poddisruptionbudgets              pdb           policy/v1                            true  PodDisruptionBudget
clusterrolebindings               -             rbac.authorization.k8s.io/v1         false ClusterRoleBinding
clusterroles                      -             rbac.authorization.k8s.io/v1         false ClusterRole
rolebindings                      -             rbac.authorization.k8s.io/v1         true  RoleBinding
roles                             -             rbac.authorization.k8s.io/v1         true  Role
deviceclasses                     -             resource.k8s.io/v1                   false DeviceClass
resourceclaims                    -             resource.k8s.io/v1                   true  ResourceClaim
resourceclaimtemplates            -             resource.k8s.io/v1                   true  ResourceClaimTemplate
resourceslices                    -             resource.k8s.io/v1                   false ResourceSlice
priorityclasses                   pc            scheduling.k8s.io/v1                 false PriorityClass
csidrivers                        -             storage.k8s.io/v1                    false CSIDriver
csinodes                          -             storage.k8s.io/v1                    false CSINode
csistoragecapacities              -             storage.k8s.io/v1                    true  CSIStorageCapacity
storageclasses                    sc            storage.k8s.io/v1                    false StorageClass
volumeattachments                 -             storage.k8s.io/v1                    false VolumeAttachment
volumeattributesclasses           vac           storage.k8s.io/v1                    false VolumeAttributesClass
`

// categories are the resource categories a stock API server publishes.
// "all" never includes secrets.
var categories = map[string][]string{
	"all": {"pods", "replicationcontrollers", "services", "daemonsets", "deployments",
		"replicasets", "statefulsets", "horizontalpodautoscalers", "cronjobs", "jobs"},
	"api-extensions": {"mutatingwebhookconfigurations", "validatingwebhookconfigurations",
		"validatingadmissionpolicies", "validatingadmissionpolicybindings",
		"mutatingadmissionpolicies", "mutatingadmissionpolicybindings",
		"customresourcedefinitions", "apiservices"},
}

// catalog indexes kinds by every name kubectl accepts for them.
type catalog struct {
	kinds  []*kind
	byName map[string][]*kind // plural, singular, short name, lowercase kind
	byGK   map[schema.GroupKind]*kind
}

func newCatalog() *catalog {
	c := &catalog{byName: map[string][]*kind{}, byGK: map[schema.GroupKind]*kind{}}
	for _, line := range strings.Split(strings.TrimSpace(builtinKinds), "\n") {
		f := strings.Fields(line)
		gv, _ := schema.ParseGroupVersion(f[2])
		k := &kind{gvk: gv.WithKind(f[4]), resource: f[0], singular: strings.ToLower(f[4]), namespaced: f[3] == "true"}
		if f[1] != "-" {
			k.short = strings.Split(f[1], ",")
		}
		c.add(k)
	}
	return c
}

func (c *catalog) add(k *kind) {
	c.kinds = append(c.kinds, k)
	if _, dup := c.byGK[k.gvk.GroupKind()]; !dup {
		c.byGK[k.gvk.GroupKind()] = k
	}
	names := append([]string{k.resource, k.singular}, k.short...)
	for _, n := range names {
		if !contains(c.byName[n], k) {
			c.byName[n] = append(c.byName[n], k)
		}
	}
}

func contains(ks []*kind, k *kind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

// lookup resolves a resource type as typed on the command line: a plural,
// singular or short name, optionally qualified as name.version.group or
// name.group. It reports false when the built-in table does not know it.
func (c *catalog) lookup(typ string) (*kind, bool) {
	typ = strings.ToLower(typ)
	if ks := c.byName[typ]; len(ks) > 0 {
		return preferred(ks), true
	}
	// name.group or name.version.group, as kubectl's ParseResourceArg reads it.
	name, rest, ok := strings.Cut(typ, ".")
	if !ok {
		return nil, false
	}
	for _, k := range c.byName[name] {
		if k.gvk.Group == rest {
			return k, true
		}
		if v, g, ok := strings.Cut(rest, "."); ok && k.gvk.Version == v && k.gvk.Group == g {
			return k, true
		}
	}
	return nil, false
}

// preferred picks the core group when a name is served by several groups
// (events: v1 and events.k8s.io), as kubectl's priority RESTMapper does.
func preferred(ks []*kind) *kind {
	for _, k := range ks {
		if k.gvk.Group == "" {
			return k
		}
	}
	return ks[0]
}
