package credentials

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is the credentials part of $XDG_CONFIG_HOME/agentctl/config.yaml.
type Config struct {
	// Vault says how agentctl reaches Vault and authenticates itself.
	Vault *VaultConfig `yaml:"vault,omitempty"`
	// Env lists agent environment variables children may see (names or
	// globs, such as AWS_REGION or TF_VAR_*), beyond the base allowlist.
	Env EnvConfig `yaml:"env,omitempty"`
	// Flags names the agent-given --context, --kubeconfig, --server and
	// --cluster values allowed although no target matches them.
	Flags FlagAllow `yaml:"flags,omitempty"`
	// Targets are tried in order; the first that matches is used. With
	// none, commands run with the kubeconfig the agent chose.
	Targets []Target `yaml:"targets"`
	// Approval configures who approves and for how long they may think.
	Approval ApprovalConfig `yaml:"approval,omitempty"`
	// Tools names the real terraform and tofu binaries. When set they win
	// over AGENTCTL_TERRAFORM/AGENTCTL_TOFU and PATH, which the agent
	// controls: deploy credentials then go only to the binary named here.
	Tools ToolsConfig `yaml:"tools,omitempty"`

	path string
}

// ToolsConfig holds absolute paths of the wrapped tools' binaries.
type ToolsConfig struct {
	Terraform string `yaml:"terraform,omitempty"`
	Tofu      string `yaml:"tofu,omitempty"`
}

// Path returns the configured binary of tool ("terraform" or "tofu").
func (t ToolsConfig) Path(tool string) string {
	switch tool {
	case "terraform":
		return t.Terraform
	case "tofu":
		return t.Tofu
	}
	return ""
}

// ApprovalConfig chooses the approver (tty, inbox or none; the
// --approver flag and AGENTCTL_APPROVER win over it) and the approval
// timeout (a Go duration; AGENTCTL_APPROVAL_TIMEOUT wins over it).
type ApprovalConfig struct {
	Approver string `yaml:"approver,omitempty"`
	Timeout  string `yaml:"timeout,omitempty"`
}

// TimeoutDuration is the parsed timeout, 0 when unset.
func (a ApprovalConfig) TimeoutDuration() time.Duration {
	d, _ := time.ParseDuration(a.Timeout)
	return d
}

// EnvConfig is the child environment allowlist.
type EnvConfig struct {
	Allow []string `yaml:"allow,omitempty"`
}

// FlagAllow lists globs of values allowed for agent-given target flags.
type FlagAllow struct {
	Contexts    []string `yaml:"contexts,omitempty"`
	Clusters    []string `yaml:"clusters,omitempty"`
	Servers     []string `yaml:"servers,omitempty"`
	Kubeconfigs []string `yaml:"kubeconfigs,omitempty"`
}

// Target names one cluster or terraform working directory and the two
// identities agentctl uses for it.
type Target struct {
	Name   string    `yaml:"name"`
	Match  Match     `yaml:"match"`
	Read   *Identity `yaml:"read,omitempty"`
	Deploy *Identity `yaml:"deploy,omitempty"`
}

// Match selects targets by glob (path.Match syntax; a trailing "/**" in
// dir matches the directory and everything below it). Empty fields match
// anything; a target with no fields matches every command.
type Match struct {
	Context   string `yaml:"context,omitempty"`
	Cluster   string `yaml:"cluster,omitempty"`
	Server    string `yaml:"server,omitempty"`
	Dir       string `yaml:"dir,omitempty"`
	Workspace string `yaml:"workspace,omitempty"`
}

// Identity is where one credential comes from. Exactly one field is set.
type Identity struct {
	Kubeconfig      *KubeconfigRef       `yaml:"kubeconfig,omitempty"`
	KubernetesToken *KubernetesToken     `yaml:"kubernetes-token,omitempty"`
	VaultKubernetes *VaultKubernetes     `yaml:"vault-kubernetes,omitempty"`
	Env             map[string]EnvSource `yaml:"env,omitempty"`
}

// KubeconfigRef is one context of a kubeconfig file agentctl reads.
type KubeconfigRef struct {
	Path    string `yaml:"path"`
	Context string `yaml:"context,omitempty"` // default: the file's current context
}

// KubernetesToken is a short-lived token for a ServiceAccount, minted with
// the TokenRequest API by the broker identity.
type KubernetesToken struct {
	ServiceAccount string        `yaml:"serviceAccount"` // namespace/name
	TTL            time.Duration `yaml:"ttl,omitempty"`  // default and minimum 10m
	Audiences      []string      `yaml:"audiences,omitempty"`
	Broker         KubeconfigRef `yaml:"broker"`
}

// VaultKubernetes is a role of Vault's Kubernetes secrets engine, which
// returns a short-lived ServiceAccount token under a lease.
type VaultKubernetes struct {
	Mount     string        `yaml:"mount,omitempty"` // default "kubernetes"
	Role      string        `yaml:"role"`
	Namespace string        `yaml:"namespace"` // kubernetes_namespace
	TTL       time.Duration `yaml:"ttl,omitempty"`
	// ClusterRoleBinding asks the engine for a cluster-wide binding.
	ClusterRoleBinding bool `yaml:"clusterRoleBinding,omitempty"`
	// The API server the token is used against: server and caFile, or a
	// kubeconfig context whose cluster entry is used (its user is not).
	Server  string         `yaml:"server,omitempty"`
	CAFile  string         `yaml:"caFile,omitempty"`
	Cluster *KubeconfigRef `yaml:"cluster,omitempty"`
}

// EnvSource is where one environment variable's value comes from: a Vault
// path (KV v2, or a dynamic engine such as aws/creds/ROLE) and its field,
// or the standard output of a command (run without a shell).
type EnvSource struct {
	Vault   *VaultField `yaml:"vault,omitempty"`
	Command []string    `yaml:"command,omitempty"`
}

// VaultField is one field of the secret at a Vault path.
type VaultField struct {
	Path  string `yaml:"path"`
	Field string `yaml:"field"`
}

// DefaultTokenTTL is the TTL of minted ServiceAccount tokens; the API
// server refuses shorter ones.
const DefaultTokenTTL = 10 * time.Minute

// DefaultPath returns $XDG_CONFIG_HOME/agentctl/config.yaml, or
// ~/.config/agentctl/config.yaml. getenv is agentctl's own environment.
func DefaultPath(getenv func(string) string) string {
	if d := getenv("XDG_CONFIG_HOME"); d != "" {
		return filepath.Join(d, "agentctl", "config.yaml")
	}
	return filepath.Join(getenv("HOME"), ".config", "agentctl", "config.yaml")
}

// ErrNoConfig is returned by [Load] when the file does not exist.
var ErrNoConfig = errors.New("no credentials configuration")

// Load reads and validates the configuration at path. Unknown fields and
// invalid values are errors naming the file and line.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %q does not exist", ErrNoConfig, path)
	}
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

var lineRe = regexp.MustCompile(`line (\d+): `)

// Parse decodes configuration data; path names it in errors and anchors
// relative file paths.
func Parse(path string, data []byte) (*Config, error) {
	var cfg Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		msg := strings.TrimPrefix(err.Error(), "yaml: unmarshal errors:\n  ")
		msg = strings.TrimPrefix(msg, "yaml: ")
		if m := lineRe.FindStringSubmatchIndex(msg); m != nil {
			return nil, fmt.Errorf("%s:%s: %s", path, msg[m[2]:m[3]], msg[m[1]:])
		}
		return nil, fmt.Errorf("%s: %s", path, msg)
	}
	var root yaml.Node
	_ = yaml.Unmarshal(data, &root)
	cfg.path = path
	if err := cfg.validate(&root); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// Path returns the file the configuration was read from.
func (c *Config) Path() string { return c.path }

// HandsOutEnv says whether some target's identity is environment
// variables: credentials that go to a terraform or tofu binary.
func (c *Config) HandsOutEnv() bool {
	for _, t := range c.Targets {
		for _, id := range []*Identity{t.Read, t.Deploy} {
			if id != nil && len(id.Env) > 0 {
				return true
			}
		}
	}
	return false
}
