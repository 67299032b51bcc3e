package e2e_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/agentctl/agentctl/pkg/testenv"
)

// otlpConfig is an admin config.yaml exporting to col over protocol in
// plain text (loopback).
func otlpConfig(col *testenv.Collector, protocol string) string {
	addr := col.GRPC
	if protocol == "http" {
		addr = col.HTTP
	}
	return fmt.Sprintf("audit:\n  otlp:\n    endpoint: %s\n    protocol: %s\n    insecure: true\n", addr, protocol)
}

// auditLines are the lines of the test's audit log.
func (e *env) auditLines() []string {
	e.t.Helper()
	b, err := os.ReadFile(e.auditPath())
	if err != nil {
		e.t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// TestOTLPExportOfCommandsReachesTheCollector: a sandboxed read (a
// decision and a result) and a denied secret read, run by the agent,
// arrive at the real collector as each command ends, with the
// attributes docs/audit.md names and each record's exact line as body.
func TestOTLPExportOfCommandsReachesTheCollector(t *testing.T) {
	c := testenv.Start(t)
	ns := c.NewNamespace(t)
	col := testenv.NewCollector(t)
	col.Start(t)
	adminFiles(t, map[string]string{"config.yaml": otlpConfig(col, "http")})
	e := newAgentEnv(t)
	kc := e.give(c.Kubeconfig(t, testenv.UserAdmin))
	if r := e.agentctl("--agent", "bot", "--intent", "list config", "kubectl", "--kubeconfig", kc, "-n", ns, "get", "cm"); r.code != 0 {
		t.Fatalf("read: exit %d: %s", r.code, r.stderr)
	}
	if r := e.agentctl("--agent", "bot", "--intent", "peek", "kubectl", "--kubeconfig", kc, "-n", ns, "get", "secret", "db", "-o", "yaml"); r.code != 77 {
		t.Fatalf("secret read: exit %d, want 77: %s", r.code, r.stderr)
	}
	lines := e.auditLines()
	if len(lines) != 3 {
		t.Fatalf("%d local records, want 3", len(lines))
	}
	logs := col.WaitLogs(t, 3)
	want := []map[string]string{
		{"agentctl.kind": "decision", "agentctl.agent": "bot", "agentctl.intent": "list config", "agentctl.tool": "kubectl",
			"agentctl.class": "read", "agentctl.decision": "sandbox", "agentctl.target.namespace": ns,
			"agentctl.seq": "1", "agentctl.record.prev": strings.Repeat("0", 64), "agentctl.record.hash": sha(lines[0])},
		{"agentctl.kind": "result", "agentctl.agent": "bot", "agentctl.exit_code": "0", "agentctl.executed": "true",
			"agentctl.record.prev": sha(lines[0]), "agentctl.record.hash": sha(lines[1])},
		{"agentctl.kind": "decision", "agentctl.intent": "peek", "agentctl.class": "secret", "agentctl.decision": "deny",
			"agentctl.rule": "builtin:default.yaml:41", "agentctl.record.prev": sha(lines[1]), "agentctl.record.hash": sha(lines[2])},
	}
	for i, w := range want {
		for k, v := range w {
			if logs[i].Attrs[k] != v {
				t.Errorf("record %d: %s = %q, want %q", i+1, k, logs[i].Attrs[k], v)
			}
		}
		if logs[i].Body != lines[i] {
			t.Errorf("record %d: body %q, want the line %q", i+1, logs[i].Body, lines[i])
		}
	}
	if !strings.HasPrefix(logs[0].Attrs["agentctl.rule"], "builtin:") {
		t.Errorf("the read's rule %q", logs[0].Attrs["agentctl.rule"])
	}
	// The agent's first command is flagged (a target and a class it never
	// touched), so its decision is WARN; the result is INFO.
	if logs[2].SeverityText != "WARN" || logs[1].SeverityText != "INFO" || logs[0].SeverityText != "WARN" || logs[0].Attrs["agentctl.flags"] != "new-target,new-class" {
		t.Errorf("severities %q (flags %q), %q, %q; want WARN for the flagged read, INFO for its result, WARN for the denial",
			logs[0].SeverityText, logs[0].Attrs["agentctl.flags"], logs[1].SeverityText, logs[2].SeverityText)
	}
}

// TestOTLPExportCatchesUpAfterTheCollectorWasDown: with the collector
// stopped, 1,000 commands (a denied secret read each: one decision
// record, no cluster needed) run and are audited locally, none slowed
// by more than the export's bound; once the collector is back, `agentctl
// audit export` sends all 1,000, in order, each chaining from the one
// before, and the local chain verifies.
func TestOTLPExportCatchesUpAfterTheCollectorWasDown(t *testing.T) {
	col := testenv.NewCollector(t)
	col.Start(t)
	adminFiles(t, map[string]string{"config.yaml": otlpConfig(col, "grpc")})
	col.Stop()
	e := newEnv(t)
	const n = 1000
	var total, slowest time.Duration
	for i := range n {
		start := time.Now()
		r := e.agentctl("--intent", fmt.Sprintf("n-%d", i), "kubectl", "get", "secret", "db", "-o", "yaml")
		d := time.Since(start)
		total, slowest = total+d, max(slowest, d)
		if r.code != 77 {
			t.Fatalf("command %d: exit %d, want 77 (denied): %s", i, r.code, r.stderr)
		}
	}
	t.Logf("%d denied commands with the collector down: mean %s, slowest %s", n, total/n, slowest)
	if got := len(e.auditLines()); got != n {
		t.Fatalf("%d local records, want %d", got, n)
	}
	if got := len(col.Logs(t)); got != 0 {
		t.Fatalf("the stopped collector has %d records", got)
	}
	col.Start(t)
	r := e.agentctl("audit", "export")
	if r.code != 0 || !strings.HasPrefix(r.stdout, fmt.Sprintf("sent %d record(s) to otlp grpc %s, none pending", n, col.GRPC)) {
		t.Fatalf("audit export: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	logs := col.WaitLogs(t, n)
	if len(logs) != n {
		t.Fatalf("the collector has %d records, want %d (none twice)", len(logs), n)
	}
	prev := strings.Repeat("0", 64)
	for i, lr := range logs {
		if lr.Attrs["agentctl.intent"] != fmt.Sprintf("n-%d", i) || lr.Attrs["agentctl.record.prev"] != prev {
			t.Fatalf("record %d: intent %q prev %q, want n-%d chained from %q", i, lr.Attrs["agentctl.intent"], lr.Attrs["agentctl.record.prev"], i, prev)
		}
		prev = lr.Attrs["agentctl.record.hash"]
	}
	if r := e.agentctl("audit", "verify"); r.code != 0 {
		t.Fatalf("audit verify: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
}

// TestOTLPMisconfiguredExport: a setting that cannot work is one line
// and exit 78 before anything runs; a collector that is not where the
// config says does not stop commands: they run and are audited locally,
// and `agentctl audit export` says in one line that it could not send.
func TestOTLPMisconfiguredExport(t *testing.T) {
	for _, tc := range []struct{ name, otlp, want string }{
		{"protocol", "endpoint: 127.0.0.1:4317\n    protocol: udp", `audit.otlp: protocol "udp" is not grpc or http`},
		{"endpoint", "endpoint: collector", `audit.otlp: endpoint "collector" is not host:port`},
		{"plain text off loopback", "endpoint: siem.example:4317\n    insecure: true", `audit.otlp: otlp endpoint "siem.example:4317": insecure (plain text) is allowed only to a loopback address`},
		{"headers file", "endpoint: 127.0.0.1:4317\n    headersFile: /nonexistent/otlp-headers", `headersFile "/nonexistent/otlp-headers": open /nonexistent/otlp-headers: no such file or directory`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			adminFiles(t, map[string]string{"config.yaml": "audit:\n  otlp:\n    " + tc.otlp + "\n"})
			e := newEnv(t)
			r := e.agentctl("kubectl", "get", "secret", "db", "-o", "yaml")
			if r.code != 78 || !strings.Contains(r.stderr, tc.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
				t.Fatalf("exit %d, stderr %q; want 78 and one line with %q", r.code, r.stderr, tc.want)
			}
		})
	}
	t.Run("nothing listens there", func(t *testing.T) {
		col := testenv.NewCollector(t) // never started: its ports are free
		adminFiles(t, map[string]string{"config.yaml": otlpConfig(col, "grpc")})
		e := newEnv(t)
		for range 3 {
			if r := e.agentctl("kubectl", "get", "secret", "db", "-o", "yaml"); r.code != 77 || strings.Contains(r.stderr, "otlp") {
				t.Fatalf("exit %d, stderr %q; want the denial (77) and nothing of the export", r.code, r.stderr)
			}
		}
		if got := len(e.auditLines()); got != 3 {
			t.Fatalf("%d local records, want 3", got)
		}
		r := e.agentctl("audit", "export", "--timeout", "2s")
		if r.code != 1 || !strings.Contains(r.stderr, "sent 0 record(s), 3 still pending: otlp grpc "+col.GRPC) ||
			strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Fatalf("audit export: exit %d, stderr %q", r.code, r.stderr)
		}
	})
}

// TestOTLPExportByTheBroker: records left behind while the collector was
// down go out from a running `agentctl serve` once it is back, with no
// further command.
func TestOTLPExportByTheBroker(t *testing.T) {
	col := testenv.NewCollector(t)
	adminFiles(t, map[string]string{"config.yaml": otlpConfig(col, "grpc")})
	e := newEnv(t)
	for range 3 {
		if r := e.agentctl("kubectl", "get", "secret", "db", "-o", "yaml"); r.code != 77 {
			t.Fatalf("exit %d, want 77: %s", r.code, r.stderr)
		}
	}
	col.Start(t)
	startBroker(t, e)
	logs := col.WaitLogs(t, 3)
	if len(logs) != 3 || logs[2].Attrs["agentctl.seq"] != "3" {
		t.Fatalf("the collector has %d records, the last %v", len(logs), logs[len(logs)-1].Attrs)
	}
}
