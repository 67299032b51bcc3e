package grant

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/agentctl/agentctl/pkg/proposal"
)

// BreakGlassNamespace is the SSH signature namespace of a break-glass
// statement (ssh-keygen -Y sign -n agentctl-break-glass). An
// allowed_signers line that lists namespaces must list it.
const BreakGlassNamespace = "agentctl-break-glass"

// BreakGlassSigners is how many distinct allowed signers must sign a
// break-glass statement before it is active.
const BreakGlassSigners = 2

// BreakGlass is one break-glass: a statement (who asked, why, until
// when) that becomes active once [BreakGlassSigners] distinct allowed
// signers have signed its exact bytes. The signatures are verified each
// time it is used, so writing this record without the signers' keys
// activates nothing.
type BreakGlass struct {
	ID      string    `json:"id"`
	Reason  string    `json:"reason"`
	User    string    `json:"user"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
	// Statement is the signed bytes (JSON of the fields above and a nonce).
	Statement  []byte      `json:"statement"`
	Signatures []Signature `json:"signatures,omitempty"`
	// Activated is when the last signature it needed was added.
	Activated *time.Time `json:"activated,omitempty"`
	// Ended is when `agentctl grant revoke` ended it.
	Ended *time.Time `json:"ended,omitempty"`
}

// Signature is one approver's SSH signature of the statement.
type Signature struct {
	Fingerprint string    `json:"fingerprint"`
	Principals  []string  `json:"principals"`
	Time        time.Time `json:"time"`
	Armored     []byte    `json:"sig"`
}

type statement struct {
	Type    string    `json:"type"`
	ID      string    `json:"id"`
	Reason  string    `json:"reason"`
	User    string    `json:"user"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
	Nonce   string    `json:"nonce"`
}

// NewBreakGlass makes the statement of a break-glass that user asks for
// at now, for d.
func NewBreakGlass(reason, user string, now time.Time, d time.Duration) (*BreakGlass, error) {
	var nb [16]byte
	if _, err := rand.Read(nb[:]); err != nil {
		return nil, err
	}
	b := &BreakGlass{ID: "bg-" + hex.EncodeToString(nb[:5]), Reason: reason, User: user,
		Created: now.UTC().Truncate(time.Second), Expires: now.UTC().Truncate(time.Second).Add(d)}
	st, err := json.Marshal(statement{Type: "agentctl-break-glass-v1", ID: b.ID, Reason: reason, User: user,
		Created: b.Created, Expires: b.Expires, Nonce: hex.EncodeToString(nb[:])})
	if err != nil {
		return nil, err
	}
	b.Statement = st
	return b, nil
}

// check verifies that the record's fields are the statement's.
func (b *BreakGlass) check() error {
	var st statement
	if err := json.Unmarshal(b.Statement, &st); err != nil {
		return fmt.Errorf("break-glass %s: statement: %w", b.ID, err)
	}
	if st.Type != "agentctl-break-glass-v1" || st.ID != b.ID || st.Reason != b.Reason || st.User != b.User ||
		!st.Created.Equal(b.Created) || !st.Expires.Equal(b.Expires) {
		return fmt.Errorf("break-glass %s: the record does not match its signed statement", b.ID)
	}
	return nil
}

// Signers verifies the signatures against allowed and returns the
// distinct signers: a signer whose key or principal was already counted
// counts once. A signature that does not verify is an error.
func (b *BreakGlass) Signers(allowed proposal.AllowedSigners) ([]Signature, error) {
	if err := b.check(); err != nil {
		return nil, err
	}
	var out []Signature
	seen := map[string]bool{}
	for _, s := range b.Signatures {
		sig, err := proposal.ParseSignature(s.Armored)
		if err != nil {
			return nil, fmt.Errorf("break-glass %s: %w", b.ID, err)
		}
		if sig.Namespace != BreakGlassNamespace {
			return nil, fmt.Errorf("break-glass %s: a signature is for namespace %q, not %q", b.ID, sig.Namespace, BreakGlassNamespace)
		}
		if err := sig.Verify(BreakGlassNamespace, b.Statement); err != nil {
			return nil, fmt.Errorf("break-glass %s: %v", b.ID, err)
		}
		fp := ssh.FingerprintSHA256(sig.PublicKey)
		principals := allowed.Lookup(sig.PublicKey, BreakGlassNamespace)
		if len(principals) == 0 {
			continue // a signer no longer allowed counts for nothing
		}
		dup := seen[fp]
		for _, p := range principals {
			dup = dup || seen["p:"+p]
		}
		seen[fp] = true
		for _, p := range principals {
			seen["p:"+p] = true
		}
		if !dup {
			out = append(out, Signature{Fingerprint: fp, Principals: principals, Time: s.Time})
		}
	}
	return out, nil
}

// Active says whether b lets requests through at now: not ended, not
// expired, and signed by enough distinct allowed signers.
func (b *BreakGlass) Active(allowed proposal.AllowedSigners, now time.Time) (bool, error) {
	if b.Ended != nil || !now.Before(b.Expires) {
		return false, nil
	}
	s, err := b.Signers(allowed)
	if err != nil {
		return false, err
	}
	return len(s) >= BreakGlassSigners, nil
}

// AddBreakGlass stores a new break-glass statement.
func (s Store) AddBreakGlass(b *BreakGlass) error {
	return s.locked(true, func(d *doc) (bool, error) {
		d.BreakGlass = append(d.BreakGlass, b)
		return true, nil
	})
}

// BreakGlass returns the break-glass record id.
func (s Store) BreakGlass(id string) (*BreakGlass, error) {
	var out *BreakGlass
	err := s.locked(false, func(d *doc) (bool, error) {
		for _, b := range d.BreakGlass {
			if b.ID == id {
				out = b
				return false, nil
			}
		}
		return false, fmt.Errorf("%w %q", ErrNotFound, id)
	})
	return out, err
}

// ErrAlreadySigned is returned when a signer signs a break-glass twice.
var ErrAlreadySigned = errors.New("already signed")

// Sign adds armored, a signature of the statement of break-glass id, after
// checking that it verifies and that its signer is allowed and has not
// signed yet (by key or by principal). It returns the record as stored and
// whether this signature activated it.
func (s Store) Sign(id string, armored []byte, allowed proposal.AllowedSigners, now time.Time) (*BreakGlass, bool, error) {
	var (
		out       *BreakGlass
		activated bool
	)
	err := s.updateBreakGlass(id, func(b *BreakGlass) error {
		if b.Ended != nil {
			return fmt.Errorf("break-glass %s was ended", id)
		}
		if !now.Before(b.Expires) {
			return fmt.Errorf("break-glass %s expired at %s", id, b.Expires.Format(time.RFC3339))
		}
		sig, err := proposal.ParseSignature(armored)
		if err != nil {
			return err
		}
		if sig.Namespace != BreakGlassNamespace {
			return fmt.Errorf("signature is for namespace %q, not %q", sig.Namespace, BreakGlassNamespace)
		}
		if err := sig.Verify(BreakGlassNamespace, b.Statement); err != nil {
			return fmt.Errorf("signature does not verify: %v", err)
		}
		fp := ssh.FingerprintSHA256(sig.PublicKey)
		principals := allowed.Lookup(sig.PublicKey, BreakGlassNamespace)
		if len(principals) == 0 {
			return fmt.Errorf("signer %s is not in allowed_signers for namespace %q", fp, BreakGlassNamespace)
		}
		before, err := b.Signers(allowed)
		if err != nil {
			return err
		}
		for _, o := range before {
			if o.Fingerprint == fp || overlap(o.Principals, principals) {
				return fmt.Errorf("%w: %s (%s) signed break-glass %s already; it needs %d distinct approvers", ErrAlreadySigned, fp, o.Principals[0], id, BreakGlassSigners)
			}
		}
		b.Signatures = append(b.Signatures, Signature{Fingerprint: fp, Principals: principals, Time: now.UTC(), Armored: bytes.Clone(armored)})
		if len(before)+1 >= BreakGlassSigners && b.Activated == nil {
			t := now.UTC()
			b.Activated, activated = &t, true
		}
		c := *b
		out = &c
		return nil
	})
	return out, activated, err
}

func overlap(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
		}
	}
	return false
}

// ActiveBreakGlass returns the active break-glass at now, nil when none
// is. A record whose signatures do not verify is skipped: it is not
// active.
func (s Store) ActiveBreakGlass(allowed proposal.AllowedSigners, now time.Time) (*BreakGlass, error) {
	var out *BreakGlass
	err := s.locked(false, func(d *doc) (bool, error) {
		for _, b := range d.BreakGlass {
			if ok, err := b.Active(allowed, now); err == nil && ok {
				out = b
				return false, nil
			}
		}
		return false, nil
	})
	return out, err
}
