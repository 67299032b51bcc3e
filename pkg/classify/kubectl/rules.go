package kubectl

import (
	"fmt"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/agentctl/agentctl/pkg/classify"
)

// rule classifies the found subcommand. Each case states what kubectl
// does; the highest class of all findings wins.
func (s *state) rule() {
	p, a := s.p, s.a
	args := p.args
	defer s.outputs()
	switch p.path {
	case "get":
		if p.has("raw") {
			s.raw("GET", p.str("raw"))
			return
		}
		s.targets(args, "get", effRead)
	case "describe", "logs", "wait", "rollout status", "rollout history", "top pod", "top node", "events":
		if len(s.objects) == 0 && p.path != "logs" && p.path != "events" {
			s.targets(args, actionOf(p.path), effRead)
		} else {
			s.targets(nil, actionOf(p.path), effRead)
			if p.path == "logs" && len(args) > 0 {
				s.logTarget(args[0])
			}
		}
		a.Raise(classify.Read, "%s reads state", p.path)
	case "explain", "api-resources", "api-versions", "version", "cluster-info", "auth can-i", "auth whoami",
		"config current-context", "config get-contexts", "config get-clusters", "config get-users", "alpha":
		a.Raise(classify.Read, "%s reads discovery, local configuration or access reviews only", p.path)
	case "cluster-info dump":
		// dump fetches nodes, events, workloads and pod logs (never Secrets
		// or ConfigMaps): a read, however large.
		a.Raise(classify.Read, "cluster-info dump reads nodes, events, workloads and pod logs, not Secrets")
		if p.has("output-directory") {
			a.Raise(classify.Write, "--output-directory writes files on the local disk")
		}
	case "diff":
		// diff asks the server for a server-side dry run: nothing persists.
		s.targets(nil, "diff", effRead)
		a.Raise(classify.Read, "diff runs a server-side dry run")
	case "kustomize":
		s.kustomizeCmd()
	case "config view":
		if p.str("raw") == "true" || p.str("flatten") == "true" {
			a.Raise(classify.Secret, "config view --raw/--flatten prints kubeconfig credentials")
		} else {
			a.Raise(classify.Read, "config view redacts credentials")
		}
	case "config set-credentials":
		a.Raise(classify.Privilege, "config set-credentials puts an identity into the kubeconfig, changing who later commands act as")
	case "config set", "config unset":
		if len(args) > 0 && strings.HasPrefix(args[0], "users.") {
			a.Raise(classify.Privilege, "config %s %q changes kubeconfig credentials", strings.TrimPrefix(p.path, "config "), args[0])
		} else {
			a.Raise(classify.Write, "%s changes the local kubeconfig (not the cluster); reversible", p.path)
		}
	case "config set-cluster", "config set-context", "config use-context", "config rename-context":
		// These change the local kubeconfig file, not the cluster: a write,
		// reversible by setting it back. use-context changes the target of
		// every later command, which policy sees through the target.
		a.Raise(classify.Write, "%s changes the local kubeconfig (not the cluster)", p.path)
	case "config delete-cluster", "config delete-context", "config delete-user":
		// Deleting kubeconfig entries loses local configuration that may not
		// be recoverable: destructive, though the cluster is untouched.
		a.Raise(classify.Destructive, "%s deletes kubeconfig entries", p.path)
	case "delete":
		if p.has("raw") {
			s.raw("DELETE", p.str("raw"))
			return
		}
		s.targets(args, "delete", effDelete)
		s.deleteMatches(args)
	case "drain":
		s.typeArgs(prefixed("nodes", args), "drain", effDelete)
		if s.dry == "" {
			a.Raise(classify.Destructive, "drain evicts every pod on the node")
		}
	case "cordon", "uncordon":
		s.typeArgs(prefixed("nodes", args), p.path, effWrite)
	case "taint":
		s.taint()
	case "apply", "create", "replace", "auth reconcile", "apply set-last-applied":
		s.applyLike()
	case "apply edit-last-applied", "edit":
		s.edit()
	case "apply view-last-applied":
		s.targets(args, "view-last-applied", effRead)
		s.forceRender = true // the annotation holds the whole last-applied object
	case "patch":
		s.patch()
	case "label", "annotate":
		s.labelLike()
	case "scale":
		s.targets(resourceArgs(args), "scale", effWrite)
		if n, err := strconv.Atoi(p.str("replicas")); err == nil && n == 0 && s.dry == "" {
			a.Raise(classify.Destructive, "scale --replicas=0 stops every pod of the workload")
		}
	case "autoscale", "expose", "rollout restart", "rollout pause", "rollout resume", "rollout undo",
		"set image", "set resources", "set selector":
		s.targets(resourceArgs(args), actionOf(p.path), effWrite)
	case "set serviceaccount", "set subject":
		s.targets(resourceArgs(args), actionOf(p.path), effWrite)
		if s.dry == "" {
			a.Raise(classify.Privilege, "%s changes the identity a workload runs as or who a binding grants", p.path)
		}
	case "set env":
		s.setEnv()
	case "certificate approve":
		s.typeArgs(prefixed("certificatesigningrequests", args), "approve", effWrite)
		a.Raise(classify.Privilege, "certificate approve issues a credential")
	case "certificate deny":
		s.typeArgs(prefixed("certificatesigningrequests", args), "deny", effWrite)
	case "exec", "attach", "cp", "port-forward", "proxy", "debug", "run":
		s.execLike()
	default:
		if strings.HasPrefix(p.path, "create ") {
			s.createSub()
			return
		}
		a.Raise(classify.Unknown, "no rule for kubectl %s", p.path)
	}
}

// actionOf names a resource action after the command.
func actionOf(path string) string {
	if i := strings.LastIndexByte(path, ' '); i >= 0 {
		return path[i+1:]
	}
	return path
}

// targets records resources from the manifests if any, else from args.
func (s *state) targets(args []string, action string, eff effect) {
	if len(s.objects) > 0 {
		s.manifestObjects(action, eff)
		return
	}
	s.typeArgs(args, action, eff)
}

// prefixed turns NAME arguments of a command with a fixed type into
// TYPE NAME arguments.
func prefixed(typ string, args []string) []string {
	if len(args) == 0 {
		return []string{typ}
	}
	return append([]string{typ}, args...)
}

// resourceArgs drops KEY=VALUE and KEY- arguments (labels, taints, env).
func resourceArgs(args []string) []string {
	var out []string
	for _, a := range args {
		if strings.Contains(a, "=") || (strings.HasSuffix(a, "-") && !strings.Contains(a, "/")) {
			continue
		}
		out = append(out, a)
	}
	return out
}

// taint splits its arguments as kubectl's TaintOptions.Complete does
// (resources first, then taint changes: any argument with "=" or ":" or a
// trailing "-") and parses the changes as its parseTaints does. Adding a
// NoExecute taint evicts every running pod that does not tolerate it:
// destructive. Removing one, or adding NoSchedule/PreferNoSchedule, only
// changes where new pods go: a write.
func (s *state) taint() {
	p, a := s.p, s.a
	var resources, changes []string
	for _, arg := range p.args {
		isTaint := strings.Contains(arg, "=") || strings.Contains(arg, ":") || strings.HasSuffix(arg, "-")
		switch {
		case isTaint:
			changes = append(changes, arg)
		case len(changes) > 0:
			a.Raise(classify.Unknown, "kubectl would reject this command: all resources must be specified before taint changes: %s", arg)
			return
		default:
			resources = append(resources, arg)
		}
	}
	if len(resources) == 0 {
		a.Raise(classify.Unknown, "kubectl would reject this command: one or more resources must be specified as <resource> <name>")
		return
	}
	if len(changes) == 0 {
		a.Raise(classify.Unknown, "kubectl would reject this command: at least one taint update is required")
		return
	}
	evicting, err := parseTaints(changes)
	if err != nil {
		a.Raise(classify.Unknown, "kubectl would reject this command: %v", err)
		return
	}
	s.typeArgs(resources, "taint", effWrite)
	if s.dry != "" {
		return
	}
	for _, t := range evicting {
		a.Raise(classify.Destructive, "taint %q has effect NoExecute: running pods that do not tolerate it are evicted", t)
	}
	if len(evicting) > 0 {
		for i := range a.Resources {
			a.Resources[i].Class = classify.Max(a.Resources[i].Class, classify.Destructive)
		}
	}
}

// parseTaints checks taint changes as kubectl's parseTaints does and
// returns those that add a NoExecute taint.
func parseTaints(specs []string) ([]string, error) {
	var evicting []string
	seen := map[string]bool{}
	for _, spec := range specs {
		remove := strings.HasSuffix(spec, "-")
		key, effect, err := parseTaint(strings.TrimSuffix(spec, "-"))
		if err != nil {
			return nil, err
		}
		if remove {
			continue
		}
		if effect == "" {
			return nil, fmt.Errorf("invalid taint spec: %v", spec)
		}
		if seen[key+":"+effect] {
			return nil, fmt.Errorf("duplicated taints with the same key and effect: %v", spec)
		}
		seen[key+":"+effect] = true
		if effect == "NoExecute" {
			evicting = append(evicting, spec)
		}
	}
	return evicting, nil
}

// parseTaint is kubectl's: KEY, KEY:EFFECT or KEY=VALUE:EFFECT, with a
// qualified-name key, a label value and an effect kubectl knows.
func parseTaint(st string) (key, effect string, err error) {
	parts := strings.Split(st, ":")
	switch len(parts) {
	case 1:
		key = parts[0]
	case 2:
		effect = parts[1]
		switch effect {
		case "NoSchedule", "PreferNoSchedule", "NoExecute":
		default:
			return "", "", fmt.Errorf("invalid taint effect: %v, unsupported taint effect", effect)
		}
		kv := strings.Split(parts[0], "=")
		if len(kv) > 2 {
			return "", "", fmt.Errorf("invalid taint spec: %v", st)
		}
		key = kv[0]
		if len(kv) == 2 {
			if errs := validation.IsValidLabelValue(kv[1]); len(errs) > 0 {
				return "", "", fmt.Errorf("invalid taint spec: %v, %s", st, strings.Join(errs, "; "))
			}
		}
	default:
		return "", "", fmt.Errorf("invalid taint spec: %v", st)
	}
	if errs := validation.IsQualifiedName(key); len(errs) > 0 {
		return "", "", fmt.Errorf("invalid taint spec: %v, %s", st, strings.Join(errs, "; "))
	}
	return key, effect, nil
}

// deleteMatches records how to list what a delete would delete now
// ([classify.Matches]), from the flags kubectl's delete selects with.
func (s *state) deleteMatches(args []string) {
	p := s.p
	m := &classify.Matches{}
	if len(s.objects) > 0 {
		m.Args = []string{"-f", "-"}
	} else {
		m.Args = append(m.Args, args...)
	}
	var sel []string
	if v := p.str("selector"); v != "" {
		m.Args = append(m.Args, "--selector="+v)
		sel = append(sel, "-l "+v)
	}
	if v := p.str("field-selector"); v != "" {
		m.Args = append(m.Args, "--field-selector="+v)
		sel = append(sel, "--field-selector "+v)
	}
	if p.str("all") == "true" {
		sel = append(sel, "--all")
	}
	if p.str("all-namespaces") == "true" {
		m.Args = append(m.Args, "--all-namespaces")
		sel = append(sel, "--all-namespaces")
	}
	m.Selector = strings.Join(sel, " ")
	m.Open = m.Selector != ""
	s.a.Matches = m
}
