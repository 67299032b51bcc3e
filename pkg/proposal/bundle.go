// Package proposal is the proposal bundle of agentctl's propose / approve /
// apply flow: a change planned under the read identity, signed by humans
// with their SSH keys, and applied later, elsewhere, without a human.
//
// # Bundle
//
// A [Bundle] is a versioned JSON file. It names the exact bytes that will
// run (the SHA-256 of a terraform plan file, or of the flattened
// manifests kubectl is fed), their class and the reasons for it, the
// target, the summary the human reviews, its creation and expiry times, a
// random nonce, and pins of what the change depends on (the cluster's
// kube-system namespace UID; the terraform state's lineage and serial).
//
// # Signatures
//
// An approval is an SSH signature (OpenSSH PROTOCOL.sshsig, as git and
// `ssh-keygen -Y sign` make) in [Namespace] over the bundle file's exact
// bytes. [Verify] checks signatures against an allowed_signers file
// ([ParseAllowedSigners]) and the bundle against what is about to run.
package proposal

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Version is the bundle format version this package writes and reads.
const Version = 1

// MaxBundleSize bounds a bundle file; a larger one is refused unread.
const MaxBundleSize = 4 << 20

// ErrMalformedBundle is wrapped by every error about a bundle's encoding.
var ErrMalformedBundle = errors.New("malformed proposal bundle")

// Bundle is a proposal. Its JSON encoding is the file format
// (docs/ci.md); signatures cover the file's bytes, not this struct.
type Bundle struct {
	Version int       `json:"version"`
	Tool    string    `json:"tool"` // "terraform" or "kubectl"
	SHA256  string    `json:"sha256"`
	Class   string    `json:"class"`
	Reasons []string  `json:"reasons"`
	Target  Target    `json:"target"`
	Summary string    `json:"summary"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
	Nonce   string    `json:"nonce"`
	Pins    Pins      `json:"pins"`
}

// Target is where the change applies. Empty fields are not part of it.
type Target struct {
	// kubectl
	Context       string `json:"context,omitempty"`
	Cluster       string `json:"cluster,omitempty"`
	Server        string `json:"server,omitempty"`
	CAFingerprint string `json:"caSha256,omitempty"`
	Namespace     string `json:"namespace,omitempty"`
	// terraform
	Workspace string `json:"workspace,omitempty"`
	Backend   string `json:"backend,omitempty"`
	Dir       string `json:"dir,omitempty"`
}

// Pins are facts about the target the change was planned against.
type Pins struct {
	ClusterUID string `json:"clusterUid,omitempty"` // kube-system namespace UID
	// Objects is the SHA-256 of the kind, namespace, name and
	// resourceVersion of each live object a kubectl bundle's manifests
	// name (none for objects not created yet), as read when proposed: the
	// state the diff was made against.
	Objects      string  `json:"objectsSha256,omitempty"`
	StateLineage string  `json:"stateLineage"`          // terraform state lineage ("" before the first apply)
	StateSerial  *uint64 `json:"stateSerial,omitempty"` // terraform state serial
}

// NewNonce returns 32 random bytes, hex-encoded.
func NewNonce() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("nonce: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// HashBytes is the SHA-256 a bundle names for data, hex-encoded.
func HashBytes(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// Marshal returns the bundle file's bytes. It refuses a bundle that
// [Parse] would refuse.
func (b *Bundle) Marshal() ([]byte, error) {
	if err := b.validate(); err != nil {
		return nil, err
	}
	out, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// Parse parses a bundle file strictly: unknown fields, trailing data, a
// missing field or another version are errors.
func Parse(data []byte) (*Bundle, error) {
	if len(data) > MaxBundleSize {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrMalformedBundle, MaxBundleSize)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrMalformedBundle)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var b Bundle
	if err := dec.Decode(&b); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: truncated", ErrMalformedBundle)
		}
		return nil, fmt.Errorf("%w: %w", ErrMalformedBundle, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the JSON object", ErrMalformedBundle)
	}
	if err := b.validate(); err != nil {
		return nil, err
	}
	return &b, nil
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

func (b *Bundle) validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrMalformedBundle}, a...)...)
	}
	switch {
	case b.Version != Version:
		return bad("unsupported version %d (this agentctl reads version %d)", b.Version, Version)
	case b.Tool != "terraform" && b.Tool != "kubectl":
		return bad("unknown tool %q", b.Tool)
	case !isHex(b.SHA256, 64):
		return bad("sha256 %q is not 64 hex digits", b.SHA256)
	case b.Class == "":
		return bad("no class")
	case !isHex(b.Nonce, 64):
		return bad("nonce %q is not 64 hex digits", b.Nonce)
	case b.Created.IsZero() || b.Expires.IsZero():
		return bad("no created or expires time")
	case !b.Expires.After(b.Created):
		return bad("expires %s is not after created %s", b.Expires.Format(time.RFC3339), b.Created.Format(time.RFC3339))
	case b.Tool == "terraform" && b.Pins.StateSerial == nil:
		// lineage is empty for a plan made with no state yet
		return bad("terraform bundle without a state serial pin")
	case b.Tool == "kubectl" && b.Pins.ClusterUID == "":
		return bad("kubectl bundle without a cluster UID pin")
	case b.Tool == "kubectl" && !isHex(b.Pins.Objects, 64):
		return bad("kubectl bundle without an objects pin")
	}
	return nil
}
