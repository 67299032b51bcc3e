package redact

import "bytes"

// state follows the structure of YAML and indented JSON output line by
// line: which mapping a line belongs to (by the column of its keys), the
// kind of each open mapping, data blocks waiting for their kind, and PEM
// blocks. It is shared by Writer and Redactor.String.
type state struct {
	r     *Redactor
	hints hints
	pem   bool // inside a multi-line private key

	diff diffState // where a unified diff is at, if the output is one
	pfx  []byte    // the current diff line's prefix, put back on output
	// cut says an over-long line is being passed on in fragments;
	// cutRedact that its fragments are dropped (see emitRaw).
	cut, cutRedact bool

	maps    []mapping // open mappings, outermost first
	active  *block    // the data block collecting its lines
	pending []*block  // blocks waiting for their mapping's kind
	queue   []heldLine
	held    int // bytes in queue
	out     []byte
}

// hints say which markers the current input may hold; lines without them
// skip the checks that search the whole line.
type hints struct{ pem, secret, sensitive bool }

// mapping is an open YAML/JSON object, known by the column of its keys.
type mapping struct {
	col       int
	kind      string
	sensitive bool
	locked    bool // the kind is known from outside (a diff's file name)
}

// block is the value of a data/stringData key (or of a sensitive
// terraform output) spanning the lines indented below it.
type block struct {
	col      int // column of the key
	kind     Kind
	entryCol int // column of the block's entries, -1 until seen
	decided  bool
	redact   bool
	json     bool
	done     bool // a sensitive block's marker was written
}

type role uint8

const (
	rolePlain  role = iota
	roleHeader      // the "data:" line itself
	roleInline      // "data: {...}" with the value on the same line
	roleInner       // a line below the header
)

type heldLine struct {
	pfx  []byte // a diff line's prefix
	b    []byte
	nl   bool
	blk  *block
	role role
}

var (
	pemDash   = []byte("-----")
	pemBegin  = []byte("-----BEGIN ")
	pemEnd    = []byte("-----END ")
	pemKeyEnd = []byte("PRIVATE KEY-----")
)

// line processes one line (without its newline; nl says it had one).
func (s *state) line(l []byte, nl bool) {
	if s.cut {
		s.rawTail(l, nl)
		return
	}
	if s.diffLine(l, nl) {
		return
	}
	s.yamlLine(l, nl)
}

// yamlLine processes one line of YAML or JSON (or plain text).
func (s *state) yamlLine(l []byte, nl bool) {
	if (s.pem || s.hints.pem) && s.pemLine(l, nl) {
		return
	}
	indent := spaces(l)
	rest := trimCR(l[indent:])
	if len(rest) == 0 {
		s.emit(l, nl, s.active, roleInner)
		return
	}
	if s.active != nil && indent <= s.active.col {
		s.active = nil
	}
	s.endMappings(indent)
	if s.active != nil {
		s.emit(l, nl, s.active, roleInner)
		return
	}
	if indent == 0 && (bytes.HasPrefix(rest, []byte("---")) || bytes.HasPrefix(rest, []byte("..."))) {
		s.endMappings(-1)
		s.maps = s.maps[:0]
		s.emit(l, nl, nil, rolePlain)
		return
	}
	k, ok := parseKey(l, indent)
	if !ok {
		s.plain(l, nl)
		return
	}
	val := trimValue(l[k.vstart:])
	switch string(k.key) {
	case "kind":
		s.setKind(k.col, string(unquote(val)))
	case "sensitive":
		if string(unquote(val)) == "true" {
			s.mapAt(k.col).sensitive = true
		}
	case "value":
		if k.json && s.r.on(Sensitive) && s.sensitiveAt(k.col) {
			s.sensitiveValue(l, nl, k, val)
			return
		}
	case "data", "stringData":
		if s.r.on(Secret) && s.dataKey(l, nl, k, val) {
			return
		}
	case "token", "client-key-data", "id-token", "refresh-token":
		if s.r.on(Kubeconfig) && credentialValue(val) {
			s.r.count(Kubeconfig, 1)
			s.emit(replaceValue(l, k, Kubeconfig), nl, nil, rolePlain)
			return
		}
	}
	s.plain(l, nl)
}

// plain emits a line that opens no block, redacting Secret data in
// single-line JSON (kubectl's last-applied-configuration annotation).
func (s *state) plain(l []byte, nl bool) {
	if s.hints.secret && s.r.on(Secret) && bytes.Contains(l, []byte(`"Secret`)) {
		if out, n := inlineSecretJSON(l, false); n > 0 {
			s.r.count(Secret, n)
			l = out
		}
	}
	if s.hints.sensitive && s.r.on(Sensitive) && bytes.Contains(l, sensitiveTrue) {
		if out, n := inlineSensitiveJSON(l); n > 0 {
			s.r.count(Sensitive, n)
			l = out
		}
	}
	s.emit(l, nl, nil, rolePlain)
}

// dataKey handles a data/stringData key; it reports whether it emitted l.
func (s *state) dataKey(l []byte, nl bool, k key, val []byte) bool {
	v := bytes.TrimSuffix(val, []byte(","))
	switch string(v) {
	case "{}", "{ }", "null", "[]", `""`, "''":
		return false
	}
	b := &block{col: k.col, kind: Secret, entryCol: -1, json: k.json}
	if kind, known := s.kindAt(k.col); known {
		b.decided, b.redact = true, kind == "Secret"
	} else {
		s.pending = append(s.pending, b)
	}
	if len(v) == 0 || string(v) == "{" {
		s.active = b
		s.emit(l, nl, b, roleHeader)
	} else {
		s.emit(l, nl, b, roleInline)
	}
	return true
}

func (s *state) sensitiveValue(l []byte, nl bool, k key, val []byte) {
	v := bytes.TrimSuffix(val, []byte(","))
	if string(v) == "{" || string(v) == "[" {
		s.active = &block{col: k.col, kind: Sensitive, entryCol: -1, decided: true, redact: true}
		s.emit(l, nl, nil, rolePlain)
		return
	}
	s.r.count(Sensitive, 1)
	s.emit(replaceValue(l, k, Sensitive), nl, nil, rolePlain)
}

// endMappings closes the mappings whose keys sit right of column indent;
// data blocks in them whose kind never showed are redacted (fail closed).
func (s *state) endMappings(indent int) {
	for len(s.maps) > 0 && s.maps[len(s.maps)-1].col > indent {
		s.maps = s.maps[:len(s.maps)-1]
	}
	if len(s.pending) == 0 {
		return
	}
	for _, b := range s.pending {
		if !b.decided && b.col > indent {
			b.decided, b.redact = true, true
		}
	}
	s.drain()
}

func (s *state) mapAt(col int) *mapping {
	if n := len(s.maps); n > 0 && s.maps[n-1].col == col {
		return &s.maps[n-1]
	}
	s.maps = append(s.maps, mapping{col: col})
	return &s.maps[len(s.maps)-1]
}

func (s *state) kindAt(col int) (string, bool) {
	if n := len(s.maps); n > 0 && s.maps[n-1].col == col && s.maps[n-1].kind != "" {
		return s.maps[n-1].kind, true
	}
	return "", false
}

func (s *state) sensitiveAt(col int) bool {
	n := len(s.maps)
	return n > 0 && s.maps[n-1].col == col && s.maps[n-1].sensitive
}

func (s *state) setKind(col int, kind string) {
	m := s.mapAt(col)
	if m.locked {
		return
	}
	m.kind = kind
	for _, b := range s.pending {
		if !b.decided && b.col == col {
			b.decided, b.redact = true, kind == "Secret"
		}
	}
	s.drain()
}

// failClosed redacts every block still waiting for its kind and writes
// out everything held.
func (s *state) failClosed() {
	for _, b := range s.pending {
		if !b.decided {
			b.decided, b.redact = true, true
		}
	}
	s.drain()
}

func (s *state) emit(l []byte, nl bool, b *block, r role) {
	if len(s.queue) == 0 && (b == nil || b.decided) {
		s.render(heldLine{s.pfx, l, nl, b, r})
		return
	}
	s.queue = append(s.queue, heldLine{append([]byte(nil), s.pfx...), append([]byte(nil), l...), nl, b, r})
	s.held += len(s.pfx) + len(l) + 1
}

// emitRaw passes on a fragment of an over-long line (no structure). The
// first fragment of a line that may be a Secret's value (inside a data
// block that redacts or waits for its kind, or in a Secret's diff) is
// replaced by the marker, with its key kept, and the rest of the line is
// dropped: fail closed. Otherwise the line's fragments, and its tail when
// its newline arrives, pass as they are.
func (s *state) emitRaw(l []byte) {
	s.failClosed()
	if s.cut {
		if !s.cutRedact {
			s.out = append(s.out, l...)
		}
		return
	}
	s.cut = true
	pfx, c := []byte(nil), l
	inDiff := s.diff.phase == diffHunk
	if inDiff && len(l) > 0 {
		pfx, c = l[:1], l[1:]
		if !s.diffCount(l[0]) {
			// Not a line of this hunk after all.
			s.diffFile()
			s.diff.phase = diffOff
			pfx, c, inDiff = nil, l, false
		}
	}
	indent := spaces(c)
	s.cutRedact = inDiff && s.diff.redact ||
		s.active != nil && s.active.redact && indent > s.active.col
	if !s.cutRedact {
		s.out = append(s.out, l...)
		return
	}
	s.r.count(Secret, 1)
	s.out = append(s.out, pfx...)
	if k, ok := parseKey(c, indent); ok {
		s.out = append(s.out, c[:k.vstart]...)
		if k.vstart > 0 && c[k.vstart-1] == ':' {
			s.out = append(s.out, ' ')
		}
	} else {
		s.out = append(s.out, c[:indent]...)
	}
	s.out = append(s.out, marker(Secret)...)
}

// rawTail ends an over-long line that was passed on in fragments: l is
// its tail.
func (s *state) rawTail(l []byte, nl bool) {
	s.cut = false
	if !s.cutRedact {
		s.out = append(s.out, l...)
	}
	if nl {
		s.out = append(s.out, '\n')
	}
	if s.diff.phase == diffHunk && s.diff.old == 0 && s.diff.nw == 0 {
		s.diff.phase = diffBetween
	}
}

func (s *state) drain() {
	i := 0
	for ; i < len(s.queue); i++ {
		h := s.queue[i]
		if h.blk != nil && !h.blk.decided {
			break
		}
		s.render(h)
		s.held -= len(h.pfx) + len(h.b) + 1
	}
	s.queue = append(s.queue[:0], s.queue[i:]...)
	if len(s.queue) == 0 {
		s.held = 0
	}
	p := s.pending[:0]
	for _, b := range s.pending {
		if !b.decided {
			p = append(p, b)
		}
	}
	s.pending = p
}
