package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/agentctl/agentctl/pkg/approve"
	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/credentials"
	"github.com/agentctl/agentctl/pkg/proposal"
	"github.com/agentctl/agentctl/pkg/termsafe"
	"github.com/agentctl/agentctl/pkg/tui"
)

type approveOptions struct {
	Key            string
	Verify         bool
	AllowedSigners string
}

// newApproveCmd returns `agentctl approve BUNDLE`: show a proposal
// bundle and sign it with the human's SSH key.
func newApproveCmd(f *Factory) *cobra.Command {
	opts := &approveOptions{}
	cmd := &cobra.Command{
		Use:   "approve [--key FILE] BUNDLE | approve --verify [--allowed-signers FILE] BUNDLE",
		Short: "Review a proposal bundle and sign it with your SSH key",
		Long: `Approve shows a proposal bundle (what "agentctl propose" wrote): the
class, the target, the pins and the rendered plan, asks for confirmation on
standard input ("yes"; the workspace's name for a privilege or unknown
change), then signs the bundle file's exact bytes with your SSH key in the
signature format git and "ssh-keygen -Y sign" use, namespace "agentctl".
The signature is written next to the bundle as BUNDLE.<key>.sig.

The key is --key FILE (an unencrypted private key), or the one key of the
ssh-agent at SSH_AUTH_SOCK; with several keys in the agent, --key names the
public key (.pub) to use.

With --verify it prints who signed the bundle and what, checking each
signature, and with --allowed-signers (or the admin config's
approvals.allowedSigners) whether the signer is allowed.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Verify {
				return verifyBundleRun(f, opts, args[0])
			}
			return approveBundleRun(f, opts, args[0])
		},
	}
	cmd.Flags().StringVar(&opts.Key, "key", "", "SSH private key file, or the public key of the ssh-agent key to sign with")
	cmd.Flags().BoolVar(&opts.Verify, "verify", false, "print who signed the bundle instead of signing it")
	cmd.Flags().StringVar(&opts.AllowedSigners, "allowed-signers", "", "with --verify: an allowed_signers file to check signers against")
	return cmd
}

func readBundle(path string) ([]byte, *proposal.Bundle, error) {
	data, err := readLimited(path, proposal.MaxBundleSize)
	if err != nil {
		return nil, nil, err
	}
	b, err := proposal.Parse(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return data, b, nil
}

func writeBundleSummary(w io.Writer, b *proposal.Bundle) {
	t := b.Target
	if b.Tool == "kubectl" {
		fmt.Fprintf(w, "proposal:  kubectl apply, %s change, manifests sha256 %s\n", b.Class, b.SHA256)
		fmt.Fprintf(w, "target:    context=%s cluster=%s namespace=%s\n", termsafe.Line(t.Context), termsafe.Line(t.Cluster), termsafe.Line(t.Namespace))
		fmt.Fprintf(w, "server:    %s (CA sha256 %s)\n", termsafe.Line(t.Server), termsafe.Line(t.CAFingerprint))
		fmt.Fprintf(w, "cluster:   kube-system UID %s\n", termsafe.Line(b.Pins.ClusterUID))
	} else {
		fmt.Fprintf(w, "proposal:  %s %s change, plan sha256 %s\n", b.Tool, b.Class, b.SHA256)
		fmt.Fprintf(w, "target:    workspace=%s backend=%s dir=%s\n", termsafe.Line(t.Workspace), termsafe.Line(t.Backend), termsafe.Line(t.Dir))
	}
	if b.Pins.StateSerial != nil {
		fmt.Fprintf(w, "state:     lineage %q serial %d\n", termsafe.Line(b.Pins.StateLineage), *b.Pins.StateSerial)
	}
	fmt.Fprintf(w, "created:   %s, expires %s\n", b.Created.UTC().Format(time.RFC3339), b.Expires.UTC().Format(time.RFC3339))
	for _, r := range b.Reasons {
		fmt.Fprintf(w, "reason:    %s\n", termsafe.Line(r))
	}
	fmt.Fprintf(w, "\n%s\n", strings.TrimRight(termsafe.Text(b.Summary), "\n"))
}

func approveBundleRun(f *Factory, opts *approveOptions, path string) error {
	data, b, err := readBundle(path)
	if err != nil {
		return err
	}
	if !time.Now().Before(b.Expires) {
		return fmt.Errorf("%s: bundle expired at %s", path, b.Expires.UTC().Format(time.RFC3339))
	}
	// The summary and class are what the proposing job wrote: the plan
	// beside the bundle, when it is there, must at least be the one named.
	note := "the plan file is not beside the bundle: review it where it was proposed (terraform show)"
	if b.Tool == "kubectl" {
		// The diff is the proposer's; the manifests beside the bundle,
		// when they are the ones signed, are what to read.
		note = "the diff is the proposing job's server-side dry run; the apply runs only manifests whose flattened bytes have this sha256 (kubectl diff -f shows the change from the manifests themselves)"
		if in, ok := strings.CutSuffix(path, bundleSuffix); ok {
			if _, err := os.Stat(in); err == nil {
				if how := manifestsMatch(f, in, b.SHA256); how != "" {
					note = fmt.Sprintf("the manifests at %s (apply %s) flatten to this sha256: they are what the apply runs; the diff is the proposing job's", in, how)
				} else {
					note = fmt.Sprintf("WARNING: the manifests at %s do not flatten to this sha256 on their own (changed, or the apply has more -f inputs): the diff is the proposing job's", in)
				}
			}
		}
	} else if plan, ok := strings.CutSuffix(path, bundleSuffix); ok {
		if pb, err := os.ReadFile(plan); err == nil {
			if proposal.HashBytes(pb) != b.SHA256 {
				return fmt.Errorf("%s: plan file %q is not the one the bundle names (sha256 %s, not %s)", path, plan, short(proposal.HashBytes(pb)), short(b.SHA256))
			}
			note = "the plan file beside the bundle has this sha256; check the summary with: terraform show " + plan
		}
	}
	signer, closeSigner, err := loadSigner(f, opts.Key)
	if err != nil {
		return err
	}
	defer closeSigner()
	if f.IO.IsStdinTTY() && f.IO.IsStderrTTY() {
		// A human at a terminal: the approval screen of the TUI, as for a
		// change on this machine, with its typed confirmation.
		timeout, err := approvalTimeout(f, credentials.ApprovalConfig{})
		if err != nil {
			return err
		}
		target, _ := strings.CutSuffix(path, bundleSuffix)
		screen := approve.BundleScreen(b, path, target, note, time.Now().Add(timeout))
		v, err := tui.Run(context.Background(), f.IO.In, f.IO.ErrOut, screen, tuiOptions(f))
		if err != nil {
			return err
		}
		if !v.Approved {
			return &DeniedByUserError{Reason: v.Reason}
		}
		return signBundle(f, signer, path, data)
	}
	writeBundleSummary(f.IO.ErrOut, b)
	fmt.Fprintf(f.IO.ErrOut, "\nnote: %s\n", termsafe.Line(note))
	want := "yes"
	if b.Class == "privilege" || b.Class == "unknown" {
		what := "the workspace's name"
		want = b.Target.Workspace
		if b.Tool == "kubectl" {
			// as the approval screen asks: the context, else the namespace or cluster
			t := b.Target
			want, what = approve.ConfirmWord(classify.Target{Context: t.Context, Namespace: t.Namespace, Cluster: t.Cluster}), "the target"
		}
		fmt.Fprintf(f.IO.ErrOut, "\nThis is a %s change: type %s (%s) to sign it: ", b.Class, what, termsafe.Line(want))
	} else {
		fmt.Fprint(f.IO.ErrOut, "\nSign this proposal? Type yes: ")
	}
	line, _ := bufio.NewReader(f.IO.In).ReadString('\n')
	if strings.TrimSpace(line) != want {
		return &DeniedByUserError{}
	}
	return signBundle(f, signer, path, data)
}

// signBundle writes the signature of the bundle's bytes beside it.
func signBundle(f *Factory, signer ssh.Signer, path string, data []byte) error {
	sig, err := proposal.Sign(signer, proposal.Namespace, data)
	if err != nil {
		return err
	}
	fp := ssh.FingerprintSHA256(signer.PublicKey())
	out := fmt.Sprintf("%s.%s.sig", path, sigFileID(fp))
	if err := os.WriteFile(out, sig, 0o644); err != nil {
		return fmt.Errorf("write the signature: %w", err)
	}
	fmt.Fprintf(f.IO.ErrOut, "agentctl: signed with %s: %s\n", fp, out)
	return nil
}

// DeniedByUserError is returned when the human did not confirm.
type DeniedByUserError struct {
	Reason string // the screen's, when the human gave one
}

func (e *DeniedByUserError) Error() string {
	if e.Reason != "" {
		return "not signed: " + e.Reason
	}
	return "not signed: not confirmed"
}

// sigFileID is a file-name-safe form of a key fingerprint.
func sigFileID(fp string) string {
	s := strings.NewReplacer("SHA256:", "", "/", "_", "+", "-").Replace(fp)
	if len(s) > 16 {
		s = s[:16]
	}
	return s
}

// loadSigner returns the signer --key names, or the ssh-agent's one key.
func loadSigner(f *Factory, key string) (ssh.Signer, func(), error) {
	noop := func() {}
	var pub ssh.PublicKey
	if key != "" {
		b, err := os.ReadFile(key)
		if err != nil {
			return nil, noop, fmt.Errorf("--key: %w", err)
		}
		s, err := ssh.ParsePrivateKey(b)
		if err == nil {
			return s, noop, nil
		}
		var missing *ssh.PassphraseMissingError
		if errors.As(err, &missing) {
			return nil, noop, &hintError{msg: fmt.Sprintf("--key %q is encrypted", key), hint: "add it to ssh-agent (ssh-add) and pass its .pub file as --key"}
		}
		if pub, _, _, _, err = ssh.ParseAuthorizedKey(b); err != nil {
			return nil, noop, fmt.Errorf("--key %q is neither a private nor a public SSH key", key)
		}
	}
	sock := f.Getenv("SSH_AUTH_SOCK")
	if sock == "" {
		return nil, noop, &hintError{msg: "no SSH key: no --key and no SSH_AUTH_SOCK", hint: "pass --key ~/.ssh/id_ed25519, or start ssh-agent and ssh-add your key"}
	}
	conn, err := net.Dial("unix", sock)
	if err != nil {
		return nil, noop, fmt.Errorf("ssh-agent at %q: %w", sock, err)
	}
	signers, err := agent.NewClient(conn).Signers()
	if err != nil {
		conn.Close()
		return nil, noop, fmt.Errorf("ssh-agent: %w", err)
	}
	closeConn := func() { conn.Close() }
	for _, s := range signers {
		if pub != nil && bytes.Equal(s.PublicKey().Marshal(), pub.Marshal()) {
			return s, closeConn, nil
		}
	}
	if pub == nil && len(signers) == 1 {
		return signers[0], closeConn, nil
	}
	conn.Close()
	if pub != nil {
		return nil, noop, fmt.Errorf("ssh-agent holds no key %s", ssh.FingerprintSHA256(pub))
	}
	return nil, noop, &hintError{msg: fmt.Sprintf("ssh-agent holds %d keys", len(signers)), hint: "name one with --key ~/.ssh/id_ed25519.pub"}
}

func verifyBundleRun(f *Factory, opts *approveOptions, path string) error {
	data, b, err := readBundle(path)
	if err != nil {
		return err
	}
	allowedPath := opts.AllowedSigners
	if allowedPath == "" {
		if admin, err := loadAdmin(f); err == nil {
			allowedPath = admin.Approvals.AllowedSigners
		}
	}
	var allowed proposal.AllowedSigners
	if allowedPath != "" {
		raw, err := os.ReadFile(allowedPath)
		if err != nil {
			return &ConfigError{Err: err}
		}
		if allowed, err = proposal.ParseAllowedSigners(allowedPath, raw); err != nil {
			return &ConfigError{Err: err}
		}
	}
	sigs, err := signatureFiles(path)
	if err != nil {
		return err
	}
	w := f.IO.Out
	if b.Tool == "kubectl" {
		fmt.Fprintf(w, "bundle %s: kubectl %s, manifests sha256 %s, context %s namespace %s, nonce %s, expires %s\n", path, b.Class, b.SHA256,
			termsafe.Line(b.Target.Context), termsafe.Line(b.Target.Namespace), b.Nonce, b.Expires.UTC().Format(time.RFC3339))
	} else {
		fmt.Fprintf(w, "bundle %s: %s %s, plan sha256 %s, workspace %s, nonce %s, expires %s\n", path, b.Tool, b.Class, b.SHA256,
			termsafe.Line(b.Target.Workspace), b.Nonce, b.Expires.UTC().Format(time.RFC3339))
	}
	bad := 0
	for _, s := range sigs {
		sig, err := proposal.ParseSignature(s.Data)
		if err != nil {
			bad++
			fmt.Fprintf(w, "%s: BAD: %v\n", s.Name, err)
			continue
		}
		fp := ssh.FingerprintSHA256(sig.PublicKey)
		if err := sig.Verify(proposal.Namespace, data); err != nil {
			bad++
			fmt.Fprintf(w, "%s: BAD: %s %v\n", s.Name, fp, err)
			continue
		}
		who := "(not checked against allowed_signers)"
		if allowedPath != "" {
			if p := allowed.Lookup(sig.PublicKey, proposal.Namespace); len(p) > 0 {
				who = strings.Join(p, ",")
			} else {
				bad++
				who = "NOT in allowed_signers"
			}
		}
		fmt.Fprintf(w, "%s: good signature by %s %s over this bundle\n", s.Name, fp, who)
	}
	if len(sigs) == 0 {
		return fmt.Errorf("%s: no signatures (%s.*.sig)", path, path)
	}
	if bad > 0 {
		return fmt.Errorf("%s: %d of %d signatures do not verify", path, bad, len(sigs))
	}
	return nil
}
