package run

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/policy"
	"github.com/agentctl/agentctl/pkg/request"
	"github.com/agentctl/agentctl/sandbox"
)

// terraform runs an assessed terraform or tofu command: an apply of the
// exact assessed plan file, or the command itself, sandboxed when the
// decision says so.
func (e *LocalExecutor) terraform(ctx context.Context, a *classify.Assessment, d policy.Decision, env []string, stdio Stdio, rep *ExecReport) (int, error) {
	if e.Terraform == nil {
		return 0, fmt.Errorf("no %s binary configured", a.Tool)
	}
	bin, err := e.Terraform(a.Tool)
	if err != nil {
		return 0, err
	}
	if a.Plan != nil && len(a.Exec.Args) > 0 && a.Exec.Args[0] == "apply" {
		rep.Sandbox = "none (approved apply of plan " + a.Plan.SHA256[:12] + ")"
		return ApplyPlan(ctx, bin, a.Exec, a.Plan, env, stdio)
	}
	if d.Action != policy.Sandbox {
		rep.Sandbox = "none (decision " + string(d.Action) + ")"
		return Terraform(ctx, bin, a.Exec.Args, a.Exec.Dir, env, stdio)
	}
	dir := a.Exec.Dir
	dataDir := request.Getenv(env, "TF_DATA_DIR")
	if dataDir == "" {
		dataDir = filepath.Join(dir, ".terraform")
	} else if !filepath.IsAbs(dataDir) {
		dataDir = filepath.Join(dir, dataDir)
	}
	// terraform init creates the data dir; plan locks local state next
	// to the configuration: the working dir is writable, the rest of the
	// machine is not.
	cfg := sandbox.Config{
		Argv:             append([]string{bin}, a.Exec.Args...),
		Env:              env,
		Dir:              dir,
		ReadOnly:         append([]string{filepath.Dir(bin)}, terraformPluginPaths(env, e.Home)...),
		ReadWrite:        []string{dir},
		Deny:             append(CredentialStores(e.Home), e.Deny...),
		AllowUnixSockets: true, // provider plugins talk over Unix sockets
		Required:         d.SandboxRequired,
	}
	if rel, err := filepath.Rel(dir, dataDir); err != nil || strings.HasPrefix(rel, "..") {
		if _, err := os.Stat(dataDir); err == nil {
			cfg.ReadWrite = append(cfg.ReadWrite, dataDir)
		}
	}
	code, enf, err := sandbox.Run(ctx, cfg, sandbox.Stdio{In: stdio.Stdin, Out: stdio.Stdout, Err: stdio.Stderr})
	rep.Sandbox = enf.String()
	return code, err
}

var quotedAbsPath = regexp.MustCompile(`"(/[^"]+)"`)

// terraformPluginPaths lists what a sandboxed terraform must read to find
// its providers: the CLI configuration file and the directories it names
// (dev_overrides, filesystem mirrors), the plugin cache and the user's
// plugin dirs.
func terraformPluginPaths(env []string, home string) []string {
	var out []string
	add := func(p string) {
		if p == "" {
			return
		}
		if _, err := os.Stat(p); err == nil {
			out = append(out, p)
		}
	}
	if cfg := request.Getenv(env, "TF_CLI_CONFIG_FILE"); cfg != "" {
		add(cfg)
		if b, err := os.ReadFile(cfg); err == nil {
			for _, m := range quotedAbsPath.FindAllStringSubmatch(string(b), -1) {
				add(m[1])
			}
		}
	}
	add(request.Getenv(env, "TF_PLUGIN_CACHE_DIR"))
	if home != "" {
		add(filepath.Join(home, ".terraform.d", "plugins"))
		add(filepath.Join(home, ".local", "share", "terraform", "plugins"))
	}
	return out
}
