package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/agentctl/agentctl/pkg/audit"
	"github.com/agentctl/agentctl/pkg/grant"
	"github.com/agentctl/agentctl/pkg/pipeline"
	"github.com/agentctl/agentctl/pkg/proposal"
	"github.com/agentctl/agentctl/pkg/termsafe"
)

type breakGlassOptions struct {
	reason string
	dur    time.Duration
}

func newBreakGlassCmd(f *Factory) *cobra.Command {
	var o breakGlassOptions
	cmd := &cobra.Command{
		Use:   "break-glass --reason TEXT --for DURATION",
		Short: "In an emergency, let every request that would ask a human run, once two approvers sign",
		Long: `Break-glass exists only when /etc/agentctl/config.yaml turns it on
(breakGlass: {allow: true}); it is off by default.

agentctl break-glass --reason TEXT --for 15m writes a break-glass
statement (its id, the reason, who asked, until when) and prints its id.
Nothing changes until two distinct approvers, each an allowed signer of
the admin config's allowed_signers file (breakGlass.allowedSigners, else
approvals.allowedSigners), sign it with their SSH keys:

  agentctl break-glass approve ID [--key FILE]

From the second signature until it expires (or agentctl grant revoke ID
ends it), every request that would ask a human runs without asking, and
each one's audit record names the break-glass and carries the flag
break-glass. What the policy denies stays denied. The signatures are
checked at every request: a statement no two allowed signers signed
lets nothing through.`,
		Example: `  agentctl break-glass --reason "prod outage INC-4711: roll back web" --for 15m
  agentctl break-glass approve bg-1a2b3c4d5e --key ~/.ssh/id_ed25519`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return breakGlassRun(f, &o)
		},
	}
	cmd.Flags().StringVar(&o.reason, "reason", "", "why the glass is broken (shown to the approvers and audited)")
	cmd.Flags().DurationVar(&o.dur, "for", 0, "how long the break-glass lasts once active, such as 15m")
	cmd.AddCommand(newBreakGlassApproveCmd(f))
	return cmd
}

// breakGlassOff is the refusal when the admin config has no break-glass.
func breakGlassOff() error {
	return &pipeline.RefusedError{Err: &hintError{
		msg:  "break-glass is off: /etc/agentctl/config.yaml does not allow it",
		hint: "root may turn it on: breakGlass: {allow: true, allowedSigners: /etc/agentctl/allowed_signers}",
	}}
}

// breakGlassSigners reads the admin config's break-glass allowed_signers
// file; nil, nil when break-glass is off.
func breakGlassSigners(f *Factory) (proposal.AllowedSigners, error) {
	admin, err := loadAdmin(f)
	if err != nil {
		return nil, err
	}
	path := admin.breakGlassSignersFile()
	if path == "" {
		return nil, nil
	}
	b, err := readRootFile(path)
	if err != nil {
		return nil, &ConfigError{Err: fmt.Errorf("breakGlass allowed signers %q: %w", path, err)}
	}
	allowed, err := proposal.ParseAllowedSigners(path, b)
	if err != nil {
		return nil, &ConfigError{Err: err}
	}
	if allowed == nil {
		allowed = proposal.AllowedSigners{}
	}
	return allowed, nil
}

func breakGlassRun(f *Factory, o *breakGlassOptions) error {
	admin, err := loadAdmin(f)
	if err != nil {
		return err
	}
	if admin.breakGlassSignersFile() == "" {
		return breakGlassOff()
	}
	reason := strings.TrimSpace(o.reason)
	if reason == "" {
		return &UsageError{Err: errors.New("break-glass needs --reason")}
	}
	if o.dur <= 0 {
		return &UsageError{Err: &hintError{msg: "break-glass needs a positive --for", hint: "such as --for 15m"}}
	}
	if max := admin.breakGlassMax(); o.dur > max {
		return &UsageError{Err: &hintError{msg: fmt.Sprintf("--for %s is longer than breakGlass.maxFor (%s)", o.dur, max), hint: "break the glass again when it expires"}}
	}
	if _, err := breakGlassSigners(f); err != nil {
		return err
	}
	store, err := grantStore(f)
	if err != nil {
		return err
	}
	b, err := grant.NewBreakGlass(reason, audit.Self().User, time.Now(), o.dur)
	if err != nil {
		return err
	}
	if err := store.AddBreakGlass(b); err != nil {
		return err
	}
	if err := auditAgentctl(f, []string{"break-glass", "--reason", reason, "--for", o.dur.String()},
		fmt.Sprintf("break-glass %s asked for until %s: it needs %d distinct approvers", b.ID, b.Expires.Format(time.RFC3339), grant.BreakGlassSigners),
		audit.Flag{Name: audit.FlagBreakGlass, Detail: b.ID + " requested: " + reason}); err != nil {
		return err
	}
	if f.Global.JSON() {
		return json.NewEncoder(f.IO.Out).Encode(map[string]any{"id": b.ID, "status": "waiting for approvers", "expires": b.Expires, "reason": b.Reason})
	}
	fmt.Fprintln(f.IO.Out, b.ID)
	fmt.Fprintf(f.IO.ErrOut, "agentctl: BREAK-GLASS %s waits for %d distinct approvers; each runs:\n  agentctl break-glass approve %s\n", b.ID, grant.BreakGlassSigners, b.ID)
	return nil
}

func newBreakGlassApproveCmd(f *Factory) *cobra.Command {
	var key string
	cmd := &cobra.Command{
		Use:   "approve ID [--key FILE]",
		Short: "Sign a break-glass statement with your SSH key",
		Long: `Approve shows a break-glass statement, asks you to type "break-glass"
on standard input, and signs the statement's exact bytes with your SSH
key (namespace agentctl-break-glass): --key FILE, or the one key of the
ssh-agent at SSH_AUTH_SOCK. A key that is not an allowed signer, or that
(or whose principal) signed this statement already, is refused: the
break-glass needs two distinct approvers.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return breakGlassApproveRun(f, args[0], key)
		},
	}
	cmd.Flags().StringVar(&key, "key", "", "SSH private key file, or the public key of the ssh-agent key to sign with")
	return cmd
}

func breakGlassApproveRun(f *Factory, id, key string) error {
	allowed, err := breakGlassSigners(f)
	if err != nil {
		return err
	}
	if allowed == nil {
		return breakGlassOff()
	}
	store, err := grantStore(f)
	if err != nil {
		return err
	}
	b, err := store.BreakGlass(id)
	if errors.Is(err, grant.ErrNotFound) {
		return &UsageError{Err: &hintError{msg: fmt.Sprintf("no break-glass %q", id), hint: "agentctl grant list shows them"}}
	}
	if err != nil {
		return err
	}
	signer, closeSigner, err := loadSigner(f, key)
	if err != nil {
		return err
	}
	defer closeSigner()
	signers, _ := b.Signers(allowed)
	w := f.IO.ErrOut
	fmt.Fprintf(w, "BREAK-GLASS %s\n", b.ID)
	fmt.Fprintf(w, "  asked by  %s at %s\n", termsafe.Line(b.User), b.Created.Local().Format(time.DateTime))
	fmt.Fprintf(w, "  reason    %s\n", termsafe.Line(b.Reason))
	fmt.Fprintf(w, "  until     %s\n", b.Expires.Local().Format(time.DateTime))
	fmt.Fprintf(w, "  signed by %d of %d approvers\n", len(signers), grant.BreakGlassSigners)
	fmt.Fprintf(w, "Once %d approvers sign, every request that would ask a human runs without asking until then.\n", grant.BreakGlassSigners)
	fmt.Fprint(w, "Type break-glass to sign: ")
	line, _ := bufio.NewReader(f.IO.In).ReadString('\n')
	if strings.TrimSpace(line) != "break-glass" {
		return &DeniedByUserError{}
	}
	sig, err := proposal.Sign(signer, grant.BreakGlassNamespace, b.Statement)
	if err != nil {
		return err
	}
	nb, activated, err := store.Sign(id, sig, allowed, time.Now())
	if err != nil {
		if errors.Is(err, grant.ErrAlreadySigned) {
			return &pipeline.RefusedError{Err: err}
		}
		return &pipeline.RefusedError{Err: err}
	}
	now, _ := nb.Signers(allowed)
	last := now[len(now)-1]
	detail := fmt.Sprintf("%s signed by %s (%d of %d)", id, strings.Join(last.Principals, ","), len(now), grant.BreakGlassSigners)
	if activated {
		detail = fmt.Sprintf("%s ACTIVE until %s: %s", id, nb.Expires.Format(time.RFC3339), nb.Reason)
	}
	if err := auditAgentctl(f, []string{"break-glass", "approve", id}, detail, audit.Flag{Name: audit.FlagBreakGlass, Detail: detail}); err != nil {
		return err
	}
	if activated {
		fmt.Fprintf(w, "agentctl: BREAK-GLASS %s is ACTIVE until %s: requests that would ask a human run without asking\n", id, nb.Expires.Local().Format(time.DateTime))
	} else {
		fmt.Fprintf(w, "agentctl: signed break-glass %s (%d of %d approvers)\n", id, len(now), grant.BreakGlassSigners)
	}
	return nil
}

// breakGlassStatus is a break-glass's status and signers for grant list.
func breakGlassStatus(b *grant.BreakGlass, allowed proposal.AllowedSigners, now time.Time) (string, string) {
	signers, err := b.Signers(allowed)
	var names []string
	for _, s := range signers {
		names = append(names, s.Principals[0])
	}
	switch {
	case b.Ended != nil:
		return "revoked", strings.Join(names, ",")
	case !now.Before(b.Expires):
		return "expired", strings.Join(names, ",")
	case err != nil:
		return "invalid", err.Error()
	case allowed == nil:
		return "off", strings.Join(names, ",")
	case len(signers) >= grant.BreakGlassSigners:
		return "ACTIVE", strings.Join(names, ",")
	}
	return fmt.Sprintf("waiting (%d/%d signed)", len(signers), grant.BreakGlassSigners), strings.Join(names, ",")
}

func breakGlassJSON(b *grant.BreakGlass, allowed proposal.AllowedSigners, now time.Time) map[string]any {
	st, signers := breakGlassStatus(b, allowed, now)
	m := map[string]any{"id": b.ID, "status": st, "reason": b.Reason, "user": b.User, "created": b.Created, "expires": b.Expires, "signers": signers}
	if b.Ended != nil {
		m["revoked"] = *b.Ended
	}
	return m
}
