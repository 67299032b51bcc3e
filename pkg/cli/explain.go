package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/policy"
	"github.com/agentctl/agentctl/pkg/redact"
	"github.com/agentctl/agentctl/pkg/termsafe"
)

// ExplainSchemaVersion versions the JSON that `agentctl explain --output
// json` prints. It changes only when a field changes meaning or goes away.
const ExplainSchemaVersion = 1

// explainJSON is the object `explain --output json` prints: the
// assessment's fields at the top level, then the policy's decision.
type explainJSON struct {
	Schema int `json:"schema"`
	*classify.Assessment
	Decision policy.Action `json:"decision"`
	Rule     string        `json:"rule"`
	Message  string        `json:"message,omitempty"`
}

func newExplainCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "explain [--output json] -- TOOL ARGS...",
		Short: "Show how a command would be classified and decided, without running it",
		Long: `Explain prints agentctl's assessment of a command without running it:
its class, subcommand, every resource it touches (and whether it came from
argv or a manifest), the effective target, one reason per finding, and the
policy's decision with the rule that made it.

It reads standard input when the command would (-f -). It exits 0 whenever
an assessment was made, including an "unknown" class.`,
		Example: `  agentctl explain -- kubectl -n prod delete deploy web
  agentctl explain --output json -- kubectl apply -f manifests/
  cat rbac.yaml | agentctl explain -- kubectl apply -f -`,
		Args: func(cmd *cobra.Command, args []string) error {
			if cmd.ArgsLenAtDash() < 0 && len(args) > 0 {
				return &UsageError{Err: fmt.Errorf("the command to explain goes after --\nhint: agentctl explain -- kubectl %s", strings.Join(args, " "))}
			}
			if len(args) == 0 {
				return &UsageError{Err: fmt.Errorf("no command to explain\nhint: agentctl explain -- kubectl get pods")}
			}
			switch args[0] {
			case "kubectl", "terraform", "tofu":
				return nil
			}
			return &UsageError{Err: fmt.Errorf("cannot explain %q: agentctl wraps kubectl, terraform and tofu", args[0])}
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			req, err := newRequest(f, args[0], args[1:])
			if err != nil {
				return err
			}
			p, cleanup, err := newPipeline(f)
			if err != nil {
				return err
			}
			defer cleanup()
			a, d, err := p.Assess(cmd.Context(), req)
			if a != nil && p.Cleanup != nil {
				defer p.Cleanup(a)
			}
			if err != nil {
				return err
			}
			// What reaches the agent is redacted, explain included.
			out := redact.New(redact.Options{}).Writer(f.IO.Out)
			defer out.Close()
			if f.Global.JSON() {
				return writeExplainJSON(out, a, d)
			}
			writeExplainText(out, a, d)
			return nil
		},
	}
}

func writeExplainJSON(w io.Writer, a *classify.Assessment, d policy.Decision) error {
	if a.Resources == nil {
		a.Resources = []classify.Resource{}
	}
	if a.Reasons == nil {
		a.Reasons = []classify.Reason{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(explainJSON{Schema: ExplainSchemaVersion, Assessment: a, Decision: d.Action, Rule: d.Rule, Message: d.Message})
}

func writeExplainText(w io.Writer, a *classify.Assessment, d policy.Decision) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "class:\t%s\n", a.Class)
	fmt.Fprintf(tw, "tool:\t%s %s\n", a.Tool, termsafe.Line(a.Subcommand))
	if a.DryRun {
		fmt.Fprintf(tw, "dry run:\tyes\n")
	}
	fmt.Fprintf(tw, "target:\t%s\n", termsafe.Line(targetString(a.Target)))
	if a.Plan != nil {
		fmt.Fprintf(tw, "plan:\t%s (sha256 %s)\n", termsafe.Line(a.Plan.Summary), short(a.Plan.SHA256))
	}
	if a.ManifestSHA256 != "" {
		fmt.Fprintf(tw, "manifest:\t%d bytes (sha256 %s)\n", len(a.Exec.Stdin), short(a.ManifestSHA256))
	}
	fmt.Fprintf(tw, "decision:\t%s (rule %s)\n", d.Action, d.Rule)
	if d.Message != "" {
		fmt.Fprintf(tw, "\t%s\n", termsafe.Line(d.Message))
	}
	tw.Flush()
	if len(a.Resources) > 0 {
		fmt.Fprintln(w, "resources:")
		for _, r := range a.Resources {
			fmt.Fprintf(w, "  %-11s %-10s %s (%s)\n", r.Class, termsafe.Line(r.Action), termsafe.Line(resourceString(r)), r.Source)
		}
	}
	if len(a.Reasons) > 0 {
		fmt.Fprintln(w, "reasons:")
		for _, r := range a.Reasons {
			fmt.Fprintf(w, "  %-11s %s\n", r.Class, termsafe.Line(r.Message))
		}
	}
}

func targetString(t classify.Target) string {
	parts := []string{t.String()}
	if t.Server != "" {
		parts = append(parts, "server="+termsafe.Line(classify.HideUserinfo(t.Server)))
	}
	if t.CASHA256 != "" {
		parts = append(parts, "caSHA256="+t.CASHA256)
	}
	if t.Env != "" {
		parts = append(parts, "env="+t.Env)
	}
	if s := strings.TrimSpace(strings.Join(parts, " ")); s != "" {
		return s
	}
	return "(none)"
}

func resourceString(r classify.Resource) string {
	if r.Address != "" {
		return r.Address
	}
	kind := r.Kind
	if kind == "" {
		kind = r.Resource
	}
	if r.Group != "" {
		kind += "." + r.Group
	}
	name := r.Name
	if r.Namespace != "" && name != "" {
		name = r.Namespace + "/" + name
	} else if r.Namespace != "" {
		name = r.Namespace + "/*"
	}
	if name == "" {
		return kind
	}
	return kind + " " + name
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
