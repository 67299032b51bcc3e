package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
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
	cmd.AddCommand(newHookClaudeCmd(f), newHookCodexCmd(f))
	return cmd
}

// claudeHookInput is the part of Claude Code's PreToolUse hook input
// agentctl reads.
type claudeHookInput struct {
	HookEventName string                     `json:"hook_event_name"`
	Cwd           string                     `json:"cwd"`
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
			return hookAnswer(f.IO.In, f.IO.Out, hookClaudeCode)
		},
	}
}

func newHookCodexCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "codex",
		Short: "Codex's PreToolUse hook: rewrite Bash commands to go through agentctl, or deny them",
		Long: `Codex reads Codex's PreToolUse hook input on stdin (the same wire format
as Claude Code's) and answers on stdout:

  - allow, with the command rewritten to run "agentctl kubectl …", when
    the line is one simple command;
  - deny, with the reason, when the tool runs where a rewrite cannot
    reach or the line cannot be read for certain, and also for a longer
    line that holds kubectl, terraform or tofu: Codex has no "ask" to show
    the rewritten line to the user, so the reason gives it to the model
    to run instead.

The answer holds only the fields Codex's hook output schema names:
Codex treats an unknown field as a failed hook and runs the tool. Other
tools and commands get no answer (exit 0). Input it cannot parse exits
2, which Codex treats as a block. See docs/agents.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return hookAnswer(f.IO.In, f.IO.Out, hookCodex)
		},
	}
}

// hookDialect is the agent whose hook format an answer is in.
type hookDialect int

const (
	hookClaudeCode hookDialect = iota
	hookCodex
)

// maxHookScript bounds the script a hook looks into.
const maxHookScript = 1 << 20

// scriptRunsTool looks into the scripts a command line runs (relative
// paths from the hook's cwd), one level deep: the first that runs a
// wrapped tool directly is returned with the tool; one that cannot be
// read or scanned for certain (a relative path in a line that changes
// directory, among them) is returned with why. A script that does
// not exist yet, or is a binary, is not looked into: the first fails to
// run, and the shims guard what a binary runs.
func scriptRunsTool(cwd string, scripts []string, chdir bool) (script, tool, why string) {
	for _, s := range scripts {
		p := s
		if !filepath.IsAbs(p) && chdir {
			return s, "", "the line changes directory before it runs it"
		}
		if !filepath.IsAbs(p) {
			if cwd == "" {
				return s, "", "the hook input names no working directory"
			}
			p = filepath.Join(cwd, p)
		}
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) || err == nil && !fi.Mode().IsRegular() {
			continue
		}
		if err != nil {
			return s, "", err.Error()
		}
		if fi.Size() > maxHookScript {
			return s, "", "larger than 1 MiB"
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return s, "", err.Error()
		}
		if bytes.IndexByte(b, 0) >= 0 {
			continue // a binary
		}
		r := hook.Scan(string(b))
		if r.Unsure != "" {
			return s, "", r.Unsure
		}
		if len(r.Found) > 0 {
			return s, r.Found[0].Tool, ""
		}
	}
	return "", "", ""
}

// hookBlock is the exit status that makes Claude Code block the tool call
// and show stderr to the model.
type hookBlock struct{ msg string }

func (e *hookBlock) Error() string { return e.msg }
func (e *hookBlock) ExitCode() int { return 2 }

func hookAnswer(in io.Reader, out io.Writer, dialect hookDialect) error {
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
	if script, tool, why := scriptRunsTool(h.Cwd, r.Scripts, r.Chdir); script != "" {
		if why != "" {
			return answer(claudeHookDecision{PermissionDecision: "deny", PermissionDecisionReason: fmt.Sprintf(
				"agentctl cannot look into the script %q (%s); run kubectl, terraform and tofu as plain commands (agentctl kubectl …)", script, why)})
		}
		return answer(claudeHookDecision{PermissionDecision: "deny", PermissionDecisionReason: fmt.Sprintf(
			"the script %q runs %s, which agentctl cannot check there; call `agentctl %s …` in the script, or run the command directly", script, tool, tool)})
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
	} else if dialect == hookCodex {
		// No "ask" to put the rest of the line before the user: the
		// model gets the line to run instead, and nothing runs unseen.
		d = claudeHookDecision{PermissionDecision: "deny", PermissionDecisionReason: fmt.Sprintf(
			"kubectl, terraform and tofu go through agentctl; run this instead: %s", r.Rewrite(line))}
	}
	return answer(d)
}
