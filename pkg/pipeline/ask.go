package pipeline

import (
	"context"
	"time"

	"github.com/agentctl/agentctl/pkg/approve"
	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/policy"
	"github.com/agentctl/agentctl/pkg/request"
)

// Ask is one question to a human about agentctl itself rather than a
// wrapped command (`agentctl grant`): no policy decides it, the approver
// answers it as it answers a command, and the answer is audited.
type Ask struct {
	Approver   approve.Approver
	Auditor    Auditor
	Req        *request.Request
	Assessment *classify.Assessment
	Decision   policy.Decision // Action approve; Rule names the question
	Timeout    time.Duration
}

// AskHuman asks and audits the answer. It returns the answer and the
// hash it was bound to; an error (a *DeniedError when not approved, an
// *AuditError when the answer could not be recorded) means no.
func AskHuman(ctx context.Context, q Ask) (approve.Answer, string, error) {
	actx, cancel := context.WithTimeout(ctx, q.Timeout)
	defer cancel()
	ar := &approve.Request{Req: q.Req, Assessment: q.Assessment, Decision: q.Decision, Expires: time.Now().Add(q.Timeout)}
	ar.Hash = approve.HashOf(ar)
	ap := q.Approver
	if ap == nil {
		ap = approve.None{}
	}
	ans, aerr := ap.Approve(actx, ar)
	if aerr != nil {
		ans.Approved = false
		if ans.Reason == "" {
			ans.Reason = "approval failed: " + aerr.Error()
		}
		if actx.Err() != nil && ctx.Err() == nil {
			ans.Reason = "approval timed out"
		}
	}
	if err := q.Auditor.Decision(&Event{Req: q.Req, Assessment: q.Assessment, Decision: q.Decision, Answer: &ans, ApprovalHash: ar.Hash}); err != nil {
		return ans, ar.Hash, &AuditError{Err: err}
	}
	if !ans.Approved {
		msg := "not approved"
		if ans.Reason != "" {
			msg += ": " + ans.Reason
		}
		d := q.Decision
		d.Action = policy.Deny
		return ans, ar.Hash, &DeniedError{RequestID: q.Req.ID, ApprovalHash: ar.Hash, Assessment: q.Assessment, Decision: d, Answer: &ans, Message: msg}
	}
	return ans, ar.Hash, nil
}
