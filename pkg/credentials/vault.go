package credentials

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/go-cleanhttp"
	vault "github.com/hashicorp/vault/api"
)

// VaultConfig says where Vault is and how agentctl logs in. Nothing here
// is taken from the environment: VAULT_ADDR, VAULT_TOKEN, VAULT_NAMESPACE
// and the other VAULT_* variables of the agent are ignored.
type VaultConfig struct {
	Address   string    `yaml:"address"`
	CACert    string    `yaml:"caCert,omitempty"`
	Namespace string    `yaml:"namespace,omitempty"`
	Auth      VaultAuth `yaml:"auth"`
}

// VaultAuth is agentctl's own Vault login. Exactly one field is set.
type VaultAuth struct {
	// Token is a token written in the configuration file (keep it 0600).
	Token string `yaml:"token,omitempty"`
	// TokenFile is a file holding a token, such as the token helper's
	// ~/.vault-token.
	TokenFile  string           `yaml:"tokenFile,omitempty"`
	AppRole    *AppRoleAuth     `yaml:"approle,omitempty"`
	Kubernetes *KubernetesLogin `yaml:"kubernetes,omitempty"`
}

// AppRoleAuth logs in with an AppRole role id and secret id.
type AppRoleAuth struct {
	Mount        string `yaml:"mount,omitempty"` // default "approle"
	RoleID       string `yaml:"roleID"`
	SecretID     string `yaml:"secretID,omitempty"`
	SecretIDFile string `yaml:"secretIDFile,omitempty"`
}

// KubernetesLogin logs in with a ServiceAccount token (agentctl running in
// a pod).
type KubernetesLogin struct {
	Mount   string `yaml:"mount,omitempty"` // default "kubernetes"
	Role    string `yaml:"role"`
	JWTFile string `yaml:"jwtFile,omitempty"` // default the pod's token
}

const podTokenFile = "/var/run/secrets/kubernetes.io/serviceaccount/token"

// newVaultClient returns a client for cfg, logged in. It never reads the
// process environment's Vault settings: the vault/api defaults that do
// (token, namespace, headers) are overridden.
func newVaultClient(ctx context.Context, cfg *VaultConfig) (*vault.Client, error) {
	hc := cleanhttp.DefaultPooledClient()
	tr := hc.Transport.(*http.Transport)
	tr.Proxy = nil // HTTPS_PROXY of the agent does not apply
	vc := &vault.Config{
		Address:      cfg.Address,
		HttpClient:   hc,
		Timeout:      30 * time.Second,
		MaxRetries:   2,
		MinRetryWait: 200 * time.Millisecond,
		MaxRetryWait: time.Second,
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if cfg.CACert != "" {
		if err := vc.ConfigureTLS(&vault.TLSConfig{CACert: cfg.CACert}); err != nil {
			return nil, fmt.Errorf("vault ca %q: %w", cfg.CACert, err)
		}
	}
	c, err := vault.NewClient(vc)
	if err != nil {
		return nil, fmt.Errorf("vault client: %w", err)
	}
	c.ClearToken()
	c.SetHeaders(http.Header{vault.RequestHeaderName: []string{"true"}})
	if cfg.Namespace != "" {
		c.SetNamespace(cfg.Namespace)
	} else {
		c.ClearNamespace()
	}
	token, err := vaultLogin(ctx, c, &cfg.Auth)
	if err != nil {
		return nil, err
	}
	c.SetToken(token)
	if _, err := c.Auth().Token().LookupSelfWithContext(ctx); err != nil {
		return nil, fmt.Errorf("vault token of agentctl is not valid: %w", err)
	}
	return c, nil
}

func vaultLogin(ctx context.Context, c *vault.Client, a *VaultAuth) (string, error) {
	switch {
	case a.Token != "":
		return a.Token, nil
	case a.TokenFile != "":
		b, err := os.ReadFile(a.TokenFile)
		if err != nil {
			return "", fmt.Errorf("vault token file: %w", err)
		}
		t := strings.TrimSpace(string(b))
		if t == "" {
			return "", fmt.Errorf("vault token file %q is empty", a.TokenFile)
		}
		return t, nil
	case a.AppRole != nil:
		secretID := a.AppRole.SecretID
		if a.AppRole.SecretIDFile != "" {
			b, err := os.ReadFile(a.AppRole.SecretIDFile)
			if err != nil {
				return "", fmt.Errorf("vault approle secret id file: %w", err)
			}
			secretID = strings.TrimSpace(string(b))
		}
		return login(ctx, c, orDefault(a.AppRole.Mount, "approle"), map[string]any{"role_id": a.AppRole.RoleID, "secret_id": secretID})
	case a.Kubernetes != nil:
		b, err := os.ReadFile(orDefault(a.Kubernetes.JWTFile, podTokenFile))
		if err != nil {
			return "", fmt.Errorf("vault kubernetes login: %w", err)
		}
		return login(ctx, c, orDefault(a.Kubernetes.Mount, "kubernetes"), map[string]any{"role": a.Kubernetes.Role, "jwt": strings.TrimSpace(string(b))})
	}
	return "", errors.New("vault: no auth method configured")
}

func login(ctx context.Context, c *vault.Client, mount string, body map[string]any) (string, error) {
	s, err := c.Logical().WriteWithContext(ctx, "auth/"+mount+"/login", body)
	if err != nil {
		return "", fmt.Errorf("vault login at auth/%s: %w", mount, err)
	}
	if s == nil || s.Auth == nil || s.Auth.ClientToken == "" {
		return "", fmt.Errorf("vault login at auth/%s returned no token", mount)
	}
	return s.Auth.ClientToken, nil
}

// revokeLease revokes one lease. Revocation must outlive a cancelled
// command, so it runs on its own deadline.
func revokeLease(ctx context.Context, c *vault.Client, leaseID string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if err := c.Sys().RevokeWithContext(ctx, leaseID); err != nil {
		return fmt.Errorf("revoke vault lease %q: %w", leaseID, err)
	}
	return nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
