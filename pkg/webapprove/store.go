package webapprove

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/agentctl/agentctl/pkg/statefile"
)

// Files the store keeps in its directory (the human's
// $XDG_CONFIG_HOME/agentctl, which the jail hides).
const (
	passkeysFile = "passkeys.json"
	enrollFile   = "enroll.json"
)

// EnrollTTL is how long an enrollment code stays valid.
const EnrollTTL = 10 * time.Minute

// maxEnrollTries is how many wrong codes void the code.
const maxEnrollTries = 5

// Errors of enrollment.
var (
	ErrNoCode    = errors.New("no enrollment code is open: run `agentctl approvers enroll` on the broker's machine")
	ErrWrongCode = errors.New("wrong enrollment code")
)

// Store keeps the enrolled passkeys and the one open enrollment code, in
// files of mode 0600 in Dir.
type Store struct {
	Dir string
	Now func() time.Time
	mu  sync.Mutex
}

// user is the one WebAuthn user: the OS user the broker runs as.
type user struct {
	ID          []byte                `json:"id"`
	Name        string                `json:"name"`
	Credentials []webauthn.Credential `json:"credentials"`
}

func (u *user) WebAuthnID() []byte                         { return u.ID }
func (u *user) WebAuthnName() string                       { return u.Name }
func (u *user) WebAuthnDisplayName() string                { return u.Name }
func (u *user) WebAuthnCredentials() []webauthn.Credential { return u.Credentials }

var _ webauthn.User = (*user)(nil)

type enrollment struct {
	CodeSHA256 string    `json:"codeSha256"`
	Expires    time.Time `json:"expires"`
	Tries      int       `json:"tries"`
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// load reads the user, creating its id on first use.
func (s *Store) load(name string) (*user, error) {
	u := &user{}
	b, err := os.ReadFile(filepath.Join(s.Dir, passkeysFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, err
	default:
		if err := json.Unmarshal(b, u); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(s.Dir, passkeysFile), err)
		}
	}
	if u.Name == "" {
		u.Name = name
	}
	if len(u.ID) == 0 {
		// The user handle passkeys are registered for: kept from the
		// first time on.
		u.ID = make([]byte, 16)
		rand.Read(u.ID)
		if err := s.save(u); err != nil {
			return nil, err
		}
	}
	return u, nil
}

func (s *Store) save(u *user) error {
	b, err := json.MarshalIndent(u, "", "  ")
	if err != nil {
		return err
	}
	return statefile.WriteAtomic(filepath.Join(s.Dir, passkeysFile), b)
}

// Count is how many passkeys are enrolled.
func (s *Store) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.load("")
	if err != nil {
		return 0
	}
	return len(u.Credentials)
}

// NewCode opens an enrollment: it returns a fresh one-time code, valid
// for [EnrollTTL], and replaces any code opened before. Only the code's
// SHA-256 is written down.
func (s *Store) NewCode() (code string, expires time.Time, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", time.Time{}, err
	}
	raw := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]) // 16 characters
	code = raw[:4] + "-" + raw[4:8] + "-" + raw[8:12] + "-" + raw[12:]
	e := enrollment{CodeSHA256: codeSum(code), Expires: s.now().Add(EnrollTTL)}
	j, _ := json.Marshal(&e)
	if err := statefile.WriteAtomic(filepath.Join(s.Dir, enrollFile), j); err != nil {
		return "", time.Time{}, err
	}
	return code, e.Expires, nil
}

// codeSum is the SHA-256 of a code as typed: case, spaces and dashes do
// not count.
func codeSum(code string) string {
	c := strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(code))
	sum := sha256.Sum256([]byte(c))
	return hex.EncodeToString(sum[:])
}

// useCode checks code against the open enrollment and closes it when it
// matches (one use). maxEnrollTries wrong codes close it too.
func (s *Store) useCode(code string) error {
	path := filepath.Join(s.Dir, enrollFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return ErrNoCode
	}
	if err != nil {
		return err
	}
	var e enrollment
	if err := json.Unmarshal(b, &e); err != nil {
		os.Remove(path)
		return ErrNoCode
	}
	if !s.now().Before(e.Expires) {
		os.Remove(path)
		return fmt.Errorf("the enrollment code expired at %s: run `agentctl approvers enroll` again", e.Expires.Local().Format("15:04:05"))
	}
	if subtle.ConstantTimeCompare([]byte(codeSum(code)), []byte(e.CodeSHA256)) != 1 {
		e.Tries++
		if e.Tries >= maxEnrollTries {
			os.Remove(path)
			return fmt.Errorf("%w: %d wrong codes closed the enrollment; run `agentctl approvers enroll` again", ErrWrongCode, e.Tries)
		}
		j, _ := json.Marshal(&e)
		statefile.WriteAtomic(path, j)
		return ErrWrongCode
	}
	return os.Remove(path)
}
