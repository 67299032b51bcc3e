package run

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/agentctl/agentctl/pkg/approve"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/policy"
)

// targetFlags are the kubectl flags that choose where a command goes; a
// diff computed for approval must go to the same place.
var targetFlags = map[string]bool{
	"--kubeconfig": true, "--context": true, "--cluster": true, "--user": true,
	"-n": true, "--namespace": true, "--server": true, "-s": true,
	"--certificate-authority": true, "--tls-server-name": true,
}

// diffable are the kubectl subcommands whose change a server-side dry run
// can show.
var diffable = map[string]bool{"apply": true, "create": true, "replace": true}

// NoChanges is the diff shown when kubectl diff finds that the cluster
// already matches.
const NoChanges = "(no changes: the cluster already matches)"

// Preview is what the approval screen shows of a change besides the
// command itself.
type Preview struct {
	Diff string
	// NoOp: kubectl diff of exactly what is applied found nothing to
	// change, and the command does nothing else (no flags but the ones
	// that choose the target).
	NoOp bool
	// Live is what a delete matches now.
	Live *approve.Live
}

// Preview computes what an approver is shown: [LocalExecutor.Diff] and, for
// a kubectl delete, [LocalExecutor.Live]. Both are sandboxed reads with
// the read identity; neither changes what runs.
func (e *LocalExecutor) Preview(ctx context.Context, a *classify.Assessment) (Preview, error) {
	var pv Preview
	if a.Matches != nil {
		pv.Live = e.Live(ctx, a, time.Now())
	}
	diff, noop, err := e.diff(ctx, a)
	pv.Diff, pv.NoOp = diff, noop
	return pv, err
}

// Live lists what a kubectl delete matches now: kubectl get with the
// delete's own selection ([classify.Matches]) and target flags, the same
// manifest bytes on stdin, under the read identity in the sandbox, asking
// for metadata and summary fields only ([approve.LiveColumns]).
func (e *LocalExecutor) Live(ctx context.Context, a *classify.Assessment, now time.Time) *approve.Live {
	m := a.Matches
	l := &approve.Live{Selector: m.Selector, Open: m.Open}
	args := append(targetArgs(a.Exec.Args), "get")
	args = append(args, m.Args...)
	args = append(args, "--ignore-not-found", "--no-headers", "-o", "custom-columns="+approve.LiveColumns)
	get := &classify.Assessment{
		Tool: "kubectl", Class: classify.Read, Subcommand: "get", Target: a.Target,
		Exec: classify.Invocation{Args: args, Kubeconfig: a.Exec.Kubeconfig, Resolved: a.Exec.Resolved},
	}
	if len(m.Args) > 0 && m.Args[0] == "-f" {
		get.Exec.Stdin = a.Exec.Stdin
	}
	var out, errOut bytes.Buffer
	rep, err := e.Execute(ctx, get, policy.Decision{Action: policy.Sandbox, SandboxRequired: true}, Stdio{Stdout: &out, Stderr: &errOut})
	switch {
	case err != nil:
		l.Error = "cannot read what it matches: " + err.Error()
	case rep.ExitCode != 0:
		l.Error = fmt.Sprintf("cannot read what it matches: kubectl get: exit %d: %s", rep.ExitCode, firstLine(errOut.String()))
	default:
		objs, perr := approve.ParseLive(out.String(), now)
		if perr != nil {
			l.Error = "cannot read what it matches: " + perr.Error()
		}
		l.Objects = objs
	}
	return l
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return l
}

// targetArgs are the flags of args that choose where a command goes.
func targetArgs(all []string) []string {
	var args []string
	for i := 0; i < len(all); i++ {
		arg := all[i]
		name, _, hasValue := strings.Cut(arg, "=")
		if !targetFlags[name] {
			if strings.HasPrefix(arg, "-n") && len(arg) > 2 && !strings.HasPrefix(arg, "--") {
				args = append(args, arg) // -nprod
			}
			continue
		}
		args = append(args, arg)
		if !hasValue && i+1 < len(all) {
			i++
			args = append(args, all[i])
		}
	}
	return args
}

// onlyTargetFlags says whether args are target flags, one verb and "-f -":
// nothing that makes the command do more than apply the manifests.
func onlyTargetFlags(all []string, verb string) bool {
	rest := append([]string(nil), all...)
	t := targetArgs(all)
	// Remove the target flags, in order, from rest.
	j := 0
	var left []string
	for _, arg := range rest {
		if j < len(t) && arg == t[j] {
			j++
			continue
		}
		left = append(left, arg)
	}
	return j == len(t) && len(left) == 3 && left[0] == verb && left[1] == "-f" && left[2] == "-"
}

// Diff computes the change an approver is shown: for kubectl commands
// that send manifests, `kubectl diff` of exactly the assessed bytes (a
// server-side dry run, run as a sandboxed read with the read identity);
// for terraform, the rendered plan of the exact plan file.
func (e *LocalExecutor) Diff(ctx context.Context, a *classify.Assessment) (string, error) {
	d, _, err := e.diff(ctx, a)
	return d, err
}

func (e *LocalExecutor) diff(ctx context.Context, a *classify.Assessment) (string, bool, error) {
	if a.Plan != nil {
		return a.Plan.Rendered, false, nil
	}
	verb := firstWord(a.Subcommand)
	if a.Tool != "kubectl" || a.Exec.Stdin == nil || !diffable[verb] {
		return "", false, nil
	}
	args := append(targetArgs(a.Exec.Args), "diff", "-f", "-")
	diff := &classify.Assessment{
		Tool: "kubectl", Class: classify.Read, Subcommand: "diff", Target: a.Target,
		Exec: classify.Invocation{Args: args, Stdin: a.Exec.Stdin, Kubeconfig: a.Exec.Kubeconfig},
	}
	var out, errOut bytes.Buffer
	rep, err := e.Execute(ctx, diff, policy.Decision{Action: policy.Sandbox, SandboxRequired: true}, Stdio{Stdout: &out, Stderr: &errOut})
	if err != nil {
		return "", false, err
	}
	switch rep.ExitCode {
	case 0:
		return NoChanges, onlyTargetFlags(a.Exec.Args, verb), nil
	case 1: // kubectl diff: differences found
		return out.String(), false, nil
	}
	return "", false, fmt.Errorf("kubectl diff: exit %d: %s", rep.ExitCode, strings.TrimSpace(errOut.String()))
}

func firstWord(s string) string {
	w, _, _ := strings.Cut(s, " ")
	return w
}
