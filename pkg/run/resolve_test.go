package run

import (
	"errors"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	fakediscovery "k8s.io/client-go/discovery/fake"
	"k8s.io/client-go/restmapper"
	clienttesting "k8s.io/client-go/testing"

	"github.com/agentctl/agentctl/pkg/classify"
)

// stockResources is a small API server's discovery: core v1 and apps/v1.
func stockResources() []*metav1.APIResourceList {
	return []*metav1.APIResourceList{
		{GroupVersion: "v1", APIResources: []metav1.APIResource{
			{Name: "configmaps", SingularName: "configmap", Namespaced: true, Kind: "ConfigMap", ShortNames: []string{"cm"}, Verbs: []string{"get", "list"}},
			{Name: "secrets", SingularName: "secret", Namespaced: true, Kind: "Secret", Verbs: []string{"get", "list"}},
			{Name: "namespaces", SingularName: "namespace", Namespaced: false, Kind: "Namespace", ShortNames: []string{"ns"}, Verbs: []string{"get", "list"}},
			{Name: "limitranges", SingularName: "limitrange", Namespaced: true, Kind: "LimitRange", ShortNames: []string{"limits"}, Verbs: []string{"get", "list"}},
			{Name: "pods", SingularName: "pod", Namespaced: true, Kind: "Pod", ShortNames: []string{"po"}, Categories: []string{"all"}, Verbs: []string{"get", "list"}},
		}},
		{GroupVersion: "apps/v1", APIResources: []metav1.APIResource{
			{Name: "deployments", SingularName: "deployment", Namespaced: true, Kind: "Deployment", ShortNames: []string{"deploy"}, Categories: []string{"all"}, Verbs: []string{"get", "list"}},
		}},
	}
}

// kubectlMapper builds the mapper and category expander as the embedded
// kubectl does (ConfigFlags.toRESTMapper: a deferred discovery mapper and
// the short-name expander, over an in-memory discovery client), here over
// a fake server's discovery.
func kubectlMapper(resources []*metav1.APIResourceList) (meta.RESTMapper, restmapper.CategoryExpander) {
	dc := memory.NewMemCacheClient(&fakediscovery.FakeDiscovery{Fake: &clienttesting.Fake{Resources: resources}})
	m := restmapper.NewShortcutExpander(restmapper.NewDeferredDiscoveryRESTMapper(dc), dc, func(string) {})
	return m, restmapper.NewDiscoveryCategoryExpander(dc)
}

func TestCheckResolved(t *testing.T) {
	cm := classify.ResolvedResource{Resource: "configmaps", Namespaced: true}
	limits := classify.ResolvedResource{Resource: "limitranges", Namespaced: true}
	crd := func(r metav1.APIResource) []*metav1.APIResourceList {
		r.Verbs = []string{"get", "list"}
		return append(stockResources(), &metav1.APIResourceList{GroupVersion: "example.com/v1", APIResources: []metav1.APIResource{r}})
	}
	cases := []struct {
		name      string
		server    []*metav1.APIResourceList
		want      []classify.Resolution
		mismatch  string // part of the *ResolutionError, or "" for none
		otherFail string // part of another error
	}{
		{name: "cm is configmaps on a stock server", server: stockResources(),
			want: []classify.Resolution{{Arg: "cm", To: []classify.ResolvedResource{cm}}}},
		{name: "a manifest ConfigMap is configmaps", server: stockResources(),
			want: []classify.Resolution{{APIVersion: "v1", Kind: "ConfigMap", To: []classify.ResolvedResource{cm}}}},
		{name: "deploy.apps is deployments", server: stockResources(),
			want: []classify.Resolution{{Arg: "deploy.apps", To: []classify.ResolvedResource{{Group: "apps", Resource: "deployments", Namespaced: true}}}}},
		{name: "a CRD whose plural is cm shadows the short name", server: crd(metav1.APIResource{Name: "cm", SingularName: "cmx", Namespaced: false, Kind: "Cm"}),
			want:     []classify.Resolution{{Arg: "cm", To: []classify.ResolvedResource{cm}}},
			mismatch: `resolve "cm" to cm.example.com (cluster-scoped), but the command was assessed for configmaps`},
		{name: "a CRD in category limits replaces the type", server: crd(metav1.APIResource{Name: "widgets", SingularName: "widget", Namespaced: true, Kind: "Widget", Categories: []string{"limits"}}),
			want:     []classify.Resolution{{Arg: "limits", To: []classify.ResolvedResource{limits}}},
			mismatch: `resolve "limits" to widgets.example.com`},
		{name: "TYPE/NAME is not expanded as a category", server: crd(metav1.APIResource{Name: "widgets", SingularName: "widget", Namespaced: true, Kind: "Widget", Categories: []string{"limits"}}),
			want: []classify.Resolution{{Arg: "limits", Tuple: true, To: []classify.ResolvedResource{limits}}}},
		{name: "a CRD in category all is not what was assessed", server: crd(metav1.APIResource{Name: "widgets", SingularName: "widget", Namespaced: true, Kind: "Widget", Categories: []string{"all"}}),
			want: []classify.Resolution{{Arg: "all", To: []classify.ResolvedResource{
				{Resource: "pods", Namespaced: true}, {Group: "apps", Resource: "deployments", Namespaced: true}}}},
			mismatch: `resolve "all" to deployments.apps, pods, widgets.example.com, but the command was assessed for deployments.apps, pods`},
		{name: "all in another order is the same", server: stockResources(),
			want: []classify.Resolution{{Arg: "all", To: []classify.ResolvedResource{
				{Group: "apps", Resource: "deployments", Namespaced: true}, {Resource: "pods", Namespaced: true}}}}},
		{name: "a scope that differs is a mismatch", server: stockResources(),
			want:     []classify.Resolution{{Arg: "ns", To: []classify.ResolvedResource{{Resource: "namespaces", Namespaced: true}}}},
			mismatch: `resolve "ns" to namespaces (cluster-scoped)`},
		{name: "a type the server lacks fails as kubectl would", server: stockResources(),
			want:      []classify.Resolution{{Arg: "vac", To: []classify.ResolvedResource{{Group: "storage.k8s.io", Resource: "volumeattributesclasses"}}}},
			otherFail: `the server doesn't have a resource type "vac"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, cats := kubectlMapper(c.server)
			err := checkResolved(m, cats, c.want)
			var re *ResolutionError
			switch {
			case c.mismatch != "":
				if !errors.As(err, &re) || !strings.Contains(re.Error(), c.mismatch) {
					t.Fatalf("err = %v, want a *ResolutionError with %q", err, c.mismatch)
				}
				if re.Hint() == "" {
					t.Error("no hint")
				}
			case c.otherFail != "":
				if err == nil || errors.As(err, &re) || !strings.Contains(err.Error(), c.otherFail) {
					t.Fatalf("err = %v, want kubectl's own error %q", err, c.otherFail)
				}
			case err != nil:
				t.Fatalf("err = %v, want none", err)
			}
		})
	}
}

// TestKubectlDiscoveryIsLive: the embedded kubectl's ConfigFlags hand out
// agentctl's in-memory discovery client, never one over the disk cache
// (which an upgrade of cli-runtime could bring back silently).
func TestKubectlDiscoveryIsLive(t *testing.T) {
	flags := genericclioptions.NewConfigFlags(true)
	dc := newLiveDiscovery(flags, 300, 50)
	if err := useDiscovery(flags, dc); err != nil {
		t.Fatal(err)
	}
	got, err := flags.ToDiscoveryClient()
	if err != nil || got != discovery.CachedDiscoveryInterface(dc) {
		t.Fatalf("ToDiscoveryClient = %T, %v; want agentctl's live discovery", got, err)
	}
}
