package redact

import "bytes"

// render writes one decided line to s.out, redacting it when its block is
// to be redacted.
func (s *state) render(h heldLine) {
	l := h.b
	if b := h.blk; b != nil && b.redact {
		switch h.role {
		case roleInline:
			l = s.redactInline(l, b)
		case roleInner:
			var keep bool
			if l, keep = s.redactInner(l, b); !keep {
				return
			}
		}
	}
	s.out = append(s.out, h.pfx...)
	s.out = append(s.out, l...)
	if h.nl {
		s.out = append(s.out, '\n')
	}
}

// redactInline redacts the value of "data: {...}" on one line.
func (s *state) redactInline(l []byte, b *block) []byte {
	indent := spaces(l)
	k, ok := parseKey(l, indent)
	if !ok {
		s.r.count(b.kind, 1)
		return append(l[:indent:indent], marker(b.kind)...)
	}
	if b.json {
		if out, n := inlineSecretJSON(l[k.vstart:], true); n > 0 {
			s.r.count(b.kind, n)
			return append(l[:k.vstart:k.vstart], out...)
		}
	}
	s.r.count(b.kind, 1)
	return replaceValue(l, k, b.kind)
}

// redactInner redacts one line below a block's header: an entry's value
// is replaced, lines continuing a value (deeper indented) are dropped.
func (s *state) redactInner(l []byte, b *block) ([]byte, bool) {
	indent := spaces(l)
	if len(trimCR(l[indent:])) == 0 {
		return l, true
	}
	if b.kind == Sensitive {
		if b.done {
			return nil, false
		}
		b.done = true
		s.r.count(Sensitive, 1)
		out := append(l[:indent:indent], '"')
		out = append(out, marker(Sensitive)...)
		return append(out, '"'), true
	}
	if b.entryCol < 0 || indent < b.entryCol {
		b.entryCol = indent
	}
	if indent > b.entryCol {
		return nil, false
	}
	s.r.count(b.kind, 1)
	k, ok := parseKey(l, indent)
	if !ok {
		return append(l[:indent:indent], marker(b.kind)...), true
	}
	return replaceValue(l, k, b.kind), true
}

// key is a parsed "key: value" (YAML) or "key": value (JSON) line.
type key struct {
	key    []byte
	col    int // column of the key (after any "- ")
	vstart int // offset of the value (after ": ")
	json   bool
}

// parseKey finds the key of a line indented by indent spaces. YAML list
// items ("- key: v") put the key right of the dash.
func parseKey(l []byte, indent int) (key, bool) {
	i := indent
	for i+1 < len(l) && l[i] == '-' && l[i+1] == ' ' {
		i += 2
		for i < len(l) && l[i] == ' ' {
			i++
		}
	}
	if i >= len(l) {
		return key{}, false
	}
	k := key{col: i}
	if l[i] == '"' {
		j := bytes.IndexByte(l[i+1:], '"')
		if j < 0 {
			return key{}, false
		}
		k.key, k.json = l[i+1:i+1+j], true
		i += j + 2
		for i < len(l) && l[i] == ' ' {
			i++
		}
		if i >= len(l) || l[i] != ':' {
			return key{}, false
		}
		i++
	} else {
		j := bytes.IndexByte(l[i:], ':')
		if j <= 0 || bytes.IndexByte(l[i:i+j], ' ') >= 0 {
			return key{}, false
		}
		k.key = l[i : i+j]
		i += j + 1
		if i < len(l) && l[i] != ' ' && l[i] != '\r' {
			return key{}, false // "http://x", "a:b"
		}
	}
	for i < len(l) && l[i] == ' ' {
		i++
	}
	k.vstart = i
	return k, true
}

// replaceValue replaces the value after k with the marker of kind; JSON
// strings stay quoted and a trailing comma is kept.
func replaceValue(l []byte, k key, kind Kind) []byte {
	v := trimCR(l[k.vstart:])
	comma := len(v) > 0 && v[len(v)-1] == ','
	out := make([]byte, 0, k.vstart+len(kind)+16)
	out = append(out, l[:k.vstart]...)
	if k.vstart > 0 && l[k.vstart-1] == ':' {
		out = append(out, ' ')
	}
	if k.json {
		out = append(out, '"')
		out = append(out, marker(kind)...)
		out = append(out, '"')
	} else {
		out = append(out, marker(kind)...)
	}
	if comma && k.json {
		out = append(out, ',')
	}
	return out
}

// credentialValue reports whether a kubeconfig credential key holds a
// value worth redacting (not empty, not already masked by kubectl, not
// kubectl describe's "N bytes").
func credentialValue(v []byte) bool {
	v = unquote(v)
	switch string(v) {
	case "", "null", "REDACTED", "DATA+OMITTED", "<masked>", "[]", "{}":
		return false
	}
	if bytes.HasPrefix(v, []byte("[REDACTED:")) {
		return false
	}
	if i := bytes.IndexByte(v, ' '); i > 0 && string(v[i:]) == " bytes" {
		return false
	}
	return true
}

// pemLine handles private key blocks; it reports whether it emitted l.
func (s *state) pemLine(l []byte, nl bool) bool {
	if s.pem {
		if i := bytes.Index(l, pemEnd); i >= 0 {
			s.pem = false
			if j := bytes.Index(l[i+len(pemEnd):], pemDash); j >= 0 {
				if tail := l[i+len(pemEnd)+j+len(pemDash):]; len(bytes.TrimSpace(tail)) > 0 {
					s.emit(tail, nl, nil, rolePlain)
				}
			}
			return true
		}
		if pemBody(l) {
			return true
		}
		s.pem = false
		return false
	}
	if !s.r.on(PrivateKey) {
		return false
	}
	i := bytes.Index(l, pemBegin)
	if i < 0 {
		return false
	}
	j := bytes.Index(l[i:], pemKeyEnd)
	if j < 0 {
		return false
	}
	s.r.count(PrivateKey, 1)
	end := i + j + len(pemKeyEnd)
	out := append(append([]byte(nil), l[:i]...), marker(PrivateKey)...)
	if k := bytes.Index(l[end:], pemEnd); k >= 0 {
		if m := bytes.Index(l[end+k:], pemKeyEnd); m >= 0 {
			out = append(out, l[end+k+m+len(pemKeyEnd):]...)
			s.yamlLine(out, nl)
			return true
		}
	}
	// The key goes on below (multi-line), or to the end of this line.
	s.pem = len(bytes.TrimSpace(l[end:])) == 0
	s.emit(out, nl, nil, rolePlain)
	return true
}

// pemBody reports whether l can be a line inside a PEM block.
func pemBody(l []byte) bool {
	t := bytes.TrimSpace(l)
	if bytes.HasPrefix(t, []byte("Proc-Type:")) || bytes.HasPrefix(t, []byte("DEK-Info:")) {
		return true
	}
	for _, c := range t {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=') {
			return false
		}
	}
	return true
}

func spaces(l []byte) int {
	i := 0
	for i < len(l) && l[i] == ' ' {
		i++
	}
	return i
}

func trimCR(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		return b[:n-1]
	}
	return b
}

func trimValue(b []byte) []byte { return bytes.TrimRight(trimCR(b), " ") }

// unquote strips a trailing comma and surrounding quotes.
func unquote(v []byte) []byte {
	v = bytes.TrimSuffix(v, []byte(","))
	if n := len(v); n >= 2 && (v[0] == '"' && v[n-1] == '"' || v[0] == '\'' && v[n-1] == '\'') {
		return v[1 : n-1]
	}
	return v
}
