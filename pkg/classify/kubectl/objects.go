package kubectl

import (
	"strings"

	"github.com/agentctl/agentctl/pkg/classify"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// manifestObjects records every manifest object and raises what its
// content implies: privilege kinds, pod-security labels, privileged pods.
func (s *state) manifestObjects(action string, eff effect) {
	a := s.a
	explicitNS := s.p.str("namespace")
	for i, o := range s.objects {
		gv, err := schema.ParseGroupVersion(o.str("apiVersion"))
		if err != nil {
			a.Raise(classify.Unknown, "manifest object %d: bad apiVersion %q", i+1, o.str("apiVersion"))
			continue
		}
		gvk := gv.WithKind(o.str("kind"))
		k := s.resolveKind(gvk)
		name := first(o.str("metadata", "name"), o.str("metadata", "generateName"))
		if k == nil {
			a.Raise(classify.Unknown, "manifest object %d (%s %s): unknown kind, not resolved by discovery", i+1, gvk.String(), name)
			continue
		}
		s.resolved(classify.Resolution{APIVersion: o.str("apiVersion"), Kind: o.str("kind")}, []*kind{k})
		ns := o.str("metadata", "namespace")
		if ns != "" && explicitNS != "" && ns != explicitNS && k.namespaced {
			a.Raise(classify.Unknown, "kubectl would reject object %s/%s: its namespace %q does not match --namespace %q", k.resource, name, ns, explicitNS)
		}
		r := s.add(k, s.namespaceFor(k, ns), name, classify.SourceManifest, action, eff)
		if k.gvk.Kind == "Secret" {
			s.secret = true
		}
		if eff == effRead || s.dry != "" {
			continue
		}
		if g := grantOf(k.gvk.Kind, name, s.namespaceFor(k, ns), o.obj); g != "" && eff != effDelete && k.gvk.Group == "rbac.authorization.k8s.io" {
			a.Raise(classify.Privilege, "%s", g)
		}
		if k.gvk.Kind == "Namespace" && hasPodSecurityLabel(o) {
			r.Class = classify.Privilege
			a.Raise(classify.Privilege, "Namespace %s sets pod-security labels", name)
		}
		if k.gvk.Kind == "Node" && eff != effDelete && hasNoExecuteTaint(o.obj) {
			r.Class = classify.Max(r.Class, classify.Destructive)
			a.Raise(classify.Destructive, "Node %s carries a NoExecute taint: its running pods that do not tolerate it are evicted", name)
		}
		if podKinds[k.gvk.Kind] && eff != effDelete {
			if why := privilegedPod(o.obj); why != "" {
				r.Class = classify.Max(r.Class, classify.Exec)
				a.Raise(classify.Exec, "%s %s: %s", k.gvk.Kind, name, why)
			}
		}
	}
}

func hasNoExecuteTaint(obj map[string]any) bool {
	taints, _ := dig(obj, "spec", "taints").([]any)
	for _, t := range taints {
		if e, _ := dig(t, "effect").(string); e == "NoExecute" {
			return true
		}
	}
	return false
}

func hasPodSecurityLabel(o object) bool {
	labels, _ := dig(o.obj, "metadata", "labels").(map[string]any)
	for k := range labels {
		if strings.HasPrefix(k, "pod-security.kubernetes.io/") {
			return true
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

// podSpec finds the pod spec of any pod-bearing object.
func podSpec(obj map[string]any) map[string]any {
	for _, path := range [][]string{
		{"spec"},
		{"spec", "template", "spec"},
		{"spec", "jobTemplate", "spec", "template", "spec"},
		{"template", "spec"},
	} {
		if m, ok := dig(obj, path...).(map[string]any); ok {
			if _, has := m["containers"]; has {
				return m
			}
		}
	}
	return nil
}

// privilegedPod says why a pod template escapes its container, or "".
func privilegedPod(obj map[string]any) string {
	spec := podSpec(obj)
	if spec == nil {
		return ""
	}
	for _, h := range []string{"hostPID", "hostIPC", "hostNetwork"} {
		if b, _ := spec[h].(bool); b {
			return h + " shares a host namespace"
		}
	}
	if vols, ok := spec["volumes"].([]any); ok {
		for _, v := range vols {
			if _, ok := dig(v, "hostPath").(map[string]any); ok {
				return "mounts a hostPath volume"
			}
		}
	}
	for _, list := range []string{"initContainers", "containers", "ephemeralContainers"} {
		cs, _ := spec[list].([]any)
		for _, c := range cs {
			if b, _ := dig(c, "securityContext", "privileged").(bool); b {
				return "runs a privileged container"
			}
			if add, _ := dig(c, "securityContext", "capabilities", "add").([]any); len(add) > 0 {
				for _, cap := range add {
					if cs, _ := cap.(string); cs != "NET_BIND_SERVICE" {
						return "adds capability " + cs
					}
				}
			}
		}
	}
	return ""
}

// safeOutputs print tables or names only.
var safeOutputs = map[string]bool{"": true, "wide": true, "name": true}

// outputs raises secret when the command prints the fields of a Secret:
// -o yaml/json/jsonpath/go-template/custom-columns/..., --template, the
// editor of edit, or a verbosity (-v >= 8) that logs response bodies.
func (s *state) outputs() {
	p, a := s.p, s.a
	for _, r := range a.Resources {
		if r.Kind == "Secret" {
			s.secret = true
		}
	}
	if !s.secret {
		return
	}
	render := s.forceRender || !safeOutputs[p.str("output")] || p.str("template") != ""
	if render && !s.localOnly {
		how := "-o " + p.str("output")
		if s.forceRender {
			how = p.path
		}
		a.Raise(classify.Secret, "%s prints the data of a Secret", how)
	}
	if s.verbosity >= 8 {
		a.Raise(classify.Secret, "-v=%d logs request and response bodies, which hold Secret data", s.verbosity)
	}
	if p.path == "wait" && p.has("for") && !metadataWait(p.str("for")) {
		// Whether the wait ends (exit 0) or times out tells whether a
		// field holds a guessed value: an oracle for the Secret's data.
		a.Raise(classify.Secret, "wait --for=%s on a Secret tests its data against a value", p.str("for"))
	}
	if p.has("sort-by") && !safeSortBy(p.str("sort-by")) {
		// The order of the names printed follows the values sorted by.
		a.Raise(classify.Secret, "--sort-by=%s orders Secrets by a field that may hold their data", p.str("sort-by"))
	}
}

// metadataWait reports whether a wait --for condition reads nothing of an
// object but whether it exists or its status conditions, as kubectl's
// conditionFuncFor reads it: delete, create, condition=NAME[=VALUE].
func metadataWait(cond string) bool {
	switch strings.ToLower(cond) {
	case "delete", "create":
		return true
	}
	return strings.HasPrefix(cond, "condition=")
}

// safeSortBy reports whether a --sort-by expression names a field that is
// never Secret data: a name, namespace, time stamp, uid, version or type.
func safeSortBy(expr string) bool {
	e := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(expr), "{"), "}")
	switch e {
	case ".metadata.name", ".metadata.namespace", ".metadata.creationTimestamp", ".metadata.deletionTimestamp",
		".metadata.uid", ".metadata.resourceVersion", ".metadata.generation", ".type":
		return true
	}
	return false
}
