package kubectl

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"

	"github.com/agentctl/agentctl/pkg/classify"
	"sigs.k8s.io/yaml"
)

// applyLike covers apply, create -f, replace and auth reconcile.
func (s *state) applyLike() {
	p, a := s.p, s.a
	if p.has("raw") {
		method := map[string]string{"create": "POST", "replace": "PUT"}[p.path]
		s.raw(method, p.str("raw"))
		return
	}
	if p.path == "create" && len(p.rest) > 0 && !strings.HasPrefix(p.rest[0], "-") {
		// kubectl looks for a plugin kubectl-create-<arg>.
		a.Raise(classify.Exec, "%q is not a create subcommand: kubectl would run a plugin (kubectl-create-%s)", p.rest[0], p.rest[0])
		return
	}
	if p.path == "create" && len(p.args) > 0 {
		a.Raise(classify.Unknown, "kubectl would reject this command: unexpected args %q", p.args)
		return
	}
	if len(s.objects) == 0 && len(p.flags["filename"]) == 0 && !p.has("kustomize") {
		a.Raise(classify.Unknown, "kubectl would reject this command: must specify one of -f and -k")
		return
	}
	if len(s.objects) == 0 && a.Class < classify.Unknown {
		a.Raise(classify.Unknown, "kubectl would reject this command: no objects passed to %s", p.path)
		return
	}
	eff := effWrite
	if p.path == "replace" && p.str("force") == "true" {
		eff = effDelete
		a.Raise(map[bool]classify.Class{true: classify.Read, false: classify.Destructive}[s.dry != ""], "replace --force deletes and recreates the objects")
	}
	if p.path == "apply" && p.str("prune") == "true" {
		a.Raise(map[bool]classify.Class{true: classify.Read, false: classify.Destructive}[s.dry != ""], "apply --prune deletes objects missing from the manifests")
	}
	if p.path == "auth reconcile" && s.dry == "" {
		a.Raise(classify.Privilege, "auth reconcile changes RBAC")
	}
	s.manifestObjects(actionOf(p.path), eff)
}

// edit lets an editor (a script, for an agent) change anything in the
// object: a Namespace's pod-security labels, a pod template's privileges.
func (s *state) edit() {
	s.targets(s.p.args, "edit", effWrite)
	s.forceRender = true // the editor sees the whole object
	for _, r := range s.a.Resources {
		switch {
		case r.Kind == "Namespace":
			s.a.Raise(classify.Privilege, "edit of Namespace %s can change its pod-security labels", r.Name)
		case podKinds[r.Kind]:
			s.a.Raise(classify.Exec, "edit of %s %s can make its pods privileged", r.Kind, r.Name)
		}
	}
}

func (s *state) patch() {
	p, a := s.p, s.a
	s.targets(p.args, "patch", effWrite)
	body := p.str("patch")
	if f := p.str("patch-file"); f != "" {
		if !filepath.IsAbs(f) {
			f = filepath.Join(s.req.Cwd, f)
		}
		b, err := os.ReadFile(f)
		if err != nil {
			a.Raise(classify.Unknown, "cannot read --patch-file %q: %v", p.str("patch-file"), err)
			return
		}
		body = string(b)
		// kubectl would read the file again when it runs: hand it the
		// bytes that were assessed instead.
		a.Exec.Args = inlinePatchFile(a.Exec.Args, body)
	}
	if s.dry != "" {
		return
	}
	// Compare field names after decoding: "kubernetes\u002eio" in JSON or
	// "\x2e" in YAML spell the same key.
	canon, err := yaml.YAMLToJSON([]byte(body))
	if err != nil {
		a.Raise(classify.Unknown, "kubectl would reject the patch: %v", err)
		return
	}
	body = string(canon)
	for _, r := range a.Resources {
		if r.Kind == "Namespace" && strings.Contains(body, "pod-security.kubernetes.io") {
			a.Raise(classify.Privilege, "patch changes pod-security labels of Namespace %s", r.Name)
		}
		if r.Kind == "Node" && strings.Contains(body, "NoExecute") {
			a.Raise(classify.Destructive, "patch of Node %s sets a NoExecute taint: running pods that do not tolerate it are evicted", r.Name)
		}
		if scalesToZero(body) {
			a.Raise(classify.Destructive, "patch of %s %s sets replicas to 0: every pod of the workload stops", r.Kind, r.Name)
		}
		if podKinds[r.Kind] && privilegedPatch(body) {
			a.Raise(classify.Exec, "patch of %s %s sets privileged or host-namespace fields", r.Kind, r.Name)
		}
	}
}

// scalesToZero reports whether a patch (merge, strategic or JSON patch, as
// canonical JSON) sets a "replicas" field to 0.
func scalesToZero(body string) bool {
	var v any
	if json.Unmarshal([]byte(body), &v) != nil {
		return false
	}
	var walk func(any) bool
	walk = func(v any) bool {
		switch v := v.(type) {
		case map[string]any:
			if n, ok := v["replicas"].(float64); ok && n == 0 {
				return true
			}
			if path, _ := v["path"].(string); strings.HasSuffix(path, "/replicas") {
				if n, ok := v["value"].(float64); ok && n == 0 {
					return true
				}
			}
			for _, e := range v {
				if walk(e) {
					return true
				}
			}
		case []any:
			for _, e := range v {
				if walk(e) {
					return true
				}
			}
		}
		return false
	}
	return walk(v)
}

func privilegedPatch(body string) bool {
	for _, w := range []string{"privileged", "hostPID", "hostIPC", "hostNetwork", "hostPath", "capabilities"} {
		if strings.Contains(body, w) {
			return true
		}
	}
	return false
}

func (s *state) labelLike() {
	p, a := s.p, s.a
	action := p.path
	s.targets(resourceArgs(p.args), action, effWrite)
	if action != "label" || s.dry != "" {
		return
	}
	for _, kv := range p.args {
		key, _, isSet := strings.Cut(kv, "=")
		if !isSet && !strings.HasSuffix(kv, "-") {
			continue
		}
		key = strings.TrimSuffix(key, "-")
		if !strings.HasPrefix(key, "pod-security.kubernetes.io/") {
			continue
		}
		for _, r := range a.Resources {
			if r.Kind == "Namespace" {
				a.Raise(classify.Privilege, "label %q changes the pod security level of Namespace %s", kv, r.Name)
			}
		}
	}
}

func (s *state) setEnv() {
	p, a := s.p, s.a
	list := p.str("list") == "true"
	eff := effWrite
	if list {
		eff = effRead
	}
	s.targets(resourceArgs(p.args), "set env", eff)
	if list && p.str("resolve") == "true" {
		a.Raise(classify.Secret, "set env --list --resolve prints values from Secrets")
	}
	if from := p.str("from"); from != "" {
		typ, _, _ := strings.Cut(from, "/")
		if ks := s.resolveType(typ); len(ks) == 1 && ks[0].gvk.Kind == "Secret" {
			a.Raise(classify.Secret, "set env --from=%s copies Secret values into a pod spec", from)
		}
	}
}

func (s *state) execLike() {
	p, a := s.p, s.a
	if s.dry != "" { // run --dry-run: nothing is created
		a.Raise(classify.Read, "%s with --dry-run runs nothing", p.path)
		return
	}
	a.Raise(classify.Exec, "%s runs code in a workload or opens a tunnel", p.path)
	if p.str("stdin") == "true" {
		a.Exec.PassStdin = true
	}
	if p.path == "exec" || p.path == "attach" || p.path == "port-forward" {
		if len(p.args) > 0 && (p.dash < 0 || p.dash > 0) {
			s.logTarget(p.args[0])
		}
	}
}

// logTarget records the pod (or TYPE/NAME) a logs/exec/attach addresses.
func (s *state) logTarget(arg string) {
	action := actionOf(s.p.path)
	eff := effRead
	if action != "logs" {
		eff = effExec
	}
	if strings.Contains(arg, "/") {
		s.typeArgs([]string{arg}, action, eff)
		return
	}
	s.typeArgs([]string{"pods", arg}, action, eff)
}

// createSub covers the generator subcommands of create.
func (s *state) createSub() {
	p, a := s.p, s.a
	sub := strings.TrimPrefix(p.path, "create ")
	typ := map[string]string{
		"clusterrole": "clusterroles", "clusterrolebinding": "clusterrolebindings", "role": "roles",
		"rolebinding": "rolebindings", "serviceaccount": "serviceaccounts", "configmap": "configmaps",
		"cronjob": "cronjobs", "deployment": "deployments", "ingress": "ingresses", "job": "jobs",
		"namespace": "namespaces", "poddisruptionbudget": "poddisruptionbudgets", "priorityclass": "priorityclasses",
		"quota": "resourcequotas", "token": "serviceaccounts",
	}[sub]
	if strings.HasPrefix(sub, "secret ") {
		typ = "secrets"
	}
	if strings.HasPrefix(sub, "service ") {
		typ = "services"
	}
	if typ == "" {
		a.Raise(classify.Unknown, "no rule for kubectl %s", p.path)
		return
	}
	name := ""
	if len(p.args) > 0 && (p.dash != 0) {
		name = p.args[0]
	}
	k, _ := s.c.catalog.lookup(typ)
	if sub == "token" {
		s.add(k, s.namespaceFor(k, ""), name, classify.SourceArgv, "token", effRead)
		a.Raise(classify.Privilege, "create token issues a credential for ServiceAccount %s", name)
		return
	}
	s.add(k, s.namespaceFor(k, ""), name, classify.SourceArgv, "create", effWrite)
	s.createGrant(sub, name, s.namespaceFor(k, ""))
	if (sub == "job" || sub == "cronjob" || sub == "deployment") && p.dash >= 0 && s.dry == "" {
		a.Raise(classify.Exec, "create %s runs the command %q", sub, strings.Join(p.args[p.dash:], " "))
	}
	if strings.HasPrefix(sub, "secret ") && s.dry == "client" {
		s.localOnly = true // the object is built from the agent's own inputs
	}
}

// kustomizeCmd: kubectl kustomize renders locally.
func (s *state) kustomizeCmd() {
	p, a := s.p, s.a
	for _, f := range []string{"enable-helm", "enable-alpha-plugins", "enable-exec"} {
		if p.str(f) == "true" {
			a.Raise(classify.Exec, "kustomize --%s runs programs", f)
		}
	}
	dir := "."
	if len(p.args) > 0 {
		dir = p.args[0]
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(s.req.Cwd, dir)
	}
	if why := localOnly(dir, map[string]bool{}); why != "" {
		a.Raise(classify.Unknown, "kustomization %q refused: %s", dir, why)
		return
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		a.Raise(classify.Unknown, "kustomize %q: not a local directory (remote targets are not assessed)", dir)
		return
	}
	a.Raise(classify.Read, "kustomize renders local files")
}

// inlinePatchFile replaces --patch-file (either form) in kubectl arguments
// before a "--" with --patch=BODY.
func inlinePatchFile(args []string, body string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		switch arg := args[i]; {
		case arg == "--":
			return append(out, args[i:]...)
		case arg == "--patch-file" && i+1 < len(args):
			i++
			out = append(out, "--patch="+body)
		case strings.HasPrefix(arg, "--patch-file="):
			out = append(out, "--patch="+body)
		default:
			out = append(out, arg)
		}
	}
	return out
}
