package kubectl

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/agentctl/agentctl/pkg/request"
)

func TestPatchFileIsInlinedSoALaterEditChangesNothing(t *testing.T) {
	dir := t.TempDir()
	patch := `{"spec":{"replicas":3}}`
	os.WriteFile(filepath.Join(dir, "p.json"), []byte(patch), 0o644)
	for _, args := range [][]string{
		{"patch", "deploy", "web", "--patch-file", "p.json"},
		{"patch", "deploy", "web", "--patch-file=p.json"},
	} {
		a, err := New(Options{}).Classify(context.Background(), &request.Request{Tool: "kubectl", Args: args, Cwd: dir, Env: []string{"HOME=" + dir}})
		if err != nil {
			t.Fatal(err)
		}
		// The agent swaps the file after the assessment: nothing reads it.
		os.WriteFile(filepath.Join(dir, "p.json"), []byte(`{"spec":{"template":{"spec":{"hostPID":true}}}}`), 0o644)
		want := []string{"patch", "deploy", "web", "--patch=" + patch}
		if !reflect.DeepEqual(a.Exec.Args, want) {
			t.Errorf("%q: Exec.Args = %q, want %q", args, a.Exec.Args, want)
		}
		os.WriteFile(filepath.Join(dir, "p.json"), []byte(patch), 0o644)
	}
}
