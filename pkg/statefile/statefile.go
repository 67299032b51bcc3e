// Package statefile is agentctl's small shared state documents (the
// policy's lockout state, the grants): one JSON file in a directory of
// its own (0700), read and written under an flock on a lock file beside
// it, so that any number of agentctl processes may share it, and written
// back atomically (temporary file, fsync, rename).
package statefile

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// CorruptError is a document that is there but does not decode.
type CorruptError struct {
	Path string
	Err  error
}

func (e *CorruptError) Error() string { return fmt.Sprintf("%q is corrupt: %v", e.Path, e.Err) }
func (e *CorruptError) Unwrap() error { return e.Err }

// Locked decodes dir/NAME.json into doc (left as given when there is no
// such file) and runs fn under a shared or exclusive flock on
// dir/NAME.lock. When fn returns true with no error and the lock is
// exclusive, doc is written back atomically.
func Locked(dir, name string, exclusive bool, doc any, fn func() (bool, error)) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	lf, err := os.OpenFile(filepath.Join(dir, name+".lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer lf.Close()
	how := unix.LOCK_SH
	if exclusive {
		how = unix.LOCK_EX
	}
	for {
		err = unix.Flock(int(lf.Fd()), how)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	defer unix.Flock(int(lf.Fd()), unix.LOCK_UN)

	path := filepath.Join(dir, name+".json")
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return err
	default:
		if err := json.Unmarshal(b, doc); err != nil {
			return &CorruptError{Path: path, Err: err}
		}
	}
	write, err := fn()
	if err != nil || !write || !exclusive {
		return err
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	return WriteAtomic(filepath.Join(dir, name+".json"), append(out, '\n'))
}

// WriteAtomic writes b to path, mode 0600, through a temporary file in
// its directory (created 0700 when missing), synced and renamed over it:
// a reader sees the old content or the new, never half of it.
func WriteAtomic(path string, b []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
