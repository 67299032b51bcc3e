package cli

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/agentctl/agentctl/pkg/audit"
	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/request"
)

// reportFixture writes a log: bot's old read (8 days ago), two reads and
// a flagged denied delete in dev, and other's terraform plan.
func reportFixture(t *testing.T) string {
	t.Helper()
	path := t.TempDir() + "/audit.jsonl"
	l, err := audit.Open(path, audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	add := func(agent string, when time.Time, a *classify.Assessment, decision string, flags ...audit.Flag) {
		r := audit.NewDecision(audit.Self(), &request.Request{ID: request.NewID(), Time: when, Tool: a.Tool, Agent: agent}, a)
		r.Decision, r.Flags = decision, flags
		if err := l.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	kube := func(c classify.Class, ns string) *classify.Assessment {
		return &classify.Assessment{Tool: "kubectl", Class: c, Target: classify.Target{Server: "https://k8s:6443", Namespace: ns}}
	}
	now := time.Now()
	add("bot", now.AddDate(0, 0, -8), kube(classify.Read, "old"), "sandbox")
	add("bot", now.Add(-time.Hour), kube(classify.Read, "dev"), "sandbox", audit.Flag{Name: audit.FlagNewTarget})
	add("bot", now.Add(-time.Hour), kube(classify.Read, "dev"), "sandbox")
	add("bot", now, kube(classify.Destructive, "dev"), "deny", audit.Flag{Name: audit.FlagNewClass}, audit.Flag{Name: audit.FlagDenials})
	add("other", now, &classify.Assessment{Tool: "terraform", Class: classify.Read, Target: classify.Target{Dir: "/src/infra"}}, "sandbox")
	return path
}

func TestAuditReportJSON(t *testing.T) {
	path := reportFixture(t)
	code, out, errOut := runAudit(t, path, "report", "--output", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var doc struct {
		Since  time.Time
		Agents []audit.AgentReport
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(doc.Agents) != 2 || time.Since(doc.Since) < 7*24*time.Hour-time.Minute {
		t.Fatalf("report %+v, want two agents since 7 days ago", doc)
	}
	bot := doc.Agents[0]
	want := audit.AgentReport{Agent: "bot", Commands: 3, Classes: map[string]int{"read": 2, "destructive": 1}, Denials: 1,
		Flags:   map[string]int{"new-target": 1, "new-class": 1, "denials": 1},
		Targets: []string{"cluster https://k8s:6443", "namespace https://k8s:6443/dev"}}
	if b, w := mustJSON(bot), mustJSON(want); b != w {
		t.Errorf("bot:\n got %s\nwant %s (the 8-day-old read left out)", b, w)
	}
	if o := doc.Agents[1]; o.Agent != "other" || o.Commands != 1 || strings.Join(o.Targets, ",") != "workspace /src/infra:default" {
		t.Errorf("other: %+v", o)
	}
	// --since 9d takes the old read in.
	_, out, _ = runAudit(t, path, "report", "--since", "9d", "--output", "json")
	if !strings.Contains(out, `"commands":4`) || !strings.Contains(out, "/old") {
		t.Errorf("--since 9d: %s", out)
	}
}

func TestAuditReportTable(t *testing.T) {
	code, out, errOut := runAudit(t, reportFixture(t), "report", "--output", "table")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want a header and two agents:\n%s", len(lines), out)
	}
	for _, w := range []string{"AGENT", "COMMANDS", "BY CLASS", "DENIALS", "FLAGS", "TARGETS"} {
		if !strings.Contains(lines[0], w) {
			t.Errorf("header %q lacks %s", lines[0], w)
		}
	}
	for _, w := range []string{"bot", " 3 ", "read 2, destructive 1", " 1 ", "denials 1, new-class 1, new-target 1", "cluster https://k8s:6443, namespace https://k8s:6443/dev"} {
		if !strings.Contains(lines[1], w) {
			t.Errorf("bot's row %q lacks %q", lines[1], w)
		}
	}
	if !strings.HasPrefix(lines[2], "other") || !strings.Contains(lines[2], "read 1") || !strings.Contains(lines[2], "  -  ") {
		t.Errorf("other's row %q: want read 1 and no flags (-)", lines[2])
	}
	if code, _, errOut := runAudit(t, reportFixture(t), "report", "--since", "a week"); code != 2 || !strings.Contains(errOut, `invalid --since "a week"`) {
		t.Errorf("bad --since: exit %d: %s", code, errOut)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
