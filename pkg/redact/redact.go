package redact

import (
	"bytes"
	"encoding/base64"
	"sort"
	"sync"
)

// Kind names one class of secret the redactor recognises. It appears in
// the marker that replaces a secret, "[REDACTED:kind]", and in [Redactor.Counts].
type Kind string

// The kinds of secret the redactor knows.
const (
	// Credential is a value agentctl handed out itself ([Options.Exact]),
	// matched exactly, and in its standard base64 encoding.
	Credential Kind = "credential"
	// Secret is a value under data or stringData of a Kubernetes Secret in
	// YAML or JSON output.
	Secret Kind = "secret"
	// PrivateKey is a PEM block whose type ends in "PRIVATE KEY".
	PrivateKey Kind = "private-key"
	// JWT is a JSON Web Token (ServiceAccount tokens, OIDC id tokens).
	JWT Kind = "jwt"
	// Bearer is the token after "Bearer " (an Authorization header).
	Bearer Kind = "bearer"
	// AWSKey is an AWS access key id (AKIA…, ASIA…) or a secret access key
	// given after AWS_SECRET_ACCESS_KEY / aws_secret_access_key.
	AWSKey Kind = "aws-key"
	// VaultToken is a Vault token: hvs., hvb., hvr. or a legacy s./b. token.
	VaultToken Kind = "vault-token"
	// Kubeconfig is the value of a kubeconfig credential key: token,
	// client-key-data, id-token, refresh-token.
	Kubeconfig Kind = "kubeconfig"
	// Sensitive is the value of a terraform output marked sensitive in
	// JSON output (terraform output -json, terraform show -json).
	Sensitive Kind = "sensitive"
)

// AllKinds lists every kind, in the order they are reported.
var AllKinds = []Kind{Credential, Secret, PrivateKey, JWT, Bearer, AWSKey, VaultToken, Kubeconfig, Sensitive}

// MinExact is the shortest exact value the redactor accepts; shorter
// values in [Options.Exact] are ignored, as they would mask ordinary text.
const MinExact = 6

// DefaultMaxHold is the default bound on bytes held back ([Options.MaxHold]).
const DefaultMaxHold = 1 << 20

// Options configures a [Redactor]. The zero value redacts every kind.
type Options struct {
	// Exact holds the secret values agentctl handed out (tokens, keys).
	// Each is redacted wherever it appears, as is its base64 encoding.
	Exact []string
	// Disable turns kinds off. Credential cannot be turned off.
	Disable []Kind
	// MaxHold bounds the bytes a [Writer] holds back while it waits for a
	// line's end or a Secret's kind; past it, held Secret data is redacted
	// (fail closed) and long lines are cut at a space. 0 means
	// [DefaultMaxHold].
	MaxHold int
}

// Redactor holds the redaction rules and counts what it redacted. It is
// safe for concurrent use by several [Writer]s (stdout and stderr of one
// child) and calls to [Redactor.String].
type Redactor struct {
	exact    []exactValue
	maxExact int
	off      map[Kind]bool
	maxHold  int

	mu     sync.Mutex
	counts map[Kind]int
}

// New returns a Redactor for opts.
func New(opts Options) *Redactor {
	r := &Redactor{off: map[Kind]bool{}, counts: map[Kind]int{}, maxHold: opts.MaxHold}
	if r.maxHold <= 0 {
		r.maxHold = DefaultMaxHold
	}
	for _, k := range opts.Disable {
		if k != Credential {
			r.off[k] = true
		}
	}
	seen := map[string]bool{}
	add := func(s string) {
		if len(s) < MinExact || seen[s] {
			return
		}
		seen[s] = true
		r.exact = append(r.exact, newExact([]byte(s)))
		r.maxExact = max(r.maxExact, len(s))
	}
	for _, s := range opts.Exact {
		// A multi-line secret (a PEM key) is matched line by line.
		for _, l := range bytes.Split([]byte(s), []byte("\n")) {
			add(string(bytes.TrimSpace(l)))
		}
		add(base64.StdEncoding.EncodeToString([]byte(s)))
	}
	// Longest first, so a secret containing another is masked whole.
	sort.Slice(r.exact, func(i, j int) bool { return len(r.exact[i].b) > len(r.exact[j].b) })
	return r
}

func (r *Redactor) on(k Kind) bool { return !r.off[k] }

func (r *Redactor) count(k Kind, n int) {
	if n == 0 {
		return
	}
	r.mu.Lock()
	r.counts[k] += n
	r.mu.Unlock()
}

// Count returns how many values were redacted so far, of every kind.
func (r *Redactor) Count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.counts {
		n += c
	}
	return n
}

// Counts returns how many values of each kind were redacted so far; kinds
// with none are left out. The map is a copy, ready for the audit record.
func (r *Redactor) Counts() map[Kind]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := make(map[Kind]int, len(r.counts))
	for k, c := range r.counts {
		if c > 0 {
			m[k] = c
		}
	}
	return m
}

// String redacts s as a whole, for agentctl's own messages, explain output
// and error text. It applies the same rules as a [Writer].
func (r *Redactor) String(s string) string {
	var b bytes.Buffer
	w := r.Writer(&b)
	_, _ = w.Write([]byte(s))
	_ = w.Close()
	return b.String()
}

func marker(k Kind) []byte { return []byte("[REDACTED:" + string(k) + "]") }
