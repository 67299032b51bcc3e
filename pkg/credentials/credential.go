package credentials

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"time"
)

// Credential is one credential handed to one child. It carries the
// secret values only so the redactor can mask them ([Credential.Secrets]);
// its audit view ([Credential.Audit]) never holds them.
type Credential struct {
	// Role and Target name the identity used.
	Role   Role
	Target string
	// Identity describes the identity for the audit record, such as
	// "kubernetes-token apps/deployer" or "vault-kubernetes kubernetes/deploy".
	Identity string
	// Kubeconfig is the path of a temporary kubeconfig (file 0600 in a
	// directory 0700), removed by Release; empty for env identities.
	Kubeconfig string
	// Dir is the temporary directory holding Kubeconfig.
	Dir string
	// Env holds the entries the child gets (KUBECONFIG=…, AWS_…=…).
	Env []string
	// Leases are the Vault lease ids, revoked by Release.
	Leases []string
	// Expires is when the credential stops working, when known.
	Expires time.Time

	secrets []string
	revoke  []func(context.Context) error

	once sync.Once
	err  error
}

// Secrets returns the raw secret values, for exact-match redaction.
func (c *Credential) Secrets() []string { return append([]string(nil), c.secrets...) }

// Environ returns base with the credential's entries added; an entry of
// the credential replaces one of base with the same name.
func (c *Credential) Environ(base []string) []string {
	out := make([]string, 0, len(base)+len(c.Env))
	own := map[string]bool{}
	for _, e := range c.Env {
		k, _, _ := strings.Cut(e, "=")
		own[k] = true
	}
	for _, e := range base {
		if k, _, _ := strings.Cut(e, "="); !own[k] {
			out = append(out, e)
		}
	}
	return append(out, c.Env...)
}

// Audit is what the audit record says about a credential: never a token.
type Audit struct {
	Target   string    `json:"target"`
	Role     Role      `json:"role"`
	Identity string    `json:"identity"`
	Leases   []string  `json:"leases,omitempty"`
	Expires  time.Time `json:"expires,omitzero"`
}

// Audit returns the audit view of c.
func (c *Credential) Audit() Audit {
	return Audit{Target: c.Target, Role: c.Role, Identity: c.Identity, Leases: c.Leases, Expires: c.Expires}
}

// Release revokes the credential's Vault leases and removes its temporary
// files. It is safe to call more than once and from a signal handler's
// goroutine; later calls return the first call's result. Revocation runs
// even when ctx is already cancelled (an interrupted command).
func (c *Credential) Release(ctx context.Context) error {
	if c == nil {
		return nil
	}
	c.once.Do(func() {
		var errs []error
		for _, r := range c.revoke {
			errs = append(errs, r(ctx))
		}
		if c.Dir != "" {
			errs = append(errs, os.RemoveAll(c.Dir))
		}
		c.err = errors.Join(errs...)
	})
	return c.err
}

func (c *Credential) addSecret(s string) {
	if s != "" {
		c.secrets = append(c.secrets, s)
	}
}
