package redact

import "bytes"

// JSON on one line: kubectl's last-applied-configuration annotation (plain
// in YAML output, escaped inside a JSON string in JSON output), compact
// JSON from jq -c, terraform show -json. Quotes at level 1 are `"`, at level
// 2 (JSON inside a JSON string) `\"`.

var dataKeys = [][]byte{
	[]byte(`"data"`), []byte(`"stringData"`),
	[]byte(`\"data\"`), []byte(`\"stringData\"`),
}

// inlineSecretJSON replaces the string values of every data/stringData
// object on l. With force, l starts at the object itself. It returns the
// new line and how many values it replaced.
func inlineSecretJSON(l []byte, force bool) ([]byte, int) {
	if force {
		lvl := 1
		if i := bytes.IndexByte(l, '"'); i > 0 && l[i-1] == '\\' {
			lvl = 2
		}
		return redactObject(l, 0, lvl, Secret)
	}
	if !bytes.Contains(l, []byte(`"Secret`)) && !bytes.Contains(l, []byte(`"Secret\"`)) {
		return l, 0
	}
	total := 0
	for _, dk := range dataKeys {
		lvl := 1
		if dk[0] == '\\' {
			lvl = 2
		}
		from := 0
		for {
			i := bytes.Index(l[from:], dk)
			if i < 0 {
				break
			}
			i += from + len(dk)
			if lvl == 1 && i-len(dk) > 0 && l[i-len(dk)-1] == '\\' {
				from = i // a level-2 key, matched by its own pattern
				continue
			}
			j := skipSpaces(l, i)
			if j >= len(l) || l[j] != ':' {
				from = i
				continue
			}
			j = skipSpaces(l, j+1)
			if j >= len(l) || l[j] != '{' {
				from = i
				continue
			}
			out, n := redactObject(l, j, lvl, Secret)
			total += n
			from = j + 1
			l = out
		}
	}
	return l, total
}

// redactObject replaces the string values of the flat object at l[pos]
// ('{'). A malformed object is redacted to the end of the line.
func redactObject(l []byte, pos, lvl int, kind Kind) ([]byte, int) {
	q := []byte(`"`)
	if lvl == 2 {
		q = []byte(`\"`)
	}
	fail := func() ([]byte, int) {
		return append(append([]byte(nil), l[:pos]...), marker(kind)...), 1
	}
	if pos >= len(l) || l[pos] != '{' {
		return fail()
	}
	var out []byte
	last, n := 0, 0
	i := pos + 1
	for {
		i = skipSpaces(l, i)
		if i >= len(l) {
			return fail()
		}
		switch {
		case l[i] == '}':
			if n == 0 {
				return l, 0
			}
			return append(out, l[last:]...), n
		case l[i] == ',':
			i++
			continue
		case !bytes.HasPrefix(l[i:], q):
			return fail()
		}
		e := closeQuote(l, i+len(q), lvl)
		if e < 0 {
			return fail()
		}
		i = skipSpaces(l, e+len(q))
		if i >= len(l) || l[i] != ':' {
			return fail()
		}
		i = skipSpaces(l, i+1)
		if bytes.HasPrefix(l[i:], q) {
			e := closeQuote(l, i+len(q), lvl)
			if e < 0 {
				return fail()
			}
			out = append(out, l[last:i+len(q)]...)
			out = append(out, marker(kind)...)
			last = e
			n++
			i = e + len(q)
			continue
		}
		// null, a number or a boolean: kept.
		for i < len(l) && l[i] != ',' && l[i] != '}' {
			if l[i] == '{' || l[i] == '[' || l[i] == '"' {
				return fail()
			}
			i++
		}
	}
}

// closeQuote finds the closing quote of a string starting at from: at
// level 1 a `"` after an even number of backslashes, at level 2 a `\"`
// whose backslashes number 1 modulo 4. It returns where the quote token
// starts, or -1.
func closeQuote(l []byte, from, lvl int) int {
	for i := from; i < len(l); i++ {
		if l[i] != '"' {
			continue
		}
		b := 0
		for k := i - 1; k >= from && l[k] == '\\'; k-- {
			b++
		}
		if lvl == 1 && b%2 == 0 {
			return i
		}
		if lvl == 2 && b%4 == 1 {
			return i - 1
		}
	}
	return -1
}

var sensitiveTrue = []byte(`"sensitive":true`)

// inlineSensitiveJSON replaces the value that follows each
// "sensitive":true (terraform's key order) on a compact JSON line.
func inlineSensitiveJSON(l []byte) ([]byte, int) {
	n, from := 0, 0
	for {
		i := bytes.Index(l[from:], sensitiveTrue)
		if i < 0 {
			return l, n
		}
		i += from + len(sensitiveTrue)
		v := bytes.Index(l[i:], []byte(`"value":`))
		if v < 0 {
			return l, n
		}
		start := i + v + len(`"value":`)
		end := jsonValueEnd(l, start)
		out := append([]byte(nil), l[:start]...)
		out = append(out, '"')
		out = append(out, marker(Sensitive)...)
		out = append(out, '"')
		from = len(out)
		l = append(out, l[end:]...)
		n++
	}
}

// jsonValueEnd returns the end of the JSON value at l[i] (to the end of
// the line if it does not close).
func jsonValueEnd(l []byte, i int) int {
	depth := 0
	for ; i < len(l); i++ {
		switch l[i] {
		case '"':
			e := closeQuote(l, i+1, 1)
			if e < 0 {
				return len(l)
			}
			i = e
			if depth == 0 {
				return i + 1
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i
			}
			depth--
			if depth == 0 {
				return i + 1
			}
		case ',':
			if depth == 0 {
				return i
			}
		}
	}
	return len(l)
}

func skipSpaces(l []byte, i int) int {
	for i < len(l) && (l[i] == ' ' || l[i] == '\t') {
		i++
	}
	return i
}
