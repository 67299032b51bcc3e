package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestOpenCreatesPrivateFileAndDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "agentctl")
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	l, err := Open(filepath.Join(dir, "audit.jsonl"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for path, want := range map[string]os.FileMode{dir: 0o700, l.Path(): 0o600} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got != want {
			t.Errorf("%s: mode %o, want %o", path, got, want)
		}
	}
}

func TestDecisionAndResultAreLinkedByRequestID(t *testing.T) {
	path := t.TempDir() + "/audit.jsonl"
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	d := testRecord("claude", 1)
	if err := l.Append(d); err != nil {
		t.Fatal(err)
	}
	r := NewResult(d, time.Now())
	r.SetExit(0)
	r.Executed, r.DurationMS, r.OutputBytes, r.Identity = true, 12.5, 310, "context deploy@prod"
	if err := l.Append(r); err != nil {
		t.Fatal(err)
	}
	var got []Record
	b, _ := os.ReadFile(path)
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		var rec Record
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatal(err)
		}
		got = append(got, rec)
	}
	if len(got) != 2 || got[0].Kind != KindDecision || got[1].Kind != KindResult || got[0].ID != got[1].ID || got[0].ID == "" {
		t.Fatalf("want a decision and a result with one request id, got %+v", got)
	}
	if got[0].Prev != Genesis || got[1].Prev != hashLine(bytes.Split(b, []byte("\n"))[0]) {
		t.Error("records do not chain from the genesis value and each other")
	}
	if *got[1].Exit != 0 || got[1].Class == nil || *got[1].Class != *got[0].Class {
		t.Errorf("result record lacks exit code or class: %+v", got[1])
	}
}

func TestManyProcessesAppendConcurrently(t *testing.T) {
	const procs, each = 64, 20
	path := t.TempDir() + "/audit.jsonl"
	var wg sync.WaitGroup
	errs := make([]error, procs)
	for p := range procs {
		cmd := runChild(t, path, "child-"+strconv.Itoa(p), each, 0)
		wg.Go(func() {
			if err := cmd.Run(); err != nil {
				errs[p] = errors.New(err.Error() + ": " + cmd.Stderr.(*strings.Builder).String())
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	rep := verifyFile(t, path)
	if !rep.OK() || rep.Records != procs*each {
		t.Fatalf("want %d records in a valid chain, got %d, broken %v, torn %v", procs*each, rep.Records, rep.Broken, rep.TornTail)
	}
	perAgent := map[string]int{}
	f, _ := os.Open(path)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r Record
		json.Unmarshal(sc.Bytes(), &r)
		perAgent[r.Agent]++
	}
	for p := range procs {
		if n := perAgent["child-"+strconv.Itoa(p)]; n != each {
			t.Errorf("child-%d: %d records, want %d", p, n, each)
		}
	}
}

func TestCrashMidWriteIsReportedAndRepaired(t *testing.T) {
	tests := []struct {
		name    string
		crashes []int // bytes each successive crashing writer gets out
		torn    int   // torn lines the repair record must name
	}{
		{"killed in the middle of a record", []int{100}, 1},
		{"killed right before the newline", []int{-1}, 1},
		{"killed again while repairing, after the newline", []int{100, 1}, 1},
		{"killed again in the middle of the repair record", []int{100, 60}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeLog(t, 10)
			for _, n := range tc.crashes {
				if n == -1 {
					n = len(marshalForSize(t)) // everything but the newline
				}
				cmd := runChild(t, path, "crasher", 1, n)
				err := cmd.Run()
				var ee *exec.ExitError
				if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
					t.Fatalf("writer was not killed: %v", err)
				}
			}
			rep := verifyFile(t, path)
			if rep.TornTail == nil || rep.Broken != nil {
				t.Fatalf("verify after a crash: want a torn tail and no break, got torn=%+v broken=%+v", rep.TornTail, rep.Broken)
			}

			var warnings []string
			l, err := Open(path, Options{Warn: func(m string) { warnings = append(warnings, m) }})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			if err := l.Append(testRecord("next", 0)); err != nil {
				t.Fatal(err)
			}
			if len(warnings) != 1 || !strings.Contains(warnings[0], "torn") {
				t.Errorf("the repair was silent: warnings %q", warnings)
			}
			rep = verifyFile(t, path)
			if !rep.OK() || len(rep.Repairs) != 1 || len(rep.Repairs[0].Torn) != tc.torn {
				t.Fatalf("after repair: want a valid chain with one repair of %d line(s), got %+v broken=%v torn=%v",
					tc.torn, rep.Repairs, rep.Broken, rep.TornTail)
			}
			if rep.Repairs[0].Torn[0] != 11 {
				t.Errorf("repair names line %v, want the torn line 11", rep.Repairs[0].Torn)
			}
		})
	}
}

// marshalForSize is the size a child's first record will have.
func marshalForSize(t *testing.T) []byte {
	r := testRecord("crasher", 0)
	r.V, r.Seq, r.Prev, r.Args = Version, 11, Genesis, MaskArgs(r.Tool, r.Args)
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLockTimeoutFailsClosed(t *testing.T) {
	path := t.TempDir() + "/audit.jsonl"
	l, err := Open(path, Options{LockTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	holder, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	if err := unix.Flock(int(holder.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	err = l.Append(testRecord("a", 0))
	var we *WriteError
	if !errors.Is(err, ErrNotRecorded) || !errors.As(err, &we) || !strings.Contains(err.Error(), "waiting for the lock") {
		t.Fatalf("want a lock timeout write error, got %v", err)
	}
	if !strings.Contains(we.Hint(), "lock") {
		t.Errorf("hint does not mention the lock: %q", we.Hint())
	}
}

func TestAppendFollowsARotatedLog(t *testing.T) {
	path := t.TempDir() + "/audit.jsonl"
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Append(testRecord("a", 0))
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if err := l.Append(testRecord("a", 1)); err != nil {
		t.Fatal(err)
	}
	rep := verifyFile(t, path)
	if !rep.OK() || rep.Records != 1 {
		t.Fatalf("want the new file to hold one record from genesis, got %+v", rep)
	}
}
