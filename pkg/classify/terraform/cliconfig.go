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
}

// CLIConfigError says why terraform's CLI configuration cannot be used.
// Nothing ran. Its exit code is agentctl's for a denial (77).
type CLIConfigError struct {
	Path string
	Msg  string
	hint string
}

func (e *CLIConfigError) Error() string {
	if e.Path == "" {
		return "terraform CLI configuration: " + e.Msg
	}
	return fmt.Sprintf("terraform CLI configuration %q: %s", e.Path, e.Msg)
}

// Hint says what to do about it.
func (e *CLIConfigError) Hint() string { return e.hint }

// ExitCode is 77: the configuration was refused, as by policy.
func (e *CLIConfigError) ExitCode() int { return 77 }

// CLIConfigAllow are the parts of a CLI configuration that run code
// agentctl cannot pin, which only the administrator may allow
// (terraform.allowDevOverrides, terraform.allowCredentialsHelper in
// /etc/agentctl/config.yaml).
type CLIConfigAllow struct {
	DevOverrides      bool
	CredentialsHelper bool
}

// CLIConfigFile returns the CLI configuration file terraform 1.5.7 reads
// with env and home: TF_CLI_CONFIG_FILE when set (relative to dir), else
// ~/.terraformrc when it exists, else "". HOME in env wins over home, as
// in terraform. TERRAFORM_CONFIG never reaches terraform (agentctl's
// environment filter drops it) and is ignored.
func CLIConfigFile(env []string, home, dir string) string {
	if p := request.Getenv(env, "TF_CLI_CONFIG_FILE"); p != "" {
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		return p
	}
	if h := request.Getenv(env, "HOME"); h != "" {
		home = h
	}
	if home == "" {
		return ""
	}
	p := filepath.Join(home, ".terraformrc")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return ""
}

// ReadCLIConfig reads and parses the CLI configuration terraform would
// read with env in dir (see [CLIConfigFile]). A TF_CLI_CONFIG_FILE that
// does not exist is no configuration, as for terraform (which warns).
// Without TF_CLI_CONFIG_FILE terraform also merges every *.tfrc and
// *.tfrc.json in ~/.terraform.d; agentctl runs terraform with one file
// only, so such files (other than credentials.tfrc.json, which holds
// `terraform login` tokens) are refused rather than silently dropped.
func ReadCLIConfig(env []string, home, dir string) (*CLIConfig, error) {
	if h := request.Getenv(env, "HOME"); h != "" {
		home = h
	}
	path := CLIConfigFile(env, home, dir)
	if request.Getenv(env, "TF_CLI_CONFIG_FILE") == "" && home != "" {
		extra, _ := filepath.Glob(filepath.Join(home, ".terraform.d", "*.tfrc"))
		more, _ := filepath.Glob(filepath.Join(home, ".terraform.d", "*.tfrc.json"))
		for _, p := range append(extra, more...) {
			if filepath.Base(p) != "credentials.tfrc.json" {
				return nil, &CLIConfigError{Path: p, Msg: "terraform merges this file into its CLI configuration; agentctl runs terraform with one configuration file only",
					hint: "merge it into one file and name that file with TF_CLI_CONFIG_FILE"}
			}
		}
	}
	cfg := &CLIConfig{Path: path, SHA256: classify.SHA256(nil)}
	if path == "" {
		return cfg, cfg.fromEnv(env, dir)
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		cfg.Path = ""
		return cfg, cfg.fromEnv(env, dir)
	}
	if err != nil {
		return nil, &CLIConfigError{Path: path, Msg: err.Error()}
	}
	parsed, err := ParseCLIConfig(path, b, env, dir)
	if err != nil {
		return nil, err
	}
	return parsed, nil
}

// ParseCLIConfig parses the CLI configuration b (read from path) with
// the HCL 1 parser terraform 1.5.7 uses, and the blocks as terraform
// decodes them. It is stricter than terraform: a provider_installation
// shape terraform would read differently from agentctl (labels, JSON
// that flattens the blocks) is refused, and a key named dev_overrides
// anywhere counts as a development override.
func ParseCLIConfig(path string, b []byte, env []string, dir string) (*CLIConfig, error) {
	cfg := &CLIConfig{Path: path, Bytes: b, SHA256: classify.SHA256(b)}
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
	return nil
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
