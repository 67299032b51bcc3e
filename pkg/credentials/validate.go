package credentials

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

func (c *Config) validate(root *yaml.Node) error {
	fail := func(at []any, format string, args ...any) error {
		return fmt.Errorf("%s:%d: %s", c.path, nodeLine(root, at...), fmt.Sprintf(format, args...))
	}
	if v := c.Vault; v != nil {
		if v.Address == "" {
			return fail([]any{"vault"}, "vault: address is required")
		}
		n := 0
		for _, set := range []bool{v.Auth.Token != "", v.Auth.TokenFile != "", v.Auth.AppRole != nil, v.Auth.Kubernetes != nil} {
			if set {
				n++
			}
		}
		if n != 1 {
			return fail([]any{"vault", "auth"}, "vault.auth: set exactly one of token, tokenFile, approle, kubernetes")
		}
		v.CACert = c.abs(v.CACert)
		v.Auth.TokenFile = c.abs(v.Auth.TokenFile)
		if a := v.Auth.AppRole; a != nil {
			a.SecretIDFile = c.abs(a.SecretIDFile)
			if a.RoleID == "" || (a.SecretID == "") == (a.SecretIDFile == "") {
				return fail([]any{"vault", "auth", "approle"}, "vault.auth.approle: roleID and one of secretID, secretIDFile are required")
			}
		}
		if k := v.Auth.Kubernetes; k != nil {
			k.JWTFile = c.abs(k.JWTFile)
			if k.Role == "" {
				return fail([]any{"vault", "auth", "kubernetes"}, "vault.auth.kubernetes: role is required")
			}
		}
	}
	switch c.Approval.Approver {
	case "", "tty", "inbox", "none":
	default:
		return fail([]any{"approval", "approver"}, "approval.approver: %q is not one of tty, inbox, none", c.Approval.Approver)
	}
	if t := c.Approval.Timeout; t != "" {
		if d, err := time.ParseDuration(t); err != nil || d <= 0 {
			return fail([]any{"approval", "timeout"}, "approval.timeout: %q is not a positive duration such as 90s or 10m", t)
		}
	}
	for _, tool := range []string{"terraform", "tofu"} {
		p := c.Tools.Path(tool)
		if p == "" {
			continue
		}
		if !filepath.IsAbs(p) {
			return fail([]any{"tools", tool}, "tools.%s: %q is not an absolute path", tool, p)
		}
		if fi, err := os.Stat(p); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return fail([]any{"tools", tool}, "tools.%s: %q is not an executable file", tool, p)
		}
	}
	names := map[string]bool{}
	for i := range c.Targets {
		t := &c.Targets[i]
		at := []any{"targets", i}
		if t.Name == "" {
			return fail(at, "targets[%d]: name is required", i)
		}
		if names[t.Name] {
			return fail(at, "targets[%d]: duplicate name %q", i, t.Name)
		}
		names[t.Name] = true
		if t.Read == nil && t.Deploy == nil {
			return fail(at, "target %q: set read, deploy or both", t.Name)
		}
		for _, id := range []struct {
			role Role
			id   *Identity
		}{{Read, t.Read}, {Deploy, t.Deploy}} {
			if id.id == nil {
				continue
			}
			if err := c.validateIdentity(id.id); err != nil {
				return fail(append(at, string(id.role)), "target %q %s identity: %v", t.Name, id.role, err)
			}
		}
	}
	return nil
}

func (c *Config) validateIdentity(id *Identity) error {
	n := 0
	for _, set := range []bool{id.Kubeconfig != nil, id.KubernetesToken != nil, id.VaultKubernetes != nil, id.Env != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("set exactly one of kubeconfig, kubernetes-token, vault-kubernetes, env")
	}
	needVault := false
	switch {
	case id.Kubeconfig != nil:
		if err := c.validateRef(id.Kubeconfig); err != nil {
			return err
		}
	case id.KubernetesToken != nil:
		k := id.KubernetesToken
		if ns, name, ok := strings.Cut(k.ServiceAccount, "/"); !ok || ns == "" || name == "" {
			return fmt.Errorf("serviceAccount %q: want namespace/name", k.ServiceAccount)
		}
		if k.TTL == 0 {
			k.TTL = DefaultTokenTTL
		}
		if k.TTL < DefaultTokenTTL {
			return fmt.Errorf("ttl %s: the API server's minimum is %s", k.TTL, DefaultTokenTTL)
		}
		if err := c.validateRef(&k.Broker); err != nil {
			return fmt.Errorf("broker: %w", err)
		}
	case id.VaultKubernetes != nil:
		v := id.VaultKubernetes
		needVault = true
		if v.Mount == "" {
			v.Mount = "kubernetes"
		}
		if v.Role == "" || v.Namespace == "" {
			return fmt.Errorf("role and namespace are required")
		}
		if (v.Server == "") == (v.Cluster == nil) {
			return fmt.Errorf("set one of server (with caFile) or cluster")
		}
		v.CAFile = c.abs(v.CAFile)
		if v.Cluster != nil {
			if err := c.validateRef(v.Cluster); err != nil {
				return fmt.Errorf("cluster: %w", err)
			}
		}
	default:
		if len(id.Env) == 0 {
			return fmt.Errorf("env: name at least one variable")
		}
		for name, src := range id.Env {
			if name == "" || strings.ContainsAny(name, "= ") {
				return fmt.Errorf("env: invalid variable name %q", name)
			}
			if (src.Vault == nil) == (len(src.Command) == 0) {
				return fmt.Errorf("env %s: set one of vault, command", name)
			}
			if f := src.Vault; f != nil {
				needVault = true
				if f.Path == "" || f.Field == "" {
					return fmt.Errorf("env %s: vault path and field are required", name)
				}
			}
		}
	}
	if needVault && c.Vault == nil {
		return fmt.Errorf("uses Vault, but the configuration has no vault section")
	}
	return nil
}

func (c *Config) validateRef(r *KubeconfigRef) error {
	if r.Path == "" {
		return fmt.Errorf("kubeconfig path is required")
	}
	r.Path = c.abs(r.Path)
	return nil
}

// abs expands ~ and anchors a relative path at the configuration's
// directory.
func (c *Config) abs(p string) string {
	if p == "" {
		return ""
	}
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			p = filepath.Join(home, p[1:])
		}
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(filepath.Dir(c.path), p)
	}
	return p
}

// nodeLine finds the line of the node at a path of mapping keys (string)
// and sequence indexes (int); the deepest node found counts.
func nodeLine(n *yaml.Node, path ...any) int {
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	for _, p := range path {
		var next *yaml.Node
		switch k := p.(type) {
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == k {
						line, next = n.Content[i].Line, n.Content[i+1]
					}
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && k < len(n.Content) {
				next = n.Content[k]
				line = next.Line
			}
		}
		if next == nil {
			break
		}
		n = next
	}
	return line
}
