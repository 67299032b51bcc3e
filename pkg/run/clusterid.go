package run

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/policy"
)

// uidPattern is what an object UID looks like (a UUID).
var uidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// ClusterUID reads the UID of the kube-system namespace of the cluster a
// kubectl command goes to: the cluster's identity, which a proposal bundle
// pins (a rebuilt cluster behind the same URL and CA has another). It is a
// kubectl get with the command's own target flags and kubeconfig
// snapshot, run as a sandboxed read with the read identity.
func (e *LocalExecutor) ClusterUID(ctx context.Context, a *classify.Assessment) (string, error) {
	args := append(targetArgs(a.Exec.Args), "get", "namespace", "kube-system", "-o", "jsonpath={.metadata.uid}")
	get := &classify.Assessment{
		Tool: "kubectl", Class: classify.Read, Subcommand: "get", Target: a.Target,
		Exec: classify.Invocation{Args: args, Kubeconfig: a.Exec.Kubeconfig},
	}
	var out, errOut bytes.Buffer
	rep, err := e.Execute(ctx, get, policy.Decision{Action: policy.Sandbox, SandboxRequired: true}, Stdio{Stdout: &out, Stderr: &errOut})
	if err != nil {
		return "", fmt.Errorf("cannot read the cluster's kube-system namespace: %w", err)
	}
	if rep.ExitCode != 0 {
		return "", fmt.Errorf("cannot read the cluster's kube-system namespace: kubectl get: exit %d: %s", rep.ExitCode, firstLine(errOut.String()))
	}
	uid := strings.TrimSpace(out.String())
	if !uidPattern.MatchString(uid) {
		return "", fmt.Errorf("the cluster's kube-system namespace has no UID kubectl could read (got %q)", uid)
	}
	return uid, nil
}

// PlainApply says whether a is a kubectl apply of its manifests and nothing
// else: target flags (context, cluster, namespace, server, ...), the verb
// and "-f -" with the assessed bytes. A signed proposal bundle names the
// manifests and the target, not other flags (--prune, --force,
// --server-side, a selector), so only such an apply is proposed and run.
func PlainApply(a *classify.Assessment) bool {
	return a.Tool == "kubectl" && a.Subcommand == "apply" && a.Exec.Stdin != nil && !a.DryRun && onlyTargetFlags(a.Exec.Args, "apply")
}

// ObjectVersions lists the live objects a kubectl apply's manifests name,
// one "KIND NAMESPACE NAME RESOURCEVERSION" line each (objects that do
// not exist yet are left out): the state a diff is made against. It is a
// kubectl get of the same manifest bytes with the command's target flags,
// a sandboxed read with the read identity.
func (e *LocalExecutor) ObjectVersions(ctx context.Context, a *classify.Assessment) (string, error) {
	args := append(targetArgs(a.Exec.Args), "get", "-f", "-", "--ignore-not-found", "--no-headers",
		"-o", "custom-columns=KIND:.kind,NAMESPACE:.metadata.namespace,NAME:.metadata.name,VERSION:.metadata.resourceVersion")
	get := &classify.Assessment{
		Tool: "kubectl", Class: classify.Read, Subcommand: "get", Target: a.Target,
		Exec: classify.Invocation{Args: args, Stdin: a.Exec.Stdin, Kubeconfig: a.Exec.Kubeconfig, Resolved: a.Exec.Resolved},
	}
	var out, errOut bytes.Buffer
	rep, err := e.Execute(ctx, get, policy.Decision{Action: policy.Sandbox, SandboxRequired: true}, Stdio{Stdout: &out, Stderr: &errOut})
	if err != nil {
		return "", fmt.Errorf("cannot read the objects the manifests name: %w", err)
	}
	if rep.ExitCode != 0 {
		return "", fmt.Errorf("cannot read the objects the manifests name: kubectl get: exit %d: %s", rep.ExitCode, firstLine(errOut.String()))
	}
	return out.String(), nil
}
