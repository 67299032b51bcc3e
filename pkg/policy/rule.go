package policy

import (
	"fmt"

	"github.com/google/cel-go/cel"
	"go.yaml.in/yaml/v3"

	"github.com/agentctl/agentctl/pkg/classify"
)

// Rule is one rule of a policy file. Every matcher that is set must match
// for the rule to apply; within a matcher, any pattern may match. Then the
// `when:` condition, if any, must be true.
type Rule struct {
	// ID is file:line, the name decisions give.
	ID          string
	Line        int
	Name        string
	Description string

	Tools       patterns
	Classes     uint32 // bit set of classify.Class; 0 is any
	Subcommands patterns
	Resources   patterns // every resource must match one
	Namespaces  patterns // every namespace involved must match one
	Contexts    patterns
	Clusters    patterns
	Workspaces  patterns
	Dirs        patterns
	Envs        patterns
	Agents      patterns
	// NonInteractive, when set, matches only when no human can approve
	// (true) or only when one can (false).
	NonInteractive *bool

	When string
	prg  cel.Program
	// whenNames is what When reads of the names the agent writes
	// ([namesRead]).
	whenNames []string

	Action          Action
	Message         string
	SandboxRequired bool
	Confirm         bool
	// AllowPrivilege is the loud flag: without it, a rule never allows
	// (or merely sandboxes) a privilege or unknown command.
	AllowPrivilege bool
}

func (d *decoder) rule(n *yaml.Node) *Rule {
	r := &Rule{ID: fmt.Sprintf("%s:%d", d.file, n.Line), Line: n.Line, SandboxRequired: true}
	var decision, sandboxNode *yaml.Node
	d.fields(n, "a rule", func(key string, k, v *yaml.Node) bool {
		switch key {
		case "name":
			r.Name = d.str(v, key)
		case "description":
			r.Description = d.str(v, key)
		case "tool":
			r.Tools = d.patterns(v, key, false)
		case "class":
			r.Classes = d.classes(v)
		case "subcommand":
			r.Subcommands = d.patterns(v, key, false)
		case "resource":
			r.Resources = d.patterns(v, key, true)
		case "namespace":
			r.Namespaces = d.patterns(v, key, false)
		case "context":
			r.Contexts = d.patterns(v, key, false)
		case "cluster":
			r.Clusters = d.patterns(v, key, false)
		case "workspace":
			r.Workspaces = d.patterns(v, key, false)
		case "dir":
			r.Dirs = d.patterns(v, key, false)
		case "env":
			r.Envs = d.patterns(v, key, false)
		case "agent":
			r.Agents = d.patterns(v, key, false)
		case "nonInteractive":
			b := d.boolean(v, key)
			r.NonInteractive = &b
		case "when":
			r.When = d.str(v, key)
			if r.When != "" {
				var ast *cel.Ast
				r.prg, ast = d.compileWhen(v)
				r.whenNames = namesRead(ast)
			}
		case "decision":
			decision = v
			a, err := ParseAction(v.Value)
			if err != nil || v.Kind != yaml.ScalarNode {
				d.errorf(v, "unknown decision %q (want allow, sandbox, approve or deny)", v.Value)
			}
			r.Action = a
		case "message":
			r.Message = d.str(v, key)
		case "sandbox":
			sandboxNode = v
			switch v.Value {
			case "required":
				r.SandboxRequired = true
			case "best-effort":
				r.SandboxRequired = false
			default:
				d.errorf(v, "unknown sandbox mode %q (want required or best-effort)", v.Value)
			}
		case "confirm":
			r.Confirm = d.boolean(v, key)
		case "allowPrivilege":
			r.AllowPrivilege = d.boolean(v, key)
		default:
			return false
		}
		return true
	})
	if n.Kind != yaml.MappingNode {
		return nil
	}
	if decision == nil {
		d.errorf(n, "a rule needs a decision (allow, sandbox, approve or deny)")
	}
	if sandboxNode != nil && r.Action != Sandbox && r.Action != "" {
		d.errorf(sandboxNode, "sandbox: applies only to decision: sandbox")
	}
	if r.Action != Sandbox {
		r.SandboxRequired = false
	}
	return r
}

// matchStatic reports whether every matcher of the rule matches (the
// `when:` condition aside).
func (r *Rule) matchStatic(in *Input, env string) bool {
	a := in.Assessment
	t := &a.Target
	switch {
	case r.Classes != 0 && r.Classes&(1<<uint(a.Class)) == 0,
		r.Tools != nil && !r.Tools.any(a.Tool),
		r.Subcommands != nil && !r.Subcommands.any(a.Subcommand),
		r.Envs != nil && !r.Envs.any(env),
		r.Agents != nil && !r.Agents.any(in.Agent),
		r.NonInteractive != nil && *r.NonInteractive != in.NonInteractive,
		r.Contexts != nil && !matchSet(r.Contexts, t.Context),
		r.Clusters != nil && !matchSet(r.Clusters, t.Cluster),
		r.Workspaces != nil && !matchSet(r.Workspaces, t.Workspace),
		r.Dirs != nil && !matchSet(r.Dirs, dirOf(in)),
		r.Namespaces != nil && !matchNamespaces(r.Namespaces, a),
		r.Resources != nil && !matchResources(r.Resources, a.Resources):
		return false
	}
	return true
}

// matchSet matches a target field; an empty field (not known) never
// matches a pattern.
func matchSet(ps patterns, s string) bool { return s != "" && ps.any(s) }

// dirOf is the directory a command works on: terraform's -chdir directory,
// else the agent's working directory.
func dirOf(in *Input) string {
	if d := in.Assessment.Target.Dir; d != "" {
		return d
	}
	return in.Cwd
}

// matchNamespaces matches when every namespace the command touches
// matches: each Kubernetes resource's namespace (a Namespace object
// counts as its own name; a cluster-scoped object, which has no namespace,
// never matches), or, when the command names no resources, the target's
// namespace.
func matchNamespaces(ps patterns, a *classify.Assessment) bool {
	n := 0
	for _, r := range a.Resources {
		if r.Address != "" || r.Type != "" {
			return false // terraform resources have no namespace
		}
		ns := r.Namespace
		if r.Kind == "Namespace" || r.Resource == "namespaces" {
			ns = r.Name
		}
		if !matchSet(ps, ns) {
			return false
		}
		n++
	}
	if n == 0 {
		return matchSet(ps, a.Target.Namespace)
	}
	return true
}

// matchResources matches when the command touches at least one resource
// and every one matches a pattern, by any of its names: kind, plural
// resource, resource.group, kind.group, terraform type or address.
func matchResources(ps patterns, rs []classify.Resource) bool {
	if len(rs) == 0 {
		return false
	}
	for _, r := range rs {
		if !matchResource(ps, r) {
			return false
		}
	}
	return true
}

func matchResource(ps patterns, r classify.Resource) bool {
	names := [...]string{r.Kind, r.Resource, "", "", r.Type, r.Address}
	if r.Group != "" {
		if r.Resource != "" {
			names[2] = r.Resource + "." + r.Group
		}
		if r.Kind != "" {
			names[3] = r.Kind + "." + r.Group
		}
	}
	for _, n := range names {
		if n != "" && ps.any(n) {
			return true
		}
	}
	return false
}
