package e2e_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentctl/agentctl/pkg/testenv"
)

// TestFlagsReachTheCollectorAsWarnings: the headers of the admin's
// headers file reach the real collector with the records; an agent's
// first (denied) secret read raises new-class, and its record arrives
// with severity WARN and the flag's name; a read it ran twice is
// flagged the first time only, and arrives then as INFO.
func TestFlagsReachTheCollectorAsWarnings(t *testing.T) {
	col := testenv.NewCollector(t)
	col.Header = "X-Api-Key"
	col.Start(t)
	headers := filepath.Join(t.TempDir(), "otlp-headers")
	if err := os.WriteFile(headers, []byte("# the SIEM's key\nX-Api-Key: k-123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	adminFiles(t, map[string]string{"config.yaml": otlpConfig(col, "grpc") + "    headersFile: " + headers + "\n"})
	e := newEnv(t)
	if r := e.agentctl("--agent", "bot", "kubectl", "get", "secret", "db", "-o", "yaml"); r.code != 77 {
		t.Fatalf("secret read: exit %d, want 77: %s", r.code, r.stderr)
	}
	for range 2 {
		if r := e.agentctl("--agent", "bot", "kubectl", "version", "--client"); r.code != 0 {
			t.Fatalf("version: exit %d: %s", r.code, r.stderr)
		}
	}
	// What the commands' own bounded flushes left (a loaded machine) goes now.
	if r := e.agentctl("audit", "export"); r.code != 0 {
		t.Fatalf("audit export: exit %d: %s", r.code, r.stderr)
	}
	logs := col.WaitLogs(t, 5) // a decision, then a decision and a result twice
	for i, lr := range logs {
		if got := lr.Resource["otelcol.header.x-api-key"]; got != "k-123" {
			t.Errorf("record %d: the collector saw X-Api-Key %q, want the headers file's k-123", i+1, got)
		}
	}
	if logs[0].SeverityText != "WARN" || logs[0].Attrs["agentctl.flags"] != "new-class" {
		t.Errorf("first secret read: severity %q, flags %q; want WARN and new-class", logs[0].SeverityText, logs[0].Attrs["agentctl.flags"])
	}
	if logs[1].Attrs["agentctl.flags"] != "new-class" || logs[1].SeverityText != "WARN" {
		t.Errorf("first read: severity %q, flags %q; want WARN and new-class", logs[1].SeverityText, logs[1].Attrs["agentctl.flags"])
	}
	if logs[3].Attrs["agentctl.kind"] != "decision" || logs[3].Attrs["agentctl.flags"] != "" || logs[3].SeverityText != "INFO" {
		t.Errorf("second read: %s, severity %q, flags %q; want an INFO decision with no flag", logs[3].Attrs["agentctl.kind"], logs[3].SeverityText, logs[3].Attrs["agentctl.flags"])
	}
	if !strings.Contains(e.auditLines()[0], `"flags":[{"flag":"new-class","detail":"class secret"}]`) {
		t.Errorf("the local record lacks the flag: %s", e.auditLines()[0])
	}
}

// TestFlagsPolicyLocksOut: a policy whose flags: section turns the
// denials flag into a lockout locks the agent on the command after the
// third denial within ten minutes (the admin config's threshold), not
// before; then every change is refused naming the flag and the unlock.
func TestFlagsPolicyLocksOut(t *testing.T) {
	adminFiles(t, map[string]string{"config.yaml": "audit:\n  flags:\n    denials: {count: 3, window: 10m}\n"})
	e := newEnv(t)
	pol := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(pol, []byte("flags:\n  denials: lockout\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		r := e.agentctl("--agent", "bot", "--policy", pol, "kubectl", "get", "secret", "db", "-o", "yaml")
		if r.code != 77 || strings.Contains(r.stderr, "flag:denials") || strings.Contains(r.stderr, "locked out") {
			t.Fatalf("denial %d: exit %d, want the policy's own denial: %s", i+1, r.code, r.stderr)
		}
	}
	r := e.agentctl("--agent", "bot", "--policy", pol, "kubectl", "get", "secret", "db", "-o", "yaml")
	if r.code != 77 || !strings.Contains(r.stderr, "raised flag denials") {
		t.Fatalf("fourth: exit %d, want the flag's lockout: %s", r.code, r.stderr)
	}
	r = e.agentctl("--agent", "bot", "kubectl", "delete", "pod", "web")
	if r.code != 77 || !strings.Contains(r.stderr, `agent "bot" is locked out`) || !strings.Contains(r.stderr, "flag denials") || !strings.Contains(r.stderr, "agentctl unlock --agent bot") {
		t.Fatalf("after the lockout: exit %d: %s", r.code, r.stderr)
	}
	lines := e.auditLines()
	if !strings.Contains(lines[3], `"rule":"flag:denials"`) || !strings.Contains(lines[2], `"flag":"denials"`) {
		t.Errorf("records 3 and 4:\n%s\n%s", lines[2], lines[3])
	}
}
