package run

import (
	"context"
	"fmt"
	"io"
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
	cfg, cleanup := e.terraformSandbox(bin, a.Exec.Args, a.Exec.Dir, env, d.SandboxRequired)
	defer cleanup()
	code, enf, err := e.runSandbox(ctx, cfg, stdio.Stdin, stdio.Stdout, stdio.Stderr)
	rep.Sandbox = enf.String()
	return code, err
}

// terraformSandbox is the read sandbox of a terraform command: the
// working directory is writable (terraform init creates the data dir, plan
// locks local state next to the configuration), as is a plan file named by
// -out; provider plugins are readable; the rest of the machine, the
// credential stores and agentctl's own files are not.
//
// The user's ~/.terraform.d holds credentials.tfrc.json, so terraform runs
// with the sandbox's scratch home; when the user keeps providers in
// ~/.terraform.d/plugins (an implied mirror terraform finds through HOME)
// and names no CLI configuration, a generated one names that mirror.
// cleanup removes what was generated.
func (e *LocalExecutor) terraformSandbox(bin string, args []string, dir string, env []string, required bool) (sandbox.Config, func()) {
	cleanup := func() {}
	env = withoutKey(env, "HOME")
	if request.Getenv(env, "TF_CLI_CONFIG_FILE") == "" && e.Home != "" {
		if mirror := filepath.Join(e.Home, ".terraform.d", "plugins"); isDir(mirror) {
			if tmp, err := os.MkdirTemp("", "agentctl-tfrc-"); err == nil {
				rc := filepath.Join(tmp, "terraform.rc")
				body := fmt.Sprintf("provider_installation {\n  filesystem_mirror {\n    path = %q\n  }\n  direct {}\n}\n", mirror)
				if os.WriteFile(rc, []byte(body), 0o600) == nil {
					env = append(env, "TF_CLI_CONFIG_FILE="+rc)
				}
				cleanup = func() { os.RemoveAll(tmp) }
			}
		}
	}
	dataDir := request.Getenv(env, "TF_DATA_DIR")
	if dataDir == "" {
		dataDir = filepath.Join(dir, ".terraform")
	} else if !filepath.IsAbs(dataDir) {
		dataDir = filepath.Join(dir, dataDir)
	}
	cfg := sandbox.Config{
		Argv:             append([]string{bin}, args...),
		Env:              env,
		Dir:              dir,
		ReadOnly:         append([]string{filepath.Dir(bin)}, terraformPluginPaths(env, e.Home)...),
		ReadWrite:        []string{dir},
		Deny:             e.denied(),
		AllowUnixSockets: true, // provider plugins talk over Unix sockets
		Required:         required,
	}
	if rel, err := filepath.Rel(dir, dataDir); err != nil || strings.HasPrefix(rel, "..") {
		if _, err := os.Stat(dataDir); err == nil {
			cfg.ReadWrite = append(cfg.ReadWrite, dataDir)
		}
	}
	for i, arg := range args {
		var file string
		switch {
		case strings.HasPrefix(arg, "-out="):
			file = strings.TrimPrefix(arg, "-out=")
		case i > 0 && args[0] == "show" && !strings.HasPrefix(arg, "-"):
			file = arg // show -json PLANFILE
		}
		if file == "" {
			continue
		}
		if !filepath.IsAbs(file) {
			file = filepath.Join(dir, file)
		}
		if strings.HasPrefix(arg, "-out=") {
			// The sandbox grants only what exists: create the output.
			if f, err := os.OpenFile(file, os.O_CREATE|os.O_WRONLY, 0o600); err == nil {
				f.Close()
			}
			cfg.ReadWrite = append(cfg.ReadWrite, file)
		} else {
			cfg.ReadOnly = append(cfg.ReadOnly, file)
		}
	}
	return cfg, cleanup
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// SandboxedTerraform runs terraform in the read sandbox, for the plans the
// terraform classifier makes to assess an apply: an agent's configuration
// (an external data source, a provider) runs no code outside the sandbox
// before anything is decided. env is replaced by the executor's filtered
// environment: the agent's own variables other than terraform's
// configuration never reach the plan.
func (e *LocalExecutor) SandboxedTerraform(ctx context.Context, bin string, args []string, dir string, _ []string, stdout, stderr io.Writer) (int, error) {
	cfg, cleanup := e.terraformSandbox(bin, args, dir, append([]string(nil), e.Env...), true)
	defer cleanup()
	code, _, err := sandbox.Run(ctx, cfg, sandbox.Stdio{Out: stdout, Err: stderr})
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
