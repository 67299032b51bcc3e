package run

import (
	"bytes"
	"context"
	"fmt"
	"strings"

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

// Diff computes what an approver is shown as the change: for kubectl
// commands that send manifests, `kubectl diff` of exactly the assessed
// bytes (a server-side dry run, run as a sandboxed read with the read
// identity); for terraform, the rendered plan of the exact plan file.
func (e *LocalExecutor) Diff(ctx context.Context, a *classify.Assessment) (string, error) {
	if a.Plan != nil {
		return a.Plan.Rendered, nil
	}
	if a.Tool != "kubectl" || a.Exec.Stdin == nil || !diffable[firstWord(a.Subcommand)] {
		return "", nil
	}
	args := []string{"diff"}
	for i := 0; i < len(a.Exec.Args); i++ {
		arg := a.Exec.Args[i]
		name, _, hasValue := strings.Cut(arg, "=")
		if !targetFlags[name] {
			if strings.HasPrefix(arg, "-n") && len(arg) > 2 && !strings.HasPrefix(arg, "--") {
				args = append(args, arg) // -nprod
			}
			continue
		}
		args = append(args, arg)
		if !hasValue && i+1 < len(a.Exec.Args) {
			i++
			args = append(args, a.Exec.Args[i])
		}
	}
	args = append(args, "-f", "-")
	diff := &classify.Assessment{
		Tool: "kubectl", Class: classify.Read, Subcommand: "diff", Target: a.Target,
		Exec: classify.Invocation{Args: args, Stdin: a.Exec.Stdin, Kubeconfig: a.Exec.Kubeconfig},
	}
	var out, errOut bytes.Buffer
	rep, err := e.Execute(ctx, diff, policy.Decision{Action: policy.Sandbox, SandboxRequired: true}, Stdio{Stdout: &out, Stderr: &errOut})
	if err != nil {
		return "", err
	}
	switch rep.ExitCode {
	case 0:
		return "(no changes: the cluster already matches)", nil
	case 1: // kubectl diff: differences found
		return out.String(), nil
	}
	return "", fmt.Errorf("kubectl diff: exit %d: %s", rep.ExitCode, strings.TrimSpace(errOut.String()))
}

func firstWord(s string) string {
	w, _, _ := strings.Cut(s, " ")
	return w
}
