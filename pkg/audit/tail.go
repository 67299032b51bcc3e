package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
)

// header is the part of a record the chain needs.
type header struct {
	V    int    `json:"v"`
	Seq  int64  `json:"seq"`
	Prev string `json:"prev"`
	Kind Kind   `json:"kind"`
	Torn []Torn `json:"torn"`
}

var fastPrefix = []byte(`{"v":`)

// parseHeader says whether line is a complete record and returns its
// chain fields. The writer puts v, seq, prev and kind first; lines in
// that shape are read without a full decode (records are still checked
// to be valid JSON).
func parseHeader(line []byte) (header, bool) {
	var h header
	if !json.Valid(line) {
		return h, false
	}
	if fast(line, &h) {
		return h, true
	}
	h = header{}
	if json.Unmarshal(line, &h) != nil || h.V < 1 || h.Seq < 1 || !isHash(h.Prev) || h.Kind == "" {
		return h, false
	}
	return h, true
}

func fast(line []byte, h *header) bool {
	rest, ok := bytes.CutPrefix(line, fastPrefix)
	if !ok {
		return false
	}
	v, rest, ok := number(rest)
	if !ok || v < 1 {
		return false
	}
	if rest, ok = bytes.CutPrefix(rest, []byte(`,"seq":`)); !ok {
		return false
	}
	seq, rest, ok := number(rest)
	if !ok || seq < 1 {
		return false
	}
	if rest, ok = bytes.CutPrefix(rest, []byte(`,"prev":"`)); !ok || len(rest) < 65 || rest[64] != '"' {
		return false
	}
	prev := string(rest[:64])
	if !isHash(prev) {
		return false
	}
	rest = rest[65:]
	if rest, ok = bytes.CutPrefix(rest, []byte(`,"kind":"`)); !ok {
		return false
	}
	i := bytes.IndexByte(rest, '"')
	if i <= 0 {
		return false
	}
	h.V, h.Seq, h.Prev, h.Kind = int(v), seq, prev, Kind(rest[:i])
	if h.Kind == KindRepair { // rare: decode the torn list
		var full header
		if json.Unmarshal(line, &full) != nil {
			return false
		}
		h.Torn = full.Torn
	}
	return true
}

func number(b []byte) (int64, []byte, bool) {
	i := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	n, err := strconv.ParseInt(string(b[:i]), 10, 64)
	return n, b[i:], err == nil
}

func isHash(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// maxTailScan bounds how far back a writer looks for the last complete
// record before giving up (and refusing to write).
const maxTailScan = 16 << 20

// tail is what a writer needs to know about the end of the file.
type tail struct {
	prev        string   // hash of the last complete record, or Genesis
	seq         int64    // its seq, or 0
	torn        [][]byte // lines after it that are not complete records
	needNewline bool     // the file does not end in a newline
}

// scanTail reads the file backwards from size to the last complete,
// newline-terminated record. Lines after it (an unterminated last line,
// lines that are not records) are torn.
func scanTail(f *os.File, size int64) (tail, error) {
	t := tail{prev: Genesis}
	if size == 0 {
		return t, nil
	}
	for chunk := int64(8 << 10); ; chunk *= 4 {
		off := max(0, size-chunk)
		buf := make([]byte, size-off)
		if _, err := f.ReadAt(buf, off); err != nil {
			return t, fmt.Errorf("read the end of the log: %w", err)
		}
		t.needNewline = buf[len(buf)-1] != '\n'
		end := len(buf)
		if !t.needNewline {
			end--
		}
		t.torn = t.torn[:0]
		for pos := end; ; {
			i := bytes.LastIndexByte(buf[:pos], '\n')
			if i < 0 && off > 0 {
				break // the line may start before buf: read more
			}
			line := buf[i+1 : pos]
			unterminated := pos == len(buf)
			if h, ok := parseHeader(line); ok && !unterminated {
				t.prev, t.seq = hashLine(line), h.Seq
				reverse(t.torn)
				return t, nil
			}
			t.torn = append(t.torn, line)
			if i < 0 { // start of file: no complete record at all
				reverse(t.torn)
				return t, nil
			}
			pos = i
		}
		if size-off >= maxTailScan {
			return t, fmt.Errorf("no complete record in the last %d MiB of the log; run `agentctl audit verify`", maxTailScan>>20)
		}
	}
}

func reverse(s [][]byte) {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
}
