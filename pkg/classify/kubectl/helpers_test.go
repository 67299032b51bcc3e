package kubectl

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/request"
)

var (
	sharedOnce sync.Once
	shared     *Classifier
)

// classifier returns one offline classifier for all tests, as a process
// would build it once.
func classifier() *Classifier {
	sharedOnce.Do(func() { shared = New(Options{}) })
	return shared
}

func testdata(t testing.TB) string {
	t.Helper()
	d, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// req builds a request run from testdata with the test kubeconfig.
func req(t testing.TB, args []string, stdin string) *request.Request {
	dir := testdata(t)
	r := &request.Request{
		Tool: "kubectl", Args: args, Cwd: dir,
		// PATH holds the plugins kubectl-foo and kubectl-convert.
		Env: []string{"KUBECONFIG=" + filepath.Join(dir, "kubeconfig"), "HOME=/nonexistent", "PATH=/nonexistent:plugins"},
	}
	if stdin != "" {
		r.Stdin = strings.NewReader(stdin)
	}
	return r
}

func classifyArgs(t testing.TB, args []string, stdin string) *classify.Assessment {
	t.Helper()
	a, err := classifier().Classify(context.Background(), req(t, args, stdin))
	if err != nil {
		t.Fatalf("Classify(%q) error: %v", args, err)
	}
	return a
}

func dump(a *classify.Assessment) string {
	b, _ := json.MarshalIndent(a, "", "  ")
	return string(b)
}

func hasKind(a *classify.Assessment, kind string) bool {
	for _, r := range a.Resources {
		if r.Kind == kind {
			return true
		}
	}
	return false
}
