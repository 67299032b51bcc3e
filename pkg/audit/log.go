package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Options configure a [Log].
type Options struct {
	// LockTimeout bounds the wait for the file lock (0: 10 seconds).
	LockTimeout time.Duration
	// Sinks receive every record after it is in the file.
	Sinks []Sink
	// Warn receives events the user must hear of that do not stop the
	// write: a repaired torn line, a failed optional sink. Nil drops them
	// (the repair itself is always in the log).
	Warn func(msg string)
}

// Log appends records to one audit log file. It is safe for concurrent
// use; many processes may append to the same file.
type Log struct {
	path string
	opts Options

	mu sync.Mutex
	f  *os.File
	// What this process last wrote: when the file still has that size,
	// nobody else wrote since and the tail need not be read again.
	size     int64
	lastHash string
	lastSeq  int64
	cached   bool

	// crashAfter, when positive, makes the next append write that many
	// bytes and then SIGKILL its own process (tests of torn writes).
	crashAfter int
}

// Open opens (creating when needed) the log at path. A missing directory
// is created with mode 0700 and a missing file with mode 0600; existing
// ones keep their modes. Errors are *[WriteError]s: a log that cannot be
// opened cannot be written, and the command must not run.
func Open(path string, opts Options) (*Log, error) {
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = 10 * time.Second
	}
	l := &Log{path: path, opts: opts}
	if err := l.open(); err != nil {
		return nil, err
	}
	return l, nil
}

// Path returns the log file's path.
func (l *Log) Path() string { return l.path }

func (l *Log) open() error {
	dir := filepath.Dir(l.path)
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return &WriteError{Path: l.path, Err: err}
		}
		if err := os.Chmod(dir, 0o700); err != nil { // not subject to umask
			return &WriteError{Path: l.path, Err: err}
		}
	}
	f, err := os.OpenFile(l.path, os.O_RDWR|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		// Created: make the mode exact and the directory entry durable.
		if err := f.Chmod(0o600); err != nil {
			f.Close()
			return &WriteError{Path: l.path, Err: err}
		}
		if d, err := os.Open(dir); err == nil {
			d.Sync()
			d.Close()
		}
	} else if errors.Is(err, os.ErrExist) {
		f, err = os.OpenFile(l.path, os.O_RDWR|os.O_APPEND, 0)
	}
	if err != nil {
		return &WriteError{Path: l.path, Err: err}
	}
	if l.f != nil {
		l.f.Close()
	}
	l.f, l.cached = f, false
	return nil
}

// Close closes the file.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

// Append writes rec durably: under an exclusive lock (bounded by
// Options.LockTimeout) it repairs a torn tail if there is one, sets
// rec.V, rec.Seq and rec.Prev, writes the line and fsyncs it, then hands
// the line to the sinks. When Append returns nil the record is on disk.
//
// This is the call the pipeline makes with the decision record before it
// runs a command: on any error (errors.Is(err, [ErrNotRecorded])), the
// command must not run.
func (l *Log) Append(rec *Record) error {
	return l.AppendAll([]*Record{rec})
}

// AppendAll writes recs in order under one lock and one fsync.
func (l *Log) AppendAll(recs []*Record) error {
	recs, lines, err := l.write(recs) // recs gains a repair record when one was needed
	if err != nil {
		return err
	}
	return l.send(recs, lines)
}

func (l *Log) write(recs []*Record) ([]*Record, [][]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	werr := func(err error) error { return &WriteError{Path: l.path, Err: err} }
	if l.f == nil {
		return nil, nil, werr(os.ErrClosed)
	}
	if err := l.reopenIfMoved(); err != nil {
		return nil, nil, err
	}
	fd := int(l.f.Fd())
	if err := lockFile(fd, l.opts.LockTimeout); err != nil {
		return nil, nil, werr(err)
	}
	defer unix.Flock(fd, unix.LOCK_UN)

	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, nil, werr(err)
	}
	var buf []byte
	if !l.cached || st.Size != l.size {
		t, err := scanTail(l.f, st.Size)
		if err != nil {
			return nil, nil, werr(err)
		}
		l.lastHash, l.lastSeq = t.prev, t.seq
		if t.needNewline {
			buf = append(buf, '\n')
		}
		if len(t.torn) > 0 {
			rep := repairRecord(t.torn)
			recs = append([]*Record{rep}, recs...)
			l.warn(fmt.Sprintf("audit log %q: found %d torn line(s) at the end (a writer crashed mid-write); recorded a repair and chained from the last complete record", l.path, len(t.torn)))
		}
	}
	prev, seq := l.lastHash, l.lastSeq
	lines := make([][]byte, 0, len(recs))
	for _, r := range recs {
		seq++
		r.V, r.Seq, r.Prev = Version, seq, prev
		if r.Args != nil {
			r.Args = MaskArgs(r.Tool, r.Args) // idempotent; a caller may have forgotten
		}
		if r.Target != nil && (r.Target.Server != "" || r.Target.ProxyURL != "") {
			t := *r.Target
			t.Server, t.ProxyURL = maskWord(t.Server), maskWord(t.ProxyURL)
			r.Target = &t
		}
		line, err := json.Marshal(r)
		if err != nil {
			return nil, nil, werr(err)
		}
		prev = hashLine(line)
		lines = append(lines, line)
		buf = append(append(buf, line...), '\n')
	}
	if l.crashAfter > 0 {
		l.f.Write(buf[:min(l.crashAfter, len(buf))])
		unix.Kill(os.Getpid(), unix.SIGKILL)
		select {}
	}
	if _, err := l.f.Write(buf); err != nil {
		l.f.Truncate(st.Size) // best effort: leave no torn line behind
		l.cached = false
		return nil, nil, werr(err)
	}
	if err := datasync(fd); err != nil {
		l.f.Truncate(st.Size)
		l.cached = false
		return nil, nil, werr(fmt.Errorf("fsync: %w", err))
	}
	l.size, l.lastHash, l.lastSeq, l.cached = st.Size+int64(len(buf)), prev, seq, true
	return recs, lines, nil
}

// reopenIfMoved reopens the path when the file was renamed or removed
// (log rotation), so records never go to an unlinked file.
func (l *Log) reopenIfMoved() error {
	cur, err1 := os.Stat(l.path)
	open, err2 := l.f.Stat()
	if err1 == nil && err2 == nil && os.SameFile(cur, open) {
		return nil
	}
	return l.open()
}

func (l *Log) send(recs []*Record, lines [][]byte) error {
	for _, s := range l.opts.Sinks {
		for i, line := range lines {
			if err := s.Send(recs[i], line); err != nil {
				serr := &SinkError{Sink: s.String(), Err: err}
				if s.Required() {
					return serr
				}
				l.warn(serr.Error())
				break
			}
		}
	}
	return nil
}

func (l *Log) warn(msg string) {
	if l.opts.Warn != nil {
		l.opts.Warn(msg)
	}
}

func repairRecord(torn [][]byte) *Record {
	p := Self()
	r := &Record{
		Kind: KindRepair, Time: time.Now(),
		User: p.User, UID: p.UID, PID: p.PID, PPID: p.PPID, Parent: p.Parent,
		Note: "skipped torn line(s) left by a writer that crashed mid-write; chained from the last complete record",
	}
	for _, t := range torn {
		r.Torn = append(r.Torn, Torn{Bytes: len(t), SHA256: hashLine(t)})
	}
	return r
}

func hashLine(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func lockFile(fd int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	wait := 20 * time.Microsecond
	for {
		err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
		switch {
		case err == nil:
			return nil
		case err != unix.EWOULDBLOCK && err != unix.EINTR:
			return fmt.Errorf("lock: %w", err)
		case time.Now().After(deadline):
			return &LockTimeoutError{After: timeout}
		}
		time.Sleep(wait)
		wait = min(wait*2, 2*time.Millisecond)
	}
}
