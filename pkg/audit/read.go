package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strings"
	"time"

	"github.com/agentctl/agentctl/pkg/classify"
)

// Filter selects requests for `agentctl audit log`. Zero fields match
// everything.
type Filter struct {
	Since    time.Time
	Agent    string
	Class    *classify.Class
	Decision string
}

// Match reports whether a decision or result record matches. Repair
// records match only an empty filter.
func (f Filter) Match(r *Record) bool {
	if r.Kind == KindRepair {
		return f.Since.IsZero() && f.Agent == "" && f.Class == nil && f.Decision == ""
	}
	return (f.Since.IsZero() || !r.Time.Before(f.Since)) &&
		(f.Agent == "" || r.Agent == f.Agent) &&
		(f.Class == nil || r.Class != nil && *r.Class == *f.Class) &&
		(f.Decision == "" || strings.EqualFold(r.Decision, f.Decision))
}

// Scan calls fn for every record in r, with its exact line. Lines that
// are not records (torn lines) are skipped; [Verify] reports them.
func Scan(r io.Reader, fn func(rec *Record, line []byte) error) error {
	br := bufio.NewReaderSize(r, 1<<20)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 && line[len(line)-1] == '\n' {
			var rec Record
			if json.Unmarshal(line[:len(line)-1], &rec) == nil && rec.V >= 1 {
				if ferr := fn(&rec, line[:len(line)-1]); ferr != nil {
					return ferr
				}
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// Entry is one request: its decision record and, once the command ended,
// its result record (nil until then, or when agentctl crashed).
type Entry struct {
	Decision, Result         *Record
	DecisionLine, ResultLine []byte
}

// Requests reads r and returns the requests whose decision record matches
// f, oldest first, each with its result.
func Requests(r io.Reader, f Filter) ([]Entry, error) {
	var out []Entry
	byID := map[string]int{}
	err := Scan(r, func(rec *Record, line []byte) error {
		switch rec.Kind {
		case KindDecision:
			if f.Match(rec) {
				byID[rec.ID] = len(out)
				out = append(out, Entry{Decision: rec, DecisionLine: line})
			}
		case KindResult:
			if i, ok := byID[rec.ID]; ok {
				out[i].Result, out[i].ResultLine = rec, line
			}
		}
		return nil
	})
	return out, err
}

// Follow calls fn for every complete record appended to the file at path
// after offset, polling every poll interval, until ctx is done (it then
// returns nil). When the file is replaced (rotated) or shrinks, it starts
// again from the beginning of the new file.
func Follow(ctx context.Context, path string, offset int64, poll time.Duration, fn func(rec *Record, line []byte) error) error {
	var (
		f       *os.File
		partial []byte
		buf     = make([]byte, 64<<10)
	)
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	for {
		cur, err := os.Stat(path)
		if err == nil && f != nil {
			st, serr := f.Stat()
			if serr != nil || !os.SameFile(cur, st) || cur.Size() < offset {
				f.Close()
				f, offset, partial = nil, 0, nil
			}
		}
		if f == nil && err == nil {
			if f, err = os.Open(path); err != nil {
				return err
			}
			if cur.Size() < offset {
				offset = 0
			}
		}
		for f != nil {
			n, rerr := f.ReadAt(buf, offset)
			offset += int64(n)
			partial = append(partial, buf[:n]...)
			for {
				i := bytes.IndexByte(partial, '\n')
				if i < 0 {
					break
				}
				var rec Record
				if json.Unmarshal(partial[:i], &rec) == nil && rec.V >= 1 {
					if err := fn(&rec, partial[:i]); err != nil {
						return err
					}
				}
				partial = partial[i+1:]
			}
			if rerr != nil || n == 0 {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(poll):
		}
	}
}

// Command is the record's command line as a user would type it (with
// secrets masked), for tables.
func (r *Record) Command() string {
	parts := []string{r.Tool}
	for _, a := range r.Args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`|&;<>(){}*?[]#~") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}
