package broker

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// ErrRunning is a second broker for a socket a live broker serves.
var ErrRunning = errors.New("a broker is already serving")

// RunningError names the live broker that holds the lock.
type RunningError struct {
	Socket string
	PID    int // 0 when the lock file does not say
}

func (e *RunningError) Error() string {
	if e.PID > 0 {
		return fmt.Sprintf("a broker is already serving at %q (pid %d)", e.Socket, e.PID)
	}
	return fmt.Sprintf("a broker is already serving at %q", e.Socket)
}

func (e *RunningError) Unwrap() error { return ErrRunning }

// Listener is a broker's socket and the lock that makes it the only
// broker for that socket.
type Listener struct {
	*net.UnixListener
	Path string
	lock *os.File
}

// Listen makes the broker's socket at path: its directory is created
// mode 0700 and must be this user's and reachable by nobody else; the
// lock file beside it (broker.lock) is held with flock for as long as the
// listener lives, so a second broker refuses ([RunningError]) and a socket
// file left by a dead broker (no lock holder) is removed and replaced.
func Listen(path string) (*Listener, error) {
	if !filepath.IsAbs(path) {
		return nil, fmt.Errorf("broker socket %q is not an absolute path", path)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create the broker's directory %q: %w", dir, err)
	}
	if err := privateDir(dir); err != nil {
		return nil, err
	}
	lockPath := filepath.Join(dir, strings.TrimSuffix(filepath.Base(path), ".sock")+".lock")
	lock, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cannot open the broker's lock %q: %w", lockPath, err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b := make([]byte, 32)
		n, _ := lock.ReadAt(b, 0)
		lock.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			pid, _ := strconv.Atoi(strings.TrimSpace(string(b[:n])))
			return nil, &RunningError{Socket: path, PID: pid}
		}
		return nil, fmt.Errorf("cannot lock %q: %w", lockPath, err)
	}
	// The lock is ours: whatever socket file is there is a dead broker's.
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		lock.Close()
		return nil, fmt.Errorf("cannot remove the stale broker socket %q: %w", path, err)
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("cannot listen on %q: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		lock.Close()
		return nil, fmt.Errorf("cannot restrict %q: %w", path, err)
	}
	lock.Truncate(0)
	lock.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return &Listener{UnixListener: ln, Path: path, lock: lock}, nil
}

// Close stops listening, removes the socket and releases the lock.
func (l *Listener) Close() error {
	err := l.UnixListener.Close() // unlinks the socket
	l.lock.Truncate(0)
	l.lock.Close()
	return err
}

// privateDir checks that dir is this user's and that nobody else can
// enter it: otherwise another user could replace the socket.
func privateDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case !fi.IsDir():
		return fmt.Errorf("the broker's directory %q is not a directory", dir)
	case ok && int(st.Uid) != os.Geteuid():
		return fmt.Errorf("the broker's directory %q belongs to uid %d, not to this user (%d)", dir, st.Uid, os.Geteuid())
	case fi.Mode().Perm()&0o077 != 0:
		return &hintError{
			msg:  fmt.Sprintf("the broker's directory %q is mode %04o: other users could reach the socket", dir, fi.Mode().Perm()),
			hint: fmt.Sprintf("chmod 700 %s", dir),
		}
	}
	return nil
}

type hintError struct{ msg, hint string }

func (e *hintError) Error() string { return e.msg }
func (e *hintError) Hint() string  { return e.hint }
