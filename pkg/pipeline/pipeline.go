// Package pipeline is agentctl's one conductor: it drives one request
// through the stages in order,
//
//	assess (classify, pin) → decide → approve → audit (decision)
//	  → credentials, execute, redact (the executor) → audit (result)
//
// and nothing else does. The one-shot CLI and the broker's workers are
// faces that build a [Config], wire it with [New] and call [Pipeline.Run];
// package run only executes what the conductor hands it.
//
// Each stage is an interface, so the faces wire real implementations and
// tests wire fakes where the behaviour is pure logic. A stage that fails
// stops the pipeline before anything runs: the command is refused (fail
// closed), never run half-checked.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/agentctl/agentctl/pkg/approve"
	"github.com/agentctl/agentctl/pkg/audit"
	"github.com/agentctl/agentctl/pkg/boot"
	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/policy"
	"github.com/agentctl/agentctl/pkg/request"
	"github.com/agentctl/agentctl/pkg/run"
)

// Classifier assesses a request of one tool.
type Classifier interface {
	Classify(ctx context.Context, req *request.Request) (*classify.Assessment, error)
}

// Decider applies the policy.
type Decider interface {
	Decide(ctx context.Context, in *policy.Input) (policy.Decision, error)
}

// DeciderFunc adapts a function to [Decider].
type DeciderFunc func(ctx context.Context, in *policy.Input) (policy.Decision, error)

// Decide implements [Decider].
func (f DeciderFunc) Decide(ctx context.Context, in *policy.Input) (policy.Decision, error) {
	return f(ctx, in)
}

// Event is what the pipeline reports to the audit stage.
type Event struct {
	Req        *request.Request
	Assessment *classify.Assessment
	Decision   policy.Decision
	Answer     *approve.Answer
	// ApprovalHash is the hash the approval was bound to (see approve.HashOf).
	ApprovalHash string
	// Check is what the behavioural flags found before the decision (nil
	// when they are off or the command was not assessed).
	Check *audit.Check
	// Result fields, set on the result event only.
	Executed  bool
	ExitCode  int
	Duration  time.Duration
	Exec      *run.ExecReport
	ErrorText string
	// Cover is the grant or break-glass that approved the request in
	// place of a human's answer (nil when a human answered or none was
	// asked).
	Cover *Cover
}

// Standing answers an approve decision without asking anyone: with a
// time-boxed grant or a break-glass that humans gave beforehand (see
// package grant). It never turns a deny into anything else: the pipeline
// asks it about approve decisions only.
type Standing interface {
	// Cover returns what covers the request, nil when nothing does. An
	// error is treated as nothing: the human is asked.
	Cover(ev *Event) (*Cover, error)
}

// Cover is the standing approval that let a request through.
type Cover struct {
	Grant      string // the grant's id, or
	BreakGlass string // the break-glass's id
	// Approver is who approved the grant (or signed the break-glass).
	Approver string
	// Reason is the break-glass's reason, or what the grant covers.
	Reason string
}

// Channel is the audit record's channel: "grant" or "break-glass".
func (c *Cover) Channel() string {
	if c.BreakGlass != "" {
		return "break-glass"
	}
	return "grant"
}

// Auditor records events. Decision must be durable before it returns: if
// it fails, the command does not run.
type Auditor interface {
	Decision(ev *Event) error
	Result(ev *Event) error
}

// Flagger computes the behavioural flags of a command before it is
// decided (see audit.Tracker).
type Flagger interface {
	Check(agent string, a *classify.Assessment) (*audit.Check, error)
}

var _ Flagger = (*audit.Tracker)(nil)

// RuleFlags names the denial of a command other than a read when the
// flags' state cannot be read: fail closed, as with the lockout state.
const RuleFlags = "agentctl:flags"

// Executor runs an assessed, decided command: it acquires its
// credentials, runs it (reads in the sandbox) and redacts what goes back
// (see [run.LocalExecutor]).
type Executor interface {
	Execute(ctx context.Context, a *classify.Assessment, d policy.Decision, stdio run.Stdio) (*run.ExecReport, error)
}

var _ Executor = (*run.LocalExecutor)(nil)

// RuleUnassessable names the decision on a command the classifier refused
// (see classify.Assessment.Refused).
const RuleUnassessable = "agentctl:unassessable"

// RuleToolRejects names the decision on a command the wrapped tool itself
// would reject before doing anything (see classify.Assessment.ToolError).
// Such a denial is a mistake, not an attempt: it does not count towards
// the lockout.
const RuleToolRejects = "agentctl:tool-rejects"

// Pipeline is one configured pipeline.
type Pipeline struct {
	Classifiers map[string]Classifier
	Decider     Decider
	// Approver is asked for approve decisions. Nil means none: denied.
	Approver       approve.Approver
	Auditor        Auditor
	Executor       Executor
	NonInteractive bool
	// Preview, when set, computes what the approver is shown of the
	// change: the diff (a server-side dry run, a rendered plan) and, for a
	// delete, what it matches now. It runs reads only and changes nothing
	// that runs. Errors are shown, not fatal.
	Preview func(ctx context.Context, a *classify.Assessment) (run.Preview, error)
	// Cleanup, when set, is called with every assessment once the request
	// is over (ran, denied or failed): it removes what classifying made,
	// such as terraform plan files.
	Cleanup func(a *classify.Assessment)
	// Pin, when set, fixes the assessment's inputs before anything is
	// decided (see run.PinKubeconfig).
	Pin func(a *classify.Assessment) error
	// ApprovalTimeout bounds how long a human may take (0: 5 minutes).
	ApprovalTimeout time.Duration
	// Flags, when set, computes the behavioural flags the policy sees and
	// the decision record carries.
	Flags Flagger
	// Convergence, when set, checks each change that ran against what
	// is there afterwards.
	Convergence *Convergence
	// Standing, when set, is asked before the approver about every
	// approve decision: a grant or break-glass that covers the request
	// approves it, non-interactive or not.
	Standing Standing
	// Prestart, when set, starts the executor's sandbox child while a
	// command that is likely a sandboxed read (boot.Prestartable) is
	// classified and decided, and releases it when the request is over.
	Prestart bool
}

// prestarter is an executor that can start its sandbox child early (see
// run.LocalExecutor.Prestart).
type prestarter interface {
	Prestart()
	ReleasePrestart()
}

var _ prestarter = (*run.LocalExecutor)(nil)

// Assess classifies a request and applies the policy, without running
// anything. It is what `agentctl explain` shows.
func (p *Pipeline) Assess(ctx context.Context, req *request.Request) (*classify.Assessment, policy.Decision, error) {
	a, d, _, err := p.assess(ctx, req)
	return a, d, err
}

func (p *Pipeline) assess(ctx context.Context, req *request.Request) (*classify.Assessment, policy.Decision, *audit.Check, error) {
	c, ok := p.Classifiers[req.Tool]
	if !ok {
		return nil, policy.Decision{}, nil, fmt.Errorf("unsupported tool %q", req.Tool)
	}
	a, err := c.Classify(ctx, req)
	if err != nil {
		return nil, policy.Decision{}, nil, err
	}
	if p.Pin != nil {
		if err := p.Pin(a); err != nil {
			return nil, policy.Decision{}, nil, err
		}
	}
	var (
		chk  *audit.Check
		ferr error
	)
	if p.Flags != nil && a.Refused == "" && a.ToolError == nil {
		chk, ferr = p.Flags.Check(req.Agent, a)
	}
	d, err := p.Decider.Decide(ctx, &policy.Input{
		Assessment:     a,
		Agent:          req.Agent,
		Intent:         req.Intent,
		Cwd:            req.Cwd,
		NonInteractive: p.NonInteractive,
		Flags:          chk.Names(),
	})
	if err != nil {
		return a, policy.Decision{}, nil, err
	}
	a.Target.Env = d.Env
	switch {
	case ferr != nil && a.Class != classify.Read:
		// Fail closed, as a lockout state that cannot be read does.
		msg := "cannot compute the behavioural flags, so only reads run: " + ferr.Error()
		var h interface{ Hint() string }
		if errors.As(ferr, &h) {
			msg += "\nhint: " + h.Hint()
		}
		d = policy.Decision{Action: policy.Deny, Rule: RuleFlags, Message: msg, Env: d.Env}
	case a.ToolError != nil:
		d = policy.Decision{Action: policy.Deny, Rule: RuleToolRejects, Message: a.Refused, Env: d.Env}
	case a.Refused != "":
		// No policy can run what was not assessed.
		d = policy.Decision{Action: policy.Deny, Rule: RuleUnassessable, Message: a.Refused, Env: d.Env}
	}
	return a, d, chk, nil
}

// Run takes a request through the whole pipeline. It returns the wrapped
// tool's exit code when the command ran, or an error: *DeniedError when
// policy or the approver refused, another error when a stage failed.
func (p *Pipeline) Run(ctx context.Context, req *request.Request, stdio run.Stdio) (int, error) {
	if ex, ok := p.Executor.(prestarter); ok && p.Prestart && boot.Prestartable(req.Tool, req.Args) {
		// Most commands are sandboxed reads: start the sandbox child now,
		// while the command is classified and decided.
		ex.Prestart()
		defer ex.ReleasePrestart()
	}
	a, d, chk, err := p.assess(ctx, req)
	if a != nil && p.Cleanup != nil {
		defer p.Cleanup(a)
	}
	if err != nil {
		// Nothing runs; the refusal is a decision too and is audited.
		// When even that record cannot be written, the original error
		// is still the one the user must act on.
		p.Auditor.Decision(&Event{Req: req, Assessment: a, Decision: policy.Decision{Action: policy.Deny, Rule: "agentctl", Message: err.Error()}})
		return 0, err
	}
	ev := &Event{Req: req, Assessment: a, Decision: d, Check: chk}

	switch d.Action {
	case policy.Allow, policy.Sandbox:
	case policy.Deny:
		return 0, p.deny(ev, d.Message)
	case policy.Approve:
		if cov := p.cover(ev); cov != nil {
			ev.Cover = cov
			ev.Answer = &approve.Answer{Approved: true, Channel: cov.Channel(), Approver: cov.Approver, Reason: cov.Reason}
			break
		}
		ans, err := p.approve(ctx, ev)
		if err != nil {
			// An approver that fails (a closed terminal, an interrupt, an
			// inbox that went away) approves nothing; the refusal is
			// audited like any other.
			why := "approval failed: " + err.Error()
			if ctx.Err() != nil {
				why = "interrupted while waiting for approval"
			}
			ans = approve.Answer{Approved: false, Channel: ans.Channel, Reason: why}
		}
		ev.Answer = &ans
		if !ans.Approved {
			msg := "not approved"
			if ans.Reason != "" {
				msg = "not approved: " + ans.Reason
			}
			return 0, p.deny(ev, msg)
		}
	default:
		return 0, fmt.Errorf("policy returned unknown decision %q", d.Action)
	}

	if err := p.Auditor.Decision(ev); err != nil {
		return 0, &AuditError{Err: err}
	}
	check := p.Convergence.prepare(ctx, a)
	if check != nil && check.close != nil {
		defer check.close()
	}
	start := time.Now()
	rep, err := p.Executor.Execute(ctx, a, d, stdio)
	ev.Executed = err == nil
	ev.Duration = time.Since(start)
	ev.Exec = rep
	if rep != nil {
		ev.ExitCode = rep.ExitCode
	}
	if err != nil {
		ev.ErrorText = err.Error()
	}
	if aerr := p.Auditor.Result(ev); aerr != nil && err == nil {
		// The command ran; its result could not be recorded. Say so,
		// but keep the tool's exit code visible.
		return ev.ExitCode, &AuditError{Err: aerr, After: true}
	}
	if err != nil {
		return 0, err
	}
	if check != nil && rep.ExitCode == 0 {
		// The change is audited as applied; now see where it stands.
		crep := p.Convergence.wait(ctx, a, check)
		if p.Convergence.Done != nil {
			p.Convergence.Done(crep)
		}
		if ca, ok := p.Auditor.(ConvergenceAuditor); ok {
			if aerr := ca.Convergence(ev, crep); aerr != nil {
				return rep.ExitCode, &AuditError{Err: aerr, After: true}
			}
		}
	}
	return rep.ExitCode, nil
}

// cover is the grant or break-glass that answers ev, nil when none does
// (or when it cannot be read: then a human is asked, as without one).
func (p *Pipeline) cover(ev *Event) *Cover {
	if p.Standing == nil {
		return nil
	}
	cov, err := p.Standing.Cover(ev)
	if err != nil {
		return nil
	}
	if cov != nil {
		// What was covered is recorded as a human's answer would be:
		// bound to exactly what runs (no diff: nobody was shown one).
		ev.ApprovalHash = approve.HashOf(&approve.Request{Req: ev.Req, Assessment: ev.Assessment, Decision: ev.Decision})
	}
	return cov
}

func (p *Pipeline) approve(ctx context.Context, ev *Event) (approve.Answer, error) {
	ap := p.Approver
	if u, ok := ap.(interface{ Unattended() approve.Approver }); ok && p.NonInteractive {
		// An approver that needs no human (a signed proposal bundle)
		// still answers when nobody can be asked.
		ap = u.Unattended()
	} else if ap == nil || p.NonInteractive {
		ap = approve.None{}
	}
	timeout := p.ApprovalTimeout
	if timeout == 0 {
		timeout = 5 * time.Minute
	}
	ar := &approve.Request{
		Req:        ev.Req,
		Assessment: ev.Assessment,
		Decision:   ev.Decision,
		Expires:    time.Now().Add(timeout),
	}
	if _, none := ap.(approve.None); !none && p.Preview != nil {
		pv, err := p.Preview(ctx, ev.Assessment)
		if err != nil {
			pv = run.Preview{Diff: "cannot compute the change: " + err.Error(), Live: pv.Live}
		}
		ar.Diff, ar.Live, ar.NoOp = pv.Diff, pv.Live, pv.NoOp
	}
	// The hash covers what runs and everything the approver is shown,
	// the diff included: computed last.
	ar.Hash = approve.HashOf(ar)
	ev.ApprovalHash = ar.Hash
	actx, cancel := context.WithDeadline(ctx, ar.Expires)
	defer cancel()
	ans, err := ap.Approve(actx, ar)
	if errors.Is(err, context.DeadlineExceeded) {
		return approve.Answer{Approved: false, Channel: ans.Channel, Reason: "approval timed out"}, nil
	}
	return ans, err
}

func (p *Pipeline) deny(ev *Event, msg string) error {
	if err := p.Auditor.Decision(ev); err != nil {
		return &AuditError{Err: err}
	}
	return &DeniedError{RequestID: ev.Req.ID, ApprovalHash: ev.ApprovalHash, Assessment: ev.Assessment, Decision: ev.Decision, Answer: ev.Answer, Message: msg}
}
