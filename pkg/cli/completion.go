package cli

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/agentctl/agentctl/pkg/run"
)

// terraformCommands are terraform's subcommands (terraform ≥ 1.5 and
// OpenTofu), for completing `agentctl terraform …`.
var terraformCommands = map[string][]string{
	"": {"init", "validate", "plan", "apply", "destroy", "console", "fmt", "force-unlock", "get", "graph",
		"import", "login", "logout", "metadata", "output", "providers", "refresh", "show", "state",
		"taint", "test", "untaint", "version", "workspace"},
	"state":     {"list", "mv", "pull", "push", "replace-provider", "rm", "show"},
	"workspace": {"delete", "list", "new", "select", "show"},
	"providers": {"lock", "mirror", "schema"},
	"metadata":  {"functions"},
}

// completeTool delegates completion of `agentctl TOOL …` to the tool:
// kubectl's own completion for kubectl, terraform's subcommands otherwise.
func completeTool(tool string) func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return func(_ *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if tool == "kubectl" {
			c, d := run.KubectlComplete(args, toComplete)
			return c, cobra.ShellCompDirective(d)
		}
		var words []string
		for _, a := range args {
			if !strings.HasPrefix(a, "-") {
				words = append(words, a)
			}
		}
		key := ""
		switch len(words) {
		case 0:
		case 1:
			key = words[0]
		default:
			return nil, cobra.ShellCompDirectiveDefault
		}
		var out []string
		for _, c := range terraformCommands[key] {
			if strings.HasPrefix(c, toComplete) {
				out = append(out, c)
			}
		}
		if len(out) == 0 && key != "" {
			return nil, cobra.ShellCompDirectiveDefault
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}
