package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/exitcode"
	"github.com/agentctl/agentctl/pkg/pipeline"
	"github.com/agentctl/agentctl/pkg/policy"
)

func runCLI(t *testing.T, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ios, _, out, errOut := Test()
	home := t.TempDir()
	f := &Factory{
		IO: ios,
		Environ: append([]string{
			"HOME=" + home,
			"XDG_STATE_HOME=" + filepath.Join(home, "state"),
			"XDG_CACHE_HOME=" + filepath.Join(home, "cache"),
			"XDG_CONFIG_HOME=" + filepath.Join(home, "config"),
			"PATH=" + os.Getenv("PATH"),
			"KUBECONFIG=" + filepath.Join(home, "no-kubeconfig"),
		}, env...),
		Executable: os.Executable,
		Getwd:      func() (string, error) { return home, nil },
		AdminDir:   filepath.Join(home, "etc-agentctl"), // none: not this machine's /etc/agentctl
	}
	code = Execute(context.Background(), f, args)
	return code, out.String(), errOut.String()
}

func explainJSONOf(t *testing.T, stdout string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(stdout), &m); err != nil {
		t.Fatalf("explain --output json printed no JSON object: %v\n%s", err, stdout)
	}
	return m
}

func TestGlobalFlagsComeBeforeTheTool(t *testing.T) {
	tests := []struct {
		name      string
		env       []string
		args      []string
		wantJSON  bool
		wantClass string
	}{
		{"--output json before explain", nil, []string{"--output", "json", "explain", "--", "kubectl", "get", "pods"}, true, "read"},
		{"--output=json form", nil, []string{"--output=json", "explain", "--", "kubectl", "delete", "pod", "x"}, true, "destructive"},
		{"AGENTCTL_OUTPUT=json from the environment", []string{"AGENTCTL_OUTPUT=json"}, []string{"explain", "--", "kubectl", "get", "pods"}, true, "read"},
		{"a flag wins over the environment", []string{"AGENTCTL_OUTPUT=json"}, []string{"--output", "text", "explain", "--", "kubectl", "get", "pods"}, false, "read"},
		{"-o json after the tool is kubectl's, not agentctl's", nil, []string{"explain", "--", "kubectl", "get", "pods", "-o", "json"}, false, "read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tt.env, tt.args...)
			if code != 0 {
				t.Fatalf("exit %d, stderr:\n%s", code, errOut)
			}
			if tt.wantJSON {
				if got := explainJSONOf(t, out)["class"]; got != tt.wantClass {
					t.Errorf("class = %v, want %s", got, tt.wantClass)
				}
				return
			}
			if !strings.HasPrefix(out, "class:") || !strings.Contains(out, tt.wantClass) {
				t.Errorf("want the text assessment with class %s, got:\n%s", tt.wantClass, out)
			}
		})
	}
}

func TestExplainUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no command", []string{"explain"}, "no command to explain"},
		{"command without --", []string{"explain", "kubectl", "get", "pods"}, "goes after --"},
		{"a tool agentctl does not wrap", []string{"explain", "--", "helm", "install", "x"}, `cannot explain "helm"`},
		{"bad --output", []string{"--output", "yaml", "explain", "--", "kubectl", "get", "pods"}, `unknown output format "yaml"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, nil, tt.args...)
			if code != exitcode.Usage {
				t.Errorf("exit %d, want %d", code, exitcode.Usage)
			}
			if !strings.Contains(errOut, tt.want) {
				t.Errorf("stderr %q does not say %q", errOut, tt.want)
			}
		})
	}
}

func TestExplainUnknownExitsZero(t *testing.T) {
	code, out, errOut := runCLI(t, nil, "-o", "json", "explain", "--", "kubectl", "get", "pods", "|", "sh")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if c := explainJSONOf(t, out)["class"]; c != "unknown" {
		t.Errorf("class = %v, want unknown", c)
	}
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, 0},
		{"tool exit code passes through", &ExitError{Code: 3}, 3},
		{"denied", &pipeline.DeniedError{Assessment: &classify.Assessment{Class: classify.Destructive}}, exitcode.Denied},
		{"wrapped denied", fmt.Errorf("x: %w", &pipeline.DeniedError{}), exitcode.Denied},
		{"usage", &UsageError{Err: errors.New("bad")}, exitcode.Usage},
		{"config", &ConfigError{Err: errors.New("bad policy")}, exitcode.Config},
		{"audit", &pipeline.AuditError{Err: errors.New("disk full")}, exitcode.Audit},
		{"a target outside the configured ones", &pipeline.RefusedError{Err: errors.New("--server")}, 77},
		{"other", errors.New("boom"), exitcode.Internal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := exitCode(tt.err); got != tt.want {
				t.Errorf("exitCode = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestDeniedInJSONIsOneObjectOnStderr(t *testing.T) {
	var b strings.Builder
	err := &pipeline.DeniedError{
		Assessment: &classify.Assessment{Class: classify.Privilege, Subcommand: "apply", Reasons: []classify.Reason{{Class: classify.Privilege, Message: "applies a ClusterRoleBinding"}}},
		Decision:   policy.Decision{Action: policy.Approve, Rule: "default.yaml:12"},
		Message:    "no approver",
	}
	printError(&b, err, true)
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("want one line, got %q", b.String())
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &m); err != nil {
		t.Fatal(err)
	}
	if m["class"] != "privilege" || m["decision"] != "deny" || m["rule"] != "default.yaml:12" || m["exitCode"] != float64(77) {
		t.Errorf("unexpected refusal object: %v", m)
	}
}

func TestDeniedTextNamesClassAndReason(t *testing.T) {
	var b strings.Builder
	printError(&b, &pipeline.DeniedError{
		Assessment: &classify.Assessment{Class: classify.Destructive, Reasons: []classify.Reason{{Class: classify.Destructive, Message: "delete deletes pods/x"}}},
		Decision:   policy.Decision{Action: policy.Approve, Rule: "interim:approve"},
		Message:    "not approved",
	}, false)
	got := b.String()
	if !strings.HasPrefix(got, "agentctl: denied: destructive (delete deletes pods/x)") || !strings.Contains(got, "\nhint: ") {
		t.Errorf("refusal text:\n%s", got)
	}
}

func TestMissingManifestIsAUsageError(t *testing.T) {
	code, _, errOut := runCLI(t, nil, "kubectl", "apply", "-f", "/nonexistent/app.yaml")
	if code != exitcode.Usage {
		t.Errorf("exit %d, want %d", code, exitcode.Usage)
	}
	if want := "agentctl: cannot read manifest \"/nonexistent/app.yaml\": the path does not exist\n"; errOut != want {
		t.Errorf("stderr = %q, want %q", errOut, want)
	}
}

func TestRemoteManifestIsRefusedWhateverThePolicy(t *testing.T) {
	dir := t.TempDir()
	pol := filepath.Join(dir, "allow-all.yaml")
	os.WriteFile(pol, []byte("rules:\n- name: everything\n  decision: approve\n"), 0o644)
	code, out, errOut := runCLI(t, nil, "-o", "json", "--policy", pol, "explain", "--", "kubectl", "apply", "-f", "https://example.com/app.yaml")
	if code != 0 {
		t.Fatalf("explain: exit %d: %s", code, errOut)
	}
	m := explainJSONOf(t, out)
	if m["decision"] != "deny" || m["rule"] != "agentctl:unassessable" {
		t.Errorf("decision %v by %v, want deny by agentctl:unassessable", m["decision"], m["rule"])
	}
}

func TestApprovalSettingsFromConfig(t *testing.T) {
	write := func(t *testing.T, body string) string {
		dir := t.TempDir()
		os.MkdirAll(filepath.Join(dir, "agentctl"), 0o700)
		os.WriteFile(filepath.Join(dir, "agentctl", "config.yaml"), []byte(body), 0o600)
		return "XDG_CONFIG_HOME=" + dir
	}
	t.Run("a bad approver is a configuration error with its location", func(t *testing.T) {
		code, _, errOut := runCLI(t, []string{write(t, "approval:\n  approver: slack\n")}, "kubectl", "delete", "pod", "x")
		if code != exitcode.Config || !strings.Contains(errOut, "config.yaml:2: approval.approver: \"slack\"") {
			t.Errorf("exit %d, stderr %q", code, errOut)
		}
	})
	t.Run("a bad timeout is a configuration error", func(t *testing.T) {
		code, _, errOut := runCLI(t, []string{write(t, "approval:\n  timeout: soon\n")}, "kubectl", "delete", "pod", "x")
		if code != exitcode.Config || !strings.Contains(errOut, `approval.timeout: "soon"`) {
			t.Errorf("exit %d, stderr %q", code, errOut)
		}
	})
	t.Run("the configured approver is asked", func(t *testing.T) {
		code, _, errOut := runCLI(t, []string{write(t, "approval:\n  approver: inbox\n"), "XDG_RUNTIME_DIR=" + t.TempDir()}, "kubectl", "delete", "pod", "x")
		if code != exitcode.Denied || !strings.Contains(errOut, "cannot verify inbox answers") {
			t.Errorf("exit %d, stderr %q: want the inbox approver, which has no key here", code, errOut)
		}
	})
	t.Run("the flag wins over the configuration", func(t *testing.T) {
		code, _, errOut := runCLI(t, []string{write(t, "approval:\n  approver: inbox\n")}, "--approver", "none", "kubectl", "delete", "pod", "x")
		if code != exitcode.Denied || strings.Contains(errOut, "cannot verify inbox answers") {
			t.Errorf("exit %d, stderr %q: want a plain refusal by approver none", code, errOut)
		}
	})
}
