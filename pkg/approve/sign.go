package approve

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Errors a requester reports when an inbox answer does not verify. Each
// makes the answer a denial.
var (
	ErrBadSignature = errors.New("signature does not verify with the inbox public key")
	ErrUntrustedKey = errors.New("signed by an untrusted key")
	ErrWrongRequest = errors.New("answer is signed for another request")
	ErrExpired      = errors.New("signed answer has expired")
)

// SignedAnswer is an inbox's decision on one request, as signed. The
// signature covers every field but Sig.
type SignedAnswer struct {
	Hash     string `json:"hash"`  // the request's approval hash
	Nonce    string `json:"nonce"` // the requester's fresh nonce
	Approved bool   `json:"approved"`
	Reason   string `json:"reason,omitempty"`
	Approver string `json:"approver,omitempty"`
	KeyID    string `json:"keyId,omitempty"`
	Expires  int64  `json:"expires"` // Unix nanoseconds
	Sig      []byte `json:"sig"`
}

// message is the exact byte string signed: length-prefixed fields under a
// domain-separation tag, so no two answers share one.
func (a *SignedAnswer) message() []byte {
	var b []byte
	field := func(s string) {
		b = strconv.AppendInt(b, int64(len(s)), 10)
		b = append(b, ':')
		b = append(b, s...)
		b = append(b, '\n')
	}
	field("agentctl-inbox-answer-v1")
	field(a.Hash)
	field(a.Nonce)
	field(strconv.FormatBool(a.Approved))
	field(a.Reason)
	field(a.Approver)
	field(a.KeyID)
	field(strconv.FormatInt(a.Expires, 10))
	return b
}

// Sign signs a with key.
func (a *SignedAnswer) Sign(key ed25519.PrivateKey) {
	a.Sig = ed25519.Sign(key, a.message())
}

// Verify checks a's signature with pub and that it answers the request
// with hash and nonce, and has not expired at now. An answer that names
// another key than pub, and does not verify with pub, is
// [ErrUntrustedKey]; one that names pub's but does not verify is
// [ErrBadSignature].
func (a *SignedAnswer) Verify(pub ed25519.PublicKey, hash, nonce string, now time.Time) error {
	if len(pub) != ed25519.PublicKeySize || !ed25519.Verify(pub, a.message(), a.Sig) {
		if a.KeyID != "" && len(pub) == ed25519.PublicKeySize && a.KeyID != KeyID(pub) {
			return fmt.Errorf("%w %q, not by the trusted inbox key %q", ErrUntrustedKey, a.KeyID, KeyID(pub))
		}
		return ErrBadSignature
	}
	if a.Hash != hash || a.Nonce != nonce {
		return ErrWrongRequest
	}
	if !now.Before(time.Unix(0, a.Expires)) {
		return ErrExpired
	}
	return nil
}

// KeyID names a public key: the first 8 bytes of its SHA-256, in hex.
func KeyID(pub ed25519.PublicKey) string {
	s := sha256.Sum256(pub)
	return hex.EncodeToString(s[:8])
}

// LoadOrCreateKey reads the inbox's private key, creating it (0600, in a
// 0700 directory) on first use, and (re)writes the public key beside it
// when it is missing or differs.
func LoadOrCreateKey(p Paths) (ed25519.PrivateKey, error) {
	if err := os.MkdirAll(filepath.Dir(p.Key), 0o700); err != nil {
		return nil, err
	}
	key, err := readKey(p.Key)
	if errors.Is(err, fs.ErrNotExist) {
		_, key, err = ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, err
		}
		f, err := os.OpenFile(p.Key, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, err
		}
		werr := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der})
		if err := f.Close(); werr == nil {
			werr = err
		}
		if werr != nil {
			return nil, werr
		}
	} else if err != nil {
		return nil, err
	}
	pub := key.Public().(ed25519.PublicKey)
	if have, err := ReadPublicKey(p.Pub); err != nil || !have.Equal(pub) {
		if err := writePub(p.Pub, pub); err != nil {
			return nil, err
		}
	}
	return key, nil
}

func readKey(path string) (ed25519.PrivateKey, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if err := ownedBySelf(path, fi); err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("inbox key %q has mode %v, want 0600", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("inbox key %q is not a PEM private key", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("inbox key %q: %w", path, err)
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("inbox key %q is not an ed25519 key", path)
	}
	return ek, nil
}

func writePub(path string, pub ed25519.PublicKey) error {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	os.Remove(tmp)
	if err := os.WriteFile(tmp, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// ReadPublicKey reads the inbox's public key. It refuses a key file (or
// directory) that is a symlink, is not owned by this user, or that group
// or others can write: whoever can replace the public key can approve.
func ReadPublicKey(path string) (ed25519.PublicKey, error) {
	if err := notWritableByOthers(path); err != nil {
		return nil, fmt.Errorf("untrusted inbox public key: %w", err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pub, err := ParsePublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("inbox public key %q: %w", path, err)
	}
	return pub, nil
}

// ParsePublicKey reads an ed25519 public key as the inbox writes it (PEM,
// "PUBLIC KEY"), or as base64 of its DER form or of its 32 bytes.
func ParsePublicKey(b []byte) (ed25519.PublicKey, error) {
	der := b
	if blk, _ := pem.Decode(b); blk != nil {
		if blk.Type != "PUBLIC KEY" {
			return nil, fmt.Errorf("PEM block %q is not a public key", blk.Type)
		}
		der = blk.Bytes
	} else {
		d, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
		if err != nil {
			return nil, errors.New("not a PEM public key nor base64")
		}
		if len(d) == ed25519.PublicKeySize {
			return ed25519.PublicKey(d), nil
		}
		der = d
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, err
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, errors.New("not an ed25519 key")
	}
	return pub, nil
}
