package terraform

import (
	"fmt"
	"path"
	"strings"

	tfjson "github.com/hashicorp/terraform-json"

	"github.com/agentctl/agentctl/pkg/classify"
)

// PlanResult is what a plan's JSON says about an apply.
type PlanResult struct {
	Class     classify.Class
	Resources []classify.Resource
	Reasons   []classify.Reason
	// Summary reads like terraform's: "Plan: 2 to add, 1 to change, 1 to
	// destroy." or "No changes."
	Summary string
}

// Privilege matches resource types against glob patterns (path.Match).
type Privilege []string

// Match reports whether type t is a privilege type and the pattern that
// said so.
func (p Privilege) Match(t string) (string, bool) {
	for _, pat := range p {
		if ok, _ := path.Match(pat, t); ok {
			return pat, true
		}
	}
	return "", false
}

// action names the effect of one change as the assessment shows it.
func action(a tfjson.Actions) (string, classify.Class) {
	switch {
	case a.NoOp():
		return "no-op", classify.Read
	case a.Read():
		return "read", classify.Read
	case a.Create():
		return "create", classify.Write
	case a.Update():
		return "update", classify.Write
	case a.Replace():
		return "replace", classify.Destructive
	case a.Delete():
		return "delete", classify.Destructive
	case a.Forget():
		return "forget", classify.Destructive
	}
	return fmt.Sprint([]tfjson.Action(a)), classify.Unknown
}

// AssessPlan classifies a plan from its JSON (terraform show -json):
// every resource change becomes a resource with its action; delete,
// replace and forget are destructive; any change to a privilege type is
// privilege; a plan of only no-ops and reads is read.
func AssessPlan(p *tfjson.Plan, priv Privilege) *PlanResult {
	r := &PlanResult{Class: classify.Read}
	raise := func(c classify.Class, format string, args ...any) {
		r.Class = classify.Max(r.Class, c)
		r.Reasons = append(r.Reasons, classify.Reason{Class: c, Message: fmt.Sprintf(format, args...)})
	}
	var add, change, destroy, imports, forget int
	for _, rc := range p.ResourceChanges {
		if rc == nil || rc.Change == nil {
			raise(classify.Unknown, "plan holds a resource change without actions")
			continue
		}
		act, c := action(rc.Change.Actions)
		if rc.Change.Importing != nil {
			imports++
			c = classify.Max(c, classify.Write)
		}
		switch act {
		case "create":
			add++
		case "update":
			change++
		case "delete":
			destroy++
		case "replace":
			add++
			destroy++
		case "forget":
			forget++
		}
		addr := rc.Address
		if rc.DeposedKey != "" {
			addr += " (deposed " + rc.DeposedKey + ")"
		}
		if c == classify.Unknown {
			raise(c, "%s: unknown actions %s", addr, act)
		}
		if c > classify.Read && rc.Mode != tfjson.DataResourceMode {
			if pat, ok := priv.Match(rc.Type); ok {
				c = classify.Privilege
				raise(c, "%s: %s of privilege type %s (matches %q)", addr, act, rc.Type, pat)
			} else if why, known := manifestPrivilege(rc); why != "" {
				c = classify.Privilege
				raise(c, "%s: %s of %s that %s: it changes who can do what in a Kubernetes cluster", addr, act, rc.Type, why)
			} else if !known {
				c = classify.Unknown
				raise(c, "%s: %s of %s whose Kubernetes manifest is known only after apply", addr, act, rc.Type)
			} else if c >= classify.Destructive {
				raise(c, "%s: %s", addr, act)
			}
		}
		r.Class = classify.Max(r.Class, c)
		r.Resources = append(r.Resources, classify.Resource{
			Address: addr, Type: rc.Type, Name: rc.Name, Action: act,
			Provider: rc.ProviderName, Source: classify.SourcePlan, Class: c,
		})
	}
	outputs(p, raise)
	if len(p.DeferredChanges) > 0 {
		raise(classify.Unknown, "plan defers %d changes to a later plan", len(p.DeferredChanges))
	}
	if r.Class == classify.Write && add+change+destroy+imports+forget == 0 {
		r.Reasons = append(r.Reasons, classify.Reason{Class: classify.Write, Message: "changes only outputs"})
	}
	r.Summary = summary(add, change, destroy, imports, forget)
	return r
}

// outputs notes output changes; a changed output is written to the state.
func outputs(p *tfjson.Plan, raise func(classify.Class, string, ...any)) {
	for _, name := range sortedKeys(p.OutputChanges) {
		ch := p.OutputChanges[name]
		if ch == nil || ch.Actions.NoOp() {
			continue
		}
		act, _ := action(ch.Actions)
		if ch.BeforeSensitive == true || ch.AfterSensitive == true {
			raise(classify.Write, "output %q (sensitive): %s", name, act)
		} else {
			raise(classify.Write, "output %q: %s", name, act)
		}
	}
}

func summary(add, change, destroy, imports, forget int) string {
	if add+change+destroy+imports+forget == 0 {
		return "No changes."
	}
	var parts []string
	if imports > 0 {
		parts = append(parts, fmt.Sprintf("%d to import", imports))
	}
	parts = append(parts, fmt.Sprintf("%d to add", add), fmt.Sprintf("%d to change", change),
		fmt.Sprintf("%d to destroy", destroy))
	if forget > 0 {
		parts = append(parts, fmt.Sprintf("%d to forget", forget))
	}
	return "Plan: " + strings.Join(parts, ", ") + "."
}
