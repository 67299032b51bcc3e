package run

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/restmapper"

	"github.com/agentctl/agentctl/pkg/classify"
)

// ResolvedEnv carries an assessment's [classify.Invocation.Resolved], as
// JSON, to the kubectl entry. agentctl sets it for every kubectl child; an
// agent's own value never reaches one (AGENTCTL_* is not passed on).
const ResolvedEnv = "AGENTCTL_KUBECTL_RESOLVED"

// resolvedEnv is the ResolvedEnv entry for a.
func resolvedEnv(a *classify.Assessment) (string, error) {
	if len(a.Exec.Resolved) == 0 {
		return ResolvedEnv + "=", nil
	}
	b, err := json.Marshal(a.Exec.Resolved)
	if err != nil {
		return "", err
	}
	return ResolvedEnv + "=" + string(b), nil
}

// ResolutionError says the embedded kubectl would act on other resources
// than the ones the command was assessed, shown and approved for. The
// kubectl entry exits with 78 (configuration error) on it.
type ResolutionError struct {
	Arg      string // the type argument or manifest kind
	Assessed []classify.ResolvedResource
	Kubectl  []classify.ResolvedResource
}

func (e *ResolutionError) Error() string {
	return fmt.Sprintf("refusing to run: the API server's discovery makes kubectl resolve %q to %s, but the command was assessed for %s",
		e.Arg, list(e.Kubectl), list(e.Assessed))
}

// Hint names the unambiguous spelling.
func (e *ResolutionError) Hint() string {
	if len(e.Assessed) != 1 || strings.Contains(e.Arg, "/") {
		return "name each resource type in full (resource.group, \"configmaps.\" for the core group)"
	}
	r := e.Assessed[0]
	return fmt.Sprintf("name the resource type in full: %q", r.Resource+"."+r.Group)
}

func list(rs []classify.ResolvedResource) string {
	if len(rs) == 0 {
		return "nothing"
	}
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = r.String()
	}
	slices.Sort(s) // a category's expansion comes in no particular order
	return strings.Join(s, ", ")
}

// checkResolved resolves every type argument and manifest kind of want
// exactly as kubectl's resource builder will, with the mapper and
// category expander it will use, and returns a *ResolutionError for the
// first that names other resources than the classifier resolved. Any
// other error is what kubectl itself would have failed with.
func checkResolved(mapper meta.RESTMapper, cats restmapper.CategoryExpander, want []classify.Resolution) error {
	for _, r := range want {
		got, err := kubectlResolves(mapper, cats, r)
		if err != nil {
			return err
		}
		if !sameResources(got, r.To) {
			arg := r.Arg
			if r.Kind != "" {
				arg = r.APIVersion + ", Kind=" + r.Kind
			}
			return &ResolutionError{Arg: arg, Assessed: r.To, Kubectl: got}
		}
	}
	return nil
}

// kubectlResolves is what kubectl's resource builder makes of r: a
// manifest kind through RESTMapping; a type argument expanded as a
// category (unless it came as TYPE/NAME, which kubectl does not expand),
// then each type through the builder's mappingFor.
func kubectlResolves(mapper meta.RESTMapper, cats restmapper.CategoryExpander, r classify.Resolution) ([]classify.ResolvedResource, error) {
	if r.Kind != "" {
		gv, err := schema.ParseGroupVersion(r.APIVersion)
		if err != nil {
			return nil, err
		}
		m, err := mapper.RESTMapping(gv.WithKind(r.Kind).GroupKind(), gv.Version)
		if err != nil {
			return nil, err
		}
		return []classify.ResolvedResource{resolvedOf(m)}, nil
	}
	types := []string{r.Arg}
	if !r.Tuple {
		if grs, ok := cats.Expand(r.Arg); ok {
			types = types[:0]
			for _, gr := range grs {
				types = append(types, strings.TrimSuffix(gr.Resource+"."+gr.Group, "."))
			}
		}
	}
	var out []classify.ResolvedResource
	for _, t := range types {
		m, err := mappingFor(mapper, t)
		if err != nil {
			return nil, err
		}
		out = append(out, resolvedOf(m))
	}
	return out, nil
}

// mappingFor is cli-runtime's Builder.mappingFor (k8s.io/cli-runtime
// v0.34, pkg/resource/builder.go), which is unexported: a resource
// argument first, then a kind argument.
func mappingFor(mapper meta.RESTMapper, arg string) (*meta.RESTMapping, error) {
	fullySpecifiedGVR, groupResource := schema.ParseResourceArg(arg)
	gvk := schema.GroupVersionKind{}
	if fullySpecifiedGVR != nil {
		gvk, _ = mapper.KindFor(*fullySpecifiedGVR)
	}
	if gvk.Empty() {
		gvk, _ = mapper.KindFor(groupResource.WithVersion(""))
	}
	if !gvk.Empty() {
		return mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	}
	fullySpecifiedGVK, groupKind := schema.ParseKindArg(arg)
	if fullySpecifiedGVK == nil {
		gvk := groupKind.WithVersion("")
		fullySpecifiedGVK = &gvk
	}
	if !fullySpecifiedGVK.Empty() {
		if m, err := mapper.RESTMapping(fullySpecifiedGVK.GroupKind(), fullySpecifiedGVK.Version); err == nil {
			return m, nil
		}
	}
	m, err := mapper.RESTMapping(groupKind, gvk.Version)
	if err != nil {
		if meta.IsNoMatchError(err) {
			return nil, fmt.Errorf("the server doesn't have a resource type %q", groupResource.Resource)
		}
		return nil, err
	}
	return m, nil
}

func resolvedOf(m *meta.RESTMapping) classify.ResolvedResource {
	return classify.ResolvedResource{Group: m.Resource.Group, Resource: m.Resource.Resource, Namespaced: m.Scope.Name() == meta.RESTScopeNameNamespace}
}

// sameResources compares as sets: kubectl's category expansion and the
// classifier's table may list a category in different orders.
func sameResources(a, b []classify.ResolvedResource) bool {
	key := func(rs []classify.ResolvedResource) []string {
		out := make([]string, len(rs))
		for i, r := range rs {
			out[i] = fmt.Sprintf("%s/%s/%t", r.Group, r.Resource, r.Namespaced)
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	return slices.Equal(key(a), key(b))
}
