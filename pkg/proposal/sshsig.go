package proposal

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"

	"golang.org/x/crypto/ssh"
)

// Namespace is the SSH signature namespace of an approval. A signature made
// for another namespace (git's "git", "file", ...) never approves a bundle.
const Namespace = "agentctl"

const (
	sigMagic     = "SSHSIG"
	sigVersion   = 1
	armorBegin   = "-----BEGIN SSH SIGNATURE-----"
	armorEnd     = "-----END SSH SIGNATURE-----"
	maxSigLength = 64 << 10
)

// Signature is a parsed SSH signature in the format of OpenSSH's
// PROTOCOL.sshsig, the one `ssh-keygen -Y sign` and git make.
type Signature struct {
	PublicKey ssh.PublicKey
	Namespace string
	HashAlg   string
	Sig       *ssh.Signature
}

// ErrMalformedSignature is wrapped by every error about a signature's encoding.
var ErrMalformedSignature = errors.New("malformed ssh signature")

type wireSig struct {
	Magic     [6]byte
	Version   uint32
	PublicKey []byte
	Namespace string
	Reserved  string
	HashAlg   string
	Signature []byte
}

type signedData struct {
	Magic     [6]byte
	Namespace string
	Reserved  string
	HashAlg   string
	Hash      []byte
}

func digest(alg string, r io.Reader) ([]byte, error) {
	var h hash.Hash
	switch alg {
	case "sha512":
		h = sha512.New()
	case "sha256":
		h = sha256.New()
	default:
		return nil, fmt.Errorf("%w: unsupported hash algorithm %q", ErrMalformedSignature, alg)
	}
	if _, err := io.Copy(h, r); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}

func toBeSigned(namespace, alg string, h []byte) []byte {
	d := signedData{Namespace: namespace, HashAlg: alg, Hash: h}
	copy(d.Magic[:], sigMagic)
	return ssh.Marshal(d)
}

// Sign signs message for namespace with s, hashing with SHA-512, and
// returns the armored signature. RSA keys sign with rsa-sha2-512, as
// ssh-keygen does.
func Sign(s ssh.Signer, namespace string, message []byte) ([]byte, error) {
	if namespace == "" {
		return nil, errors.New("ssh signature: empty namespace")
	}
	h, err := digest("sha512", bytes.NewReader(message))
	if err != nil {
		return nil, err
	}
	data := toBeSigned(namespace, "sha512", h)
	var sig *ssh.Signature
	if as, ok := s.(ssh.AlgorithmSigner); ok && s.PublicKey().Type() == ssh.KeyAlgoRSA {
		sig, err = as.SignWithAlgorithm(nil, data, ssh.KeyAlgoRSASHA512)
	} else {
		sig, err = s.Sign(nil, data)
	}
	if err != nil {
		return nil, fmt.Errorf("ssh signature: %w", err)
	}
	w := wireSig{Version: sigVersion, PublicKey: s.PublicKey().Marshal(), Namespace: namespace,
		HashAlg: "sha512", Signature: ssh.Marshal(sig)}
	copy(w.Magic[:], sigMagic)
	return armor(ssh.Marshal(w)), nil
}

func armor(blob []byte) []byte {
	enc := base64.StdEncoding.EncodeToString(blob)
	var b strings.Builder
	b.WriteString(armorBegin + "\n")
	for len(enc) > 70 {
		b.WriteString(enc[:70] + "\n")
		enc = enc[70:]
	}
	b.WriteString(enc + "\n" + armorEnd + "\n")
	return []byte(b.String())
}

// ParseSignature parses an armored SSH signature. It checks the encoding
// only; [Signature.Verify] checks the signature.
func ParseSignature(armored []byte) (*Signature, error) {
	if len(armored) > maxSigLength {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrMalformedSignature, maxSigLength)
	}
	s := strings.TrimSpace(strings.ReplaceAll(string(armored), "\r\n", "\n"))
	if !strings.HasPrefix(s, armorBegin) {
		return nil, fmt.Errorf("%w: no %q line", ErrMalformedSignature, armorBegin)
	}
	if !strings.HasSuffix(s, armorEnd) {
		return nil, fmt.Errorf("%w: no %q line (truncated?)", ErrMalformedSignature, armorEnd)
	}
	body := strings.Join(strings.Fields(s[len(armorBegin):len(s)-len(armorEnd)]), "")
	blob, err := base64.StdEncoding.DecodeString(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedSignature, err)
	}
	var w wireSig
	if err := ssh.Unmarshal(blob, &w); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedSignature, err)
	}
	if string(w.Magic[:]) != sigMagic {
		return nil, fmt.Errorf("%w: bad magic %q", ErrMalformedSignature, w.Magic[:])
	}
	if w.Version != sigVersion {
		return nil, fmt.Errorf("%w: unsupported version %d", ErrMalformedSignature, w.Version)
	}
	pub, err := ssh.ParsePublicKey(w.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("%w: public key: %w", ErrMalformedSignature, err)
	}
	if _, ok := pub.(*ssh.Certificate); ok {
		return nil, fmt.Errorf("%w: certificate signers are not supported", ErrMalformedSignature)
	}
	sig := new(ssh.Signature)
	if err := ssh.Unmarshal(w.Signature, sig); err != nil {
		return nil, fmt.Errorf("%w: signature: %w", ErrMalformedSignature, err)
	}
	if _, err := digest(w.HashAlg, bytes.NewReader(nil)); err != nil {
		return nil, err
	}
	return &Signature{PublicKey: pub, Namespace: w.Namespace, HashAlg: w.HashAlg, Sig: sig}, nil
}

// Verify checks that s is a valid signature of message in namespace by
// s.PublicKey. RSA signatures must use SHA-2 (ssh-rsa SHA-1 is refused).
func (s *Signature) Verify(namespace string, message []byte) error {
	if s.Namespace != namespace {
		return fmt.Errorf("signature is for namespace %q, not %q", s.Namespace, namespace)
	}
	if s.Sig.Format == ssh.KeyAlgoRSA {
		return errors.New("signature uses ssh-rsa (SHA-1)")
	}
	h, err := digest(s.HashAlg, bytes.NewReader(message))
	if err != nil {
		return err
	}
	if err := s.PublicKey.Verify(toBeSigned(s.Namespace, s.HashAlg, h), s.Sig); err != nil {
		return fmt.Errorf("signature does not verify: %w", err)
	}
	return nil
}
