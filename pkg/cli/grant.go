package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/agentctl/agentctl/pkg/audit"
	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/grant"
	"github.com/agentctl/agentctl/pkg/pipeline"
	"github.com/agentctl/agentctl/pkg/policy"
	"github.com/agentctl/agentctl/pkg/request"
	"github.com/agentctl/agentctl/pkg/termsafe"
)

// maxGrantFor is the longest a grant may last.
const maxGrantFor = 24 * time.Hour

// RuleGrant names the decision that asks a human for a grant.
const RuleGrant = "agentctl:grant"

type grantOptions struct {
	class, namespace, context, workspace, dir string
	dur                                       time.Duration
	max                                       int
}

func newGrantCmd(f *Factory) *cobra.Command {
	var o grantOptions
	cmd := &cobra.Command{
		Use:   "grant --class CLASS (--namespace NS [--context CTX] | --workspace WS [--dir DIR]) --for DURATION [--agent NAME] [--max N]",
		Short: "Let one class of requests on one target through for a while, with one human approval",
		Long: `Grant asks a human once, as for any command (the terminal screen or
agentctl inbox; denied when non-interactive), and then lets the requests
it covers through without asking again, until it expires (--for), has
let --max requests through, or is revoked (agentctl grant revoke ID).

A grant covers a request whose class is --class exactly, of the agent
--agent (any agent without it), in the namespace --namespace (kubectl;
every object it names in that namespace, and the context --context when
given) or the workspace --workspace (terraform and tofu; and the
directory --dir when given). It only stands in for the human's answer:
what the policy denies stays denied. Each request it lets through is
audited with the grant's id (channel "grant").

Classes: write and destructive can be granted; privilege and exec only
when /etc/agentctl/config.yaml says so (grants: {privilege: allow});
secret and unknown never.`,
		Example: `  agentctl grant --class destructive --namespace staging --for 30m --agent claude --max 20
  agentctl grant --class write --workspace staging --dir ~/infra --for 1h
  agentctl grant list
  agentctl grant revoke g-1a2b3c4d5e`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return grantRun(cmd.Context(), f, &o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.class, "class", "", "the class of requests the grant lets through (write, destructive; privilege, exec when root allows)")
	fl.StringVar(&o.namespace, "namespace", "", "the Kubernetes namespace the grant covers")
	fl.StringVar(&o.context, "context", "", "the kubeconfig context the grant covers (default: any)")
	fl.StringVar(&o.workspace, "workspace", "", "the terraform workspace the grant covers")
	fl.StringVar(&o.dir, "dir", "", "the terraform directory the grant covers (default: any)")
	fl.DurationVar(&o.dur, "for", 0, "how long the grant lasts (at most 24h), such as 30m")
	fl.IntVar(&o.max, "max", 0, "how many requests the grant lets through at most (default: no limit)")
	cmd.AddCommand(newGrantListCmd(f), newGrantRevokeCmd(f))
	return cmd
}

// grantable says whether class c may be granted under the admin config.
func grantable(c classify.Class, admin *adminConfig) error {
	switch c {
	case classify.Read, classify.Write, classify.Destructive:
		return nil
	case classify.Privilege, classify.Exec:
		if admin.allowsGrant(c) {
			return nil
		}
		cfg := "/etc/agentctl/config.yaml"
		return &pipeline.RefusedError{Err: &hintError{
			msg:  fmt.Sprintf("class %q cannot be granted: approve such commands one at a time", c),
			hint: fmt.Sprintf("root may allow it in %s: grants: {%s: allow}", cfg, c),
		}}
	case classify.Secret:
		return &pipeline.RefusedError{Err: &hintError{
			msg:  `class "secret" cannot be granted: a grant would hand the agent every secret it asks for`,
			hint: "approve each read of a secret, or give the workload a brokered credential (docs/credentials.md)",
		}}
	}
	return &pipeline.RefusedError{Err: fmt.Errorf("class %q cannot be granted: approve such commands one at a time", c)}
}

func (o *grantOptions) grant(f *Factory, now time.Time) (*grant.Grant, error) {
	if o.class == "" {
		return nil, &UsageError{Err: errors.New("grant needs --class")}
	}
	c, err := classify.ParseClass(o.class)
	if err != nil {
		return nil, &UsageError{Err: fmt.Errorf("invalid --class: %w", err)}
	}
	if o.dur <= 0 {
		return nil, &UsageError{Err: &hintError{msg: "grant needs a positive --for", hint: "such as --for 30m"}}
	}
	if o.dur > maxGrantFor {
		return nil, &UsageError{Err: &hintError{msg: fmt.Sprintf("--for %s is longer than %s", o.dur, maxGrantFor), hint: "grant again when it expires"}}
	}
	dir := o.dir
	if dir != "" && !filepath.IsAbs(dir) {
		cwd, err := f.Getwd()
		if err != nil {
			return nil, err
		}
		dir = filepath.Join(cwd, dir)
	}
	g := &grant.Grant{ID: grant.NewID(), Class: c, Agent: f.Global.Agent, Namespace: o.namespace, Context: o.context,
		Workspace: o.workspace, Dir: filepath.Clean(dir), Created: now.UTC(), Expires: now.UTC().Add(o.dur), Max: o.max,
		Reason: f.Global.Intent}
	if dir == "" {
		g.Dir = ""
	}
	if err := g.Validate(); err != nil {
		return nil, &UsageError{Err: err}
	}
	return g, nil
}

func grantRun(ctx context.Context, f *Factory, o *grantOptions) error {
	now := time.Now()
	g, err := o.grant(f, now)
	if err != nil {
		return err
	}
	admin, err := loadAdmin(f)
	if err != nil {
		return err
	}
	if err := grantable(g.Class, admin); err != nil {
		return err
	}
	store, err := grantStore(f)
	if err != nil {
		return err
	}
	// The grant itself changes who may do what: a human approves it as
	// a privilege change, with the target typed, and it is audited.
	approval, err := approvalConfig(f)
	if err != nil {
		return err
	}
	ap, err := selectApprover(f, approval)
	if err != nil {
		return err
	}
	timeout, err := approvalTimeout(f, approval)
	if err != nil {
		return err
	}
	log, _, err := openAuditLog(f)
	if err != nil {
		return err
	}
	defer log.Close()
	cwd, _ := f.Getwd()
	args := grantArgs(g)
	req := &request.Request{ID: request.NewID(), Time: now.UTC(), Tool: "agentctl", Args: args, Cwd: cwd, Agent: f.Global.Agent, Intent: f.Global.Intent}
	a := &classify.Assessment{Tool: "agentctl", Subcommand: "grant", Class: classify.Privilege,
		Exec:   classify.Invocation{Args: args},
		Target: classify.Target{Namespace: g.Namespace, Context: g.Context, Workspace: g.Workspace, Dir: g.Dir},
		Reasons: []classify.Reason{{Class: classify.Privilege, Message: grantSentence(g)},
			{Class: classify.Privilege, Message: "a policy deny still wins; the grant can be ended early with agentctl grant revoke " + g.ID}}}
	d := policy.Decision{Action: policy.Approve, Rule: RuleGrant, Confirm: true,
		Message: "a grant lets the agent's requests through without asking anyone again"}
	ans, hash, err := pipeline.AskHuman(ctx, pipeline.Ask{Approver: ap, Auditor: &pipeline.LogAuditor{Log: log, Proc: audit.Self()},
		Req: req, Assessment: a, Decision: d, Timeout: timeout})
	if err != nil {
		return err
	}
	g.Approver, g.Channel, g.ApprovalHash = ans.Approver, ans.Channel, hash
	if g.Approver == "" {
		g.Approver = audit.Self().User
	}
	if err := store.Add(g); err != nil {
		return err
	}
	if f.Global.JSON() {
		return json.NewEncoder(f.IO.Out).Encode(grantJSON(g, time.Now()))
	}
	fmt.Fprintf(f.IO.Out, "%s\n", g.ID)
	fmt.Fprintf(f.IO.ErrOut, "agentctl: grant %s: %s\n", g.ID, grantSentence(g))
	return nil
}

// grantArgs is the grant as a command line, for the screen and the audit log.
func grantArgs(g *grant.Grant) []string {
	args := []string{"grant", "--class", g.Class.String()}
	for _, kv := range [][2]string{{"--namespace", g.Namespace}, {"--context", g.Context}, {"--workspace", g.Workspace}, {"--dir", g.Dir}, {"--agent", g.Agent}} {
		if kv[1] != "" {
			args = append(args, kv[0], kv[1])
		}
	}
	args = append(args, "--for", g.Expires.Sub(g.Created).String())
	if g.Max > 0 {
		args = append(args, "--max", strconv.Itoa(g.Max))
	}
	return args
}

// grantSentence says in plain words what g lets through.
func grantSentence(g *grant.Grant) string {
	who := "any agent's"
	if g.Agent != "" {
		who = fmt.Sprintf("agent %q's", g.Agent)
	}
	where := fmt.Sprintf("in namespace %q", g.Namespace)
	if g.Context != "" {
		where += fmt.Sprintf(" of context %q", g.Context)
	}
	if g.Namespace == "" {
		where = fmt.Sprintf("in terraform workspace %q", g.Workspace)
		if g.Dir != "" {
			where += fmt.Sprintf(" of %s", g.Dir)
		}
	}
	s := fmt.Sprintf("lets %s %s requests %s through without asking, until %s", who, g.Class, where, g.Expires.Local().Format("15:04:05"))
	if g.Max > 0 {
		s += fmt.Sprintf(", at most %d", g.Max)
	}
	return s
}

func grantStore(f *Factory) (grant.Store, error) {
	dir := stateDir(f)
	if dir == "" {
		return grant.Store{}, &ConfigError{Err: errors.New("cannot place the grants: neither XDG_STATE_HOME nor HOME is set")}
	}
	return grant.Store{Dir: dir}, nil
}

func newGrantListCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List grants and break-glass records (active, and ended within a day)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			store, err := grantStore(f)
			if err != nil {
				return err
			}
			gs, bs, err := store.List()
			if err != nil {
				return err
			}
			now := time.Now()
			allowed, _ := breakGlassSigners(f)
			if f.Global.JSON() {
				out := struct {
					Grants     []map[string]any `json:"grants"`
					BreakGlass []map[string]any `json:"breakGlass"`
				}{Grants: []map[string]any{}, BreakGlass: []map[string]any{}}
				for _, g := range gs {
					out.Grants = append(out.Grants, grantJSON(g, now))
				}
				for _, b := range bs {
					out.BreakGlass = append(out.BreakGlass, breakGlassJSON(b, allowed, now))
				}
				enc := json.NewEncoder(f.IO.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			tw := tabwriter.NewWriter(f.IO.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSTATUS\tEXPIRES\tUSED\tSCOPE\tAPPROVER")
			for _, g := range gs {
				used := strconv.Itoa(g.Used)
				if g.Max > 0 {
					used += "/" + strconv.Itoa(g.Max)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", g.ID, g.Status(now), g.Expires.Local().Format(time.DateTime), used,
					termsafe.Line(g.Scope()), termsafe.Line(dash(g.Approver)))
			}
			for _, b := range bs {
				st, signers := breakGlassStatus(b, allowed, now)
				fmt.Fprintf(tw, "%s\t%s\t%s\t-\tBREAK-GLASS: %s\t%s\n", b.ID, st, b.Expires.Local().Format(time.DateTime),
					termsafe.Line(b.Reason), termsafe.Line(dash(signers)))
			}
			return tw.Flush()
		},
	}
}

func grantJSON(g *grant.Grant, now time.Time) map[string]any {
	m := map[string]any{"id": g.ID, "status": g.Status(now), "class": g.Class.String(), "created": g.Created, "expires": g.Expires,
		"used": g.Used, "approver": g.Approver, "channel": g.Channel}
	for k, v := range map[string]string{"agent": g.Agent, "namespace": g.Namespace, "context": g.Context, "workspace": g.Workspace, "dir": g.Dir} {
		if v != "" {
			m[k] = v
		}
	}
	if g.Max > 0 {
		m["max"] = g.Max
	}
	if g.Revoked != nil {
		m["revoked"] = *g.Revoked
	}
	return m
}

func newGrantRevokeCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID",
		Short: "End a grant or a break-glass now",
		Long: `Revoke ends the grant (or break-glass) ID at once: the next request it
would have covered asks a human again. Revoking needs no approval (it
only takes permission away) and is audited.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			store, err := grantStore(f)
			if err != nil {
				return err
			}
			id := args[0]
			if err := store.Revoke(id, time.Now().UTC()); err != nil {
				if errors.Is(err, grant.ErrNotFound) {
					return &UsageError{Err: &hintError{msg: fmt.Sprintf("no grant or break-glass %q", id), hint: "agentctl grant list shows them"}}
				}
				return err
			}
			if err := auditAgentctl(f, []string{"grant", "revoke", id}, "revoked "+id); err != nil {
				return err
			}
			fmt.Fprintf(f.IO.ErrOut, "agentctl: %s revoked\n", id)
			return nil
		},
	}
}

// auditAgentctl writes one decision record about agentctl itself (a
// revoke, a break-glass statement): allowed by rule agentctl, no human
// asked. flags, when given, are recorded on it.
func auditAgentctl(f *Factory, args []string, reason string, flags ...audit.Flag) error {
	log, _, err := openAuditLog(f)
	if err != nil {
		return err
	}
	defer log.Close()
	cwd, _ := f.Getwd()
	req := &request.Request{ID: request.NewID(), Time: time.Now().UTC(), Tool: "agentctl", Args: args, Cwd: cwd, Agent: f.Global.Agent, Intent: f.Global.Intent}
	rec := audit.NewDecision(audit.Self(), req, nil)
	rec.Decision, rec.Rule, rec.Reason, rec.Flags = "allow", "agentctl", reason, flags
	if err := log.Append(rec); err != nil {
		return &pipeline.AuditError{Err: err}
	}
	return nil
}
