package credentials

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"sort"
	"strings"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/agentctl/agentctl/pkg/childproc"
)

// fromEnv builds the environment entries of an env identity. Several
// variables reading the same Vault path share one read (one lease), so an
// access key and its secret key match.
func (b *Broker) fromEnv(ctx context.Context, c *Credential, env map[string]EnvSource) error {
	names := make([]string, 0, len(env))
	for n := range env {
		names = append(names, n)
	}
	sort.Strings(names)
	read := map[string]map[string]any{}
	var idents []string
	for _, name := range names {
		src := env[name]
		var val string
		if f := src.Vault; f != nil {
			data, ok := read[f.Path]
			if !ok {
				var err error
				if data, err = b.readVault(ctx, c, f.Path); err != nil {
					return fmt.Errorf("env %s: %w", name, err)
				}
				read[f.Path] = data
				idents = append(idents, "vault "+f.Path)
			}
			v, ok := data[f.Field]
			if !ok || v == nil {
				return fmt.Errorf("env %s: vault %s has no field %q", name, f.Path, f.Field)
			}
			val = fmt.Sprint(v)
		} else {
			out, err := runCommand(ctx, src.Command, b.CommandEnv)
			if err != nil {
				return fmt.Errorf("env %s: %w", name, err)
			}
			val = out
			idents = append(idents, "command "+src.Command[0])
		}
		c.addSecret(val)
		c.Env = append(c.Env, name+"="+val)
	}
	c.Identity = "env " + strings.Join(idents, ", ")
	return nil
}

// readVault reads a Vault path; KV v2 answers are unwrapped (data.data).
func (b *Broker) readVault(ctx context.Context, c *Credential, path string) (map[string]any, error) {
	vc, err := b.vaultClient(ctx)
	if err != nil {
		return nil, err
	}
	s, err := vc.Logical().ReadWithContext(ctx, path)
	if s != nil && s.LeaseID != "" {
		c.trackLease(vc, s.LeaseID)
		if s.LeaseDuration > 0 {
			exp := time.Now().Add(time.Duration(s.LeaseDuration) * time.Second)
			if c.Expires.IsZero() || exp.Before(c.Expires) {
				c.Expires = exp
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("vault %s: %w", path, err)
	}
	if s == nil || s.Data == nil {
		return nil, fmt.Errorf("vault %s: no secret there", path)
	}
	if inner, ok := s.Data["data"].(map[string]any); ok {
		if _, kv2 := s.Data["metadata"]; kv2 {
			return inner, nil
		}
	}
	return s.Data, nil
}

func (c *Credential) trackLease(vc *vault.Client, id string) {
	c.Leases = append(c.Leases, id)
	c.revoke = append(c.revoke, func(ctx context.Context) error { return revokeLease(ctx, vc, id) })
}

// runCommand runs argv without a shell and returns its trimmed stdout.
// Its stderr is not shown: it may echo the secret.
func runCommand(ctx context.Context, argv []string, env []string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := childproc.Run(cmd); err != nil {
		return "", fmt.Errorf("command %q: %w", argv[0], err)
	}
	v := strings.TrimRight(out.String(), "\r\n")
	if v == "" {
		return "", fmt.Errorf("command %q printed nothing", argv[0])
	}
	return v, nil
}
