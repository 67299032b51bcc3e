package audit

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// mountTmpfs mounts a size-limited tmpfs on a fresh directory, or skips
// the test when this process may not mount.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size="+size+",mode=0700"); err != nil {
		t.Skipf("cannot mount a tmpfs (%v); run as root to test a full or read-only file system", err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	return dir
}

func TestAppendFailsClosed(t *testing.T) {
	t.Run("read-only file system, new log", func(t *testing.T) {
		dir := mountTmpfs(t, "64k")
		if err := unix.Mount("", dir, "", unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
			t.Skipf("cannot remount read-only: %v", err)
		}
		_, err := Open(filepath.Join(dir, "agentctl", "audit.jsonl"), Options{})
		wantNotRecorded(t, err, "read-only file system", "writable")
	})
	t.Run("read-only file system, existing log", func(t *testing.T) {
		dir := t.TempDir()
		l, err := Open(filepath.Join(dir, "audit.jsonl"), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Append(testRecord("a", 0)); err != nil {
			t.Fatal(err)
		}
		l.Close()
		ro := t.TempDir() // dir, bound read-only
		if err := unix.Mount(dir, ro, "", unix.MS_BIND, ""); err != nil {
			t.Skipf("cannot bind mount (%v); run as root to test a read-only file system", err)
		}
		t.Cleanup(func() { unix.Unmount(ro, unix.MNT_DETACH) })
		if err := unix.Mount("", ro, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY, ""); err != nil {
			t.Skipf("cannot remount read-only: %v", err)
		}
		_, err = Open(filepath.Join(ro, "audit.jsonl"), Options{})
		wantNotRecorded(t, err, "read-only file system", "writable")
	})
	t.Run("file system full", func(t *testing.T) {
		dir := mountTmpfs(t, "64k")
		path := filepath.Join(dir, "audit.jsonl")
		l, err := Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		if err := l.Append(testRecord("a", 0)); err != nil {
			t.Fatal(err)
		}
		filler := fill(t, dir)
		before, _ := os.ReadFile(path)
		big := testRecord("a", 1)
		big.Intent = strings.Repeat("x", 8<<10) // more than the slack in the file's last page
		wantNotRecorded(t, l.Append(big), "no space left on device", "free space")
		after, _ := os.ReadFile(path)
		if string(after) != string(before) {
			t.Errorf("a failed append changed the log: %d bytes before, %d after", len(before), len(after))
		}
		os.Remove(filler)
		if err := l.Append(big); err != nil {
			t.Fatalf("append after space was freed: %v", err)
		}
		if rep := verifyFile(t, path); !rep.OK() || rep.Records != 2 {
			t.Errorf("want two good records, got %+v", rep)
		}
	})
}

// fill writes a file until the file system is full and returns its path.
func fill(t *testing.T, dir string) string {
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return path
		}
	}
}

func wantNotRecorded(t *testing.T, err error, msg, hint string) {
	t.Helper()
	var we *WriteError
	if !errors.Is(err, ErrNotRecorded) || !errors.As(err, &we) {
		t.Fatalf("want a *WriteError matching ErrNotRecorded, got %v", err)
	}
	if !strings.HasPrefix(err.Error(), `cannot write audit record to "`) || !strings.Contains(err.Error(), msg) {
		t.Errorf("message %q does not say %q", err, msg)
	}
	if !strings.Contains(we.Hint(), hint) {
		t.Errorf("hint %q does not say %q", we.Hint(), hint)
	}
}
