package grant

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/agentctl/agentctl/pkg/proposal"
)

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o600) }

func newSigner(t *testing.T) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func allowedOf(t *testing.T, lines ...string) proposal.AllowedSigners {
	t.Helper()
	a, err := proposal.ParseAllowedSigners("allowed_signers", []byte(strings.Join(lines, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func line(principal string, s ssh.Signer, opts string) string {
	return strings.TrimSpace(fmt.Sprintf("%s %s %s", principal, opts, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.PublicKey())))))
}

func sign(t *testing.T, s ssh.Signer, b *BreakGlass) []byte {
	t.Helper()
	sig, err := proposal.Sign(s, BreakGlassNamespace, b.Statement)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

func TestBreakGlassNeedsTwoDistinctSigners(t *testing.T) {
	alice, alice2, bob, eve := newSigner(t), newSigner(t), newSigner(t), newSigner(t)
	allowed := allowedOf(t, line("alice@example.com", alice, ""), line("alice@example.com", alice2, ""),
		line("bob@example.com", bob, `namespaces="agentctl,agentctl-break-glass"`))
	now := time.Now()
	newStore := func(t *testing.T) (Store, *BreakGlass) {
		s := Store{Dir: t.TempDir()}
		b, err := NewBreakGlass("outage INC-1", "ops", now, 15*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.AddBreakGlass(b); err != nil {
			t.Fatal(err)
		}
		return s, b
	}
	active := func(t *testing.T, s Store, at time.Time) bool {
		t.Helper()
		b, err := s.ActiveBreakGlass(allowed, at)
		if err != nil {
			t.Fatal(err)
		}
		return b != nil
	}

	t.Run("two distinct approvers activate it until it expires", func(t *testing.T) {
		s, b := newStore(t)
		if _, act, err := s.Sign(b.ID, sign(t, alice, b), allowed, now); err != nil || act {
			t.Fatalf("first signature: activated %v, err %v", act, err)
		}
		if active(t, s, now) {
			t.Fatal("active with one signature")
		}
		if _, act, err := s.Sign(b.ID, sign(t, bob, b), allowed, now); err != nil || !act {
			t.Fatalf("second signature: activated %v, err %v", act, err)
		}
		if !active(t, s, now.Add(14*time.Minute)) {
			t.Fatal("not active with two distinct signers")
		}
		if active(t, s, now.Add(15*time.Minute)) {
			t.Fatal("active after it expired")
		}
		if err := s.Revoke(b.ID, now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if active(t, s, now.Add(2*time.Minute)) {
			t.Fatal("active after it was revoked")
		}
	})
	t.Run("one approver twice is refused", func(t *testing.T) {
		s, b := newStore(t)
		if _, _, err := s.Sign(b.ID, sign(t, alice, b), allowed, now); err != nil {
			t.Fatal(err)
		}
		_, _, err := s.Sign(b.ID, sign(t, alice, b), allowed, now)
		if !errors.Is(err, ErrAlreadySigned) {
			t.Fatalf("same key twice: %v, want ErrAlreadySigned", err)
		}
		// Another key of the same principal is the same approver.
		_, _, err = s.Sign(b.ID, sign(t, alice2, b), allowed, now)
		if !errors.Is(err, ErrAlreadySigned) {
			t.Fatalf("same principal, other key: %v, want ErrAlreadySigned", err)
		}
		if active(t, s, now) {
			t.Fatal("active with one approver")
		}
	})
	t.Run("a signer not allowed is refused", func(t *testing.T) {
		s, b := newStore(t)
		if _, _, err := s.Sign(b.ID, sign(t, eve, b), allowed, now); err == nil || !strings.Contains(err.Error(), "not in allowed_signers") {
			t.Fatalf("eve: %v", err)
		}
	})
	t.Run("a signer allowed for namespace agentctl only is refused", func(t *testing.T) {
		only := allowedOf(t, line("alice@example.com", alice, `namespaces="agentctl"`), line("bob@example.com", bob, ""))
		s, b := newStore(t)
		if _, _, err := s.Sign(b.ID, sign(t, alice, b), only, now); err == nil {
			t.Fatal("a signer limited to namespace agentctl signed a break-glass")
		}
	})
	t.Run("a signature of a proposal namespace is refused", func(t *testing.T) {
		s, b := newStore(t)
		sig, err := proposal.Sign(alice, proposal.Namespace, b.Statement)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Sign(b.ID, sig, allowed, now); err == nil {
			t.Fatal("a signature for namespace agentctl was taken")
		}
	})
	t.Run("a record edited after signing activates nothing", func(t *testing.T) {
		s, b := newStore(t)
		for _, k := range []ssh.Signer{alice, bob} {
			if _, _, err := s.Sign(b.ID, sign(t, k, b), allowed, now); err != nil {
				t.Fatal(err)
			}
		}
		// Someone who can write the state file stretches the expiry.
		err := s.updateBreakGlass(b.ID, func(r *BreakGlass) error { r.Expires = r.Expires.Add(24 * time.Hour); return nil })
		if err != nil {
			t.Fatal(err)
		}
		if active(t, s, now.Add(time.Hour)) {
			t.Fatal("an edited expiry was honoured")
		}
	})
	t.Run("copied signatures from another statement activate nothing", func(t *testing.T) {
		s, b := newStore(t)
		other, _ := NewBreakGlass("outage INC-1", "ops", now, 15*time.Minute)
		err := s.updateBreakGlass(b.ID, func(r *BreakGlass) error {
			for _, k := range []ssh.Signer{alice, bob} {
				r.Signatures = append(r.Signatures, Signature{Armored: sign(t, k, other)})
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if active(t, s, now) {
			t.Fatal("signatures of another statement were honoured")
		}
	})
}
