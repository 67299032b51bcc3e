package credentials

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/credentials/vaulttest"
)

func vaultServer(t *testing.T) *vaulttest.Server {
	return vaulttest.Start(t, vaulttest.Config{
		AppRoles: map[string]string{"agentctl": "approle-secret-id-1234"},
		KV:       map[string]map[string]any{"secret/tf": {"token": "kv-token-value-5678"}},
		Dynamic: map[string]func() map[string]any{"aws/creds/deploy": func() map[string]any {
			return map[string]any{"access_key": "AKIAIOSFODNN7EXAMPLE", "secret_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "security_token": nil}
		}},
	})
}

// envConfig writes a configuration whose "infra" target's deploy identity
// reads the test server, and whose approle secret id is in a file.
func envConfig(t *testing.T, s *vaulttest.Server, env string) *Config {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "secret-id"), []byte("approle-secret-id-1234\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	y := "vault:\n  address: " + s.URL + "\n  auth:\n    approle: {roleID: agentctl, secretIDFile: secret-id}\n" +
		"targets:\n- name: infra\n  match: {dir: /src/infra/**}\n  deploy:\n    env:\n" + env
	cfg, err := Parse(filepath.Join(dir, "config.yaml"), []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

const awsEnv = "      AWS_ACCESS_KEY_ID: {vault: {path: aws/creds/deploy, field: access_key}}\n" +
	"      AWS_SECRET_ACCESS_KEY: {vault: {path: aws/creds/deploy, field: secret_key}}\n" +
	"      TF_TOKEN: {vault: {path: secret/data/tf, field: token}}\n" +
	"      FROM_COMMAND: {command: [echo, command-value-9012]}\n"

var infra = classify.Target{Dir: "/src/infra", Workspace: "default"}

func TestVaultEnvIdentity(t *testing.T) {
	// The agent's own Vault settings must not be used.
	t.Setenv("VAULT_ADDR", "http://127.0.0.1:1")
	t.Setenv("VAULT_TOKEN", "hvs.agent-token-must-not-be-used")
	t.Setenv("VAULT_NAMESPACE", "agent-namespace")
	s := vaultServer(t)
	b := NewBroker(envConfig(t, s, awsEnv))
	c, err := b.Acquire(context.Background(), infra, Deploy)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"TF_TOKEN=kv-token-value-5678", "FROM_COMMAND=command-value-9012"} {
		if !slices.Contains(c.Env, want) {
			t.Errorf("child env lacks %s", strings.SplitN(want, "=", 2)[0])
		}
	}
	if s.Calls("dynamic") != 1 {
		t.Errorf("aws/creds/deploy read %d times, want once for both keys", s.Calls("dynamic"))
	}
	if len(c.Leases) != 1 || !strings.HasPrefix(c.Leases[0], "aws/creds/deploy/") {
		t.Fatalf("leases %q", c.Leases)
	}
	secrets := c.Secrets()
	for _, v := range []string{"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "kv-token-value-5678", "command-value-9012"} {
		if !slices.Contains(secrets, v) {
			t.Errorf("Secrets() lacks a value handed out")
		}
	}
	if a := c.Audit(); a.Identity == "" || a.Role != Deploy || len(a.Leases) != 1 {
		t.Errorf("audit view %+v", a)
	}
	if err := c.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := c.Release(context.Background()); err != nil {
		t.Fatalf("second Release: %v", err)
	}
	if got := s.Revoked(); !slices.Equal(got, c.Leases) {
		t.Errorf("revoked %q, want %q (once)", got, c.Leases)
	}
}

func TestVaultLeaseRevokedOnAcquireError(t *testing.T) {
	s := vaultServer(t)
	b := NewBroker(envConfig(t, s, "      A: {vault: {path: aws/creds/deploy, field: access_key}}\n      B: {vault: {path: aws/creds/deploy, field: no_such_field}}\n"))
	_, err := b.Acquire(context.Background(), infra, Deploy)
	if err == nil || !strings.Contains(err.Error(), `has no field "no_such_field"`) {
		t.Fatalf("error %v", err)
	}
	if live := s.Live(); len(live) != 0 {
		t.Errorf("leases left live after a failed Acquire: %q", live)
	}
}

func TestVaultLeaseRevokedWhenCancelled(t *testing.T) {
	s := vaultServer(t)
	b := NewBroker(envConfig(t, s, awsEnv))
	ctx, cancel := context.WithCancel(context.Background())
	c, err := b.Acquire(ctx, infra, Deploy)
	if err != nil {
		t.Fatal(err)
	}
	cancel() // the command was interrupted
	if err := c.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if live := s.Live(); len(live) != 0 {
		t.Errorf("leases live after an interrupted command: %q", live)
	}
}

func TestVaultLoginErrors(t *testing.T) {
	s := vaultServer(t)
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	tests := []struct {
		name, auth, want string
	}{
		{"wrong approle secret", "approle: {roleID: agentctl, secretID: wrong-secret-id}", "invalid role or secret ID"},
		{"invalid token file token", "tokenFile: " + tokenFile, "permission denied"},
		{"valid token file", "tokenFile: " + tokenFile + "-good", ""},
	}
	_ = os.WriteFile(tokenFile, []byte("hvs.not-a-valid-token-at-all\n"), 0o600)
	_ = os.WriteFile(tokenFile+"-good", []byte(s.IssueToken()+"\n"), 0o600)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			y := "vault:\n  address: " + s.URL + "\n  auth:\n    " + tt.auth + "\ntargets:\n- name: i\n  deploy:\n    env:\n      T: {vault: {path: secret/data/tf, field: token}}\n"
			cfg, err := Parse(filepath.Join(dir, "c.yaml"), []byte(y))
			if err != nil {
				t.Fatal(err)
			}
			c, err := NewBroker(cfg).Acquire(context.Background(), classify.Target{}, Deploy)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				_ = c.Release(context.Background())
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "wrong-secret-id") || strings.Contains(err.Error(), "not-a-valid-token") {
				t.Errorf("error shows the credential: %v", err)
			}
		})
	}
}
