package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/agentctl/agentctl/pkg/audit"
	"github.com/agentctl/agentctl/pkg/classify"
	kubectlclass "github.com/agentctl/agentctl/pkg/classify/kubectl"
	tfclass "github.com/agentctl/agentctl/pkg/classify/terraform"
	"github.com/agentctl/agentctl/pkg/pipeline"
	"github.com/agentctl/agentctl/pkg/policy"
	"github.com/agentctl/agentctl/pkg/request"
)

// xdgDir returns $VAR, or $HOME/fallback, joined with "agentctl".
func xdgDir(f *Factory, env, fallback string) string {
	if d := f.Getenv(env); filepath.IsAbs(d) {
		return filepath.Join(d, "agentctl")
	}
	if h := f.Getenv("HOME"); h != "" {
		return filepath.Join(h, fallback, "agentctl")
	}
	return ""
}

// policyOptions says where this process's policy layers and lockout state
// are: the embedded default, /etc/agentctl/policy.yaml,
// $XDG_CONFIG_HOME/agentctl/policy.yaml, the project's
// .agentctl/policy.yaml, then --policy files.
func policyOptions(f *Factory) policy.LoadOptions {
	cwd, _ := f.Getwd()
	return policy.LoadOptions{
		Options: policy.Options{
			StateDir: stateDir(f),
			Warn:     func(msg string) { fmt.Fprintf(f.IO.ErrOut, "agentctl: warning: %s\n", msg) },
		},
		Files:     f.Global.Policy,
		Cwd:       cwd,
		ConfigDir: xdgDir(f, "XDG_CONFIG_HOME", ".config"),
		AdminFile: filepath.Join(f.adminDir(), "policy.yaml"),
	}
}

// loadPolicy builds the policy engine; a bad policy is a *policy.LoadError
// (exit 78).
func loadPolicy(f *Factory) (*policy.Engine, error) {
	return policy.Load(policyOptions(f))
}

func newPolicyCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Check, test and show the policy that decides every command",
		Long: `The policy decides each command: allow, sandbox, approve or deny.

Layers, least specific first: the default policy embedded in agentctl,
$XDG_CONFIG_HOME/agentctl/policy.yaml, .agentctl/policy.yaml in the working
tree (looked for up to the repository root; it can only tighten), and
--policy files. See docs/policy.md.`,
	}
	cmd.AddCommand(newPolicyCheckCmd(f), newPolicyTestCmd(f), newPolicyShowCmd(f))
	return cmd
}

func newPolicyCheckCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "check [FILE...]",
		Short: "Validate policy files (default: every layer in effect)",
		Long: `Check parses and validates policy files: YAML syntax, unknown fields,
values, CEL conditions. Problems are printed as file:line:col: message and
agentctl exits 78. With no FILE it checks every layer in effect.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts := policyOptions(f)
			if len(args) > 0 {
				opts = policy.LoadOptions{Options: opts.Options, Files: args, AsInstalled: true}
			}
			opts.StateDir = ""
			e, err := policy.Load(opts)
			if err != nil {
				return err
			}
			for _, l := range e.Layers() {
				fmt.Fprintf(f.IO.Out, "ok  %-8s %s (%d rules)\n", l.Kind, l.File.Name, len(l.File.Rules))
			}
			return nil
		},
	}
}

// testFailedError makes `policy test` exit 1 when a case failed.
type testFailedError struct{ failed int }

func (e *testFailedError) Error() string { return fmt.Sprintf("%d policy test cases failed", e.failed) }
func (e *testFailedError) ExitCode() int { return 1 }

func newPolicyTestCmd(f *Factory) *cobra.Command {
	var verbose bool
	cmd := &cobra.Command{
		Use:   "test [DIR|FILE...]",
		Short: "Run policy test cases (*_test.yaml): command line and context → expected decision and rule",
		Long: `Test runs the cases of *_test.yaml files (default: the current directory,
recursively). Each case's command line is classified by agentctl's real
classifiers, offline, then decided; the decision, rule, environment and
class must be what the case wants. A test file names the policy files it
tests (layered over the default); without one it tests the policy in
effect. Exits 1 when a case fails, 78 when a file is broken.`,
		Example: `  agentctl policy test policies/examples
  agentctl policy test -v .agentctl/policy_test.yaml`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				args = []string{"."}
			}
			return policyTest(cmd.Context(), f, args, verbose)
		},
	}
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "print every case, not only failures")
	return cmd
}

func policyTest(ctx context.Context, f *Factory, paths []string, verbose bool) error {
	var files []string
	for _, p := range paths {
		fs, err := policy.TestFiles(p)
		if err != nil {
			return &UsageError{Err: fmt.Errorf("policy test: %w", err)}
		}
		files = append(files, fs...)
	}
	if len(files) == 0 {
		return &UsageError{Err: fmt.Errorf("no *_test.yaml files in %q", paths)}
	}
	opts := policyOptions(f)
	opts.StateDir = ""
	base, err := policy.LoadLayers(opts)
	if err != nil {
		return err
	}
	classifiers := newOfflineClassifiers(f)
	res, err := policy.RunTests(ctx, files, policy.TestOptions{
		Classify: func(ctx context.Context, req *request.Request) (*classify.Assessment, error) {
			c, ok := classifiers[req.Tool]
			if !ok {
				return nil, fmt.Errorf("unsupported tool %q", req.Tool)
			}
			return c.Classify(ctx, req)
		},
		Base:    base,
		Out:     f.IO.Out,
		Verbose: verbose,
	})
	if err != nil {
		return err
	}
	if res.Failed > 0 {
		return &testFailedError{failed: res.Failed}
	}
	return nil
}

func newPolicyShowCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "show",
		Short: "Print the effective policy: layers in evaluation order, environments, limits",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts := policyOptions(f)
			opts.StateDir = ""
			e, err := policy.Load(opts)
			if err != nil {
				return err
			}
			if f.Global.JSON() {
				enc := json.NewEncoder(f.IO.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(e.Effective())
			}
			enc := yaml.NewEncoder(f.IO.Out)
			enc.SetIndent(2)
			defer enc.Close()
			return enc.Encode(e.Effective())
		},
	}
}

func newUnlockCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "unlock [--agent NAME]",
		Short: "Lift an agent's lockout after repeated denials, with a human's approval",
		Long: `An agent whose commands were denied too often (limits.lockout) is locked:
every command but reads is denied until a human lifts it with agentctl
unlock. The agent is --agent (or AGENTCTL_AGENT); none means "anonymous".

The agent can run agentctl too, so the unlock itself needs a human's
approval, asked as for any command (the terminal screen or agentctl
inbox; denied when non-interactive), and is written to the audit log.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := policyOptions(f).StateDir
			if dir == "" {
				return &ConfigError{Err: errors.New("cannot place the policy state: neither XDG_STATE_HOME nor HOME is set")}
			}
			name := policy.AgentName(f.Global.Agent)
			st := policy.OpenState(dir)
			// The lock may be this name's or the user-wide one that
			// denials spread over several names set: lift whichever
			// holds, or the agent stays locked after "unlocked".
			l, err := st.Lockout(f.Global.Agent)
			if err != nil {
				return err
			}
			if l == nil {
				fmt.Fprintf(f.IO.Out, "agent %q was not locked\n", name)
				return nil
			}
			if err := approveUnlock(cmd.Context(), f, name, l); err != nil {
				return err
			}
			if _, err := st.Unlock(f.Global.Agent); err != nil {
				return err
			}
			fmt.Fprintf(f.IO.Out, "agent %q unlocked\n", name)
			return nil
		},
	}
}

// approveUnlock asks a human to lift an agent's lockout and audits the
// answer; an error (a *pipeline.DeniedError when not approved) means no.
func approveUnlock(ctx context.Context, f *Factory, name string, l *policy.Lockout) error {
	approval, err := approvalConfig(f)
	if err != nil {
		return err
	}
	ap, err := selectApprover(f, approval)
	if err != nil {
		return err
	}
	log, _, err := openAuditLog(f)
	if err != nil {
		return err
	}
	defer log.Close()
	cwd, _ := f.Getwd()
	req := &request.Request{ID: request.NewID(), Time: time.Now().UTC(), Tool: "agentctl", Args: []string{"unlock", "--agent", name},
		Cwd: cwd, Agent: f.Global.Agent, Intent: f.Global.Intent}
	timeout, err := approvalTimeout(f, approval)
	if err != nil {
		return err
	}
	return pipeline.ApproveUnlock(ctx, pipeline.Unlock{Approver: ap, Auditor: &pipeline.LogAuditor{Log: log, Proc: audit.Self()},
		Req: req, Agent: name, Lockout: l, Timeout: timeout})
}

// newOfflineClassifiers are the classifiers `policy test` uses: the real
// ones, but with no cluster discovery and no terraform binary, so that a
// case's result depends on its command line only. A terraform apply case
// therefore fails to classify (it would need a plan); test plan, or use
// an explain of a real plan instead.
func newOfflineClassifiers(f *Factory) map[string]pipeline.Classifier {
	tfc := tfclass.New(tfclass.Options{})
	return map[string]pipeline.Classifier{
		"kubectl":   kubectlclass.New(kubectlclass.Options{}),
		"terraform": tfc,
		"tofu":      tfc,
	}
}
