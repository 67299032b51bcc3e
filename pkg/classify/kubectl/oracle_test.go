package kubectl

import (
	"testing"

	"github.com/agentctl/agentctl/pkg/classify"
)

// TestSecretOracles: commands that print no Secret data but whose outcome
// depends on it (a wait that ends or times out, the order of names) reveal
// it a guess at a time.
func TestSecretOracles(t *testing.T) {
	runTable(t, []tc{
		{name: "wait secret/X --for=jsonpath with a guess", argv: []string{"wait", "secret/db", "--for=jsonpath={.data.password}=aHVudGVyMg=="}, want: S},
		{name: "wait --for jsonpath as a separate value", argv: []string{"wait", "secret", "db", "--for", "jsonpath={.data.password}=x"}, want: S},
		{name: "wait --for=jsonpath without a value tests a key exists", argv: []string{"wait", "secret/db", "--for=jsonpath={.data.password}"}, want: S},
		{name: "wait secrets --for=jsonpath", argv: []string{"wait", "secrets", "db", "--for=jsonpath={.data.k}=v"}, want: S},
		{name: "wait secret.v1. --for=jsonpath", argv: []string{"wait", "secret.v1./db", "--for=jsonpath={.data.k}=v"}, want: S},
		{name: "wait secrets.v1. --for=jsonpath", argv: []string{"wait", "secrets.v1.", "db", "--for=jsonpath={.data.k}=v"}, want: S},
		{name: "wait over a label selector of secrets", argv: []string{"wait", "secret", "-l", "app=db", "--for=jsonpath={.data.k}=v"}, want: S},
		{name: "wait -f of a Secret", argv: []string{"wait", "-f", "manifests/secret.yaml", "--for=jsonpath={.data.password}=x"}, want: S},
		{name: "wait on a secret among configmaps", argv: []string{"wait", "cm,secret", "db", "--for=jsonpath={.data.k}=v"}, want: S},
		{name: "wait --for=JSONPATH= is not a jsonpath condition kubectl knows", argv: []string{"wait", "secret/db", "--for=JSONPATH={.data.k}=v"}, want: S},
		{name: "wait secret --for=delete is a read", args: "wait secret/db --for=delete", want: R},
		{name: "wait secret --for=DELETE is a read", args: "wait secret/db --for=DELETE", want: R},
		{name: "wait secret --for=create is a read", args: "wait secret/db --for=create", want: R},
		{name: "wait secret --for=condition is a read", args: "wait secret/db --for=condition=Ready", want: R},
		{name: "wait configmap --for=jsonpath is a read", argv: []string{"wait", "cm/c", "--for=jsonpath={.data.k}=v"}, want: R},
		{name: "wait pod --for=jsonpath is a read", argv: []string{"wait", "pod/p", "--for=jsonpath={.status.phase}=Running"}, want: R},
		{name: "get secrets --sort-by=.data.x", args: "get secrets --sort-by=.data.password", want: S},
		{name: "get secrets --sort-by={.data.x}", argv: []string{"get", "secrets", "--sort-by={.data.password}"}, want: S},
		{name: "get secrets --sort-by the last-applied annotation", argv: []string{"get", "secrets", "--sort-by={.metadata.annotations.kubectl\\.kubernetes\\.io/last-applied-configuration}"}, want: S},
		{name: "get secrets --sort-by recursive descent", argv: []string{"get", "secrets", "--sort-by={..password}"}, want: S},
		{name: "get secrets --sort-by=.metadata.name is a read", args: "get secrets --sort-by=.metadata.name", want: R},
		{name: "get secrets --sort-by creation time is a read", argv: []string{"get", "secrets", "--sort-by={.metadata.creationTimestamp}"}, want: R},
		{name: "get secrets --sort-by=.type is a read", args: "get secrets --sort-by=.type", want: R},
		{name: "get configmaps --sort-by=.data.x is a read", args: "get cm --sort-by=.data.x", want: R},
		{name: "get secret -o custom-columns", args: "get secrets -o custom-columns=N:.metadata.name", want: S},
		{name: "get secret -o go-template-file", args: "get secrets -o go-template-file=t.tmpl", want: S},
		{name: "get secret -o template", argv: []string{"get", "secrets", "-o", "template", "--template={{.data}}"}, want: S},
	})
}

// TestResolutionsAreRecorded: every type argument and manifest kind
// leaves what it was resolved to, for the embedded kubectl to check.
func TestResolutionsAreRecorded(t *testing.T) {
	res := func(want ...classify.Resolution) func(*testing.T, *classify.Assessment) {
		return func(t *testing.T, a *classify.Assessment) {
			t.Helper()
			if len(a.Exec.Resolved) != len(want) {
				t.Fatalf("resolved = %+v, want %+v", a.Exec.Resolved, want)
			}
			for i, w := range want {
				g := a.Exec.Resolved[i]
				if g.Arg != w.Arg || g.Tuple != w.Tuple || g.APIVersion != w.APIVersion || g.Kind != w.Kind || len(g.To) != len(w.To) {
					t.Fatalf("resolved[%d] = %+v, want %+v", i, g, w)
				}
				for j := range w.To {
					if g.To[j] != w.To[j] {
						t.Errorf("resolved[%d].To[%d] = %+v, want %+v", i, j, g.To[j], w.To[j])
					}
				}
			}
		}
	}
	cm := classify.ResolvedResource{Resource: "configmaps", Namespaced: true}
	secrets := classify.ResolvedResource{Resource: "secrets", Namespaced: true}
	namespaces := classify.ResolvedResource{Resource: "namespaces"}
	runTable(t, []tc{
		{name: "get cm", args: "get cm", want: R, check: res(classify.Resolution{Arg: "cm", To: []classify.ResolvedResource{cm}})},
		{name: "delete cm NAME NAME records the type once", args: "delete cm a b", want: D, check: res(classify.Resolution{Arg: "cm", To: []classify.ResolvedResource{cm}})},
		{name: "delete cm/NAME is a tuple", args: "delete cm/a secret/b", want: D, check: res(
			classify.Resolution{Arg: "cm", Tuple: true, To: []classify.ResolvedResource{cm}},
			classify.Resolution{Arg: "secret", Tuple: true, To: []classify.ResolvedResource{secrets}})},
		{name: "get ns,cm", args: "get ns,cm", want: R, check: res(
			classify.Resolution{Arg: "ns", To: []classify.ResolvedResource{namespaces}},
			classify.Resolution{Arg: "cm", To: []classify.ResolvedResource{cm}})},
		{name: "deployments.apps", args: "get deployments.apps", want: R, check: res(classify.Resolution{Arg: "deployments.apps", To: []classify.ResolvedResource{{Group: "apps", Resource: "deployments", Namespaced: true}}})},
		{name: "a manifest kind", args: "apply -f manifests/secret.yaml", want: W, check: res(classify.Resolution{APIVersion: "v1", Kind: "Secret", To: []classify.ResolvedResource{secrets}})},
		{name: "--cache-dir is noted and ignored", args: "--cache-dir=/tmp/x get cm", want: R, check: res(classify.Resolution{Arg: "cm", To: []classify.ResolvedResource{cm}})},
		{name: "all names the stock list", args: "get all", want: R, check: func(t *testing.T, a *classify.Assessment) {
			if len(a.Exec.Resolved) != 1 || len(a.Exec.Resolved[0].To) != len(categories["all"]) {
				t.Fatalf("resolved = %+v", a.Exec.Resolved)
			}
		}},
	})
}
