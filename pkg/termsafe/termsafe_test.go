package termsafe

import "testing"

func TestLineAndText(t *testing.T) {
	for _, tc := range []struct {
		name, in, line, text string
	}{
		{"plain text is kept", "delete cm app-config", "delete cm app-config", "delete cm app-config"},
		{"non-ASCII letters are kept", "café ☕ 日本", "café ☕ 日本", "café ☕ 日本"},
		{"clear screen and home", "look \x1b[2J\x1b[Hjust reading", `look \x1b[2J\x1b[Hjust reading`, `look \x1b[2J\x1b[Hjust reading`},
		{"cursor up over the command line", "x\x1b[3A", `x\x1b[3A`, `x\x1b[3A`},
		{"carriage return overwrites the line", "rm -rf /\rls", `rm -rf /\x0dls`, `rm -rf /\x0dls`},
		{"newline and tab: escaped in a line, kept in text", "a\n\tb", `a\x0a\x09b`, "a\n\tb"},
		{"C1 CSI and DEL", "a\u009b2Jb\x7f", `a\x9b2Jb\x7f`, `a\x9b2Jb\x7f`},
		{"bidi override reorders what is shown", "prod\u202eved", `prod\u202eved`, `prod\u202eved`},
		{"invalid UTF-8", "a\xffb", `a\xffb`, `a\xffb`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Line(tc.in); got != tc.line {
				t.Errorf("Line(%q) = %q, want %q", tc.in, got, tc.line)
			}
			if got := Text(tc.in); got != tc.text {
				t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.text)
			}
		})
	}
}
