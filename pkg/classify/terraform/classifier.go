package terraform

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/request"
	"github.com/agentctl/agentctl/policies"
)

// Options configure a [Classifier].
type Options struct {
	// Terraform and Tofu are the paths of the real binaries, used to plan
	// and to read plans. The request's Tool ("terraform" or "tofu") picks one.
	Terraform string
	Tofu      string
	// ScratchDir is where agentctl keeps the plan files it makes. It is
	// created with mode 0700 when missing.
	ScratchDir string
	// ExtraPrivilegeTypes extend the shipped privilege resource types
	// (policies/terraform-privilege-types.yaml) with path.Match patterns.
	ExtraPrivilegeTypes []string
	// PlanOutput, when set, receives terraform's human output while
	// agentctl plans an apply or destroy (typically the agent's stderr).
	PlanOutput io.Writer
	// Run runs the terraform plan and show commands that classifying an
	// apply or destroy needs; the CLI passes one that runs them in the
	// read sandbox, since a plan runs the configuration's providers and
	// data sources. Nil means [Exec], unsandboxed.
	Run RunFunc
	// Home is the user's home directory, where terraform finds
	// ~/.terraformrc when TF_CLI_CONFIG_FILE is unset (HOME in the
	// request's environment wins).
	Home string
	// Allow lists the parts of terraform's CLI configuration that the
	// administrator allows (dev_overrides, credentials helpers).
	Allow CLIConfigAllow
}

// Classifier classifies terraform and tofu command lines.
type Classifier struct {
	opts Options
	priv Privilege
	err  error
}

// New returns a classifier. Bad privilege patterns are reported by
// [Classifier.Classify].
func New(opts Options) *Classifier {
	c := &Classifier{opts: opts}
	types, err := policies.TerraformPrivilegeTypes()
	if err != nil {
		c.err = err
	}
	for _, p := range opts.ExtraPrivilegeTypes {
		if _, err := filepath.Match(p, ""); err != nil {
			c.err = fmt.Errorf("terraform privilege type %q: %w", p, err)
		}
	}
	c.priv = append(Privilege(types), opts.ExtraPrivilegeTypes...)
	return c
}

// Classify assesses one terraform or tofu command. Reads and other
// commands are classified from their arguments alone. apply and destroy
// are planned first (see the package documentation): the assessment then
// carries the plan and its Exec applies exactly that plan file.
func (c *Classifier) Classify(ctx context.Context, req *request.Request) (*classify.Assessment, error) {
	if c.err != nil {
		return nil, c.err
	}
	a := &classify.Assessment{Tool: req.Tool, Class: classify.Read,
		Resources: []classify.Resource{}, Reasons: []classify.Reason{}}
	a.Exec = classify.Invocation{Args: append([]string{}, req.Args...), Dir: req.Cwd, PassStdin: true}
	cl, err := parseCmdline(req.Args, req.Env)
	if err != nil {
		a.Raise(classify.Unknown, "%v", err)
		return a, nil
	}
	dir := req.Cwd
	if cl.Chdir != "" {
		dir = cl.Chdir
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(req.Cwd, dir)
		}
	}
	a.Target.Dir = dir
	a.Target.Workspace = workspace(dir, req.Env)
	a.Subcommand = cl.Sub
	for _, name := range cl.EnvVars {
		a.Raise(classify.Read, "%s=%q is applied to the arguments and removed from terraform's environment",
			name, request.Getenv(req.Env, name))
	}
	if len(cl.EnvVars) > 0 {
		// The child runs without TF_CLI_ARGS*; the merged arguments say
		// everything (terraform re-detects the subcommand after merging).
		a.Exec.Args = append(chdirArg(cl.Chdir), cl.Merged...)
	}
	for _, arg := range append(chdirArg(cl.Chdir), cl.Merged...) {
		if what := classify.ShellSyntax(arg); what != "" {
			a.Raise(classify.Unknown, "argument %q holds %q, which only a shell would interpret: %s", arg, what, classify.ShellHint)
		}
	}
	if cl.Chdir != "" {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			// terraform stops at -chdir before it looks at anything else:
			// let it say so, with its own message and exit code, and run
			// nothing else should the directory appear in the meantime.
			a.Raise(classify.Read, "-chdir=%q is not a directory: terraform only reports that and exits 1", cl.Chdir)
			a.Exec.Args = append(chdirArg(cl.Chdir), "version")
			a.Target.Workspace = ""
			return a, nil
		}
	}
	v := classifyArgs(cl)
	if v.Refuse {
		a.Refuse(v.Class, "%s", v.Reason)
		return a, nil
	}
	if v.Mode == noPlan || v.Class == classify.Unknown {
		a.Raise(v.Class, "%s", v.Reason)
		return a, nil
	}
	bin := c.opts.Terraform
	if req.Tool == "tofu" {
		bin = c.opts.Tofu
	}
	if bin == "" {
		return nil, fmt.Errorf("no %s binary configured\nhint: put %s on PATH or set its path in the configuration", req.Tool, req.Tool)
	}
	if err := c.planned(ctx, a, req, bin, dir, v); err != nil {
		return nil, err
	}
	return a, nil
}

// chdirArg returns the -chdir argument to repeat, if any.
func chdirArg(chdir string) []string {
	if chdir == "" {
		return nil
	}
	return []string{"-chdir=" + chdir}
}

// workspace returns the selected workspace: TF_WORKSPACE, else the
// environment file in the data directory, else "default".
func workspace(dir string, env []string) string {
	if w := request.Getenv(env, "TF_WORKSPACE"); w != "" {
		return w
	}
	data := request.Getenv(env, "TF_DATA_DIR")
	if data == "" {
		data = ".terraform"
	}
	if !filepath.IsAbs(data) {
		data = filepath.Join(dir, data)
	}
	b, err := os.ReadFile(filepath.Join(data, "environment"))
	if err != nil || strings.TrimSpace(string(b)) == "" {
		return "default"
	}
	return strings.TrimSpace(string(b))
}

// ChildEnv returns env without TF_CLI_ARGS and TF_CLI_ARGS_*: agentctl
// applies them while classifying, so the child must not apply them again.
func ChildEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if strings.HasPrefix(kv, EnvArgsVar+"=") || strings.HasPrefix(kv, EnvArgsVar+"_") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// Cleanup removes the plan file agentctl made for a, if any. Call it once
// the apply ran or was refused.
func Cleanup(a *classify.Assessment) error {
	if a == nil || a.Plan == nil || !a.Plan.Owned {
		return nil
	}
	err := os.Remove(a.Plan.Path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// WithCLIConfig returns env with TF_CLI_CONFIG_FILE set to path, and
// without TERRAFORM_CONFIG (its deprecated spelling).
func WithCLIConfig(env []string, path string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if strings.HasPrefix(kv, "TF_CLI_CONFIG_FILE=") || strings.HasPrefix(kv, "TERRAFORM_CONFIG=") {
			continue
		}
		out = append(out, kv)
	}
	return append(out, "TF_CLI_CONFIG_FILE="+path)
}
