package proposal

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/ssh"
)

// RefusedError is why [Verify] refused a bundle: one line, for the user
// and the audit log.
type RefusedError struct {
	Reason string
	err    error
}

func (e *RefusedError) Error() string { return "approval refused: " + e.Reason }
func (e *RefusedError) Unwrap() error { return e.err }

func refuse(format string, a ...any) error {
	return &RefusedError{Reason: fmt.Sprintf(format, a...)}
}

// SignatureFile is one signature and where it came from (for messages).
type SignatureFile struct {
	Name string
	Data []byte
}

// Check is what [Verify] checks a bundle against: what is about to run,
// where, and who may approve it.
type Check struct {
	Bundle     []byte // the bundle file's bytes
	Signatures []SignatureFile
	Allowed    AllowedSigners
	// Required is how many distinct signers must approve (at least 1);
	// privilege and unknown class bundles need at least 2.
	Required int
	Now      time.Time
	Tool     string
	SHA256   string // of the bytes about to run
	// Class is agentctl's class of what is about to run, classified
	// again from the bytes: a bundle that claims another is refused.
	Class  string
	Target Target // where they would run
	Pins   Pins   // the target as it is now
}

// Signer is a verified approval.
type Signer struct {
	Principals  []string
	Fingerprint string
	File        string
}

// Approved is a bundle enough allowed signers signed.
type Approved struct {
	Bundle  *Bundle
	Signers []Signer
}

// RequiredSigners is how many distinct signers a bundle of class needs
// when the configuration requires n.
func RequiredSigners(class string, n int) int {
	n = max(n, 1)
	if class == "privilege" || class == "unknown" {
		n = max(n, 2)
	}
	return n
}

// Verify checks that c.Bundle covers exactly what is about to run and that
// enough allowed signers signed it. Every signature given must verify: a
// bad one refuses the bundle rather than being skipped. Errors are
// *[RefusedError] or wrap [ErrMalformedBundle] / [ErrMalformedSignature].
func Verify(c Check) (*Approved, error) {
	b, err := Parse(c.Bundle)
	if err != nil {
		return nil, err
	}
	if b.Tool != c.Tool {
		return nil, refuse("bundle is for %s, not %s", b.Tool, c.Tool)
	}
	if b.SHA256 != c.SHA256 {
		return nil, refuse("the bytes to run (sha256 %s) are not the ones approved (sha256 %s)", short(c.SHA256), short(b.SHA256))
	}
	if b.Class != c.Class {
		what := "the plan is"
		if c.Tool == "kubectl" {
			what = "the manifests are"
		}
		return nil, refuse("bundle says class %s, %s %s", b.Class, what, c.Class)
	}
	if !c.Now.Before(b.Expires) {
		return nil, refuse("bundle expired at %s", b.Expires.UTC().Format(time.RFC3339))
	}
	if c.Now.Before(b.Created.Add(-5 * time.Minute)) {
		return nil, refuse("bundle was created in the future (%s)", b.Created.UTC().Format(time.RFC3339))
	}
	if err := sameTarget(b.Target, c.Target); err != nil {
		return nil, err
	}
	if err := samePins(b.Pins, c.Pins); err != nil {
		return nil, err
	}
	need := RequiredSigners(b.Class, c.Required)
	a := &Approved{Bundle: b}
	seen := map[string]bool{}
	for _, f := range c.Signatures {
		sig, err := ParseSignature(f.Data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name, err)
		}
		if sig.Namespace != Namespace {
			return nil, refuse("%s: signature is for namespace %q, not %q", f.Name, sig.Namespace, Namespace)
		}
		principals := c.Allowed.Lookup(sig.PublicKey, Namespace)
		fp := ssh.FingerprintSHA256(sig.PublicKey)
		if len(principals) == 0 {
			return nil, refuse("%s: signer %s is not in allowed_signers", f.Name, fp)
		}
		if err := sig.Verify(Namespace, c.Bundle); err != nil {
			return nil, refuse("%s: %v (bundle changed after signing?)", f.Name, err)
		}
		dup := false
		for _, p := range principals {
			dup = dup || seen[p]
			seen[p] = true
		}
		if !dup {
			a.Signers = append(a.Signers, Signer{Principals: principals, Fingerprint: fp, File: f.Name})
		}
	}
	if len(a.Signers) < need {
		return nil, refuse("%d distinct allowed signer(s), %s bundle needs %d", len(a.Signers), b.Class, need)
	}
	return a, nil
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

func sameTarget(want, got Target) error {
	for _, f := range []struct{ name, want, got string }{
		{"context", want.Context, got.Context}, {"cluster", want.Cluster, got.Cluster},
		{"server", want.Server, got.Server}, {"CA", want.CAFingerprint, got.CAFingerprint},
		{"namespace", want.Namespace, got.Namespace}, {"workspace", want.Workspace, got.Workspace},
		{"backend", want.Backend, got.Backend}, {"dir", want.Dir, got.Dir},
	} {
		if f.want != f.got {
			return refuse("bundle is for %s %q, this is %q", f.name, f.want, f.got)
		}
	}
	return nil
}

func samePins(want, got Pins) error {
	if want.ClusterUID != got.ClusterUID {
		return refuse("bundle is for the cluster with kube-system UID %q, this one is %q", want.ClusterUID, got.ClusterUID)
	}
	if want.Objects != got.Objects {
		return refuse("the objects the manifests name changed since they were proposed (resourceVersions sha256 %s, now %s): the signed diff is stale", short(want.Objects), short(got.Objects))
	}
	if want.StateLineage != got.StateLineage {
		return refuse("bundle was planned against state lineage %q, the state is lineage %q", want.StateLineage, got.StateLineage)
	}
	if (want.StateSerial == nil) != (got.StateSerial == nil) {
		return refuse("state serial pin missing")
	}
	if want.StateSerial != nil && *want.StateSerial != *got.StateSerial {
		if *got.StateSerial < *want.StateSerial {
			return refuse("state serial %d is older than the %d the bundle was planned against (state rolled back?)", *got.StateSerial, *want.StateSerial)
		}
		return refuse("state serial %d is not the %d the bundle was planned against", *got.StateSerial, *want.StateSerial)
	}
	return nil
}

// ErrReplayed is returned by [NonceStore.Use] for a nonce used before.
var ErrReplayed = errors.New("nonce already used")
