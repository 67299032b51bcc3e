package terraform

import (
	"fmt"
	"slices"

	"github.com/agentctl/agentctl/pkg/classify"
)

// classifyArgs classifies a command line from its words alone. For apply
// and destroy the verdict's Mode says that a plan must decide.
func classifyArgs(cl *cmdline) verdict {
	switch {
	case cl.Version:
		return verdict{Class: classify.Read, Reason: "-version prints the version"}
	case cl.Help:
		return verdict{Class: classify.Read, Reason: "-help prints help"}
	case cl.AutoCmp:
		return verdict{Class: classify.Write, Reason: "installs or removes shell completion in the user's shell profile"}
	case cl.TopFlag != "":
		return bad(fmt.Sprintf("%q is not a global option", cl.TopFlag))
	case cl.Sub == "":
		return verdict{Class: classify.Unknown, Refuse: true,
			Reason: "no terraform subcommand given: terraform would only print its help and exit 127, doing nothing (name one: terraform plan)"}
	}
	cmd, ok := commands[cl.Sub]
	if !ok {
		return verdict{Class: classify.Unknown, Refuse: true,
			Reason: fmt.Sprintf("unknown subcommand %q: terraform has no such command (any longer) and would only print an error (see terraform -help)", cl.Sub)}
	}
	args := make([]string, 0, len(cl.SubArgs))
	var view []string
	for _, a := range cl.SubArgs {
		if a == "-no-color" || (cmd.view && a == "-compact-warnings") {
			if !slices.Contains(view, a) {
				view = append(view, a)
			}
			continue
		}
		args = append(args, a)
	}
	p, err := parseFlags(cmd.flags, args)
	if err != nil {
		return bad(fmt.Sprintf("%s: %v", cl.Sub, err))
	}
	p.View = view
	if len(p.Args) < cmd.min || (cmd.max >= 0 && len(p.Args) > cmd.max) {
		return bad(fmt.Sprintf("%s: wrong number of arguments (%d)", cl.Sub, len(p.Args)))
	}
	v := cmd.rule(p)
	v.Parsed = p
	return v
}
