// Package termsafe makes text from the agent safe to show a human on a
// terminal. An agent chooses its command line, its intent, object names
// and (through the cluster or a plan) what a diff holds; a control
// sequence in any of them would be executed by the approver's terminal:
// clear the screen, move the cursor back over the real command, or, with
// Unicode's bidirectional controls, show the text in another order than
// it is stored. [Line] and [Text] replace each such character with a
// visible escape, so what the human reads is what is there.
package termsafe

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Line returns s with every control character (C0, DEL, C1, tab and
// newline included), bidirectional control and invalid UTF-8 byte shown
// as a visible escape such as \x1b or \u202e.
func Line(s string) string { return clean(s, false) }

// Text is [Line] for multi-line text: newlines and tabs stay.
func Text(s string) string { return clean(s, true) }

func clean(s string, multiline bool) string {
	if safe(s, multiline) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, "\\x%02x", s[i])
		case multiline && (r == '\n' || r == '\t'):
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			fmt.Fprintf(&b, "\\x%02x", r)
		case bidi(r):
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// safe is the fast path: nothing to replace.
func safe(s string, multiline bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || c == 0x7f || (c < 0x20 && !(multiline && (c == '\n' || c == '\t'))) {
			if c < 0x80 {
				return false
			}
			return safeSlow(s[i:], multiline)
		}
	}
	return true
}

func safeSlow(s string, multiline bool) bool {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || r < 0x20 && !(multiline && (r == '\n' || r == '\t')) || r == 0x7f || (r >= 0x80 && r < 0xa0) || bidi(r) {
			return false
		}
		i += n
	}
	return true
}

// bidi reports Unicode's bidirectional formatting characters: marks,
// embeddings, overrides and isolates.
func bidi(r rune) bool {
	return r == 0x200e || r == 0x200f || r == 0x061c || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
}
