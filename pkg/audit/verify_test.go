package audit

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestVerifyNamesTheFirstBrokenRecord(t *testing.T) {
	clean := writeLog(t, 100)
	orig, err := os.ReadFile(clean)
	if err != nil {
		t.Fatal(err)
	}
	lines := func() [][]byte { // 0-based; line N of the file is lines[N-1]
		return bytes.SplitAfter(bytes.Clone(orig), []byte("\n"))[:100]
	}
	join := func(ls [][]byte) []byte { return bytes.Join(ls, nil) }
	tests := []struct {
		name    string
		tamper  func() []byte
		line    int
		problem Problem
		msg     string
	}{
		{"edit line 50", func() []byte {
			ls := lines()
			ls[49] = bytes.Replace(ls[49], []byte(`"approver":"alice"`), []byte(`"approver":"mallory"`), 1)
			return join(ls)
		}, 50, Edited, "hash mismatch at line 51: prev does not match line 50"},
		{"delete line 50", func() []byte {
			ls := lines()
			return join(append(ls[:49:49], ls[50:]...))
		}, 50, Deleted, "hash mismatch at line 50: prev does not match line 49"},
		{"insert a copy of line 10 at line 50", func() []byte {
			ls := lines()
			return join(append(append(ls[:49:49], ls[9]), ls[49:]...))
		}, 50, Inserted, "line 50 was inserted"},
		{"insert a forged record that chains from line 49", func() []byte {
			ls := lines()
			forged := bytes.Replace(ls[48], []byte(`"approver":"alice"`), []byte(`"approver":"bob"`), 1)
			forged = bytes.Replace(forged, []byte(`"seq":49,"prev":"`+string(headerOf(t, ls[48]).Prev)),
				[]byte(`"seq":50,"prev":"`+hashLine(bytes.TrimSuffix(ls[48], []byte("\n")))), 1)
			return join(append(append(ls[:49:49], forged), ls[49:]...))
		}, 50, Inserted, "hash mismatch at line 51: prev does not match line 50"},
		{"swap lines 50 and 51", func() []byte {
			ls := lines()
			ls[49], ls[50] = ls[50], ls[49]
			return join(ls)
		}, 50, Reordered, "lines 50 and 51 are swapped"},
		{"delete the first line", func() []byte {
			return join(lines()[1:])
		}, 1, Deleted, "prev does not match the genesis value"},
		{"garbage line inserted at line 30", func() []byte {
			ls := lines()
			return join(append(append(ls[:29:29], []byte("not json\n")), ls[29:]...))
		}, 30, Corrupt, "line 30 is not a complete record"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := Verify(bytes.NewReader(tc.tamper()))
			if err != nil {
				t.Fatal(err)
			}
			if rep.Broken == nil {
				t.Fatalf("verify found no break; report %+v", rep)
			}
			if rep.Broken.Line != tc.line || rep.Broken.Problem != tc.problem || !strings.Contains(rep.Broken.Msg, tc.msg) {
				t.Errorf("got line %d %s %q\nwant line %d %s containing %q",
					rep.Broken.Line, rep.Broken.Problem, rep.Broken.Msg, tc.line, tc.problem, tc.msg)
			}
		})
	}
}

func headerOf(t *testing.T, line []byte) header {
	h, ok := parseHeader(bytes.TrimSuffix(line, []byte("\n")))
	if !ok {
		t.Fatalf("not a record: %s", line)
	}
	return h
}

func TestVerifyTruncatedMidRecordIsATornTail(t *testing.T) {
	path := writeLog(t, 100)
	b, _ := os.ReadFile(path)
	ls := bytes.SplitAfter(b, []byte("\n"))
	cut := len(bytes.Join(ls[:69], nil)) + 40 // 40 bytes into line 70
	rep, err := Verify(bytes.NewReader(b[:cut]))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Broken != nil || rep.TornTail == nil || rep.TornTail.Line != 70 || rep.TornTail.Bytes != 40 {
		t.Fatalf("want a torn tail at line 70 of 40 bytes, got broken=%+v torn=%+v", rep.Broken, rep.TornTail)
	}
	if rep.OK() {
		t.Error("a log with a torn tail must not verify as OK")
	}
}

func TestVerifyClean100kLog(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 100k records")
	}
	rep := verifyFile(t, writeLog(t, 100_000))
	if !rep.OK() || rep.Records != 100_000 {
		t.Fatalf("want 100000 good records, got %+v broken=%v", rep.Records, rep.Broken)
	}
}

func TestVerifyListsDecisionsWithoutAResult(t *testing.T) {
	path := t.TempDir() + "/audit.jsonl"
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	decision := func(agent, decision string) *Record {
		r := testRecord(agent, 1)
		r.Decision = decision
		return r
	}
	finished := decision("finished", "approve")   // line 1, result on line 2
	denied := decision("denied", "deny")          // line 3: a refusal has no result
	killed := decision("killed", "approve")       // line 4: agentctl was killed while it ran
	sandboxed := decision("sandboxed", "sandbox") // line 5, result on line 7
	running := decision("running", "allow")       // line 6: still running
	escaped := decision("escaped", "allow")       // line 8: an id the writer had to escape
	escaped.ID = `a"b`
	result := func(d *Record) *Record {
		r := NewResult(d, d.Time)
		r.SetExit(0)
		return r
	}
	for _, r := range []*Record{finished, result(finished), denied, killed, sandboxed, running, result(sandboxed), escaped} {
		if err := l.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()

	rep := verifyFile(t, path)
	if !rep.OK() {
		t.Fatalf("the chain holds; got broken=%+v torn=%+v", rep.Broken, rep.TornTail)
	}
	var got []string
	for _, u := range rep.Unfinished {
		got = append(got, strconv.Itoa(u.Line)+" "+u.ID)
		if u.Time == "" {
			t.Errorf("unfinished line %d has no time", u.Line)
		}
	}
	want := []string{"4 " + killed.ID, "6 " + running.ID, `8 a"b`}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("unfinished: got %q, want %q", got, want)
	}
}

func TestVerifyCleanLogHasNothingUnfinished(t *testing.T) {
	path := t.TempDir() + "/audit.jsonl"
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		d := testRecord("agent", i)
		r := NewResult(d, d.Time)
		r.SetExit(0)
		if err := l.AppendAll([]*Record{d, r}); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	if rep := verifyFile(t, path); !rep.OK() || rep.Unfinished != nil {
		t.Fatalf("want an intact log with nothing unfinished, got %+v", rep)
	}
}
