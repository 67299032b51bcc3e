package terraform

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/terraform-exec/tfexec"
	tfjson "github.com/hashicorp/terraform-json"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/request"
)

// PlanError is returned when terraform could not make the plan an apply or
// destroy is classified from. Output is terraform's combined output.
type PlanError struct {
	ExitCode int
	Output   string
}

func (e *PlanError) Error() string {
	return fmt.Sprintf("terraform plan failed with exit code %d", e.ExitCode)
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
	if v.Mode == planApply && len(p.Args) == 1 {
		plan.Path = p.Args[0]
		if !filepath.IsAbs(plan.Path) {
			plan.Path = filepath.Join(dir, plan.Path)
		}
	} else {
		if err := os.MkdirAll(c.opts.ScratchDir, 0o700); err != nil {
			return fmt.Errorf("plan scratch directory: %w", err)
		}
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
		if err := c.runPlan(ctx, bin, dir, args, env); err != nil {
			os.Remove(plan.Path)
			return err
		}
	}
	pj, err := readPlan(ctx, bin, dir, env, plan)
	if err != nil {
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
	args := append([]string{"apply", "-input=false"}, carry(p, applyCarry)...)
	a.Exec = classify.Invocation{Args: append(args, plan.Path), Dir: dir}
	return nil
}

// runPlan runs terraform plan in dir, its output to PlanOutput.
func (c *Classifier) runPlan(ctx context.Context, bin, dir string, args, env []string) error {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir, cmd.Env = dir, env
	cmd.Stdout, cmd.Stderr = &out, &out
	if c.opts.PlanOutput != nil {
		cmd.Stdout = &teeWriter{&out, c.opts.PlanOutput}
		cmd.Stderr = cmd.Stdout
	}
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 30 * time.Second
	err := cmd.Run()
	if err == nil {
		return nil
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return &PlanError{ExitCode: ee.ExitCode(), Output: out.String()}
	}
	return fmt.Errorf("run %s plan: %w", bin, err)
}

// readPlan hashes the plan file, reads its JSON (terraform show -json,
// parsed by [ParsePlanJSON]) and its rendering (terraform-exec's
// ShowPlanFileRaw), and checks that the file did not change meanwhile.
func readPlan(ctx context.Context, bin, dir string, env []string, plan *classify.Plan) (*tfjson.Plan, error) {
	before, err := fileSHA256(plan.Path)
	if err != nil {
		return nil, err
	}
	tf, err := tfexec.NewTerraform(dir, bin)
	if err != nil {
		return nil, err
	}
	if err := tf.SetEnv(showEnv(env)); err != nil {
		return nil, err
	}
	pj, err := showJSON(ctx, bin, dir, env, plan.Path)
	if err != nil {
		return nil, err
	}
	rendered, err := tf.ShowPlanFileRaw(ctx, plan.Path)
	if err != nil {
		return nil, fmt.Errorf("render plan %q: %w", plan.Path, err)
	}
	after, err := fileSHA256(plan.Path)
	if err != nil {
		return nil, err
	}
	if after != before {
		return nil, fmt.Errorf("plan file %q changed while it was read", plan.Path)
	}
	plan.SHA256, plan.Rendered = before, rendered
	return pj, nil
}

// showJSON runs terraform show -json on a plan file and parses it.
func showJSON(ctx context.Context, bin, dir string, env []string, path string) (*tfjson.Plan, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "show", "-json", "-no-color", path)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, env, &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("read plan %q: %w\n%s", path, err, stderr.String())
	}
	return ParsePlanJSON(stdout.Bytes())
}

// showEnv is env as terraform-exec accepts it: without the variables it
// manages itself (TF_LOG, TF_INPUT, ...) and TF_VAR_*, which reading a
// plan does not need.
func showEnv(env []string) map[string]string {
	m := map[string]string{}
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		if len(tfexec.ProhibitedEnv(map[string]string{k: v})) == 0 {
			m[k] = v
		}
	}
	return m
}

func fileSHA256(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read plan file: %w", err)
	}
	return classify.SHA256(b), nil
}

type teeWriter struct {
	a, b interface{ Write([]byte) (int, error) }
}

func (t *teeWriter) Write(p []byte) (int, error) {
	t.b.Write(p) // best effort: the captured copy is what matters
	return t.a.Write(p)
}
