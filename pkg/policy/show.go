package policy

import (
	"strconv"

	"github.com/agentctl/agentctl/pkg/classify"
)

// Effective is the merged policy as `agentctl policy show` prints it: the
// layers in the order they are consulted, the environment mappings in the
// order they are tried, the limits in force, and every rule.
type Effective struct {
	Order        string            `json:"order" yaml:"order"`
	Layers       []EffectiveLayer  `json:"layers" yaml:"layers"`
	Environments []EffectiveEnv    `json:"environments" yaml:"environments"`
	Limits       map[string]string `json:"limits" yaml:"limits"`
	// Convergence is how long a change is waited on ("off" when unset).
	Convergence string `json:"convergence" yaml:"convergence"`
	// Flags is what each behavioural flag does: "lockout (FILE:LINE)".
	Flags map[string]string `json:"flags,omitempty" yaml:"flags,omitempty"`
}

// EffectiveLayer is one layer and its rules, in evaluation order.
type EffectiveLayer struct {
	Kind  LayerKind       `json:"kind" yaml:"kind"`
	File  string          `json:"file" yaml:"file"`
	Note  string          `json:"note,omitempty" yaml:"note,omitempty"`
	Rules []EffectiveRule `json:"rules" yaml:"rules"`
}

// EffectiveEnv is one environment mapping.
type EffectiveEnv struct {
	Name string `json:"name" yaml:"name"`
	From string `json:"from" yaml:"from"`
	// NameOnly says the entry matches on names the agent writes only, so
	// it can only make decisions stricter.
	NameOnly  bool              `json:"nameOnly,omitempty" yaml:"nameOnly,omitempty"`
	Servers   []EffectiveServer `json:"servers,omitempty" yaml:"servers,omitempty"`
	Context   []string          `json:"context,omitempty" yaml:"context,omitempty"`
	Cluster   []string          `json:"cluster,omitempty" yaml:"cluster,omitempty"`
	Namespace []string          `json:"namespace,omitempty" yaml:"namespace,omitempty"`
	Workspace []string          `json:"workspace,omitempty" yaml:"workspace,omitempty"`
	Dir       []string          `json:"dir,omitempty" yaml:"dir,omitempty"`
}

// EffectiveServer is one server identity of an environment.
type EffectiveServer struct {
	URL      string `json:"url" yaml:"url"`
	CASHA256 string `json:"caSHA256,omitempty" yaml:"caSHA256,omitempty"`
}

// EffectiveRule is one rule.
type EffectiveRule struct {
	Rule           string   `json:"rule" yaml:"rule"`
	Name           string   `json:"name,omitempty" yaml:"name,omitempty"`
	Tool           []string `json:"tool,omitempty" yaml:"tool,omitempty"`
	Class          []string `json:"class,omitempty" yaml:"class,omitempty"`
	Subcommand     []string `json:"subcommand,omitempty" yaml:"subcommand,omitempty"`
	Resource       []string `json:"resource,omitempty" yaml:"resource,omitempty"`
	Namespace      []string `json:"namespace,omitempty" yaml:"namespace,omitempty"`
	Context        []string `json:"context,omitempty" yaml:"context,omitempty"`
	Cluster        []string `json:"cluster,omitempty" yaml:"cluster,omitempty"`
	Workspace      []string `json:"workspace,omitempty" yaml:"workspace,omitempty"`
	Dir            []string `json:"dir,omitempty" yaml:"dir,omitempty"`
	Env            []string `json:"env,omitempty" yaml:"env,omitempty"`
	Agent          []string `json:"agent,omitempty" yaml:"agent,omitempty"`
	NonInteractive *bool    `json:"nonInteractive,omitempty" yaml:"nonInteractive,omitempty"`
	When           string   `json:"when,omitempty" yaml:"when,omitempty"`
	Decision       Action   `json:"decision" yaml:"decision"`
	Sandbox        string   `json:"sandbox,omitempty" yaml:"sandbox,omitempty"`
	Confirm        bool     `json:"confirm,omitempty" yaml:"confirm,omitempty"`
	AllowPrivilege bool     `json:"allowPrivilege,omitempty" yaml:"allowPrivilege,omitempty"`
	Message        string   `json:"message,omitempty" yaml:"message,omitempty"`
}

// Effective returns the merged policy.
func (e *Engine) Effective() Effective {
	out := Effective{
		Order:  "layers are tried from the first listed to the last; the first matching rule decides; a tighten-only layer can only make that decision stricter",
		Limits: map[string]string{},
	}
	add := func(l Layer, note string) {
		el := EffectiveLayer{Kind: l.Kind, File: l.File.Name, Note: note, Rules: []EffectiveRule{}}
		for _, r := range l.File.Rules {
			el.Rules = append(el.Rules, r.effective())
		}
		out.Layers = append(out.Layers, el)
	}
	for _, l := range e.trusted {
		add(l, "")
	}
	for _, l := range e.tighten {
		add(l, "tighten only: applies when stricter than the decision above ("+l.whyTightenOnly()+")")
	}
	out.Environments = []EffectiveEnv{}
	for _, l := range e.trusted {
		for _, env := range l.File.Environments {
			var servers []EffectiveServer
			for _, id := range env.Servers {
				servers = append(servers, EffectiveServer{URL: id.URL, CASHA256: id.CASHA256})
			}
			out.Environments = append(out.Environments, EffectiveEnv{
				Name: env.Name, From: l.File.Name + ":" + itoa(env.Line), NameOnly: env.NameOnly(), Servers: servers,
				Context: env.Contexts.strings(), Cluster: env.Clusters.strings(), Namespace: env.Namespaces.strings(),
				Workspace: env.Workspaces.strings(), Dir: env.Dirs.strings(),
			})
		}
	}
	limit := func(name, count string, w *Window) {
		switch {
		case w == nil:
			out.Limits[name] = "off"
		case w.Max == 0:
			out.Limits[name] = "off (" + w.Where + ")"
		default:
			out.Limits[name] = itoa(w.Max) + " " + count + " per " + w.Window.String() + " (" + w.Where + ")"
		}
	}
	limit("mutations", "changes", e.limits.Mutations)
	switch c := e.convergence; {
	case c == nil:
		out.Convergence = "off"
	case c.Timeout == 0:
		out.Convergence = "off (" + c.Where + ")"
	default:
		out.Convergence = "wait up to " + c.Timeout.String() + " (" + c.Where + ")"
	}
	limit("lockout", "denials", e.limits.Lockout)
	for name, a := range e.flags {
		if out.Flags == nil {
			out.Flags = map[string]string{}
		}
		out.Flags[name] = a.Action + " (" + a.Where + ")"
	}
	return out
}

func (r *Rule) effective() EffectiveRule {
	er := EffectiveRule{
		Rule: r.ID, Name: r.Name, Tool: r.Tools.strings(), Subcommand: r.Subcommands.strings(),
		Resource: r.Resources.strings(), Namespace: r.Namespaces.strings(), Context: r.Contexts.strings(),
		Cluster: r.Clusters.strings(), Workspace: r.Workspaces.strings(), Dir: r.Dirs.strings(),
		Env: r.Envs.strings(), Agent: r.Agents.strings(), NonInteractive: r.NonInteractive, When: r.When,
		Decision: r.Action, Confirm: r.Confirm, AllowPrivilege: r.AllowPrivilege, Message: r.Message,
	}
	for _, c := range classify.Classes() {
		if r.Classes&(1<<uint(c)) != 0 {
			er.Class = append(er.Class, c.String())
		}
	}
	if r.Action == Sandbox {
		er.Sandbox = "best-effort"
		if r.SandboxRequired {
			er.Sandbox = "required"
		}
	}
	return er
}

func itoa(i int) string { return strconv.Itoa(i) }
