package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Problem names what [Verify] found wrong with a log.
type Problem string

// The problems. Edited, Deleted, Inserted and Reordered are diagnoses from
// the seq numbers around the break; the line named is exact, the kind is
// the most likely explanation.
const (
	Edited    Problem = "edited"
	Deleted   Problem = "deleted"
	Inserted  Problem = "inserted"
	Reordered Problem = "reordered"
	Corrupt   Problem = "corrupt"    // a line that is not a record, with no repair after it
	BadRepair Problem = "bad repair" // a repair record that does not match the lines before it
)

// Break is the first place where the chain does not hold.
type Break struct {
	Line    int     `json:"line"` // the record the problem is pinned on, counting from 1
	Problem Problem `json:"problem"`
	Msg     string  `json:"message"`
}

func (b *Break) Error() string { return b.Msg }

// TornTail is a last line without its newline: a writer crashed mid-write
// (or the file was truncated). The next append repairs it.
type TornTail struct {
	Line  int `json:"line"`  // the first torn line
	Lines int `json:"lines"` // how many lines are torn (more than one after a crash during a repair)
	Bytes int `json:"bytes"`
}

// Repaired is a repair record and the torn lines it accounts for.
type Repaired struct {
	Line int   `json:"line"` // the repair record
	Torn []int `json:"torn"` // the torn lines it skips
}

// Unfinished is a decision to run a command (allow, sandbox, or an
// approved approve) that no result record follows: the command is still
// running, or agentctl died (was killed) before it could record the
// result. The log cannot tell which; a command whose agentctl died was
// killed with it (see docs/audit.md).
type Unfinished struct {
	Line int    `json:"line"` // the decision record, counting from 1
	ID   string `json:"id"`   // its request id
	Time string `json:"time"` // its time, as recorded
}

// Report is the outcome of [Verify].
type Report struct {
	Lines    int        `json:"lines"`
	Records  int        `json:"records"` // complete records, repairs included
	Repairs  []Repaired `json:"repairs,omitempty"`
	Broken   *Break     `json:"broken,omitempty"`
	TornTail *TornTail  `json:"tornTail,omitempty"`
	// Unfinished lists, in log order, the decisions of the intact part of
	// the chain that no result follows. They do not make the report
	// fail: the chain holds.
	Unfinished []Unfinished `json:"unfinished,omitempty"`
}

// OK reports whether the whole chain holds and the file ends cleanly.
// Unfinished decisions do not count against it.
func (r *Report) OK() bool { return r.Broken == nil && r.TornTail == nil }

// maxWindow is how many lines after a break Verify reads to tell a
// repaired crash from tampering and to refine the diagnosis.
const maxWindow = 16

type seenLine struct {
	no        int
	bytes     int
	hash      string
	h         header
	complete  bool
	confirmed bool
}

// Verify reads a whole log and checks its hash chain: every record's prev
// must be the SHA-256 of the previous record's exact bytes (Genesis for
// the first), and seq must count up by one. Torn lines are accepted only
// when a repair record right after them names them. The error is for
// reading failures; what is wrong with the log is in the report.
//
// Verify also pairs decisions with results by request id and lists the
// decisions to run something that no result follows ([Report.Unfinished]).
func Verify(r io.Reader) (Report, error) {
	v := verifier{anchor: seenLine{hash: Genesis, confirmed: true}, open: map[string]int{}}
	br := bufio.NewReaderSize(r, 1<<20)
	var long []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long, chunk...)
			continue
		}
		line := chunk
		if long != nil {
			line = append(long, chunk...)
			long = nil
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return v.rep, err
		}
		if len(line) > 0 {
			terminated := line[len(line)-1] == '\n'
			if terminated {
				line = line[:len(line)-1]
			}
			v.add(line, terminated)
			if v.rep.Broken != nil {
				return v.rep, nil
			}
		}
		if err != nil {
			break
		}
	}
	v.finish()
	return v.rep, nil
}

type verifier struct {
	rep     Report
	anchor  seenLine   // the last confirmed record
	recent  []seenLine // the last lines, for repairs and diagnoses
	window  []seenLine // lines after the anchor that do not chain (yet)
	pending *Break     // diagnosis of window[0]
	lastRaw struct {
		terminated bool
		bytes      int
	}
	// open maps the request id of each decision to run something that no
	// result has followed yet to its index in rep.Unfinished.
	open map[string]int
}

func (v *verifier) add(line []byte, terminated bool) {
	v.rep.Lines++
	s := seenLine{no: v.rep.Lines, bytes: len(line), hash: hashLine(line)}
	s.h, s.complete = parseHeader(line)
	v.lastRaw.terminated, v.lastRaw.bytes = terminated, len(line)
	switch {
	case s.complete && s.h.Kind == KindRepair && len(s.h.Torn) > 0 && v.covers(s):
		v.rep.Repairs = append(v.rep.Repairs, Repaired{Line: s.no, Torn: lineRange(s.no-len(s.h.Torn), s.no)})
		v.window, v.pending = nil, nil
		v.confirm(s)
	case s.complete && s.h.Kind != KindRepair && len(v.window) == 0 &&
		s.h.Prev == v.anchor.hash && s.h.Seq == v.anchor.h.Seq+1:
		v.confirm(s)
		v.pair(s, line)
	default:
		if len(v.window) == 0 {
			v.pending = v.diagnose(s)
		} else if len(v.window) == 1 {
			v.refine(v.window[0], s)
		}
		v.window = append(v.window, s)
		v.remember(s)
		if len(v.window) > maxWindow {
			v.rep.Broken = v.pending
		}
	}
}

func (v *verifier) confirm(s seenLine) {
	s.confirmed = true
	v.anchor = s
	v.rep.Records++
	v.remember(s)
}

func (v *verifier) remember(s seenLine) {
	if len(v.recent) == maxWindow+2 {
		copy(v.recent, v.recent[1:])
		v.recent = v.recent[:len(v.recent)-1]
	}
	v.recent = append(v.recent, s)
}

// covers checks a repair record: the lines right before it must be the
// torn lines it names, and it must chain from the confirmed record before
// them (or from Genesis at the start of the file).
func (v *verifier) covers(s seenLine) bool {
	t := len(s.h.Torn)
	if t > len(v.recent) {
		return false
	}
	torn := v.recent[len(v.recent)-t:]
	for i, l := range torn {
		if l.hash != s.h.Torn[i].SHA256 {
			return false
		}
	}
	before := seenLine{hash: Genesis, confirmed: true}
	if torn[0].no > 1 {
		i := len(v.recent) - t - 1
		if i < 0 {
			return false
		}
		before = v.recent[i]
	}
	return before.confirmed && s.h.Prev == before.hash && s.h.Seq == before.h.Seq+1
}

func (v *verifier) diagnose(s seenLine) *Break {
	n, a := s.no, v.anchor
	b := func(line int, p Problem, format string, args ...any) *Break {
		return &Break{Line: line, Problem: p, Msg: fmt.Sprintf(format, args...)}
	}
	switch {
	case !s.complete:
		return b(n, Corrupt, "line %d is not a complete record and no repair record follows it", n)
	case s.h.Kind == KindRepair:
		return b(n, BadRepair, "bad repair at line %d: the torn lines it names are not the lines before it", n)
	case s.h.Prev == a.hash:
		return b(n, Edited, "seq mismatch at line %d: seq %d follows seq %d", n, s.h.Seq, a.h.Seq)
	case n == 1:
		if s.h.Seq > 1 {
			return b(1, Deleted, "hash mismatch at line 1: prev does not match the genesis value (seq starts at %d: records deleted from the start)", s.h.Seq)
		}
		return b(1, Edited, "hash mismatch at line 1: prev does not match the genesis value (line 1 was changed)")
	case s.h.Seq == a.h.Seq+1:
		return b(n-1, Edited, "line %d was edited: hash mismatch at line %d: prev does not match line %d", n-1, n, n-1)
	case s.h.Seq > a.h.Seq+1:
		return b(n, Deleted, "record(s) deleted before line %d: hash mismatch at line %d: prev does not match line %d (seq jumps from %d to %d)", n, n, n-1, a.h.Seq, s.h.Seq)
	case s.h.Prev == a.h.Prev:
		return b(n-1, Inserted, "line %d was inserted: hash mismatch at line %d: prev does not match line %d (it chains from line %d)", n-1, n, n-1, n-2)
	}
	return b(n, Reordered, "line %d is out of order: hash mismatch at line %d: prev does not match line %d (seq %d after %d)", n, n, n-1, s.h.Seq, a.h.Seq)
}

// refine looks at the line after a break: if it chains from the anchor,
// the line between was inserted, or swapped with it.
func (v *verifier) refine(first, next seenLine) {
	a := v.anchor
	if !next.complete || next.h.Prev != a.hash || next.h.Seq != a.h.Seq+1 {
		return
	}
	n := first.no
	if !first.complete {
		v.pending.Msg += fmt.Sprintf(" (line %d chains from line %d: line %d was inserted)", n+1, n-1, n)
		return
	}
	if first.h.Prev == next.hash {
		v.pending = &Break{Line: n, Problem: Reordered, Msg: fmt.Sprintf(
			"lines %d and %d are swapped: hash mismatch at line %d: prev does not match line %d", n, n+1, n, n-1)}
		return
	}
	v.pending = &Break{Line: n, Problem: Inserted, Msg: fmt.Sprintf(
		"line %d was inserted: hash mismatch at line %d: prev does not match line %d (line %d chains from line %d)", n, n, n-1, n+1, n-1)}
}

func (v *verifier) finish() {
	v.compact()
	if len(v.window) == 0 && v.lastRaw.terminated {
		return
	}
	// Lines at the end that are not records are what crashed writers
	// left behind (a crash during a repair leaves two); the next append
	// repairs them all.
	allTorn := true
	for _, l := range v.window {
		allTorn = allTorn && !l.complete
	}
	if allTorn {
		t := &TornTail{Line: v.rep.Lines, Lines: 1, Bytes: v.lastRaw.bytes}
		if len(v.window) > 0 {
			t.Line, t.Lines, t.Bytes = v.window[0].no, len(v.window), 0
			for _, l := range v.window {
				t.Bytes += l.bytes
			}
		}
		v.rep.TornTail = t
		return
	}
	v.rep.Broken = v.pending
	v.compact()
	if !v.lastRaw.terminated {
		v.rep.TornTail = &TornTail{Line: v.rep.Lines, Lines: 1, Bytes: v.lastRaw.bytes}
	}
}

func lineRange(from, to int) []int {
	var r []int
	for i := from; i < to; i++ {
		r = append(r, i)
	}
	return r
}

// pair tracks a confirmed decision or result: a decision to run
// something opens its request id, a result closes it.
func (v *verifier) pair(s seenLine, line []byte) {
	switch s.h.Kind {
	case KindDecision:
		id, decision, time := requestFields(line)
		if id == "" || decision == "deny" {
			return // a refusal has no result
		}
		v.open[id] = len(v.rep.Unfinished)
		v.rep.Unfinished = append(v.rep.Unfinished, Unfinished{Line: s.no, ID: id, Time: time})
	case KindResult:
		id, _, _ := requestFields(line)
		if i, ok := v.open[id]; ok {
			v.rep.Unfinished[i].Line = 0 // finished; dropped by compact
			delete(v.open, id)
		}
	}
}

// compact drops the finished entries from rep.Unfinished.
func (v *verifier) compact() {
	out := v.rep.Unfinished[:0]
	for _, u := range v.rep.Unfinished {
		if u.Line != 0 {
			out = append(out, u)
		}
	}
	if len(out) == 0 {
		out = nil
	}
	v.rep.Unfinished = out
}

// requestFields reads a record's request id, decision and time. They are
// top-level string fields, and no nested object of a record has keys of
// those names, so the first occurrence of each key is the record's own
// (a key inside a string value would have its quotes escaped). Values
// with escapes are decoded properly.
func requestFields(line []byte) (id, decision, time string) {
	field := func(key string) string {
		k := []byte(`"` + key + `":"`)
		i := bytes.Index(line, k)
		if i < 0 {
			return ""
		}
		rest := line[i+len(k):]
		j := bytes.IndexByte(rest, '"')
		if j < 0 {
			return ""
		}
		if bytes.IndexByte(rest[:j], '\\') < 0 {
			return string(rest[:j])
		}
		var r struct {
			ID       string `json:"id"`
			Decision string `json:"decision"`
			Time     string `json:"time"`
		}
		json.Unmarshal(line, &r)
		return map[string]string{"id": r.ID, "decision": r.Decision, "time": r.Time}[key]
	}
	return field("id"), field("decision"), field("time")
}
