// Package vaulttest runs an HTTP server on 127.0.0.1 that answers the Vault
// API endpoints agentctl uses, with Vault's JSON shapes, status codes and
// error bodies ({"errors":[...]}), for tests. A real Vault cannot be built
// here; agentctl's Vault code is written against the documented API and
// works unchanged against a real server.
//
// Endpoints:
//
//	GET  /v1/auth/token/lookup-self
//	POST /v1/auth/approle/login          {"role_id","secret_id"}
//	POST /v1/auth/kubernetes/login       {"role","jwt"}
//	POST /v1/<mount>/creds/<role>        Kubernetes secrets engine
//	GET  /v1/<mount>/creds/<role>        dynamic secrets (an AWS-like engine)
//	GET  /v1/<mount>/data/<path>         KV version 2
//	PUT  /v1/sys/leases/revoke           {"lease_id"}
//
// Every endpoint but the logins wants a valid X-Vault-Token. The server
// records issued and revoked leases for assertions.
package vaulttest

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// Config describes what the server knows.
type Config struct {
	// RootToken is valid from the start.
	RootToken string
	// AppRoles maps role ids to secret ids.
	AppRoles map[string]string
	// KubernetesLogins maps auth/kubernetes roles to the JWT they accept.
	KubernetesLogins map[string]string
	// KubernetesMount is the Kubernetes secrets engine's mount; default
	// "kubernetes".
	KubernetesMount string
	// KubernetesRoles are the engine's roles: each mints a token with Mint.
	KubernetesRoles map[string]KubernetesRole
	// KV holds KV v2 secrets by "<mount>/<path>", e.g. "secret/app".
	KV map[string]map[string]any
	// Dynamic holds dynamic secrets by "<mount>/creds/<role>" (GET), each
	// read issuing a new lease, e.g. "aws/creds/deploy".
	Dynamic map[string]func() map[string]any
	// LeaseTTL is the lease duration of issued credentials; default 10m.
	LeaseTTL time.Duration
}

// KubernetesRole is a role of the Kubernetes secrets engine.
type KubernetesRole struct {
	// AllowedNamespaces lists the namespaces tokens may be requested in.
	AllowedNamespaces []string
	// Mint returns a ServiceAccount token for namespace, valid for ttl,
	// and the ServiceAccount's name. Tests mint real tokens from the test
	// cluster here.
	Mint func(namespace string, ttl time.Duration) (token, serviceAccount string, err error)
}

// Server is a running test server.
type Server struct {
	URL string
	cfg Config

	mu      sync.Mutex
	tokens  map[string]bool
	leases  map[string]bool // issued, true while live
	revoked []string
	calls   map[string]int
}

// Start runs a server until the test ends.
func Start(t testing.TB, cfg Config) *Server {
	t.Helper()
	if cfg.KubernetesMount == "" {
		cfg.KubernetesMount = "kubernetes"
	}
	if cfg.LeaseTTL == 0 {
		cfg.LeaseTTL = 10 * time.Minute
	}
	s := &Server{cfg: cfg, tokens: map[string]bool{}, leases: map[string]bool{}, calls: map[string]int{}}
	if cfg.RootToken != "" {
		s.tokens[cfg.RootToken] = true
	}
	hs := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(hs.Close)
	s.URL = hs.URL
	return s
}

// Revoked returns the lease ids revoked so far, in order.
func (s *Server) Revoked() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.revoked...)
}

// Live returns the lease ids issued and not revoked.
func (s *Server) Live() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for id, live := range s.leases {
		if live {
			out = append(out, id)
		}
	}
	return out
}

// Calls returns how often an endpoint ("login", "creds", "kv", "revoke",
// "lookup-self", "dynamic") was called.
func (s *Server) Calls(endpoint string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[endpoint]
}

// IssueToken makes a new valid token, as a login would.
func (s *Server) IssueToken() string {
	t := "hvs." + randomString(24)
	s.mu.Lock()
	s.tokens[t] = true
	s.mu.Unlock()
	return t
}

func (s *Server) newLease(path string) string {
	id := path + "/" + randomString(12)
	s.mu.Lock()
	s.leases[id] = true
	s.mu.Unlock()
	return id
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}
