package terraform

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl"
	"github.com/hashicorp/hcl/hcl/ast"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/exitcode"
	"github.com/agentctl/agentctl/pkg/request"
)

// CLIConfig is terraform's CLI configuration as agentctl read it, once:
// the file terraform 1.5.7 would read (TF_CLI_CONFIG_FILE when set, else
// ~/.terraformrc), its exact bytes and what they say about where
// providers come from. agentctl runs terraform with these bytes
// (TF_CLI_CONFIG_FILE pointed at its own copy), never with the file.
type CLIConfig struct {
	// Path is the file the bytes were read from; "" when none applies.
	Path string
	// Bytes are the file's content; nil when none applies.
	Bytes []byte
	// SHA256 is the SHA-256 of Bytes.
	SHA256 string
	// ProviderInstallation is true when the file has a
	// provider_installation block.
	ProviderInstallation bool
	// Mirrors are the filesystem_mirror paths, absolute (relative ones
	// are taken from Dir, as terraform takes them from its working dir).
	Mirrors []string
	// PluginCacheDir is plugin_cache_dir, or TF_PLUGIN_CACHE_DIR, which
	// takes precedence; absolute, "" when unset.
	PluginCacheDir string
	// DevOverrides maps provider addresses to the directories
	// dev_overrides names. Terraform then runs the binary found there,
	// whatever the dependency lock file or the plan file says.
	DevOverrides map[string]string
	// CredentialsHelpers names the credentials_helper blocks: terraform
	// runs the program terraform-credentials-NAME to get credentials.
	CredentialsHelpers []string
	// ImpliedMirrors are the implied local mirror directories outside
	// Dir that exist and hold something, when the file has no
	// provider_installation block: terraform init installs providers
	// from them (see [ImpliedMirrorDirs]).
	ImpliedMirrors []string
	// Dir is the working directory the configuration was read for: the
	// project, where mirrors and the plugin cache may lie.
	Dir string
}

// CLIConfigError says why terraform's CLI configuration cannot be used.
// Nothing ran. Its exit code is agentctl's for a denial (77).
type CLIConfigError struct {
	Path string
	Msg  string
	hint string
	code int
}

func (e *CLIConfigError) Error() string {
	if e.Path == "" {
		return "terraform CLI configuration: " + e.Msg
	}
	return fmt.Sprintf("terraform CLI configuration %q: %s", e.Path, e.Msg)
}

// Hint says what to do about it.
func (e *CLIConfigError) Hint() string { return e.hint }

// ExitCode is 77 (the configuration was refused, as by policy), or 78
// for a provider directory outside the project (a configuration error).
func (e *CLIConfigError) ExitCode() int {
	if e.code != 0 {
		return e.code
	}
	return exitcode.Denied
}

// CLIConfigAllow are the parts of a CLI configuration that run code
// agentctl cannot pin, which only the administrator may allow
// (terraform.allowDevOverrides, terraform.allowCredentialsHelper,
// terraform.allowMirrors in /etc/agentctl/config.yaml).
type CLIConfigAllow struct {
	DevOverrides      bool
	CredentialsHelper bool
	// Mirrors are directories (absolute) in which filesystem mirrors,
	// the plugin cache and implied local mirrors may lie although they
	// are outside the project.
	Mirrors []string
}

// CLIConfigFile returns the CLI configuration file terraform 1.5.7 reads
// with env and home: TF_CLI_CONFIG_FILE when set (relative to dir), else
// ~/.terraformrc when it exists, else "". HOME in env wins over home, as
// in terraform. TERRAFORM_CONFIG never reaches terraform (agentctl's
// environment filter drops it) and is ignored.
func CLIConfigFile(env []string, home, dir string) string {
	return ToolCLIConfigFile("terraform", env, home, dir)
}

// ToolCLIConfigFile is [CLIConfigFile] for tool, "terraform" or "tofu".
// OpenTofu 1.10 reads TF_CLI_CONFIG_FILE too (it has no variable of its
// own), else ~/.tofurc when it exists, else ~/.terraformrc when it
// exists, else $XDG_CONFIG_HOME/opentofu/tofurc when XDG_CONFIG_HOME is
// set and that file exists.
func ToolCLIConfigFile(tool string, env []string, home, dir string) string {
	if p := request.Getenv(env, "TF_CLI_CONFIG_FILE"); p != "" {
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		return p
	}
	if h := request.Getenv(env, "HOME"); h != "" {
		home = h
	}
	var candidates []string
	if home != "" {
		if tool == "tofu" {
			candidates = append(candidates, filepath.Join(home, ".tofurc"))
		}
		candidates = append(candidates, filepath.Join(home, ".terraformrc"))
	}
	if x := request.Getenv(env, "XDG_CONFIG_HOME"); tool == "tofu" && x != "" {
		candidates = append(candidates, filepath.Join(x, "opentofu", "tofurc"))
	}
	for _, p := range candidates {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// ImpliedMirrorDirs are the local mirror directories terraform (or tofu)
// searches for providers when the CLI configuration has no
// provider_installation block, other than terraform.d/plugins in the
// working directory: ~/.terraform.d/plugins, the XDG data directories'
// terraform/plugins ($XDG_DATA_HOME or ~/.local/share, $XDG_DATA_DIRS or
// /usr/local/share and /usr/share) and, for tofu, also
// $XDG_DATA_HOME/opentofu/plugins. agentctl does not pass the XDG
// variables to terraform, so both their values in env and the defaults
// are listed.
func ImpliedMirrorDirs(tool string, env []string, home string) []string {
	if h := request.Getenv(env, "HOME"); h != "" {
		home = h
	}
	var dirs []string
	if home != "" {
		dirs = append(dirs, filepath.Join(home, ".terraform.d", "plugins"), filepath.Join(home, ".local", "share", "terraform", "plugins"))
	}
	if x := request.Getenv(env, "XDG_DATA_HOME"); filepath.IsAbs(x) {
		dirs = append(dirs, filepath.Join(x, "terraform", "plugins"))
		if tool == "tofu" {
			dirs = append(dirs, filepath.Join(x, "opentofu", "plugins"))
		}
	}
	for _, x := range filepath.SplitList(request.Getenv(env, "XDG_DATA_DIRS")) {
		if filepath.IsAbs(x) {
			dirs = append(dirs, filepath.Join(x, "terraform", "plugins"))
		}
	}
	return append(dirs, "/usr/local/share/terraform/plugins", "/usr/share/terraform/plugins")
}

// ReadCLIConfig is [ReadToolCLIConfig] for terraform.
func ReadCLIConfig(env []string, home, dir string) (*CLIConfig, error) {
	return ReadToolCLIConfig("terraform", env, home, dir)
}

// ReadToolCLIConfig reads and parses the CLI configuration tool
// ("terraform" or "tofu") would read with env in dir (see
// [ToolCLIConfigFile]). A TF_CLI_CONFIG_FILE that does not exist is no
// configuration, as for terraform (which warns). Without
// TF_CLI_CONFIG_FILE terraform also merges every *.tfrc and *.tfrc.json
// in ~/.terraform.d (tofu: or in $XDG_CONFIG_HOME/opentofu when
// ~/.terraform.d does not exist); agentctl runs terraform with one file
// only, so such files (other than credentials.tfrc.json, which holds
// `terraform login` tokens) are refused rather than silently dropped.
func ReadToolCLIConfig(tool string, env []string, home, dir string) (*CLIConfig, error) {
	if h := request.Getenv(env, "HOME"); h != "" {
		home = h
	}
	path := ToolCLIConfigFile(tool, env, home, dir)
	if request.Getenv(env, "TF_CLI_CONFIG_FILE") == "" {
		var confDirs []string
		if home != "" {
			confDirs = append(confDirs, filepath.Join(home, ".terraform.d"))
		}
		if x := request.Getenv(env, "XDG_CONFIG_HOME"); tool == "tofu" && x != "" {
			confDirs = append(confDirs, filepath.Join(x, "opentofu"))
		}
		for _, d := range confDirs {
			extra, _ := filepath.Glob(filepath.Join(d, "*.tfrc"))
			more, _ := filepath.Glob(filepath.Join(d, "*.tfrc.json"))
			for _, p := range append(extra, more...) {
				if filepath.Base(p) != "credentials.tfrc.json" {
					return nil, &CLIConfigError{Path: p, Msg: tool + " merges this file into its CLI configuration; agentctl runs " + tool + " with one configuration file only",
						hint: "merge it into one file and name that file with TF_CLI_CONFIG_FILE"}
				}
			}
		}
	}
	cfg := &CLIConfig{Path: path, SHA256: classify.SHA256(nil), Dir: dir}
	if path != "" {
		b, err := os.ReadFile(path)
		switch {
		case errors.Is(err, os.ErrNotExist):
			cfg.Path = ""
		case err != nil:
			return nil, &CLIConfigError{Path: path, Msg: err.Error()}
		default:
			if cfg, err = ParseCLIConfig(path, b, env, dir); err != nil {
				return nil, err
			}
		}
	}
	if cfg.Path == "" {
		if err := cfg.fromEnv(env, dir); err != nil {
			return nil, err
		}
	}
	if !cfg.ProviderInstallation {
		for _, d := range ImpliedMirrorDirs(tool, env, home) {
			if entries, err := os.ReadDir(d); err == nil && len(entries) > 0 && !inProject(d, dir) {
				cfg.ImpliedMirrors = append(cfg.ImpliedMirrors, d)
			}
		}
	}
	return cfg, nil
}

// ParseCLIConfig parses the CLI configuration b (read from path) with
// the HCL 1 parser terraform 1.5.7 uses, and the blocks as terraform
// decodes them. It is stricter than terraform: a provider_installation
// shape terraform would read differently from agentctl (labels, JSON
// that flattens the blocks) is refused, and a key named dev_overrides
// anywhere counts as a development override.
func ParseCLIConfig(path string, b []byte, env []string, dir string) (*CLIConfig, error) {
	cfg := &CLIConfig{Path: path, Bytes: b, SHA256: classify.SHA256(b), Dir: dir}
	bad := func(format string, args ...any) error {
		return &CLIConfigError{Path: path, Msg: fmt.Sprintf(format, args...),
			hint: "fix the file: terraform reads it at every plan and apply"}
	}
	file, err := hcl.ParseBytes(b)
	if err != nil {
		return nil, bad("%v", err)
	}
	var top struct {
		PluginCacheDir     string                    `hcl:"plugin_cache_dir"`
		CredentialsHelpers map[string]map[string]any `hcl:"credentials_helper"`
	}
	if err := hcl.DecodeObject(&top, file); err != nil {
		return nil, bad("%v", err)
	}
	cfg.PluginCacheDir = os.Expand(top.PluginCacheDir, func(k string) string { return request.Getenv(env, k) })
	for name := range top.CredentialsHelpers {
		cfg.CredentialsHelpers = append(cfg.CredentialsHelpers, name)
	}
	sort.Strings(cfg.CredentialsHelpers)
	root, ok := file.Node.(*ast.ObjectList)
	if !ok {
		return nil, bad("not a configuration body")
	}
	abs := func(p string) string {
		if p != "" && !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		return filepath.Clean(p)
	}
	for _, block := range root.Items {
		if len(block.Keys) == 0 || keyName(block.Keys[0]) != "provider_installation" {
			continue
		}
		if cfg.ProviderInstallation {
			return nil, bad("more than one provider_installation block")
		}
		cfg.ProviderInstallation = true
		body, ok := block.Val.(*ast.ObjectType)
		if len(block.Keys) != 1 || !ok {
			return nil, bad("provider_installation must be one block without labels")
		}
		for _, m := range body.List.Items {
			mbody, ok := m.Val.(*ast.ObjectType)
			if len(m.Keys) != 1 || !ok {
				return nil, bad("the items of provider_installation must be blocks without labels")
			}
			switch name := keyName(m.Keys[0]); name {
			case "direct", "network_mirror":
			case "filesystem_mirror":
				var fm struct {
					Path string `hcl:"path"`
				}
				if err := hcl.DecodeObject(&fm, mbody); err != nil || fm.Path == "" {
					return nil, bad("filesystem_mirror needs a path")
				}
				cfg.Mirrors = append(cfg.Mirrors, abs(fm.Path))
			case "dev_overrides":
				var raw map[string]string
				if err := hcl.DecodeObject(&raw, mbody); err != nil {
					return nil, bad("dev_overrides: %v", err)
				}
				if cfg.DevOverrides == nil {
					cfg.DevOverrides = map[string]string{}
				}
				for addr, p := range raw {
					cfg.DevOverrides[addr] = abs(p)
				}
			default:
				return nil, bad("unknown provider installation method %q", name)
			}
		}
	}
	// However it is nested, a dev_overrides key is an override.
	ast.Walk(file.Node, func(n ast.Node) (ast.Node, bool) {
		if k, ok := n.(*ast.ObjectKey); ok && keyName(k) == "dev_overrides" && cfg.DevOverrides == nil {
			cfg.DevOverrides = map[string]string{}
		}
		return n, true
	})
	if err := cfg.fromEnv(env, dir); err != nil {
		return nil, err
	}
	if cfg.PluginCacheDir != "" {
		cfg.PluginCacheDir = abs(cfg.PluginCacheDir)
	}
	return cfg, nil
}

// fromEnv applies what terraform takes from the environment over the file.
func (c *CLIConfig) fromEnv(env []string, dir string) error {
	if p := request.Getenv(env, "TF_PLUGIN_CACHE_DIR"); p != "" {
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		c.PluginCacheDir = filepath.Clean(p)
	}
	return nil
}

// keyName is an HCL key's value: the identifier, or the unquoted string.
func keyName(k *ast.ObjectKey) string {
	if s, ok := k.Token.Value().(string); ok {
		return s
	}
	return k.Token.Text
}

// Check refuses what runs code agentctl cannot pin unless allow says so:
// dev_overrides (terraform runs the named directory's binary, bypassing
// the lock file and the plan's provider hashes) and credentials helpers
// (a program run with no hash to check).
func (c *CLIConfig) Check(allow CLIConfigAllow) error {
	if c.DevOverrides != nil && !allow.DevOverrides {
		addrs := make([]string, 0, len(c.DevOverrides))
		for a := range c.DevOverrides {
			addrs = append(addrs, a)
		}
		sort.Strings(addrs)
		return &CLIConfigError{Path: c.Path,
			Msg:  fmt.Sprintf("dev_overrides %q would run provider binaries that no lock file or plan pins; refused", strings.Join(addrs, ",")),
			hint: "remove the dev_overrides block, or let an administrator set terraform.allowDevOverrides: true in /etc/agentctl/config.yaml"}
	}
	if len(c.CredentialsHelpers) > 0 && !allow.CredentialsHelper {
		return &CLIConfigError{Path: c.Path,
			Msg:  fmt.Sprintf("credentials_helper %q would run a program that nothing pins; refused", strings.Join(c.CredentialsHelpers, ",")),
			hint: "remove the credentials_helper block, or let an administrator set terraform.allowCredentialsHelper: true in /etc/agentctl/config.yaml"}
	}
	outside := func(what, p, hint string) error {
		if p == "" || inProject(p, c.Dir) {
			return nil
		}
		for _, m := range allow.Mirrors {
			if inProject(p, m) {
				return nil
			}
		}
		return &CLIConfigError{Path: c.Path, code: exitcode.Config,
			Msg:  fmt.Sprintf("%s %q is outside the project %q: terraform would install providers from it; refused", what, p, c.Dir),
			hint: hint + ", or let an administrator list it in terraform.allowMirrors in /etc/agentctl/config.yaml"}
	}
	for _, m := range c.Mirrors {
		if err := outside("filesystem_mirror", m, "keep the mirror inside the project"); err != nil {
			return err
		}
	}
	if err := outside("plugin_cache_dir", c.PluginCacheDir, "keep the plugin cache inside the project (plugin_cache_dir, TF_PLUGIN_CACHE_DIR) or unset it"); err != nil {
		return err
	}
	for _, m := range c.ImpliedMirrors {
		if err := outside("the implied local mirror", m, "empty or remove it, or name the mirrors to use in a provider_installation block (terraform then ignores the implied ones)"); err != nil {
			return err
		}
	}
	return nil
}

// inProject reports whether p lies in dir, both as written and with
// symlinks resolved (see [resolve]).
func inProject(p, dir string) bool {
	if dir == "" {
		return false
	}
	rd, cp := resolve(dir), filepath.Clean(p)
	if !within(cp, filepath.Clean(dir)) && !within(cp, rd) {
		return false
	}
	return within(resolve(p), rd)
}

// resolve is p with the symlinks of its nearest existing ancestor (or of
// p itself) resolved and the rest joined on.
func resolve(p string) string {
	p = filepath.Clean(p)
	rest := ""
	for q := p; ; q = filepath.Dir(q) {
		if r, err := filepath.EvalSymlinks(q); err == nil {
			return filepath.Join(r, rest)
		}
		if q == filepath.Dir(q) {
			return p
		}
		rest = filepath.Join(filepath.Base(q), rest)
	}
}

// within reports whether p is dir or lies below it.
func within(p, dir string) bool {
	return p == dir || dir == "/" || strings.HasPrefix(p, dir+string(filepath.Separator))
}

// ReadPaths are the directories terraform reads providers from under
// this configuration: the filesystem mirrors, the plugin cache and, when
// present, the dev_overrides directories. Only existing paths are listed.
func (c *CLIConfig) ReadPaths() []string {
	var out []string
	add := func(p string) {
		if p == "" {
			return
		}
		if _, err := os.Stat(p); err == nil {
			out = append(out, p)
		}
	}
	for _, m := range c.Mirrors {
		add(m)
	}
	add(c.PluginCacheDir)
	addrs := make([]string, 0, len(c.DevOverrides))
	for a := range c.DevOverrides {
		addrs = append(addrs, a)
	}
	sort.Strings(addrs)
	for _, a := range addrs {
		add(c.DevOverrides[a])
	}
	return out
}
