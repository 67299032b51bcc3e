package policy

import (
	"fmt"
	"strings"

	"github.com/agentctl/agentctl/pkg/classify"
)

// checkLimits denies a command other than a read when the agent is locked
// out or over its mutation limit. A state that cannot be read denies too:
// fail closed.
func (e *Engine) checkLimits(in *Input) (Decision, bool) {
	if e.state == nil || in.Assessment.Class == classify.Read {
		return Decision{}, false
	}
	a, user, err := e.state.agentAndUser(in.Agent)
	if err != nil {
		return Decision{Action: Deny, Rule: RuleLockout, Message: fmt.Sprintf("cannot read the lockout state, so only reads run: %v", err)}, true
	}
	name := AgentName(in.Agent)
	if l := a.Locked; l != nil && l.Flag != "" {
		return Decision{
			Action: Deny,
			Rule:   RuleLockout,
			Message: fmt.Sprintf("agent %q is locked out since %s: it raised flag %s, which the policy's flags: section turns into a lockout; only reads run until a human runs `agentctl unlock --agent %s`",
				name, l.At.Format("15:04:05"), l.Flag, name),
		}, true
	}
	if l := a.Locked; l != nil {
		return Decision{
			Action: Deny,
			Rule:   RuleLockout,
			Message: fmt.Sprintf("agent %q is locked out after %d denials within %s (since %s); only reads run until a human runs `agentctl unlock --agent %s`",
				name, l.Denials, l.Window, l.At.Format("15:04:05"), name),
		}, true
	}
	if l := user.Locked; l != nil {
		return Decision{
			Action: Deny,
			Rule:   RuleLockout,
			Message: fmt.Sprintf("the agents of this OS user are locked out after %d denials within %s, under whatever names (since %s); only reads run until a human runs `agentctl unlock`",
				l.Denials, l.Window, l.At.Format("15:04:05")),
		}, true
	}
	if m := e.limits.Mutations; m != nil && m.Max > 0 {
		for _, st := range []struct {
			who string
			s   AgentState
		}{{fmt.Sprintf("agent %q", name), a}, {"the agents of this OS user", user}} {
			if n := len(since(st.s.Mutations, e.now().Add(-m.Window))); n >= m.Max {
				return Decision{
					Action:  Deny,
					Rule:    RuleRateLimit,
					Message: fmt.Sprintf("%s ran %d changes within %s, the limit of %s; wait, or raise limits.mutations", st.who, n, m.Window, m.Where),
				}, true
			}
		}
	}
	return Decision{}, false
}

// Observe records how a decided command ended, for the rate limit and the
// lockout: final is the decision that stood (deny after a refused or
// timed-out approval), executed says the command ran. A denial counts
// towards the lockout (except the lockout's own); a command other than a
// read that ran counts towards the mutation limit. The pipeline calls it
// once per command.
func (e *Engine) Observe(in *Input, final Decision, executed bool) error {
	if e.state == nil || in == nil || in.Assessment == nil {
		return nil
	}
	now := e.now()
	if final.Lockout && strings.HasPrefix(final.Rule, RuleFlagPrefix) {
		// Only this agent's name: the flags follow an agent that takes
		// another one (every target is new to it, and denials and writes
		// count for the OS user's agents together).
		return e.state.locked(true, func(doc *stateDoc) bool {
			name := AgentName(in.Agent)
			a := doc.Agents[name]
			if a == nil {
				a = &AgentState{}
				doc.Agents[name] = a
			}
			if a.Locked == nil {
				a.Locked = &Lockout{At: now, Window: "-", LastRule: final.Rule, Flag: strings.TrimPrefix(final.Rule, RuleFlagPrefix)}
			}
			return true
		})
	}
	denial := final.Action == Deny && final.Rule != RuleLockout
	mutation := executed && in.Assessment.Class != classify.Read
	lo, mu := e.limits.Lockout, e.limits.Mutations
	if lo != nil && lo.Max == 0 {
		lo = nil
	}
	if mu != nil && mu.Max == 0 {
		mu = nil
	}
	if !(denial && lo != nil) && !(mutation && mu != nil) {
		return nil
	}
	return e.state.update(in.Agent, func(a *AgentState) {
		if denial && lo != nil {
			a.Denials = append(since(a.Denials, now.Add(-lo.Window)), now)
			if a.Locked == nil && len(a.Denials) >= lo.Max {
				a.Locked = &Lockout{At: now, Denials: len(a.Denials), Window: lo.Window.String(), LastRule: final.Rule}
			}
		}
		if mutation && mu != nil {
			a.Mutations = append(since(a.Mutations, now.Add(-mu.Window)), now)
		}
	})
}

// State returns the engine's lockout state, or nil when limits are off.
func (e *Engine) State() *State { return e.state }
