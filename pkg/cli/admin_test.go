package cli

import (
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestAdminConfigPinsTheAuditLog plays an agent that points
// AGENTCTL_AUDIT_LOG at a file of its own: with audit.path in the
// root-owned admin config, the record still lands where root said.
func TestAdminConfigPinsTheAuditLog(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the admin config must be root's")
	}
	h := newCLIHome(t, "CI=true")
	pinned := filepath.Join(h.home, "var-log", "agentctl-{user}.jsonl")
	h.write("etc-agentctl/config.yaml", "audit:\n  path: "+pinned+"\n")
	decoy := filepath.Join(h.home, "agent-chosen.jsonl")
	h.env = append(h.env, "AGENTCTL_AUDIT_LOG="+decoy)
	if code, _, errOut := h.run("kubectl", "delete", "pod", "web"); code != 77 {
		t.Fatalf("exit %d, want 77:\n%s", code, errOut)
	}
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(strings.ReplaceAll(pinned, "{user}", u.Username))
	if err != nil || !strings.Contains(string(got), `"delete"`) {
		t.Errorf("the pinned log lacks the decision: %v\n%s", err, got)
	}
	if _, err := os.Stat(decoy); err == nil {
		t.Error("the record went to the log the agent chose")
	}
	if code, out, errOut := h.run("audit", "verify"); code != 0 || !strings.Contains(out, "agentctl-"+u.Username+".jsonl") {
		t.Errorf("audit verify does not read the pinned log: exit %d\n%s%s", code, out, errOut)
	}
}

// TestAdminConfigMustBeRootsAndValid checks that a broken or
// agent-writable admin config stops everything (exit 78), saying why.
func TestAdminConfigMustBeRootsAndValid(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give the file to another user")
	}
	for _, tc := range []struct {
		name, src string
		uid       int
		mode      os.FileMode
		want      string
	}{
		{"owned by another user", "audit: {path: /var/log/a.jsonl}\n", 65534, 0o644, "must be owned by root"},
		{"group-writable", "audit: {path: /var/log/a.jsonl}\n", 0, 0o664, "must be owned by root"},
		{"an unknown field", "audit: {pth: /var/log/a.jsonl}\n", 0, 0o644, `config.yaml:1: unknown field "pth"`},
		{"a relative path", "audit: {path: a.jsonl}\n", 0, 0o644, `audit.path "a.jsonl" is not an absolute path`},
		{"a relative allowed_signers", "approvals: {allowedSigners: signers}\n", 0, 0o644, `approvals.allowedSigners "signers" is not an absolute path`},
		{"a negative number of signers", "approvals: {allowedSigners: /etc/s, required: -1}\n", 0, 0o644, `approvals.required -1 is negative`},
		{"grants.privilege not allow or deny", "grants: {privilege: yes}\n", 0, 0o644, `grants.privilege "yes" is not allow or deny`},
		{"break-glass without signers", "breakGlass: {allow: true}\n", 0, 0o644, `breakGlass.allow needs an allowed_signers file`},
		{"break-glass maxFor not a duration", "breakGlass: {allow: true, allowedSigners: /etc/s, maxFor: soon}\n", 0, 0o644, `breakGlass.maxFor "soon" is not a positive duration`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newCLIHome(t, "CI=true")
			p := h.write("etc-agentctl/config.yaml", tc.src)
			if err := os.Chown(p, tc.uid, -1); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(p, tc.mode); err != nil {
				t.Fatal(err)
			}
			code, _, errOut := h.run("kubectl", "get", "pods")
			if code != 78 || !strings.Contains(errOut, p) || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, want 78 naming %s and %q:\n%s", code, p, tc.want, errOut)

			}
		})
	}
}

// TestAdminConfigPinsApproverAndState plays an agent that asks for the
// terminal approver and moves XDG_STATE_HOME to dodge its lockout: root's
// approval.approver and state win.
func TestAdminConfigPinsApproverAndState(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the admin config must be root's")
	}
	h := newCLIHome(t)
	state := filepath.Join(h.home, "var-lib", "{user}")
	h.write("etc-agentctl/config.yaml", "approval:\n  approver: none\nstate: "+state+"\n")
	h.env = append(h.env, "XDG_STATE_HOME="+filepath.Join(h.home, "agent-state"))
	code, _, errOut := h.run("--output", "json", "--approver", "tty", "kubectl", "delete", "pod", "web")
	if code != 77 || !strings.Contains(errOut, `"approver":"none"`) {
		t.Errorf("exit %d, want 77 with approver none:\n%s", code, errOut)
	}
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(strings.ReplaceAll(state, "{user}", u.Username), "policy-state.json")); err != nil {
		t.Errorf("the denial was not counted in the pinned state dir: %v", err)
	}
	if _, err := os.Stat(filepath.Join(h.home, "agent-state", "agentctl", "policy-state.json")); err == nil {
		t.Error("the lockout state went where the agent pointed XDG_STATE_HOME")
	}
}

// TestAdminConfigReadsTheDocumentedExample parses the example
// /etc/agentctl/config.yaml of docs/hardening.md, as the doc has it.
func TestAdminConfigReadsTheDocumentedExample(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the admin config must be root's")
	}
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "hardening.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/hardening.md has no yaml example")
	}
	var example []string
	for _, l := range strings.Split(string(m[1]), "\n") {
		example = append(example, strings.TrimPrefix(l, "     ")) // the list item's indent
	}
	h := newCLIHome(t)
	cfg, err := readAdmin(h.write("etc-agentctl/config.yaml", strings.Join(example, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Audit.Path == "" || cfg.Audit.Syslog == "" || cfg.Approval.Approver != "inbox" || cfg.State == "" {
		t.Errorf("parsed %+v", cfg)
	}
}
