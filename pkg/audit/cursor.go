package audit

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// cursor is where an [Exporter] is in its log: the byte offset after the
// last record the collector acknowledged, and that record's hash. A
// record at the offset that does not chain from Hash means the file was
// replaced (rotated): export starts again at its beginning.
type cursor struct {
	Log    string `json:"log"`
	Offset int64  `json:"offset"`
	Seq    int64  `json:"seq"`
	Hash   string `json:"hash"`
}

// lockCursor takes the cursor's lock without waiting and reads it. A nil
// cursor and no error: another process holds the lock (it is sending).
// A missing, unreadable or foreign cursor starts at the beginning of the
// log: records may then be sent twice, never skipped.
func lockCursor(path, log string) (*cursor, func(), error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, nil, fmt.Errorf("otlp cursor: %w", err)
	}
	lf, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("otlp cursor: %w", err)
	}
	if err := unix.Flock(int(lf.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		lf.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, nil, nil
		}
		return nil, nil, fmt.Errorf("otlp cursor: lock: %w", err)
	}
	c := &cursor{Log: log, Hash: Genesis}
	if b, err := os.ReadFile(path); err == nil {
		var saved cursor
		if json.Unmarshal(b, &saved) == nil && saved.Log == log && saved.Offset >= 0 && len(saved.Hash) == 64 {
			c = &saved
		}
	}
	return c, func() { lf.Close() }, nil
}

// save writes the cursor durably (a new file renamed over the old one).
func (c *cursor) save(path string) error {
	b, _ := json.Marshal(c)
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err == nil {
		_, err = f.Write(append(b, '\n'))
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return fmt.Errorf("otlp cursor %q: %w", path, err)
	}
	return nil
}

// pendingBatch is records read after a cursor, and the cursor after them.
type pendingBatch struct {
	recs  []*Record
	lines [][]byte
	next  cursor
}

// readAfter reads up to max complete records after c. When the record
// at c's offset does not chain from c.Hash (or the file is shorter), the
// log was replaced: c is reset to its beginning.
func readAfter(log string, c *cursor, max int) (*pendingBatch, error) {
	f, err := os.Open(log)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return &pendingBatch{next: *c}, nil
		}
		return nil, fmt.Errorf("otlp: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("otlp: %w", err)
	}
	if st.Size() < c.Offset {
		*c = cursor{Log: c.Log, Hash: Genesis}
	}
	b, err := scanFrom(f, c, max, st.Size())
	if err != nil {
		return nil, err
	}
	if len(b.recs) > 0 && b.recs[0].Prev != c.Hash && c.Offset > 0 {
		*c = cursor{Log: c.Log, Hash: Genesis}
		return scanFrom(f, c, max, st.Size())
	}
	return b, nil
}

// scanFrom reads up to limit records after c in f, whose size was size:
// its buffer is no bigger than what there is to read, so that reading
// the few records a command left costs no 256 KiB allocation.
func scanFrom(f *os.File, c *cursor, limit int, size int64) (*pendingBatch, error) {
	b := &pendingBatch{next: *c}
	br := bufio.NewReaderSize(io.NewSectionReader(f, c.Offset, 1<<62), int(min(256<<10, max(4096, size-c.Offset+1))))
	for len(b.recs) < limit {
		line, err := br.ReadBytes('\n')
		if len(line) == 0 || line[len(line)-1] != '\n' {
			break // EOF, or a line still being written
		}
		b.next.Offset += int64(len(line))
		line = line[:len(line)-1]
		var rec Record
		if json.Unmarshal(line, &rec) == nil && rec.V >= 1 {
			b.recs, b.lines = append(b.recs, &rec), append(b.lines, line)
			b.next.Seq, b.next.Hash = rec.Seq, hashLine(line)
		}
		if err != nil {
			break
		}
	}
	return b, nil
}

// countAfter counts the complete lines after c (what is still to send).
func countAfter(log string, c *cursor) (int, error) {
	f, err := os.Open(log)
	if err != nil {
		return 0, nil
	}
	defer f.Close()
	br := bufio.NewReaderSize(io.NewSectionReader(f, c.Offset, 1<<62), 256<<10)
	n := 0
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 && line[len(line)-1] == '\n' {
			n++
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return n, nil
		}
	}
}
