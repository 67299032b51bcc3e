package pipeline

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentctl/agentctl/pkg/audit"
	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/policy"
	"github.com/agentctl/agentctl/pkg/request"
	"github.com/agentctl/agentctl/pkg/run"
)

// TestFlagsReachPolicyAndRecord: the flags a real tracker computes over
// a real log reach the decider and the decision record; a summary that
// does not parse denies changes (rule agentctl:flags, with the hint) and
// lets reads run.
func TestFlagsReachPolicyAndRecord(t *testing.T) {
	dir := t.TempDir()
	l, err := audit.Open(filepath.Join(dir, "audit.jsonl"), audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	tr := &audit.Tracker{Log: l.Path(), State: filepath.Join(dir, "flags-state.json"), Config: audit.DefaultFlagConfig()}
	var seen []string
	mk := func(c classify.Class) (*Pipeline, *fakeExecutor) {
		ex := &fakeExecutor{}
		return &Pipeline{
			Classifiers: map[string]Classifier{"kubectl": fakeClassifier{a: &classify.Assessment{Tool: "kubectl", Class: c}}},
			Decider: DeciderFunc(func(_ context.Context, in *policy.Input) (policy.Decision, error) {
				seen = in.Flags
				return policy.Decision{Action: policy.Allow, Rule: "r"}, nil
			}),
			Auditor:  &LogAuditor{Log: l},
			Executor: ex,
			Flags:    tr,
		}, ex
	}
	req := &request.Request{ID: "1", Tool: "kubectl", Agent: "bot"}
	p, _ := mk(classify.Write)
	if _, err := p.Run(context.Background(), req, run.Stdio{}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(l.Path())
	if strings.Join(seen, ",") != "new-class" || !strings.Contains(string(b), `"flags":[{"flag":"new-class","detail":"class write"}]`) {
		t.Fatalf("policy saw %v; log:\n%s", seen, b)
	}
	if _, err := p.Run(context.Background(), req, run.Stdio{}); err != nil || len(seen) != 0 {
		t.Fatalf("second write: %v, flags %v; want none", err, seen)
	}

	os.WriteFile(tr.State, []byte("{torn"), 0o600)
	_, err = p.Run(context.Background(), req, run.Stdio{})
	var de *DeniedError
	if !errors.As(err, &de) || de.Decision.Rule != RuleFlags || !strings.Contains(de.Message, "hint: a human may remove it") {
		t.Fatalf("a change with a corrupt summary: %v, want a denial by %s with the hint", err, RuleFlags)
	}
	rp, ex := mk(classify.Read)
	if _, err := rp.Run(context.Background(), req, run.Stdio{}); err != nil || ex.ran != 1 {
		t.Fatalf("a read with a corrupt summary: %v, ran %d; want it run", err, ex.ran)
	}
}
