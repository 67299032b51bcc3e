package cli

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/agentctl/agentctl/pkg/approve"
	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/pipeline"
	"github.com/agentctl/agentctl/pkg/policy"
)

// withModeHint gives a denial the hint that fits how agentctl runs: a
// command that needed a human, denied because non-interactive mode asks
// none, is told how to reach the inbox that is running, or, in CI, which
// policy rule would allow it and in which file.
func withModeHint(f *Factory, err error) error {
	var d *pipeline.DeniedError
	if errors.As(err, &d) && d.ToolError() == nil {
		d.ModeHint = modeHint(f, d)
	}
	return err
}

func modeHint(f *Factory, d *pipeline.DeniedError) string {
	asked := d.Answer != nil && d.Answer.Channel != "" && d.Answer.Channel != "none"
	if d.Decision.Action != policy.Approve || asked || !f.NonInteractive() || d.Assessment == nil {
		return ""
	}
	if pin, err := inboxPin(f); err == nil {
		if paths, err := approve.PinnedPaths(f.Getenv, pin); err == nil && approve.InboxRunning(paths) {
			return "an `agentctl inbox` is running, but non-interactive mode (--non-interactive, AGENTCTL_NON_INTERACTIVE, CI=true, --approver none) asks no one: " +
				"run the command again without it (or with --approver inbox) and it waits in the inbox until a human answers there"
		}
	}
	return fmt.Sprintf("rule %s needs a human, and non-interactive mode (CI) has none; a rule in %s (root's file: only it may loosen) would allow this without one: %s",
		d.Decision.Rule, filepath.Join(f.adminDir(), "policy.yaml"), allowRule(d.Assessment))
}

// allowRule is the narrowest policy rule, in YAML flow style, that would
// allow a in non-interactive mode: its tool, class and, for kubectl, the
// namespace. A rule that allows may not match on names the agent writes
// (context, cluster, workspace, directory), so a terraform rule is by
// tool and class only; an environment bound to its API server
// (docs/policy.md) narrows it further.
func allowRule(a *classify.Assessment) string {
	name := "ci-" + a.Tool + "-" + a.Class.String()
	fields := []string{"name: " + name, "tool: " + a.Tool, "class: " + a.Class.String()}
	if ns := a.Target.Namespace; ns != "" && a.Tool == "kubectl" {
		fields = append(fields, fmt.Sprintf("namespace: %q", ns))
	}
	fields = append(fields, "nonInteractive: true", "decision: allow")
	if a.Class == classify.Privilege || a.Class == classify.Unknown {
		fields = append(fields, "allowPrivilege: true")
	}
	return "- {" + strings.Join(fields, ", ") + "}"
}
