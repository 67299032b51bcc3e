package kubectl

import (
	"fmt"
	"strings"

	"github.com/agentctl/agentctl/pkg/classify"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// effect is what an action does to an object, before the kind is known.
type effect int

const (
	effRead effect = iota
	effWrite
	effDelete
	effExec
)

// isPrivilegeKind: see [classify.PrivilegeKind].
func isPrivilegeKind(k string) bool { return classify.PrivilegeKind(k) }

// podKinds carry a pod template.
var podKinds = map[string]bool{
	"Pod": true, "Deployment": true, "StatefulSet": true, "DaemonSet": true, "ReplicaSet": true,
	"ReplicationController": true, "Job": true, "CronJob": true, "PodTemplate": true,
}

// resolveType resolves one resource type argument (a name, short name,
// name.group, or category) to kinds. It returns nil when neither the
// built-in table nor discovery knows it.
func (s *state) resolveType(typ string) []*kind {
	if cat, ok := categories[strings.ToLower(typ)]; ok {
		ks := make([]*kind, 0, len(cat))
		for _, r := range cat {
			k, _ := s.c.catalog.lookup(r)
			ks = append(ks, k)
		}
		return ks
	}
	if k, ok := s.c.catalog.lookup(typ); ok {
		return []*kind{k}
	}
	m := s.discover()
	if m == nil {
		return nil
	}
	gvr, err := m.ResourceFor(schema.ParseGroupResource(strings.ToLower(typ)).WithVersion(""))
	if err != nil {
		if fq, gr := schema.ParseResourceArg(strings.ToLower(typ)); fq != nil {
			gvr, err = m.ResourceFor(*fq)
		} else {
			gvr, err = m.ResourceFor(gr.WithVersion(""))
		}
	}
	if err != nil {
		return nil
	}
	return s.kindFromMapper(m, gvr)
}

// serverLacks reports whether the cluster's discovery answered and has no
// resource or kind typ, looked up as kubectl's resource builder does
// (mappingFor); res is the name kubectl's error gives. A discovery error
// (a group that did not answer) is not a no.
func (s *state) serverLacks(typ string) (res string, none bool) {
	m := s.discover()
	if m == nil {
		return "", false
	}
	fq, gr := schema.ParseResourceArg(typ)
	if fq != nil {
		if _, err := m.KindFor(*fq); !meta.IsNoMatchError(err) {
			return "", false
		}
	}
	if _, err := m.KindFor(gr.WithVersion("")); !meta.IsNoMatchError(err) {
		return "", false
	}
	fk, gk := schema.ParseKindArg(typ)
	if fk != nil {
		if _, err := m.RESTMapping(fk.GroupKind(), fk.Version); !meta.IsNoMatchError(err) {
			return "", false
		}
	}
	if _, err := m.RESTMapping(gk); !meta.IsNoMatchError(err) {
		return "", false
	}
	return gr.Resource, true
}

// resolveKind resolves a manifest's apiVersion/kind.
func (s *state) resolveKind(gvk schema.GroupVersionKind) *kind {
	if k := s.c.catalog.byGK[gvk.GroupKind()]; k != nil {
		kk := *k
		kk.gvk = gvk
		return &kk
	}
	m := s.discover()
	if m == nil {
		return nil
	}
	mapping, err := m.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil
	}
	return &kind{gvk: gvk, resource: mapping.Resource.Resource, namespaced: mapping.Scope.Name() == meta.RESTScopeNameNamespace}
}

func (s *state) kindFromMapper(m *Mapper, gvr schema.GroupVersionResource) []*kind {
	gvk, err := m.KindFor(gvr)
	if err != nil {
		return nil
	}
	mapping, err := m.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil
	}
	return []*kind{{gvk: gvk, resource: gvr.Resource, namespaced: mapping.Scope.Name() == meta.RESTScopeNameNamespace}}
}

// discover returns the discovery mapper, asking for it at most once.
func (s *state) discover() *Mapper {
	if s.mapperDone {
		return s.mapper
	}
	s.mapperDone = true
	// A refused command (a server URL that is not plainly one server)
	// contacts nothing.
	if s.c.opts.Discovery == nil || s.p.cmd == nil || s.a.Refused != "" {
		return nil
	}
	m, err := s.c.opts.Discovery(s.ctx, clientConfig(s.req, s.p), s.c.opts.Timeout)
	if err != nil {
		s.a.Raise(classify.Read, "discovery unavailable, using built-in types only: %v", err)
		return nil
	}
	s.mapper = &m
	s.a.Discovery = "live"
	return s.mapper
}

// namespaceFor is the namespace a namespaced object of the command is in.
func (s *state) namespaceFor(k *kind, objNS string) string {
	if !k.namespaced {
		return ""
	}
	if objNS != "" {
		return objNS
	}
	if s.p.str("all-namespaces") == "true" {
		return "*"
	}
	return s.a.Target.Namespace
}

// add records a resource and raises the class its action implies.
func (s *state) add(k *kind, ns, name, source, action string, eff effect) *classify.Resource {
	r := classify.Resource{
		Group: k.gvk.Group, Version: k.gvk.Version, Kind: k.gvk.Kind, Resource: k.resource,
		Namespace: ns, Name: name, Source: source, Action: action,
	}
	what := k.resource
	if name != "" {
		what += "/" + name
	}
	c, why := classify.Read, ""
	switch {
	case eff == effRead:
		c, why = classify.Read, "reads"
	case isPrivilegeKind(k.gvk.Kind):
		c, why = classify.Privilege, "changes who can do what:"
	case eff == effDelete:
		c, why = classify.Destructive, "deletes"
	case eff == effExec:
		c, why = classify.Exec, "runs code through"
	default:
		c, why = classify.Write, "changes"
	}
	if s.dry != "" && eff != effRead {
		why = "dry run of " + action + " (" + why + ")"
		c = classify.Read
	}
	r.Class = c
	s.a.Resources = append(s.a.Resources, r)
	s.a.Raise(c, "%s %s %s", action, why, what)
	return &s.a.Resources[len(s.a.Resources)-1]
}

// typeArgs resolves "TYPE[,TYPE] [NAME...]" or "TYPE/NAME..." arguments,
// as kubectl's resource builder reads them, and records each resource.
func (s *state) typeArgs(args []string, action string, eff effect) []*kind {
	if len(args) == 0 {
		return nil
	}
	var out []*kind
	tuple := strings.Contains(args[0], "/")
	one := func(typ, name string) {
		ks := s.resolveType(typ)
		if ks == nil {
			if res, none := s.serverLacks(typ); none {
				s.a.RejectAsTool(1, fmt.Sprintf("error: the server doesn't have a resource type %q\n", res),
					"the server has no resource type %q (asked by discovery): kubectl would fail before sending anything", typ)
				return
			}
			s.a.Raise(classify.Unknown, "unknown resource type %q: not a built-in type and not resolved by discovery", typ)
			return
		}
		s.resolved(classify.Resolution{Arg: typ, Tuple: tuple}, ks)
		for _, k := range ks {
			s.add(k, s.namespaceFor(k, ""), name, classify.SourceArgv, action, eff)
			out = append(out, k)
		}
	}
	if tuple {
		for _, a := range args {
			typ, name, ok := strings.Cut(a, "/")
			if !ok || typ == "" || name == "" {
				s.a.Raise(classify.Unknown, "kubectl would reject %q: arguments in resource/name form must all have a resource type and a name", a)
				continue
			}
			one(typ, name)
		}
		return out
	}
	for _, typ := range strings.Split(args[0], ",") {
		if len(args) == 1 {
			one(typ, "")
		}
		for _, name := range args[1:] {
			one(typ, name)
		}
	}
	return out
}

// resolved records what a type argument or manifest kind was resolved to,
// once, for the embedded kubectl to check its own resolution against (see
// [classify.Invocation.Resolved]).
func (s *state) resolved(r classify.Resolution, ks []*kind) {
	for _, have := range s.a.Exec.Resolved {
		if have.Arg == r.Arg && have.Tuple == r.Tuple && have.APIVersion == r.APIVersion && have.Kind == r.Kind {
			return
		}
	}
	for _, k := range ks {
		r.To = append(r.To, classify.ResolvedResource{Group: k.gvk.Group, Resource: k.resource, Namespaced: k.namespaced})
	}
	s.a.Exec.Resolved = append(s.a.Exec.Resolved, r)
}
