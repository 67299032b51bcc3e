package approve

import (
	"strings"

	"github.com/agentctl/agentctl/pkg/audit"
	"github.com/agentctl/agentctl/pkg/classify"
)

// commandArgs is the command line the screen shows: args with secret
// values masked ([audit.MaskArgs]), except the terraform -var values the
// plan shows anyway: those of root variables its configuration declares
// and does not mark sensitive. A value whose variable the plan does not
// know, or whose name looks secret, stays masked.
func commandArgs(tool string, args []string, a *classify.Assessment) []string {
	out := audit.MaskArgs(tool, args)
	if tool != "terraform" && tool != "tofu" || a == nil || a.Plan == nil || a.Plan.Variables == nil {
		return out
	}
	vars := a.Plan.Variables
	shown := func(kv string) (string, bool) {
		k, _, ok := strings.Cut(kv, "=")
		if sensitive, declared := vars[k]; !ok || !declared || sensitive {
			return "", false
		}
		// The generic masking still applies: a URL's password, a
		// KEY=VALUE whose KEY names a secret.
		return audit.MaskArgs(tool, []string{kv})[0], true
	}
	for i := 0; i < len(args); i++ {
		arg := args[i]
		switch {
		case (arg == "-var" || arg == "--var") && i+1 < len(args):
			i++
			if v, ok := shown(args[i]); ok {
				out[i] = v
			}
		case strings.HasPrefix(arg, "-var=") || strings.HasPrefix(arg, "--var="):
			flag, kv, _ := strings.Cut(arg, "=")
			if v, ok := shown(kv); ok {
				out[i] = flag + "=" + v
			}
		}
	}
	return out
}
