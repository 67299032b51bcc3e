package pipeline

import (
	"time"

	"github.com/agentctl/agentctl/pkg/audit"
	"github.com/agentctl/agentctl/pkg/policy"
)

// LogAuditor writes the pipeline's events to the audit log: a decision
// record before anything runs, a result record after. It serves one
// request at a time.
type LogAuditor struct {
	Log  *audit.Log
	Proc audit.Process // who runs agentctl (see audit.Self)
	last *audit.Record // the decision record of the current request
}

var _ Auditor = (*LogAuditor)(nil)

func (a *LogAuditor) Decision(ev *Event) error {
	rec := audit.NewDecision(a.Proc, ev.Req, ev.Assessment)
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
	rec.Flags = ev.Check.ForRecord(rec.Decision == "deny")
	if c := ev.Cover; c != nil {
		rec.Grant, rec.BreakGlass = c.Grant, c.BreakGlass
		if c.BreakGlass != "" {
			// Loud: a flagged record is a warning in syslog and OTLP.
			rec.Flags = append(rec.Flags, audit.Flag{Name: audit.FlagBreakGlass, Detail: c.BreakGlass + ": " + c.Reason})
		}
	}
	a.last = rec
	return a.Log.Append(rec)
}

func (a *LogAuditor) Result(ev *Event) error {
	d := a.last
	if d == nil {
		d = audit.NewDecision(a.Proc, ev.Req, ev.Assessment)
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
	return a.Log.Append(rec)
}

// Observer is told how each command ended, for the rate limit and the
// lockout (see policy.Engine.Observe).
type Observer interface {
	Observe(in *policy.Input, d policy.Decision, executed bool) error
}

// ObservingAuditor tells the policy engine how each command ended (for the
// rate limit and the lockout) after the audit log has recorded it.
type ObservingAuditor struct {
	Auditor
	Engine         Observer
	NonInteractive bool
	// Warn reports an outcome the engine could not record; the command
	// is not failed for it.
	Warn func(error)
}

func (o *ObservingAuditor) input(ev *Event) *policy.Input {
	return &policy.Input{Assessment: ev.Assessment, Agent: ev.Req.Agent, Intent: ev.Req.Intent, Cwd: ev.Req.Cwd, NonInteractive: o.NonInteractive}
}

// Decision records the decision, then counts a denial as a strike.
func (o *ObservingAuditor) Decision(ev *Event) error {
	if err := o.Auditor.Decision(ev); err != nil {
		return err
	}
	// A command the tool itself rejects (a typo) is no strike.
	if ev.Decision.Rule == RuleToolRejects {
		return nil
	}
	if ev.Decision.Action == policy.Deny || ev.Answer != nil && !ev.Answer.Approved {
		final := ev.Decision
		final.Action = policy.Deny
		if err := o.Engine.Observe(o.input(ev), final, false); err != nil {
			o.Warn(err)
		}
	}
	return nil
}

// Result records the result, then tells the engine the command ran.
func (o *ObservingAuditor) Result(ev *Event) error {
	err := o.Auditor.Result(ev)
	if ev.Executed {
		if oerr := o.Engine.Observe(o.input(ev), ev.Decision, true); oerr != nil {
			o.Warn(oerr)
		}
	}
	return err
}
