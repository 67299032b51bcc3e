package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// completionsDir is the repository's completions/ directory.
func completionsDir(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "completions")
}

var completionFiles = map[string]string{
	"bash":       "agentctl.bash",
	"zsh":        "_agentctl",
	"fish":       "agentctl.fish",
	"powershell": "agentctl.ps1",
}

// TestCompletionsAreFresh fails when the committed completions/ differ from
// what `agentctl completion SHELL` generates. Regenerate with
// AGENTCTL_UPDATE_COMPLETIONS=1 go test ./pkg/cli -run TestCompletionsAreFresh.
func TestCompletionsAreFresh(t *testing.T) {
	for shell, name := range completionFiles {
		t.Run(shell, func(t *testing.T) {
			code, out, errOut := runCLI(t, nil, "completion", shell)
			if code != 0 {
				t.Fatalf("completion %s: exit %d: %s", shell, code, errOut)
			}
			path := filepath.Join(completionsDir(t), name)
			if os.Getenv("AGENTCTL_UPDATE_COMPLETIONS") == "1" {
				if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v\nhint: AGENTCTL_UPDATE_COMPLETIONS=1 go test ./pkg/cli -run TestCompletionsAreFresh", err)
			}
			if !bytes.Equal(want, []byte(out)) {
				t.Errorf("completions/%s is stale\nhint: AGENTCTL_UPDATE_COMPLETIONS=1 go test ./pkg/cli -run TestCompletionsAreFresh", name)
			}
		})
	}
}

func complete(t *testing.T, words ...string) []string {
	t.Helper()
	ios, _, out, _ := Test()
	f := &Factory{IO: ios, Environ: []string{"HOME=" + t.TempDir(), "KUBECONFIG=/nonexistent"}, Executable: os.Executable, Getwd: os.Getwd}
	Execute(context.Background(), f, append([]string{"__complete"}, words...))
	return strings.Split(strings.TrimSpace(out.String()), "\n")
}

func TestCompletionDelegatesToTheTool(t *testing.T) {
	has := func(got []string, want string) bool {
		for _, g := range got {
			if strings.SplitN(g, "\t", 2)[0] == want {
				return true
			}
		}
		return false
	}
	if got := complete(t, "kubectl", "rollo"); !has(got, "rollout") {
		t.Errorf("agentctl kubectl rollo<TAB> = %q, want kubectl's own rollout", got)
	}
	if got := complete(t, "kubectl", "rollout", "res"); !has(got, "restart") || !has(got, "resume") {
		t.Errorf("agentctl kubectl rollout res<TAB> = %q, want restart and resume", got)
	}
	if got := complete(t, "terraform", "ap"); !has(got, "apply") {
		t.Errorf("agentctl terraform ap<TAB> = %q, want apply", got)
	}
	if got := complete(t, "terraform", "state", "r"); !has(got, "rm") || !has(got, "replace-provider") {
		t.Errorf("agentctl terraform state r<TAB> = %q", got)
	}
}
