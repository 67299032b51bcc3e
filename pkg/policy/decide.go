package policy

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/cel-go/interpreter"

	"github.com/agentctl/agentctl/pkg/classify"
)

// Built-in rule names, for decisions no policy file made.
const (
	RuleLockout   = "lockout"
	RuleRateLimit = "ratelimit"
	RuleNoMatch   = "builtin:no-match"
)

// Decide applies the policy to one input. It implements pipeline.Decider.
//
// Order: a locked-out agent gets deny for everything but reads (rule
// "lockout"), an agent over its mutation limit gets deny for everything
// but reads (rule "ratelimit"); otherwise the trusted layers are tried
// from the most specific to the default and the first matching rule
// decides. A project rule that matches can make that decision stricter,
// never looser. Last, the guarantees are applied: privilege and unknown
// commands are never allowed or sandboxed without allowPrivilege on the
// rule, and their approvals need a typed confirmation. Between the two,
// the flags: entries for the flags the command raised (in.Flags) make
// the decision stricter: approve, deny, or deny and lock out.
func (e *Engine) Decide(_ context.Context, in *Input) (Decision, error) {
	if in == nil || in.Assessment == nil {
		return Decision{}, errors.New("policy: no assessment to decide on")
	}
	env := e.Env(in)
	if d, stop := e.checkLimits(in); stop {
		d.Env, d.Flags = env, in.Flags
		return d, nil
	}
	ev := evaluation{in: in, env: env}
	d, rule := e.decideTrusted(&ev)
	// An environment matched by names the agent writes (its kubeconfig's
	// context and cluster names, its terraform workspace) only counts
	// where it is stricter: renaming a prod context "dev" must not open
	// dev's rules to it.
	if name, ok := e.nameEnv(in); ok && name != env {
		nev := &evaluation{in: in, env: name}
		if nd, nrule := e.decideTrusted(nev); nd.Action.strictness() > d.Action.strictness() {
			d, rule, env = nd, nrule, name
			ev = *nev
		}
	}
	for _, l := range e.tighten {
		// Its environments name targets for its own rules, so that a
		// file of the agent's can say "nothing in prod" without changing
		// what the other layers' rules see.
		tev := &ev
		if name, ok := envOf(l.File.Environments, in, anyEnv); ok && name != env {
			tev = &evaluation{in: in, env: name}
		}
		if pd, prule := tev.first(l.File); prule != nil && pd.Action.strictness() > d.Action.strictness() {
			d, rule = pd, prule
		}
	}
	if nd := e.applyFlags(d, in.Flags); nd.Rule != d.Rule {
		d, rule = nd, nil
	}
	d = guarantee(d, rule, in.Assessment.Class)
	d.Env, d.Flags = env, in.Flags
	return d, nil
}

// decideTrusted returns the decision of the trusted layers: the first
// matching rule from the most specific layer down, else deny.
func (e *Engine) decideTrusted(ev *evaluation) (Decision, *Rule) {
	for _, l := range e.trusted {
		if d, rule := ev.first(l.File); rule != nil {
			return d, rule
		}
	}
	return Decision{Action: Deny, Rule: RuleNoMatch, Message: "no policy rule matches this command"}, nil
}

// evaluation is one input being matched; it builds the CEL variables at
// most once.
type evaluation struct {
	in   *Input
	env  string
	vars interpreter.Activation
}

// first returns the decision of the first matching rule of f, or a nil
// rule when none matches. A condition that fails to evaluate denies, in
// the name of its rule.
func (ev *evaluation) first(f *File) (Decision, *Rule) {
	for _, r := range f.Rules {
		if !r.matchStatic(ev.in, ev.env) {
			continue
		}
		if r.prg != nil {
			if ev.vars == nil {
				ev.vars = activation(ev.in, ev.env)
			}
			ok, err := evalWhen(r.prg, ev.vars)
			if err != nil {
				return Decision{
					Action:   Deny,
					Rule:     r.ID,
					RuleName: r.Name,
					Message:  fmt.Sprintf("the rule's condition failed, so the command is denied: %v", err),
				}, r
			}
			if !ok {
				continue
			}
		}
		return r.decision(ev.in.Assessment.Class), r
	}
	return Decision{}, nil
}

func (r *Rule) decision(c classify.Class) Decision {
	msg := r.Message
	if msg == "" {
		msg = fmt.Sprintf("%s commands: %s", c, r.Action)
	}
	return Decision{
		Action:          r.Action,
		Rule:            r.ID,
		RuleName:        r.Name,
		Message:         msg,
		SandboxRequired: r.Action == Sandbox && r.SandboxRequired,
		Confirm:         r.Action == Approve && r.Confirm,
	}
}

// guarantee enforces what no policy file can change: privilege and
// unknown commands need a human unless the deciding rule carries
// allowPrivilege: true, and a human approving them types the target.
func guarantee(d Decision, r *Rule, c classify.Class) Decision {
	if c != classify.Privilege && c != classify.Unknown {
		return d
	}
	if (d.Action == Allow || d.Action == Sandbox) && (r == nil || !r.AllowPrivilege) {
		d.Message = fmt.Sprintf("%s commands need a human: the rule would %s, but does not say allowPrivilege: true", c, d.Action)
		d.Action = Approve
		d.SandboxRequired = false
	}
	if d.Action == Approve {
		d.Confirm = true
	}
	return d
}
