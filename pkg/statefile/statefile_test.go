package statefile

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

type counter struct {
	N int `json:"n"`
}

// Concurrent exclusive updates are serialised by the lock: none is lost.
func TestLockedUpdatesAreNotLost(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var c counter
			if err := Locked(dir, "count", true, &c, func() (bool, error) { c.N++; return true, nil }); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	var c counter
	if err := Locked(dir, "count", false, &c, func() (bool, error) { return false, nil }); err != nil || c.N != 20 {
		t.Fatalf("after 20 updates: n=%d, %v", c.N, err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("directory: %v, %v; want mode 0700", fi, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "count.json")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("document: %v, %v; want mode 0600", fi, err)
	}
}

// A shared lock, or fn saying no, writes nothing; a corrupt document is
// a CorruptError naming it, and fn does not run.
func TestLockedWritesOnlyWhenAskedAndRefusesCorrupt(t *testing.T) {
	dir := t.TempDir()
	var c counter
	Locked(dir, "count", false, &c, func() (bool, error) { c.N = 5; return true, nil })
	Locked(dir, "count", true, &c, func() (bool, error) { c.N = 6; return false, nil })
	if _, err := os.Stat(filepath.Join(dir, "count.json")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a document was written: %v", err)
	}
	path := filepath.Join(dir, "count.json")
	os.WriteFile(path, []byte("{half"), 0o600)
	ran := false
	err := Locked(dir, "count", true, &c, func() (bool, error) { ran = true; return true, nil })
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.Path != path || ran {
		t.Fatalf("corrupt document: %v (fn ran: %v)", err, ran)
	}
	if b, _ := os.ReadFile(path); string(b) != "{half" {
		t.Errorf("the corrupt document was overwritten: %q", b)
	}
}
