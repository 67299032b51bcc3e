package pipeline

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/agentctl/agentctl/pkg/approve"
	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/policy"
	"github.com/agentctl/agentctl/pkg/request"
)

func TestApproveUnlock(t *testing.T) {
	lock := &policy.Lockout{Denials: 5, Window: "10m0s", At: time.Now(), LastRule: "builtin:default.yaml:60"}
	tests := []struct {
		name     string
		approver approve.Approver
		want     string // "" when lifted
	}{
		{"approved: lifted", fakeApprover{ans: approve.Answer{Approved: true, Channel: "tty"}}, ""},
		{"refused with a reason", fakeApprover{ans: approve.Answer{Channel: "tty", Reason: "not now"}}, "not approved: not now"},
		{"an approver that fails lifts nothing", fakeApprover{err: errors.New("terminal closed")}, "not approved: approval failed: terminal closed"},
		{"nobody to ask", approve.None{}, "not approved"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			au := &fakeAuditor{}
			req := &request.Request{ID: "r1", Tool: "agentctl", Args: []string{"unlock", "--agent", "bot"}}
			err := ApproveUnlock(context.Background(), Unlock{Approver: tt.approver, Auditor: au, Req: req, Agent: "bot", Lockout: lock, Timeout: time.Minute})
			if len(au.decisions) != 1 {
				t.Fatalf("%d decision records, want exactly 1", len(au.decisions))
			}
			if ev := au.decisions[0]; ev.Assessment.Class != classify.Privilege || ev.Decision.Rule != policy.RuleLockout || ev.ApprovalHash == "" {
				t.Errorf("recorded %+v, want a privilege request under %s with its approval hash", ev, policy.RuleLockout)
			}
			if tt.want == "" {
				if err != nil {
					t.Errorf("err = %v, want the lockout lifted", err)
				}
				return
			}
			var denied *DeniedError
			if !errors.As(err, &denied) || !strings.Contains(err.Error(), tt.want) || denied.Decision.Action != policy.Deny {
				t.Errorf("err = %v, want a *DeniedError saying %q", err, tt.want)
			}
		})
	}
}
