package run

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/agentctl/agentctl/pkg/childproc"
	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/classify/terraform"
	"github.com/agentctl/agentctl/pkg/exitcode"
)

// PlanChangedError is returned by [ApplyPlan] when the plan file is not the
// one that was assessed (and approved): nothing was applied.
type PlanChangedError struct {
	Path string
	Want string // SHA-256 recorded at assessment
	Got  string // SHA-256 now; "" when the file is gone
}

func (e *PlanChangedError) Error() string {
	if e.Got == "" {
		return fmt.Sprintf("plan file %q is gone since it was assessed; nothing was applied", e.Path)
	}
	return fmt.Sprintf("plan file %q changed since it was assessed (sha256 %s, assessed %s); nothing was applied\nhint: run the apply again to assess the new plan", e.Path, e.Got[:12], e.Want[:12])
}

// InputChangedError is returned by [ApplyPlan] when something the apply
// runs with besides the plan file (terraform's CLI configuration, the
// dependency lock file, the installed providers) is not what it was
// when the plan was made and approved: nothing was applied.
type InputChangedError struct {
	What string // "CLI configuration", "dependency lock file and providers"
	Path string
	Err  error // why it could not be read again, if so
}

func (e *InputChangedError) Error() string {
	msg := fmt.Sprintf("terraform %s %q changed since the plan was assessed; nothing was applied", e.What, e.Path)
	if e.Err != nil {
		msg = fmt.Sprintf("terraform %s %q cannot be checked against the assessed plan: %v; nothing was applied", e.What, e.Path, e.Err)
	}
	return msg
}

// Hint says what to do.
func (e *InputChangedError) Hint() string {
	return "leave terraform's configuration alone while an apply waits for approval, then run the apply again"
}

func (e *InputChangedError) Unwrap() error { return e.Err }

// ExitCode is 77: the apply was refused.
func (e *InputChangedError) ExitCode() int { return exitcode.Denied }

// ApplyPlan applies exactly the assessed plan with tool ("terraform" or
// "tofu", whose CLI configuration files differ) at bin. inv is the assessment's
// Exec (terraform apply … PLANFILE, as pkg/classify/terraform makes it)
// and plan its Plan. The plan file is read once into a private copy; the
// copy's SHA-256 must be plan.SHA256, else a [*PlanChangedError] is
// returned and terraform does not run. terraform then applies the copy,
// so a file changed after the check changes nothing either.
//
// The CLI configuration terraform would read now (home is the user's
// home, for ~/.terraformrc), the dependency lock file and the installed
// providers must be those of the plan (plan.CLIConfigSHA256,
// plan.ProvidersSHA256), else an [*InputChangedError] is returned and
// terraform does not run. terraform then runs with TF_CLI_CONFIG_FILE at
// a private copy of plan.CLIConfig, the bytes read while planning.
//
// env is the child's environment; TF_CLI_ARGS and TF_CLI_ARGS_* are
// removed from it (they were applied while classifying). The exit code is
// terraform's.
func ApplyPlan(ctx context.Context, tool, bin string, inv classify.Invocation, plan *classify.Plan, env []string, home string, stdio Stdio) (int, error) {
	n := len(inv.Args)
	if plan == nil || plan.SHA256 == "" || n < 2 || inv.Args[0] != "apply" || inv.Args[n-1] != plan.Path {
		return 0, fmt.Errorf("invocation %q does not apply the assessed plan", inv.Args)
	}
	if plan.CLIConfigSHA256 == "" || plan.ProvidersSHA256 == "" {
		return 0, fmt.Errorf("plan %q was assessed without its CLI configuration and providers; nothing was applied", plan.Path)
	}
	if classify.SHA256(plan.CLIConfig) != plan.CLIConfigSHA256 {
		return 0, fmt.Errorf("plan %q: the CLI configuration snapshot does not match its hash; nothing was applied", plan.Path)
	}
	now, err := terraform.ReadToolCLIConfig(tool, env, home, inv.Dir)
	if err != nil {
		return 0, &InputChangedError{What: "CLI configuration", Path: plan.CLIConfigPath, Err: err}
	}
	if now.Path != plan.CLIConfigPath || now.SHA256 != plan.CLIConfigSHA256 {
		path := now.Path
		if path == "" {
			path = plan.CLIConfigPath
		}
		return 0, &InputChangedError{What: "CLI configuration", Path: path}
	}
	lock := filepath.Join(inv.Dir, ".terraform.lock.hcl")
	if got, err := terraform.ProvidersSHA256(inv.Dir, env); err != nil || got != plan.ProvidersSHA256 {
		return 0, &InputChangedError{What: "dependency lock file and providers", Path: lock, Err: err}
	}
	b, err := os.ReadFile(plan.Path)
	if os.IsNotExist(err) {
		return 0, &PlanChangedError{Path: plan.Path, Want: plan.SHA256}
	}
	if err != nil {
		return 0, fmt.Errorf("read plan file: %w", err)
	}
	if got := classify.SHA256(b); got != plan.SHA256 {
		return 0, &PlanChangedError{Path: plan.Path, Want: plan.SHA256, Got: got}
	}
	tmp, err := os.MkdirTemp("", "agentctl-apply-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	copyPath := filepath.Join(tmp, filepath.Base(plan.Path))
	if err := os.WriteFile(copyPath, b, 0o600); err != nil {
		return 0, fmt.Errorf("copy plan file: %w", err)
	}
	rc := filepath.Join(tmp, "terraform.rc")
	if err := os.WriteFile(rc, plan.CLIConfig, 0o600); err != nil {
		return 0, fmt.Errorf("copy the CLI configuration: %w", err)
	}
	args := append(append([]string{}, inv.Args[:n-1]...), copyPath)
	return Terraform(ctx, bin, args, inv.Dir, terraform.WithCLIConfig(env, rc), stdio)
}

// Terraform runs terraform (or tofu) with args in dir and passes its
// output and exit code through. TF_CLI_ARGS and TF_CLI_ARGS_* are removed
// from env: the classifier merged them into args already. On
// cancellation terraform gets an interrupt, as from Ctrl-C, so that it
// can release locks and write state.
func Terraform(ctx context.Context, bin string, args []string, dir string, env []string, stdio Stdio) (int, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = terraform.ChildEnv(env)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdio.Stdin, stdio.Stdout, stdio.Stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 2 * time.Minute
	return exitCode(childproc.RunContained(cmd))
}
