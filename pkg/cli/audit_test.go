package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/agentctl/agentctl/pkg/audit"
	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/exitcode"
	"github.com/agentctl/agentctl/pkg/request"
)

// auditFixture writes a log of three requests: an allowed read, a denied
// delete by another agent, and an approved scale with its result.
func auditFixture(t *testing.T) string {
	t.Helper()
	path := t.TempDir() + "/audit.jsonl"
	l, err := audit.Open(path, audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	add := func(agent, decision string, class classify.Class, args ...string) *audit.Record {
		req := &request.Request{ID: request.NewID(), Time: time.Now(), Tool: "kubectl", Args: args, Agent: agent}
		r := audit.NewDecision(audit.Self(), req, &classify.Assessment{Class: class})
		r.Decision = decision
		if err := l.Append(r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	add("claude", "sandbox", classify.Read, "get", "pods")
	add("cursor", "deny", classify.Destructive, "-n", "prod", "delete", "deploy", "web")
	// An agent's attempt to rewrite the reader's terminal: clear it, then
	// print an innocent line where the real command was.
	add("mallory\x1b[2J", "deny", classify.Destructive, "delete", "ns", "prod\x1b[1A\rkubectl get nodes")
	d := add("claude", "approve", classify.Write, "scale", "deploy/web", "--replicas=3", "--token=abc123")
	res := audit.NewResult(d, time.Now())
	res.SetExit(0)
	if err := l.Append(res); err != nil {
		t.Fatal(err)
	}
	return path
}

func runAudit(t *testing.T, path string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ios, _, out, errOut := Test()
	f := &Factory{IO: ios, Environ: []string{"AGENTCTL_AUDIT_LOG=" + path, "HOME=/nonexistent"}}
	root := NewRootCmd(f)
	if c, _, err := root.Find([]string{"audit"}); err != nil || c == root {
		root.AddCommand(newAuditCmd(f)) // until root.go registers it
	}
	root.SetArgs(append([]string{"audit"}, args...))
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	if err := root.ExecuteContext(context.Background()); err != nil {
		if isCobraUsageError(err) {
			err = &UsageError{Err: err}
		}
		printError(ios.ErrOut, err, f.Global.JSON())
		code = exitCode(err)
	}
	return code, out.String(), errOut.String()
}

func TestAuditVerifyCommand(t *testing.T) {
	path := auditFixture(t)
	code, out, _ := runAudit(t, path, "verify")
	if code != 0 || !strings.Contains(out, "OK: 5 records, chain intact") {
		t.Fatalf("clean log: exit %d, output %q", code, out)
	}

	b, _ := os.ReadFile(path)
	tampered := t.TempDir() + "/tampered.jsonl"
	os.WriteFile(tampered, bytes.Replace(b, []byte(`"decision":"deny"`), []byte(`"decision":"allow"`), 1), 0o600)
	code, out, _ = runAudit(t, path, "verify", tampered)
	if code != 1 || !strings.Contains(out, "BROKEN: line 2 was edited: hash mismatch at line 3: prev does not match line 2") {
		t.Fatalf("tampered log: exit %d, output %q", code, out)
	}

	code, out, _ = runAudit(t, path, "--output", "json", "verify", tampered)
	var rep struct {
		OK     bool
		Broken struct{ Line int }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 1 || rep.OK || rep.Broken.Line != 2 {
		t.Fatalf("json verify: exit %d, %q (%v)", code, out, err)
	}
}

func TestAuditLogCommand(t *testing.T) {
	path := auditFixture(t)
	tests := []struct {
		name      string
		args      []string
		want      []string // substrings of stdout
		wantNot   []string
		wantCode  int
		wantError string
	}{
		{"all requests", []string{"log"}, []string{"TIME", "kubectl get pods", "kubectl -n prod delete deploy web", "--token=***"}, []string{"abc123"}, 0, ""},
		{"control sequences from the agent show as text", []string{"log", "--decision", "deny"},
			[]string{`mallory\x1b[2J`, `prod\x1b[1A\x0dkubectl get nodes`}, []string{"\x1b[2J", "\x1b[1A", "\r"}, 0, ""},
		{"denials only", []string{"log", "--decision", "deny"}, []string{"cursor", "destructive"}, []string{"get pods"}, 0, ""},
		{"one agent", []string{"log", "--agent", "claude"}, []string{"get pods", "scale"}, []string{"delete"}, 0, ""},
		{"one class", []string{"log", "--class", "write"}, []string{"scale"}, []string{"get pods", "delete"}, 0, ""},
		{"since", []string{"log", "--since", "1h"}, []string{"get pods"}, nil, 0, ""},
		{"bad class", []string{"log", "--class", "dangerous"}, nil, nil, exitcode.Usage, `unknown class "dangerous"`},
		{"bad since", []string{"log", "--since", "yesterday"}, nil, nil, exitcode.Usage, `invalid --since "yesterday"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runAudit(t, path, tc.args...)
			if code != tc.wantCode || !strings.Contains(errOut, tc.wantError) {
				t.Fatalf("exit %d, stderr %q; want exit %d and %q", code, errOut, tc.wantCode, tc.wantError)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tc.wantNot {
				if strings.Contains(out, w) {
					t.Errorf("output has %q:\n%s", w, out)
				}
			}
		})
	}

	code, out, _ := runAudit(t, path, "--output", "json", "log", "--agent", "claude")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 { // two decisions and one result
		t.Fatalf("json log: exit %d, %d lines:\n%s", code, len(lines), out)
	}
	for _, l := range lines {
		var r audit.Record
		if err := json.Unmarshal([]byte(l), &r); err != nil || r.Agent != "claude" {
			t.Errorf("not a record of claude: %s", l)
		}
	}
}

func TestAuditTailCommand(t *testing.T) {
	path := auditFixture(t)
	code, out, _ := runAudit(t, path, "tail", "-n", "2")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 || !strings.Contains(lines[1], "decision") || !strings.Contains(lines[2], "result") {
		t.Fatalf("tail -n 2: exit %d:\n%s", code, out)
	}
}
