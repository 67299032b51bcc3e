package proposal

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// NonceStore records used bundle nonces, one empty file per nonce, in a
// directory agentctl owns (the state dir). Records are never removed: a
// bundle's nonce is refused for ever once used.
type NonceStore struct{ Dir string }

// Check returns an error wrapping [ErrReplayed] if nonce was used
// before. It records nothing: [NonceStore.Use] does, atomically.
func (s NonceStore) Check(nonce string) error {
	if !isHex(nonce, 64) {
		return fmt.Errorf("%w: nonce %q is not 64 hex digits", ErrMalformedBundle, nonce)
	}
	if _, err := os.Lstat(filepath.Join(s.Dir, nonce)); err == nil {
		return replayed(nonce)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("nonce store: %w", err)
	}
	return nil
}

func replayed(nonce string) error {
	return &RefusedError{Reason: fmt.Sprintf("bundle nonce %s… was used before (replay)", nonce[:12]), err: ErrReplayed}
}

// Use records nonce as used, or returns an error wrapping [ErrReplayed]
// if it was used before. The file is created with O_EXCL, so two applies
// racing with one bundle cannot both succeed.
func (s NonceStore) Use(nonce string) error {
	if !isHex(nonce, 64) {
		return fmt.Errorf("%w: nonce %q is not 64 hex digits", ErrMalformedBundle, nonce)
	}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return fmt.Errorf("nonce store: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(s.Dir, nonce), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return replayed(nonce)
	}
	if err != nil {
		return fmt.Errorf("nonce store: %w", err)
	}
	return f.Close()
}
