package cli

import (
	"time"

	"github.com/agentctl/agentctl/pkg/audit"
	"github.com/agentctl/agentctl/pkg/pipeline"
	"github.com/agentctl/agentctl/pkg/policy"
)

// auditor writes the pipeline's events to the audit log: a decision record
// before anything runs, a result record after.
type auditor struct {
	log  *audit.Log
	proc audit.Process
	last *audit.Record // the decision record of the current request
}

var _ pipeline.Auditor = (*auditor)(nil)

func (a *auditor) Decision(ev *pipeline.Event) error {
	rec := audit.NewDecision(a.proc, ev.Req, ev.Assessment)
	rec.Decision = string(ev.Decision.Action)
	rec.Rule = ev.Decision.Rule
	rec.Reason = ev.Decision.Message
	rec.ApprovalHash = ev.ApprovalHash
	if ev.Answer != nil {
		rec.Channel = ev.Answer.Channel
		rec.DecideMS = float64(ev.Answer.Latency.Microseconds()) / 1000
		rec.Approver = ev.Answer.Approver
		rec.Approval = "denied"
		if ev.Answer.Approved {
			rec.Approval = "approved"
		}
		if ev.Answer.Reason != "" {
			rec.Reason = ev.Answer.Reason
		}
	}
	if ev.Answer != nil && !ev.Answer.Approved || ev.Decision.Action == policy.Deny {
		rec.Decision = "deny"
	}
	a.last = rec
	return a.log.Append(rec)
}

func (a *auditor) Result(ev *pipeline.Event) error {
	d := a.last
	if d == nil {
		d = audit.NewDecision(a.proc, ev.Req, ev.Assessment)
	}
	rec := audit.NewResult(d, time.Now().UTC())
	rec.Executed = ev.Executed
	rec.DurationMS = float64(ev.Duration.Microseconds()) / 1000
	rec.Error = ev.ErrorText
	if ev.Exec != nil {
		rec.SetExit(ev.Exec.ExitCode)
		rec.Sandbox = ev.Exec.Sandbox
		rec.Identity = ev.Exec.Identity
		rec.Leases = ev.Exec.LeaseID
		rec.OutputBytes = ev.Exec.OutputBytes
		rec.Redactions = ev.Exec.Redactions
		rec.Redacted = len(ev.Exec.Redactions) > 0
	}
	return a.log.Append(rec)
}
