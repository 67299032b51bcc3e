package terraform

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	tfjson "github.com/hashicorp/terraform-json"

	"github.com/agentctl/agentctl/pkg/childproc"
	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/request"
)

// PlanError is returned when terraform could not make the plan an apply or
// destroy is classified from. Output is terraform's combined output.
type PlanError struct {
	ExitCode int
	Output   string
	// Command is the terraform subcommand that failed ("" for plan).
	Command string
}

func (e *PlanError) Error() string {
	cmd := e.Command
	if cmd == "" {
		cmd = "plan"
	}
	return fmt.Sprintf("terraform %s failed with exit code %d", cmd, e.ExitCode)
}

// flags carried from the agent's apply/destroy to the plan agentctl makes,
// and to the apply of the saved plan.
var (
	planCarry = map[string]bool{"var": true, "var-file": true, "target": true, "replace": true,
		"exclude": true, "target-file": true, "exclude-file": true, "refresh": true,
		"refresh-only": true, "destroy": true, "parallelism": true, "lock": true,
		"lock-timeout": true, "state": true}
	applyCarry = map[string]bool{"parallelism": true, "lock": true, "lock-timeout": true,
		"state": true, "state-out": true, "backup": true, "json": true, "concise": true}
)

func carry(p *parsed, keep map[string]bool) []string {
	var out []string
	for _, f := range p.Flags {
		if keep[f.Name] {
			out = append(out, "-"+f.Name+"="+f.Value)
		}
	}
	return out
}

// planned fills a from a plan: the agent's plan file, or one agentctl makes.
func (c *Classifier) planned(ctx context.Context, a *classify.Assessment, req *request.Request, bin, dir string, v verdict) error {
	p := v.Parsed
	env := append(ChildEnv(req.Env), "TF_IN_AUTOMATION=1", "TF_INPUT=0")
	plan := &classify.Plan{}
	if p.isTrue("auto-approve") {
		a.Raise(classify.Read, "-auto-approve is ignored: agentctl's gate decides")
	}
	// The CLI configuration is read once: the plan, the show and the
	// apply all run with these bytes (TF_CLI_CONFIG_FILE at agentctl's
	// copy), so a file changed while the approval waits changes nothing.
	cli, err := ReadToolCLIConfig(req.Tool, env, c.opts.Home, dir)
	if err != nil {
		return err
	}
	if err := cli.Check(c.opts.Allow); err != nil {
		return err
	}
	if err := os.MkdirAll(c.opts.ScratchDir, 0o700); err != nil {
		return fmt.Errorf("plan scratch directory: %w", err)
	}
	rc, err := os.CreateTemp(c.opts.ScratchDir, "cli-*.tfrc")
	if err != nil {
		return fmt.Errorf("plan scratch directory: %w", err)
	}
	defer os.Remove(rc.Name())
	_, err = rc.Write(cli.Bytes)
	if cerr := rc.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("copy the CLI configuration: %w", err)
	}
	env = WithCLIConfig(env, rc.Name())
	plan.CLIConfig, plan.CLIConfigPath, plan.CLIConfigSHA256 = cli.Bytes, cli.Path, cli.SHA256
	if v.Mode == planApply && len(p.Args) == 1 {
		plan.Path = p.Args[0]
		if !filepath.IsAbs(plan.Path) {
			plan.Path = filepath.Join(dir, plan.Path)
		}
		if _, err := os.Lstat(plan.Path); errors.Is(err, os.ErrNotExist) {
			return c.missingPlan(ctx, bin, p.Args[0], env, slices.Contains(req.Args, "-no-color"))
		}
	} else {
		f, err := os.CreateTemp(c.opts.ScratchDir, "plan-*.tfplan")
		if err != nil {
			return fmt.Errorf("plan scratch directory: %w", err)
		}
		f.Close()
		plan.Path, plan.Owned = f.Name(), true
		args := []string{"plan", "-input=false", "-out=" + plan.Path}
		if v.Mode == planDestroy {
			args = append(args, "-destroy")
		}
		args = append(args, carry(p, planCarry)...)
		if err := c.runPlan(ctx, bin, dir, args, env, plan.Path); err != nil {
			os.Remove(plan.Path)
			return err
		}
	}
	pj, err := c.readPlan(ctx, bin, dir, env, plan)
	if err != nil {
		if plan.Owned {
			os.Remove(plan.Path)
		}
		return err
	}
	if plan.ProvidersSHA256, err = ProvidersSHA256(dir, env); err != nil {
		if plan.Owned {
			os.Remove(plan.Path)
		}
		return err
	}
	res := AssessPlan(pj, c.priv)
	a.Class = classify.Read
	a.Reasons = append(a.Reasons, classify.Reason{Class: classify.Read, Message: v.Reason + "; the plan decides the class"})
	for _, r := range res.Reasons {
		a.Raise(r.Class, "%s", r.Message)
	}
	a.Raise(res.Class, "%s", res.Summary)
	if p.isTrue("refresh-only") && len(pj.ResourceDrift) > 0 {
		a.Raise(classify.Write, "refresh-only: accepts %d changed objects into the state", len(pj.ResourceDrift))
	}
	a.Resources = append(a.Resources, res.Resources...)
	plan.Summary = res.Summary
	a.Plan = plan
	args := append(append([]string{"apply", "-input=false"}, carry(p, applyCarry)...), p.View...)
	a.Exec = classify.Invocation{Args: append(args, plan.Path), Dir: dir}
	return nil
}

// missingPlan lets terraform report that the plan file an apply names
// does not exist, with its own message and exit code: it runs the apply
// of that name (relative names stay relative) through the read sandbox in
// an empty directory of agentctl's, where the name cannot be found (the
// sandbox holds no path of the project), and returns a [*PlanError] with
// terraform's exit code; its output went to PlanOutput. Should the file
// appear meanwhile, nothing of the project is applied: the sandboxed
// apply sees only the empty directory.
func (c *Classifier) missingPlan(ctx context.Context, bin, name string, env []string, noColor bool) error {
	empty, err := os.MkdirTemp(c.opts.ScratchDir, "missing-*")
	if err != nil {
		return fmt.Errorf("plan scratch directory: %w", err)
	}
	defer os.RemoveAll(empty)
	// Nothing is installed or run but terraform: an empty CLI
	// configuration, whose mirrors cannot lie outside this "project".
	rc := filepath.Join(empty, "empty.tfrc")
	if err := os.WriteFile(rc, nil, 0o600); err != nil {
		return fmt.Errorf("plan scratch directory: %w", err)
	}
	env = WithCLIConfig(env, rc)
	args := []string{"apply", "-input=false"}
	if noColor {
		args = append(args, "-no-color")
	}
	err = c.runPlan(ctx, bin, empty, append(args, name), env, "")
	var pe *PlanError
	if errors.As(err, &pe) {
		pe.Command = "apply"
		return pe
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("plan file %q does not exist", name)
}

// RunFunc runs bin with args in dir, with exactly env, its output to
// stdout and stderr, and returns its exit code. err is for failures to
// run at all.
type RunFunc func(ctx context.Context, bin string, args []string, dir string, env []string, stdout, stderr io.Writer) (code int, err error)

// Exec is the [RunFunc] used when Options.Run is nil: a plain child
// process, interrupted (as by Ctrl-C) when ctx ends so that terraform can
// release its state lock.
func Exec(ctx context.Context, bin string, args []string, dir string, env []string, stdout, stderr io.Writer) (int, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, env, stdout, stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 30 * time.Second
	err := childproc.Run(cmd)
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() >= 0 {
		return ee.ExitCode(), nil
	}
	if err != nil {
		return 0, fmt.Errorf("run %s: %w", bin, err)
	}
	return 0, nil
}

func (c *Classifier) run(ctx context.Context, bin string, args []string, dir string, env []string, stdout, stderr io.Writer) (int, error) {
	if c.opts.Run != nil {
		return c.opts.Run(ctx, bin, args, dir, env, stdout, stderr)
	}
	return Exec(ctx, bin, args, dir, env, stdout, stderr)
}

// runPlan runs terraform plan in dir to agentctl's own plan file path,
// its output to PlanOutput without terraform's advice to apply that file
// (see adviceFilter).
func (c *Classifier) runPlan(ctx context.Context, bin, dir string, args, env []string, path string) error {
	var out bytes.Buffer
	var w io.Writer = &out
	if c.opts.PlanOutput != nil {
		af := newAdviceFilter(c.opts.PlanOutput, path)
		defer af.Close()
		w = io.MultiWriter(&out, af)
	}
	code, err := c.run(ctx, bin, args, dir, env, w, w)
	if err != nil {
		return err
	}
	if code != 0 {
		return &PlanError{ExitCode: code, Output: out.String()}
	}
	return nil
}

// readPlan hashes the plan file, reads its JSON (terraform show -json,
// parsed by [ParsePlanJSON]) and its rendering (terraform show
// -no-color), and checks that the file did not change meanwhile.
func (c *Classifier) readPlan(ctx context.Context, bin, dir string, env []string, plan *classify.Plan) (*tfjson.Plan, error) {
	before, err := fileSHA256(plan.Path)
	if err != nil {
		return nil, err
	}
	js, err := c.show(ctx, bin, dir, env, "show", "-json", "-no-color", plan.Path)
	if err != nil {
		return nil, err
	}
	pj, err := ParsePlanJSON(js)
	if err != nil {
		return nil, err
	}
	rendered, err := c.show(ctx, bin, dir, env, "show", "-no-color", plan.Path)
	if err != nil {
		return nil, err
	}
	after, err := fileSHA256(plan.Path)
	if err != nil {
		return nil, err
	}
	if after != before {
		return nil, fmt.Errorf("plan file %q changed while it was read", plan.Path)
	}
	plan.SHA256, plan.Rendered, plan.JSON = before, string(rendered), js
	plan.Variables = rootVariables(js)
	return pj, nil
}

// show runs a terraform show command and returns its standard output.
func (c *Classifier) show(ctx context.Context, bin, dir string, env []string, args ...string) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	code, err := c.run(ctx, bin, args, dir, env, &stdout, &stderr)
	if err == nil && code != 0 {
		err = fmt.Errorf("exit code %d\n%s", code, strings.TrimSpace(stderr.String()))
	}
	if err != nil {
		return nil, fmt.Errorf("terraform %s: %w", strings.Join(args, " "), err)
	}
	return stdout.Bytes(), nil
}

func fileSHA256(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read plan file: %w", err)
	}
	return classify.SHA256(b), nil
}
