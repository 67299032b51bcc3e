package kubectl

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/agentctl/agentctl/pkg/classify"
)

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func execArgs(want ...string) func(*testing.T, *classify.Assessment) {
	return func(t *testing.T, a *classify.Assessment) {
		t.Helper()
		if !reflect.DeepEqual(a.Exec.Args, want) {
			t.Errorf("Exec.Args = %q, want %q", a.Exec.Args, want)
		}
		if len(a.Exec.Stdin) == 0 || !strings.HasPrefix(string(a.Exec.Stdin), "---\n") {
			t.Errorf("Exec.Stdin does not start a YAML stream: %.40q", a.Exec.Stdin)
		}
		if a.ManifestSHA256 != classify.SHA256(a.Exec.Stdin) {
			t.Errorf("ManifestSHA256 does not match Exec.Stdin")
		}
	}
}

func TestManifests(t *testing.T) {
	hidden := readTestdata(t, "manifests/hidden-crb.yaml")
	runTable(t, []tc{
		{name: "-f FILE deployment", args: "apply -f manifests/deploy.yaml", want: W, check: execArgs("apply", "-f", "-")},
		{name: "--filename=FILE", args: "apply --filename=manifests/deploy.yaml -n shop", want: W, check: execArgs("apply", "-n", "shop", "-f", "-")},
		{name: "-fFILE attached", args: "apply -fmanifests/deploy.yaml", want: W, check: execArgs("apply", "-f", "-")},
		{name: "-f=FILE", args: "apply -f=manifests/deploy.yaml", want: W, check: execArgs("apply", "-f", "-")},
		{name: "manifest resource fields", args: "apply -f manifests/deploy.yaml", want: W, check: func(t *testing.T, a *classify.Assessment) {
			r := a.Resources[0]
			if r.Kind != "Deployment" || r.Name != "web" || r.Namespace != "team-a" || r.Source != "manifest" || r.Action != "apply" {
				t.Errorf("resource = %+v", r)
			}
		}},
		{name: "hidden ClusterRoleBinding third in a file", args: "apply -f manifests/hidden-crb.yaml", want: P, check: kinds("ConfigMap", "Service", "ClusterRoleBinding")},
		{name: "multi-doc stdin with a hidden ClusterRoleBinding third", args: "apply -f -", stdin: hidden, want: P, check: func(t *testing.T, a *classify.Assessment) {
			kinds("ConfigMap", "Service", "ClusterRoleBinding")(t, a)
			execArgs("apply", "-f", "-")(t, a)
		}},
		{name: "create -f with a hidden ClusterRoleBinding", args: "create -f manifests/hidden-crb.yaml", want: P},
		{name: "delete -f of a ClusterRoleBinding is privilege", args: "delete -f manifests/hidden-crb.yaml", want: P},
		{name: "several -f flags", args: "apply -f manifests/deploy.yaml -f manifests/netpol.json", want: P, check: kinds("Deployment", "NetworkPolicy")},
		{name: "comma-separated -f", args: "apply -f manifests/deploy.yaml,manifests/secret.yaml", want: W, check: kinds("Deployment", "Secret")},
		{name: "List kind is flattened", args: "apply -f manifests/list.yaml", want: P, check: kinds("ConfigMap", "Role")},
		{name: "a List inside a List is rejected as kubectl does", args: "apply -f manifests/nested-list.yaml", want: U},
		{name: "typed ConfigMapList", args: "apply -f manifests/configmap-list.json", want: W, check: kinds("ConfigMap", "ConfigMap")},
		{name: "JSON manifest", args: "apply -f manifests/netpol.json", want: P},
		{name: "-f DIR without -R skips subdirectories and .txt", args: "apply -f dir", want: W, check: kinds("ConfigMap", "Service")},
		{name: "-f DIR -R reads subdirectories", args: "apply -R -f dir", want: P, check: func(t *testing.T, a *classify.Assessment) {
			kinds("ConfigMap", "Service", "RoleBinding")(t, a)
			execArgs("apply", "-f", "-")(t, a)
		}},
		{name: "-Rf DIR shorthand cluster", args: "apply -Rf dir", want: P, check: execArgs("apply", "-f", "-")},
		{name: "--recursive=true", args: "apply --recursive=true -f dir", want: P},
		{name: "an explicit .txt file is read whatever its extension", args: "apply -f dir/notes.txt", want: P},
		{name: "glob pattern", args: "apply -f manifests/name*.yaml", want: P, check: kinds("Namespace", "Namespace")},
		{name: "-k DIR kustomize with a RoleBinding", args: "apply -k kustomize", want: P, check: func(t *testing.T, a *classify.Assessment) {
			kinds("RoleBinding", "Deployment")(t, a) // kustomize's legacy order
			ns("shop")(t, a)
			execArgs("apply", "-f", "-")(t, a)
		}},
		{name: "--kustomize=DIR", args: "apply --kustomize=kustomize", want: P, check: execArgs("apply", "-f", "-")},
		{name: "kustomize with a remote base is refused", args: "apply -k kustomize-remote", want: U},
		{name: "-f and -k together are rejected", args: "apply -f manifests/deploy.yaml -k kustomize", want: U},
		{name: "-k with -R is rejected", args: "apply -R -k kustomize", want: U},
		{name: "remote URL is refused", args: "apply -f https://example.invalid/x.yaml", want: U},
		{name: "http URL is refused", args: "apply -f http://example.invalid/x.yaml", want: U},
		{name: "unknown kind offline", args: "apply -f manifests/widget.yaml", want: U},
		{name: "malformed YAML", args: "apply -f manifests/broken.yaml", want: U},
		{name: "object without kind", args: "apply -f -", stdin: "apiVersion: v1\nmetadata: {name: x}\n", want: U},
		{name: "namespace mismatch with -n is rejected", args: "apply -n prod -f manifests/other-ns.yaml", want: U},
		{name: "namespace from the object", args: "apply -f manifests/other-ns.yaml", want: W, check: ns("other")},
		{name: "namespace with pod-security labels", args: "apply -f manifests/namespace-psa.yaml", want: P},
		{name: "namespace with plain labels", args: "apply -f manifests/namespace-plain.yaml", want: W},
		{name: "apply without -f is rejected", args: "apply", want: U},
		{name: "empty stdin: no objects passed to apply", args: "apply -f -", stdin: "", want: U},
		{name: "stdin with only separators and null", args: "apply -f -", stdin: "---\n---\nnull\n", want: U},
		{name: "JSON stream on stdin", args: "apply -f -", stdin: `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}}{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"b"}}`, want: P, check: kinds("ConfigMap", "ServiceAccount")},
		{name: "-f - placed before -- stays before it", args: "create -f manifests/deploy.yaml -- x", want: U},
		{name: "exec with -f manifest", args: "get -f manifests/deploy.yaml -o yaml", want: R, check: execArgs("get", "-o", "yaml", "-f", "-")},
		{name: "describe -f", args: "describe -f manifests/hidden-crb.yaml", want: R},
		{name: "label -f of a ClusterRoleBinding", args: "label -f manifests/hidden-crb.yaml a=b", want: P},
		{name: "wait -f", args: "wait -f manifests/deploy.yaml --for=condition=Available", want: R},
		{name: "rollout restart -f", args: "rollout restart -f manifests/deploy.yaml", want: W},
		{name: "scale -f", args: "scale -f manifests/deploy.yaml --replicas=1", want: W},
		{name: "100-object manifest", args: "apply -f manifests/hundred.yaml", want: W, check: func(t *testing.T, a *classify.Assessment) {
			if len(a.Resources) != 100 {
				t.Errorf("resources = %d", len(a.Resources))
			}
		}},
	})
}

func TestManifestIOErrors(t *testing.T) {
	c := classifier()
	t.Run("unreadable -f file is an error to fix", func(t *testing.T) {
		_, err := c.Classify(context.Background(), req(t, []string{"apply", "-f", "manifests/nope.yaml"}, ""))
		if err == nil || !strings.Contains(err.Error(), `cannot read manifest "manifests/nope.yaml"`) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("stdin over the cap is refused", func(t *testing.T) {
		small := New(Options{MaxStdin: 10})
		_, err := small.Classify(context.Background(), req(t, []string{"apply", "-f", "-"}, strings.Repeat("a", 11)))
		if !errors.Is(err, ErrManifest) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("stdin is read once and kept", func(t *testing.T) {
		r := req(t, []string{"apply", "-f", "-"}, readTestdata(t, "manifests/deploy.yaml"))
		a, err := c.Classify(context.Background(), r)
		if err != nil {
			t.Fatal(err)
		}
		if rest, _ := r.Stdin.(*strings.Reader); rest.Len() != 0 {
			t.Errorf("stdin not drained")
		}
		if !strings.Contains(string(a.Exec.Stdin), `"name": "web"`) {
			t.Errorf("Exec.Stdin = %q", a.Exec.Stdin)
		}
	})
	t.Run("commands that do not read stdin keep Exec.Stdin nil", func(t *testing.T) {
		a := classifyArgs(t, []string{"get", "pods"}, "ignored")
		if a.Exec.Stdin != nil || a.ManifestSHA256 != "" {
			t.Errorf("Exec.Stdin = %q", a.Exec.Stdin)
		}
		if !reflect.DeepEqual(a.Exec.Args, []string{"get", "pods"}) {
			t.Errorf("Exec.Args = %q", a.Exec.Args)
		}
	})
}

func TestManifestInputsAreNamed(t *testing.T) {
	for _, c := range []struct {
		name, args string
		want       []string
	}{
		{"-f FILE -f DIR", "apply -f manifests/deploy.yaml --filename=dir", []string{"manifests/deploy.yaml", "dir"}},
		{"-k DIR", "apply -k kustomize", []string{"kustomize"}},
		{"no manifests", "get pods", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := classifyArgs(t, strings.Fields(c.args), "")
			if !slices.Equal(a.Manifests, c.want) {
				t.Errorf("Manifests = %q, want %q", a.Manifests, c.want)
			}
		})
	}
}
