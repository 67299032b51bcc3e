package policy

import (
	"reflect"
	"testing"
)

func TestShellWords(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		want       []string
	}{
		{"plain words", "kubectl -n web get pods", []string{"kubectl", "-n", "web", "get", "pods"}},
		{"single quotes keep JSON", `kubectl patch deploy api -p '{"spec":{"replicas":3}}'`, []string{"kubectl", "patch", "deploy", "api", "-p", `{"spec":{"replicas":3}}`}},
		{"double quotes and escapes", `kubectl annotate pod x "note=a \"b\" c" d\ e`, []string{"kubectl", "annotate", "pod", "x", `note=a "b" c`, "d e"}},
		{"empty quotes are a word", `kubectl get pods -l ''`, []string{"kubectl", "get", "pods", "-l", ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := shellWords(tc.line)
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	if _, err := shellWords(`kubectl get 'pods`); err == nil {
		t.Error("an unterminated quote is not an error")
	}
}
