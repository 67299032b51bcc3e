package cli

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var updateHook = flag.Bool("update-hook", false, "rewrite testdata/hook/*/*.answer")

// TestHookClaude answers recorded PreToolUse payloads (Claude Code's
// documented hook input) and compares the answer, and the exit code, with
// the .answer file beside each: "exit N" on the first line, then stdout.
func TestHookClaude(t *testing.T) {
	payloads, _ := filepath.Glob("testdata/hook/claude/*.json")
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
			code := Execute(context.Background(), f, []string{"hook", "claude"})
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
