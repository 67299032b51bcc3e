package converge

import (
	"fmt"
	"strings"

	"github.com/agentctl/agentctl/pkg/classify"
)

// valueFlags are the kubectl flags of change commands that take a value
// as the next argument, so that value is not read as a pair or a name.
var valueFlags = map[string]bool{
	"-n": true, "--namespace": true, "-l": true, "--selector": true, "-f": true, "--filename": true,
	"-k": true, "--kustomize": true, "-o": true, "--output": true, "--context": true, "--cluster": true,
	"--user": true, "--kubeconfig": true, "-s": true, "--server": true, "--token": true, "--as": true,
	"--as-group": true, "--as-uid": true, "--field-selector": true, "--resource-version": true,
	"--type": true, "-p": true, "--patch": true, "--patch-file": true, "--replicas": true,
	"--current-replicas": true, "--timeout": true, "--template": true, "--field-manager": true,
	"--subresource": true, "-c": true, "--containers": true, "--request-timeout": true,
	"--certificate-authority": true, "--client-certificate": true, "--client-key": true,
	"--tls-server-name": true, "--cache-dir": true, "--password": true, "--username": true,
}

// changeVerbs are the kubectl subcommands whose objects are checked.
var changeVerbs = map[string]bool{
	"apply": true, "create": true, "replace": true, "patch": true, "scale": true, "label": true,
	"annotate": true, "delete": true, "autoscale": true, "expose": true, "rollout restart": true,
	"rollout undo": true, "rollout resume": true, "set image": true, "set env": true,
	"set resources": true, "set selector": true, "set serviceaccount": true, "set subject": true,
}

// parsed is a kubectl argv split into flag values and positional args.
type parsed struct {
	flags map[string]string
	pos   []string
}

func parseArgs(args []string) parsed {
	p := parsed{flags: map[string]string{}}
	for i := 0; i < len(args); i++ {
		s := args[i]
		switch {
		case s == "--":
			p.pos = append(p.pos, args[i+1:]...)
			return p
		case strings.HasPrefix(s, "-") && len(s) > 1:
			name, val, hasVal := strings.Cut(s, "=")
			if !hasVal && valueFlags[name] && i+1 < len(args) {
				i++
				val = args[i]
			}
			p.flags[name] = val
		default:
			p.pos = append(p.pos, s)
		}
	}
	return p
}

func (p parsed) flag(names ...string) (string, bool) {
	for _, n := range names {
		if v, ok := p.flags[n]; ok {
			return v, true
		}
	}
	return "", false
}

// FromAssessment returns the intents of an assessed kubectl change (nil
// for a command that changes nothing, a dry run, a read) and notes on what
// it cannot check (objects chosen by a selector, --all). The manifest
// bytes are the ones that ran (Exec.Stdin).
func FromAssessment(a *classify.Assessment) ([]Intent, []string, error) {
	if a == nil || a.Tool != "kubectl" || a.DryRun || !changeVerbs[a.Subcommand] {
		return nil, nil, nil
	}
	p := parseArgs(a.Exec.Args)
	var notes []string
	if _, ok := p.flag("-l", "--selector", "--all", "-A", "--all-namespaces", "--field-selector"); ok {
		notes = append(notes, "objects chosen by a selector or --all are not checked, only objects named")
	}
	if f, ok := p.flag("-f", "--filename", "-k", "--kustomize"); ok && a.Subcommand != "delete" {
		if f != "-" || a.Exec.Stdin == nil {
			return nil, append(notes, "manifests not read from the approved bytes: not checked"), nil
		}
		ins, err := FromManifests([]string{string(a.Exec.Stdin)}, a.Target.Namespace, namespacedBy(a))
		return ins, notes, err
	}
	var out []Intent
	for _, r := range a.Resources {
		if r.Name == "" || r.Kind == "" || r.Source != classify.SourceArgv && r.Source != classify.SourceManifest {
			continue
		}
		ref := Ref{Group: r.Group, Version: r.Version, Kind: r.Kind, Resource: r.Resource, Namespace: r.Namespace, Name: r.Name}
		in := Intent{Ref: ref, Op: OpSet}
		switch a.Subcommand {
		case "delete":
			in.Op = OpDelete
		case "scale":
			if v, ok := p.flag("--replicas"); ok {
				var n int64
				if _, err := fmt.Sscan(v, &n); err != nil {
					return nil, nil, fmt.Errorf("cannot read --replicas %q", v)
				}
				in = Scale(ref, n)
			}
		case "set image":
			imgs := map[string]string{}
			for _, kv := range pairs(p.pos) {
				k, v, _ := strings.Cut(kv, "=")
				imgs[k] = v
			}
			in = SetImage(ref, imgs)
		case "label", "annotate":
			field := "labels"
			if a.Subcommand == "annotate" {
				field = "annotations"
			}
			in = Meta(ref, field, pairs(p.pos))
		case "patch":
			if v, ok := p.flag("-p", "--patch"); ok {
				typ, _ := p.flag("--type")
				pi, err := Patch(ref, []byte(v), typ)
				if err != nil {
					return nil, nil, err
				}
				in = pi
			}
		}
		out = append(out, in)
	}
	return out, notes, nil
}

// pairs are the key=value and key- arguments of label, annotate and set
// image: no type or name holds "=" or ends with "-".
func pairs(pos []string) []string {
	var out []string
	for _, s := range pos {
		if strings.Contains(s, "=") || strings.HasSuffix(s, "-") {
			out = append(out, s)
		}
	}
	return out
}

// namespacedBy tells from the classifier's resolved resources whether a
// manifest kind is namespaced.
func namespacedBy(a *classify.Assessment) func(apiVersion, kind string) bool {
	return func(_, kind string) bool {
		for _, r := range a.Resources {
			if r.Kind == kind {
				return r.Namespace != ""
			}
		}
		return true
	}
}
