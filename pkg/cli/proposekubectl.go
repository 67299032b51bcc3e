package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/agentctl/agentctl/pkg/classify"
	kubectlclass "github.com/agentctl/agentctl/pkg/classify/kubectl"
	"github.com/agentctl/agentctl/pkg/pipeline"
	"github.com/agentctl/agentctl/pkg/policy"
	"github.com/agentctl/agentctl/pkg/proposal"
	"github.com/agentctl/agentctl/pkg/request"
	"github.com/agentctl/agentctl/pkg/run"
)

// kubectlBundlePath is where the proposal bundle of a kubectl apply of
// manifests lives: beside its first -f or -k input, the input's absolute
// path with ".proposal.json" appended (deploy.yaml.proposal.json; for a
// directory deploy/, deploy.proposal.json beside it, never inside it,
// where kubectl would read it as a manifest). ok is false when the inputs
// name no path a bundle can sit beside: stdin, a URL, a glob, /.
func kubectlBundlePath(cwd string, inputs []string) (path string, ok bool) {
	if len(inputs) == 0 {
		return "", false
	}
	in := inputs[0]
	if in == "" || in == "-" || strings.Contains(in, "://") || strings.ContainsAny(in, "*?[") {
		return "", false
	}
	if !filepath.IsAbs(in) {
		in = filepath.Join(cwd, in)
	}
	in = filepath.Clean(in)
	if in == string(filepath.Separator) {
		return "", false
	}
	return in + bundleSuffix, true
}

// clusterReader reads a cluster's identity and the state of the objects
// an apply names (run.LocalExecutor.ClusterUID, ObjectVersions).
type clusterReader interface {
	ClusterUID(ctx context.Context, a *classify.Assessment) (string, error)
	ObjectVersions(ctx context.Context, a *classify.Assessment) (string, error)
}

// kubectlPins reads the pins of a kubectl apply from its cluster.
func kubectlPins(ctx context.Context, r clusterReader, a *classify.Assessment) (proposal.Pins, error) {
	uid, err := r.ClusterUID(ctx, a)
	if err != nil {
		return proposal.Pins{}, err
	}
	objs, err := r.ObjectVersions(ctx, a)
	if err != nil {
		return proposal.Pins{}, err
	}
	return proposal.Pins{ClusterUID: uid, Objects: proposal.HashBytes([]byte(objs))}, nil
}

// kubectlTarget is the target a kubectl bundle names, from an assessment.
func kubectlTarget(a *classify.Assessment) proposal.Target {
	t := a.Target
	return proposal.Target{Context: t.Context, Cluster: t.Cluster, Server: t.Server, CAFingerprint: t.CASHA256, Namespace: t.Namespace}
}

// proposeKubectlRun is `agentctl propose kubectl apply -f ...`: assess the
// apply (its manifests read and flattened once, as the apply reads them),
// compute the server-side dry-run diff of exactly those bytes and read the
// cluster's kube-system UID (sandboxed reads, read identity), and write
// the bundle beside the first input. Nothing is applied.
func proposeKubectlRun(cmd *cobra.Command, f *Factory, opts *proposeOptions, args []string) error {
	req, err := newRequest(f, "kubectl", args)
	if err != nil {
		return err
	}
	p, cleanup, err := newPipeline(f)
	if err != nil {
		return err
	}
	defer cleanup()
	ctx := cmd.Context()
	a, d, err := p.Assess(ctx, req)
	if a != nil && p.Cleanup != nil {
		defer p.Cleanup(a)
	}
	if err != nil {
		return err
	}
	if a.Subcommand != "apply" {
		return &UsageError{Err: fmt.Errorf("cannot propose kubectl %q: only kubectl apply is supported\nhint: agentctl propose kubectl apply -f deploy/", a.Subcommand)}
	}
	if d.Action == policy.Deny {
		// What the policy refuses cannot be applied, signed or not.
		p.Auditor.Decision(&pipeline.Event{Req: req, Assessment: a, Decision: d})
		return &pipeline.DeniedError{RequestID: req.ID, Assessment: a, Decision: d, Message: d.Message}
	}
	if a.Exec.Stdin == nil || a.DryRun || a.Class == classify.Read {
		return &UsageError{Err: fmt.Errorf("kubectl apply without manifests to apply (or a dry run): nothing to propose\nhint: agentctl propose kubectl apply -f deploy/")}
	}
	if !run.PlainApply(a) {
		return &UsageError{Err: fmt.Errorf("cannot propose %q: a proposal names the manifests and the target only, not other flags of apply\nhint: propose kubectl [--context C] [-n NS] apply -f FILE|DIR [-R] | -k DIR", strings.Join(args, " "))}
	}
	bundle, ok := kubectlBundlePath(req.Cwd, a.Manifests)
	if !ok {
		return &UsageError{Err: fmt.Errorf("cannot propose manifests from %q: the bundle is written beside the first -f or -k path\nhint: pass the manifests as a file or directory: agentctl propose kubectl apply -f deploy/", strings.Join(a.Manifests, ","))}
	}
	t := kubectlTarget(a)
	if t.Server == "" || t.CAFingerprint == "" {
		return &hintError{msg: fmt.Sprintf("cannot pin the cluster of context %q: its server or certificate authority is not known (insecure-skip-tls-verify, or no CA in the kubeconfig)", t.Context),
			hint: "a signed apply must name its cluster: put the cluster's CA (certificate-authority-data) in the kubeconfig"}
	}
	reader, ok := p.Executor.(clusterReader)
	if !ok || p.Preview == nil {
		return fmt.Errorf("this agentctl cannot read the cluster to propose")
	}
	pins, err := kubectlPins(ctx, reader, a)
	if err != nil {
		return err
	}
	pv, err := p.Preview(ctx, a)
	if err != nil {
		// As on the approval screen: the human is told why there is no
		// diff (a read identity without dry-run rights, say).
		pv.Diff = "cannot compute the change: " + oneLine(err.Error())
		fmt.Fprintf(f.IO.ErrOut, "agentctl: warning: %s\n", pv.Diff)
	}
	b, err := newBundle("kubectl", a.ManifestSHA256, a, t, pv.Diff, opts.Expires, pins)
	if err != nil {
		return err
	}
	if proposal.HashBytes(a.Exec.Stdin) != b.SHA256 {
		return fmt.Errorf("internal error: the manifests' hash is not of the bytes that would run")
	}
	enc, err := b.Marshal()
	if err != nil {
		return err
	}
	if err := writeBundle(bundle, enc); err != nil {
		return err
	}
	if f.Global.JSON() {
		return json.NewEncoder(f.IO.Out).Encode(map[string]any{"bundle": bundle, "manifests": a.Manifests, "sha256": b.SHA256,
			"class": b.Class, "nonce": b.Nonce, "expires": b.Expires, "clusterUid": pins.ClusterUID, "noChanges": pv.Diff == run.NoChanges})
	}
	fmt.Fprintf(f.IO.ErrOut, "agentctl: proposal %s (%s, %d object(s), manifests sha256 %s)\nhint: a human signs it with: agentctl approve %s\n",
		bundle, b.Class, len(a.Resources), short(b.SHA256), filepath.Base(bundle))
	return nil
}

// manifestsMatch says how the manifests at in (the path a kubectl bundle
// sits beside) flatten to sha, as the apply would read them: "-f", "-R -f"
// or "-k"; "" when none does. Classification is offline: only the bytes
// matter here.
func manifestsMatch(f *Factory, in, sha string) string {
	c := kubectlclass.New(kubectlclass.Options{})
	for _, how := range [][]string{{"-f"}, {"-R", "-f"}, {"-k"}} {
		args := append(append([]string{"apply"}, how...), in)
		a, err := c.Classify(context.Background(), &request.Request{Tool: "kubectl", Args: args, Cwd: filepath.Dir(in), Env: f.Environ})
		if err != nil || a == nil {
			continue
		}
		if a.Exec.Scratch != "" {
			os.RemoveAll(a.Exec.Scratch)
		}
		if a.Exec.Stdin != nil && a.ManifestSHA256 == sha {
			return strings.Join(how, " ")
		}
	}
	return ""
}
