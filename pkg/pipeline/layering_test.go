package pipeline

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"sort"
	"strings"
	"testing"
)

// The layering of DESIGN.md, as import rules over the module's packages
// (test files excluded). A rule names the packages it holds for (a path,
// or a path ending in "/..." for a tree) and what they must not import.
// Deps rules hold for every package they depend on, directly or not;
// direct rules for their own imports only.
const module = "github.com/agentctl/agentctl/"

type layerRule struct {
	why    string
	of     []string
	never  []string
	direct bool // only the package's own imports, not its dependencies'
}

// stages are the pipeline's stage packages and the executor below them.
var stages = []string{"pkg/request", "pkg/classify/...", "pkg/policy", "pkg/approve", "pkg/audit",
	"pkg/credentials", "pkg/redact", "pkg/run/...", "sandbox/..."}

var layering = []layerRule{
	{why: "stages never reach the faces or the terminal UI", of: append(stages, "pkg/pipeline"),
		never: []string{"pkg/cli/...", "pkg/tui/...", "pkg/broker/...", "cmd/..."}},
	{why: "stages never reach back to the conductor: pkg/run only executes", of: stages,
		never: []string{"pkg/pipeline/..."}},
	{why: "the sandbox imports nothing from pkg/", of: []string{"sandbox/..."},
		never: []string{"pkg/..."}},
	{why: "classification never depends on the later stages", of: []string{"pkg/classify/..."},
		never: []string{"pkg/policy/...", "pkg/approve/...", "pkg/run/...", "pkg/credentials/...", "pkg/audit/..."}},
	{why: "the policy never depends on how approvals or execution happen", of: []string{"pkg/policy/..."},
		never: []string{"pkg/approve/...", "pkg/run/...", "pkg/credentials/...", "pkg/audit/..."}},
	{why: "nothing but the binary imports the CLI", of: []string{"pkg/..."},
		never: []string{"pkg/cli"}},
	// pkg/classify/kubectl and pkg/run import cobra directly on purpose:
	// kubectl's own command tree is the grammar agentctl parses with and
	// the kubectl it embeds.
	{why: "domain packages know nothing of cobra, bubbletea or the terminal", direct: true,
		of: []string{"pkg/classify", "pkg/classify/terraform", "pkg/policy", "pkg/approve", "pkg/audit",
			"pkg/credentials", "pkg/redact", "pkg/request", "pkg/pipeline", "sandbox/..."},
		never: []string{"github.com/spf13/cobra", "github.com/charmbracelet/...", "golang.org/x/term"}},
}

// listedPackage is what `go list -json` says of a package.
type listedPackage struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

// matches says whether path is pattern: a package path relative to the
// module (or a full path, for other modules), or a tree ending in "/...".
func matches(pattern, path string) bool {
	if first, _, _ := strings.Cut(pattern, "/"); !strings.Contains(first, ".") {
		pattern = module + pattern
	}
	if tree, ok := strings.CutSuffix(pattern, "/..."); ok {
		return path == tree || strings.HasPrefix(path, tree+"/")
	}
	return path == pattern
}

func matchesAny(patterns []string, path string) bool {
	for _, p := range patterns {
		if matches(p, path) {
			return true
		}
	}
	return false
}

// violations lists every import that breaks a rule, as
// "PKG imports DEP: WHY".
func violations(pkgs []listedPackage, rules []layerRule) []string {
	var out []string
	for _, p := range pkgs {
		for _, r := range rules {
			if !matchesAny(r.of, p.ImportPath) {
				continue
			}
			deps := p.Deps
			if r.direct {
				deps = p.Imports
			}
			for _, d := range deps {
				if d != p.ImportPath && matchesAny(r.never, d) {
					out = append(out, strings.TrimPrefix(p.ImportPath, module)+" imports "+strings.TrimPrefix(d, module)+": "+r.why)
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

func TestLayering(t *testing.T) {
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports,Deps", module+"...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	var pkgs []listedPackage
	for dec := json.NewDecoder(bytes.NewReader(out)); ; {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	listed := map[string]bool{}
	for _, p := range pkgs {
		listed[strings.TrimPrefix(p.ImportPath, module)] = true
	}
	for _, want := range []string{"pkg/pipeline", "pkg/run", "pkg/cli", "pkg/classify/kubectl", "sandbox"} {
		if !listed[want] {
			t.Fatalf("go list did not list %s: nothing checked", want)
		}
	}
	for _, v := range violations(pkgs, layering) {
		t.Error(v)
	}
}

func TestLayeringRules(t *testing.T) {
	tests := []struct {
		name string
		pkg  listedPackage
		want string // "" when allowed
	}{
		{"classify importing policy", listedPackage{ImportPath: module + "pkg/classify/kubectl", Deps: []string{module + "pkg/policy"}},
			"pkg/classify/kubectl imports pkg/policy: classification never depends on the later stages"},
		{"run importing the conductor", listedPackage{ImportPath: module + "pkg/run", Deps: []string{module + "pkg/pipeline"}},
			"pkg/run imports pkg/pipeline: stages never reach back to the conductor: pkg/run only executes"},
		{"sandbox importing a pkg/ package", listedPackage{ImportPath: module + "sandbox", Deps: []string{module + "pkg/exitcode"}},
			"sandbox imports pkg/exitcode: the sandbox imports nothing from pkg/"},
		{"approve importing the TUI", listedPackage{ImportPath: module + "pkg/approve", Deps: []string{module + "pkg/tui"}},
			"pkg/approve imports pkg/tui: stages never reach the faces or the terminal UI"},
		{"policy importing bubbletea", listedPackage{ImportPath: module + "pkg/policy", Imports: []string{"github.com/charmbracelet/bubbletea"}},
			"pkg/policy imports github.com/charmbracelet/bubbletea: domain packages know nothing of cobra, bubbletea or the terminal"},
		{"the CLI importing the conductor", listedPackage{ImportPath: module + "pkg/cli", Deps: []string{module + "pkg/pipeline", module + "pkg/tui"}}, ""},
		{"classify importing its own tree", listedPackage{ImportPath: module + "pkg/classify/terraform", Deps: []string{module + "pkg/classify"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Join(violations([]listedPackage{tt.pkg}, layering), "\n")
			if got != tt.want {
				t.Errorf("violations = %q, want %q", got, tt.want)
			}
		})
	}
}
