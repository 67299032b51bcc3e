package credentials

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/exitcode"
)

// Role says what a credential is for.
type Role string

const (
	// Read is the identity of sandboxed reads.
	Read Role = "read"
	// Deploy is the identity of approved changes.
	Deploy Role = "deploy"
)

// NoIdentityError says no configured target gives an identity for a
// command's target and role. The CLI maps it to a configuration error.
type NoIdentityError struct {
	Target classify.Target
	Role   Role
	Config string // the configuration file
}

func (e *NoIdentityError) Error() string {
	return fmt.Sprintf("no %s identity configured for %s", e.Role, describeTarget(e.Target))
}

// Hint tells the user what to configure.
func (e *NoIdentityError) Hint() string {
	return fmt.Sprintf("add a target matching it with a %s identity to %s (see docs/credentials.md)", e.Role, e.Config)
}

// ExitCode is agentctl's exit code for a configuration error: nothing ran.
func (e *NoIdentityError) ExitCode() int { return exitcode.Config }

func describeTarget(t classify.Target) string {
	switch {
	case t.Context != "":
		return fmt.Sprintf("context %q", t.Context)
	case t.Dir != "":
		return fmt.Sprintf("terraform dir %q workspace %q", t.Dir, orDefault(t.Workspace, "default"))
	}
	return "the default target"
}

// Broker hands out credentials for targets, just in time. It logs in to
// Vault on first need and reuses that login.
type Broker struct {
	cfg *Config
	// CommandEnv is the environment of env identity commands; by default
	// the child allowlist applied to agentctl's environment.
	CommandEnv []string
	// TempDir is where credential directories are made; default os.TempDir.
	TempDir string

	mu    sync.Mutex
	vault *vault.Client
}

// NewBroker returns a Broker for cfg.
func NewBroker(cfg *Config) *Broker {
	return &Broker{cfg: cfg, CommandEnv: ChildEnv(os.Environ(), cfg.Env.Allow)}
}

// Lookup returns the target that matches t and the identity for role,
// without acquiring anything (for explain and the audit record).
func (b *Broker) Lookup(t classify.Target, role Role) (*Target, *Identity, error) {
	for i := range b.cfg.Targets {
		ct := &b.cfg.Targets[i]
		if !ct.Match.matches(t) {
			continue
		}
		id := ct.Read
		if role == Deploy {
			id = ct.Deploy
		}
		if id == nil {
			break
		}
		return ct, id, nil
	}
	return nil, nil, &NoIdentityError{Target: t, Role: role, Config: b.cfg.path}
}

func (m Match) matches(t classify.Target) bool {
	return glob(m.Context, t.Context) && glob(m.Cluster, t.Cluster) && glob(m.Server, t.Server) &&
		dirGlob(m.Dir, t.Dir) && glob(m.Workspace, orDefault(t.Workspace, "default"))
}

func glob(pattern, s string) bool {
	if pattern == "" {
		return true
	}
	ok, err := path.Match(pattern, s)
	return err == nil && ok
}

func dirGlob(pattern, dir string) bool {
	if base, ok := strings.CutSuffix(pattern, "/**"); ok {
		return glob(base, dir) || (dir != "" && strings.HasPrefix(dir, base+"/"))
	}
	return glob(pattern, dir)
}

// Acquire finds the identity for t and role and obtains its credential.
// The caller must Release it (also on error paths and on interrupt); on
// error nothing is left to release.
func (b *Broker) Acquire(ctx context.Context, t classify.Target, role Role) (*Credential, error) {
	ct, id, err := b.Lookup(t, role)
	if err != nil {
		return nil, err
	}
	c := &Credential{Role: role, Target: ct.Name, Expires: time.Time{}}
	switch {
	case id.Kubeconfig != nil:
		err = b.fromKubeconfig(c, t, id.Kubeconfig)
	case id.KubernetesToken != nil:
		err = b.fromTokenRequest(ctx, c, t, id.KubernetesToken)
	case id.VaultKubernetes != nil:
		err = b.fromVaultKubernetes(ctx, c, t, id.VaultKubernetes)
	default:
		err = b.fromEnv(ctx, c, id.Env)
	}
	if err != nil {
		rerr := c.Release(ctx)
		return nil, errors.Join(fmt.Errorf("%s identity of target %q: %w", role, ct.Name, err), rerr)
	}
	return c, nil
}

func (b *Broker) vaultClient(ctx context.Context) (*vault.Client, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.vault != nil {
		return b.vault, nil
	}
	if b.cfg.Vault == nil {
		return nil, errors.New("no vault section in the configuration")
	}
	c, err := newVaultClient(ctx, b.cfg.Vault)
	if err != nil {
		return nil, err
	}
	b.vault = c
	return c, nil
}
