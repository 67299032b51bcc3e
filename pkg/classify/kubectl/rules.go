package kubectl

import (
	"strings"

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
	case "drain":
		s.typeArgs(prefixed("nodes", args), "drain", effDelete)
		if s.dry == "" {
			a.Raise(classify.Destructive, "drain evicts every pod on the node")
		}
	case "cordon", "uncordon":
		s.typeArgs(prefixed("nodes", args), p.path, effWrite)
	case "taint":
		s.typeArgs(resourceArgs(args), "taint", effWrite)
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
	case "scale", "autoscale", "expose", "rollout restart", "rollout pause", "rollout resume", "rollout undo",
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
