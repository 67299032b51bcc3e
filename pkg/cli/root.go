// Package cli wires agentctl's pipeline to the command line: global flags,
// the tool commands (kubectl, terraform, tofu), explain, and the
// administrative commands. It is the only package that knows cobra.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/agentctl/agentctl/pkg/run"
	"github.com/agentctl/agentctl/sandbox"
)

// Main runs agentctl and returns its exit code.
func Main() int {
	if isChild, code := sandbox.MaybeChild(entries()); isChild {
		return code
	}
	if code, ok := run.MaybeEntry(entries()); ok {
		return code
	}
	f := NewFactory()
	if code, stop := brokerGate(f, os.Args, f.IO.ErrOut); stop {
		return code
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	args := os.Args[1:]
	if tool, ok := isShimName(os.Args[0]); ok {
		// Called through a shim: everything is the tool's; agentctl's
		// own settings come from AGENTCTL_* variables.
		args = append([]string{tool}, args...)
	}
	return Execute(ctx, f, args)
}

// entries are the in-process entry points a child agentctl process can run.
func entries() map[string]func([]string) int {
	return map[string]func([]string) int{
		run.KubectlEntry: run.KubectlMain,
	}
}

// Execute runs the root command with args and returns the exit code.
func Execute(ctx context.Context, f *Factory, args []string) int {
	root := NewRootCmd(f)
	root.SetArgs(args)
	root.SetIn(f.IO.In)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	err := unknownCommand(root, args)
	if err != nil {
		// Cobra parsed nothing: read --output for the error's format.
		fs := pflag.NewFlagSet("agentctl", pflag.ContinueOnError)
		fs.ParseErrorsAllowlist.UnknownFlags = true
		fs.SetOutput(io.Discard)
		fs.StringVarP(&f.Global.Output, "output", "o", f.Getenv("AGENTCTL_OUTPUT"), "")
		_ = fs.Parse(args)
	} else {
		err = root.ExecuteContext(ctx)
	}
	if err != nil {
		if isCobraUsageError(err) {
			err = &UsageError{Err: err}
		}
		printError(f.IO.ErrOut, err, f.Global.JSON())
	}
	return exitCode(err)
}

// NewRootCmd builds the agentctl command tree.
func NewRootCmd(f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "agentctl",
		Short: "Run kubectl and terraform for AI agents: classified, policed, sandboxed, approved, audited",
		Long: `agentctl stands between AI agents and production infrastructure.

Agents run "agentctl kubectl …" and "agentctl terraform …" instead of the
real tools. Every command is parsed exactly, classified by risk, checked
against a policy, sandboxed when it only reads, approved by a human when it
changes something, and written to a tamper-evident audit log.`,
		SilenceErrors:    true,
		SilenceUsage:     true,
		TraverseChildren: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return completeGlobals(f, cmd)
		},
	}
	fl := root.PersistentFlags()
	fl.StringVarP(&f.Global.Output, "output", "o", "", "agentctl's own output format: json (env AGENTCTL_OUTPUT)")
	fl.StringVar(&f.Global.Intent, "intent", "", "why the agent runs this command, shown to approvers and audited (env AGENTCTL_INTENT)")
	fl.StringVar(&f.Global.Agent, "agent", "", "the agent's identity (env AGENTCTL_AGENT)")
	fl.StringArrayVar(&f.Global.Policy, "policy", nil, "an extra policy file, layered last (env AGENTCTL_POLICY)")
	fl.BoolVar(&f.Global.NonInteractive, "non-interactive", false, "never ask a human: what needs approval is denied (env AGENTCTL_NON_INTERACTIVE)")
	fl.StringVar(&f.Global.Approver, "approver", "", "who approves: tty, inbox or none (env AGENTCTL_APPROVER)")
	fl.BoolVar(&f.Global.ReportResult, "report-result", false, "after a command that ran, write its decision as one JSON line on stderr (agentctl mcp through a broker)")
	fl.MarkHidden("report-result")

	root.AddCommand(
		newToolCmd(f, "kubectl"),
		newToolCmd(f, "terraform"),
		newToolCmd(f, "tofu"),
		newExplainCmd(f),
		newInboxCmd(f),
		newApproversCmd(f),
		newVersionCmd(f),
		newShimsCmd(f),
		newAuditCmd(f),
		newPolicyCmd(f),
		newUnlockCmd(f),
		newGrantCmd(f),
		newBreakGlassCmd(f),
		newBootstrapCmd(f),
		newSandboxCmd(f),
		newProposeCmd(f),
		newApproveCmd(f),
		newServeCmd(f),
		newMCPCmd(f),
		newHookCmd(f),
		newRunCmd(f),
	)
	return root
}

// completeGlobals fills unset global flags from AGENTCTL_* variables and
// validates them.
func completeGlobals(f *Factory, cmd *cobra.Command) error {
	fl := cmd.Root().PersistentFlags()
	fromEnv := func(flag, env string, set func(string)) {
		if !fl.Changed(flag) {
			if v := f.Getenv(env); v != "" {
				set(v)
			}
		}
	}
	fromEnv("output", "AGENTCTL_OUTPUT", func(v string) { f.Global.Output = v })
	fromEnv("intent", "AGENTCTL_INTENT", func(v string) { f.Global.Intent = v })
	fromEnv("agent", "AGENTCTL_AGENT", func(v string) { f.Global.Agent = v })
	fromEnv("policy", "AGENTCTL_POLICY", func(v string) { f.Global.Policy = strings.Split(v, string(os.PathListSeparator)) })
	fromEnv("approver", "AGENTCTL_APPROVER", func(v string) { f.Global.Approver = v })
	switch f.Global.Output {
	case "", "text", "table", "json":
	default:
		out := f.Global.Output
		f.Global.Output = ""
		return &UsageError{Err: fmt.Errorf("unknown output format %q (want json, text or table)", out)}
	}
	switch f.Global.Approver {
	case "", "tty", "inbox", "none":
	default:
		return &UsageError{Err: fmt.Errorf("unknown approver %q (want tty, inbox or none)", f.Global.Approver)}
	}
	return nil
}

func isCobraUsageError(err error) bool {
	var u *UsageError
	if errors.As(err, &u) {
		return false
	}
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "flag needs an argument", "invalid argument", "accepts ", "requires at least", "requires at most", "required flag"} {
		if strings.HasPrefix(msg, p) || strings.Contains(msg, " "+p) {
			return true
		}
	}
	return false
}

// unknownCommand returns the usage error for an argv whose first word is
// no command of agentctl (agentctl kubeclt get pods), nor of a command
// group (agentctl audit verfy), with or without --help. Cobra would print
// the help of the group and exit 0, and an agent would believe its command
// ran. Anything else is left to cobra.
func unknownCommand(root *cobra.Command, args []string) error {
	if len(args) > 0 && strings.HasPrefix(args[0], cobra.ShellCompRequestCmd) {
		return nil
	}
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	// Walk the tree without cobra's Traverse, which parses the flags it
	// passes (a repeated --policy would be counted twice).
	cmd, rest := root, args
	var word string
	for {
		i := firstPositional(cmd, rest)
		if i < 0 || cmd.Runnable() || !cmd.HasSubCommands() {
			return nil
		}
		word = rest[i]
		next := subcommand(cmd, word)
		if next == nil {
			break
		}
		cmd, rest = next, rest[i+1:]
	}
	msg := fmt.Sprintf("unknown command %q", word)
	if cmd != root {
		msg += fmt.Sprintf(" for %q", cmd.CommandPath())
	}
	hint := fmt.Sprintf("run `%s --help` for the list of commands", cmd.CommandPath())
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2
	}
	if s := cmd.SuggestionsFor(word); len(s) > 0 {
		hint = fmt.Sprintf("did you mean %q?", s[0])
		for _, alt := range s[1:] {
			hint = strings.TrimSuffix(hint, "?") + fmt.Sprintf(" or %q?", alt)
		}
	}
	return &UsageError{Err: &hintedError{msg: msg, hint: hint}}
}

// subcommand returns the child of cmd named or aliased word, or nil.
func subcommand(cmd *cobra.Command, word string) *cobra.Command {
	for _, c := range cmd.Commands() {
		if c.Name() == word || c.HasAlias(word) {
			return c
		}
	}
	return nil
}

// firstPositional returns the index of the first argument of args that is
// neither a flag of cmd nor a flag's value, or -1.
func firstPositional(cmd *cobra.Command, args []string) int {
	lookup := func(name string, short bool) *pflag.Flag {
		for _, fs := range []*pflag.FlagSet{cmd.Flags(), cmd.InheritedFlags()} {
			if short {
				if f := fs.ShorthandLookup(name); f != nil {
					return f
				}
			} else if f := fs.Lookup(name); f != nil {
				return f
			}
		}
		return nil
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return -1
		case strings.HasPrefix(a, "--"):
			name, _, hasValue := strings.Cut(a[2:], "=")
			if f := lookup(name, false); f != nil && !hasValue && f.NoOptDefVal == "" {
				i++
			}
		case strings.HasPrefix(a, "-") && len(a) > 1:
			// -o json, -ojson: a value-taking shorthand takes the rest or the next word.
			if f := lookup(a[len(a)-1:], true); len(a) == 2 && f != nil && f.NoOptDefVal == "" {
				i++
			}
		default:
			return i
		}
	}
	return -1
}

// hintedError is an error with a hint line.
type hintedError struct{ msg, hint string }

func (e *hintedError) Error() string { return e.msg }
func (e *hintedError) Hint() string  { return e.hint }
