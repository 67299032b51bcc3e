package cli

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var updateHook = flag.Bool("update-hook", false, "rewrite testdata/hook/*/*.answer")

// TestHookClaude answers recorded PreToolUse payloads (Claude Code's
// documented hook input) and compares the answer, and the exit code, with
// the .answer file beside each: "exit N" on the first line, then stdout.
func TestHookClaude(t *testing.T) { testHook(t, "claude") }

// TestHookCodex does the same with Codex's PreToolUse payloads (the same
// wire format, with Codex's own fields: turn_id, model).
func TestHookCodex(t *testing.T) { testHook(t, "codex") }

func testHook(t *testing.T, agent string) {
	payloads, _ := filepath.Glob("testdata/hook/" + agent + "/*.json")
	if len(payloads) == 0 {
		t.Fatal("no payloads")
	}
	for _, p := range payloads {
		t.Run(filepath.Base(p), func(t *testing.T) {
			in, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			ios, stdin, stdout, stderr := Test()
			stdin.Write(in)
			f := &Factory{IO: ios, Environ: []string{"HOME=" + t.TempDir()}}
			code := Execute(context.Background(), f, []string{"hook", agent})
			got := "exit " + itoa(code) + "\n" + stdout.String()
			if code == 2 && !strings.Contains(stderr.String(), "blocked") {
				t.Errorf("exit 2 without saying it blocked: %q", stderr.String())
			}
			golden := strings.TrimSuffix(p, ".json") + ".answer"
			if *updateHook {
				os.WriteFile(golden, []byte(got), 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestHookLooksIntoScripts: a script the agent wrote a moment earlier and
// then runs by name is read, for both agents: one that calls kubectl
// directly is denied with its name; one that calls agentctl, a binary, and
// a script not there yet get no answer.
func TestHookLooksIntoScripts(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"deploy.sh":      "#!/bin/sh\nset -e\nkubectl delete ns prod\n",
		"ok.sh":          "#!/bin/sh\nagentctl kubectl get pods\n",
		"bin/tool":       "\x7fELF\x00\x00kubectl delete ns prod",
		"lib/heredoc.sh": "cat <<X | kubectl apply -f -\nX\n",
	}
	for name, body := range files {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct{ line, want string }{
		{"bash deploy.sh", `^deny: the script "deploy.sh" runs kubectl`},
		{"./deploy.sh --force", `^deny: the script "./deploy.sh" runs kubectl`},
		{"source deploy.sh", `^deny: the script "deploy.sh" runs kubectl`},
		{"cd infra && ./ok.sh", `^deny: agentctl cannot look into the script "./ok.sh" \(the line changes directory`},
		{"sh -c 'sh " + filepath.Join(dir, "deploy.sh") + "'", `^deny: the script ".*deploy.sh" runs kubectl`},
		{"sh lib/heredoc.sh", `^deny: agentctl cannot look into the script "lib/heredoc.sh" \(a heredoc`},
		{"./ok.sh", ``},
		{"./bin/tool", ``},
		{"./not-yet.sh", ``},
	}
	for _, agent := range []string{"claude", "codex"} {
		for _, c := range cases {
			in, _ := json.Marshal(map[string]any{"hook_event_name": "PreToolUse", "cwd": dir, "tool_name": "Bash",
				"tool_input": map[string]string{"command": c.line}})
			ios, stdin, stdout, _ := Test()
			stdin.Write(in)
			f := &Factory{IO: ios, Environ: []string{"HOME=" + t.TempDir()}}
			if code := Execute(context.Background(), f, []string{"hook", agent}); code != 0 {
				t.Errorf("%s %q: exit %d", agent, c.line, code)
			}
			got := stdout.String()
			if got != "" {
				var a claudeHookOutput
				if err := json.Unmarshal([]byte(got), &a); err != nil {
					t.Fatalf("%s %q: %v: %q", agent, c.line, err, got)
				}
				got = a.HookSpecificOutput.PermissionDecision + ": " + a.HookSpecificOutput.PermissionDecisionReason
			}
			if c.want == "" && got != "" || c.want != "" && !regexp.MustCompile(c.want).MatchString(got) {
				t.Errorf("%s %q: answer %q, want %q", agent, c.line, got, c.want)
			}
		}
	}
}
