package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/proposal"
	"github.com/agentctl/agentctl/pkg/run"
)

type proposeOptions struct {
	Expires time.Duration
}

// newProposeCmd returns `agentctl propose terraform plan -out=FILE ...`.
func newProposeCmd(f *Factory) *cobra.Command {
	opts := &proposeOptions{}
	cmd := &cobra.Command{
		Use:   "propose [--expires DURATION] (terraform plan -out=PLAN | kubectl apply -f FILE|DIR | kubectl apply -k DIR) [ARGS...]",
		Short: "Plan a change and write a proposal bundle for humans to sign",
		Long: `Propose runs terraform plan through agentctl's pipeline, as
"agentctl terraform plan" does (sandboxed, under the read identity), then
classifies the saved plan as its apply would be and writes a proposal
bundle next to it, PLAN.proposal.json: the plan file's SHA-256, its class
and reasons, the target (workspace, backend, directory), the rendered plan,
creation and expiry times, a random nonce, and the state's lineage and
serial the plan was made against.

For kubectl apply, propose reads the manifests (-f files, directories,
-k kustomizations) once and flattens them into the exact stream the apply
feeds kubectl, classifies them, computes the server-side dry-run diff of
those bytes and reads the cluster's kube-system namespace UID (sandboxed,
under the read identity); nothing is applied. The bundle goes beside the
first input: deploy.yaml.proposal.json, or deploy.proposal.json for a
directory deploy/. It pins the manifests' SHA-256, the context, cluster,
server, CA and namespace, and the cluster's UID.

Humans sign the bundle with "agentctl approve"; "agentctl terraform apply
PLAN" (or the same "agentctl kubectl apply -f ...") then runs without a
human where the admin config's approvals allow the signers (docs/ci.md).
With --output json it prints the bundle's path, hash, class and nonce as
one JSON object.`,
		Example: `  agentctl propose terraform plan -out=prod.tfplan
  agentctl --output json propose --expires 4h terraform plan -out=prod.tfplan -var-file=prod.tfvars
  agentctl propose kubectl --context prod -n web apply -f deploy/`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Expires <= 0 {
				return &UsageError{Err: fmt.Errorf("--expires %s is not a positive duration", opts.Expires)}
			}
			switch {
			case args[0] == "terraform" && args[1] == "plan":
				return proposeRun(cmd, f, opts, args[1:])
			case args[0] == "kubectl":
				return proposeKubectlRun(cmd, f, opts, args[1:])
			}
			return &UsageError{Err: fmt.Errorf("cannot propose %q: only terraform plan and kubectl apply are supported\nhint: agentctl propose terraform plan -out=PLAN, or agentctl propose kubectl apply -f DIR", strings.Join(args, " "))}
		},
	}
	cmd.Flags().DurationVar(&opts.Expires, "expires", 24*time.Hour, "how long the bundle can be applied")
	cmd.Flags().SetInterspersed(false)
	return cmd
}

// planOut returns the -out= of terraform plan arguments.
func planOut(args []string) string {
	out := ""
	for i := 0; i < len(args); i++ {
		a := strings.TrimPrefix(args[i], "-")
		if v, ok := strings.CutPrefix(a, "out="); ok {
			out = v
		} else if a == "out" && i+1 < len(args) {
			out = args[i+1]
			i++
		}
	}
	return out
}

func proposeRun(cmd *cobra.Command, f *Factory, opts *proposeOptions, args []string) error {
	out := planOut(args)
	if out == "" {
		return &UsageError{Err: fmt.Errorf("terraform plan without -out: nothing to propose\nhint: agentctl propose terraform plan -out=prod.tfplan")}
	}
	req, err := newRequest(f, "terraform", args)
	if err != nil {
		return err
	}
	p, cleanup, err := newPipeline(f)
	if err != nil {
		return err
	}
	defer cleanup()
	stdout := f.IO.Out
	if f.Global.JSON() {
		stdout = f.IO.ErrOut // stdout is the JSON object
	}
	code, err := p.Run(cmd.Context(), req, run.Stdio{Stdin: f.IO.In, Stdout: stdout, Stderr: f.IO.ErrOut})
	if err != nil {
		return err
	}
	if code != 0 {
		return &ExitError{Code: code}
	}
	// The plan is classified as its apply would be: what a human signs
	// is what `agentctl terraform apply PLAN` would be asked.
	areq, err := newRequest(f, "terraform", []string{"apply", out})
	if err != nil {
		return err
	}
	a, _, err := p.Assess(cmd.Context(), areq)
	if a != nil && p.Cleanup != nil {
		defer p.Cleanup(a)
	}
	if err != nil {
		return err
	}
	if a.Plan == nil {
		return fmt.Errorf("terraform plan %q: no plan to propose", out)
	}
	data, err := os.ReadFile(a.Plan.Path)
	if err != nil {
		return err
	}
	if proposal.HashBytes(data) != a.Plan.SHA256 {
		return fmt.Errorf("plan file %q changed while it was proposed", a.Plan.Path)
	}
	pins, err := proposal.TerraformPins(a.Plan.Path, data)
	if err != nil {
		return err
	}
	b, err := newBundle("terraform", a.Plan.SHA256, a, proposal.Target{Workspace: a.Target.Workspace, Dir: a.Target.Dir,
		Backend: proposal.TerraformBackend(a.Target.Dir, f.Getenv("TF_DATA_DIR"))}, a.Plan.Rendered, opts.Expires, pins)
	if err != nil {
		return err
	}
	enc, err := b.Marshal()
	if err != nil {
		return err
	}
	path := a.Plan.Path + bundleSuffix
	if err := writeBundle(path, enc); err != nil {
		return err
	}
	if f.Global.JSON() {
		return json.NewEncoder(f.IO.Out).Encode(map[string]any{"bundle": path, "plan": a.Plan.Path, "sha256": b.SHA256,
			"class": b.Class, "summary": a.Plan.Summary, "nonce": b.Nonce, "expires": b.Expires})
	}
	fmt.Fprintf(f.IO.ErrOut, "agentctl: proposal %s (%s, %s, plan sha256 %s)\nhint: a human signs it with: agentctl approve %s\n",
		path, b.Class, a.Plan.Summary, short(b.SHA256), filepath.Base(path))
	return nil
}

// writeBundle writes a new bundle at path and removes the signatures
// beside it (path.*.sig): they signed the bundle it replaces, and one that
// does not verify refuses the apply of the new one.
func writeBundle(path string, enc []byte) error {
	if err := os.WriteFile(path, enc, 0o644); err != nil {
		return fmt.Errorf("write the proposal bundle: %w", err)
	}
	old, err := filepath.Glob(globEscape(path) + ".*.sig")
	if err != nil {
		return err
	}
	for _, s := range old {
		if err := os.Remove(s); err != nil {
			return fmt.Errorf("remove the signature of the bundle replaced: %w", err)
		}
	}
	return nil
}

// newBundle is the proposal of what a assessed: the bytes' hash, its
// class and reasons, target, summary and pins, created now with a fresh
// nonce, expiring after expires.
func newBundle(tool, sha256 string, a *classify.Assessment, t proposal.Target, summary string, expires time.Duration, pins proposal.Pins) (*proposal.Bundle, error) {
	nonce, err := proposal.NewNonce()
	if err != nil {
		return nil, err
	}
	var reasons []string
	for _, r := range a.Reasons {
		reasons = append(reasons, r.Message)
	}
	now := time.Now().UTC().Truncate(time.Second)
	return &proposal.Bundle{
		Version: proposal.Version, Tool: tool, SHA256: sha256, Class: a.Class.String(), Reasons: reasons,
		Target: t, Summary: summary, Created: now, Expires: now.Add(expires), Nonce: nonce, Pins: pins,
	}, nil
}
