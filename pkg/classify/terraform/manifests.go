package terraform

import (
	"bytes"
	"errors"
	"io"
	"sort"
	"strings"

	tfjson "github.com/hashicorp/terraform-json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/agentctl/agentctl/pkg/classify"
)

// manifestCarriers are resource types whose attributes hold whole
// Kubernetes objects, as an object (kubernetes_manifest's manifest) or as
// YAML/JSON text (kubectl_manifest's yaml_body, helm_release's values and,
// with the provider's manifest experiment, its rendered manifest). Their
// type says nothing of what they create: the objects inside do.
var manifestCarriers = map[string]bool{
	"kubernetes_manifest":    true, // hashicorp/kubernetes
	"kubectl_manifest":       true, // gavinbunney/kubectl, alekc/kubectl
	"kustomization_resource": true, // kbst/kustomization
	"k8s_manifest":           true, // banzaicloud/k8s
	"helm_release":           true, // hashicorp/helm
}

// carrierAttr is the attribute of a manifest carrier that holds the
// object it manages; when it is known only after apply, so is the class.
var carrierAttr = map[string]string{
	"kubernetes_manifest": "manifest", "kubectl_manifest": "yaml_body",
	"kustomization_resource": "manifest", "k8s_manifest": "content",
}

// namespaceTypes are resources that set labels on a Namespace.
var namespaceTypes = map[string]bool{
	"kubernetes_namespace": true, "kubernetes_namespace_v1": true, "kubernetes_labels": true,
}

// inspected reports whether AssessPlan looks into the values of a
// resource type; only their values are read from the plan JSON.
func inspected(typ string) bool { return manifestCarriers[typ] || namespaceTypes[typ] }

// kubeObject is one Kubernetes object found in a plan value.
type kubeObject struct {
	Kind, Name string
	obj        map[string]any
}

// manifestPrivilege says why a change of rc changes who can do what in a
// Kubernetes cluster, from the objects its values hold before and after:
// a privilege kind (classify.PrivilegeKind), or pod-security labels on a
// Namespace. ok is false when a value that may hold objects is not known
// until apply.
func manifestPrivilege(rc *tfjson.ResourceChange) (why string, ok bool) {
	if !inspected(rc.Type) || rc.Change == nil {
		return "", true
	}
	var objs []kubeObject
	for _, v := range []any{rc.Change.Before, rc.Change.After} {
		objs = append(objs, kubeObjects(v, 0)...)
	}
	if namespaceTypes[rc.Type] {
		for _, v := range []any{rc.Change.Before, rc.Change.After} {
			if podSecurityLabels(v, rc.Type) {
				return "sets pod-security labels on a Namespace", true
			}
		}
	}
	var kinds []string
	for _, o := range objs {
		switch {
		case classify.PrivilegeKind(o.Kind):
			kinds = append(kinds, o.Kind+" "+o.Name)
		case o.Kind == "Namespace" && podSecurityLabels(o.obj, ""):
			kinds = append(kinds, "Namespace "+o.Name+" with pod-security labels")
		}
	}
	if len(kinds) > 0 {
		sort.Strings(kinds)
		return "holds " + strings.Join(dedup(kinds), ", "), true
	}
	if attr := carrierAttr[rc.Type]; attr != "" && unknownValue(dig(rc.Change.AfterUnknown, attr)) {
		return "", false
	}
	return "", true
}

// kubeObjects finds Kubernetes objects (maps with a string apiVersion and
// kind) anywhere in v, including inside strings that hold YAML or JSON
// documents, to a bounded depth.
func kubeObjects(v any, depth int) []kubeObject {
	if depth > 8 {
		return nil
	}
	var out []kubeObject
	switch v := v.(type) {
	case map[string]any:
		av, _ := v["apiVersion"].(string)
		kind, _ := v["kind"].(string)
		if av != "" && kind != "" {
			name, _ := dig(v, "metadata", "name").(string)
			out = append(out, kubeObject{Kind: kind, Name: name, obj: v})
		}
		for _, k := range sortedKeys(v) {
			out = append(out, kubeObjects(v[k], depth+1)...)
		}
	case []any:
		for _, e := range v {
			out = append(out, kubeObjects(e, depth+1)...)
		}
	case string:
		if !strings.Contains(v, "kind") {
			return nil
		}
		for _, doc := range documents(v) {
			out = append(out, kubeObjects(doc, depth+1)...)
		}
	}
	return out
}

// documents decodes a YAML or JSON stream; what does not decode is no
// document (a plain string value).
func documents(s string) []any {
	d := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader([]byte(s)), 4096)
	var out []any
	for {
		var v any
		err := d.Decode(&v)
		if errors.Is(err, io.EOF) || err != nil {
			return out
		}
		if v != nil {
			out = append(out, v)
		}
	}
}

// podSecurityLabels reports pod-security.kubernetes.io/* labels in a
// Namespace object (typ "") or in the values of a namespace resource type
// (metadata is a one-element list in kubernetes_namespace; kubernetes_labels
// holds a kind and labels).
func podSecurityLabels(v any, typ string) bool {
	var labels any
	switch typ {
	case "":
		labels = dig(v, "metadata", "labels")
	case "kubernetes_labels":
		if kind, _ := dig(v, "kind").(string); kind != "Namespace" {
			return false
		}
		labels = dig(v, "labels")
	default:
		if md, _ := dig(v, "metadata").([]any); len(md) > 0 {
			labels = dig(md[0], "labels")
		}
	}
	m, _ := labels.(map[string]any)
	for k := range m {
		if strings.HasPrefix(k, "pod-security.kubernetes.io/") {
			return true
		}
	}
	return false
}

// unknownValue reports whether an after_unknown value marks anything as
// known only after apply.
func unknownValue(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case map[string]any:
		for _, e := range v {
			if unknownValue(e) {
				return true
			}
		}
	case []any:
		for _, e := range v {
			if unknownValue(e) {
				return true
			}
		}
	}
	return false
}

func dig(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

func dedup(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
