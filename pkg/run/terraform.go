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

// ApplyPlan applies exactly the assessed plan. inv is the assessment's
// Exec (terraform apply … PLANFILE, as pkg/classify/terraform makes it)
// and plan its Plan. The plan file is read once into a private copy; the
// copy's SHA-256 must be plan.SHA256, else a [*PlanChangedError] is
// returned and terraform does not run. terraform then applies the copy,
// so a file changed after the check changes nothing either.
//
// env is the child's environment; TF_CLI_ARGS and TF_CLI_ARGS_* are
// removed from it (they were applied while classifying). The exit code is
// terraform's.
func ApplyPlan(ctx context.Context, bin string, inv classify.Invocation, plan *classify.Plan, env []string, stdio Stdio) (int, error) {
	n := len(inv.Args)
	if plan == nil || plan.SHA256 == "" || n < 2 || inv.Args[0] != "apply" || inv.Args[n-1] != plan.Path {
		return 0, fmt.Errorf("invocation %q does not apply the assessed plan", inv.Args)
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
	args := append(append([]string{}, inv.Args[:n-1]...), copyPath)
	return Terraform(ctx, bin, args, inv.Dir, env, stdio)
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
	return exitCode(childproc.Run(cmd))
}
