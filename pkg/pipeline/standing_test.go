package pipeline

import (
	"context"
	"errors"
	"testing"

	"github.com/agentctl/agentctl/pkg/approve"
	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/policy"
	"github.com/agentctl/agentctl/pkg/request"
	"github.com/agentctl/agentctl/pkg/run"
)

type fakeStanding struct {
	cov   *Cover
	err   error
	asked int
}

func (f *fakeStanding) Cover(*Event) (*Cover, error) { f.asked++; return f.cov, f.err }

func TestStandingReplacesTheHumanOnlyForApprove(t *testing.T) {
	del := &classify.Assessment{Tool: "kubectl", Class: classify.Destructive, Exec: classify.Invocation{Args: []string{"delete", "cm", "x"}}}
	grant := &Cover{Grant: "g-1", Approver: "alice"}
	for _, tc := range []struct {
		name     string
		decision policy.Action
		st       *fakeStanding
		wantRan  bool
		wantChan string
	}{
		{"a grant approves in place of the human, non-interactive", policy.Approve, &fakeStanding{cov: grant}, true, "grant"},
		{"break-glass approves, channel break-glass", policy.Approve, &fakeStanding{cov: &Cover{BreakGlass: "bg-1", Reason: "outage"}}, true, "break-glass"},
		{"no grant covers it: the human is asked (none: denied)", policy.Approve, &fakeStanding{}, false, "none"},
		{"grants that cannot be read: the human is asked", policy.Approve, &fakeStanding{err: errors.New("corrupt")}, false, "none"},
		{"a policy deny is never asked about", policy.Deny, &fakeStanding{cov: grant}, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, au, ex := pipelineWith(del, nil, tc.decision, fakeApprover{ans: approve.Answer{Approved: true, Channel: "tty"}})
			p.NonInteractive = true
			p.Standing = tc.st
			_, err := p.Run(context.Background(), &request.Request{ID: "r1", Tool: "kubectl", Args: []string{"delete", "cm", "x"}}, run.Stdio{})
			if ran := ex.ran == 1; ran != tc.wantRan {
				t.Fatalf("ran = %v (err %v), want %v", ran, err, tc.wantRan)
			}
			if tc.decision == policy.Deny && tc.st.asked != 0 {
				t.Fatal("the standing approvals were asked about a deny")
			}
			ev := au.decisions[0]
			if tc.wantChan != "" && (ev.Answer == nil || ev.Answer.Channel != tc.wantChan) {
				t.Fatalf("answer = %+v, want channel %q", ev.Answer, tc.wantChan)
			}
			if tc.wantRan && (ev.Cover != tc.st.cov || ev.ApprovalHash == "") {
				t.Fatalf("decision event: cover %+v hash %q", ev.Cover, ev.ApprovalHash)
			}
		})
	}
}
