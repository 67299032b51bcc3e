package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/agentctl/agentctl/pkg/hook"
)

// maxHookInput bounds the hook payload read from stdin.
const maxHookInput = 4 << 20

func newHookCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "hook",
		Short: "Pre-tool-use hooks for agents: route kubectl, terraform and tofu through agentctl",
	}
	cmd.AddCommand(newHookClaudeCmd(f))
	return cmd
}

// claudeHookInput is the part of Claude Code's PreToolUse hook input
// agentctl reads.
type claudeHookInput struct {
	HookEventName string                     `json:"hook_event_name"`
	ToolName      string                     `json:"tool_name"`
	ToolInput     map[string]json.RawMessage `json:"tool_input"`
}

type claudeHookOutput struct {
	HookSpecificOutput claudeHookDecision `json:"hookSpecificOutput"`
}

type claudeHookDecision struct {
	HookEventName            string                     `json:"hookEventName"`
	PermissionDecision       string                     `json:"permissionDecision"`
	PermissionDecisionReason string                     `json:"permissionDecisionReason,omitempty"`
	UpdatedInput             map[string]json.RawMessage `json:"updatedInput,omitempty"`
}

func newHookClaudeCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "claude",
		Short: "Claude Code's PreToolUse hook: rewrite Bash commands to go through agentctl, or deny them",
		Long: `Claude reads Claude Code's PreToolUse hook input on stdin. For a Bash
tool call that runs kubectl, terraform or tofu it answers, on stdout in
the hook's JSON format:

  - the command rewritten to run "agentctl kubectl …" (allowed when it is
    one simple command, else asked, so the user sees the whole line);
  - deny, with the reason, when the tool runs where a rewrite cannot
    reach (behind sudo, xargs, sh -c, eval) or the line cannot be read
    for certain (an unclosed quote, a heredoc, a variable as command).

Other tools and commands get no answer (exit 0). Input it cannot parse
exits 2, which Claude Code treats as a block. See docs/agents.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return hookClaude(f.IO.In, f.IO.Out)
		},
	}
}

// hookBlock is the exit status that makes Claude Code block the tool call
// and show stderr to the model.
type hookBlock struct{ msg string }

func (e *hookBlock) Error() string { return e.msg }
func (e *hookBlock) ExitCode() int { return 2 }

func hookClaude(in io.Reader, out io.Writer) error {
	b, err := io.ReadAll(io.LimitReader(in, maxHookInput+1))
	if err != nil || len(b) > maxHookInput {
		return &hookBlock{"cannot read the hook input: blocked"}
	}
	var h claudeHookInput
	if err := json.Unmarshal(b, &h); err != nil {
		return &hookBlock{fmt.Sprintf("cannot parse the hook input (%v): blocked", err)}
	}
	if h.HookEventName != "" && h.HookEventName != "PreToolUse" {
		return nil
	}
	if h.ToolName != "Bash" {
		return nil
	}
	var line string
	if err := json.Unmarshal(h.ToolInput["command"], &line); err != nil {
		return &hookBlock{"the Bash tool input has no command string: blocked"}
	}
	r := hook.Scan(line)
	answer := func(d claudeHookDecision) error {
		d.HookEventName = "PreToolUse"
		return json.NewEncoder(out).Encode(claudeHookOutput{HookSpecificOutput: d})
	}
	if r.Unsure != "" {
		return answer(claudeHookDecision{PermissionDecision: "deny", PermissionDecisionReason: fmt.Sprintf(
			"agentctl cannot tell what this command runs (%s); run kubectl, terraform and tofu as plain commands (agentctl kubectl …), one per line", r.Unsure)})
	}
	if f := r.Hidden(); f != nil {
		return answer(claudeHookDecision{PermissionDecision: "deny", PermissionDecisionReason: fmt.Sprintf(
			"%s runs behind %s, where agentctl cannot check it; run it directly as `agentctl %s …` (agentctl applies the policy and asks a human when needed)", f.Tool, f.Behind, f.Tool)})
	}
	if len(r.Found) == 0 {
		return nil
	}
	rewritten, _ := json.Marshal(r.Rewrite(line))
	updated := map[string]json.RawMessage{}
	for k, v := range h.ToolInput {
		updated[k] = v
	}
	updated["command"] = rewritten
	d := claudeHookDecision{PermissionDecision: "ask", UpdatedInput: updated,
		PermissionDecisionReason: "kubectl, terraform and tofu go through agentctl; the rest of the line is yours to approve"}
	if r.Commands == 1 && !strings.ContainsAny(line, "<>") {
		// One command, and agentctl decides it: nothing else to ask.
		d.PermissionDecision, d.PermissionDecisionReason = "allow", "runs through agentctl, which applies the policy"
	}
	return answer(d)
}
