package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/agentctl/agentctl/pkg/exitcode"
)

// A misspelt command must not print the help and exit 0: the agent would
// believe its command ran.
func TestUnknownCommandsExitWithAUsageError(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		wantErr  string
		wantHint string
	}{
		{"typo of kubectl", []string{"kubeclt", "get", "pods"}, `agentctl: unknown command "kubeclt"`, `hint: did you mean "kubectl"?`},
		{"typo of kubectl with --help", []string{"kubeclt", "--help"}, `agentctl: unknown command "kubeclt"`, `hint: did you mean "kubectl"?`},
		{"typo after a global flag with a value", []string{"--intent", "fix it", "terrafrom", "plan"}, `agentctl: unknown command "terrafrom"`, `hint: did you mean "terraform"?`},
		{"typo in a command group", []string{"audit", "verfy"}, `agentctl: unknown command "verfy" for "agentctl audit"`, `hint: did you mean "verify"?`},
		{"nothing close", []string{"xyzzy"}, `agentctl: unknown command "xyzzy"`, "hint: run `agentctl --help` for the list of commands"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, nil, tc.args...)
			if code != exitcode.Usage {
				t.Errorf("exit %d, want %d\nstdout: %s", code, exitcode.Usage, stdout)
			}
			if stdout != "" {
				t.Errorf("printed on stdout (the help?):\n%s", stdout)
			}
			if want := tc.wantErr + "\n" + tc.wantHint + "\n"; stderr != want {
				t.Errorf("stderr %q, want %q", stderr, want)
			}
		})
	}
}

func TestUnknownCommandWithJSONOutput(t *testing.T) {
	code, _, stderr := runCLI(t, nil, "--output", "json", "kubeclt")
	var got struct {
		Error    string `json:"error"`
		Hint     string `json:"hint"`
		ExitCode int    `json:"exitCode"`
	}
	if err := json.Unmarshal([]byte(stderr), &got); err != nil {
		t.Fatalf("stderr is no JSON object: %v\n%s", err, stderr)
	}
	if code != exitcode.Usage || got.ExitCode != exitcode.Usage || got.Error != `unknown command "kubeclt"` || got.Hint != `did you mean "kubectl"?` {
		t.Errorf("exit %d, %+v", code, got)
	}
}

// What is not a typo keeps working: help, a group's help, the tools.
func TestKnownCommandsAreNotUnknown(t *testing.T) {
	for _, args := range [][]string{{}, {"--help"}, {"help"}, {"audit"}, {"audit", "--help"}, {"version"},
		{"explain", "--", "kubectl", "get", "pods"}} {
		code, _, stderr := runCLI(t, nil, args...)
		if code != exitcode.OK || strings.Contains(stderr, "unknown command") {
			t.Errorf("agentctl %q: exit %d, stderr %q", args, code, stderr)
		}
	}
}
