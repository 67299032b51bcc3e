package pipeline

import (
	"context"
	"errors"
	"time"

	"github.com/agentctl/agentctl/pkg/audit"
	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/converge"
)

// Convergence configures the check that follows a change that ran (see
// package converge): agentctl waits, up to Timeout, for what the change
// set to be there and healthy, and audits the result in a convergence
// record linked to the request. The check never changes the exit code:
// a change that ran and did not converge is reported, not failed.
type Convergence struct {
	// Timeout bounds the wait; 0 turns the check off.
	Timeout time.Duration
	// Interval between polls (0: one second).
	Interval time.Duration
	// Cluster opens a reader of the cluster an assessed kubectl command
	// targets, as the read identity (see run.LocalExecutor.ClusterReader).
	Cluster func(ctx context.Context, a *classify.Assessment) (converge.Source, func(), error)
	// Drift, when set, checks an applied terraform plan: a sandboxed
	// refresh-only plan (see run.LocalExecutor.TerraformDrift).
	Drift func(ctx context.Context, a *classify.Assessment) (*converge.Report, error)
	// Progress, when set, is told the results after each poll.
	Progress func(results []converge.Result, elapsed time.Duration)
	// Done, when set, is told the final report.
	Done func(rep *converge.Report)
}

// ConvergenceAuditor is an [Auditor] that records convergence checks.
type ConvergenceAuditor interface {
	Convergence(ev *Event, rep *converge.Report) error
}

// pending is the check of one change, prepared before it runs.
type pending struct {
	rep   *converge.Report
	src   converge.Source
	close func()
	tf    bool
}

// prepare builds the check of a change about to run: its intents, and
// for a delete what exists before it. Nil when the command changes
// nothing to check or the check is off. A failure to read the cluster
// now does not stop the change: it is the report's error.
func (c *Convergence) prepare(ctx context.Context, a *classify.Assessment) *pending {
	if c == nil || c.Timeout <= 0 || a == nil || a.DryRun || a.Class == classify.Read {
		return nil
	}
	rep := &converge.Report{Tool: a.Tool, Timeout: c.Timeout.String()}
	switch a.Tool {
	case "terraform", "tofu":
		if c.Drift == nil || a.Plan == nil || a.Subcommand != "apply" {
			return nil
		}
		return &pending{rep: rep, tf: true}
	case "kubectl":
	default:
		return nil
	}
	intents, notes, err := converge.FromAssessment(a)
	rep.Notes = notes
	if err == nil && len(intents) == 0 {
		return nil
	}
	p := &pending{rep: rep, close: func() {}}
	if err != nil {
		rep.Error = "cannot read what the change sets: " + err.Error()
		return p
	}
	rep.Intents = intents
	if c.Cluster == nil {
		rep.Error = "no cluster reader configured"
		return p
	}
	src, closeFn, err := c.Cluster(ctx, a)
	if err != nil {
		rep.Error = "cannot read the cluster: " + err.Error()
		return p
	}
	p.src, p.close = src, closeFn
	for i := range rep.Intents {
		if rep.Intents[i].Op != converge.OpDelete {
			continue
		}
		if err := converge.Snapshot(ctx, src, &rep.Intents[i]); err != nil {
			rep.Notes = append(rep.Notes, "cannot list "+rep.Intents[i].Ref.String()+"'s dependents before the delete: "+err.Error())
		}
	}
	return p
}

// wait runs the check after the change ran.
func (c *Convergence) wait(ctx context.Context, a *classify.Assessment, p *pending) *converge.Report {
	start := time.Now()
	rep := p.rep
	defer func() { rep.DurationMS = float64(time.Since(start).Microseconds()) / 1000 }()
	if p.tf {
		tctx, cancel := context.WithTimeout(ctx, c.Timeout)
		defer cancel()
		got, err := c.Drift(tctx, a)
		if err != nil {
			rep.State, rep.Error = converge.Error, "cannot check for drift: "+err.Error()
			return rep
		}
		got.Tool, got.Timeout = rep.Tool, rep.Timeout
		rep = got
		return rep
	}
	if rep.Error != "" || p.src == nil {
		rep.State = converge.Error
		return rep
	}
	w := &converge.Waiter{Source: p.src, Timeout: c.Timeout, Interval: c.Interval, Progress: c.Progress}
	results, err := w.Wait(ctx, rep.Intents)
	rep.Results = results
	rep.State = converge.Overall(results)
	var ue *converge.UnreachableError
	switch {
	case errors.Is(err, converge.ErrTimeout):
		rep.Error = "still progressing after " + c.Timeout.String()
	case errors.As(err, &ue):
		rep.State, rep.Error = converge.Error, ue.Error()
	case err != nil:
		rep.State, rep.Error = converge.Error, "interrupted: "+err.Error()
	}
	return rep
}

// Convergence writes the convergence record of the current request.
func (a *LogAuditor) Convergence(ev *Event, rep *converge.Report) error {
	d := a.last
	if d == nil {
		d = audit.NewDecision(a.Proc, ev.Req, ev.Assessment)
	}
	return a.Log.Append(audit.NewConvergence(d, rep, time.Now().UTC()))
}

// Convergence forwards to the wrapped auditor when it records them.
func (o *ObservingAuditor) Convergence(ev *Event, rep *converge.Report) error {
	if ca, ok := o.Auditor.(ConvergenceAuditor); ok {
		return ca.Convergence(ev, rep)
	}
	return nil
}

var (
	_ ConvergenceAuditor = (*LogAuditor)(nil)
	_ ConvergenceAuditor = (*ObservingAuditor)(nil)
)
