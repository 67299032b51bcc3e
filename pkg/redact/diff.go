package redact

import (
	"bytes"
	"strconv"
	"strings"
)

// Unified diff output (kubectl diff runs `diff -u -N LIVE MERGED`): each
// file starts with a "diff ..." line and its "---"/"+++" headers, each hunk
// with "@@ -a,b +c,d @@", and each content line carries a one-character
// prefix (' ', '-', '+'). The prefix is taken off before the YAML
// structure is followed and put back on output, and the object's kind
// comes from the file name, which kubectl writes as
// [group.]version.Kind.namespace.name. A hunk may start anywhere in the
// object, so the kind cannot be read from the hunk's lines.
//
// For a Secret, and for a file whose kind cannot be told, every value
// under data or stringData is redacted, on each side of the diff
// separately (a removed line may close a block the added lines go on
// with), and so is every indented line before the hunk's first top-level
// key (its parent is unknown). kubectl's own masks ('***', '*** (before)',
// '*** (after)') are kept: they say what changed and reveal nothing.

type diffPhase uint8

const (
	diffOff     diffPhase = iota
	diffOld               // after "diff ...": "--- " expected
	diffNew               // after "--- ": "+++ " expected
	diffBetween           // after "+++ " or a finished hunk: "@@", "diff" or the end
	diffHunk              // inside a hunk
)

// diffState is where the redactor is in a unified diff.
type diffState struct {
	phase   diffPhase
	names   []string // the file's names, from its header lines
	redact  bool     // the file is a Secret or of unknown kind
	kind    string
	old, nw int     // lines of each side left in the hunk
	sides   [2]side // structure of the old and the new file
}

// side follows the top-level keys of one side of a diff.
type side struct {
	top      string // the current top-level key, "" before one shows
	seen     bool
	entryCol int // column of the data block's entries, -1 until seen
}

var (
	diffCmd   = []byte("diff ")
	diffOldH  = []byte("--- ")
	diffNewH  = []byte("+++ ")
	diffHunkH = []byte("@@ -")
)

// diffLine handles l as part of a unified diff; it reports whether it did.
func (s *state) diffLine(l []byte, nl bool) bool {
	d := &s.diff
	if bytes.HasPrefix(l, diffCmd) {
		if d.phase >= diffBetween {
			s.diffFile()
		}
		d.phase = diffOld
		d.names = append(d.names[:0], lastField(l))
		s.emit(l, nl, nil, rolePlain)
		return true
	}
	switch d.phase {
	case diffOff:
		return false
	case diffOld:
		if bytes.HasPrefix(l, diffOldH) {
			d.phase = diffNew
			d.names = append(d.names, headerPath(l))
			s.emit(l, nl, nil, rolePlain)
			return true
		}
	case diffNew:
		if bytes.HasPrefix(l, diffNewH) {
			d.phase = diffBetween
			d.names = append(d.names, headerPath(l))
			s.diffFile()
			d.kind, d.redact = diffKind(d.names)
			s.emit(l, nl, nil, rolePlain)
			return true
		}
	case diffBetween:
		if old, nw, ok := hunkHeader(l); ok {
			s.diffHunk(old, nw)
			s.emit(l, nl, nil, rolePlain)
			return true
		}
	case diffHunk:
		return s.diffContent(l, nl)
	}
	// Not a diff after all, or the diff ended: back to plain output.
	if d.phase >= diffBetween {
		s.diffFile()
	}
	d.phase = diffOff
	return false
}

// diffFile ends the current file: what waits for a kind is redacted.
func (s *state) diffFile() {
	s.active = nil
	s.endMappings(-1)
	s.maps = s.maps[:0]
	s.diff.kind, s.diff.redact = "", false
}

// diffHunk starts a hunk: the structure is unknown again, except that the
// top-level mapping is of the file's kind.
func (s *state) diffHunk(old, nw int) {
	d := &s.diff
	s.active = nil
	s.endMappings(-1)
	// The top-level mapping's data is the diff's to redact (Secret,
	// unknown) or plain (other kinds); nested objects keep the usual rules.
	kind := d.kind
	if d.redact {
		kind = "(diff)"
	}
	s.maps = append(s.maps[:0], mapping{col: 0, kind: kind, locked: true})
	d.phase, d.old, d.nw = diffHunk, old, nw
	d.sides = [2]side{{entryCol: -1}, {entryCol: -1}}
	if old == 0 && nw == 0 {
		d.phase = diffBetween
	}
}

// diffContent handles one line of a hunk.
func (s *state) diffContent(l []byte, nl bool) bool {
	d := &s.diff
	var onOld, onNew bool
	p := byte(' ')
	if len(l) > 0 {
		p = l[0]
	}
	switch p {
	case ' ':
		onOld, onNew = true, true
	case '-':
		onOld = true
	case '+':
		onNew = true
	case '\\': // "\ No newline at end of file"
		s.emit(l, nl, nil, rolePlain)
		return true
	default:
		s.diffFile()
		d.phase = diffOff
		return false
	}
	if !s.diffCount(p) {
		// More lines than the header said: not this hunk's.
		s.diffFile()
		d.phase = diffOff
		return false
	}
	content := l
	if len(l) > 0 {
		content = l[1:]
	}
	if d.redact {
		content = s.diffSecretLine(content, onOld, onNew)
	}
	s.pfx = l[:min(len(l), 1)]
	s.yamlLine(content, nl)
	s.pfx = nil
	if d.old == 0 && d.nw == 0 {
		d.phase = diffBetween
	}
	return true
}

// diffCount counts a hunk line with prefix p against the hunk's header;
// it reports false when the hunk has no room for it.
func (s *state) diffCount(p byte) bool {
	d := &s.diff
	old, nw := d.old, d.nw
	switch p {
	case ' ':
		old, nw = old-1, nw-1
	case '-':
		old--
	case '+':
		nw--
	default:
		return false
	}
	if old < 0 || nw < 0 {
		return false
	}
	d.old, d.nw = old, nw
	return true
}

// diffSecretLine redacts a content line of a Secret (or an object of
// unknown kind) that may hold a value of its data: indented below data or
// stringData on a side the line belongs to, or below an unknown parent.
func (s *state) diffSecretLine(c []byte, onOld, onNew bool) []byte {
	d := &s.diff
	indent := spaces(c)
	rest := trimCR(c[indent:])
	if len(rest) == 0 {
		return c
	}
	var sides []*side
	if onOld {
		sides = append(sides, &d.sides[0])
	}
	if onNew {
		sides = append(sides, &d.sides[1])
	}
	if indent == 0 {
		top := ""
		if k, ok := parseKey(c, 0); ok {
			top = string(k.key)
		}
		for _, sd := range sides {
			sd.top, sd.seen, sd.entryCol = top, true, -1
		}
		return c
	}
	unknown, inData, entry := false, false, true
	for _, sd := range sides {
		switch {
		case !sd.seen || sd.top == "":
			unknown = true
		case sd.top == "data" || sd.top == "stringData":
			inData = true
			if sd.entryCol < 0 || indent < sd.entryCol {
				sd.entryCol = indent
			}
			if indent > sd.entryCol {
				entry = false
			}
		}
	}
	if !unknown && !inData {
		return c
	}
	k, isKey := parseKey(c, indent)
	if isKey && kubectlMask(trimValue(c[k.vstart:])) {
		return c
	}
	s.r.count(Secret, 1)
	if unknown || !entry || !isKey {
		return append(c[:indent:indent], marker(Secret)...)
	}
	return replaceValue(c, k, Secret)
}

// kubectlMask reports whether v is one of the masks kubectl diff puts in
// place of a Secret's values.
func kubectlMask(v []byte) bool {
	switch string(v) {
	case "'***'", "'*** (before)'", "'*** (after)'":
		return true
	}
	return false
}

// diffKind reads the kind from the names of a diff's files and reports
// whether its data is to be redacted: for a Secret, and when the names
// disagree or do not parse.
func diffKind(names []string) (string, bool) {
	kind := ""
	for i, n := range names {
		k, ok := kindFromName(n)
		if !ok || (i > 0 && k != kind) {
			return "", true
		}
		kind = k
	}
	if kind == "" || strings.EqualFold(kind, "Secret") {
		return kind, true
	}
	return kind, false
}

// kindFromName reads the kind from the base name of a file kubectl diff
// wrote: [group.]version.Kind.namespace.name. Groups, versions,
// namespaces are lower case, so the kind is the first part with an upper
// case letter, right after a version; names (after it) may hold dots.
func kindFromName(path string) (string, bool) {
	base := path[strings.LastIndexByte(path, '/')+1:]
	parts := strings.Split(base, ".")
	for i, p := range parts {
		if strings.ToLower(p) == p {
			continue
		}
		if i == 0 || !isVersion(parts[i-1]) || i+2 >= len(parts) {
			return "", false
		}
		return p, true
	}
	return "", false
}

// isVersion reports whether v is a Kubernetes API version: v1, v2beta1.
func isVersion(v string) bool {
	if len(v) < 2 || v[0] != 'v' || v[1] < '1' || v[1] > '9' {
		return false
	}
	for _, c := range v[1:] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}

// lastField is the last space-separated field of a "diff ..." line.
func lastField(l []byte) string {
	f := strings.Fields(string(trimCR(l)))
	if len(f) == 0 {
		return ""
	}
	return f[len(f)-1]
}

// headerPath is the path of a "--- PATH\tTIME" or "+++ PATH\tTIME" line.
func headerPath(l []byte) string {
	p := string(trimCR(l[4:]))
	if i := strings.IndexByte(p, '\t'); i >= 0 {
		p = p[:i]
	}
	return p
}

// hunkHeader parses "@@ -a[,b] +c[,d] @@" and returns b and d.
func hunkHeader(l []byte) (old, nw int, ok bool) {
	if !bytes.HasPrefix(l, diffHunkH) {
		return 0, 0, false
	}
	f := strings.Fields(string(l[3:]))
	if len(f) < 3 || f[2] != "@@" || !strings.HasPrefix(f[0], "-") || !strings.HasPrefix(f[1], "+") {
		return 0, 0, false
	}
	count := func(r string) (int, bool) {
		_, n, found := strings.Cut(r, ",")
		if !found {
			n = "1"
		}
		v, err := strconv.Atoi(n)
		return v, err == nil && v >= 0
	}
	old, ok1 := count(f[0][1:])
	nw, ok2 := count(f[1][1:])
	return old, nw, ok1 && ok2
}
