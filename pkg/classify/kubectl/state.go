package kubectl

import (
	"context"
	"strconv"
	"strings"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/request"
)

// state carries one classification through its steps.
type state struct {
	c   *Classifier
	ctx context.Context
	req *request.Request
	p   *parsed
	a   *classify.Assessment

	dry       string // "", "client" or "server"
	verbosity int
	// objects are the manifest objects read from -f/-k, if any.
	objects []object
	// mapper is the discovery mapper, looked up at most once.
	mapper     *Mapper
	mapperDone bool
	// secret is set when the command reads or writes a Secret.
	secret bool
	// forceRender says the command prints object fields whatever -o says.
	forceRender bool
	// localOnly says printed objects come from the agent's own inputs.
	localOnly bool
}

func (s *state) run() error {
	p, a := s.p, s.a
	s.resolveTarget()
	if p.cmd == nil {
		s.metachars(s.req.Args)
		a.Subcommand = firstWord(s.req.Args)
		if len(s.req.Args) > 0 && strings.HasPrefix(s.req.Args[0], "-") {
			// kubectl's HandlePluginCommand refuses this before any lookup.
			a.RejectAsTool(1, "Error: flags cannot be placed before plugin name: "+s.req.Args[0]+"\n",
				"kubectl would reject this command: flags cannot be placed before plugin name: %s", s.req.Args[0])
			return nil
		}
		if removedCommands[a.Subcommand] {
			a.Refuse(classify.Unknown, "%q is no longer a kubectl command (removed from kubectl; kubectl 1.34 would look for a plugin kubectl-%s and fail without one)", a.Subcommand, a.Subcommand)
			return nil
		}
		if plugin, sure := s.pluginOnPath(); !plugin && sure && p.notFound != nil {
			a.RejectAsTool(1, "error: "+strings.TrimSuffix(p.notFound.Error(), "\n")+"\n",
				"%q is not a kubectl command and no plugin kubectl-%s is on PATH: kubectl would fail with its usage error", a.Subcommand, a.Subcommand)
			return nil
		}
		a.Raise(classify.Exec, "%q is not a kubectl command: kubectl would run a plugin (kubectl-%s) from PATH", a.Subcommand, a.Subcommand)
		return nil
	}
	a.Subcommand = p.path
	s.metachars(s.shellArgs())
	if p.path == "" && !p.has("help") {
		a.Refuse(classify.Unknown, "no kubectl command given: kubectl would only print its help and exit 0, doing nothing (name one: kubectl get pods)")
		return nil
	}
	if p.has("help") || p.path == "" || p.path == "help" || p.path == "completion" || p.path == "options" || p.path == "plugin" || p.path == "plugin list" {
		a.Raise(classify.Read, "%q only prints help or local information", "kubectl "+p.path)
		return nil
	}
	s.globalFlags()
	if !s.dryRun() {
		return nil
	}
	if err := s.readManifests(); err != nil {
		return err
	}
	s.rule()
	s.snapshotFiles()
	return nil
}

// removedCommands were kubectl commands once and are gone; "convert" is
// not among them: it lives on as the kubectl-convert plugin.
var removedCommands = map[string]bool{"rolling-update": true, "stop": true, "resize": true, "run-container": true}

// shellArgs are the arguments the shell-syntax rule applies to: all of
// them, except a container command after "--" (exec, run, debug, create
// job/cronjob/deployment), which is the container's business.
func (s *state) shellArgs() []string {
	if s.p.dash < 0 {
		return s.req.Args
	}
	switch s.p.path {
	case "exec", "run", "debug", "create job", "create cronjob", "create deployment":
		for i, a := range s.req.Args {
			if a == "--" {
				return s.req.Args[:i]
			}
		}
	}
	return s.req.Args
}

// metachars refuses argv that carries syntax only a shell interprets: the
// agent probably meant a pipeline or a variable, and kubectl would see
// literal words (see [classify.ShellSyntax]). A go-template's own
// variables ({{$x := .}}) and a strategic merge patch's directives
// ("$patch": "delete") are not shell syntax.
func (s *state) metachars(args []string) {
	for _, arg := range args {
		if arg == "--" {
			continue
		}
		check := arg
		if s.templateArg(arg) {
			check = classify.ShellOperator(arg)
		} else if s.p.path == "patch" {
			check = patchDirectives.Replace(arg)
		}
		if what := classify.ShellSyntax(check); what != "" {
			s.a.Raise(classify.Unknown, "argument %q holds %q, which only a shell would interpret: %s", arg, what, classify.ShellHint)
		}
	}
}

// patchDirectives are the "$" keys of a strategic merge patch.
var patchDirectives = strings.NewReplacer("$patch", "", "$retainKeys", "", "$deleteFromPrimitiveList", "",
	"$setElementOrder", "")

// templateArg reports whether arg carries a go-template (-o go-template=…,
// -o template=…, --template …), whose variables are spelled $name.
func (s *state) templateArg(arg string) bool {
	var values []string
	for _, v := range s.p.flags["output"] {
		for _, prefix := range []string{"go-template=", "template="} {
			if strings.HasPrefix(v, prefix) {
				values = append(values, v)
			}
		}
	}
	values = append(values, s.p.flags["template"]...)
	for _, v := range values {
		if v != "" && (arg == v || strings.HasPrefix(arg, "-") && strings.HasSuffix(arg, v)) {
			return true
		}
	}
	return false
}

func (s *state) resolveTarget() {
	p := s.p
	if p.cmd == nil {
		return
	}
	t, err := s.c.targets.resolve(s.req, p)
	s.a.Target = t
	if err != nil {
		s.a.Raise(classify.Unknown, "cannot load kubeconfig %q: %v", t.Kubeconfig, err)
	}
	// The server is where credentials go and what the sandbox lets the
	// command reach: it must be plainly one host and port (see
	// classify.ParseServer), whether it comes from --server or from the
	// kubeconfig.
	if t.Server != "" {
		if _, err := classify.ParseServer(t.Server); err != nil {
			s.a.RefuseHint(classify.Unknown, classify.ServerHint, "%v", err)
		}
	}
	if t.ProxyURL != "" {
		s.a.RefuseHint(classify.Unknown, "remove proxy-url from the cluster in the kubeconfig: agentctl must see where kubectl connects",
			"cluster %q has proxy-url %q: kubectl would connect through it, to wherever it forwards", t.Cluster, classify.HideUserinfo(t.ProxyURL))
	}
}

// globalFlags checks kubectl's root flags: identity, TLS, verbosity.
func (s *state) globalFlags() {
	p, a := s.p, s.a
	for _, f := range []string{"as", "as-group", "as-uid", "token", "client-certificate", "client-key", "username", "password"} {
		if p.has(f) {
			a.Raise(classify.Privilege, "--%s changes the identity the command acts as", f)
		}
	}
	if p.has("server") {
		for _, f := range []string{"insecure-skip-tls-verify", "certificate-authority", "tls-server-name"} {
			if f == "insecure-skip-tls-verify" && p.str(f) != "true" || !p.has(f) {
				continue
			}
			a.Raise(classify.Secret, "--server %q with --%s: the kubeconfig's credentials would go to a server whose certificate is not checked against the cluster's", p.str("server"), f)
		}
	} else if p.str("insecure-skip-tls-verify") == "true" {
		a.Raise(classify.Secret, "--insecure-skip-tls-verify: credentials would be sent without checking the server's certificate")
	}
	if v := p.str("v"); v != "" {
		s.verbosity, _ = strconv.Atoi(v)
	}
	if p.str("kuberc") != "" {
		a.Raise(classify.Read, "--kuberc is ignored: kubectl runs with KUBECTL_KUBERC=false")
	}
	if p.has("cache-dir") {
		a.Raise(classify.Read, "--cache-dir is ignored: kubectl asks the API server itself what resource types mean, never a discovery cache on disk")
	}
}

// dryRun reads --dry-run exactly as kubectl's GetDryRunStrategy does. It
// returns false when the value is invalid (the assessment is unknown).
func (s *state) dryRun() bool {
	f := s.p.cmd.Flags().Lookup("dry-run")
	if f == nil || !s.p.has("dry-run") {
		return true
	}
	v := s.p.str("dry-run")
	if b, err := strconv.ParseBool(v); err == nil {
		if b {
			s.dry = "client"
		}
	} else {
		switch v {
		case f.NoOptDefVal, "client":
			s.dry = "client"
		case "server":
			s.dry = "server"
		case "none":
		default:
			s.a.Raise(classify.Unknown, "kubectl would reject --dry-run=%q: must be \"none\", \"server\", or \"client\"", v)
			return false
		}
	}
	if s.dry != "" {
		s.a.DryRun = true
		s.a.Raise(classify.Read, "--dry-run=%s: nothing is persisted", s.dry)
	} else {
		s.a.Raise(classify.Read, "--dry-run=%s is not a dry run", v)
	}
	return true
}
