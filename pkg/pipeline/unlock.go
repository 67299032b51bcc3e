package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/agentctl/agentctl/pkg/approve"
	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/policy"
	"github.com/agentctl/agentctl/pkg/request"
)

// Unlock is one request to lift an agent's lockout (`agentctl unlock`).
type Unlock struct {
	Approver approve.Approver
	Auditor  Auditor
	Req      *request.Request
	Agent    string          // the locked agent's name (policy.AgentName)
	Lockout  *policy.Lockout // what holds it
	Timeout  time.Duration   // how long the human may take
}

// ApproveUnlock asks a human to lift an agent's lockout and audits the
// answer; an error (a *DeniedError when not approved, an *AuditError when
// the answer could not be recorded) means no. The unlock is a privilege
// change that only a human may approve: no policy decides it.
func ApproveUnlock(ctx context.Context, u Unlock) error {
	req, l := u.Req, u.Lockout
	why := fmt.Sprintf("lifts the lockout of agent %q: %d denials within %s since %s, the last by rule %s",
		u.Agent, l.Denials, l.Window, l.At.Local().Format("15:04:05"), l.LastRule)
	if l.Flag != "" {
		why = fmt.Sprintf("lifts the lockout of agent %q since %s: it raised flag %s, which the policy turns into a lockout", u.Agent, l.At.Local().Format("15:04:05"), l.Flag)
	}
	a := &classify.Assessment{Tool: "agentctl", Subcommand: "unlock", Class: classify.Privilege,
		Exec:    classify.Invocation{Args: req.Args},
		Reasons: []classify.Reason{{Class: classify.Privilege, Message: why}}}
	d := policy.Decision{Action: policy.Approve, Rule: policy.RuleLockout, Confirm: true,
		Message: "the agent was stopped after repeated denials; only a human lets it change things again"}
	actx, cancel := context.WithTimeout(ctx, u.Timeout)
	defer cancel()
	ar := &approve.Request{Req: req, Assessment: a, Decision: d, Expires: time.Now().Add(u.Timeout)}
	ar.Hash = approve.HashOf(ar)
	hash := ar.Hash
	ans, aerr := u.Approver.Approve(actx, ar)
	if aerr != nil && ans.Reason == "" {
		ans.Reason = "approval failed: " + aerr.Error()
	}
	if err := u.Auditor.Decision(&Event{Req: req, Assessment: a, Decision: d, Answer: &ans, ApprovalHash: hash}); err != nil {
		return &AuditError{Err: err}
	}
	if !ans.Approved || aerr != nil {
		msg := "not approved"
		if ans.Reason != "" {
			msg += ": " + ans.Reason
		}
		d.Action = policy.Deny
		return &DeniedError{Assessment: a, Decision: d, Answer: &ans, Message: msg}
	}
	return nil
}
