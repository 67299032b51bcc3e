package kubectl

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/agentctl/agentctl/pkg/classify"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/resource"
	"k8s.io/client-go/kubernetes/scheme"
)

// objectsOf decodes a stream with kubectl's own resource builder (the
// visitor kubectl uses for -f), offline, flattening lists.
func objectsOf(t *testing.T, data []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	err := resource.NewLocalBuilder().Unstructured().Stream(bytes.NewReader(data), "test").Flatten().
		ContinueOnError().Do().Visit(func(info *resource.Info, err error) error {
		if err != nil {
			return err
		}
		out = append(out, info.Object.(*unstructured.Unstructured).Object)
		return nil
	})
	if err != nil {
		t.Fatalf("kubectl's builder cannot read the stream: %v", err)
	}
	return out
}

// TestExecStdinRoundTrip checks that what runs ("-f -" fed Exec.Stdin)
// decodes, with kubectl's own builder, to exactly the objects of the files
// that were named.
func TestExecStdinRoundTrip(t *testing.T) {
	for _, f := range []string{"deploy.yaml", "hidden-crb.yaml", "list.yaml", "configmap-list.json", "netpol.json", "hundred.yaml", "secret.yaml", "privileged-pod.yaml"} {
		t.Run(f, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join("testdata", "manifests", f))
			if err != nil {
				t.Fatal(err)
			}
			a := classifyArgs(t, []string{"apply", "--dry-run=client", "-f", "manifests/" + f}, "")
			if !reflect.DeepEqual(a.Exec.Args, []string{"apply", "--dry-run=client", "-f", "-"}) {
				t.Fatalf("Exec.Args = %q", a.Exec.Args)
			}
			want, got := objectsOf(t, in), objectsOf(t, a.Exec.Stdin)
			if len(want) == 0 || !reflect.DeepEqual(want, got) {
				t.Errorf("objects differ:\nfiles: %v\nstdin: %v\nstream:\n%s", want, got, a.Exec.Stdin)
			}
		})
	}
	t.Run("kustomize", func(t *testing.T) {
		a := classifyArgs(t, []string{"apply", "-k", "kustomize"}, "")
		got := objectsOf(t, a.Exec.Stdin)
		if len(got) != 2 || got[0]["kind"] != "RoleBinding" {
			t.Errorf("objects = %v", got)
		}
	})
	t.Run("a YAML document that looks like a separator inside a string", func(t *testing.T) {
		in := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: tricky}\ndata:\n  s: |\n    a\n    ---\n    b\n"
		a := classifyArgs(t, []string{"apply", "-f", "-"}, in)
		want, got := objectsOf(t, []byte(in)), objectsOf(t, a.Exec.Stdin)
		if !reflect.DeepEqual(want, got) {
			t.Errorf("objects differ: %v vs %v", want, got)
		}
	})
}

// TestBuiltinTableMatchesScheme checks every built-in row against the
// kinds client-go's scheme (k8s.io/api) registers.
func TestBuiltinTableMatchesScheme(t *testing.T) {
	c := newCatalog()
	for _, k := range c.kinds {
		switch k.gvk.Group {
		case "apiextensions.k8s.io", "apiregistration.k8s.io":
			continue // served by the API server, not in client-go's scheme
		}
		if !scheme.Scheme.Recognizes(k.gvk) {
			t.Errorf("%s is not a kind of k8s.io/api", k.gvk)
		}
		if strings.ToLower(k.gvk.Kind) != k.singular {
			t.Errorf("%s: singular %q", k.gvk, k.singular)
		}
	}
}

// TestFlagsResetBetweenCalls checks that a parse leaves nothing behind.
func TestFlagsResetBetweenCalls(t *testing.T) {
	first := classifyArgs(t, []string{"delete", "pod", "a", "-n", "prod", "--dry-run=server", "--as=x", "-l", "a=b"}, "")
	if first.Class != classify.Privilege || !first.DryRun {
		t.Fatalf("first = %s", dump(first))
	}
	second := classifyArgs(t, []string{"delete", "pod", "a"}, "")
	if second.Class != classify.Destructive || second.DryRun || second.Resources[0].Namespace != "team-a" {
		t.Fatalf("second call saw flags of the first:\n%s", dump(second))
	}
	classifyArgs(t, []string{"apply", "-f", "manifests/deploy.yaml", "-f", "manifests/netpol.json"}, "")
	third := classifyArgs(t, []string{"apply", "-f", "manifests/deploy.yaml"}, "")
	if len(third.Resources) != 1 {
		t.Fatalf("slice flag kept old values: %v", third.Resources)
	}
	classifyArgs(t, []string{"create", "job", "x", "--image=b", "--", "sh"}, "")
	fourth := classifyArgs(t, []string{"create", "job", "x", "--image=b"}, "")
	if fourth.Class != classify.Write {
		t.Fatalf("dash position leaked: %s", dump(fourth))
	}
}

// TestConcurrentClassify runs classifications in parallel: each must see
// only its own flags.
func TestConcurrentClassify(t *testing.T) {
	cases := []struct {
		args []string
		want classify.Class
	}{
		{[]string{"delete", "pod", "a", "--dry-run=server"}, classify.Read},
		{[]string{"delete", "pod", "a"}, classify.Destructive},
		{[]string{"--as=x", "get", "pods"}, classify.Privilege},
		{[]string{"get", "secret", "s", "-o", "yaml"}, classify.Secret},
		{[]string{"get", "secret", "s"}, classify.Read},
	}
	done := make(chan error)
	for w := 0; w < 4; w++ {
		go func() {
			var err error
			for i := 0; i < 200 && err == nil; i++ {
				c := cases[(i+w)%len(cases)]
				a, cerr := classifier().Classify(context.Background(), req(t, c.args, ""))
				switch {
				case cerr != nil:
					err = fmt.Errorf("%q: %v", c.args, cerr)
				case a.Class != c.want:
					err = fmt.Errorf("%q: class %v, want %v", c.args, a.Class, c.want)
				}
			}
			done <- err
		}()
	}
	for w := 0; w < 4; w++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
