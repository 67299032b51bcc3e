package proposal

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

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

func u64(n uint64) *uint64 { return &n }

var t0 = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)

func testBundle(t *testing.T, class string) (*Bundle, []byte) {
	t.Helper()
	nonce, err := NewNonce()
	if err != nil {
		t.Fatal(err)
	}
	b := &Bundle{Version: Version, Tool: "terraform", SHA256: HashBytes([]byte("plan bytes")), Class: class,
		Reasons: []string{"1 to add"}, Target: Target{Workspace: "prod", Backend: "local", Dir: "/src/infra"},
		Summary: "Plan: 1 to add", Created: t0, Expires: t0.Add(time.Hour), Nonce: nonce,
		Pins: Pins{StateLineage: "3c1f", StateSerial: u64(7)}}
	data, err := b.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b, data
}

func sig(t *testing.T, s ssh.Signer, ns string, msg []byte) SignatureFile {
	t.Helper()
	armored, err := Sign(s, ns, msg)
	if err != nil {
		t.Fatal(err)
	}
	return SignatureFile{Name: ssh.FingerprintSHA256(s.PublicKey())[:14] + ".sig", Data: armored}
}

func TestVerify(t *testing.T) {
	alice, bob, mallory := newSigner(t), newSigner(t), newSigner(t)
	allowed, err := ParseAllowedSigners("allowed_signers", []byte(strings.Join([]string{
		"# humans",
		allowedLine(alice, "alice@example.com", `namespaces="agentctl"`),
		allowedLine(bob, "bob@example.com,robert@example.com", ""),
		allowedLine(newSigner(t), "carol@example.com", `namespaces="git"`),
	}, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	type tc struct {
		name   string
		class  string
		edit   func(c *Check, bundle []byte)
		refuse string // "" = approved
	}
	for _, c := range []tc{
		{name: "one allowed signer approves a write", class: "write"},
		{name: "plan bytes changed after signing", class: "write",
			edit: func(c *Check, _ []byte) { c.SHA256 = HashBytes([]byte("other plan")) }, refuse: "are not the ones approved"},
		{name: "bundle edited after signing", class: "write",
			edit: func(c *Check, b []byte) {
				c.Bundle = []byte(strings.Replace(string(b), "Plan: 1 to add", "Plan: 0 to add", 1))
			}, refuse: "signature does not verify"},
		{name: "other workspace", class: "write",
			edit: func(c *Check, _ []byte) { c.Target.Workspace = "staging" }, refuse: `workspace "prod", this is "staging"`},
		{name: "other dir", class: "write",
			edit: func(c *Check, _ []byte) { c.Target.Dir = "/src/other" }, refuse: `dir "/src/infra"`},
		{name: "expired", class: "write",
			edit: func(c *Check, _ []byte) { c.Now = t0.Add(time.Hour) }, refuse: "bundle expired at 2026-12-03T13:00:00Z"},
		{name: "signer not in allowed_signers", class: "write",
			edit: func(c *Check, b []byte) { c.Signatures = []SignatureFile{sig(t, mallory, Namespace, b)} }, refuse: "is not in allowed_signers"},
		{name: "signer allowed only for namespace git", class: "write",
			edit: func(c *Check, b []byte) {
				c.Signatures = []SignatureFile{sig(t, allowed[2].signerFor(t), Namespace, b)}
			}, refuse: "is not in allowed_signers"},
		{name: "signature over another namespace", class: "write",
			edit: func(c *Check, b []byte) { c.Signatures = []SignatureFile{sig(t, alice, "git", b)} }, refuse: `namespace "git", not "agentctl"`},
		{name: "privilege with one signer", class: "privilege", refuse: "1 distinct allowed signer(s), privilege bundle needs 2"},
		{name: "privilege with the same signer twice", class: "privilege",
			edit: func(c *Check, b []byte) { c.Signatures = append(c.Signatures, sig(t, alice, Namespace, b)) }, refuse: "needs 2"},
		{name: "privilege with two signers", class: "privilege",
			edit: func(c *Check, b []byte) { c.Signatures = append(c.Signatures, sig(t, bob, Namespace, b)) }},
		{name: "bundle claims write for a privilege plan", class: "write",
			edit: func(c *Check, _ []byte) { c.Class = "privilege" }, refuse: "bundle says class write, the plan is privilege"},
		{name: "no signatures", class: "write",
			edit: func(c *Check, _ []byte) { c.Signatures = nil }, refuse: "0 distinct allowed signer(s)"},
		{name: "state of another lineage", class: "write",
			edit: func(c *Check, _ []byte) { c.Pins.StateLineage = "9a9a" }, refuse: `state lineage "3c1f", the state is lineage "9a9a"`},
		{name: "state rolled back to an older serial", class: "write",
			edit: func(c *Check, _ []byte) { c.Pins.StateSerial = u64(6) }, refuse: "state serial 6 is older than the 7"},
		{name: "kubectl bundle for terraform", class: "write",
			edit: func(c *Check, _ []byte) { c.Tool = "kubectl" }, refuse: "bundle is for terraform, not kubectl"},
		{name: "truncated signature", class: "write",
			edit: func(c *Check, _ []byte) { c.Signatures[0].Data = c.Signatures[0].Data[:40] }, refuse: "malformed ssh signature"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, data := testBundle(t, c.class)
			check := Check{Bundle: data, Signatures: []SignatureFile{sig(t, alice, Namespace, data)}, Allowed: allowed,
				Required: 1, Now: t0.Add(time.Minute), Tool: "terraform", SHA256: b.SHA256, Class: c.class, Target: b.Target,
				Pins: Pins{StateLineage: "3c1f", StateSerial: u64(7)}}
			if c.edit != nil {
				c.edit(&check, data)
			}
			a, err := Verify(check)
			if c.refuse == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if len(a.Signers) == 0 || a.Bundle.Nonce != b.Nonce {
					t.Fatalf("approved without signers or with another bundle: %+v", a)
				}
				return
			}
			if err == nil {
				t.Fatalf("approved, want a refusal containing %q", c.refuse)
			}
			if !strings.Contains(err.Error(), c.refuse) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("refusal %q: want one line containing %q", err, c.refuse)
			}
		})
	}
}

// signerFor is a test hook: the allowed line's key with no private key
// cannot sign, so the "carol" case signs with a fresh key whose public
// half replaces carol's.
func (s *AllowedSigner) signerFor(t *testing.T) ssh.Signer {
	k := newSigner(t)
	s.Key = k.PublicKey()
	return k
}

func TestParseBundleMalformed(t *testing.T) {
	_, good := testBundle(t, "write")
	for name, in := range map[string]string{
		"empty":         "",
		"truncated":     string(good[:len(good)/2]),
		"not JSON":      "PK\x03\x04",
		"trailing data": string(good) + "{}",
		"unknown field": strings.Replace(string(good), `"version"`, `"extra": 1, "version"`, 1),
		"version 2":     strings.Replace(string(good), `"version": 1`, `"version": 2`, 1),
		"short hash":    strings.Replace(string(good), `"sha256": "`, `"sha256": "ab`, 1),
		"no serial pin": strings.Replace(string(good), `"stateSerial": 7`, `"stateLineage2": 7`, 1),
		"expires early": strings.Replace(string(good), `"expires": "2026-12-03T13`, `"expires": "2026-12-03T11`, 1),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(in))
			if !errors.Is(err, ErrMalformedBundle) {
				t.Fatalf("err = %v, want ErrMalformedBundle", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q is not one line", err)
			}
		})
	}
}

func TestNonceReplayRefused(t *testing.T) {
	s := NonceStore{Dir: filepath.Join(t.TempDir(), "nonces")}
	n, _ := NewNonce()
	if err := s.Use(n); err != nil {
		t.Fatal(err)
	}
	err := s.Use(n)
	if !errors.Is(err, ErrReplayed) || !strings.Contains(err.Error(), "used before") {
		t.Fatalf("second use: %v, want a replay refusal", err)
	}
	if err := s.Use("../../etc/passwd"); err == nil {
		t.Fatal("a nonce that is a path was accepted")
	}
	if _, err := os.Stat(filepath.Join(s.Dir, n)); err != nil {
		t.Fatalf("nonce not recorded: %v", err)
	}
}

func TestAllowedSignersParsing(t *testing.T) {
	s := newSigner(t)
	key := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.PublicKey())))
	for _, c := range []struct {
		line, err string
		ns        []string
	}{
		{line: "alice@example.com " + key + " laptop"},
		{line: `alice@example.com namespaces="agentctl,git" ` + key, ns: []string{"agentctl", "git"}},
		{line: `alice@example.com cert-authority ` + key, err: `unsupported option "cert-authority"`},
		{line: `alice@example.com valid-before="20300101" ` + key, err: `unsupported option "valid-before"`},
		{line: "alice@example.com", err: "no public key"},
	} {
		a, err := ParseAllowedSigners("signers", []byte(c.line))
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) || !strings.HasPrefix(err.Error(), "signers:1: ") {
				t.Errorf("%q: err = %v, want %q", c.line, err, c.err)
			}
			continue
		}
		if err != nil || len(a) != 1 || strings.Join(a[0].Namespaces, ",") != strings.Join(c.ns, ",") {
			t.Errorf("%q: %v %+v", c.line, err, a)
		}
	}
}

func TestNonceCheckSeesUse(t *testing.T) {
	s := NonceStore{Dir: t.TempDir()}
	n, _ := NewNonce()
	if err := s.Check(n); err != nil {
		t.Fatalf("unused nonce: %v", err)
	}
	if err := s.Use(n); err != nil {
		t.Fatal(err)
	}
	if err := s.Check(n); !errors.Is(err, ErrReplayed) {
		t.Fatalf("used nonce: %v, want ErrReplayed", err)
	}
}

func TestKubectlBundleNeedsItsPins(t *testing.T) {
	nonce, _ := NewNonce()
	full := Pins{ClusterUID: "0b6e6c4a-1f0e-4d7e-9a53-6f1e2b3c4d5e", Objects: HashBytes(nil)}
	for _, c := range []struct {
		name string
		pins Pins
		err  string // "" = valid
	}{
		{"cluster UID and objects", full, ""},
		{"no cluster UID", Pins{Objects: full.Objects}, "without a cluster UID pin"},
		{"no objects pin", Pins{ClusterUID: full.ClusterUID}, "without an objects pin"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := &Bundle{Version: Version, Tool: "kubectl", SHA256: HashBytes([]byte("---\n")), Class: "write",
				Target: Target{Context: "prod", Server: "https://10.0.0.1:6443"}, Created: t0, Expires: t0.Add(time.Hour), Nonce: nonce, Pins: c.pins}
			_, err := b.Marshal()
			if c.err == "" {
				if err != nil {
					t.Fatalf("Marshal: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrMalformedBundle) || !strings.Contains(err.Error(), c.err) {
				t.Fatalf("err = %v, want a malformed bundle %s", err, c.err)
			}
		})
	}
}
