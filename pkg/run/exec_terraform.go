package run

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/agentctl/agentctl/pkg/classify"
	tfclass "github.com/agentctl/agentctl/pkg/classify/terraform"
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
		return ApplyPlan(ctx, a.Tool, bin, a.Exec, a.Plan, env, e.Home, stdio)
	}
	if d.Action != policy.Sandbox {
		rep.Sandbox = "none (decision " + string(d.Action) + ")"
		// An approved import or init runs providers unsandboxed: with a
		// checked copy of the CLI configuration, never with the file.
		cli, err := tfclass.ReadToolCLIConfig(a.Tool, env, e.Home, a.Exec.Dir)
		if err != nil {
			return 0, err
		}
		if err := cli.Check(e.TerraformAllow); err != nil {
			return 0, err
		}
		tmp, err := os.MkdirTemp("", "agentctl-tfrc-")
		if err != nil {
			return 0, err
		}
		defer os.RemoveAll(tmp)
		rc := filepath.Join(tmp, "terraform.rc")
		if err := os.WriteFile(rc, cli.Bytes, 0o600); err != nil {
			return 0, fmt.Errorf("copy the CLI configuration: %w", err)
		}
		return Terraform(ctx, bin, a.Exec.Args, a.Exec.Dir, tfclass.WithCLIConfig(env, rc), stdio)
	}
	cfg, cleanup, err := e.terraformSandbox(a.Tool, bin, a.Exec.Args, a.Exec.Dir, env, d.SandboxRequired)
	if err != nil {
		return 0, err
	}
	defer cleanup()
	code, enf, err := e.runSandbox(ctx, cfg, stdio.Stdin, stdio.Stdout, stdio.Stderr)
	rep.Sandbox, rep.Refused = enf.String(), enf.Refused
	return code, err
}

// terraformSandbox is the read sandbox of a terraform command: the
// working directory is writable (terraform init creates the data dir, plan
// locks local state next to the configuration), as is a plan file named by
// -out; provider plugins are readable; the rest of the machine, the
// credential stores and agentctl's own files are not.
//
// terraform's CLI configuration (TF_CLI_CONFIG_FILE, else ~/.terraformrc)
// is read once and parsed (terraform.ReadCLIConfig): terraform runs with
// a copy, and the reads granted for providers are the directories the
// parsed configuration names (filesystem mirrors, the plugin cache) and
// the implied plugin dirs; one that lies in or holds a denied path is
// refused, as are dev_overrides and credentials helpers unless the
// administrator allows them.
//
// The user's ~/.terraform.d holds credentials.tfrc.json, so terraform runs
// with the sandbox's scratch home; when the user keeps providers in
// ~/.terraform.d/plugins (an implied mirror terraform finds through HOME)
// and the configuration has no provider_installation block, the copy
// names that mirror. cleanup removes what was made.
func (e *LocalExecutor) terraformSandbox(tool, bin string, args []string, dir string, env []string, required bool) (sandbox.Config, func(), error) {
	env = withoutKey(env, "HOME")
	cli, err := tfclass.ReadToolCLIConfig(tool, env, e.Home, dir)
	if err != nil {
		return sandbox.Config{}, nil, err
	}
	if err := cli.Check(e.TerraformAllow); err != nil {
		return sandbox.Config{}, nil, err
	}
	reads := append([]string{filepath.Dir(bin)}, cli.ReadPaths()...)
	body := append([]byte(nil), cli.Bytes...)
	if e.Home != "" {
		for _, p := range []string{filepath.Join(e.Home, ".terraform.d", "plugins"), filepath.Join(e.Home, ".local", "share", "terraform", "plugins")} {
			if isDir(p) {
				reads = append(reads, p)
			}
		}
		mirror := filepath.Join(e.Home, ".terraform.d", "plugins")
		if !cli.ProviderInstallation && isDir(mirror) && !bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) {
			body = append(body, fmt.Sprintf("\nprovider_installation {\n  filesystem_mirror {\n    path = %q\n  }\n  direct {}\n}\n", mirror)...)
		}
	}
	deny := e.denied()
	for _, p := range reads[1:] {
		if d, ok := deniedOverlap(p, deny); ok {
			return sandbox.Config{}, nil, &tfclass.CLIConfigError{Path: cli.Path,
				Msg: fmt.Sprintf("providers would be read from %q, which overlaps the denied path %q; refused", p, d)}
		}
	}
	tmp, err := os.MkdirTemp("", "agentctl-tfrc-")
	if err != nil {
		return sandbox.Config{}, nil, err
	}
	cleanup := func() { os.RemoveAll(tmp) }
	rc := filepath.Join(tmp, "terraform.rc")
	if err := os.WriteFile(rc, body, 0o600); err != nil {
		cleanup()
		return sandbox.Config{}, nil, fmt.Errorf("copy the CLI configuration: %w", err)
	}
	env = tfclass.WithCLIConfig(env, rc)
	reads = append(reads, rc)
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
		ReadOnly:         reads,
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
	return cfg, cleanup, nil
}

// deniedOverlap returns the denied path that p (or what its symlinks
// resolve to) lies in or holds, if any.
func deniedOverlap(p string, deny []string) (string, bool) {
	paths := []string{filepath.Clean(p)}
	if r, err := filepath.EvalSymlinks(p); err == nil {
		paths = append(paths, r)
	}
	for _, d := range deny {
		ds := []string{filepath.Clean(d)}
		if r, err := filepath.EvalSymlinks(d); err == nil {
			ds = append(ds, r)
		}
		for _, q := range paths {
			for _, dd := range ds {
				if within(q, dd) || within(dd, q) {
					return d, true
				}
			}
		}
	}
	return "", false
}

// within reports whether p is dir or lies below it.
func within(p, dir string) bool {
	return p == dir || dir == "/" || strings.HasPrefix(p, dir+string(filepath.Separator))
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
// configuration never reach the plan. Its TF_CLI_CONFIG_FILE is kept:
// the classifier names its own copy of the CLI configuration there.
func (e *LocalExecutor) SandboxedTerraform(ctx context.Context, bin string, args []string, dir string, env []string, stdout, stderr io.Writer) (int, error) {
	base := append([]string(nil), e.Env...)
	if rc := request.Getenv(env, "TF_CLI_CONFIG_FILE"); rc != "" {
		base = tfclass.WithCLIConfig(base, rc)
	}
	tool := "terraform"
	if strings.HasPrefix(filepath.Base(bin), "tofu") {
		tool = "tofu" // the classifier's RunFunc does not name it
	}
	cfg, cleanup, err := e.terraformSandbox(tool, bin, args, dir, base, true)
	if err != nil {
		return 0, err
	}
	defer cleanup()
	code, _, err := sandbox.Run(ctx, cfg, sandbox.Stdio{Out: stdout, Err: stderr})
	return code, err
}
