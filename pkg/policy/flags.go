package policy

import (
	"fmt"
	"slices"

	"go.yaml.in/yaml/v3"
)

// FlagNames are the behavioural flags agentctl raises over its audit log
// (audit.FlagNames; docs/audit.md, Flags). A policy's flags: section
// and its when: conditions (the `flags` variable) name them.
var FlagNames = []string{"denials", "new-target", "new-class", "write-burst"}

// RuleFlagPrefix starts the rule name of a decision a flags: entry made:
// "flag:new-target".
const RuleFlagPrefix = "flag:"

// FlagAction is what a policy's flags: section does with a command that
// raised a flag: require a human (approve), deny it, or deny it and lock
// the agent out (lockout, lifted by `agentctl unlock` as the denials'
// lockout is).
type FlagAction struct {
	Action string // approve | deny | lockout
	Where  string // file:line
}

func (a FlagAction) strictness() int {
	switch a.Action {
	case "approve":
		return 2
	case "deny":
		return 3
	}
	return 4
}

// flags parses a flags: section: a mapping of flag names to approve,
// deny or lockout.
func (d *decoder) flags(n *yaml.Node, f *File) {
	f.Flags = map[string]FlagAction{}
	d.fields(n, "flags", func(key string, k, v *yaml.Node) bool {
		if !slices.Contains(FlagNames, key) {
			d.errorf(k, "unknown flag %q (want one of denials, new-target, new-class, write-burst)", key)
			return true
		}
		s := d.str(v, "flags."+key)
		switch s {
		case "approve", "deny", "lockout":
			f.Flags[key] = FlagAction{Action: s, Where: fmt.Sprintf("%s:%d", d.file, v.Line)}
		case "":
		default:
			d.errorf(v, "flags.%s: unknown action %q (want approve, deny or lockout)", key, s)
		}
		return true
	})
}

// mergeFlags keeps, for each flag, the strictest action of any layer: a
// flag can only make decisions stricter, so every layer's entries count,
// the project's too.
func mergeFlags(layers []Layer) map[string]FlagAction {
	out := map[string]FlagAction{}
	for _, l := range layers {
		for name, a := range l.File.Flags {
			if cur, ok := out[name]; !ok || a.strictness() > cur.strictness() {
				out[name] = a
			}
		}
	}
	return out
}

// applyFlags makes d stricter for every raised flag the policy maps to an
// action. A lockout replaces any decision (the Observe that follows the
// denial locks the agent).
func (e *Engine) applyFlags(d Decision, flags []string) Decision {
	for _, name := range flags {
		a, ok := e.flags[name]
		if !ok {
			continue
		}
		fd := Decision{Rule: RuleFlagPrefix + name, Flags: d.Flags}
		switch a.Action {
		case "approve":
			fd.Action = Approve
			fd.Message = fmt.Sprintf("the command raised flag %s, and flags.%s at %s needs a human for it", name, name, a.Where)
		case "deny":
			fd.Action = Deny
			fd.Message = fmt.Sprintf("the command raised flag %s, and flags.%s at %s denies it", name, name, a.Where)
		default:
			fd.Action, fd.Lockout = Deny, true
			fd.Message = fmt.Sprintf("the command raised flag %s, and flags.%s at %s locks the agent out; only reads run until a human runs `agentctl unlock`", name, name, a.Where)
		}
		if fd.Lockout && !d.Lockout || fd.Action.strictness() > d.Action.strictness() {
			d = fd
		}
	}
	return d
}
