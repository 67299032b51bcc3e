package approve

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// Paths are where the inbox keeps its socket and its key. Use
// [DefaultPaths] unless a test needs its own.
type Paths struct {
	// Socket is the inbox's Unix socket; its directory is private (0700).
	Socket string
	// Key is the inbox's ed25519 private key (0600); Pub its public key.
	Key, Pub string
	// Trusted, when set, is the one public key answers are verified with
	// (root's approval.inboxPublicKey); Pub is then not read.
	Trusted ed25519.PublicKey
}

// DefaultPaths places the socket in $XDG_RUNTIME_DIR/agentctl/inbox.sock
// (or, without XDG_RUNTIME_DIR, in a per-uid directory under the system
// temporary directory) and the keys in $XDG_CONFIG_HOME/agentctl (or
// ~/.config/agentctl). getenv looks variables up.
func DefaultPaths(getenv func(string) string) (Paths, error) {
	run := getenv("XDG_RUNTIME_DIR")
	var sockDir string
	if filepath.IsAbs(run) {
		sockDir = filepath.Join(run, "agentctl")
	} else {
		sockDir = filepath.Join(os.TempDir(), "agentctl-"+strconv.Itoa(os.Getuid()))
	}
	cfg := getenv("XDG_CONFIG_HOME")
	if !filepath.IsAbs(cfg) {
		home := getenv("HOME")
		if !filepath.IsAbs(home) {
			return Paths{}, errors.New("cannot place the inbox key: neither XDG_CONFIG_HOME nor HOME is set")
		}
		cfg = filepath.Join(home, ".config")
	}
	keyDir := filepath.Join(cfg, "agentctl")
	return Paths{
		Socket: filepath.Join(sockDir, "inbox.sock"),
		Key:    filepath.Join(keyDir, "inbox.key"),
		Pub:    filepath.Join(keyDir, "inbox.pub"),
	}, nil
}

// privateDir creates dir with mode 0700 if needed and checks that it is a
// real directory (not a symlink) owned by this user and closed to group
// and others.
func privateDir(dir string) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%q is not a directory", dir)
	}
	if err := ownedBySelf(dir, fi); err != nil {
		return err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("%q has mode %v, want 0700", dir, fi.Mode().Perm())
	}
	return nil
}

// ownedBySelf checks fi (of path) is owned by this process's user.
func ownedBySelf(path string, fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("cannot read the owner of %q", path)
	}
	if int(st.Uid) != os.Getuid() {
		return fmt.Errorf("%q is owned by uid %d, not by this user (uid %d)", path, st.Uid, os.Getuid())
	}
	return nil
}

// notWritableByOthers checks that path is a regular file (or directory)
// owned by this user that neither group nor others can write, and that
// its directory is the same.
func notWritableByOthers(path string) error {
	for _, p := range []string{path, filepath.Dir(path)} {
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%q is a symlink", p)
		}
		if err := ownedBySelf(p, fi); err != nil {
			return err
		}
		if fi.Mode().Perm()&0o022 != 0 {
			return fmt.Errorf("%q is writable by group or others (mode %v)", p, fi.Mode().Perm())
		}
	}
	return nil
}
