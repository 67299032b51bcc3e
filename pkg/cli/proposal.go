package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/agentctl/agentctl/pkg/approve"
	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/pipeline"
	"github.com/agentctl/agentctl/pkg/policy"
	"github.com/agentctl/agentctl/pkg/proposal"
	"github.com/agentctl/agentctl/pkg/run"
)

// bundleSuffix names a plan file's proposal bundle: PLAN.proposal.json.
const bundleSuffix = ".proposal.json"

// signatureFiles returns the approvals of bundle: BUNDLE.*.sig, sorted.
func signatureFiles(bundle string) ([]proposal.SignatureFile, error) {
	names, err := filepath.Glob(globEscape(bundle) + ".*.sig")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []proposal.SignatureFile
	for _, n := range names {
		b, err := readLimited(n, 64<<10)
		if err != nil {
			return nil, err
		}
		out = append(out, proposal.SignatureFile{Name: filepath.Base(n), Data: b})
	}
	return out, nil
}

func globEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`)
	return r.Replace(s)
}

func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	n := len(b)
	if int64(n) > limit {
		return nil, fmt.Errorf("%s: longer than %d bytes", path, limit)
	}
	return b[:n], nil
}

// signedApprover approves the apply of an agent's terraform plan file
// that has a proposal bundle next to it (PLAN.proposal.json), or a kubectl
// apply of manifests with one beside its first input, when enough
// keys of the root-owned allowed_signers file signed that bundle, and the
// bundle covers exactly this plan, this target and is unexpired. A request
// without a bundle goes to next. A bundle that does not verify is a
// denial with its reason; it never falls back to asking a human.
type signedApprover struct {
	next     approve.Approver
	allowed  string // allowed_signers path
	required int
	nonces   proposal.NonceStore
	now      func() time.Time
	// cluster reads the kube-system UID a kubectl bundle's pin is
	// compared with (nil: kubectl bundles are refused).
	cluster clusterReader
}

var _ approve.Approver = signedApprover{}

// Unattended is the approver the pipeline uses when nobody can be asked:
// signed bundles still approve, anything else is denied.
func (s signedApprover) Unattended() approve.Approver {
	s.next = approve.None{}
	return s
}

func (s signedApprover) Approve(ctx context.Context, r *approve.Request) (approve.Answer, error) {
	a := r.Assessment
	bundle, found := bundleOf(r)
	if !found {
		return s.next.Approve(ctx, r)
	}
	data, err := readLimited(bundle, proposal.MaxBundleSize)
	if errors.Is(err, os.ErrNotExist) {
		return s.next.Approve(ctx, r)
	}
	deny := func(err error) (approve.Answer, error) {
		return approve.Answer{Approved: false, Channel: "signed", Reason: oneLine(err.Error())}, nil
	}
	if err != nil {
		return deny(err)
	}
	// A bundle used before is refused first, whatever else changed since.
	if b, err := proposal.Parse(data); err == nil {
		if err := s.nonces.Check(b.Nonce); err != nil {
			return deny(err)
		}
	}
	ok, err := s.verify(ctx, a, r, data, bundle)
	if err != nil {
		return deny(err)
	}
	var who []string
	for _, sg := range ok.Signers {
		who = append(who, strings.Join(sg.Principals, ",")+" "+sg.Fingerprint)
	}
	// The nonce is spent before anything runs: a crash after this point
	// leaves the bundle used, never reusable.
	if err := s.nonces.Use(ok.Bundle.Nonce); err != nil {
		return deny(err)
	}
	return approve.Answer{Approved: true, Channel: "signed", Approver: strings.Join(who, "; "),
		Reason: "signed proposal bundle, nonce " + ok.Bundle.Nonce}, nil
}

// bundleOf is where the proposal bundle of an approval request would be:
// beside the agent's plan file of a terraform apply, beside the first
// manifest input of a plain kubectl apply (kubectlBundlePath).
func bundleOf(r *approve.Request) (string, bool) {
	a := r.Assessment
	switch {
	case a == nil:
		return "", false
	case a.Tool == "terraform":
		if a.Plan == nil || a.Plan.Owned || len(a.Exec.Args) == 0 || a.Exec.Args[0] != "apply" {
			return "", false
		}
		return a.Plan.Path + bundleSuffix, true
	case a.Tool == "kubectl" && a.Subcommand == "apply" && r.Req != nil:
		return kubectlBundlePath(r.Req.Cwd, a.Manifests)
	}
	return "", false
}

func (s signedApprover) verify(ctx context.Context, a *classify.Assessment, r *approve.Request, data []byte, bundle string) (*proposal.Approved, error) {
	signers, err := os.ReadFile(s.allowed)
	if err != nil {
		return nil, fmt.Errorf("approvals.allowedSigners: %w", err)
	}
	if fi, err := os.Stat(s.allowed); err != nil || !policy.Trusted(fi) {
		return nil, fmt.Errorf("approvals.allowedSigners %q must be owned by root and writable by nobody else", s.allowed)
	}
	allowed, err := proposal.ParseAllowedSigners(s.allowed, signers)
	if err != nil {
		return nil, err
	}
	sigs, err := signatureFiles(bundle)
	if err != nil {
		return nil, err
	}
	c := proposal.Check{Bundle: data, Signatures: sigs, Allowed: allowed, Required: s.required,
		Now: s.now(), Tool: a.Tool, Class: a.Class.String()}
	if a.Tool == "kubectl" {
		if err := s.kubectlCheck(ctx, a, data, &c); err != nil {
			return nil, err
		}
		return proposal.Verify(c)
	}
	if c.Target, c.Pins, err = terraformTarget(a, getenvFrom(r.Req.Env)); err != nil {
		return nil, err
	}
	c.SHA256 = a.Plan.SHA256
	return proposal.Verify(c)
}

// kubectlCheck fills in what a kubectl apply is checked against: the
// flattened manifests' hash, the target, and the cluster's kube-system UID
// and the versions of the objects the manifests name, read now. Only a plain apply (run.PlainApply) can be signed.
func (s signedApprover) kubectlCheck(ctx context.Context, a *classify.Assessment, data []byte, c *proposal.Check) error {
	if !run.PlainApply(a) {
		return fmt.Errorf("a signed kubectl apply takes only target flags and -f/-k: the bundle does not cover the others")
	}
	c.SHA256, c.Target = a.ManifestSHA256, kubectlTarget(a)
	if c.Target.Server == "" || c.Target.CAFingerprint == "" {
		return fmt.Errorf("cannot tell which cluster context %q is: its server or certificate authority is not known (insecure-skip-tls-verify, or no CA)", c.Target.Context)
	}
	b, err := proposal.Parse(data)
	if err != nil || b.Target != c.Target {
		return nil // Verify refuses it, and says why
	}
	if s.cluster == nil {
		return fmt.Errorf("cannot read the cluster's identity to check the bundle's pin")
	}
	c.Pins, err = kubectlPins(ctx, s.cluster, a)
	return err
}

func getenvFrom(env []string) func(string) string {
	return func(k string) string {
		for i := len(env) - 1; i >= 0; i-- {
			if v, ok := strings.CutPrefix(env[i], k+"="); ok {
				return v
			}
		}
		return ""
	}
}

// terraformTarget is the target and the live pins of an assessed apply:
// for the local backend the state file as it is now; for another backend
// the plan's own prior state (terraform refuses a plan whose state moved
// on: "Saved plan is stale").
func terraformTarget(a *classify.Assessment, getenv func(string) string) (proposal.Target, proposal.Pins, error) {
	t := proposal.Target{Workspace: a.Target.Workspace, Dir: a.Target.Dir,
		Backend: proposal.TerraformBackend(a.Target.Dir, getenv("TF_DATA_DIR"))}
	if t.Backend == "local" {
		p, err := proposal.LocalStatePins(a.Target.Dir, a.Target.Workspace)
		return t, p, err
	}
	data, err := os.ReadFile(a.Plan.Path)
	if err != nil {
		return t, proposal.Pins{}, err
	}
	if proposal.HashBytes(data) != a.Plan.SHA256 {
		return t, proposal.Pins{}, fmt.Errorf("plan file %q changed while it was checked", a.Plan.Path)
	}
	p, err := proposal.TerraformPins(a.Plan.Path, data)
	return t, p, err
}

func oneLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// wireSignedApprovals puts a signedApprover in front of the pipeline's
// approver when the admin config names approvals.allowedSigners.
func wireSignedApprovals(f *Factory, p *pipeline.Pipeline, admin *adminConfig) {
	if admin.Approvals.AllowedSigners == "" {
		return
	}
	next := p.Approver
	if next == nil {
		next = approve.None{}
	}
	cluster, _ := p.Executor.(clusterReader)
	p.Approver = signedApprover{next: next, allowed: admin.Approvals.AllowedSigners, required: admin.Approvals.Required,
		nonces: proposal.NonceStore{Dir: filepath.Join(stateDir(f), "nonces")}, now: time.Now, cluster: cluster}
}
