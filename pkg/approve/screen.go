package approve

import (
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"time"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/policy"
	"github.com/agentctl/agentctl/pkg/termsafe"
)

// Screen is everything an approval screen shows about one request, and
// nothing else. It never holds credentials, the agent's environment or
// the manifest bytes themselves (only their diff); secret values on the
// command line are masked. It travels to the inbox inside [Content],
// whose hash covers all of it.
type Screen struct {
	Hash    string    `json:"hash"`
	ID      string    `json:"id"`
	Time    time.Time `json:"time"`
	Expires time.Time `json:"expires"`
	PID     int       `json:"pid,omitempty"`
	User    string    `json:"user,omitempty"`

	Agent   string   `json:"agent,omitempty"`
	Intent  string   `json:"intent,omitempty"`
	Tool    string   `json:"tool"`
	Command []string `json:"command"` // as the agent gave it, secrets masked
	Cwd     string   `json:"cwd,omitempty"`

	Target classify.Target `json:"target"`

	Class   classify.Class `json:"class"`
	Rule    string         `json:"rule,omitempty"`
	Message string         `json:"message,omitempty"`
	Reasons []string       `json:"reasons,omitempty"`

	Resources []Change `json:"resources,omitempty"`
	// PlanSummary is terraform's one-line plan summary.
	PlanSummary string `json:"planSummary,omitempty"`
	Diff        string `json:"diff,omitempty"`
	// Live is what a delete matches now, read when the screen was built.
	Live *Live `json:"live,omitempty"`
	// NoOp: a server-side dry run found that the cluster already matches
	// what the command applies.
	NoOp bool `json:"noOp,omitempty"`

	// Confirm: the approver must type ConfirmWord to approve.
	Confirm     bool   `json:"confirm,omitempty"`
	ConfirmWord string `json:"confirmWord,omitempty"`
}

// Change is one row of the screen's resource table.
type Change struct {
	Action    string `json:"action"`
	Kind      string `json:"kind,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	// Provider is a terraform resource's provider; Kind is then its type
	// and Name its address.
	Provider string `json:"provider,omitempty"`
}

// NewScreen builds what the approver is shown for r.
func NewScreen(r *Request) *Screen {
	s := &Screen{Hash: r.Hash, Expires: r.Expires, PID: os.Getpid(), Diff: r.Diff, Live: r.Live}
	if u, err := user.Current(); err == nil {
		s.User = u.Username
	}
	if q := r.Req; q != nil {
		s.ID, s.Time, s.Agent, s.Intent, s.Tool, s.Cwd = q.ID, q.Time, q.Agent, q.Intent, q.Tool, q.Cwd
		s.Command = append([]string{q.Tool}, commandArgs(q.Tool, q.Args, r.Assessment)...)
	}
	s.Rule, s.Message = r.Decision.Rule, r.Decision.Message
	s.Confirm = r.Decision.Confirm
	if a := r.Assessment; a != nil {
		if s.Tool == "" {
			s.Tool = a.Tool
		}
		s.Target = a.Target
		s.Target.User = "" // the kubeconfig user entry: not needed to decide
		if s.Target.Env == "" {
			s.Target.Env = r.Decision.Env
		}
		s.Class = a.Class
		s.Confirm = s.Confirm || NeedsConfirm(a.Class) || deleteNeedsConfirm(a, r.Live) || terraformNeedsConfirm(a)
		if r.NoOp && noOpRelaxes(a, r.Decision) {
			// The dry run found nothing to change: what the approver
			// would type to confirm protects nothing.
			s.NoOp, s.Confirm = true, false
		}
		for _, re := range a.Reasons {
			s.Reasons = append(s.Reasons, re.Class.String()+": "+re.Message)
		}
		sel := ""
		if a.Matches != nil {
			sel = a.Matches.Selector
		}
		for _, res := range a.Resources {
			s.Resources = append(s.Resources, changeOf(res, sel))
		}
		if a.Plan != nil {
			s.PlanSummary = a.Plan.Summary
			if s.Diff == "" {
				s.Diff = a.Plan.Rendered
			}
		}
	}
	s.Clean()
	return s
}

// Clean makes every text of the screen safe to show on a terminal
// ([termsafe]): the agent chose most of it (its command line, intent and
// identity, object names, what a diff holds), and a control sequence
// there would be run by the approver's terminal, to clear the screen or
// write over the real command. It also sets ConfirmWord from the cleaned
// target, so that the word to type is the one shown. NewScreen calls it;
// the inbox calls it again on what a requester sends.
func (s *Screen) Clean() {
	line := termsafe.Line
	for _, p := range []*string{&s.ID, &s.User, &s.Agent, &s.Intent, &s.Tool, &s.Cwd, &s.Rule, &s.Message, &s.PlanSummary,
		&s.Target.Kubeconfig, &s.Target.Context, &s.Target.Cluster, &s.Target.Server, &s.Target.User,
		&s.Target.Namespace, &s.Target.Dir, &s.Target.Workspace, &s.Target.Env} {
		*p = line(*p)
	}
	for i := range s.Command {
		s.Command[i] = line(s.Command[i])
	}
	for i := range s.Reasons {
		s.Reasons[i] = line(s.Reasons[i])
	}
	for i := range s.Resources {
		r := &s.Resources[i]
		r.Action, r.Kind, r.Namespace, r.Name, r.Provider = line(r.Action), line(r.Kind), line(r.Namespace), line(r.Name), line(r.Provider)
	}
	if l := s.Live; l != nil {
		l.Selector, l.Error = line(l.Selector), line(l.Error)
		for i := range l.Objects {
			o := &l.Objects[i]
			o.Kind, o.Namespace, o.Name, o.Summary = line(o.Kind), line(o.Namespace), line(o.Name), line(o.Summary)
		}
	}
	s.Diff = termsafe.Text(s.Diff)
	s.ConfirmWord = ConfirmWord(s.Target)
}

// NeedsConfirm says whether a change of class c needs its target typed:
// privilege changes, and what could not be classified.
func NeedsConfirm(c classify.Class) bool {
	return c == classify.Privilege || c == classify.Unknown
}

// noOpRelaxes says whether a dry run that found no change lifts the
// typed confirmation: only a privilege change's, never the lockout's or
// that of a command agentctl could not classify, and only when nothing
// but the applied manifests raised the class (no prune, no force).
func noOpRelaxes(a *classify.Assessment, d policy.Decision) bool {
	if a.Class != classify.Privilege || d.Rule == policy.RuleLockout {
		return false
	}
	for _, re := range a.Reasons {
		if re.Class > classify.Write && re.Class != classify.Privilege {
			return false
		}
	}
	return true
}

// changeOf is one row of the resource table; sel is the delete's
// selection, shown for a row that names no object.
func changeOf(r classify.Resource, sel string) Change {
	c := Change{Action: r.Action, Kind: r.Kind, Namespace: r.Namespace, Name: r.Name, Provider: r.Provider}
	if r.Address != "" {
		c.Kind, c.Name = r.Type, r.Address
	}
	if c.Kind == "" {
		c.Kind = r.Resource
	}
	if c.Name == "" {
		c.Name = "(all)"
		if sel != "" {
			c.Name = sel
		}
	}
	return c
}

// ConfirmWord is what an approver types to confirm a change that needs
// it: the kubeconfig context, else the namespace or cluster, else the
// terraform workspace or directory name.
func ConfirmWord(t classify.Target) string {
	for _, w := range []string{t.Context, t.Namespace, t.Cluster, t.Workspace} {
		if w != "" {
			return w
		}
	}
	if t.Dir != "" {
		return filepath.Base(t.Dir)
	}
	return "approve"
}

// TargetLine is the one-line description of the target.
func (s *Screen) TargetLine() string {
	if line := s.Target.String(); line != "" {
		return line
	}
	return "(default)"
}

// EnvName is the target's environment name, "unknown" when none mapped
// (see [Screen.EnvKnown]).
func (s *Screen) EnvName() string {
	if s.Target.Env == "" {
		return "unknown"
	}
	return s.Target.Env
}

// EnvKnown says whether a policy mapped the target to an environment.
func (s *Screen) EnvKnown() bool { return s.Target.Env != "" && s.Target.Env != "unknown" }

// Terraform says whether the screen is of a terraform (or tofu) command.
func (s *Screen) Terraform() bool { return s.Tool == "terraform" || s.Tool == "tofu" }

// CommandLine is the command as one shell-like line.
func (s *Screen) CommandLine() string {
	out := make([]string, len(s.Command))
	for i, a := range s.Command {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`*?[]{}();&|<>#~") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		out[i] = a
	}
	return strings.Join(out, " ")
}

// Verdict is what a human decided on one screen.
type Verdict struct {
	Approved bool
	Reason   string
	// Approver, when set, names who answered in place of the server's
	// ServerOptions.Approver (the web page: the user and the passkey).
	Approver string
}
